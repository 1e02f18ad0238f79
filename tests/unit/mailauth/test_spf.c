/* test_spf.c: the SPF parser, macro expansion and evaluation by hand (src/mailauth/spf*.c).
 *
 * The RFC 7208 test suite (test_spf_suite.c) covers most of the grammar; these tests
 * pin down what it does not: the examples of RFC 7208 §7.4, the bounded macro
 * output and the 253-byte cut, every limit of §4.6.4 with its configured value, the
 * identity choice, IPv4-mapped clients, temperror on DNS failures, the verdict's
 * fields. DNS is a table (spf_zone.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "arena.h"
#include "spf.h"
#include "spf_macro.h"
#include "spf_record.h"
#include "spf_zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RR(name, type, data)                          \
	{                                             \
		name, type, data, sizeof(data) - 1, 0 \
	}
#define MX(name, pref, host)                             \
	{                                                \
		name, "MX", host, sizeof(host) - 1, pref \
	}

static struct arena *A;

static int setup(void **state)
{
	(void)state;
	A = arena_new();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	arena_free(&A);
	return 0;
}

/* --- the parser --- */

static const struct spf_record *parse_ok(const char *text)
{
	const struct spf_record *rec;
	const char *error = NULL;
	int r = spf_record_parse(text, A, &rec, &error);
	if (r != 1)
		fail_msg("'%s' refused: %s", text, error);
	return rec;
}

static void parse_bad(const char *text)
{
	const struct spf_record *rec;
	const char *error = NULL;
	if (spf_record_parse(text, A, &rec, &error) != -1)
		fail_msg("'%s' accepted", text);
	assert_non_null(error);
}

static void parser_terms(void **state)
{
	(void)state;
	const struct spf_record *rec =
		parse_ok("v=spf1 +a -mx:mail.example.com/24//64 ~ptr ?ip4:192.0.2.0/24 ip6:2001:db8::/32 "
			 "include:_spf.example.net exists:%{ir}.bl.example.org a//48 all redirect=r.example exp=e.%{d} "
			 "x-unknown=%{h}");
	assert_int_equal(rec->n_mechs, 9);
	assert_int_equal(rec->mechs[0].kind, SPF_MECH_A);
	assert_int_equal(rec->mechs[0].qualifier, SPF_QUAL_PASS);
	assert_null(rec->mechs[0].domain);
	assert_int_equal(rec->mechs[1].kind, SPF_MECH_MX);
	assert_int_equal(rec->mechs[1].qualifier, SPF_QUAL_FAIL);
	assert_string_equal(rec->mechs[1].domain, "mail.example.com");
	assert_int_equal(rec->mechs[1].cidr4, 24);
	assert_int_equal(rec->mechs[1].cidr6, 64);
	assert_int_equal(rec->mechs[2].qualifier, SPF_QUAL_SOFTFAIL);
	assert_int_equal(rec->mechs[3].qualifier, SPF_QUAL_NEUTRAL);
	assert_int_equal(rec->mechs[3].cidr4, 24);
	assert_memory_equal(rec->mechs[3].net, "\xc0\x00\x02\x00", 4);
	assert_int_equal(rec->mechs[4].cidr6, 32);
	assert_int_equal(rec->mechs[7].cidr4, 32);
	assert_int_equal(rec->mechs[7].cidr6, 48);
	assert_string_equal(rec->mechs[1].text, "-mx:mail.example.com/24//64");
	assert_string_equal(rec->redirect, "r.example");
	assert_string_equal(rec->exp, "e.%{d}");
	/* a, mx, ptr, include, exists, a, redirect */
	assert_int_equal(rec->dns_terms, 7);
	/* Case-insensitive names, several spaces, a trailing space. */
	rec = parse_ok("V=SPF1  IP4:192.0.2.1   MX  -ALL ");
	assert_int_equal(rec->n_mechs, 3);
	assert_int_equal(rec->mechs[2].kind, SPF_MECH_ALL);
	assert_int_equal(parse_ok("v=spf1")->n_mechs, 0);
}

