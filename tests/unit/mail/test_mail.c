/* test_mail.c: the mail module's helpers (CRLF normalisation, IMAP strings, part
 * table storage, header lookup and decoding, dates, message ids, case-folded search,
 * decoded bodies) and robustness: random garbage, 10,000 parts, deep nesting and huge
 * header lines parse quickly, never crash, and every part range stays inside the
 * message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <glib.h>

#include "arena.h"
#include "mail.h"

static void test_normalize(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } cases[] = {
		{ "", "" }, { "a", "a" }, { "a\n", "a\r\n" }, { "a\r\n", "a\r\n" },
		{ "\n\n", "\r\n\r\n" }, { "a\rb", "a\rb" }, { "a\r", "a\r\n" },
		{ "x\r\ny\nz", "x\r\ny\r\nz" }, { "\r\r\n", "\r\r\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out;
		size_t n = mail_normalize_crlf(cases[i].in, strlen(cases[i].in), &out);
		assert_int_equal(n, strlen(cases[i].out));
		assert_string_equal(out, cases[i].out);
		free(out);
	}
	char *out;
	size_t n = mail_normalize_crlf("a\0b\n", 4, &out);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "a\0b\r\n", 5);
	free(out);
}

static void test_imap_string(void **state)
{
	(void)state;
	struct buf b = { 0 };
	mail_imap_string(&b, NULL, 0);
	assert_string_equal(buf_str(&b), "NIL");
	buf_reset(&b);
	mail_imap_string(&b, "a \"q\" \\", 7); /* a literal, as Dovecot writes it */
	assert_string_equal(buf_str(&b), "{7}\r\na \"q\" \\");
	buf_reset(&b);
	mail_imap_string(&b, "plain text", 10);
	assert_string_equal(buf_str(&b), "\"plain text\"");
	buf_reset(&b);
	mail_imap_string(&b, "caf\xc3\xa9", 5);
	assert_string_equal(buf_str(&b), "{5}\r\ncaf\xc3\xa9");
	buf_reset(&b);
	mail_imap_string(&b, "a\r\nb", 4);
	assert_string_equal(buf_str(&b), "\"a  b\"");
	buf_free(&b);
}

static const char *mp =
	"From: =?utf-8?q?J=C3=B6rg?= <j@x.test>\r\n"
	"To: a@b.test, \"Doe, J\" <d@b.test>\r\n"
	"Subject: =?iso-8859-1?q?Gr=FC=DFe?= and more\r\n"
	"X-Multi: one\r\n"
	"X-Multi: two\r\n folded\r\n"
	"Date: Fri, 13 Mar 2026 23:59:59 -0230\r\n"
	"References: <a@x> <b@x>\r\n <c@x>\r\n"
	"Content-Type: multipart/mixed; boundary=B\r\n"
	"\r\n"
	"--B\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Stra=DFe und Gr=FC=DFe\r\n"
	"--B\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"PHA+SMOkbGxvICZhbXA7IFdlbHQ8L3A+\r\n"
	"--B--\r\n";

