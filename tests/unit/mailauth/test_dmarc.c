/* test_dmarc.c: DMARC (dmarc.h, RFC 7489): the record parser, the alignment table of
 * §3.1 (relaxed and strict, SPF and DKIM, organizational domains from the public
 * suffix list), policy discovery (§6.6.3: the From domain, then the organizational
 * domain, sp for subdomains, several or invalid records, DNS failures) and pct. DNS
 * comes from a table in memory (dns_table.h). */
#include "dmarc.h"
#include "dns_table.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

static int parse(const char *text, struct arena *a, struct dmarc_record *rec)
{
	const char *error = NULL;
	int r = dmarc_record_parse(text, strlen(text), a, rec, &error);
	if (r < 0)
		assert_non_null(error);
	return r;
}

static void record_parser(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct dmarc_record rec;

	assert_int_equal(parse("v=DMARC1; p=reject", a, &rec), 1);
	assert_int_equal(rec.p, DMARC_POLICY_REJECT);
	assert_int_equal(rec.sp, DMARC_POLICY_REJECT); /* sp defaults to p */
	assert_int_equal(rec.pct, 100);
	assert_false(rec.adkim_strict);
	assert_false(rec.aspf_strict);
	assert_null(rec.rua);
	assert_string_equal(rec.fo, "0");
	assert_string_equal(rec.rf, "afrf");
	assert_int_equal(rec.ri, 86400);
	assert_false(rec.p_fallback);

	assert_int_equal(parse("v=DMARC1;p=quarantine;sp=none;pct=20;adkim=s;aspf=s;rua=mailto:a@b.example;"
			       "ruf=mailto:f@b.example;fo=1:d;rf=afrf;ri=3600",
			       a, &rec),
			 1);
	assert_int_equal(rec.p, DMARC_POLICY_QUARANTINE);
	assert_int_equal(rec.sp, DMARC_POLICY_NONE);
	assert_int_equal(rec.pct, 20);
	assert_true(rec.adkim_strict);
	assert_true(rec.aspf_strict);
	assert_string_equal(rec.rua, "mailto:a@b.example");
	assert_string_equal(rec.ruf, "mailto:f@b.example");
	assert_string_equal(rec.fo, "1:d");
	assert_int_equal(rec.ri, 3600);

	/* whitespace around parts and "=", a trailing ";", case of tags and policies */
	assert_int_equal(parse(" v = DMARC1 ;  P = None ; SP=Reject ;", a, &rec), 1);
	assert_int_equal(rec.p, DMARC_POLICY_NONE);
	assert_int_equal(rec.sp, DMARC_POLICY_REJECT);

	/* not DMARC records: v not first, or not exactly DMARC1 */
	assert_int_equal(parse("p=reject; v=DMARC1", a, &rec), 0);
	assert_int_equal(parse("v=dmarc1; p=reject", a, &rec), 0);
	assert_int_equal(parse("v=DMARC10; p=reject", a, &rec), 0);
	assert_int_equal(parse("v=spf1 -all", a, &rec), 0);
	assert_int_equal(parse("", a, &rec), 0);

	/* p missing or invalid, sp invalid: void unless rua names a valid URI (§6.6.3) */
	assert_int_equal(parse("v=DMARC1", a, &rec), -1);
	assert_int_equal(parse("v=DMARC1; p=bogus", a, &rec), -1);
	assert_int_equal(parse("v=DMARC1; p=reject; sp=bogus", a, &rec), -1);
	assert_int_equal(parse("v=DMARC1; p=bogus; rua=notauri", a, &rec), -1);
	assert_int_equal(parse("v=DMARC1; p=bogus; rua=mailto:agg@example.com", a, &rec), 1);
	assert_true(rec.p_fallback);
	assert_int_equal(rec.p, DMARC_POLICY_NONE);
	assert_int_equal(rec.sp, DMARC_POLICY_NONE);
	assert_int_equal(parse("v=DMARC1; rua=mailto:agg@example.com", a, &rec), 1);
	assert_true(rec.p_fallback);

	/* bad optional values give defaults; unknown tags and stray words are ignored */
	assert_int_equal(
		parse("v=DMARC1; p=REJECT; pct=101; adkim=x; aspf=; ri=abc; fo=9; rf=:; foo=bar; junk", a, &rec), 1);
	assert_int_equal(rec.p, DMARC_POLICY_REJECT);
	assert_int_equal(rec.pct, 100);
	assert_false(rec.adkim_strict);
	assert_false(rec.aspf_strict);
	assert_int_equal(rec.ri, 86400);
	assert_string_equal(rec.fo, "0");
	assert_string_equal(rec.rf, "afrf");
	assert_int_equal(parse("v=DMARC1; p=none; pct=0", a, &rec), 1);
	assert_int_equal(rec.pct, 0);
	assert_int_equal(parse("v=DMARC1; p=none; pct=-5", a, &rec), 1);
	assert_int_equal(rec.pct, 100);

	/* the first of duplicate tags counts */
	assert_int_equal(parse("v=DMARC1; p=none; p=reject", a, &rec), 1);
	assert_int_equal(rec.p, DMARC_POLICY_NONE);

	/* URI lists: sizes, several URIs, one valid is enough */
	assert_int_equal(parse("v=DMARC1; p=none; rua=mailto:a@b.example!10m, mailto:c@d.example", a, &rec), 1);
	assert_string_equal(rec.rua, "mailto:a@b.example!10m, mailto:c@d.example");
	assert_int_equal(parse("v=DMARC1; p=none; rua=bad, mailto:c@d.example", a, &rec), 1);
	assert_non_null(rec.rua);
	assert_int_equal(parse("v=DMARC1; p=none; rua=mailto:a@b!x", a, &rec), 1);
	assert_null(rec.rua);

	/* the length limit */
	char big[DMARC_RECORD_MAX + 64];
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "v=DMARC1; p=reject;", 19);
	assert_int_equal(parse(big, a, &rec), -1);

	/* not NUL-terminated: only len bytes are read */
	const char *error;
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=rejectXXX", 18, a, &rec, &error), 1);
	assert_int_equal(rec.p, DMARC_POLICY_REJECT);
	arena_free(&a);
}

