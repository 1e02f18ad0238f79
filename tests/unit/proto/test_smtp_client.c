/* test_smtp_client.c: the client-side SMTP codecs: the reply parser fed whole and one
 * byte at a time, malformed replies, the EHLO reader and dot-stuffing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_client.h"

/* Feeds s in pieces of `step` bytes; returns the result of the last feed and the
 * total consumed. */
static int feed(struct smtp_reply_parser *p, const char *s, size_t step, size_t *used_total, const char **err)
{
	size_t len = strlen(s), pos = 0;
	int r = 0;
	*used_total = 0;
	while (pos < len) {
		size_t n = len - pos < step ? len - pos : step, used = 0;
		r = smtp_reply_feed(p, (struct bytes){ s + pos, n }, &used, err);
		*used_total += used;
		if (r != 0)
			return r;
		assert_int_equal(used, n);
		pos += n;
	}
	return r;
}

static void test_single_line(void **state)
{
	for (size_t step = 1; step < 8; step++) {
		struct smtp_reply_parser p;
		smtp_reply_init(&p);
		size_t used;
		const char *err = NULL;
		assert_int_equal(feed(&p, "250 2.1.0 Ok\r\n", step, &used, &err), 1);
		assert_int_equal(used, 14);
		assert_int_equal(p.reply.code, 250);
		assert_string_equal(p.reply.enh, "2.1.0");
		assert_string_equal(buf_str(&p.reply.text), "2.1.0 Ok");
		smtp_reply_free(&p);
	}
}

static void test_multi_line_byte_at_a_time(void **state)
{
	const char *in = "250-mx.example.org Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n"
			 "550 5.1.1 <x@y>: no such user\r\n";
	struct smtp_reply_parser p;
	smtp_reply_init(&p);
	size_t pos = 0, len = strlen(in);
	int replies = 0;
	while (pos < len) {
		size_t used = 0;
		const char *err = NULL;
		int r = smtp_reply_feed(&p, (struct bytes){ in + pos, 1 }, &used, &err);
		assert_true(r >= 0);
		assert_int_equal(used, 1);
		pos++;
		if (r == 1) {
			replies++;
			if (replies == 1) {
				assert_int_equal(p.reply.code, 250);
				assert_int_equal(p.reply.nlines, 4);
				assert_string_equal(buf_str(&p.reply.text),
						    "mx.example.org Hello\nPIPELINING\nSIZE 10240000\nSTARTTLS");
				struct smtp_ehlo e;
				smtp_ehlo_parse(buf_str(&p.reply.text), &e);
				assert_true(e.pipelining);
				assert_true(e.starttls);
				assert_true(e.has_size);
				assert_int_equal(e.size, 10240000);
				assert_false(e.dsn);
				assert_false(e.eightbitmime);
			} else {
				assert_int_equal(p.reply.code, 550);
				assert_string_equal(p.reply.enh, "5.1.1");
			}
		}
	}
	assert_int_equal(replies, 2);
	smtp_reply_free(&p);
}

static void test_leaves_rest(void **state)
{
	struct smtp_reply_parser p;
	smtp_reply_init(&p);
	const char *in = "354 go ahead\n250 ok\r\n"; /* bare LF accepted */
	size_t used;
	const char *err;
	assert_int_equal(smtp_reply_feed(&p, (struct bytes){ in, strlen(in) }, &used, &err), 1);
	assert_int_equal(used, 13);
	assert_int_equal(p.reply.code, 354);
	assert_string_equal(p.reply.enh, "");
	assert_int_equal(smtp_reply_feed(&p, (struct bytes){ in + used, strlen(in) - used }, &used, &err), 1);
	assert_int_equal(p.reply.code, 250);
	assert_string_equal(buf_str(&p.reply.text), "ok");
	/* a bare code is a complete last line */
	assert_int_equal(smtp_reply_feed(&p, BYTES("221\r\n"), &used, &err), 1);
	assert_int_equal(p.reply.code, 221);
	smtp_reply_free(&p);
}

