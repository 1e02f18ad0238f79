/* cli_dns.c: `postamt dns D` and `postamt dns D --check` (DESIGN.md §1 "Mail
 * authentication"; docs/deliverability.md).
 *
 * Without --check it prints the records D needs (dns_records.c, cli_dns_records.c) as
 * zone-file lines. With --check it asks `dns.server` (or the resolver's own recursion)
 * for each through src/dns (dns_records_check) and prints one line per record, `ok`,
 * `missing` or `different` followed by NAME and TYPE (and what DNS has when
 * different); then the server's reverse DNS: for each address the listeners bind
 * (the `bind` key) or, when they bind every address, each public address of the
 * machine, the PTR must name `hostname` and `hostname` must resolve back to the
 * address (forward-confirmed reverse DNS; Gmail refuses mail without it): `ok` or
 * `warning` lines, which do not change the exit status. Exit status 1 unless every
 * record is ok. */
#include "cli.h"
#include "cli_dns.h"
#include "serve_settings.h"

#include "store.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int fail(const char *msg)
{
	fprintf(stderr, "postamt: dns: %s\n", msg);
	return 1;
}

/* True for an address others on the Internet could connect to. */
static bool public_addr(const struct dns_addr *ad)
{
	const uint8_t *b = ad->bytes;
	if (ad->family == AF_INET)
		return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
			 (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
			 (b[0] == 100 && (b[1] & 0xc0) == 64) || b[0] >= 224);
	static const uint8_t loop6[16] = { [15] = 1 }, any6[16] = { 0 };
	return memcmp(b, loop6, 16) != 0 && memcmp(b, any6, 16) != 0 && (b[0] & 0xfe) != 0xfc && /* ULA */
	       !(b[0] == 0xfe && (b[1] & 0xc0) == 0x80) && b[0] != 0xff && /* link-local, multicast */
	       !(memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0);      /* v4-mapped */
}

/* The addresses whose reverse DNS matters: the `bind` address, else the machine's
 * public ones. Returns how many (up to max); *bound_r tells which. */