/* RFC 7489 §3.1: the domain DKIM (d=) or SPF authenticated against the From domain. */
struct align_case {
	const char *from, *auth;
	bool relaxed, strict;
};

static const struct align_case align_cases[] = {
	{ "example.com", "example.com", true, true },
	{ "example.com", "EXAMPLE.com", true, true },
	{ "example.com", "mail.example.com", true, false },
	{ "news.example.com", "example.com", true, false },
	{ "news.example.com", "mail.example.com", true, false },
	{ "example.com", "example.net", false, false },
	{ "example.com", "com", false, false },
	{ "a.example.co.uk", "b.example.co.uk", true, false },
	{ "example.co.uk", "other.co.uk", false, false },
	{ "example.co.uk", "co.uk", false, false },
	{ "a.b.c.kobe.jp", "b.c.kobe.jp", true, false },
	{ "a.c.kobe.jp", "b.c.kobe.jp", false, false }, /* *.kobe.jp: different organizations */
	{ "www.city.kobe.jp", "city.kobe.jp", true, false },
	{ "foo.blogspot.com", "bar.blogspot.com", false, false },
	{ "example.com", "", false, false },
};

static void alignment_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(align_cases) / sizeof(align_cases[0]); i++) {
		const struct align_case *c = &align_cases[i];
		if (dmarc_aligned(c->from, c->auth, false) != c->relaxed ||
		    dmarc_aligned(c->auth, c->from, false) != c->relaxed)
			fail_msg("relaxed %s / %s: want %d", c->from, c->auth, c->relaxed);
		if (dmarc_aligned(c->from, c->auth, true) != c->strict)
			fail_msg("strict %s / %s: want %d", c->from, c->auth, c->strict);
	}
	assert_false(dmarc_aligned(NULL, "example.com", false));
}

static const struct dns_row zone[] = {
	{ "TXT", "_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com" },
	{ "TXT", "_dmarc.example.com", "some other TXT record" },
	{ "TXT", "_dmarc.strict.test", "v=DMARC1; p=reject; adkim=s; aspf=s" },
	{ "TXT", "_dmarc.nosp.test", "v=DMARC1; p=quarantine" },
	{ "TXT", "_dmarc.own.nosp.test", "v=DMARC1; p=reject" },
	{ "TXT", "_dmarc.half.test", "v=DMARC1; p=reject; pct=50" },
	{ "TXT", "_dmarc.zero.test", "v=DMARC1; p=quarantine; pct=0" },
	{ "TXT", "_dmarc.two.test", "v=DMARC1; p=reject" },
	{ "TXT", "_dmarc.two.test", "v=DMARC1; p=none" },
	{ "TXT", "_dmarc.broken.test", "v=DMARC1; p=never" },
	{ "TXT", "_dmarc.lenient.test", "v=DMARC1; p=never; rua=mailto:r@lenient.test" },
	{ "TXT", "_dmarc.fail.test", NULL },
	{ "TXT", "_dmarc.orgfail.test", NULL },
	{ "TXT", "_dmarc.example.co.uk", "v=DMARC1; p=reject" },
};