static void test_malformed(void **state)
{
	const char *bad[] = { "hello\r\n", "25 x\r\n", "250x\r\n", "250-a\r\n251 b\r\n", "650 x\r\n", "abc def\r\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct smtp_reply_parser p;
		smtp_reply_init(&p);
		size_t used;
		const char *err = NULL;
		assert_int_equal(feed(&p, bad[i], 1, &used, &err), -1);
		assert_non_null(err);
		smtp_reply_free(&p);
	}
	/* an endless line */
	struct smtp_reply_parser p;
	smtp_reply_init(&p);
	char big[SMTP_REPLY_LINE_MAX + 10];
	memset(big, 'a', sizeof(big));
	memcpy(big, "250 ", 4);
	size_t used;
	const char *err = NULL;
	assert_int_equal(smtp_reply_feed(&p, (struct bytes){ big, sizeof(big) }, &used, &err), -1);
	smtp_reply_free(&p);
}

static void test_enhanced_code(void **state)
{
	char enh[16];
	assert_int_equal(smtp_enhanced_code("4.7.1 try later", 15, enh), 1);
	assert_string_equal(enh, "4.7.1");
	assert_int_equal(smtp_enhanced_code("5.1.10", 6, enh), 1);
	assert_string_equal(enh, "5.1.10");
	assert_int_equal(smtp_enhanced_code("3.1.1 x", 7, enh), 0);
	assert_int_equal(smtp_enhanced_code("5.1 x", 5, enh), 0);
	assert_int_equal(smtp_enhanced_code("5.1.1x", 6, enh), 0);
}

static void test_ehlo_parse(void **state)
{
	struct smtp_ehlo e;
	smtp_ehlo_parse("mx Hi\n8bitmime\nDSN\nsmtputf8\nENHANCEDSTATUSCODES\nCHUNKING\nSIZE\nAUTH PLAIN", &e);
	assert_true(e.eightbitmime && e.dsn && e.smtputf8 && e.enhancedstatuscodes && e.chunking && e.has_size);
	assert_int_equal(e.size, 0);
	assert_false(e.starttls || e.pipelining);
	assert_true(e.auth_plain);
	smtp_ehlo_parse("only a greeting", &e);
	assert_false(e.has_size || e.dsn || e.auth_plain);
}

/* AUTH (RFC 4954 §3) with PLAIN among its mechanisms, in either case and in the old
 * "AUTH=" form; not a mechanism that merely contains PLAIN, nor an empty list */
