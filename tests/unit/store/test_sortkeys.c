/* test_sortkeys.c: SORT and THREAD keys stored at delivery (store_sortkey.c) give the
 * order the derivation from each message's metadata gives (the path SORT took before,
 * kept here as the reference): every key, REVERSE, several keys, ties (same date, same
 * subject, missing Date: falling back to the internal date), on a generated mailbox of
 * 900 messages with encoded subjects, umlauts, list blobs, groups and display names;
 * for the whole mailbox and for a few UIDs. The thread keys equal the metadata's; the
 * rows follow their messages through expunge, COPY, MOVE and mailbox removal; and a
 * store whose keys are missing (one made before schema 3) gets them by the migration. */
#include "helpers.h"

#include <sqlite3.h>

#include "buf.h"
#include "store_backup.h"
#include "imap_thread.h"
#include "mail.h"

#define NMSG 900

static uint32_t rnd(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return (*x >> 8) & 0xffffff;
}

static const char *const subjects[] = {
	"Meeting",
	"Re: Meeting",
	"RE: re: meeting",
	"Fwd: Meeting",
	"[fwd: Meeting]",
	"Meeting (fwd)",
	"[list] Re: Meeting",
	"Re: [list] Meeting",
	"=?UTF-8?B?R3LDtg==?= =?UTF-8?B?w59l?=",
	"Re: =?UTF-8?Q?Gr=C3=B6=C3=9Fe?=",
	"=?ISO-8859-1?Q?=DCbersicht?=",
	"Übersicht",
	"übersicht",
	"  spaced\t  out  ",
	"[blob only]",
	"",
	"Zürich",
	"zebra",
	"Apfel",
	"Re: Fw: Re: Apfel",
};
static const char *const froms[] = {
	"Anna Müller <anna@example.test>",
	"=?UTF-8?Q?J=C3=BCrgen?= <jurgen@example.test>",
	"bob@example.test",
	"\"Zed, The\" <zed@example.test>",
	"team: carl@example.test, dora@example.test;",
	"<eve@example.test>",
	"Ärger <aerger@example.test>",
	"anna@example.test",
	NULL,
};
static const char *const dates[] = {
	"Mon, 7 Dec 2026 10:00:00 +0000",
	"Mon, 7 Dec 2026 11:00:00 +0100", /* the same instant as the one above */
	"Sun, 6 Dec 2026 23:59:59 -0800",
	"Tue, 1 Jan 2019 00:00:00 +0000",
	"not a date",
	NULL,
};
#define N(a) (sizeof(a) / sizeof(a[0]))

static void fill(struct fixture *f, uint32_t seed)
{
	uint32_t x = seed;
	for (int i = 0; i < NMSG; i++) {
		struct buf b = { 0 };
		const char *from = froms[rnd(&x) % N(froms)], *to = froms[rnd(&x) % N(froms)];
		const char *cc = froms[rnd(&x) % N(froms)], *date = dates[rnd(&x) % N(dates)];
		if (from)
			buf_printf(&b, "From: %s\r\n", from);
		if (to)
			buf_printf(&b, "To: %s\r\n", to);
		if (cc)
			buf_printf(&b, "Cc: %s\r\n", cc);
		if (date)
			buf_printf(&b, "Date: %s\r\n", date);
		buf_printf(&b, "Subject: %s\r\n", subjects[rnd(&x) % N(subjects)]);
		buf_printf(&b, "Message-ID: <m%d@example.test>\r\n", i);
		if (i > 0 && rnd(&x) % 3 == 0)
			buf_printf(&b, "In-Reply-To: <m%u@example.test>\r\n", rnd(&x) % (uint32_t)i);
		if (i > 1 && rnd(&x) % 3 == 0)
			buf_printf(&b, "References: <m%u@example.test> <m%u@example.test>\r\n", rnd(&x) % (uint32_t)i,
				   rnd(&x) % (uint32_t)i);
		buf_puts(&b, "\r\n");
		for (uint32_t k = rnd(&x) % 40; k > 0; k--) /* sizes differ, some are equal */
			buf_puts(&b, "body line\r\n");
		int res = 0;
		uint32_t uid = 0;
		int64_t acct = f->acct;
		/* internal dates with many ties: 20 distinct values */
		struct store_delivery d = { .data = b.data, .len = b.len, .accounts = &acct, .naccounts = 1,
					    .results = &res, .uids = &uid,
					    .internal_date = 1700000000 + (int64_t)(rnd(&x) % 20) * 3600 };
		const char *err = NULL;
		if (store_deliver(f->s, &d, &err) != 1)
			fail_msg("deliver: %s", err ? err : "");
		buf_free(&b);
	}
}