struct check_case {
	const char *from;
	enum mailauth_result spf;
	const char *spf_domain;
	const char *dkim_domain; /* a passing signature, NULL: none */
	unsigned sample;
	enum mailauth_result want;
	enum dmarc_policy policy, disposition;
	const char *policy_domain;
	unsigned questions;
};

static const struct check_case check_cases[] = {
	/* pass by SPF, by DKIM, relaxed */
	{ "example.com", MAILAUTH_PASS, "example.com", NULL, 0, MAILAUTH_PASS, DMARC_POLICY_REJECT, DMARC_POLICY_NONE,
	  "example.com", 1 },
	{ "example.com", MAILAUTH_FAIL, "example.com", "mail.example.com", 0, MAILAUTH_PASS, DMARC_POLICY_REJECT,
	  DMARC_POLICY_NONE, "example.com", 1 },
	/* SPF passed, but for another domain; SPF softfail never counts */
	{ "example.com", MAILAUTH_PASS, "example.net", NULL, 0, MAILAUTH_FAIL, DMARC_POLICY_REJECT, DMARC_POLICY_REJECT,
	  "example.com", 1 },
	{ "example.com", MAILAUTH_SOFTFAIL, "example.com", NULL, 0, MAILAUTH_FAIL, DMARC_POLICY_REJECT,
	  DMARC_POLICY_REJECT, "example.com", 1 },
	/* a subdomain without its own record: the organizational domain's sp */
	{ "news.example.com", MAILAUTH_NONE, NULL, "other.test", 0, MAILAUTH_FAIL, DMARC_POLICY_QUARANTINE,
	  DMARC_POLICY_QUARANTINE, "example.com", 2 },
	{ "news.example.com", MAILAUTH_PASS, "bounce.example.com", NULL, 0, MAILAUTH_PASS, DMARC_POLICY_QUARANTINE,
	  DMARC_POLICY_NONE, "example.com", 2 },
	/* no sp: p applies to subdomains; a subdomain's own record: its p */
	{ "a.nosp.test", MAILAUTH_FAIL, "a.nosp.test", NULL, 0, MAILAUTH_FAIL, DMARC_POLICY_QUARANTINE,
	  DMARC_POLICY_QUARANTINE, "nosp.test", 2 },
	{ "own.nosp.test", MAILAUTH_FAIL, "own.nosp.test", NULL, 0, MAILAUTH_FAIL, DMARC_POLICY_REJECT,
	  DMARC_POLICY_REJECT, "own.nosp.test", 1 },
	/* strict alignment */
	{ "strict.test", MAILAUTH_PASS, "mail.strict.test", "mail.strict.test", 0, MAILAUTH_FAIL, DMARC_POLICY_REJECT,
	  DMARC_POLICY_REJECT, "strict.test", 1 },
	{ "strict.test", MAILAUTH_PASS, "strict.test", NULL, 0, MAILAUTH_PASS, DMARC_POLICY_REJECT, DMARC_POLICY_NONE,
	  "strict.test", 1 },
	/* pct: sampled or one step lower */
	{ "half.test", MAILAUTH_FAIL, "half.test", NULL, 49, MAILAUTH_FAIL, DMARC_POLICY_REJECT, DMARC_POLICY_REJECT,
	  "half.test", 1 },
	{ "half.test", MAILAUTH_FAIL, "half.test", NULL, 50, MAILAUTH_FAIL, DMARC_POLICY_REJECT,
	  DMARC_POLICY_QUARANTINE, "half.test", 1 },
	{ "zero.test", MAILAUTH_FAIL, "zero.test", NULL, 0, MAILAUTH_FAIL, DMARC_POLICY_QUARANTINE, DMARC_POLICY_NONE,
	  "zero.test", 1 },
	/* no record at all: none, after two questions (a subdomain) or one */
	{ "nothing.example.org", MAILAUTH_FAIL, NULL, NULL, 0, MAILAUTH_NONE, DMARC_POLICY_NONE, DMARC_POLICY_NONE,
	  NULL, 2 },
	{ "example.org", MAILAUTH_FAIL, NULL, NULL, 0, MAILAUTH_NONE, DMARC_POLICY_NONE, DMARC_POLICY_NONE, NULL, 1 },
	/* several DMARC records, an invalid one: permerror; one kept as p=none for rua */
	{ "two.test", MAILAUTH_FAIL, NULL, NULL, 0, MAILAUTH_PERMERROR, DMARC_POLICY_NONE, DMARC_POLICY_NONE, NULL, 1 },
	{ "broken.test", MAILAUTH_FAIL, NULL, NULL, 0, MAILAUTH_PERMERROR, DMARC_POLICY_NONE, DMARC_POLICY_NONE, NULL,
	  1 },
	{ "lenient.test", MAILAUTH_FAIL, NULL, NULL, 0, MAILAUTH_FAIL, DMARC_POLICY_NONE, DMARC_POLICY_NONE,
	  "lenient.test", 1 },
	/* DNS failures: temperror, at the From domain or at the organizational domain */
	{ "fail.test", MAILAUTH_PASS, "fail.test", NULL, 0, MAILAUTH_TEMPERROR, DMARC_POLICY_NONE, DMARC_POLICY_NONE,
	  NULL, 1 },
	{ "x.orgfail.test", MAILAUTH_PASS, "x.orgfail.test", NULL, 0, MAILAUTH_TEMPERROR, DMARC_POLICY_NONE,
	  DMARC_POLICY_NONE, NULL, 2 },
	/* the organizational domain under a two-label public suffix */
	{ "shop.example.co.uk", MAILAUTH_FAIL, NULL, NULL, 0, MAILAUTH_FAIL, DMARC_POLICY_REJECT, DMARC_POLICY_REJECT,
	  "example.co.uk", 2 },
	/* no usable From domain: no question at all */
	{ "", MAILAUTH_PASS, "example.com", NULL, 0, MAILAUTH_PERMERROR, DMARC_POLICY_NONE, DMARC_POLICY_NONE, NULL,
	  0 },
	{ "bad domain.com", MAILAUTH_PASS, "example.com", NULL, 0, MAILAUTH_PERMERROR, DMARC_POLICY_NONE,
	  DMARC_POLICY_NONE, NULL, 0 },
	{ "a..example.com", MAILAUTH_PASS, "example.com", NULL, 0, MAILAUTH_PERMERROR, DMARC_POLICY_NONE,
	  DMARC_POLICY_NONE, NULL, 0 },
};