static void test_parse_helpers(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	size_t len = strlen(mp);
	struct mail_info *mi = mail_parse(a, mp, len);
	assert_string_equal(mi->subject, "Grüße and more");
	assert_string_equal(mi->from, "Jörg <j@x.test>");
	assert_string_equal(mi->to, "a@b.test, Doe, J <d@b.test>");
	assert_int_equal(mi->date_tz, -150);
	assert_int_equal(mi->date, 1773455399);
	assert_int_equal(mi->nparts, 3);
	assert_string_equal(mi->preview, "Straße und Grüße");
	/* part table round trip */
	const char *enc = mail_parts_encode(a, mi->parts, mi->nparts);
	struct mail_part *parts;
	size_t n;
	assert_int_equal(mail_parts_decode(a, enc, &parts, &n), 1);
	assert_int_equal(n, mi->nparts);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(parts[i].section, mi->parts[i].section);
		assert_int_equal(parts[i].body_off, mi->parts[i].body_off);
		assert_int_equal(parts[i].body_len, mi->parts[i].body_len);
		assert_string_equal(parts[i].charset, mi->parts[i].charset);
	}
	assert_int_equal(mail_parts_decode(a, "garbage\n", &parts, &n), -1);
	assert_int_equal(mail_parts_decode(a, "no newline", &parts, &n), -1);
	const struct mail_part *p2 = mail_part_find(mi->parts, mi->nparts, "2");
	assert_non_null(p2);
	assert_null(mail_part_find(mi->parts, mi->nparts, "3"));
	assert_null(mail_part_find(mi->parts, mi->nparts, "1.1"));
	struct buf t = { 0 };
	mail_part_text(mp, len, p2, true, &t);
	assert_string_equal(buf_str(&t), " Hällo & Welt ");
	buf_reset(&t);
	mail_part_binary(mp, len, p2, &t);
	assert_string_equal(buf_str(&t), "<p>H\xc3\xa4llo &amp; Welt</p>");
	buf_reset(&t);
	mail_part_binary(mp, len, mail_part_find(mi->parts, mi->nparts, "1"), &t);
	assert_string_equal(buf_str(&t), "Stra\xdf""e und Gr\xfc\xdf""e"); /* still ISO-8859-1 */
	buf_reset(&t);
	mail_body_text(mp, len, mi->parts, mi->nparts, &t);
	assert_non_null(strstr(buf_str(&t), "Straße und Grüße"));
	assert_non_null(strstr(buf_str(&t), "Hällo & Welt"));
	buf_reset(&t);
	/* header lookups */
	assert_int_equal(mail_header_values(mp, mi->header_len, "x-multi", &t), 2);
	assert_string_equal(buf_str(&t), "one\ntwo folded\n");
	buf_reset(&t);
	assert_int_equal(mail_header_values(mp, mi->header_len, "Subject", &t), 1);
	assert_string_equal(buf_str(&t), "Grüße and more\n");
	buf_reset(&t);
	assert_int_equal(mail_header_values_raw(mp, mi->header_len, "Subject", &t), 1);
	assert_string_equal(buf_str(&t), "=?iso-8859-1?q?Gr=FC=DFe?= and more\n");
	buf_reset(&t);
	assert_int_equal(mail_header_values(mp, mi->header_len, "X-None", &t), 0);
	buf_free(&t);
	const char **ids = mail_msgids(a, mi->references, 10);
	assert_string_equal(ids[0], "<a@x>");
	assert_string_equal(ids[2], "<c@x>");
	assert_null(ids[3]);
	ids = mail_msgids(a, "  bare-id@x  ", 4);
	assert_string_equal(ids[0], "bare-id@x");
	assert_null(mail_msgids(a, "", 4)[0]);
	arena_free(&a);
}

static void test_sections(void **state)
{
	(void)state;
	const char *m =
		"Subject: outer\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
		"--B\r\nContent-Type: text/plain\r\n\r\none\r\n"
		"--B\r\nContent-Type: message/rfc822\r\n\r\n"
		"Subject: inner\r\n\r\ninner text\r\n"
		"--B--\r\n";
	size_t len = strlen(m);
	struct arena *a = arena_new();
	struct mail_info *mi = mail_parse(a, m, len);
	uint64_t off, n;
#define SEC(spec, want) do { \
		assert_int_equal(mail_section_range(mi->parts, mi->nparts, spec, &off, &n), 1); \
		assert_int_equal(n, strlen(want)); \
		assert_memory_equal(m + off, want, n); \
	} while (0)
	SEC("", m);
	SEC("HEADER", "Subject: outer\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n");
	SEC("header.fields", "Subject: outer\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n");
	SEC("1", "one");
	SEC("1.MIME", "Content-Type: text/plain\r\n\r\n");
	SEC("2", "Subject: inner\r\n\r\ninner text");
	SEC("2.HEADER", "Subject: inner\r\n\r\n");
	SEC("2.TEXT", "inner text");
	SEC("2.1", "inner text");
	SEC("2.1.MIME", "Subject: inner\r\n\r\n");
	assert_int_equal(mail_section_range(mi->parts, mi->nparts, "3", &off, &n), 0);
	assert_int_equal(mail_section_range(mi->parts, mi->nparts, "1.TEXT", &off, &n), 0);
	assert_int_equal(mail_section_range(mi->parts, mi->nparts, "2.1.1", &off, &n), 0);
	static const char *const bad[] = { "0", "1.", ".1", "01", "1..2", "MIME", "BOGUS", "1.FOO", "1x", "1.2.3.", NULL };
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(mail_section_range(mi->parts, mi->nparts, bad[i], &off, &n), -1);
	arena_free(&a);
	/* a single-part message: BODY[1] is its body, [1.MIME] its header */
	const char *single = "Subject: s\r\n\r\nbody\r\n";
	a = arena_new();
	mi = mail_parse(a, single, strlen(single));
	m = single;
	SEC("1", "body\r\n");
	SEC("TEXT", "body\r\n");
	SEC("1.MIME", "Subject: s\r\n\r\n");
