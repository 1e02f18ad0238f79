/* test_imap_thread.c: SORT criteria, base subjects (RFC 5256 §2.1), first addresses and
 * the ORDEREDSUBJECT and REFERENCES algorithms over a fixed corpus with known
 * answers (imap_thread.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "imap_thread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct arena *A;

static void base(const char *in, const char *want, bool want_reply)
{
	bool reply;
	const char *got = imap_base_subject(A, in, &reply);
	if (strcmp(got, want) != 0 || reply != want_reply)
		fail_msg("%s -> \"%s\" (%d), want \"%s\" (%d)", in, got, reply, want, want_reply);
}

static void test_base_subject(void **state)
{
	(void)state;
	base("Hello", "HELLO", false);
	base("Re: Fwd: [list] Hello  (fwd)", "HELLO", true);
	base("[fwd: Re: test]", "TEST", true);
	base("Re:", "", true);
	base("[PATCH] fix it", "FIX IT", false);
	base("[PATCH]", "[PATCH]", false);
	base("RE [x]: Subj", "SUBJ", true);
	base("  multiple \t  spaces ", "MULTIPLE SPACES", false);
	base("Fw: a", "A", true);
	base("FWD:a", "A", true);
	base("Ref: test", "REF: TEST", false);
	base("re: re: RE: deep", "DEEP", true);
	base("[a][b] Re: [c] x", "X", true);
	base("Grüße", "GRüßE", false);
	base("", "", false);
	base(NULL, "", false);
}

static void addr(const char *in, const char *name, const char *a)
{
	const char *n, *x;
	imap_first_address(A, in, &n, &x);
	if (strcmp(n, name) != 0 || strcmp(x, a) != 0)
		fail_msg("%s -> [%s] [%s]", in, n, x);
}

static void test_first_address(void **state)
{
	(void)state;
	addr("John Doe <john@x.test>, b@y", "John Doe", "john@x.test");
	addr("a@b, Name <c@d>", "", "a@b");
	addr("\"Q\" <q@z>", "Q", "q@z");
	addr("solo@host", "", "solo@host");
	addr("", "", "");
	addr("Doe, John <j@x>", "Doe, John", "j@x");
}

/* The stored keys of one message (imap_sortkey.c): base subject, FROM/TO/CC's
 * addr-mailbox (a group's name), DISPLAYFROM/DISPLAYTO's name else address. */
static void keys(const char *subject, const char *from, const char *cc, const char *want_subject, bool want_reply,
		 const char *want_from, const char *want_dfrom, const char *want_cc)
{
	struct imap_sort_keys k;
	imap_sort_keys_of(A, subject, from, from, cc, &k);
	if (strcmp(k.subject, want_subject) != 0 || k.reply != want_reply || strcmp(k.from, want_from) != 0 ||
	    strcmp(k.display_from, want_dfrom) != 0 || strcmp(k.cc, want_cc) != 0 || strcmp(k.to, k.from) != 0 ||
	    strcmp(k.display_to, k.display_from) != 0)
		fail_msg("%s / %s / %s -> [%s] %d [%s] [%s] [%s]", subject ? subject : "(null)", from ? from : "(null)",
			 cc ? cc : "(null)", k.subject, k.reply, k.from, k.display_from, k.cc);
}

static void test_sort_keys(void **state)
{
	(void)state;
	keys("Re: [list] Fwd: Größe (fwd)", "Anna Müller <anna@x.test>, b@y.test", NULL, "GRößE", true, "ANNA",
	     "ANNA MüLLER", "");
	keys("[fwd: [list] Re: x]", "<eve@x.test>", "cc@z.test", "X", true, "EVE", "EVE@X.TEST", "CC");
	keys("[list] ", "bob@x.test", "", "[LIST]", false, "BOB", "BOB@X.TEST", "");
	keys("(fwd)", "Doe, John <j@x.test>", "Team: a@b.test, c@d.test;", "", true, "J", "DOE, JOHN", "TEAM");
	keys("Re: (fwd)", "\"Zed, The\" <zed@x.test>", "\"Big Team\": a@b.test;", "", true, "ZED", "ZED, THE",
	     "BIG TEAM");
	keys("[fwd: x] (fwd)", "", NULL, "X", true, "", "", "");
	keys("Fwd: [a] [b] Re [c]: Übersicht", "Émile <e@x.test>", NULL, "ÜBERSICHT", true, "E", "ÉMILE", "");
	keys("Re: [c]: x", "a@b", NULL, ": X", true, "A", "A@B", ""); /* "[c]:" is no subj-refwd */
	keys(NULL, NULL, NULL, "", false, "", "", "");
}