static void parser_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"v=spf1 ip4:192.0.2.1/33",
		"v=spf1 ip4:192.0.2.01",
		"v=spf1 ip4:192.0.2",
		"v=spf1 ip4:192.0.2.1//24",
		"v=spf1 ip6:2001:db8::/129",
		"v=spf1 ip6:2001:db8::/064",
		"v=spf1 ip6:192.0.2.1",
		"v=spf1 a/24/64",
		"v=spf1 a//129",
		"v=spf1 a:",
		"v=spf1 include",
		"v=spf1 include:",
		"v=spf1 exists",
		"v=spf1 ptr/0",
		"v=spf1 all/8",
		"v=spf1 -all.",
		"v=spf1 a:abc.123",
		"v=spf1 a:museum",
		"v=spf1 a:example.-com",
		"v=spf1 redirect=a.example redirect=b.example",
		"v=spf1 exp=a.example exp=b.example",
		"v=spf1 redirect:a.example",
		"v=spf1 foo",
		"v=spf1 +redirect=a.example",
		"v=spf1 a:%{x}.example.com",
		"v=spf1 a:%{c}.example.com",
		"v=spf1 a:%{d0}.example.com",
		"v=spf1 a:%.example.com",
		"v=spf1 a:100%.example.com",
		"v=spf1 a:%{d",
		"v=spf1 x=%{q}",
		"v=spf1\ta",
		"v=spf1 a\r\n",
		"v=spf1 a:\xc3\xa9.example.com",
		"v=spf1 ip4:",
		"v=spf1 ip4:1.2.3.4/",
		"v=spf1 a/",
		"v=spf1 ip4:256.0.0.1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_bad(bad[i]);
	/* The error names the term. */
	const struct spf_record *rec;
	const char *error;
	assert_int_equal(spf_record_parse("v=spf1 mx ip4:1.2.3 -all", A, &rec, &error), -1);
	assert_non_null(strstr(error, "ip4:1.2.3"));
}

static void record_selection(void **state)
{
	(void)state;
	const char *rec, *error;
	const char *one[] = { "google-site-verification=x", "v=spf1 -all", "v=spf10 +all", "v=spf1x" };
	assert_int_equal(spf_record_select(one, 4, &rec, &error), 1);
	assert_string_equal(rec, "v=spf1 -all");
	const char *two[] = { "v=spf1 -all", "V=SPF1 +all" };
	assert_int_equal(spf_record_select(two, 2, &rec, &error), -1);
	const char *none[] = { "v=spf2.0/pra -all", "spf1" };
	assert_int_equal(spf_record_select(none, 2, &rec, &error), 0);
	assert_true(spf_record_is_spf("v=spf1"));
	assert_false(spf_record_is_spf("v=spf1\t-all"));
}

/* --- macros --- */

static const char *expand(const char *s, const struct mailauth_addr *ip, bool exp)
{
	struct spf_macro_ctx m = {
		.sender = "strong-bad@email.example.com",
		.local = "strong-bad",
		.sender_domain = "email.example.com",
		.domain = "email.example.com",
		.ip = ip,
		.helo = "mx.example.org",
		.receiver = "mx.example.net",
		.now = 1700000000,
	};
	char *out;
	const char *error = NULL;
	if (spf_macro_expand(s, strlen(s), &m, exp, A, &out, &error) != 1)
		fail_msg("'%s': %s", s, error);
	return out;
}

