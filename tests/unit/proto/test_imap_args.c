/* test_imap_args.c: argument parsing (imap_args.c), sequence sets, search programs
 * (imap_search.c) and fetch attributes (imap_fetch.c), RFC 9051 §9. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "imap_args.h"
#include "imap_fetch.h"
#include "imap_search.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static struct arena *A;

static struct imap_cur cur(const char *s)
{
	struct imap_cur c;
	imap_cur_init(&c, A, (struct bytes){ s, strlen(s) });
	return c;
}

static void test_strings(void **state)
{
	(void)state;
	struct imap_str s;
	struct imap_cur c = cur("atom \"quo\\\"ted\\\\\" {3}\r\nl\0t NIL ]x[");
	c.len = 34;
	assert_int_equal(imap_cur_astring(&c, &s), 1);
	assert_string_equal(s.s, "atom");
	assert_int_equal(imap_cur_sp(&c), 1);
	assert_int_equal(imap_cur_astring(&c, &s), 1);
	assert_string_equal(s.s, "quo\"ted\\");
	assert_int_equal(imap_cur_sp(&c), 1);
	assert_int_equal(imap_cur_astring(&c, &s), 1);
	assert_int_equal(s.len, 3);
	assert_true(s.literal);
	assert_memory_equal(s.s, "l\0t", 3);
	assert_int_equal(imap_cur_sp(&c), 1);
	assert_int_equal(imap_cur_nstring(&c, &s), 1);
	assert_null(s.s);
	assert_int_equal(imap_cur_sp(&c), 1);
	assert_int_equal(imap_cur_astring(&c, &s), 1); /* "]" is an ASTRING-CHAR */
	assert_string_equal(s.s, "]x[");
	assert_int_equal(imap_cur_eol(&c), 1);

	c = cur("\"unterminated");
	assert_int_equal(imap_cur_astring(&c, &s), -1);
	assert_string_equal(c.error, "Unterminated quoted string");
	c = cur("\"bad \\x escape\"");
	assert_int_equal(imap_cur_astring(&c, &s), -1);
	c = cur("{5}\r\nab");
	assert_int_equal(imap_cur_astring(&c, &s), -1);
	c = cur("~{2}\r\nab");
	assert_int_equal(imap_cur_astring(&c, &s), -1); /* literal8 only where allowed */
	struct bytes v;
	bool l8;
	c = cur("~{2}\r\nab");
	assert_int_equal(imap_cur_literal_view(&c, &v, &l8), 1);
	assert_true(l8);
	assert_int_equal(v.len, 2);
	c = cur("");
	assert_int_equal(imap_cur_astring(&c, &s), -1);
	assert_string_equal(c.error, "Missing argument");
	/* "~" is an ATOM-CHAR unless "{" follows (issue 16: LIST "" ~foo) */
	c = cur("~foo ~ a~{");
	assert_int_equal(imap_cur_list_mailbox(&c, &s), 1);
	assert_string_equal(s.s, "~foo");
	assert_int_equal(imap_cur_sp(&c), 1);
	assert_int_equal(imap_cur_astring(&c, &s), 1);
	assert_string_equal(s.s, "~");
	assert_int_equal(imap_cur_sp(&c), 1);
	assert_int_equal(imap_cur_astring(&c, &s), 1);
	assert_string_equal(s.s, "a~");
}

static void seq(const char *in, bool saved_ok, int want, size_t n, const uint32_t *pairs)
{
	struct imap_cur c = cur(in);
	struct imap_seqset s;
	int r = imap_cur_seqset(&c, saved_ok, 100000, &s);
	if (r > 0 && !imap_cur_end(&c))
		r = -1;
	assert_int_equal(r, want);
	if (want < 0)
		return;
	assert_int_equal(s.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s.r[i].lo, pairs[2 * i]);
		assert_int_equal(s.r[i].hi, pairs[2 * i + 1]);
	}
}