static void test_sort_parse(void **state)
{
	(void)state;
	struct imap_sort_crit c[IMAP_SORT_KEYS_MAX];
	size_t n;
	struct imap_cur cur;
	const char *in = "(REVERSE DATE subject DISPLAYFROM)";
	imap_cur_init(&cur, A, (struct bytes){ in, strlen(in) });
	assert_int_equal(imap_sort_parse(&cur, c, &n), 1);
	assert_int_equal(n, 3);
	assert_true(c[0].reverse);
	assert_int_equal(c[0].key, IMAP_SORT_DATE);
	assert_int_equal(c[1].key, IMAP_SORT_SUBJECT);
	assert_false(c[1].reverse);
	assert_int_equal(c[2].key, IMAP_SORT_DISPLAYFROM);
	const char *bad[] = { "DATE", "()", "(FOO)", "(REVERSE)", "(DATE", "(DATE  SIZE)" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		imap_cur_init(&cur, A, (struct bytes){ bad[i], strlen(bad[i]) });
		if (imap_sort_parse(&cur, c, &n) != -1)
			fail_msg("accepted %s", bad[i]);
	}
}

/* The corpus: num, date, Message-ID, References, Subject. */
struct row {
	uint32_t num;
	int64_t date;
	const char *id;
	const char *refs[4];
	const char *subject;
};

static const struct row corpus[] = {
	{ 1, 100, "<a>", { NULL }, "Hello" },
	{ 2, 200, "<b>", { "<a>", NULL }, "Re: Hello" },
	{ 3, 300, "<c>", { "<a>", NULL }, "Re: Hello" },
	{ 4, 400, "<d>", { "<a>", "<c>", NULL }, "Re: Hello" },
	{ 5, 150, "<e>", { NULL }, "Other" },
	{ 6, 500, "<f>", { "<zz>", NULL }, "Lost" },
	{ 7, 600, "<g>", { "<zz>", NULL }, "Re: Lost" },
	{ 8, 160, "<h>", { NULL }, "Re: Other" },
};

static struct imap_thread_msg *load(const struct row *rows, size_t n)
{
	struct imap_thread_msg *m = arena_alloc(A, n * sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		m[i].num = rows[i].num;
		m[i].date = rows[i].date;
		m[i].msgid = rows[i].id;
		m[i].refs = rows[i].refs;
		m[i].base = imap_base_subject(A, rows[i].subject, &m[i].reply);
	}
	return m;
}

static void test_threads(void **state)
{
	(void)state;
	size_t n = sizeof(corpus) / sizeof(corpus[0]);
	struct imap_thread_msg *m = load(corpus, n);
	struct buf b = { 0 };
	imap_thread_references(A, m, n, &b);
	assert_string_equal(buf_str(&b), "(1 (2)(3 4))(5 8)((6)(7))");
	buf_reset(&b);
	imap_thread_orderedsubject(A, m, n, &b);
	assert_string_equal(buf_str(&b), "(1 (2)(3)(4))(5 8)(6 7)");
	buf_reset(&b);
	/* a loop in References, a self reference and a duplicate Message-ID */
	static const struct row odd[] = {
		{ 1, 10, "<x>", { "<y>", NULL }, "loop" },
		{ 2, 20, "<y>", { "<x>", NULL }, "Re: loop" },
		{ 3, 30, "<s>", { "<s>", NULL }, "self" },
		{ 4, 40, "<s>", { NULL }, "dup" },
	};
	m = load(odd, 4);
	imap_thread_references(A, m, 4, &b);
	/* <y> arrived as the parent of <x>; <x> naming <y> back would be a loop */
	assert_string_equal(buf_str(&b), "(2 1)(3)(4)");
	buf_reset(&b);
	/* a chain 100,000 deep does not recurse */
	size_t deep = 100000;
	struct imap_thread_msg *d = arena_alloc(A, deep * sizeof(*d));
	for (size_t i = 0; i < deep; i++) {
		d[i].num = (uint32_t)i + 1;
		d[i].date = (int64_t)i;
		d[i].msgid = arena_printf(A, "<%zu>", i);
		const char **r = arena_alloc(A, 2 * sizeof(*r));
		r[0] = i > 0 ? d[i - 1].msgid : NULL;
		d[i].refs = r;
		d[i].base = "X";
	}
	imap_thread_references(A, d, deep, &b);
	assert_true(strncmp(buf_str(&b), "(1 2 3 ", 7) == 0);
	buf_free(&b);
}