/* ---------------------------------------------------------------- the reference */

struct item {
	uint32_t uid;
	int64_t num[STORE_SORT_DISPLAYTO + 1];
	const char *str[STORE_SORT_DISPLAYTO + 1];
};
static const struct store_sort_crit *g_crit;
static size_t g_ncrit;

static int item_cmp(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	for (size_t k = 0; k < g_ncrit; k++) {
		enum store_sort_key key = g_crit[k].key;
		int r;
		if (key == STORE_SORT_ARRIVAL || key == STORE_SORT_DATE || key == STORE_SORT_SIZE)
			r = a->num[key] < b->num[key] ? -1 : a->num[key] > b->num[key];
		else
			r = strcmp(a->str[key], b->str[key]);
		if (r != 0)
			return g_crit[k].reverse ? -r : r;
	}
	return a->uid < b->uid ? -1 : a->uid > b->uid;
}

/* What SORT computed before the keys were stored: metadata, derivation, qsort. */
static char *reference(struct fixture *f, const struct store_uidset *set, const struct store_sort_crit *crit,
		       size_t ncrit)
{
	struct store_msg_meta *m;
	size_t n;
	const char *err;
	assert_int_equal(store_msg_meta_list(f->s, f->a, f->acct, f->inbox, set, &m, &n, &err), 1);
	struct item *it = calloc(n + 1, sizeof(*it));
	for (size_t i = 0; i < n; i++) {
		struct imap_sort_keys k;
		imap_sort_keys_of(f->a, m[i].subject, m[i].from, m[i].to, m[i].cc, &k);
		it[i].uid = m[i].m.uid;
		it[i].num[STORE_SORT_ARRIVAL] = m[i].m.internal_date;
		it[i].num[STORE_SORT_DATE] = m[i].date ? m[i].date : m[i].m.internal_date;
		it[i].num[STORE_SORT_SIZE] = (int64_t)m[i].m.size;
		it[i].str[STORE_SORT_SUBJECT] = k.subject;
		it[i].str[STORE_SORT_FROM] = k.from;
		it[i].str[STORE_SORT_TO] = k.to;
		it[i].str[STORE_SORT_CC] = k.cc;
		it[i].str[STORE_SORT_DISPLAYFROM] = k.display_from;
		it[i].str[STORE_SORT_DISPLAYTO] = k.display_to;
	}
	g_crit = crit;
	g_ncrit = ncrit;
	qsort(it, n, sizeof(*it), item_cmp);
	struct buf b = { 0 };
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%u,", it[i].uid);
	free(it);
	char *s = xstrdup(b.len ? buf_str(&b) : "");
	buf_free(&b);
	return s;
}

static char *stored(struct fixture *f, const uint32_t *only, size_t nonly, const struct store_sort_crit *crit,
		    size_t ncrit)
{
	uint32_t *u;
	size_t n;
	const char *err;
	assert_int_equal(store_sort_uids(f->s, f->a, f->acct, f->inbox, only, nonly, crit, ncrit, &u, &n, &err), 1);
	struct buf b = { 0 };
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%u,", u[i]);
	char *s = xstrdup(b.len ? buf_str(&b) : "");
	buf_free(&b);
	return s;
}

