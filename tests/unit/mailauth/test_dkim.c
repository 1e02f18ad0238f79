/* test_dkim.c: DKIM signing and verification (src/mailauth/dkim*.c).
 *
 * Verifies the example of RFC 8463 Appendix A (an ed25519-sha256 and an rsa-sha256
 * signature, simple/simple) and messages signed by python3-dkim (golden/, made by
 * make_golden.py: relaxed and simple, l=, repeated fields); checks the
 * canonicalization examples of RFC 6376 §3.4.6; signs with keys from the key store and
 * verifies the result; drives every verdict (neutral, permerror, policy, fail,
 * temperror) with hand-made signatures; and the tag-list and key-record parsers. */
#include "helpers.h"

#include "buf.h"
#include "dkim_key.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers (shared with test_dkim_key.c through helpers.h) ---- */

void dns_table_add(struct dns_table *t, const char *name, const char *txt)
{
	assert_true(t->n < 16);
	t->names[t->n] = name;
	t->txt[t->n++] = txt;
}

static int table_txt(void *ctx, const char *name, struct arena *a, const char ***records_r, size_t *n_r)
{
	struct dns_table *t = ctx;
	*n_r = 0;
	if (t->temp_name != NULL && strcmp(name, t->temp_name) == 0)
		return MAILAUTH_DNS_TEMP;
	for (size_t i = 0; i < t->n; i++) {
		if (strcasecmp(t->names[i], name) == 0) {
			const char **r = arena_alloc(a, sizeof(*r));
			r[0] = arena_strdup(a, t->txt[i]);
			*records_r = r;
			*n_r = 1;
			return MAILAUTH_DNS_FOUND;
		}
	}
	return MAILAUTH_DNS_NONE;
}

struct mailauth_dns dns_of(struct dns_table *t)
{
	return (struct mailauth_dns){ .ctx = t, .txt = table_txt };
}

char *read_golden(const char *name, size_t *len_r)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	*len_r = n;
	return buf;
}