/* ------------------------------------------------------------ deep and crafted threads
 * Finding 14 of the December 2026 review: linking walked up the parents for every
 * reference (O(depth) each), so a crafted chain made THREAD=REFERENCES quadratic.
 * These mailboxes would take minutes that way; the results are checked exactly. */

void naive_thread_references(struct arena *a, const struct imap_thread_msg *msgs, size_t n, struct buf *out);

static struct imap_thread_msg *deep_msgs(size_t n)
{
	struct imap_thread_msg *d = arena_alloc(A, n * sizeof(*d));
	for (size_t i = 0; i < n; i++) {
		d[i].num = (uint32_t)i + 1;
		d[i].date = (int64_t)i;
		d[i].msgid = arena_printf(A, "<%zu@deep>", i);
		d[i].base = "X";
	}
	return d;
}

/* "(1 2 3 ... n)" */
static void expect_chain(struct buf *b, size_t n)
{
	struct buf want = { 0 };
	buf_putc(&want, '(');
	for (size_t i = 1; i <= n; i++)
		buf_printf(&want, i > 1 ? " %zu" : "%zu", i);
	buf_putc(&want, ')');
	assert_int_equal(b->len, want.len);
	assert_memory_equal(b->data, want.data, want.len);
	buf_free(&want);
}

static void test_deep_chains(void **state)
{
	(void)state;
	size_t n = 100000;
	struct buf b = { 0 };
	/* every message names all its ancestors, up to 64 of them (cmd_thread keeps
	 * 256; 64 keep this test's memory at 50 MB) */
	struct imap_thread_msg *d = deep_msgs(n);
	for (size_t i = 0; i < n; i++) {
		size_t k = i < 64 ? i : 64;
		const char **r = arena_alloc(A, (k + 1) * sizeof(*r));
		for (size_t j = 0; j < k; j++)
			r[j] = d[i - k + j].msgid;
		d[i].refs = r;
	}
	imap_thread_references(A, d, n, &b);
	expect_chain(&b, n);
	buf_reset(&b);
	/* the same chain arriving newest first: each message names the next one as its
	 * parent, so every link moves a growing thread under a new root */
	d = deep_msgs(n);
	for (size_t i = 0; i < n; i++) {
		const char **r = arena_alloc(A, 2 * sizeof(*r));
		r[0] = i + 1 < n ? d[i + 1].msgid : NULL;
		d[i].refs = r;
		d[i].date = (int64_t)(n - i);
	}
	imap_thread_references(A, d, n, &b);
	struct buf want = { 0 };
	buf_putc(&want, '(');
	for (size_t i = n; i >= 1; i--)
		buf_printf(&want, i < n ? " %zu" : "%zu", i);
	buf_putc(&want, ')');
	assert_string_equal(buf_str(&b), buf_str(&want));
	buf_free(&want);
	buf_free(&b);
}