static void test_seqsets(void **state)
{
	(void)state;
	seq("1", false, 1, 1, (uint32_t[]){ 1, 1 });
	seq("1:4294967295", false, 1, 1, (uint32_t[]){ 1, 4294967295u });
	seq("*:*", false, 1, 1, (uint32_t[]){ 0, 0 });
	seq("5:2,*,7", false, 1, 3, (uint32_t[]){ 5, 2, 0, 0, 7, 7 });
	seq("0", false, -1, 0, NULL);
	seq("1:0", false, -1, 0, NULL);
	seq("4294967296", false, -1, 0, NULL);
	seq("1,", false, -1, 0, NULL);
	seq("-1", false, -1, 0, NULL);
	seq("$", false, -1, 0, NULL);
	struct imap_cur c = cur("$");
	struct imap_seqset s;
	assert_int_equal(imap_cur_seqset(&c, true, 10, &s), 1);
	assert_true(s.saved);
	/* 100,000 ranges are read; the 100,001st is refused */
	size_t len = 100001 * 8;
	char *big = malloc(len + 1);
	size_t p = 0;
	for (int i = 0; i < 100001; i++)
		p += (size_t)sprintf(big + p, "%s%d", i ? "," : "", i * 2 + 1);
	c = cur(big);
	assert_int_equal(imap_cur_seqset(&c, false, 100001, &s), 1);
	assert_int_equal(s.n, 100001);
	c = cur(big);
	assert_int_equal(imap_cur_seqset(&c, false, 100000, &s), -1);
	free(big);
}

static void test_dates(void **state)
{
	(void)state;
	int y, m, d;
	struct imap_cur c = cur("1-Feb-1994");
	assert_int_equal(imap_cur_date(&c, &y, &m, &d), 1);
	assert_int_equal(y * 10000 + m * 100 + d, 19940201);
	c = cur("\"29-feb-2024\"");
	assert_int_equal(imap_cur_date(&c, &y, &m, &d), 1);
	c = cur("29-Feb-2023");
	assert_int_equal(imap_cur_date(&c, &y, &m, &d), -1);
	c = cur("1-Foo-1994");
	assert_int_equal(imap_cur_date(&c, &y, &m, &d), -1);
	int64_t t;
	int tz;
	c = cur("\" 1-Jan-1970 01:00:00 +0100\"");
	assert_int_equal(imap_cur_datetime(&c, &t, &tz), 1);
	assert_int_equal(t, 0);
	assert_int_equal(tz, 60);
	c = cur("\"17-Jul-1996 02:44:25 -0700\"");
	assert_int_equal(imap_cur_datetime(&c, &t, &tz), 1);
	assert_int_equal(t, 837596665);
	c = cur("\"17-Jul-1996 25:44:25 -0700\"");
	assert_int_equal(imap_cur_datetime(&c, &t, &tz), -1);
	/* zones: hours at most 23, minutes at most 59 (regression: "+7631" was taken) */
	c = cur("\"02-Oct-2024 10:00:00 +7631\"");
	assert_int_equal(imap_cur_datetime(&c, &t, &tz), -1);
	c = cur("\"02-Oct-2024 10:00:00 +2400\"");
	assert_int_equal(imap_cur_datetime(&c, &t, &tz), -1);
	c = cur("\"02-Oct-2024 10:00:00 -0060\"");
	assert_int_equal(imap_cur_datetime(&c, &t, &tz), -1);
	c = cur("\"02-Oct-2024 10:00:00 +2359\"");
	assert_int_equal(imap_cur_datetime(&c, &t, &tz), 1);
	assert_int_equal(tz, 23 * 60 + 59);
	c = cur("\"02-Oct-2024 10:00:00 -1200\"");
	assert_int_equal(imap_cur_datetime(&c, &t, &tz), 1);
	assert_int_equal(tz, -720);
}