static void macro_rfc_examples(void **state)
{
	(void)state;
	struct mailauth_addr v4 = { .family = AF_INET, .bytes = { 192, 0, 2, 3 } };
	struct mailauth_addr v6 = { .family = AF_INET6 };
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::cb01", v6.bytes), 1);
	/* RFC 7208 §7.4, one by one. */
	static const char *const ex[][2] = {
		{ "%{s}", "strong-bad@email.example.com" },
		{ "%{o}", "email.example.com" },
		{ "%{d}", "email.example.com" },
		{ "%{d4}", "email.example.com" },
		{ "%{d3}", "email.example.com" },
		{ "%{d2}", "example.com" },
		{ "%{d1}", "com" },
		{ "%{dr}", "com.example.email" },
		{ "%{d2r}", "example.email" },
		{ "%{l}", "strong-bad" },
		{ "%{l-}", "strong.bad" },
		{ "%{lr}", "strong-bad" },
		{ "%{lr-}", "bad.strong" },
		{ "%{l1r-}", "strong" },
		{ "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
		{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
		{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
		{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com" },
		{ "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net" },
	};
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		assert_string_equal(expand(ex[i][0], &v4, false), ex[i][1]);
	assert_string_equal(expand("%{ir}.%{v}._spf.%{d2}", &v6, false),
			    "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com");
	/* The rest of §7.3: escapes, upper case = URL-escaped, the exp-only letters. */
	assert_string_equal(expand("a%%b%_c%-d", &v4, false), "a%b c%20d");
	assert_string_equal(expand("%{S}", &v4, false), "strong-bad%40email.example.com");
	assert_string_equal(expand("%{h}", &v4, false), "mx.example.org");
	assert_string_equal(expand("%{p}", &v4, false), "unknown");
	assert_string_equal(expand("%{c} %{r} %{t}", &v6, true), "2001:db8::cb01 mx.example.net 1700000000");
	assert_string_equal(expand("%{c}", &v4, true), "192.0.2.3");
	assert_string_equal(expand("%{d999}", &v4, false), "email.example.com");
	assert_string_equal(expand("%{l+-}", &v4, false), "strong.bad");
}

static void macro_errors(void **state)
{
	(void)state;
	const char *error;
	static const char *const bad[] = { "%", "%x", "%{", "%{s", "%{s2r", "%{z}", "%{s0}", "%{s.@}", "a%", "%{}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (spf_macro_check(bad[i], strlen(bad[i]), true, &error) != -1)
			fail_msg("'%s' accepted", bad[i]);
	}
	assert_int_equal(spf_macro_check("%{c}", 4, false, &error), -1);
	assert_int_equal(spf_macro_check("%{c}", 4, true, &error), 1);
	assert_int_equal(spf_macro_check("a b", 3, false, &error), -1);
	assert_int_equal(spf_macro_check("a b", 3, true, &error), 1);
}

static void macro_bounds(void **state)
{
	(void)state;
	struct mailauth_addr v6 = { .family = AF_INET6 };
	struct spf_macro_ctx m = { .sender = "", .local = "", .sender_domain = "", .helo = "", .ip = &v6 };
	char long_label[300];
	memset(long_label, 'x', sizeof(long_label) - 1);
	long_label[sizeof(long_label) - 1] = '\0';
	/* 130 labels of "abc": 519 bytes, cut from the left to at most 253. */
	char big[1024] = "";
	for (int i = 0; i < 130; i++)
		strcat(big, "abc.");
	strcat(big, "example.com.");
	m.domain = big;
	char *out;
	const char *error;
	assert_int_equal(spf_macro_expand_domain("%{d}", 4, &m, A, &out, &error), 1);
	assert_true(strlen(out) <= SPF_DOMAIN_MAX);
	assert_true(strlen(out) > SPF_DOMAIN_MAX - 4);
	assert_int_equal(strncmp(out, "abc.", 4), 0);
	assert_string_equal(out + strlen(out) - 12, ".example.com");
	/* One label longer than a name: nothing left. */
	m.domain = long_label;
	assert_int_equal(spf_macro_expand_domain("%{d}", 4, &m, A, &out, &error), 1);
	assert_string_equal(out, "");
	/* 8192 bytes at most: 40 times %{ir} of an IPv6 address (63 bytes each) fits,
	 * 40 times %{IR} escaped... also; 200 times does not. */
	char spec[1024] = "";
	for (int i = 0; i < 200; i++)
		strcat(spec, "%{ir}");
	assert_int_equal(spf_macro_expand(spec, strlen(spec), &m, false, A, &out, &error), -1);
	assert_string_equal(error, "macro expansion too long");
	spec[5 * 100] = '\0';
	assert_int_equal(spf_macro_expand(spec, strlen(spec), &m, false, A, &out, &error), 1);
	assert_int_equal(strlen(out), 100 * 63);
}

/* --- evaluation --- */

struct run {
	struct spf_verdict v;
	unsigned queries;
};

static struct run check(const struct suite_rr *rrs, size_t n, const char *ip, const char *from, const char *helo,
			const struct spf_limits *lim)
{
	struct zone z = { .rrs = rrs, .n = n };
	struct mailauth_dns dns = zone_dns(&z);
	struct spf_request req = { .mail_from = from, .helo = helo, .receiver = "mx.test", .limits = lim };
	assert_true(zone_parse_ip(ip, &req.ip));
	struct run r;
	assert_int_equal(spf_check(&dns, &req, A, &r.v), 1);
	r.queries = z.queries;
	return r;
}

#define CHECK(rrs, ip, from, helo) check(rrs, sizeof(rrs) / sizeof(rrs[0]), ip, from, helo, NULL)

static void eval_basic(void **state)
{
	(void)state;
	static const struct suite_rr z[] = {
		RR("example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 a:mail.example.com mx -all exp=why.example.com"),
		RR("mail.example.com", "A", "198.51.100.7"),
		MX("example.com", 10, "mx.example.com"),
		RR("mx.example.com", "AAAA", "2001:db8::25"),
		RR("why.example.com", "TXT", "%{i} may not send for %{d} (%{s})"),
		RR("helo.example.org", "TXT", "v=spf1 ip4:203.0.113.9 ~all"),
	};
	struct run r = CHECK(z, "192.0.2.200", "user@example.com", "helo.example.org");
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	assert_int_equal(r.v.identity, SPF_IDENTITY_MAILFROM);
	assert_string_equal(r.v.domain, "example.com");
	assert_string_equal(r.v.sender, "user@example.com");
	assert_string_equal(r.v.mechanism, "ip4:192.0.2.0/24");
	assert_null(r.v.explanation);
	assert_int_equal(r.v.dns_lookups, 0);
	r = CHECK(z, "198.51.100.7", "user@example.com", "helo.example.org");
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	assert_string_equal(r.v.mechanism, "a:mail.example.com");
	r = CHECK(z, "2001:db8::25", "user@example.com", "helo.example.org");
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	assert_string_equal(r.v.mechanism, "mx");
	assert_int_equal(r.v.dns_lookups, 2);
	r = CHECK(z, "203.0.113.9", "user@example.com", "helo.example.org");
	assert_int_equal(r.v.result, MAILAUTH_FAIL);
	assert_string_equal(r.v.mechanism, "-all");
	assert_string_equal(r.v.explanation, "203.0.113.9 may not send for example.com (user@example.com)");
	assert_non_null(strstr(r.v.problem, "-all"));
	/* The null sender: HELO is the identity, as postmaster@HELO. */
	r = CHECK(z, "203.0.113.9", "", "helo.example.org");
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	assert_int_equal(r.v.identity, SPF_IDENTITY_HELO);
	assert_string_equal(r.v.sender, "postmaster@helo.example.org");
	r = CHECK(z, "203.0.113.10", "", "helo.example.org");
	assert_int_equal(r.v.result, MAILAUTH_SOFTFAIL);
	/* A MAIL FROM without '@' is a domain; an unusable one gives none. */
	r = CHECK(z, "192.0.2.1", "example.com", "x");
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	assert_string_equal(r.v.sender, "postmaster@example.com");
	r = CHECK(z, "192.0.2.1", "user@localhost", "x");
	assert_int_equal(r.v.result, MAILAUTH_NONE);
	assert_int_equal(r.queries, 0);
	r = CHECK(z, "192.0.2.1", "user@nothing.example", "x");
	assert_int_equal(r.v.result, MAILAUTH_NONE);
	/* A bare address as HELO, a UTF-8 domain: none, no DNS question. */
	r = CHECK(z, "192.0.2.1", "", "192.0.2.1");
	assert_int_equal(r.v.result, MAILAUTH_NONE);
	assert_int_equal(r.queries, 0);
	r = CHECK(z, "192.0.2.1",
		  "u@b\xc3\xbc"
		  "cher.example",
		  "x");
	assert_int_equal(r.v.result, MAILAUTH_NONE);
	assert_int_equal(r.queries, 0);
	/* spf_check_helo checks HELO whatever MAIL FROM says. */
	struct zone zz = { .rrs = z, .n = sizeof(z) / sizeof(z[0]) };
	struct mailauth_dns dns = zone_dns(&zz);
	struct spf_request req = { .mail_from = "user@example.com", .helo = "helo.example.org" };
	assert_true(zone_parse_ip("203.0.113.9", &req.ip));
	struct spf_verdict v;
	assert_int_equal(spf_check_helo(&dns, &req, A, &v), 1);
	assert_int_equal(v.result, MAILAUTH_PASS);
	assert_int_equal(v.identity, SPF_IDENTITY_HELO);
	req.helo = "[203.0.113.9]";
	assert_int_equal(spf_check_helo(&dns, &req, A, &v), 1);
	assert_int_equal(v.result, MAILAUTH_NONE);
	/* An address of no known family. */
	req.ip.family = 12345;
	assert_int_equal(spf_check(&dns, &req, A, &v), -1);
	assert_int_equal(v.result, MAILAUTH_PERMERROR);
}

static void eval_mapped_ipv4(void **state)
{
	(void)state;
	static const struct suite_rr z[] = {
		RR("example.com", "TXT", "v=spf1 ip6:::ffff:0:0/96 ip4:192.0.2.1 a -all"),
		RR("example.com", "A", "192.0.2.2"),
	};
	/* ::ffff:192.0.2.1 is 192.0.2.1: ip4 matches, ip6 (never for IPv4 clients) not. */
	struct run r = CHECK(z, "::ffff:192.0.2.1", "u@example.com", "h.example.com");
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	assert_string_equal(r.v.mechanism, "ip4:192.0.2.1");
	r = CHECK(z, "::ffff:192.0.2.2", "u@example.com", "h.example.com");
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	assert_string_equal(r.v.mechanism, "a");
	r = CHECK(z, "::ffff:192.0.2.3", "u@example.com", "h.example.com");
	assert_int_equal(r.v.result, MAILAUTH_FAIL);
}

static void eval_lookup_limit(void **state)
{
	(void)state;
	/* A chain of includes: example.com includes i1, i1 includes i2, ... */
	static const struct suite_rr z[] = {
		RR("example.com", "TXT", "v=spf1 include:i1.example.com -all"),
		RR("i1.example.com", "TXT", "v=spf1 include:i2.example.com"),
		RR("i2.example.com", "TXT", "v=spf1 include:i3.example.com"),
		RR("i3.example.com", "TXT", "v=spf1 include:i4.example.com"),
		RR("i4.example.com", "TXT", "v=spf1 include:i5.example.com"),
		RR("i5.example.com", "TXT", "v=spf1 include:i6.example.com"),
		RR("i6.example.com", "TXT", "v=spf1 include:i7.example.com"),
		RR("i7.example.com", "TXT", "v=spf1 include:i8.example.com"),
		RR("i8.example.com", "TXT", "v=spf1 include:i9.example.com"),
		RR("i9.example.com", "TXT", "v=spf1 redirect=i10.example.com"),
		RR("i10.example.com", "TXT", "v=spf1 ip4:192.0.2.1 exists:x.example.com"),
		RR("x.example.com", "A", "127.0.0.2"),
	};
	/* include x9 + redirect = 10 lookups: allowed; ip4 matches before exists. */
	struct run r = CHECK(z, "192.0.2.1", "u@example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	assert_int_equal(r.v.dns_lookups, 10);
	/* The eleventh (exists) is one too many. */
	r = CHECK(z, "192.0.2.2", "u@example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_PERMERROR);
	assert_non_null(strstr(r.v.problem, "more than 10 DNS lookups"));
	/* Configured lower and higher. */
	struct spf_limits lim = spf_default_limits;
	lim.dns_mechanisms = 5;
	r = check(z, sizeof(z) / sizeof(z[0]), "192.0.2.1", "u@example.com", "h", &lim);
	assert_int_equal(r.v.result, MAILAUTH_PERMERROR);
	assert_non_null(strstr(r.v.problem, "more than 5 DNS lookups"));
	lim.dns_mechanisms = 11;
	r = check(z, sizeof(z) / sizeof(z[0]), "192.0.2.2", "u@example.com", "h", &lim);
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	assert_int_equal(r.v.dns_lookups, 11);
	/* A loop ends at the limit too. */
	static const struct suite_rr loop[] = {
		RR("example.com", "TXT", "v=spf1 include:example.com -all"),
	};
	r = CHECK(loop, "192.0.2.1", "u@example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_PERMERROR);
	assert_int_equal(r.queries, 11);
}

static void eval_void_limit(void **state)
{
	(void)state;
	static const struct suite_rr z[] = {
		RR("example.com", "TXT", "v=spf1 a:n1.example.com mx:n2.example.com exists:n3.example.com +all"),
		RR("two.example.com", "TXT", "v=spf1 a:n1.example.com mx:n2.example.com +all"),
		RR("ptr.example.com", "TXT", "v=spf1 ptr a:n1.example.com mx:n2.example.com +all"),
	};
	struct run r = CHECK(z, "192.0.2.1", "u@example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_PERMERROR);
	assert_int_equal(r.v.void_lookups, 3);
	assert_non_null(strstr(r.v.problem, "void"));
	r = CHECK(z, "192.0.2.1", "u@two.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	assert_int_equal(r.v.void_lookups, 2);
	/* A ptr term whose PTR question has no answer is a void lookup too. */
	r = CHECK(z, "192.0.2.1", "u@ptr.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_PERMERROR);
	assert_int_equal(r.v.void_lookups, 3);
	struct spf_limits lim = spf_default_limits;
	lim.void_lookups = 3;
	r = check(z, sizeof(z) / sizeof(z[0]), "192.0.2.1", "u@example.com", "h", &lim);
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	lim.void_lookups = 0;
	r = check(z, sizeof(z) / sizeof(z[0]), "192.0.2.1", "u@two.example.com", "h", &lim);
	assert_int_equal(r.v.result, MAILAUTH_PERMERROR);
}

static void eval_mx_ptr_names(void **state)
{
	(void)state;
	static const struct suite_rr z[] = {
		RR("example.com", "TXT", "v=spf1 mx -all"),
		MX("example.com", 1, "m1.example.com"),
		MX("example.com", 2, "m2.example.com"),
		MX("example.com", 3, "m3.example.com"),
		MX("example.com", 4, "m4.example.com"),
		MX("example.com", 5, "m5.example.com"),
		MX("example.com", 6, "m6.example.com"),
		MX("example.com", 7, "m7.example.com"),
		MX("example.com", 8, "m8.example.com"),
		MX("example.com", 9, "m9.example.com"),
		MX("example.com", 10, "m10.example.com"),
		RR("m10.example.com", "A", "192.0.2.10"),
		RR("eleven.example.com", "TXT", "v=spf1 mx -all"),
		MX("eleven.example.com", 1, "m1.example.com"),
		MX("eleven.example.com", 2, "m2.example.com"),
		MX("eleven.example.com", 3, "m3.example.com"),
		MX("eleven.example.com", 4, "m4.example.com"),
		MX("eleven.example.com", 5, "m5.example.com"),
		MX("eleven.example.com", 6, "m6.example.com"),
		MX("eleven.example.com", 7, "m7.example.com"),
		MX("eleven.example.com", 8, "m8.example.com"),
		MX("eleven.example.com", 9, "m9.example.com"),
		MX("eleven.example.com", 10, "m10.example.com"),
		MX("eleven.example.com", 11, "m11.example.com"),
		RR("null.example.com", "TXT", "v=spf1 mx ?all"),
		MX("null.example.com", 0, ""),
		/* PTR: 11 names, only the 11th validates: ignored. */
		RR("ptr.example.com", "TXT", "v=spf1 ptr -all"),
		RR("9.2.0.192.in-addr.arpa", "PTR", "p1.ptr.example.com"),
		RR("9.2.0.192.in-addr.arpa", "PTR", "p2.ptr.example.com"),
		RR("9.2.0.192.in-addr.arpa", "PTR", "p3.ptr.example.com"),
		RR("9.2.0.192.in-addr.arpa", "PTR", "p4.ptr.example.com"),
		RR("9.2.0.192.in-addr.arpa", "PTR", "p5.ptr.example.com"),
		RR("9.2.0.192.in-addr.arpa", "PTR", "p6.ptr.example.com"),
		RR("9.2.0.192.in-addr.arpa", "PTR", "p7.ptr.example.com"),
		RR("9.2.0.192.in-addr.arpa", "PTR", "p8.ptr.example.com"),
		RR("9.2.0.192.in-addr.arpa", "PTR", "p9.ptr.example.com"),
		RR("9.2.0.192.in-addr.arpa", "PTR", "p10.ptr.example.com"),
		RR("9.2.0.192.in-addr.arpa", "PTR", "p11.ptr.example.com"),
		RR("p11.ptr.example.com", "A", "192.0.2.9"),
		RR("p10.ptr.example.com", "A", "192.0.2.8"),
		RR("8.2.0.192.in-addr.arpa", "PTR", "p10.ptr.example.com"),
		RR("7.2.0.192.in-addr.arpa", "PTR", "p10.ptr.example.com"),
	};
	struct run r = CHECK(z, "192.0.2.10", "u@example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	r = CHECK(z, "192.0.2.10", "u@eleven.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_PERMERROR);
	assert_non_null(strstr(r.v.problem, "more than 10 MX"));
	struct spf_limits lim = spf_default_limits;
	lim.mx_names = 11;
	r = check(z, sizeof(z) / sizeof(z[0]), "192.0.2.10", "u@eleven.example.com", "h", &lim);
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	r = CHECK(z, "192.0.2.10", "u@null.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_NEUTRAL);
	r = CHECK(z, "192.0.2.9", "u@ptr.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_FAIL);
	lim = spf_default_limits;
	lim.ptr_names = 11;
	r = check(z, sizeof(z) / sizeof(z[0]), "192.0.2.9", "u@ptr.example.com", "h", &lim);
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	/* A PTR name that does not resolve back is not validated. */
	r = CHECK(z, "192.0.2.8", "u@ptr.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	r = CHECK(z, "192.0.2.7", "u@ptr.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_FAIL);
}

static void eval_temperror(void **state)
{
	(void)state;
	static const struct suite_rr z[] = {
		RR("example.com", "TXT", "v=spf1 a:slow.example.com -all"),
		RR("slow.example.com", "TIMEOUT", ""),
		RR("inc.example.com", "TXT", "v=spf1 include:slow.example.com -all"),
		RR("ptr.example.com", "TXT", "v=spf1 ptr:slow.example.com -all"),
		RR("1.2.0.192.in-addr.arpa", "TIMEOUT", ""),
	};
	struct run r = CHECK(z, "192.0.2.1", "u@example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_TEMPERROR);
	assert_non_null(strstr(r.v.problem, "slow.example.com"));
	r = CHECK(z, "192.0.2.1", "u@slow.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_TEMPERROR);
	r = CHECK(z, "192.0.2.1", "u@inc.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_TEMPERROR);
	/* A PTR that times out makes ptr not match (§5.5). */
	r = CHECK(z, "192.0.2.1", "u@ptr.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_FAIL);
}

static void eval_include_redirect_exp(void **state)
{
	(void)state;
	static const struct suite_rr z[] = {
		RR("example.com", "TXT", "v=spf1 include:other.example.com -all exp=e.example.com"),
		RR("other.example.com", "TXT", "v=spf1 -ip4:192.0.2.66 ip4:192.0.2.1 -all exp=oe.example.com"),
		RR("e.example.com", "TXT", "outer %{d}"),
		RR("oe.example.com", "TXT", "inner %{d}"),
		RR("r.example.com", "TXT", "v=spf1 redirect=other.example.com exp=e.example.com"),
		RR("none.example.com", "TXT", "v=spf1 include:nothing.example.com"),
		RR("rnone.example.com", "TXT", "v=spf1 redirect=nothing.example.com"),
		RR("bad-exp.example.com", "TXT", "v=spf1 -all exp=two.example.com"),
		RR("two.example.com", "TXT", "one"),
		RR("two.example.com", "TXT", "two"),
		RR("badm-exp.example.com", "TXT", "v=spf1 -all exp=badm.example.com"),
		RR("badm.example.com", "TXT", "100%"),
		RR("helo-exp.example.com", "TXT", "v=spf1 -all exp=h.example.com"),
		RR("h.example.com", "TXT", "helo %{h}"),
	};
	struct run r = CHECK(z, "192.0.2.1", "u@example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_PASS);
	assert_string_equal(r.v.mechanism, "include:other.example.com");
	/* An include's fail is only "no match"; its exp is not used, ours is. */
	r = CHECK(z, "192.0.2.66", "u@example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_FAIL);
	assert_string_equal(r.v.explanation, "outer example.com");
	/* redirect: the target's exp, with the target as %{d}. */
	r = CHECK(z, "192.0.2.66", "u@r.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_FAIL);
	assert_string_equal(r.v.explanation, "inner other.example.com");
	r = CHECK(z, "192.0.2.1", "u@none.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_PERMERROR);
	r = CHECK(z, "192.0.2.1", "u@rnone.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_PERMERROR);
	/* An unusable exp: fail without explanation. */
	r = CHECK(z, "192.0.2.1", "u@bad-exp.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_FAIL);
	assert_null(r.v.explanation);
	r = CHECK(z, "192.0.2.1", "u@badm-exp.example.com", "h");
	assert_int_equal(r.v.result, MAILAUTH_FAIL);
	assert_null(r.v.explanation);
	/* Values from the client (HELO here) cannot put control bytes into the text. */
	r = CHECK(z, "192.0.2.1", "u@helo-exp.example.com", "bad\x01\x7f\xc3\xa9");
	assert_int_equal(r.v.result, MAILAUTH_FAIL);
	assert_string_equal(r.v.explanation, "helo bad????");
}

/* spf_check_host: the caller's identity; %{r} without a receiver and %{t}. */
static void eval_check_host(void **state)
{
	(void)state;
	static const struct suite_rr z[] = {
		RR("example.org", "TXT", "v=spf1 exists:%{l}.%{o}.users.example.org -all exp=why.example.org"),
		RR("alice.example.com.users.example.org", "A", "127.0.0.2"),
		RR("why.example.org", "TXT", "%{r} at %{t}: %{s} not from %{i}"),
	};
	struct zone zz = { .rrs = z, .n = sizeof(z) / sizeof(z[0]) };
	struct mailauth_dns dns = zone_dns(&zz);
	struct spf_request req = { .mail_from = "ignored@example.net", .helo = "h.example.net", .now = 42 };
	assert_true(zone_parse_ip("192.0.2.9", &req.ip));
	struct spf_verdict v;
	assert_int_equal(spf_check_host(&dns, &req, "example.org", "alice@example.com", SPF_IDENTITY_MAILFROM, A, &v), 1);
	assert_int_equal(v.result, MAILAUTH_PASS);
	assert_string_equal(v.domain, "example.org");
	assert_string_equal(v.sender, "alice@example.com");
	assert_int_equal(spf_check_host(&dns, &req, "example.org", "bob@example.com", SPF_IDENTITY_HELO, A, &v), 1);
	assert_int_equal(v.result, MAILAUTH_FAIL);
	assert_int_equal(v.identity, SPF_IDENTITY_HELO);
	assert_string_equal(v.explanation, "unknown at 42: bob@example.com not from 192.0.2.9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parser_terms),
		cmocka_unit_test(parser_errors),
		cmocka_unit_test(record_selection),
		cmocka_unit_test(macro_rfc_examples),
		cmocka_unit_test(macro_errors),
		cmocka_unit_test(macro_bounds),
		cmocka_unit_test(eval_basic),
		cmocka_unit_test(eval_mapped_ipv4),
		cmocka_unit_test(eval_lookup_limit),
		cmocka_unit_test(eval_void_limit),
		cmocka_unit_test(eval_mx_ptr_names),
		cmocka_unit_test(eval_temperror),
		cmocka_unit_test(eval_include_redirect_exp),
		cmocka_unit_test(eval_check_host),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