#undef SEC
	arena_free(&a);
}

static void test_search_helpers(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *needle = mail_casefold(a, "GRÜSSE", strlen("GRÜSSE"));
	assert_true(mail_text_contains(a, "viele grüsse", strlen("viele grüsse"), needle));
	const char *n2 = mail_casefold(a, "straße", strlen("straße"));
	assert_true(mail_text_contains(a, "STRASSE", 7, n2)); /* full case folding */
	assert_false(mail_text_contains(a, "strase", 6, n2));
	assert_true(mail_text_contains(a, "x", 1, ""));
	assert_true(mail_text_contains(a, "bad \xff utf8 Hello", 16, mail_casefold(a, "hello", 5)));
	assert_string_equal(mail_decode_header(a, "=?utf-8?b?w6TDtsO8?="), "äöü");
	assert_string_equal(mail_decode_header(a, "plain"), "plain");
	assert_string_equal(mail_decode_header(a, ""), "");
	int64_t t;
	int tz;
	assert_int_equal(mail_parse_date("Thu, 1 Jan 1970 00:00:00 +0000", &t, &tz), 1);
	assert_int_equal(t, 0);
	assert_int_equal(mail_parse_date("2 Mar 2026 12:00 GMT", &t, &tz), 1);
	assert_int_equal(t, 1772452800);
	assert_int_equal(mail_parse_date("not a date", &t, &tz), -1);
	assert_int_equal(mail_parse_date("", &t, &tz), -1);
	arena_free(&a);
}

/* The header text SEARCH TEXT and the index look at: fields unfolded (a Subject folded
 * after "12" is found as "12 zum Projekt"), 8-bit text decided line by line (a Latin-1
 * From does not spoil a UTF-8 Cc), RFC 2231 file names across continuations. */
static void test_header_text(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *m = "From: J\xfcrgen <j@example.org>\r\n"
			"Cc: J\xc3\xbcrgen M\xc3\xbcller <m@example.org>\r\n"
			"Subject: Angebot 12\r\n zum\r\n\tProjekt =?UTF-8?B?R3LDtg==?=\r\n =?UTF-8?B?w59l?=\r\n"
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\nContent-Type: text/plain\r\n\r\nText\r\n"
			"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
			" filename*0*=UTF-8''Pr%C3;\r\n filename*1*=%BCfbericht.pdf\r\n\r\nJVBERg==\r\n--b--\r\n";
	struct mail_info *mi = mail_parse(a, m, strlen(m));
	struct buf h = { 0 };
	mail_header_text(m, strlen(m), mi->header_len, mi->parts, mi->nparts, &h);
	const char *t = buf_str(&h);
	assert_non_null(strstr(t, "From: Jürgen <j@example.org>"));
	assert_non_null(strstr(t, "Cc: Jürgen Müller <m@example.org>"));
	assert_non_null(strstr(t, "Subject: Angebot 12 zum\tProjekt Größe"));
	assert_non_null(strstr(t, "Content-Disposition: attachment; filename*0*"));
	assert_non_null(strstr(t, "Prüfbericht.pdf\n"));
	assert_true(g_utf8_validate(t, (gssize)h.len, NULL));
	buf_free(&h);
	/* a single-part message's text once (it is the message "" and its part "1") */
	const char *single = "Subject: s\r\nContent-Type: text/plain\r\n\r\nonly once\r\n";
	mi = mail_parse(a, single, strlen(single));
	assert_true(mi->nparts >= 1);
	struct buf b = { 0 };
	mail_body_text(single, strlen(single), mi->parts, mi->nparts, &b);
	assert_string_equal(buf_str(&b), "only once \n\n"); /* CR as a space, as every control */
	buf_free(&b);
	arena_free(&a);
}