static void discovery_and_verdict(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];
		struct dns_table t = DNS_TABLE(zone);
		struct mailauth_dns dns = dns_table_dns(&t);
		struct arena *a = arena_new();
		struct dmarc_dkim dk = { MAILAUTH_PASS, c->dkim_domain };
		struct dmarc_input in = { .from_domain = c->from,
					  .spf = c->spf,
					  .spf_domain = c->spf_domain,
					  .dkim = c->dkim_domain ? &dk : NULL,
					  .ndkim = c->dkim_domain ? 1 : 0,
					  .sample = c->sample };
		struct dmarc_outcome out;
		enum mailauth_result r = dmarc_check(&dns, &in, a, &out);
		if (r != c->want || out.result != r || out.policy != c->policy || out.disposition != c->disposition ||
		    t.questions != c->questions)
			fail_msg("case %zu (%s): result %s policy %d disposition %d questions %u (%s)", i, c->from,
				 mailauth_result_name(r), out.policy, out.disposition, t.questions,
				 out.reason ? out.reason : "-");
		if (c->policy_domain == NULL)
			assert_null(out.policy_domain);
		else
			assert_string_equal(out.policy_domain, c->policy_domain);
		assert_non_null(out.reason);
		arena_free(&a);
	}
}

/* A DKIM signature that failed never aligns, whatever its d=. */
static void failed_dkim_does_not_align(void **state)
{
	(void)state;
	struct dns_table t = DNS_TABLE(zone);
	struct mailauth_dns dns = dns_table_dns(&t);
	struct arena *a = arena_new();
	struct dmarc_dkim dk[] = { { MAILAUTH_FAIL, "example.com" },
				   { MAILAUTH_PASS, "example.net" },
				   { MAILAUTH_TEMPERROR, "example.com" } };
	struct dmarc_input in = { .from_domain = "example.com", .spf = MAILAUTH_NONE, .dkim = dk, .ndkim = 3 };
	struct dmarc_outcome out;
	assert_int_equal(dmarc_check(&dns, &in, a, &out), MAILAUTH_FAIL);
	assert_false(out.dkim_aligned);
	assert_false(out.spf_aligned);
	dk[1].domain = "sub.example.com";
	assert_int_equal(dmarc_check(&dns, &in, a, &out), MAILAUTH_PASS);
	assert_true(out.dkim_aligned);
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_QUARANTINE), "quarantine");
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(record_parser),
		cmocka_unit_test(alignment_table),
		cmocka_unit_test(discovery_and_verdict),
		cmocka_unit_test(failed_dkim_does_not_align),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