/* Every single key both ways, and pairs and triples of keys in mixed directions. */
static void compare_all(struct fixture *f)
{
	int cmp = 0;
	for (int k = 0; k <= STORE_SORT_DISPLAYTO; k++) {
		for (int rev = 0; rev < 2; rev++) {
			struct store_sort_crit c = { (enum store_sort_key)k, rev };
			char *want = reference(f, NULL, &c, 1), *got = stored(f, NULL, 0, &c, 1);
			if (strcmp(want, got) != 0)
				fail_msg("key %d reverse %d:\nwant %.200s\ngot  %.200s", k, rev, want, got);
			free(want);
			free(got);
			cmp++;
		}
	}
	uint32_t x = 7;
	for (int t = 0; t < 60; t++) {
		struct store_sort_crit c[3];
		size_t nc = 2 + rnd(&x) % 2;
		for (size_t i = 0; i < nc; i++)
			c[i] = (struct store_sort_crit){ (enum store_sort_key)(rnd(&x) % (STORE_SORT_DISPLAYTO + 1)),
							 rnd(&x) % 2 };
		char *want = reference(f, NULL, c, nc), *got = stored(f, NULL, 0, c, nc);
		assert_string_equal(want, got);
		free(want);
		free(got);
		/* a few UIDs (the lookup path), in no particular order */
		uint32_t only[25];
		struct store_range r[25];
		for (size_t i = 0; i < 25; i++) {
			only[i] = 1 + rnd(&x) % (NMSG + 10); /* some beyond the mailbox */
			r[i] = (struct store_range){ only[i], only[i] };
		}
		struct store_uidset set = { r, 25 };
		want = reference(f, &set, c, nc);
		got = stored(f, only, 25, c, nc);
		assert_string_equal(want, got);
		free(want);
		free(got);
		cmp += 2;
	}
	assert_int_equal(cmp, 2 * (STORE_SORT_DISPLAYTO + 1) + 120);
}

static void test_sort_equals_reference(void **state)
{
	struct fixture *f = *state;
	fill(f, 42);
	compare_all(f);
	/* the ties are real: many messages share a date, a subject, an arrival */
	struct store_sort_crit c = { STORE_SORT_DATE, false };
	char *got = stored(f, NULL, 0, &c, 1);
	assert_true(strlen(got) > 3 * NMSG);
	free(got);
}

/* The stored thread keys are what THREAD derived from the metadata. */
static void test_thread_keys(void **state)
{
	struct fixture *f = *state;
	fill(f, 3);
	struct store_thread_key *k;
	size_t nk;
	struct store_msg_meta *m;
	size_t nm;
	const char *err;
	assert_int_equal(store_thread_keys(f->s, f->a, f->acct, f->inbox, NULL, 0, &k, &nk, &err), 1);
	assert_int_equal(store_msg_meta_list(f->s, f->a, f->acct, f->inbox, NULL, &m, &nm, &err), 1);
	assert_int_equal(nk, NMSG);
	assert_int_equal(nm, NMSG);
	size_t with_refs = 0;
	for (size_t i = 0; i < nk; i++) {
		assert_int_equal(k[i].uid, m[i].m.uid);
		assert_int_equal(k[i].sent, m[i].date ? m[i].date : m[i].m.internal_date);
		bool reply;
		assert_string_equal(k[i].subject, imap_base_subject(f->a, m[i].subject, &reply));
		assert_int_equal(k[i].reply, reply);
		const char **id = mail_msgids(f->a, m[i].message_id, 1);
		assert_non_null(k[i].msgid);
		assert_string_equal(k[i].msgid, id[0]);
		const char **refs = mail_msgids(f->a, m[i].references, 100);
		if (refs[0] == NULL)
			refs = mail_msgids(f->a, m[i].in_reply_to, 1);
		struct buf b = { 0 };
		for (size_t r = 0; refs[r] != NULL; r++)
			buf_printf(&b, "%s%s", r ? " " : "", refs[r]);
		if (b.len == 0) {
			assert_null(k[i].refs);
		} else {
			assert_non_null(k[i].refs);
			assert_string_equal(k[i].refs, buf_str(&b));
			with_refs++;
		}
		buf_free(&b);
	}
	assert_true(with_refs > NMSG / 4);
	/* a few UIDs only */
	uint32_t only[] = { 5, 3, 700, 9999 };
	assert_int_equal(store_thread_keys(f->s, f->a, f->acct, f->inbox, only, 4, &k, &nk, &err), 1);
	assert_int_equal(nk, 3);
	assert_int_equal(k[0].uid, 3);
	assert_int_equal(k[1].uid, 5);
	assert_int_equal(k[2].uid, 700);
}