void dns_table_load_golden(struct dns_table *t)
{
	size_t len;
	char *s = read_golden("dns.txt", &len);
	t->owned = s;
	for (char *line = strtok(s, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char *tab = strchr(line, '\t');
		assert_non_null(tab);
		*tab = '\0';
		dns_table_add(t, line, tab + 1);
	}
}

void dns_table_free(struct dns_table *t)
{
	free(t->owned);
	t->owned = NULL;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Verifies msg; returns the verdicts (arena a). */
static size_t verify(struct dns_table *t, const char *msg, size_t len, time_t now, struct arena *a,
		     struct dkim_verdict **v)
{
	struct mailauth_dns dns = dns_of(t);
	size_t n;
	int r = dkim_verify(&dns, msg, len, now, a, v, &n);
	assert_int_equal(r, (int)n);
	return n;
}

/* ---- RFC 8463 Appendix A ---- */

static void test_rfc8463_example(void **state)
{
	(void)state;
	struct dns_table t = { 0 };
	dns_table_load_golden(&t);
	size_t len;
	char *msg = read_golden("rfc8463.eml", &len);
	struct arena *a = arena_new();
	struct dkim_verdict *v;
	assert_int_equal(verify(&t, msg, len, 1528637909, a, &v), 2);
	assert_int_equal(v[0].result, MAILAUTH_PASS);
	assert_string_equal(v[0].algorithm, "ed25519-sha256");
	assert_string_equal(v[0].domain, "football.example.com");
	assert_string_equal(v[0].selector, "brisbane");
	assert_string_equal(v[0].identity, "@football.example.com");
	assert_string_equal(v[0].b_prefix, "9/dsDChY0YMTtD5E");
	assert_int_equal(v[1].result, MAILAUTH_PASS);
	assert_string_equal(v[1].algorithm, "rsa-sha256");
	assert_string_equal(v[1].selector, "test");

	/* the body changed: both fail on the body hash */
	char *p = strstr(msg, "We lost the game");
	memcpy(p, "We won  the game", 16);
	assert_int_equal(verify(&t, msg, len, 1528637909, a, &v), 2);
	assert_int_equal(v[0].result, MAILAUTH_FAIL);
	assert_non_null(strstr(v[0].reason, "body hash"));
	assert_int_equal(v[1].result, MAILAUTH_FAIL);
	memcpy(p, "We lost the game", 16);
	/* a signed header changed: the signature fails */
	p = strstr(msg, "Subject: Is dinner ready?");
	p[9] = 'i';
	assert_int_equal(verify(&t, msg, len, 1528637909, a, &v), 2);
	assert_int_equal(v[0].result, MAILAUTH_FAIL);
	assert_non_null(strstr(v[0].reason, "signature"));
	assert_int_equal(v[1].result, MAILAUTH_FAIL);
	free(msg);
	dns_table_free(&t);
	arena_free(&a);
}

/* ---- python3-dkim's signatures ---- */

static void test_python_golden(void **state)
{
	(void)state;
	static const char *const files[] = { "ed25519_relaxed.eml", "rsa_relaxed.eml", "rsa_simple.eml",
					     "ed25519_simple_relaxed.eml", "rsa_relaxed_simple_l.eml" };
	struct dns_table t = { 0 };
	dns_table_load_golden(&t);
	struct arena *a = arena_new();
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		char *msg = read_golden(files[i], &len);
		struct dkim_verdict *v;
		assert_int_equal(verify(&t, msg, len, time(NULL), a, &v), 1);
		if (v[0].result != MAILAUTH_PASS)
			fail_msg("%s: %s", files[i], v[0].reason);
		assert_string_equal(v[0].domain, "sign.test");
		/* a changed body byte, inside l= where there is one */
		char *p = strstr(msg, "Hello");
		p[1] = 'a';
		assert_int_equal(verify(&t, msg, len, time(NULL), a, &v), 1);
		assert_int_equal(v[0].result, MAILAUTH_FAIL);
		free(msg);
	}
	dns_table_free(&t);
	arena_free(&a);
}

/* l= covers the first 66 bytes; what a list appends after them is not signed, but a
 * body shorter than l= fails. */
static void test_l_tag(void **state)
{
	(void)state;
	struct dns_table t = { 0 };
	dns_table_load_golden(&t);
	struct arena *a = arena_new();
	size_t len;
	char *msg = read_golden("rsa_relaxed_simple_l.eml", &len);
	char *tail = strstr(msg, "appended by a list");
	assert_non_null(tail);
	memcpy(tail, "APPENDED", 8);
	struct dkim_verdict *v;
	assert_int_equal(verify(&t, msg, len, time(NULL), a, &v), 1);
	assert_int_equal(v[0].result, MAILAUTH_PASS);
	char *body = strstr(msg, "\r\n\r\n") + 4;
	size_t cut = (size_t)(body - msg) + 20;
	assert_int_equal(verify(&t, msg, cut, time(NULL), a, &v), 1);
	assert_int_equal(v[0].result, MAILAUTH_FAIL);
	assert_non_null(strstr(v[0].reason, "l="));
	free(msg);
	dns_table_free(&t);
	arena_free(&a);
}

/* ---- RFC 6376 §3.4.6 ---- */

static void test_canon_rfc6376_example(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	size_t n;
	/* header "A: X" and "B : Y<TAB>CRLF<TAB>Z  " */
	char *h = dkim_canon_header_relaxed("A: X", 4, a, &n);
	assert_string_equal(h, "a:X");
	const char *b = "B : Y\t\r\n\tZ  ";
	h = dkim_canon_header_relaxed(b, strlen(b), a, &n);
	assert_string_equal(h, "b:Y Z");
	const char *body = " C \r\nD \t E\r\n\r\n\r\n";
	assert_string_equal(dkim_canon_body(body, strlen(body), true, a, &n), " C\r\nD E\r\n");
	assert_string_equal(dkim_canon_body(body, strlen(body), false, a, &n), " C \r\nD \t E\r\n");
	/* empty bodies: simple is one CRLF, relaxed nothing (RFC 6376 errata 3192) */
	assert_string_equal(dkim_canon_body("", 0, false, a, &n), "\r\n");
	assert_string_equal(dkim_canon_body("\r\n\r\n", 4, false, a, &n), "\r\n");
	assert_int_equal(dkim_canon_body("", 0, true, a, &n)[0], '\0');
	assert_int_equal(n, 0);
	/* a last line without a line end gets one; lone LF counts as a line end */
	assert_string_equal(dkim_canon_body("x  y \nz", 7, true, a, &n), "x y\r\nz\r\n");
	/* whitespace-only lines are empty for relaxed, not for simple */
	assert_string_equal(dkim_canon_body("a\r\n \t\r\n", 7, true, a, &n), "a\r\n");
	assert_string_equal(dkim_canon_body("a\r\n \t\r\n", 7, false, a, &n), "a\r\n \t\r\n");
	arena_free(&a);
}

/* ---- the tag list and the key record ---- */

static void test_tag_list(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct dkim_tag *t;
	const char *err;
	const char *s = " v=1;\r\n\ta = rsa-sha256 ; b=ab\r\n cd ;empty=;";
	assert_int_equal(dkim_tag_list_parse(s, strlen(s), a, &t, &err), 4);
	assert_int_equal(t[0].name_len, 1);
	assert_memory_equal(t[1].value, "rsa-sha256", t[1].value_len);
	assert_int_equal(t[2].value_len, 7); /* inner FWS kept */
	assert_memory_equal(t[2].value, "ab\r\n cd", 7);
	assert_int_equal(t[2].raw_len, 8);
	assert_memory_equal(t[2].raw, "ab\r\n cd ", t[2].raw_len);
	assert_int_equal(t[3].value_len, 0);
	assert_int_equal(dkim_tag_list_parse("", 0, a, &t, &err), 0);
	static const char *const bad[] = {
		"a=1; a=2", "1a=x", "a", "a=1;;b=2", "=x", "a=b\x01", "a=\xc3\xa9", "a=x;b"
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (dkim_tag_list_parse(bad[i], strlen(bad[i]), a, &t, &err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(err);
	}
	arena_free(&a);
}

static void test_key_record(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct dkim_key_record r;
	const char *err;
	const char *s = "v=DKIM1; p=AQID";
	assert_int_equal(dkim_key_record_parse(s, strlen(s), a, &r, &err), 1);
	assert_string_equal(r.key_type, "rsa");
	assert_int_equal(r.pubkey_len, 3);
	assert_false(r.revoked);
	s = "k=ed25519; t=y:s; h=sha256; s=email; p=";
	assert_int_equal(dkim_key_record_parse(s, strlen(s), a, &r, &err), 1);
	assert_true(r.revoked);
	assert_true(r.testing);
	assert_true(r.strict);
	assert_string_equal(r.hashes, "sha256");
	static const char *const bad[] = { "k=rsa", "p=AQID; v=DKIM1", "v=DKIM2; p=AQID", "p=!!!!", "p=A; p=B" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dkim_key_record_parse(bad[i], strlen(bad[i]), a, &r, &err) != -1)
			fail_msg("accepted: %s", bad[i]);
	arena_free(&a);
}

/* ---- verdicts from hand-made signatures (the checks before any cryptography) ---- */

static const char body_part[] = "From: a@d.test\r\nTo: b@x.test\r\nSubject: s\r\n\r\nbody\r\n";

static enum mailauth_result verdict_of(struct dns_table *t, const char *sig, time_t now, const char **reason_r)
{
	struct arena *a = arena_new();
	char *msg = arena_printf(a, "DKIM-Signature: %s\r\n%s", sig, body_part);
	struct dkim_verdict *v;
	assert_int_equal(verify(t, msg, strlen(msg), now, a, &v), 1);
	enum mailauth_result r = v[0].result;
	static char reason[200];
	snprintf(reason, sizeof(reason), "%s", v[0].reason);
	*reason_r = reason;
	arena_free(&a);
	return r;
}

static void test_verdicts(void **state)
{
	(void)state;
	struct dns_table t = { 0 };
	dns_table_add(&t, "rsa._domainkey.d.test", "v=DKIM1; k=rsa; p=AQID");
	dns_table_add(&t, "gone._domainkey.d.test", "v=DKIM1; k=rsa; p=");
	dns_table_add(&t, "ed._domainkey.d.test", "v=DKIM1; k=ed25519; p=AQID");
	dns_table_add(&t, "sha1._domainkey.d.test", "v=DKIM1; h=sha1; p=AQID");
	dns_table_add(&t, "web._domainkey.d.test", "v=DKIM1; s=web; p=AQID");
	dns_table_add(&t, "strict._domainkey.d.test", "v=DKIM1; t=s; p=AQID");
	dns_table_add(&t, "broken._domainkey.d.test", "v=DKIM1; p=AQID; p=AQID");
	t.temp_name = "slow._domainkey.d.test";
	struct {
		const char *sig;
		time_t now;
		enum mailauth_result want;
		const char *reason;
	} cases[] = {
		{ "v=1; a=rsa-sha256; d=d.test; s=rsa; h=from; bh=AAAA", 1000, MAILAUTH_NEUTRAL, "required" },
		{ "v=2; a=rsa-sha256; d=d.test; s=rsa; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_NEUTRAL, "version" },
		{ "v=1; v=1; a=rsa-sha256; d=d.test; s=rsa; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_NEUTRAL, "twice" },
		{ "v=1; a=rsa-sha1; d=d.test; s=rsa; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_PERMERROR, "8301" },
		{ "v=1; a=rsa-md5; d=d.test; s=rsa; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_PERMERROR, "algorithm" },
		{ "v=1; a=rsa-sha256; d=d.test; s=rsa; h=to:subject; bh=AAAA; b=AAAA", 1000, MAILAUTH_PERMERROR,
		  "From" },
		{ "v=1; a=rsa-sha256; d=d.test; i=u@other.test; s=rsa; h=from; bh=AAAA; b=AAAA", 1000,
		  MAILAUTH_PERMERROR, "i=" },
		{ "v=1; a=rsa-sha256; d=d.test; i=u@evild.test; s=rsa; h=from; bh=AAAA; b=AAAA", 1000,
		  MAILAUTH_PERMERROR, "i=" },
		{ "v=1; a=rsa-sha256; c=fancy; d=d.test; s=rsa; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_NEUTRAL,
		  "canonicalization" },
		{ "v=1; a=rsa-sha256; d=d.test; s=rsa; t=50; x=100; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_POLICY,
		  "expired" },
		{ "v=1; a=rsa-sha256; d=d.test; s=rsa; t=5000; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_POLICY,
		  "future" },
		{ "v=1; a=rsa-sha256; d=d.test; s=rsa; t=1200; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_PERMERROR,
		  "RSA key cannot be read" },
		{ "v=1; a=rsa-sha256; d=d.test; s=rsa; t=1x; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_NEUTRAL,
		  "number" },
		{ "v=1; a=rsa-sha256; d=d.test; s=none; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_PERMERROR,
		  "no key record" },
		{ "v=1; a=rsa-sha256; d=d.test; s=slow; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_TEMPERROR, "DNS" },
		{ "v=1; a=rsa-sha256; d=d.test; s=gone; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_PERMERROR, "revoked" },
		{ "v=1; a=ed25519-sha256; d=d.test; s=rsa; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_PERMERROR,
		  "k=rsa" },
		{ "v=1; a=ed25519-sha256; d=d.test; s=ed; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_PERMERROR,
		  "32 bytes" },
		{ "v=1; a=rsa-sha256; d=d.test; s=sha1; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_PERMERROR, "h=" },
		{ "v=1; a=rsa-sha256; d=d.test; s=web; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_PERMERROR, "s=" },
		{ "v=1; a=rsa-sha256; d=d.test; i=@sub.d.test; s=strict; h=from; bh=AAAA; b=AAAA", 1000,
		  MAILAUTH_PERMERROR, "strict" },
		{ "v=1; a=rsa-sha256; d=d.test; s=broken; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_PERMERROR,
		  "bad key record" },
		{ "v=1; a=rsa-sha256; d=d.test; s=rsa; q=http; h=from; bh=AAAA; b=AAAA", 1000, MAILAUTH_PERMERROR,
		  "q=" },
		{ "v=1; a=rsa-sha256; d=d.test; s=rsa; h=from; bh=AA!A; b=AAAA", 1000, MAILAUTH_NEUTRAL, "base64" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *reason;
		enum mailauth_result r = verdict_of(&t, cases[i].sig, cases[i].now, &reason);
		if (r != cases[i].want || strstr(reason, cases[i].reason) == NULL)
			fail_msg("case %zu: %s: got %s (%s)", i, cases[i].sig, mailauth_result_name(r), reason);
	}
}

/* More signatures than the limit: only the first ones get a verdict. */
static void test_max_signatures(void **state)
{
	(void)state;
	struct dns_table t = { 0 };
	struct arena *a = arena_new();
	struct buf m = { 0 };
	for (int i = 0; i < 12; i++)
		buf_printf(&m, "DKIM-Signature: v=1; a=rsa-sha256; d=d%d.test; s=s; h=from; bh=AAAA; b=AAAA\r\n", i);
	buf_puts(&m, body_part);
	struct dkim_verdict *v;
	assert_int_equal(verify(&t, m.data, m.len, 1000, a, &v), DKIM_VERIFY_MAX_SIGNATURES);
	assert_string_equal(v[0].domain, "d0.test");
	struct mailauth_dns dns = dns_of(&t);
	struct dkim_verify_opts o = { .max_signatures = 3 };
	size_t n;
	assert_int_equal(dkim_verify_opts(&dns, &o, m.data, m.len, 1000, a, &v, &n), 3);
	assert_int_equal(verify(&t, body_part, strlen(body_part), 1000, a, &v), 0); /* dkim=none */
	buf_free(&m);
	arena_free(&a);
}

/* An RSA key below 1024 bits is refused (RFC 8301) even though the signature is good. */
static void test_short_rsa_key(void **state)
{
	(void)state;
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	assert_non_null(pk);
	struct arena *a = arena_new();
	unsigned char *der = NULL;
	int dl = i2d_PUBKEY(pk, &der);
	char *b64 = arena_alloc(a, (size_t)dl * 2);
	EVP_EncodeBlock((unsigned char *)b64, der, dl);
	OPENSSL_free(der);
	struct dns_table t = { 0 };
	dns_table_add(&t, "short._domainkey.d.test", arena_printf(a, "v=DKIM1; k=rsa; p=%s", b64));
	struct dkim_signer key = { "d.test", "short", DKIM_ALG_RSA, pk };
	char *field;
	const char *err;
	assert_int_equal(dkim_sign(&key, NULL, 0, body_part, strlen(body_part), 1000, a, &field, &err), 1);
	char *msg = arena_printf(a, "%s%s", field, body_part);
	struct dkim_verdict *v;
	assert_int_equal(verify(&t, msg, strlen(msg), 1000, a, &v), 1);
	assert_int_equal(v[0].result, MAILAUTH_PERMERROR);
	assert_non_null(strstr(v[0].reason, "1024"));
	EVP_PKEY_free(pk);
	arena_free(&a);
}

int test_key_store_main(void);

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8463_example), cmocka_unit_test(test_python_golden),
		cmocka_unit_test(test_l_tag),           cmocka_unit_test(test_canon_rfc6376_example),
		cmocka_unit_test(test_tag_list),        cmocka_unit_test(test_key_record),
		cmocka_unit_test(test_verdicts),        cmocka_unit_test(test_max_signatures),
		cmocka_unit_test(test_short_rsa_key),
	};
	int r = cmocka_run_group_tests_name("dkim", tests, NULL, NULL);
	return r | test_key_store_main();
}