static size_t server_addresses(const struct config *cfg, struct dns_addr *out, size_t max, bool *bound_r)
{
	size_t n = 0;
	*bound_r = false;
	if (cfg->bind[0] != '\0' && strcmp(cfg->bind, "*") != 0 && strcmp(cfg->bind, "0.0.0.0") != 0 &&
	    strcmp(cfg->bind, "::") != 0) {
		*bound_r = true;
		if (inet_pton(AF_INET, cfg->bind, out[0].bytes) == 1)
			out[0].family = AF_INET;
		else if (inet_pton(AF_INET6, cfg->bind, out[0].bytes) == 1)
			out[0].family = AF_INET6;
		else
			return 0;
		return 1;
	}
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs) < 0)
		return 0;
	for (struct ifaddrs *i = ifs; i != NULL && n < max; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		struct dns_addr ad = { .family = i->ifa_addr->sa_family };
		if (ad.family == AF_INET)
			memcpy(ad.bytes, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		else if (ad.family == AF_INET6)
			memcpy(ad.bytes, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		else
			continue;
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup |= out[k].family == ad.family && memcmp(out[k].bytes, ad.bytes, 16) == 0;
		if (public_addr(&ad) && !dup)
			out[n++] = ad;
	}
	freeifaddrs(ifs);
	return n;
}

static void check_reverse(const struct config *cfg, struct dns *d, struct arena *a)
{
	struct dns_addr addrs[16];
	bool bound;
	size_t n = server_addresses(cfg, addrs, 16, &bound);
	if (n == 0) {
		if (bound)
			printf("warning bind = %s is not an IP address: reverse DNS not checked\n", cfg->bind);
		else
			printf("warning this machine has only loopback or private addresses: reverse DNS not checked "
			       "(behind NAT, the PTR of the public address must name %s)\n",
			       cfg->hostname);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char ip[INET6_ADDRSTRLEN];
		inet_ntop(addrs[i].family, addrs[i].bytes, ip, sizeof(ip));
		const char *rev = dns_reverse_name(addrs[i].family, addrs[i].bytes, a);
		struct dns_answer ans;
		const char *err = NULL;
		int s = dns_query_wait(d, rev, DNS_PTR, 0, a, &ans, &err);
		if (s == DNS_TEMP) {
			printf("warning %s. PTR (reverse DNS of %s): DNS error: %s\n", rev, ip, err);
			continue;
		}
		if (s == DNS_NONE) {
			printf("warning %s. PTR (reverse DNS of %s): no PTR record; it must name %s (Gmail and others "
			       "refuse mail from an address without one)\n",
			       rev, ip, cfg->hostname);
			continue;
		}
		bool named = false;
		for (size_t k = 0; k < ans.n; k++)
			named |= strcasecmp(ans.names[k], cfg->hostname) == 0;
		if (!named)
			printf("warning %s. PTR (reverse DNS of %s): names %s., not %s\n", rev, ip, ans.names[0],
			       cfg->hostname);
		else if (!dns_records_resolves_to(d, cfg->hostname, &addrs[i], a))
			printf("warning %s. PTR (reverse DNS of %s): %s does not resolve back to %s\n", rev, ip,
			       cfg->hostname, ip);
		else
			printf("ok %s. PTR (reverse DNS of %s: %s, which resolves back)\n", rev, ip, cfg->hostname);
	}
}

static int check_records(const struct config *cfg, const struct dns_rec *recs, size_t n, struct arena *a)
{
	struct dns_settings ds = serve_dns_settings(cfg);
	const char *err = NULL;
	struct dns *d = dns_new(&ds, &err);
	if (d == NULL)
		return fail(err);
	static const char *const words[] = { "ok", "missing", "different" };
	struct dns_rec_result *res = arena_alloc(a, (n + 1) * sizeof(*res));
	size_t bad = dns_records_check(d, recs, n, a, res);
	for (size_t i = 0; i < n; i++) {
		const struct dns_rec *r = &recs[i];
		if (r->comment)
			continue;
		printf("%s %s. %s (%s)", words[res[i].state], r->name, dns_rrtype_name(r->type), r->what);
		if (res[i].error != NULL)
			printf(": DNS error: %s", res[i].error);
		else if (res[i].found != NULL)
			printf(": DNS has %s", res[i].found);
		putchar('\n');
	}
	check_reverse(cfg, d, a);
	dns_free(&d);
	return bad == 0 ? 0 : 1;
}

int cli_dns(const struct config *cfg, int argc, char **argv)
{
	const char *domain = NULL;
	bool check = false;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0)
			check = true;
		else if (argv[i][0] == '-' || domain != NULL)
			return fail("usage: postamt dns DOMAIN [--check]");
		else
			domain = argv[i];
	}
	if (domain == NULL)
		return fail("usage: postamt dns DOMAIN [--check]");
	struct arena *a = arena_new();
	char *dom = arena_strdup(a, domain);
	size_t dl = strlen(dom);
	if (dl > 1 && dom[dl - 1] == '.')
		dom[--dl] = '\0';
	for (char *p = dom; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	int ret = 1;
	struct store *s = NULL;
	struct store_options opt = { .create = false, .postgresql = config_store_pg(cfg) };
	const char *err = NULL;
	if (store_open(cfg->data_dir, &opt, &s, &err) < 0) {
		fprintf(stderr, "postamt: cannot open the store: %s\n", err);
		goto out;
	}
	int known = store_domain_exists(s, dom, &err);
	if (known <= 0) {
		fail(known < 0 ? err
			       : arena_printf(a, "%s is not a local domain (add it with: domain add %s)", dom, dom));
		goto out;
	}
	int dfd = open(cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fail("cannot open the data directory");
		goto out;
	}
	struct dns_rec *recs;
	size_t n, nkeys;
	int lr = dns_records_for(cfg, s, dfd, dom, a, &recs, &n, &nkeys, &err);
	store_close(&s);
	close(dfd);
	if (lr < 0) {
		fail(err);
		goto out;
	}
	if (check) {
		ret = check_records(cfg, recs, n, a);
		goto out;
	}
	struct buf out = { 0 };
	buf_printf(&out, "; DNS records of %s for a mail server named %s (postamt dns %s --check compares)\n", dom,
		   cfg->hostname, dom);
	if (nkeys == 0)
		buf_printf(&out, "; %s has no DKIM key: make one with postamt dkim rotate %s\n", dom, dom);
	for (size_t i = 0; i < n; i++)
		dns_record_format(&recs[i], &out);
	fputs(buf_str(&out), stdout);
	buf_free(&out);
	ret = 0;
out:
	store_close(&s);
	arena_free(&a);
	return ret;
}