/* HTML parts' character references as SEARCH BODY reads them: named Latin-1 and
 * typographic ones (case-sensitive), numeric ones, no-break spaces as spaces; unknown
 * names, a missing ';' and bad numbers stay as written. */
static void test_html_entities(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	static const struct {
		const char *html, *text;
	} cases[] = {
		{ "Gr&uuml;&szlig;e", "Grüße" },
		{ "&Ouml;l &ouml;l &AElig;", "Öl öl Æ" },
		{ "5&nbsp;&euro; &bdquo;Zitat&ldquo; a&ndash;b &hellip;", "5 € „Zitat“ a–b …" },
		{ "&#252;&#xFC;&#XfC; &#160;x", "üüü  x" },
		{ "&amp;lt; &AMP; &quot;", "&lt; & \"" },
		{ "&OUML; &uuml &nosuch; &#; &#xD800; &#99999999999;", "&OUML; &uuml &nosuch; &#; &#xD800; &#99999999999;" },
		{ "&", "&" },
		{ "a &uu", "a &uu" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *m = arena_printf(a, "Content-Type: text/html; charset=utf-8\r\n\r\n<p>%s</p>", cases[i].html);
		struct mail_info *mi = mail_parse(a, m, strlen(m));
		struct buf b = { 0 };
		mail_body_text(m, strlen(m), mi->parts, mi->nparts, &b);
		char *want = arena_printf(a, " %s \n", cases[i].text);
		assert_string_equal(buf_str(&b), want);
		buf_free(&b);
	}
	arena_free(&a);
}

/* Every range in the part table must be inside the message. */
static void check_ranges(const struct mail_info *mi, size_t len)
{
	for (size_t i = 0; i < mi->nparts; i++) {
		const struct mail_part *p = &mi->parts[i];
		assert_true(p->hdr_off + p->hdr_len <= len);
		assert_true(p->body_off + p->body_len <= len);
		assert_true(p->msg_hdr_len <= p->body_len);
		assert_non_null(p->section);
	}
	assert_non_null(mi->envelope);
	assert_non_null(mi->bodystructure);
	assert_int_equal(mi->bodystructure[0], '(');
}

static void test_random_garbage(void **state)
{
	(void)state;
	srand(12345);
	static const char *frags[] = {
		"\r\n", "--b\r\n", "--b--\r\n", "--c\r\n", "Content-Type: multipart/mixed; boundary=b\r\n",
		"Content-Type: multipart/alternative; boundary=c\r\n", "Content-Type: message/rfc822\r\n",
		"Subject: =?utf-8?q?x?=\r\n", "From: \"a\" <b@c>, ;:,<<>>@@\r\n", " folded\r\n", "\0",
		"\xff\xfe", "text line\r\n", "Content-Transfer-Encoding: base64\r\n", "====\r\n",
		"To: g: a@b; c@d\r\n", "(((((\r\n", "\"unterminated\r\n", "\n", "\r",
		"Content-Disposition: attachment; filename*0*=x''%ZZ; filename*1=y\r\n",
	};
	size_t nf = sizeof(frags) / sizeof(frags[0]);
	for (int iter = 0; iter < 3000; iter++) {
		struct buf b = { 0 };
		int pieces = rand() % 60;
		for (int k = 0; k < pieces; k++) {
			const char *f = frags[rand() % nf];
			buf_append(&b, f, f[0] == '\0' ? 1 : strlen(f));
		}
		struct arena *a = arena_new();
		const char *data = b.data ? b.data : "";
		struct mail_info *mi = mail_parse(a, data, b.len);
		check_ranges(mi, b.len);
		struct buf t = { 0 };
		mail_body_text(data, b.len, mi->parts, mi->nparts, &t);
		buf_free(&t);
		arena_free(&a);
		buf_free(&b);
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_limits(void **state)
{
	(void)state;
	/* 10,000 parts */
	struct buf b = { 0 };
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=p\r\n\r\n");
	for (int i = 0; i < 10000; i++)
		buf_printf(&b, "--p\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i);
	buf_puts(&b, "--p--\r\n");
	struct arena *a = arena_new();
	double t0 = now_s();
	struct mail_info *mi = mail_parse(a, b.data, b.len);
	assert_true(now_s() - t0 < 5.0);
	check_ranges(mi, b.len);
	assert_true(mi->nparts <= MAIL_MAX_PARTS + 2);
	/* the last described part reaches the end: no byte is lost */
	const struct mail_part *last = &mi->parts[mi->nparts - 1];
	assert_true(last->body_off + last->body_len >= b.len - 20);
	arena_free(&a);
	buf_reset(&b);
	/* 100 levels of nesting, multipart and message/rfc822 mixed */
	for (int i = 0; i < 100; i++) {
		if (i % 2)
			buf_printf(&b, "Content-Type: message/rfc822\r\n\r\n");
		else
			buf_printf(&b, "Content-Type: multipart/mixed; boundary=n%d\r\n\r\n--n%d\r\n", i, i);
	}
	buf_puts(&b, "Content-Type: text/plain\r\n\r\ndeep\r\n");
	a = arena_new();
	mi = mail_parse(a, b.data, b.len);
	check_ranges(mi, b.len);
	arena_free(&a);
	buf_reset(&b);
	/* a 20 MB header line */
	buf_puts(&b, "Subject: ");
	for (int i = 0; i < 20 * 1024; i++) {
		char chunk[1024];
		memset(chunk, 'x', sizeof(chunk));
		buf_append(&b, chunk, sizeof(chunk));
	}
	buf_puts(&b, "\r\n\r\nbody\r\n");
	a = arena_new();
	t0 = now_s();
	mi = mail_parse(a, b.data, b.len);
	assert_true(now_s() - t0 < 5.0);
	check_ranges(mi, b.len);
	assert_true(strlen(mi->subject) <= MAIL_MAX_FIELD);
	assert_true(strlen(mi->envelope) < 2 * MAIL_MAX_FIELD);
	assert_string_equal(mi->preview, "body");
	arena_free(&a);
	buf_free(&b);
}

static void return_path(const char *sender, const char *in, const char *want)
{
	char *out;
	size_t n = mail_set_return_path(sender, in, strlen(in), &out);
	assert_int_equal(n, strlen(want));
	assert_string_equal(out, want);
	free(out);
}

/* RFC 5321 §4.4: one Return-Path, first, from the envelope; incoming ones removed. */
static void test_return_path(void **state)
{
	(void)state;
	return_path("a@b.test", "Subject: x\r\n\r\nbody\r\n", "Return-Path: <a@b.test>\r\nSubject: x\r\n\r\nbody\r\n");
	return_path("", "Subject: x\r\n\r\nbody\r\n", "Return-Path: <>\r\nSubject: x\r\n\r\nbody\r\n");
	return_path("a@b.test", "", "Return-Path: <a@b.test>\r\n");
	return_path("a@b.test", "Return-Path: <evil@x.test>\r\nSubject: x\r\n\r\nReturn-Path: <kept@body>\r\n",
		    "Return-Path: <a@b.test>\r\nSubject: x\r\n\r\nReturn-Path: <kept@body>\r\n");
	return_path("s@t", "To: y\r\nreturn-path :\r\n <evil@x>\r\n\tmore\r\nSubject: x\r\n\r\n",
		    "Return-Path: <s@t>\r\nTo: y\r\nSubject: x\r\n\r\n");
	return_path("s@t", "Return-Path-Not: x\r\nReturn-Paths: y\r\n\r\n",
		    "Return-Path: <s@t>\r\nReturn-Path-Not: x\r\nReturn-Paths: y\r\n\r\n");
	return_path("s@t", "Subject: x\r\n Return-Path: folded, kept\r\n\r\n",
		    "Return-Path: <s@t>\r\nSubject: x\r\n Return-Path: folded, kept\r\n\r\n");
	return_path("s@t", "Return-Path: <e@x>", "Return-Path: <s@t>\r\n");
	return_path("s@t\r\nX-Evil: 1", "\r\n", "Return-Path: <s@tX-Evil: 1>\r\n\r\n");
}

static void mailboxes(const char *msg, const char *field, int want_r, const char *want)
{
	struct arena *a = arena_new();
	const char **v;
	size_t n;
	int r = mail_header_mailboxes(a, msg, strlen(msg), field, &v, &n);
	assert_int_equal(r, want_r);
	char joined[512] = "";
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strcat(joined, ",");
		strcat(joined, v[i]);
	}
	assert_null(v[n]);
	assert_string_equal(joined, want);
	arena_free(&a);
}

/* The From:/Sender: mailboxes the sending policy checks (outside review, finding 8). */
static void test_header_mailboxes(void **state)
{
	(void)state;
	mailboxes("From: Bob <bob@x.test>\r\n\r\n", "From", 1, "bob@x.test");
	mailboxes("Subject: none\r\n\r\nFrom: a@b\r\n", "From", 0, "");
	mailboxes("From: a@x.test, \"B, C\" <b@x.test>\r\n\r\n", "From", 1, "a@x.test,b@x.test");
	mailboxes("From: a@x.test\r\nFROM: =?utf-8?q?B=C3=B6b?= <b@x.test>\r\n\r\n", "from", 2, "a@x.test,b@x.test");
	mailboxes("From: a@x.test\r\n (comment)\r\n\t, c@x.test\r\n\r\n", "From", 1, "a@x.test,c@x.test");
	mailboxes("From: team: a@x.test, b@x.test;\r\n\r\n", "From", 1, "a@x.test,b@x.test");
	mailboxes("Sender: s@x.test\r\nFrom: a@x.test\r\n\r\n", "Sender", 1, "s@x.test");
	mailboxes("From: \r\n\r\n", "From", 1, "");
}

/* want_addr NULL: not personal mail. */
static void personal(const char *msg, const char *want_addr, const char *want_name)
{
	struct arena *a = arena_new();
	const char *addr, *name;
	int r = mail_personal_sender(a, msg, strlen(msg), &addr, &name);
	if (want_addr == NULL) {
		assert_int_equal(r, 0);
		assert_null(addr);
	} else {
		assert_int_equal(r, 1);
		assert_string_equal(addr, want_addr);
		if (want_name == NULL)
			assert_null(name);
		else
			assert_string_equal(name, want_name);
	}
	arena_free(&a);
}

/* The names a sent message gives its envelope recipients (submit_data.c). */
static void test_recipient_names(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *msg = "From: me@x.test\r\nTo: Nina Nagel <NINA@x.test>, plain@x.test\r\n"
			  "Cc: =?utf-8?q?J=C3=B6rg?= <joerg@x.test>,\r\n \"Folded, Name\" <f@x.test>\r\n"
			  "Reply-To: Not Me <omar@x.test>\r\nSubject: To: Fake <bcc@x.test>\r\n\r\n"
			  "To: Body <body@x.test>\r\n";
	const char *addrs[] = { "nina@x.test", "plain@x.test", "joerg@x.test", "f@x.test", "omar@x.test", "body@x.test" };
	const char *names[6];
	mail_recipient_names(a, msg, strlen(msg), addrs, 6, names);
	assert_string_equal(names[0], "Nina Nagel");
	assert_null(names[1]);
	assert_string_equal(names[2], "J\xc3\xb6rg");
	assert_string_equal(names[3], "Folded, Name");
	assert_null(names[4]); /* Reply-To is not whom it was sent to */
	assert_null(names[5]); /* the body is not a header */
	mail_recipient_names(a, "", 0, addrs, 1, names);
	assert_null(names[0]);
	arena_free(&a);
}

/* Who received personal mail is from, for the contacts (store_deliver.c). */
static void test_personal_sender(void **state)
{
	(void)state;
	personal("From: =?utf-8?q?J=C3=B6rg?= Example <joerg@x.test>\r\nSubject: hi\r\n\r\nbody\r\n", "joerg@x.test",
		 "J\xc3\xb6rg Example");
	personal("Return-Path: <s@x.test>\r\nfrom: plain@x.test\r\n\r\n", "plain@x.test", NULL);
	personal("From: a@x.test\r\nAuto-Submitted: No\r\n\r\n", "a@x.test", NULL);
	personal("From: a@x.test\r\nPrecedence: first-class\r\n\r\n", "a@x.test", NULL);
	/* the body does not count */
	personal("From: a@x.test\r\n\r\nList-Id: <x>\r\n", "a@x.test", NULL);
	personal("From: a@x.test\r\nList-Id: <news.x.test>\r\n\r\n", NULL, NULL);
	personal("From: a@x.test\r\nlist-unsubscribe: <mailto:u@x.test>\r\n\r\n", NULL, NULL);
	personal("From: a@x.test\r\nList-Post: NO\r\n\r\n", NULL, NULL);
	personal("From: a@x.test\r\nPrecedence: bulk\r\n\r\n", NULL, NULL);
	personal("From: a@x.test\r\nPrecedence: LIST\r\n\r\n", NULL, NULL);
	personal("From: a@x.test\r\nAuto-Submitted: auto-generated\r\n\r\n", NULL, NULL);
	personal("From: a@x.test\r\nAuto-Submitted: auto-replied; owner-email=\"a@x.test\"\r\n\r\n", NULL, NULL);
	personal("From: Mail Delivery <MAILER-DAEMON@x.test>\r\n\r\n", NULL, NULL);
	personal("From: No-Reply@x.test\r\n\r\n", NULL, NULL);
	personal("From: a@x.test, b@x.test\r\n\r\n", NULL, NULL);
	personal("From: team: a@x.test;\r\n\r\n", NULL, NULL);
	personal("From: a@x.test\r\nFrom: b@x.test\r\n\r\n", NULL, NULL);
	personal("From: nobody\r\n\r\n", NULL, NULL);
	personal("Subject: no sender\r\n\r\n", NULL, NULL);
	personal("", NULL, NULL);
}

/* One leaf part with this encoding and body: its decoded size counted two ways
 * (exact from the body, estimated from the header alone) against the decoder. */
static void decoded_size(const char *enc, const char *body, uint64_t want, uint64_t want_est)
{
	char m[4096];
	snprintf(m, sizeof(m), "Content-Type: application/pdf\r\nContent-Transfer-Encoding: %s\r\n\r\n%s", enc, body);
	size_t len = strlen(m);
	struct arena *a = arena_new();
	struct mail_info *mi = mail_parse(a, m, len);
	assert_non_null(mi);
	const struct mail_part *p = &mi->parts[0];
	struct buf out = { 0 };
	mail_part_binary(m, len, p, &out);
	assert_int_equal(out.len, want); /* the decoder agrees with the expectation */
	assert_int_equal(mail_part_decoded_size(m, len, p), want);
	/* header only: the body is out of reach, the line count gives the estimate */
	assert_int_equal(mail_part_decoded_size(m, (size_t)p->body_off, p), want_est);
	buf_free(&out);
	arena_free(&a);
}

/* JMAP's attachment sizes (outside review, B10): base64 line breaks must not count. */
static void test_decoded_size(void **state)
{
	(void)state;
	char b64[4096] = "";
	/* 758 bytes of data: 253 groups of 4 (one "=" of padding), 76 per line */
	size_t chars = 0;
	while (chars < 1012) {
		size_t k = 1012 - chars < 76 ? 1012 - chars : 76;
		for (size_t i = 0; i < k; i++)
			strcat(b64, chars + i == 1011 ? "=" : "Q");
		strcat(b64, "\r\n");
		chars += k;
	}
	decoded_size("base64", b64, 758, 759);
	decoded_size("base64", "AAAA\r\nAA==\r\n", 4, 6);
	decoded_size("base64", "AAAA", 3, 3);
	decoded_size("BASE64", "", 0, 0);
	decoded_size("quoted-printable", "caf=C3=A9 =\r\nau lait\r\n", 15, 18);
	decoded_size("7bit", "plain\r\ntext\r\n", 13, 13);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_return_path),
		cmocka_unit_test(test_header_mailboxes),
		cmocka_unit_test(test_imap_string),
		cmocka_unit_test(test_parse_helpers),
		cmocka_unit_test(test_search_helpers),
		cmocka_unit_test(test_header_text),
		cmocka_unit_test(test_html_entities),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_decoded_size),
		cmocka_unit_test(test_random_garbage),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_personal_sender),
		cmocka_unit_test(test_recipient_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