static void test_flags(void **state)
{
	(void)state;
	const char **f;
	size_t n;
	struct imap_cur c = cur("(\\Seen $Forwarded)");
	assert_int_equal(imap_cur_flag_list(&c, &f, &n), 1);
	assert_int_equal(n, 2);
	assert_string_equal(f[0], "\\Seen");
	assert_string_equal(f[1], "$Forwarded");
	assert_null(f[2]);
	c = cur("()");
	assert_int_equal(imap_cur_flag_list(&c, &f, &n), 1);
	assert_int_equal(n, 0);
	c = cur("\\Deleted \\Seen");
	assert_int_equal(imap_cur_store_flags(&c, &f, &n), 1);
	assert_int_equal(n, 2);
	c = cur("(\\Seen");
	assert_int_equal(imap_cur_flag_list(&c, &f, &n), -1);
}

static void test_search(void **state)
{
	(void)state;
	struct imap_search *p;
	const char *cs;
	struct imap_cur c = cur("CHARSET UTF-8 OR FROM \"a b\" NOT (SEEN 1:*) UID $ SINCE 1-Jan-2020 HEADER X-A v");
	assert_int_equal(imap_search_parse(&c, &p, &cs), 1);
	assert_string_equal(cs, "UTF-8");
	assert_int_equal(p->key, IMAP_SK_AND);
	struct imap_search *k = p->sub;
	assert_int_equal(k->key, IMAP_SK_OR);
	assert_int_equal(k->sub->key, IMAP_SK_FROM);
	assert_string_equal(k->sub->str, "a b");
	assert_int_equal(k->sub->next->key, IMAP_SK_NOT);
	assert_int_equal(k->sub->next->sub->key, IMAP_SK_AND);
	assert_int_equal(k->sub->next->sub->sub->next->key, IMAP_SK_SEQ);
	k = k->next;
	assert_int_equal(k->key, IMAP_SK_UID);
	assert_true(k->set.saved);
	k = k->next;
	assert_int_equal(k->key, IMAP_SK_SINCE);
	assert_int_equal(k->day, 18262);
	k = k->next;
	assert_int_equal(k->key, IMAP_SK_HEADER);
	assert_string_equal(k->field, "X-A");
	assert_null(k->next);

	const char *bad[] = { "", "FOO", "OR SEEN", "(SEEN", "SINCE 32-Jan-2020", "LARGER x", "NOTSEEN" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = cur(bad[i]);
		assert_int_equal(imap_search_parse(&c, &p, &cs), -1);
	}
	/* 10,000 nested parentheses and NOTs are refused, not recursed into */
	char *deep = malloc(30010);
	memset(deep, '(', 10000);
	strcpy(deep + 10000, "ALL");
	memset(deep + 10003, ')', 10000);
	deep[20003] = '\0';
	c = cur(deep);
	assert_int_equal(imap_search_parse(&c, &p, &cs), -1);
	assert_string_equal(c.error, "Search program nested too deeply");
	size_t pos = 0;
	for (int i = 0; i < 5000; i++)
		pos += (size_t)sprintf(deep + pos, "NOT ");
	strcpy(deep + pos, "ALL");
	c = cur(deep);
	assert_int_equal(imap_search_parse(&c, &p, &cs), -1);
	free(deep);
}

static struct imap_fetch fetch_ok(const char *in)
{
	struct imap_fetch f;
	struct imap_cur c = cur(in);
	assert_int_equal(imap_fetch_parse(&c, &f), 1);
	assert_true(imap_cur_end(&c));
	return f;
}

