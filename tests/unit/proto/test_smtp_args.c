/* test_smtp_args.c: MAIL FROM / RCPT TO parsing, canonical mailboxes, parameters,
 * and the relay-probe address forms (they must parse to what the store will see). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "smtp_args.h"

#include <stdio.h>
#include <string.h>

static struct smtp_mail_args mail_ok(const char *arg)
{
	struct smtp_mail_args m;
	struct smtp_error e;
	if (smtp_parse_mail(BYTES_STR(arg), true, &m, &e) < 0)
		fail_msg("MAIL %s: %d %s %s", arg, e.code, e.enh, e.text);
	return m;
}

static int mail_err(const char *arg)
{
	struct smtp_mail_args m;
	struct smtp_error e = { 0 };
	assert_int_equal(smtp_parse_mail(BYTES_STR(arg), true, &m, &e), -1);
	return e.code;
}

static struct smtp_rcpt_args rcpt_ok(const char *arg, bool utf8)
{
	struct smtp_rcpt_args r;
	struct smtp_error e;
	if (smtp_parse_rcpt(BYTES_STR(arg), utf8, &r, &e) < 0)
		fail_msg("RCPT %s: %d %s %s", arg, e.code, e.enh, e.text);
	return r;
}

static int rcpt_err(const char *arg)
{
	struct smtp_rcpt_args r;
	struct smtp_error e = { 0 };
	assert_int_equal(smtp_parse_rcpt(BYTES_STR(arg), false, &r, &e), -1);
	return e.code;
}

static void test_mail_basic(void **state)
{
	struct smtp_mail_args m = mail_ok("FROM:<Alice@Example.TEST>");
	assert_string_equal(m.from.mailbox, "Alice@example.test"); /* domain lower case, local part kept */
	assert_int_equal(m.from.local.len, 5);
	assert_int_equal(m.from.domain.len, 12);
	assert_false(m.null_path);
	m = mail_ok("from: <a@b.c>"); /* the common leniency: a space after the colon */
	assert_string_equal(m.from.mailbox, "a@b.c");
	m = mail_ok("FROM:<>");
	assert_true(m.null_path);
	assert_string_equal(m.from.mailbox, "");
	m = mail_ok("FROM:<@relay.example,@other.example:user@final.example>");
	assert_string_equal(m.from.mailbox, "user@final.example"); /* source route dropped */
	m = mail_ok("FROM:<\"john.doe\"@x.org>");
	assert_string_equal(m.from.mailbox, "john.doe@x.org"); /* needless quotes removed */
	m = mail_ok("FROM:<\"john doe\"@x.org>");
	assert_string_equal(m.from.mailbox, "\"john doe\"@x.org");
	m = mail_ok("FROM:<\"a\\\"b\"@x.org>");
	assert_string_equal(m.from.mailbox, "\"a\\\"b\"@x.org");
	m = mail_ok("FROM:<a@[192.0.2.1]>");
	assert_true(m.from.domain_literal);
	m = mail_ok("FROM:<a@[IPv6:2001:db8::1]>");
	assert_true(m.from.domain_literal);
}

static void test_mail_params(void **state)
{
	struct smtp_mail_args m = mail_ok("FROM:<a@b.c> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=QQ+2B1 SMTPUTF8");
	assert_true(m.has_size);
	assert_int_equal(m.size, 1000);
	assert_int_equal(m.body, SMTP_BODY_8BITMIME);
	assert_int_equal(m.ret, SMTP_RET_HDRS);
	assert_true(bytes_eq(m.envid, "QQ+2B1"));
	assert_true(m.smtputf8);
	m = mail_ok("FROM:<a@b.c> body=binarymime size=0");
	assert_int_equal(m.body, SMTP_BODY_BINARYMIME);
	m = mail_ok("FROM:<a@b.c> AUTH=<>");
	assert_true(bytes_eq(m.auth, "<>"));
	assert_int_equal(mail_err("FROM:<a@b.c> SIZE=abc"), 555);
	assert_int_equal(mail_err("FROM:<a@b.c> SIZE=1 SIZE=2"), 555);
	assert_int_equal(mail_err("FROM:<a@b.c> BODY=9BIT"), 555);
	assert_int_equal(mail_err("FROM:<a@b.c> FROBNICATE"), 555);
	assert_int_equal(mail_err("FROM:<a@b.c> RET=ALL"), 555);
	assert_int_equal(mail_err("FROM:<a@b.c> ENVID=a=b"), 555);
	assert_int_equal(mail_err("FROM:<a@b.c> ENVID=+4"), 555);
	assert_int_equal(mail_err("FROM:<a@b.c> =x"), 555);
}

