/* dmarc.h: DMARC (RFC 7489): the policy record, its discovery in DNS, identifier
 * alignment and the verdict.
 *
 * Pure: the record parser takes bytes; the check asks its DNS questions through a
 * struct mailauth_dns and takes the "random" pct sample from its caller, so that
 * tests and fuzz targets are deterministic. The check needs the SPF and DKIM results
 * already computed (spf.h, dkim.h) and the RFC5322.From domain (exactly one address;
 * the caller decides what several or none mean: RFC 7489 §6.6.1). */
#ifndef POSTAMT_MAILAUTH_DMARC_H
#define POSTAMT_MAILAUTH_DMARC_H

#include "mailauth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A policy (p=, sp=) and the disposition applied after pct. */
enum dmarc_policy {
	DMARC_POLICY_NONE = 0,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

/* "none", "quarantine", "reject". */
const char *dmarc_policy_name(enum dmarc_policy p);

/* A parsed record (RFC 7489 §6.3). Strings live in the parser's arena. */
struct dmarc_record {
	enum dmarc_policy p;
	enum dmarc_policy sp; /* p when the record has no sp= */
	bool p_fallback;      /* p was missing or invalid, but rua valid: treated as p=none (§6.6.3) */
	unsigned pct;         /* 0..100, default 100 */
	bool adkim_strict;    /* adkim=s; default relaxed */
	bool aspf_strict;     /* aspf=s; default relaxed */
	const char *rua;      /* raw URI list, NULL when absent or not one valid URI */
	const char *ruf;      /* the same for ruf= */
	const char *fo;       /* default "0" */
	const char *rf;       /* default "afrf" */
	uint32_t ri;          /* default 86400 */
};

/* Limits of the check. */
#define DMARC_RECORD_MAX 2048 /* bytes of one TXT record we parse; longer: not a policy */

/* Parses one TXT record (len bytes, need not be NUL-terminated). Tags are
 * case-insensitive, values of p, sp, adkim, aspf too; unknown tags are ignored;
 * bad values of optional tags fall back to their defaults (§6.3). Returns 1 with
 * *rec_r; 0 when the record does not begin with "v=DMARC1" (not a DMARC record:
 * discovery skips it); -1 with *error_r (static) when p (or sp) is missing or
 * invalid and no valid rua URI allows p=none (§6.6.3), or when it is longer than
 * DMARC_RECORD_MAX. */
int dmarc_record_parse(const char *text, size_t len, struct arena *a, struct dmarc_record *rec_r, const char **error_r);

/* One DKIM result as DMARC needs it. */
struct dmarc_dkim {
	enum mailauth_result result; /* only MAILAUTH_PASS counts */
	const char *domain;          /* the signature's d= */
};

/* What the check needs. */
struct dmarc_input {
	const char *from_domain;  /* the RFC5322.From domain, no trailing dot */
	enum mailauth_result spf; /* the SPF result (only pass counts) */
	const char *spf_domain;   /* the domain SPF authenticated: MAIL FROM's, or HELO's for the null sender */
	const struct dmarc_dkim *dkim;
	size_t ndkim;
	unsigned sample; /* a uniform random number in 0..99: applied when sample < pct */
};

struct dmarc_outcome {
	enum mailauth_result result;   /* pass, fail, none, temperror or permerror */
	enum dmarc_policy policy;      /* the record's p (or sp for a subdomain); none without a record */
	enum dmarc_policy disposition; /* what to apply: policy on fail when sampled, one step lower when
					* not sampled (§6.6.4), none on pass, none and errors */
	bool spf_aligned, dkim_aligned;
	const char *policy_domain; /* the domain whose _dmarc record applied (arena), NULL without one */
	const char *org_domain;    /* the From domain's organizational domain (a suffix of from_domain) */
	const char *reason;        /* why, for Authentication-Results and logs (static or arena) */
};

/* True when the two domains align: equal (ASCII case-insensitive) when strict,
 * or with equal organizational domains when relaxed (RFC 7489 §3.1). */
bool dmarc_aligned(const char *a, const char *b, bool strict);

/* The check (RFC 7489 §6.6.2, §6.6.3): the record at _dmarc.<From domain>, else at
 * _dmarc.<organizational domain>; several DMARC records at one name or an invalid
 * record: permerror; a DNS failure: temperror; no record: none; then pass when an
 * SPF pass or a DKIM pass aligns (per aspf/adkim), else fail with the disposition.
 * Returns the result (also in out_r->result); everything allocated in a. */
enum mailauth_result dmarc_check(const struct mailauth_dns *dns, const struct dmarc_input *in, struct arena *a,
				 struct dmarc_outcome *out_r);

#endif