static void test_fetch(void **state)
{
	(void)state;
	struct imap_fetch f = fetch_ok("FAST");
	assert_int_equal(f.atts, IMAP_FA_FLAGS | IMAP_FA_INTERNALDATE | IMAP_FA_RFC822_SIZE);
	f = fetch_ok("(UID BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> BODY[1.2.MIME] BINARY.SIZE[3] rfc822.header)");
	assert_int_equal(f.atts, IMAP_FA_UID);
	assert_int_equal(f.nbodies, 4);
	assert_true(f.sets_seen); /* BODY[1.2.MIME] has no .PEEK */
	const struct imap_fetch_body *b = f.bodies;
	assert_true(b->peek);
	assert_int_equal(b->text, IMAP_SECTION_FIELDS);
	assert_int_equal(b->nfields, 2);
	assert_string_equal(b->fields[1], "To");
	assert_true(b->partial);
	assert_int_equal(b->count, 100);
	assert_string_equal(b->name, "BODY[HEADER.FIELDS (FROM \"TO\")]<0>");
	b = b->next;
	assert_string_equal(b->part, "1.2");
	assert_int_equal(b->text, IMAP_SECTION_MIME);
	b = b->next;
	assert_int_equal(b->kind, IMAP_BODY_BINARY_SIZE);
	assert_string_equal(b->name, "BINARY.SIZE[3]");
	b = b->next;
	assert_string_equal(b->name, "RFC822.HEADER");
	f = fetch_ok("BODY[]");
	assert_true(f.sets_seen);
	assert_string_equal(f.bodies->name, "BODY[]");

	const char *bad[] = { "", "()", "(FLAGS", "BODY[", "BODY[0]", "BODY[1.]", "BODY[MIME]", "BODY[]<1>",
			      "BODY[]<0.0>", "BINARY[HEADER]", "BINARY.SIZE[1]<0.5>", "FOO", "BODY[TEXTX]",
			      "BODY[HEADER.FIELDS]", "BODY[HEADER.FIELDS ()]" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct imap_fetch g;
		struct imap_cur c = cur(bad[i]);
		int r = imap_fetch_parse(&c, &g);
		if (r > 0 && !imap_cur_end(&c))
			r = -1;
		if (r != -1)
			fail_msg("accepted: %s", bad[i]);
	}
}

/* RFC 7162 §3.1.5 MODSEQ search key with and without the entry name; RFC 5032 WITHIN */
static void test_search_ext(void **state)
{
	(void)state;
	struct imap_search *p;
	const char *cs;
	struct imap_cur c = cur("MODSEQ \"/flags/\\\\draft\" all 620162338 OLDER 3600 YOUNGER 60 MODSEQ 0");
	assert_int_equal(imap_search_parse(&c, &p, &cs), 1);
	struct imap_search *k = p->sub;
	assert_int_equal(k->key, IMAP_SK_MODSEQ);
	assert_int_equal(k->num, 620162338);
	assert_int_equal(k->next->key, IMAP_SK_OLDER);
	assert_int_equal(k->next->num, 3600);
	assert_int_equal(k->next->next->key, IMAP_SK_YOUNGER);
	assert_int_equal(k->next->next->next->num, 0);
	const char *bad[] = { "MODSEQ", "MODSEQ x", "MODSEQ 9223372036854775808", "MODSEQ \"/flags/x\" 5",
			      "MODSEQ \"/other\" all 5", "MODSEQ \"/flags/x\" some 5" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = cur(bad[i]);
		if (imap_search_parse(&c, &p, &cs) != -1)
			fail_msg("accepted: %s", bad[i]);
	}
	/* RFC 8970 PREVIEW with and without (LAZY) */
	struct imap_fetch f = fetch_ok("(UID PREVIEW (LAZY) FLAGS)");
	assert_int_equal(f.atts, IMAP_FA_UID | IMAP_FA_PREVIEW | IMAP_FA_FLAGS);
	f = fetch_ok("PREVIEW");
	assert_int_equal(f.atts, IMAP_FA_PREVIEW);
	f = fetch_ok("(MODSEQ EMAILID THREADID SAVEDATE)");
	assert_int_equal(f.atts, IMAP_FA_MODSEQ | IMAP_FA_EMAILID | IMAP_FA_THREADID | IMAP_FA_SAVEDATE);
}

int main(void)
{
	A = arena_new();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings), cmocka_unit_test(test_seqsets), cmocka_unit_test(test_dates),
		cmocka_unit_test(test_flags),   cmocka_unit_test(test_search),  cmocka_unit_test(test_fetch),
		cmocka_unit_test(test_search_ext),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	arena_free(&A);
	return r;
}
