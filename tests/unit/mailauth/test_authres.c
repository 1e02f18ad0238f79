/* test_authres.c: Authentication-Results (authres.h, RFC 8601): the writer's form
 * (one method per folded line, tokens bare, everything else quoted, control
 * characters never written, long values cut) and the reader that finds the fields
 * claiming an authserv-id (comments, quoted strings, folding, versions, case). */
#include "authres.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

static void writer(void **state)
{
	(void)state;
	struct authres_dkim dk[] = {
		{ MAILAUTH_PASS, "example.com", "sel", "AbCd+/1234567890==", NULL },
		{ MAILAUTH_FAIL, "example.net", NULL, "Zz\r\n 99", "body hash did not verify" },
	};
	struct authres ar = { .authserv_id = "mx.example.org",
			      .spf = MAILAUTH_PASS,
			      .spf_mailfrom = "alice@example.com",
			      .dkim = dk,
			      .ndkim = 2,
			      .dmarc = MAILAUTH_FAIL,
			      .dmarc_from = "example.com",
			      .dmarc_policy = "p=reject dis=quarantine",
			      .iprev = MAILAUTH_PASS,
			      .iprev_ip = "192.0.2.1",
			      .iprev_name = "mail.example.com" };
	struct buf b = { 0 };
	authres_write(&ar, &b);
	assert_string_equal(buf_str(&b), "Authentication-Results: mx.example.org;\r\n"
					 "\tspf=pass smtp.mailfrom=alice@example.com;\r\n"
					 "\tdkim=pass header.d=example.com header.s=sel header.b=\"AbCd+/12\";\r\n"
					 "\tdkim=fail reason=\"body hash did not verify\" header.d=example.net "
					 "header.b=Zz99;\r\n"
					 "\tdmarc=fail (p=reject dis=quarantine) header.from=example.com;\r\n"
					 "\tiprev=pass policy.iprev=192.0.2.1 (mail.example.com)\r\n");
	buf_free(&b);

	/* the null sender: smtp.helo; unsigned: dkim=none */
	struct authres ar2 = { .authserv_id = "mx.example.org",
			       .spf = MAILAUTH_NONE,
			       .spf_helo = "client.example",
			       .dmarc = MAILAUTH_NONE,
			       .iprev = MAILAUTH_FAIL,
			       .iprev_ip = "2001:db8::1" };
	authres_write(&ar2, &b);
	assert_string_equal(buf_str(&b), "Authentication-Results: mx.example.org;\r\n"
					 "\tspf=none smtp.helo=client.example;\r\n"
					 "\tdkim=none;\r\n"
					 "\tdmarc=none;\r\n"
					 "\tiprev=fail policy.iprev=\"2001:db8::1\"\r\n");
	buf_free(&b);
}

/* Hostile values: quoted, escaped, no control character, cut when long. */
static void writer_quotes(void **state)
{
	(void)state;
	char longv[600];
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	struct authres ar = { .authserv_id = "mx.example.org",
			      .spf = MAILAUTH_SOFTFAIL,
			      .spf_mailfrom = "\"odd local\"@example.com\r\nX-Injected: yes",
			      .spf_reason = "a \"quoted\" \\ reason",
			      .dmarc = MAILAUTH_PERMERROR,
			      .dmarc_from = longv,
			      .dmarc_policy = "nested ) comment (",
			      .iprev = MAILAUTH_TEMPERROR };
	struct buf b = { 0 };
	authres_write(&ar, &b);
	const char *s = buf_str(&b);
	assert_non_null(strstr(s, "spf=softfail reason=\"a \\\"quoted\\\" \\\\ reason\" smtp.mailfrom="
				  "\"\\\"odd local\\\"@example.com??X-Injected: yes\";"));
	assert_non_null(strstr(s, "(nested \\) comment \\()"));
	/* every line end is a fold or the end; lines stay short */
	size_t line = 0;
	for (size_t i = 0; i < b.len; i++) {
		if (s[i] == '\r') {
			assert_int_equal(s[i + 1], '\n');
			assert_true(i + 2 == b.len || s[i + 2] == '\t');
			line = 0;
			i++;
			continue;
		}
		assert_true(s[i] != '\n');
		assert_true(++line < 400);
	}
	char want[AUTHRES_VALUE_MAX + 32];
	snprintf(want, sizeof(want), "header.from=\"%.*s...\"", AUTHRES_VALUE_MAX, longv);
	assert_non_null(strstr(s, want));
	buf_free(&b);
}

static int id_of(const char *v, struct arena *a, const char **id)
{
	return authres_parse_id(v, strlen(v), a, id);
}