static void sql(struct fixture *f, const char *q)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/db/store.sqlite", f->dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	char *err = NULL;
	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err);
	sqlite3_close(db);
}

static int64_t sql_int(struct fixture *f, const char *q)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/db/store.sqlite", f->dir);
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Keys leave with their message and move with it. */
static void test_rows_follow_messages(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 10; i++) {
		char msg[128];
		snprintf(msg, sizeof(msg), "Subject: s%d\r\nDate: Mon, 7 Dec 2026 10:00:%02d +0000\r\n\r\nx\r\n", i, 59 - i);
		deliver1(f, f->acct, msg);
	}
	const char *err;
	int64_t other;
	assert_int_equal(store_mailbox_create(f->s, f->acct, "Other", 0, &other, &err), 1);
	struct store_range r;
	struct store_copy cp = { .account_id = f->acct, .src_mailbox_id = f->inbox, .dst_mailbox_id = other,
				 .uids = uidset1(&r, 1, 4) };
	assert_int_equal(store_copy(f->s, f->a, &cp, &err), 1);
	struct store_range r2;
	struct store_copy mv = { .account_id = f->acct, .src_mailbox_id = f->inbox, .dst_mailbox_id = other,
				 .uids = uidset1(&r2, 5, 6), .move = true };
	assert_int_equal(store_copy(f->s, f->a, &mv, &err), 1);
	struct store_range r3;
	struct store_uidset ex = uidset1(&r3, 9, 9);
	assert_int_equal(store_expunge(f->s, f->a, f->acct, f->inbox, &ex, false, NULL, NULL, &err), 1);
	struct store_sort_crit c = { STORE_SORT_DATE, false };
	char *got = stored(f, NULL, 0, &c, 1);
	assert_string_equal(got, "10,8,7,4,3,2,1,"); /* later seconds for lower numbers */
	free(got);
	uint32_t *u;
	size_t n;
	assert_int_equal(store_sort_uids(f->s, f->a, f->acct, other, NULL, 0, &c, 1, &u, &n, &err), 1);
	assert_int_equal(n, 6); /* copies 1..4 (s0..s3), moved 5..6 (s4, s5): by date s5 first */
	assert_int_equal(u[0], 6);
	assert_int_equal(u[5], 1);
	assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM msg_keys"), 13);
	assert_int_equal(store_mailbox_delete(f->s, f->acct, "Other", &err), 1);
	assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM msg_keys"), 7);
	assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM msg_keys k WHERE NOT EXISTS (SELECT 1 FROM messages m"
				    " WHERE m.mailbox_id = k.mailbox_id AND m.uid = k.uid)"),
			 0);
	/* renaming INBOX moves its rows to a new mailbox (UPDATE of mailbox_id, uid) */
	assert_int_equal(store_mailbox_rename(f->s, f->acct, "INBOX", "Old", &err), 1);
	struct store_mailbox old;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Old", &old, &err), 1);
	assert_int_equal(store_sort_uids(f->s, f->a, f->acct, old.id, NULL, 0, &c, 1, &u, &n, &err), 1);
	assert_int_equal(n, 7);
	assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM msg_keys WHERE mailbox_id = (SELECT id FROM mailboxes"
				    " WHERE name = 'Old')"),
			 7);
	assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM msg_keys k WHERE NOT EXISTS (SELECT 1 FROM messages m"
				    " WHERE m.mailbox_id = k.mailbox_id AND m.uid = k.uid)"),
			 0);
	/* another account's mailbox is not this account's to sort */
	assert_int_equal(store_sort_uids(f->s, f->a, f->acct2, f->inbox, NULL, 0, &c, 1, &u, &n, &err), STORE_ENOTFOUND);
}

