/* test_search.c: every SEARCH key evaluated by the store, including nested OR/NOT,
 * sequence sets through the session's map, case-insensitive matching of decoded
 * headers and of charset-decoded (quoted-printable ISO-8859-1, base64 UTF-8) bodies,
 * dates in the message's own zone, MODSEQ and EMAILID/THREADID, and bad programs. */
#include "helpers.h"

#include <time.h>

#include "buf.h"

static const char *m1 = /* uid 1 */
	"From: Alice Example <alice@example.test>\r\n"
	"To: bob@example.test\r\n"
	"Cc: carol@example.test\r\n"
	"Subject: Quarterly REPORT\r\n"
	"Date: Mon, 2 Mar 2026 23:30:00 -0500\r\n"
	"Message-ID: <one@example.test>\r\n"
	"X-Priority: 1\r\n"
	"\r\n"
	"The numbers are in.\r\n";
static const char *m2 = /* uid 2: encoded header, QP latin-1 body */
	"From: =?iso-8859-1?q?J=F6rg?= <joerg@example.test>\r\n"
	"To: alice@example.test\r\n"
	"Bcc: secret@example.test\r\n"
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
	"Date: Tue, 3 Mar 2026 10:00:00 +0000\r\n"
	"In-Reply-To: <one@example.test>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Sch=F6ne Gr=FC=DFe aus K=F6ln\r\n";
static const char *m3 = /* uid 3: multipart with base64 utf-8 html */
	"From: dave@example.test\r\n"
	"To: alice@example.test\r\n"
	"Subject: newsletter\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/alternative; boundary=zz\r\n"
	"\r\n"
	"--zz\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"PHA+w4ljb2xlIGQnw6l0w6k8L3A+\r\n" /* <p>École d'été</p> */
	"--zz--\r\n";

struct ctx {
	struct fixture *f;
	struct store_search_ctx sc;
	uint32_t seq[8];
};

/* Runs prog and returns the matches as a string "1,3". */
static const char *run(struct fixture *f, const struct store_search_ctx *sc,
		       const struct store_search *prog)
{
	uint32_t *uids;
	size_t n;
	const char *err = NULL;
	int r = store_search(f->s, f->a, sc, prog, &uids, &n, NULL, &err);
	if (r != 1)
		return arena_printf(f->a, "error %d %s", r, err ? err : "");
	struct buf b = { 0 };
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%u", i ? "," : "", uids[i]);
	const char *out = arena_strdup(f->a, buf_str(&b));
	buf_free(&b);
	return out;
}

static struct store_search K(enum store_search_key k)
{
	return (struct store_search){ .key = k };
}

static struct store_search KS(enum store_search_key k, const char *s)
{
	return (struct store_search){ .key = k, .str = s };
}

static void setup_msgs(struct fixture *f)
{
	const char *err;
	struct store_append ap = { .account_id = f->acct, .mailbox_id = f->inbox, .data = m1,
				   .len = strlen(m1), .flags = STORE_F_SEEN | STORE_F_ANSWERED,
				   .internal_date = 1772500000 /* 2026-03-03 01:06:40 UTC */,
				   .internal_tz = 0 };
	const char *kw[] = { "$Important", NULL };
	ap.keywords = kw;
	assert_int_equal(store_append(f->s, &ap, &err), 1);
	struct store_append ap2 = { .account_id = f->acct, .mailbox_id = f->inbox, .data = m2,
				    .len = strlen(m2), .flags = STORE_F_FLAGGED | STORE_F_DELETED,
				    .internal_date = 1772600000, .internal_tz = 0 };
	assert_int_equal(store_append(f->s, &ap2, &err), 1);
	struct store_append ap3 = { .account_id = f->acct, .mailbox_id = f->inbox, .data = m3,
				    .len = strlen(m3), .flags = STORE_F_DRAFT,
				    .internal_date = 1772700000, .internal_tz = 0 };
	assert_int_equal(store_append(f->s, &ap3, &err), 1);
}