static void parse_id(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *id;
	assert_int_equal(id_of(" mx.example.org; spf=pass", a, &id), 1);
	assert_string_equal(id, "mx.example.org");
	assert_int_equal(id_of("\r\n\t(a (nested) comment \\) still) mx.example.org 1 (v); dkim=none", a, &id), 1);
	assert_string_equal(id, "mx.example.org");
	assert_int_equal(id_of(" \"mx.ex\\\"ample.org\" ;", a, &id), 1);
	assert_string_equal(id, "mx.ex\"ample.org");
	assert_int_equal(id_of(" mx.example.org none", a, &id), 1);
	assert_int_equal(id_of(" mx.example.org", a, &id), 1);
	assert_int_equal(id_of(" mx.example.org\r\n", a, &id), 1);
	/* not an authserv-id */
	assert_int_equal(id_of("", a, &id), -1);
	assert_int_equal(id_of("   ", a, &id), -1);
	assert_int_equal(id_of(" (unterminated comment mx.example.org;", a, &id), -1);
	assert_int_equal(id_of(" \"unterminated;", a, &id), -1);
	assert_int_equal(id_of(" ;spf=pass", a, &id), -1);
	assert_int_equal(id_of(" mx.example.org@evil; spf=pass", a, &id), -1);
	assert_int_equal(id_of(" mx.example.org extra; spf=pass", a, &id), -1);
	assert_int_equal(id_of(" (x\\", a, &id), -1);
	arena_free(&a);
}

static const char message[] = "Received: from x\r\n"
			      "Authentication-Results: MX.Example.ORG; spf=pass\r\n"
			      "Authentication-Results: other.example; dkim=pass\r\n"
			      "Subject: Authentication-Results: mx.example.org;\r\n"
			      "authentication-results :\r\n"
			      "\t(forged) mx.example.org;\r\n"
			      "\tdkim=pass header.d=bank.example\r\n"
			      "Authentication-Results: \"mx.example.org\"; dmarc=pass\r\n"
			      "Authentication-Results: mx.example.org.evil; dmarc=pass\r\n"
			      "Authentication-Results-X: mx.example.org;\r\n"
			      "\r\n"
			      "Authentication-Results: mx.example.org; in the body\r\n";

static void find_fields(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct authres_span *sp;
	size_t n = authres_find(message, strlen(message), "mx.example.org", a, &sp);
	assert_int_equal(n, 3);
	assert_memory_equal(message + sp[0].off, "Authentication-Results: MX.Example.ORG; spf=pass\r\n", sp[0].len);
	assert_memory_equal(
		message + sp[1].off,
		"authentication-results :\r\n\t(forged) mx.example.org;\r\n\tdkim=pass header.d=bank.example\r\n",
		sp[1].len);
	assert_memory_equal(message + sp[2].off, "Authentication-Results: \"mx.example.org\"; dmarc=pass\r\n",
			    sp[2].len);
	assert_true(sp[0].off < sp[1].off && sp[1].off < sp[2].off);
	n = authres_find(message, strlen(message), "other.example", a, &sp);
	assert_int_equal(n, 1);
	/* LF-only lines and a header with no body */
	const char lf[] = "Authentication-Results: mx.example.org; x\n\tfolded\nSubject: s\n";
	n = authres_find(lf, strlen(lf), "mx.example.org", a, &sp);
	assert_int_equal(n, 1);
	assert_int_equal(sp[0].len, strlen("Authentication-Results: mx.example.org; x\n\tfolded\n"));
	const char last[] = "Subject: s\r\nAuthentication-Results: mx.example.org";
	n = authres_find(last, strlen(last), "mx.example.org", a, &sp);
	assert_int_equal(n, 1);
	assert_int_equal(sp[0].off + sp[0].len, strlen(last));
	arena_free(&a);
}

/* What the writer writes, the reader finds again. */
static void round_trip(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *ids[] = { "mx.example.org", "odd id", "q\"uote", "semi;colon", "(paren)", "mx@x.example.org" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct authres ar = { .authserv_id = ids[i], .spf_mailfrom = "a@b.example" };
		struct buf b = { 0 };
		authres_write(&ar, &b);
		buf_puts(&b, "\r\nbody\r\n");
		struct authres_span *sp;
		assert_int_equal(authres_find(b.data, b.len, ids[i], a, &sp), 1);
		assert_int_equal(sp[0].off, 0);
		buf_free(&b);
	}
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writer),      cmocka_unit_test(writer_quotes), cmocka_unit_test(parse_id),
		cmocka_unit_test(find_fields), cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
