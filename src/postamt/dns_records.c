/* dns_records.c: a domain's DNS records and their check, what `postamt dns D
 * [--check]` (cli_dns.c) and the admin API's DNS page (serve_admin.c) share: the
 * records made from the configuration and the domain's DKIM keys (the pure part is
 * cli_dns_records.c), and each one asked of the resolver and compared. Below both of
 * its users; the declarations are in cli_dns.h. */
#include "cli_dns.h"
#include "config.h"

#include "dkim_keys.h"

#include <string.h>
#include <sys/socket.h>
#include <time.h>

bool dns_records_resolves_to(struct dns *d, const char *name, const struct dns_addr *ad, struct arena *a)
{
	struct dns_answer ans;
	const char *err;
	if (dns_query_wait(d, name, ad->family == AF_INET ? DNS_A : DNS_AAAA, 0, a, &ans, &err) != DNS_FOUND)
		return false;
	for (size_t i = 0; i < ans.n; i++)
		if (memcmp(ans.addrs[i].bytes, ad->bytes, ad->family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

/* A CNAME we print may have been published as A/AAAA records instead: then they must
 * be hostname's addresses. */
static enum dns_rec_state check_cname_as_address(struct dns *d, const struct dns_rec *r, struct arena *a,
						 const char **found_r)
{
	struct dns_answer ans;
	const char *err;
	bool any = false;
	for (int type = DNS_A; type != 0; type = type == DNS_A ? DNS_AAAA : 0) {
		if (dns_query_wait(d, r->name, type, 0, a, &ans, &err) != DNS_FOUND)
			continue;
		any = true;
		for (size_t i = 0; i < ans.n; i++)
			if (dns_records_resolves_to(d, r->target, &ans.addrs[i], a))
				return DNS_REC_OK;
	}
	if (any)
		*found_r = "addresses that are not those of the hostname";
	return any ? DNS_REC_DIFFERENT : DNS_REC_MISSING;
}

size_t dns_records_check(struct dns *d, const struct dns_rec *recs, size_t n, struct arena *a,
			 struct dns_rec_result *out)
{
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		const struct dns_rec *r = &recs[i];
		out[i] = (struct dns_rec_result){ .state = DNS_REC_OK };
		if (r->comment)
			continue;
		struct dns_answer ans;
		const char *err = NULL;
		int s = dns_query_wait(d, r->name, r->type, 0, a, &ans, &err);
		const char *found = NULL;
		enum dns_rec_state st = dns_record_compare(r, &ans, a, &found);
		if (r->type == DNS_CNAME && s == DNS_NONE)
			st = check_cname_as_address(d, r, a, &found);
		out[i].state = st;
		out[i].found = found;
		out[i].error = s == DNS_TEMP ? (err != NULL ? arena_strdup(a, err) : "DNS error") : NULL;
		bad += st != DNS_REC_OK;
	}
	return bad;
}

int dns_records_for(const struct config *cfg, struct store *store, int dir_fd, const char *domain, struct arena *a,
		    struct dns_rec **recs_r, size_t *n_r, size_t *nkeys_r, const char **error_r)
{
	struct dkim_key_info *keys = NULL;
	size_t nkeys = 0;
	if (dkim_keys_list(store, dir_fd, domain, time(NULL), cfg->dkim_publish_delay, a, &keys, &nkeys, error_r) < 0)
		return -1;
	const char **sel = arena_alloc(a, (nkeys + 1) * sizeof(*sel));
	const char **txt = arena_alloc(a, (nkeys + 1) * sizeof(*txt));
	for (size_t i = 0; i < nkeys; i++) {
		sel[i] = keys[i].selector;
		txt[i] = keys[i].txt;
	}
	const struct config_route *relay = config_route_for(cfg, "*");
	struct dns_rec_input in = {
		.domain = domain,
		.hostname = cfg->hostname,
		.port_offset = (unsigned)cfg->port_offset,
		.relay = relay != NULL && strcmp(relay->domain, "*") == 0
				 ? arena_printf(a, "%s:%u", relay->host, relay->port)
				 : NULL,
		.dkim_selectors = sel,
		.dkim_txt = txt,
		.n_dkim = nkeys,
		.mta_sts_mode = cfg->mta_sts_mode,
		.mta_sts_max_age = (uint32_t)cfg->mta_sts_max_age,
	};
	*n_r = dns_records_build(&in, a, recs_r);
	if (nkeys_r != NULL)
		*nkeys_r = nkeys;
	return 1;
}