static void test_mail_errors(void **state)
{
	assert_int_equal(mail_err(""), 501);
	assert_int_equal(mail_err("FROM"), 501);
	assert_int_equal(mail_err("TO:<a@b.c>"), 501);
	assert_int_equal(mail_err("FROM:a@b.c"), 501);      /* no angle brackets */
	assert_int_equal(mail_err("FROM:<a@b.c"), 501);
	assert_int_equal(mail_err("FROM:<a>"), 501);        /* no domain */
	assert_int_equal(mail_err("FROM:<@b.c>"), 501);
	assert_int_equal(mail_err("FROM:<a..b@c.d>"), 501);
	assert_int_equal(mail_err("FROM:<.a@c.d>"), 501);
	assert_int_equal(mail_err("FROM:<a.@c.d>"), 501);
	assert_int_equal(mail_err("FROM:<a@-c.d>"), 501);
	assert_int_equal(mail_err("FROM:<a@c.d.>"), 501);   /* trailing dot */
	assert_int_equal(mail_err("FROM:<a@c..d>"), 501);
	assert_int_equal(mail_err("FROM:<a b@c.d>"), 501);
	assert_int_equal(mail_err("FROM:<a@b.c>x"), 501);
	assert_int_equal(mail_err("FROM:<\"unterminated@b.c>"), 501);
	assert_int_equal(mail_err("FROM:<a@[1.2.3.4>"), 501);
	assert_int_equal(mail_err("FROM:<a@[1.2 3.4]>"), 501);
	/* RFC 5321 §4.5.3.1.1: a local part of 65 octets is too long */
	char buf[200];
	snprintf(buf, sizeof(buf), "FROM:<%s@b.c>", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(mail_err(buf), 501);
	/* a NUL anywhere */
	struct smtp_mail_args m;
	struct smtp_error e;
	assert_int_equal(smtp_parse_mail((struct bytes){ "FROM:<a@b\0.c>", 14 }, true, &m, &e), -1);
	/* non-ASCII without SMTPUTF8 */
	assert_int_equal(mail_err("FROM:<j\xc3\xb6rg@b.c>"), 553);
	m = mail_ok("FROM:<j\xc3\xb6rg@b\xc3\xbc.c> SMTPUTF8");
	assert_true(m.from.utf8);
}

static void test_rcpt(void **state)
{
	struct smtp_rcpt_args r = rcpt_ok("TO:<Bob@EXAMPLE.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+40example.test", false);
	assert_string_equal(r.to.mailbox, "Bob@example.test");
	assert_int_equal(r.notify, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE);
	assert_true(bytes_eq(r.orcpt, "rfc822;bob+40example.test"));
	r = rcpt_ok("TO:<Postmaster>", false);
	assert_true(r.postmaster);
	r = rcpt_ok("TO:<postmaster@example.test>", false);
	assert_false(r.postmaster);
	r = rcpt_ok("TO:<a@b.c> NOTIFY=NEVER", false);
	assert_int_equal(r.notify, SMTP_NOTIFY_NEVER);
	assert_int_equal(rcpt_err("TO:<a@b.c> NOTIFY=NEVER,SUCCESS"), 555);
	assert_int_equal(rcpt_err("TO:<a@b.c> NOTIFY=SUCCESS,SUCCESS"), 555);
	assert_int_equal(rcpt_err("TO:<a@b.c> NOTIFY="), 555);
	assert_int_equal(rcpt_err("TO:<a@b.c> ORCPT=rfc822"), 555);
	assert_int_equal(rcpt_err("TO:<a@b.c> SIZE=10"), 555);
	assert_int_equal(rcpt_err("TO:<>"), 501);
	assert_int_equal(rcpt_err("FROM:<a@b.c>"), 501);
	assert_int_equal(rcpt_err("TO:<j\xc3\xb6rg@b.c>"), 553); /* without SMTPUTF8 */
	r = rcpt_ok("TO:<j\xc3\xb6rg@b.c>", true);
	assert_true(r.to.utf8);
}

/* Classic open-relay probes: each either fails to parse, or parses to an address
 * whose domain is exactly what routing will look at, never to a hidden remote one. */
static void test_relay_probes(void **state)
{
	struct { const char *arg; const char *mailbox; } ok[] = {
		{ "TO:<user%remote.example@example.test>", "user%remote.example@example.test" },
		{ "TO:<@example.test:user@remote.example>", "user@remote.example" },
		{ "TO:<\"user@remote.example\"@example.test>", "\"user@remote.example\"@example.test" },
		{ "TO:<user@EXAMPLE.TEST>", "user@example.test" },
		{ "TO:<user!remote.example@example.test>", "user!remote.example@example.test" },
		{ "TO:<remote.example!user@example.test>", "remote.example!user@example.test" },
		{ "TO:<user@[127.0.0.1]>", "user@[127.0.0.1]" },
		{ "TO:<\"user%remote.example\"@example.test>", "user%remote.example@example.test" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct smtp_rcpt_args r = rcpt_ok(ok[i].arg, false);
		assert_string_equal(r.to.mailbox, ok[i].mailbox);
	}
	const char *bad[] = {
		"TO:<user@example.test.>", "TO:<user@remote.example@example.test>", "TO:<user@>",
		"TO:<example.test:user@remote.example>", "TO:user@remote.example", "TO:<user@remote.example> <x@y.z>",
		"TO:<user@remote.example\r\n>", "TO:<user@(comment)example.test>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rcpt_err(bad[i]) >= 500, 1);
}

static void test_mailbox(void **state)
{
	struct smtp_mailbox mb;
	assert_int_equal(smtp_parse_mailbox(BYTES("Demo@Example.Test"), false, &mb), 1);
	assert_string_equal(mb.mailbox, "Demo@example.test");
	assert_int_equal(smtp_parse_mailbox(BYTES("demo@example.test "), false, &mb), -1);
	assert_int_equal(smtp_parse_mailbox(BYTES("demo"), false, &mb), -1);
	assert_true(smtp_xtext_valid(BYTES("abc+2B+3D")));
	assert_false(smtp_xtext_valid(BYTES("abc+2")));
	assert_false(smtp_xtext_valid(BYTES("abc+zz")));
	assert_false(smtp_xtext_valid(BYTES("a b")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_basic),  cmocka_unit_test(test_mail_params),
		cmocka_unit_test(test_mail_errors), cmocka_unit_test(test_rcpt),
		cmocka_unit_test(test_relay_probes), cmocka_unit_test(test_mailbox),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