static void test_crafted_loops(void **state)
{
	(void)state;
	/* a chain 50,000 deep, then 5,000 messages whose 256 references go back and
	 * forth between the chain's root and its end: every second pair would close a
	 * loop, and the old check walked the whole chain to see it */
	size_t deep = 50000, extra = 5000, n = deep + extra;
	struct imap_thread_msg *d = deep_msgs(n);
	for (size_t i = 0; i < deep; i++) {
		const char **r = arena_alloc(A, 2 * sizeof(*r));
		r[0] = i > 0 ? d[i - 1].msgid : NULL;
		d[i].refs = r;
	}
	const char **back_and_forth = arena_alloc(A, 257 * sizeof(*back_and_forth));
	for (size_t j = 0; j < 256; j++)
		back_and_forth[j] = j % 2 == 0 ? d[0].msgid : d[deep - 1].msgid;
	for (size_t i = deep; i < n; i++)
		d[i].refs = back_and_forth;
	struct buf b = { 0 };
	imap_thread_references(A, d, n, &b);
	struct buf want = { 0 };
	buf_putc(&want, '(');
	for (size_t i = 1; i <= deep; i++)
		buf_printf(&want, i > 1 ? " %zu" : "%zu", i);
	buf_putc(&want, ' ');
	for (size_t i = deep + 1; i <= n; i++)
		buf_printf(&want, "(%zu)", i);
	buf_putc(&want, ')');
	assert_string_equal(buf_str(&b), buf_str(&want));
	buf_reset(&b);
	buf_reset(&want);
	/* a chain 50,000 deep where every message also has a reply of its own: the
	 * output nests 50,000 parentheses deep (written without recursion) */
	deep = 50000;
	d = deep_msgs(2 * deep);
	for (size_t i = 0; i < deep; i++) {
		struct imap_thread_msg *chain = &d[2 * i], *leaf = &d[2 * i + 1];
		const char **r = arena_alloc(A, 2 * sizeof(*r));
		r[0] = i > 0 ? d[2 * i - 2].msgid : NULL;
		chain->refs = r;
		r = arena_alloc(A, 2 * sizeof(*r));
		r[0] = chain->msgid;
		leaf->refs = r;
	}
	imap_thread_references(A, d, 2 * deep, &b);
	buf_putc(&want, '(');
	for (size_t i = 0; i < deep - 1; i++)
		buf_printf(&want, "%zu (%zu)(", 2 * i + 1, 2 * i + 2);
	buf_printf(&want, "%zu %zu", 2 * deep - 1, 2 * deep);
	for (size_t i = 0; i < deep - 1; i++)
		buf_putc(&want, ')');
	buf_putc(&want, ')');
	assert_string_equal(buf_str(&b), buf_str(&want));
	buf_free(&want);
	buf_free(&b);
}

/* Looping References, self references and duplicate Message-IDs (issue 16, RFC 5256
 * §2.2 step 1): the answers are those Dovecot 2.3.19 gives for the same messages (its
 * imaptest "thread" case among them). The case with <q> failed before: a message
 * whose last reference is its own descendant kept the parent an earlier message's
 * References gave it; step 1.B breaks that link first, then makes no new one. */
static void thread_rows(const struct row *rows, size_t n, const char *want)
{
	struct imap_thread_msg *m = load(rows, n);
	struct buf b = { 0 };
	imap_thread_references(A, m, n, &b);
	if (strcmp(buf_str(&b), want) != 0)
		fail_msg("%s, want %s", buf_str(&b), want);
	buf_free(&b);
}

