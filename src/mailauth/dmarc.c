/* dmarc.c: DMARC policy discovery, alignment and the verdict (dmarc.h; RFC 7489
 * §3.1, §6.6).
 *
 * Discovery asks for TXT at _dmarc.<From domain> and, when nothing is there, at
 * _dmarc.<organizational domain> (psl.h); records that do not begin with v=DMARC1
 * are skipped, several DMARC records at one name or one that voids itself (no valid
 * p) give permerror, a DNS failure temperror. A record found at the organizational
 * domain applies its sp to a subdomain. The message passes when SPF passed for an
 * aligned domain or a DKIM signature passed for an aligned d=; on failure the
 * disposition is the policy when the caller's sample falls under pct, else the
 * policy one step lower (§6.6.4). */
#include "dmarc.h"

#include "psl.h"

#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 253

bool dmarc_aligned(const char *a, const char *b, bool strict)
{
	if (a == NULL || b == NULL || a[0] == '\0' || b[0] == '\0')
		return false;
	if (strict)
		return strcasecmp(a, b) == 0;
	return strcasecmp(psl_org_domain(a), psl_org_domain(b)) == 0;
}

/* A domain we can look up: 1..253 bytes, labels of 1..63 bytes, no space or
 * control character, no "_" at the start (not a host). */
static bool domain_ok(const char *d)
{
	size_t len = strlen(d), label = 0;
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (c <= ' ' || c == 0x7f || c == '@' || c == '"' || c == '\\' || c == ';' || c == '(' || c == ')')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/* The one DMARC record at _dmarc.<domain>. Returns 1 with *rec_r, 0 when there is
 * none, MAILAUTH_DNS_TEMP (<0) on a DNS failure and -2 with *error_r for several
 * records or an invalid one. */
static int fetch(const struct mailauth_dns *dns, const char *domain, struct arena *a, struct dmarc_record *rec_r,
		 const char **error_r)
{
	const char *name = arena_printf(a, "_dmarc.%s", domain);
	const char **txt = NULL;
	size_t n = 0;
	int r = dns->txt(dns->ctx, name, a, &txt, &n);
	if (r == MAILAUTH_DNS_TEMP || r < 0) {
		*error_r = "DNS failure";
		return MAILAUTH_DNS_TEMP;
	}
	if (r == MAILAUTH_DNS_NONE)
		return 0;
	int found = 0, result = 0;
	for (size_t i = 0; i < n; i++) {
		struct dmarc_record rec;
		const char *error = NULL;
		int p = dmarc_record_parse(txt[i], strlen(txt[i]), a, &rec, &error);
		if (p == 0)
			continue;
		if (++found > 1) {
			*error_r = "several DMARC records";
			return -2;
		}
		if (p < 0) {
			*error_r = arena_printf(a, "invalid DMARC record: %s", error);
			result = -2;
		} else {
			*rec_r = rec;
			result = 1;
		}
	}
	return result;
}

static enum dmarc_policy lower(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
}

static enum mailauth_result finish(struct dmarc_outcome *out, enum mailauth_result r, const char *reason)
{
	out->result = r;
	out->reason = reason;
	return r;
}

enum mailauth_result dmarc_check(const struct mailauth_dns *dns, const struct dmarc_input *in, struct arena *a,
				 struct dmarc_outcome *out_r)
{
	*out_r = (struct dmarc_outcome){ .result = MAILAUTH_NONE };
	const char *from = in->from_domain;
	if (from == NULL || !domain_ok(from)) {
		out_r->org_domain = from ? from : "";
		return finish(out_r, MAILAUTH_PERMERROR, "no usable From: domain");
	}
	size_t flen = strlen(from);
	if (from[flen - 1] == '.')
		from = arena_strndup(a, from, flen - 1);
	out_r->org_domain = psl_org_domain(from);

	struct dmarc_record rec;
	const char *error = NULL;
	bool at_org = false;
	int r = fetch(dns, from, a, &rec, &error);
	if (r == 0 && strcasecmp(out_r->org_domain, from) != 0) {
		at_org = true;
		r = fetch(dns, out_r->org_domain, a, &rec, &error);
	}
	if (r == MAILAUTH_DNS_TEMP)
		return finish(out_r, MAILAUTH_TEMPERROR, "DNS failure looking up the DMARC record");
	if (r == -2)
		return finish(out_r, MAILAUTH_PERMERROR, error);
	if (r == 0)
		return finish(out_r, MAILAUTH_NONE, "no DMARC record");
	out_r->policy_domain = at_org ? out_r->org_domain : from;
	bool subdomain = at_org;
	out_r->policy = subdomain ? rec.sp : rec.p;

	out_r->spf_aligned = in->spf == MAILAUTH_PASS && dmarc_aligned(in->spf_domain, from, rec.aspf_strict);
	for (size_t i = 0; i < in->ndkim && !out_r->dkim_aligned; i++) {
		if (in->dkim[i].result == MAILAUTH_PASS)
			out_r->dkim_aligned = dmarc_aligned(in->dkim[i].domain, from, rec.adkim_strict);
	}
	if (out_r->spf_aligned || out_r->dkim_aligned)
		return finish(out_r, MAILAUTH_PASS, out_r->dkim_aligned ? "aligned DKIM pass" : "aligned SPF pass");
	out_r->disposition = in->sample < rec.pct ? out_r->policy : lower(out_r->policy);
	return finish(out_r, MAILAUTH_FAIL, "no aligned SPF or DKIM pass");
}