static void test_ehlo_auth(void **state)
{
	static const struct {
		const char *text;
		bool plain;
	} cases[] = {
		{ "mx\nAUTH LOGIN PLAIN", true },
		{ "mx\nauth plain", true },
		{ "mx\nAUTH=LOGIN PLAIN", true },
		{ "mx\nAUTH SCRAM-SHA-256 LOGIN", false },
		{ "mx\nAUTH PLAINX XPLAIN", false },
		{ "mx\nAUTH", false },
		{ "mx\nAUTH ", false },
		{ "mx\nAUTHPLAIN", false },
		{ "mx\nX-AUTH PLAIN", false },
		{ "mx\nAUTH CRAM-MD5\nAUTH=PLAIN", true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_ehlo e;
		smtp_ehlo_parse(cases[i].text, &e);
		if (e.auth_plain != cases[i].plain)
			fail_msg("%s: %d", cases[i].text, e.auth_plain);
	}
}

/* The AUTH PLAIN initial response: RFC 4616 §4's example, and a password with the
 * characters a config line can hold (':' '@' '"' '\\' '+' '/' '=' UTF-8, a space),
 * checked against Python's base64 of "\0user\0password" */
static void test_auth_plain(void **state)
{
	struct buf b = { 0 };
	assert_int_equal(smtp_auth_plain("tim", "tanstaaftanstaaf", &b), 1);
	assert_string_equal(buf_str(&b), "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
	buf_free(&b);
	assert_int_equal(smtp_auth_plain("relay@example.net", "p@ss:w\xc3\xb6rd \"x\" +/=\\", &b), 1);
	assert_string_equal(buf_str(&b), "AHJlbGF5QGV4YW1wbGUubmV0AHBAc3M6d8O2cmQgIngiICsvPVw=");
	buf_free(&b);
	assert_int_equal(smtp_auth_plain("", "x", &b), -1);
	assert_int_equal(smtp_auth_plain("u", "", &b), -1);
	assert_int_equal(b.len, 0);
}

static void stuff(const char *in, const char *want)
{
	struct buf b = { 0 };
	smtp_dot_stuff((struct bytes){ in, strlen(in) }, &b);
	assert_string_equal(buf_str(&b), want);
	buf_free(&b);
}

static void test_dot_stuff(void **state)
{
	stuff("a\r\n.b\r\n..\r\n.\r\n", "a\r\n..b\r\n...\r\n..\r\n.\r\n");
	stuff(".x\r\n", "..x\r\n.\r\n");
	stuff("no end", "no end\r\n.\r\n");
	stuff("", ".\r\n");
	stuff("a.b\r\n", "a.b\r\n.\r\n");
}

/* Outside review, finding 6: every line ending goes out as CRLF, so a receiver that
 * ends lines (or the data) on a bare CR or LF sees what a strict one sees. */
static void test_dot_stuff_bare_line_ends(void **state)
{
	stuff("hello\r.\r\nMAIL FROM:<x@y>\r\n", "hello\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n");
	stuff("x\n.\nMAIL", "x\r\n..\r\nMAIL\r\n.\r\n");
	stuff("a\r\n.\r", "a\r\n..\r\n.\r\n");
	stuff("a\n.\r\n", "a\r\n..\r\n.\r\n");
	stuff("a\r\n.\n", "a\r\n..\r\n.\r\n");
	stuff("a\r\r\nb", "a\r\n\r\nb\r\n.\r\n");
	stuff("a\n\rb", "a\r\n\r\nb\r\n.\r\n");
	stuff("\r", "\r\n.\r\n");
	stuff("\n", "\r\n.\r\n");
	stuff(".", "..\r\n.\r\n");
	stuff("a\r", "a\r\n.\r\n");
}

/* Whatever the input, the output is CRLF lines only, and CRLF "." CRLF occurs exactly
 * once, at the end: every input of up to 6 bytes over the alphabet that matters. */
static void test_dot_stuff_exhaustive(void **state)
{
	static const char alpha[] = { '\r', '\n', '.', 'a' };
	char in[6];
	for (size_t len = 0; len <= sizeof(in); len++) {
		size_t total = 1;
		for (size_t i = 0; i < len; i++)
			total *= sizeof(alpha);
		for (size_t k = 0; k < total; k++) {
			size_t v = k;
			for (size_t i = 0; i < len; i++, v /= sizeof(alpha))
				in[i] = alpha[v % sizeof(alpha)];
			struct buf b = { 0 };
			smtp_dot_stuff((struct bytes){ in, len }, &b);
			const char *o = buf_str(&b);
			for (size_t i = 0; i < b.len; i++) {
				if (o[i] == '\r')
					assert_true(i + 1 < b.len && o[i + 1] == '\n');
				if (o[i] == '\n')
					assert_true(i > 0 && o[i - 1] == '\r');
			}
			const char *end = strstr(o, "\r\n.\r\n");
			if (end != NULL)
				assert_ptr_equal(end, o + b.len - 5);
			else
				assert_string_equal(o, ".\r\n");
			assert_true(b.len == 3 || strncmp(o, ".\r\n", 3) != 0);
			buf_free(&b);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_line),
		cmocka_unit_test(test_multi_line_byte_at_a_time),
		cmocka_unit_test(test_leaves_rest),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_enhanced_code),
		cmocka_unit_test(test_ehlo_parse),
		cmocka_unit_test(test_dot_stuff),
		cmocka_unit_test(test_ehlo_auth),
		cmocka_unit_test(test_auth_plain),
		cmocka_unit_test(test_dot_stuff_bare_line_ends),
		cmocka_unit_test(test_dot_stuff_exhaustive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