static void test_keys(void **state)
{
	struct fixture *f = *state;
	setup_msgs(f);
	struct store_search_ctx sc = { .account_id = f->acct, .mailbox_id = f->inbox,
				       .first_recent_uid = 3, .now = 1772700100 };
	struct { struct store_search k; const char *want; } t[] = {
		{ K(STORE_SK_ALL), "1,2,3" },
		{ K(STORE_SK_ANSWERED), "1" }, { K(STORE_SK_UNANSWERED), "2,3" },
		{ K(STORE_SK_DELETED), "2" }, { K(STORE_SK_UNDELETED), "1,3" },
		{ K(STORE_SK_DRAFT), "3" }, { K(STORE_SK_UNDRAFT), "1,2" },
		{ K(STORE_SK_FLAGGED), "2" }, { K(STORE_SK_UNFLAGGED), "1,3" },
		{ K(STORE_SK_SEEN), "1" }, { K(STORE_SK_UNSEEN), "2,3" },
		{ K(STORE_SK_RECENT), "3" }, { K(STORE_SK_NEW), "3" }, { K(STORE_SK_OLD), "1,2" },
		{ KS(STORE_SK_KEYWORD, "$important"), "1" }, { KS(STORE_SK_UNKEYWORD, "$Important"), "2,3" },
		{ KS(STORE_SK_KEYWORD, "nope"), "" },
		{ KS(STORE_SK_FROM, "ALICE"), "1" }, { KS(STORE_SK_FROM, "jörg"), "2" },
		{ KS(STORE_SK_FROM, "JÖRG"), "2" }, { KS(STORE_SK_TO, "alice@"), "2,3" },
		{ KS(STORE_SK_CC, "carol"), "1" }, { KS(STORE_SK_BCC, "secret"), "2" },
		{ KS(STORE_SK_SUBJECT, "report"), "1" }, { KS(STORE_SK_SUBJECT, "GRÜSSE"), "2" },
		{ KS(STORE_SK_SUBJECT, ""), "1,2,3" },
		{ KS(STORE_SK_BODY, "grüße aus köln"), "2" }, { KS(STORE_SK_BODY, "numbers"), "1" },
		{ KS(STORE_SK_BODY, "école d'été"), "3" }, { KS(STORE_SK_BODY, "<p>"), "" },
		{ KS(STORE_SK_BODY, "Quarterly"), "" },
		{ KS(STORE_SK_TEXT, "quarterly"), "1" }, { KS(STORE_SK_TEXT, "KÖLN"), "2" },
		{ KS(STORE_SK_TEXT, "joerg@"), "2" },
		{ { .key = STORE_SK_HEADER, .field = "x-priority", .str = "1" }, "1" },
		{ { .key = STORE_SK_HEADER, .field = "X-PRIORITY", .str = "" }, "1" },
		{ { .key = STORE_SK_HEADER, .field = "In-Reply-To", .str = "one@" }, "2" },
		{ { .key = STORE_SK_HEADER, .field = "Subject", .str = "grüße" }, "2" },
		{ { .key = STORE_SK_HEADER, .field = "X-None", .str = "" }, "" },
		/* internal dates (UTC): 1 = 2026-03-03, 2 = 2026-03-04, 3 = 2026-03-05 */
		{ { .key = STORE_SK_ON, .day = store_search_day(2026, 3, 4) }, "2" },
		{ { .key = STORE_SK_BEFORE, .day = store_search_day(2026, 3, 4) }, "1" },
		{ { .key = STORE_SK_SINCE, .day = store_search_day(2026, 3, 4) }, "2,3" },
		/* Date: header, in its own zone: 1 = 2026-03-02 (-0500), 2 = 2026-03-03, 3 none:
		 * falls back to the internal date 2026-03-05 */
		{ { .key = STORE_SK_SENTON, .day = store_search_day(2026, 3, 2) }, "1" },
		{ { .key = STORE_SK_SENTBEFORE, .day = store_search_day(2026, 3, 3) }, "1" },
		{ { .key = STORE_SK_SENTSINCE, .day = store_search_day(2026, 3, 3) }, "2,3" },
		{ { .key = STORE_SK_SAVEDSINCE, .day = store_search_day(2026, 1, 1) }, "1,2,3" },
		{ { .key = STORE_SK_SAVEDBEFORE, .day = store_search_day(2000, 1, 1) }, "" },
		{ { .key = STORE_SK_OLDER, .num = 150000 }, "1" },
		{ { .key = STORE_SK_YOUNGER, .num = 150000 }, "2,3" },
		{ { .key = STORE_SK_LARGER, .num = (int64_t)strlen(m1) }, "2,3" },
		{ { .key = STORE_SK_SMALLER, .num = (int64_t)strlen(m1) + 1 }, "1" },
		{ { .key = STORE_SK_MODSEQ, .num = 1 }, "1,2,3" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got = run(f, &sc, &t[i].k);
		if (strcmp(got, t[i].want) != 0)
			fail_msg("key %zu (%d %s): got '%s', want '%s'", i, t[i].k.key,
				 t[i].k.str ? t[i].k.str : "", got, t[i].want);
	}
}

static void test_combinations(void **state)
{
	struct fixture *f = *state;
	setup_msgs(f);
	const char *err;
	struct store_search_ctx sc = { .account_id = f->acct, .mailbox_id = f->inbox };
	/* OR SEEN FLAGGED */
	struct store_search b = K(STORE_SK_FLAGGED);
	struct store_search a = K(STORE_SK_SEEN);
	a.next = &b;
	struct store_search or = { .key = STORE_SK_OR, .sub = &a };
	assert_string_equal(run(f, &sc, &or), "1,2");
	/* NOT (OR SEEN FLAGGED) */
	struct store_search not = { .key = STORE_SK_NOT, .sub = &or };
	assert_string_equal(run(f, &sc, &not), "3");
	/* AND: TO alice, UNDELETED */
	struct store_search k2 = K(STORE_SK_UNDELETED);
	struct store_search k1 = KS(STORE_SK_TO, "alice");
	k1.next = &k2;
	struct store_search and = { .key = STORE_SK_AND, .sub = &k1 };
	assert_string_equal(run(f, &sc, &and), "3");
	/* UID sets and sequence sets through the session's view */
	struct store_range r[2] = { { 1, 1 }, { 3, UINT32_MAX } };
	struct store_search uid = { .key = STORE_SK_UID, .set = { r, 2 } };
	assert_string_equal(run(f, &sc, &uid), "1,3");
	uint32_t map[2] = { 2, 3 }; /* this session does not know UID 1 */
	struct store_search_ctx sc2 = sc;
	sc2.seq_uids = map;
	sc2.nseq = 2;
	struct store_range sr = { 1, 1 };
	struct store_search seq = { .key = STORE_SK_SEQ, .set = { &sr, 1 } };
	assert_string_equal(run(f, &sc2, &seq), "2");
	assert_string_equal(run(f, &sc, &seq), ""); /* no map */
	/* EMAILID / THREADID */
	struct store_msg *m;
	size_t n;
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, f->inbox, NULL, 0, &m, &n, &err), 1);
	char id[24];
	store_id_email(m[1].email_id, id);
	struct store_search eid = KS(STORE_SK_EMAILID, id);
	assert_string_equal(run(f, &sc, &eid), "2");
	store_id_thread(m[0].thread_id, id);
	struct store_search tid = KS(STORE_SK_THREADID, id);
	assert_string_equal(run(f, &sc, &tid), "1,2"); /* 2 replies to 1 */
	struct store_search bad = KS(STORE_SK_EMAILID, "garbage");
	assert_string_equal(run(f, &sc, &bad), "");
	/* highest modseq of the matches */
	uint32_t *uids;
	uint64_t hi;
	struct store_search all = K(STORE_SK_ALL);
	assert_int_equal(store_search(f->s, f->a, &sc, &all, &uids, &n, &hi, &err), 1);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	assert_int_equal(hi, mb.highestmodseq);
	/* malformed programs and other accounts */
	struct store_search or1 = { .key = STORE_SK_OR, .sub = &b };
	b.next = NULL;
	assert_true(strncmp(run(f, &sc, &or1), "error -5", 8) == 0);
	struct store_search empty_and = { .key = STORE_SK_AND };
	assert_true(strncmp(run(f, &sc, &empty_and), "error -5", 8) == 0);
	struct store_search nostr = { .key = STORE_SK_SUBJECT };
	assert_true(strncmp(run(f, &sc, &nostr), "error -5", 8) == 0);
	struct store_search nofield = { .key = STORE_SK_HEADER, .str = "x" };
	assert_true(strncmp(run(f, &sc, &nofield), "error -5", 8) == 0);
	/* a very deep NOT chain is refused, not a stack overflow */
	enum { DEEP = 5000 };
	struct store_search *chain = calloc(DEEP, sizeof(*chain));
	for (int i = 0; i < DEEP - 1; i++)
		chain[i] = (struct store_search){ .key = STORE_SK_NOT, .sub = &chain[i + 1] };
	chain[DEEP - 1] = K(STORE_SK_ALL);
	assert_true(strncmp(run(f, &sc, &chain[0]), "error -5", 8) == 0);
	free(chain);
	struct store_search_ctx other = { .account_id = f->acct2, .mailbox_id = f->inbox };
	assert_true(strncmp(run(f, &other, &all), "error -2", 8) == 0);
	assert_int_equal(store_search_day(1970, 1, 1), 0);
	assert_int_equal(store_search_day(2000, 3, 1), 11017);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = { T(test_keys), T(test_combinations) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