static void test_loops_like_dovecot(void **state)
{
	(void)state;
	static const struct row ab[] = { { 1, 1, "<a@x>", { "<b@x>" }, "loop" },
					 { 2, 2, "<b@x>", { "<a@x>" }, "loop" } };
	thread_rows(ab, 2, "(2 1)");
	static const struct row self[] = { { 1, 1, "<s@x>", { "<s@x>" }, "self" } };
	thread_rows(self, 1, "(1)");
	static const struct row dup[] = { { 1, 1, "<d@x>", { NULL }, "dup" },
					  { 2, 2, "<d@x>", { "<x@x>" }, "dup2" },
					  { 3, 3, "<e@x>", { "<d@x>" }, "dup3" } };
	thread_rows(dup, 3, "(1 3)(2)");
	static const struct row three[] = { { 1, 1, "<a@x>", { "<b@x>", "<c@x>" }, "t" },
					    { 2, 2, "<b@x>", { "<c@x>", "<a@x>" }, "t" },
					    { 3, 3, "<c@x>", { "<a@x>", "<b@x>" }, "t" } };
	thread_rows(three, 3, "(2 3 1)");
	static const struct row own[] = { { 1, 1, "<p@x>", { NULL }, "p" },
					  { 2, 2, "<q@x>", { "<p@x>", "<q@x>", "<r@x>" }, "q" } };
	thread_rows(own, 2, "(1)(2)");
	static const struct row own2[] = { { 1, 1, "<p@x>", { NULL }, "p" },
					   { 2, 2, "<q@x>", { "<r@x>", "<q@x>" }, "q" },
					   { 3, 3, "<r@x>", { "<q@x>" }, "r" } };
	thread_rows(own2, 3, "(1)(2 3)");
	static const struct row late[] = { { 1, 1, "<x@x>", { "<y@x>" }, "a" },
					   { 2, 2, "<z@x>", { "<x@x>", "<y@x>" }, "b" },
					   { 3, 3, "<y@x>", { NULL }, "c" } };
	thread_rows(late, 3, "(3 (1)(2))");
	static const struct row mid[] = { { 1, 1, "<a@x>", { "<p@x>", "<a@x>" }, "a" },
					  { 2, 2, "<b@x>", { "<a@x>", "<p@x>" }, "b" } };
	thread_rows(mid, 2, "(1 2)");
	/* imaptest's thread.mbox, and again with its first message expunged */
	static const struct row mbox[] = { { 1, 17, "<a@b>", { NULL }, "" },
					   { 2, 15, "<b@b>", { "<c@b>", "<a@b>" }, "" },
					   { 3, 16, "<c@b>", { "<b@b>" }, "" } };
	thread_rows(mbox, 3, "(3 1 2)");
	static const struct row mbox2[] = { { 1, 15, "<b@b>", { "<c@b>", "<a@b>" }, "" },
					    { 2, 16, "<c@b>", { "<b@b>" }, "" } };
	thread_rows(mbox2, 2, "(2 1)");
}

/* Random small mailboxes with loops, self references, duplicate and missing ids,
 * equal dates and subjects: the fast implementation answers exactly as the plain
 * one (imap_thread_naive.c). */
static void test_random_against_naive(void **state)
{
	(void)state;
	static const char *subjects[] = { "a", "Re: a", "b", "Fwd: b", "[x] a", "" };
	unsigned seed = 12345;
	for (int round = 0; round < 3000; round++) {
		seed = seed * 1103515245u + 12345u;
		size_t n = 1 + (seed >> 16) % 30, ids = 2 + (seed >> 8) % 25;
		struct imap_thread_msg *m = arena_alloc(A, n * sizeof(*m));
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			m[i].num = (uint32_t)i + 1;
			m[i].date = (int64_t)((seed >> 16) % 8);
			m[i].msgid = (seed >> 4) % 7 == 0 ? NULL : arena_printf(A, "<%u>", (seed >> 8) % (unsigned)ids);
			m[i].base = imap_base_subject(A, subjects[(seed >> 20) % 6], &m[i].reply);
			size_t k = (seed >> 24) % 7;
			const char **r = arena_alloc(A, (k + 1) * sizeof(*r));
			for (size_t j = 0; j < k; j++) {
				seed = seed * 1103515245u + 12345u;
				r[j] = arena_printf(A, "<%u>", (seed >> 16) % (unsigned)ids);
			}
			m[i].refs = r;
		}
		struct buf fast = { 0 }, plain = { 0 };
		imap_thread_references(A, m, n, &fast);
		naive_thread_references(A, m, n, &plain);
		if (strcmp(buf_str(&fast), buf_str(&plain)) != 0)
			fail_msg("round %d: %s, want %s", round, buf_str(&fast), buf_str(&plain));
		buf_free(&fast);
		buf_free(&plain);
		arena_clear(A);
	}
}

int main(void)
{
	A = arena_new();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_subject),
		cmocka_unit_test(test_first_address),
		cmocka_unit_test(test_sort_keys),
		cmocka_unit_test(test_sort_parse),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_deep_chains),
		cmocka_unit_test(test_crafted_loops),
		cmocka_unit_test(test_loops_like_dovecot),
		cmocka_unit_test(test_random_against_naive),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	arena_free(&A);
	return r;
}