static char *sql_text(struct fixture *f, const char *q)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/db/store.sqlite", f->dir);
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char *v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Keys come from the decoded header: RFC 2047 words (a padded B word followed by
 * another, a character split across Q words) before the base subject is taken. */
static void test_encoded_keys(void **state)
{
	struct fixture *f = *state;
	deliver1(f, f->acct,
		 "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BC?= =?UTF-8?Q?ller?= <jm@example.test>\r\n"
		 "To: =?ISO-8859-1?Q?=C4rger?= <ae@example.test>\r\n"
		 "Subject: Re: [liste] =?UTF-8?B?R3LDtg==?= =?UTF-8?B?w59l?= (fwd)\r\n"
		 "Message-ID: <a@example.test>\r\nReferences: <r1@example.test>\r\n <r2@example.test>\r\n"
		 "\r\nx\r\n");
	deliver1(f, f->acct,
		 "Subject: =?utf-8?q?Gr=C3=B6=C3?= =?utf-8?q?=9Fenordnung?=\r\nIn-Reply-To: <a@example.test> <b@x>\r\n"
		 "\r\nx\r\n");
	struct store_thread_key *k;
	size_t n;
	const char *err;
	assert_int_equal(store_thread_keys(f->s, f->a, f->acct, f->inbox, NULL, 0, &k, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(k[0].subject, "GRößE");
	assert_true(k[0].reply);
	assert_string_equal(k[0].msgid, "<a@example.test>");
	assert_string_equal(k[0].refs, "<r1@example.test> <r2@example.test>");
	assert_string_equal(k[1].subject, "GRößENORDNUNG");
	assert_false(k[1].reply);
	assert_null(k[1].msgid);
	assert_string_equal(k[1].refs, "<a@example.test>"); /* the first In-Reply-To id only */
	char *v = sql_text(f, "SELECT dfrom || '|' || from_ || '|' || dto || '|' || to_ || '|' || cc FROM msg_keys"
			      " WHERE uid = 1");
	assert_string_equal(v, "JüRGEN MüLLER|JM|ÄRGER|AE|");
	free(v);
	/* no Date: the sent date is the internal date */
	assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM msg_keys k JOIN messages m USING (mailbox_id, uid)"
				    " WHERE k.sent = m.internal_date AND k.arrival = m.internal_date AND k.size = m.size"),
			 2);
}

/* A store from before schema 3 (no keys, schema 2) gets them at the migration. */
static void test_migration_fills_keys(void **state)
{
	struct fixture *f = *state;
	fill(f, 99);
	char *before = stored(f, NULL, 0, &(struct store_sort_crit){ STORE_SORT_SUBJECT, true }, 1);
	store_close(&f->s);
	sql(f, "DROP TRIGGER msg_keys_delete; DROP TRIGGER msg_keys_move; DROP TABLE msg_keys;"
	       " UPDATE meta SET value = 2 WHERE key = 'schema'");
	struct store_options opt = { .migrate = true, .no_fsync = true };
	const char *err = NULL;
	assert_int_equal(store_open(f->dir, &opt, &f->s, &err), 1);
	assert_int_equal(sql_int(f, "SELECT value FROM meta WHERE key = 'schema'"), STORE_SCHEMA_VERSION);
	assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM msg_keys"), NMSG);
	char *after = stored(f, NULL, 0, &(struct store_sort_crit){ STORE_SORT_SUBJECT, true }, 1);
	assert_string_equal(before, after);
	free(before);
	free(after);
	compare_all(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sort_equals_reference, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_thread_keys, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_rows_follow_messages, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_encoded_keys, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_migration_fills_keys, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
