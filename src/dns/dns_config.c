/* dns_config.c: libunbound's settings from struct dns_settings (the `dns.*` keys).
 *
 * With a server every question is forwarded there, and libunbound must not answer any
 * name itself: its built-in local zones (localhost, the loopback reverse zones, .test,
 * .invalid, .onion, home.arpa and the RFC 1918/RFC 6303 reverse zones) are turned off
 * (declared "transparent": "nodefault" is not honoured through ub_ctx_set_option in
 * libunbound 1.17, tested),
 * the loopback address is allowed as a server, and a server that timed out keeps
 * being asked (a test that makes one name time out must not take the server down for
 * the others). Without one libunbound recurses from the root and validates DNSSEC
 * with the root trust anchor of Debian's dns-root-data or unbound-anchor's file. */
#include "dns_int.h"

#include "log.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>
#include <unistd.h>

/* The local zones libunbound (1.17) serves by itself, not counting the RFC 6303 ones
 * that unblock-lan-zones turns off. */
static const char *const default_zones[] = {
	"localhost.",
	"127.in-addr.arpa.",
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
	"home.arpa.",
	"resolver.arpa.",
	"service.arpa.",
	"onion.",
	"test.",
	"invalid.",
	"local.",
};

/* Where Debian keeps the root trust anchor: dns-root-data, then unbound-anchor. */
static const char *const trust_anchors[] = {
	"/usr/share/dns/root.key",
	"/var/lib/unbound/root.key",
};

static int set(struct ub_ctx *ctx, const char *opt, const char *val, const char **error_r)
{
	int e = ub_ctx_set_option(ctx, opt, val);
	if (e != 0) {
		log_error("event=dns_option_failed option=\"%s %s\" error=\"%s\"", opt, val, ub_strerror(e));
		*error_r = "libunbound refused an option";
		return -1;
	}
	return 1;
}

int dns_configure(struct ub_ctx *ctx, const struct dns_settings *s, const char **error_r)
{
	int e = ub_ctx_async(ctx, 1); /* a thread, not a forked process */
	if (e != 0) {
		*error_r = "libunbound cannot run in a thread";
		return -1;
	}
	if (s->server != NULL && s->server[0] != '\0') {
		char fwd[96];
		if (dns_server_parse(s->server, fwd, sizeof(fwd)) < 0) {
			*error_r = "dns.server must be an IP address with an optional port (HOST:PORT, [V6]:PORT)";
			return -1;
		}
		if (set(ctx, "do-not-query-localhost:", "no", error_r) < 0 ||
		    set(ctx, "unblock-lan-zones:", "yes", error_r) < 0 ||
		    set(ctx, "insecure-lan-zones:", "yes", error_r) < 0 ||
		    set(ctx, "infra-keep-probing:", "yes", error_r) < 0)
			return -1;
		for (size_t i = 0; i < sizeof(default_zones) / sizeof(default_zones[0]); i++) {
			char v[128];
			snprintf(v, sizeof(v), "%s transparent", default_zones[i]);
			if (set(ctx, "local-zone:", v, error_r) < 0)
				return -1;
		}
		e = ub_ctx_set_fwd(ctx, fwd);
		if (e != 0) {
			*error_r = "libunbound refused dns.server";
			return -1;
		}
	} else if (s->local_data == NULL) {
		const char *anchor = NULL;
		for (size_t i = 0; i < sizeof(trust_anchors) / sizeof(trust_anchors[0]) && anchor == NULL; i++)
			if (access(trust_anchors[i], R_OK) == 0 && ub_ctx_add_ta_file(ctx, trust_anchors[i]) == 0)
				anchor = trust_anchors[i];
		if (anchor == NULL)
			log_warn("event=dns_no_trust_anchor detail=\"no root trust anchor (install dns-root-data): "
				 "answers are not DNSSEC-validated\"");
	}
	for (const char *const *rr = s->local_data; rr != NULL && *rr != NULL; rr++) {
		if (strncmp(*rr, "local-zone: ", 12) == 0)
			e = ub_ctx_set_option(ctx, "local-zone:", *rr + 12);
		else
			e = ub_ctx_data_add(ctx, *rr);
		if (e != 0)
			log_warn("event=dns_local_data error=\"%s\" data=\"%s\"", ub_strerror(e), *rr);
	}
	return 1;
}
