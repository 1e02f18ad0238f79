/* test_messages_backends.c: messages through sql.h on both backends: SQLite always,
 * PostgreSQL when POSTAMT_TEST_PG names a server (scripts/pg-fixture run; without it
 * those tests are skipped, saying why). Delivery to several accounts, APPEND, the
 * quota refusing exactly at the limit, the mailbox snapshot, listings, metadata and
 * bodies (one of several PostgreSQL chunks, read whole and in part), flags with
 * MODSEQ and the UNCHANGEDSINCE guard, EXPUNGE, COPY, MOVE and REPLACE with their quota, the
 * removal of a mailbox and an account (no email row left behind on PostgreSQL), and
 * two stores on one database (two nodes); SORT orders and THREAD keys. */
#include "helpers.h"
#include "test_pg.h"
#include "store_search.h"

#include <libpq-fe.h>

struct mfix {
	char dir[256];
	struct store *s;
	struct arena *a;
	const char *pg; /* NULL: SQLite */
	int64_t alice, bob;
};

static struct store *open_backend(const char *dir, const char *pg)
{
	struct store_options opt = { .create = true, .no_fsync = true, .postgresql = pg, .read_conns = 2 };
	struct store *s = NULL;
	const char *err = NULL;
	if (store_open(dir, &opt, &s, &err) < 0)
		fail_msg("store_open: %s", err);
	return s;
}

static int setup(void **state, const char *pg)
{
	struct mfix *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/postamt-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->pg = pg;
	if (pg != NULL)
		test_pg_wipe(pg);
	f->s = open_backend(f->dir, pg);
	f->a = arena_new();
	const char *err;
	if (store_domain_add(f->s, "example.test", &err) < 0 ||
	    store_account_add(f->s, "alice@example.test", "$y$a", 0, &f->alice, &err) < 0 ||
	    store_account_add(f->s, "bob@example.test", "$y$b", 0, &f->bob, &err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int setup_sqlite(void **state)
{
	return setup(state, NULL);
}

static int setup_pg(void **state)
{
	return setup(state, test_pg_uri("postamt_test_messages"));
}

static int teardown(void **state)
{
	struct mfix *f = *state;
	if (f == NULL)
		return 0;
	store_close(&f->s);
	arena_free(&f->a);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static int64_t inbox(struct mfix *f, struct store *s, int64_t account)
{
	struct store_mailbox mb;
	const char *err;
	assert_int_equal(store_mailbox_get(s, f->a, account, "INBOX", &mb, &err), 1);
	return mb.id;
}

/* A message of n bytes (CRLF lines of printable text), in the arena. */
static char *make_msg(struct arena *a, const char *subject, size_t n)
{
	char *m = arena_alloc(a, n + 1);
	int h = snprintf(m, n + 1, "Subject: %s\r\nMessage-ID: <%s@t>\r\n\r\n", subject, subject);
	for (size_t i = (size_t)h; i < n; i++)
		m[i] = (i + 2) % 78 == 0 ? '\r' : (i + 1) % 78 == 0 ? '\n' : (char)('a' + i % 26);
	m[n - 2] = '\r';
	m[n - 1] = '\n';
	m[n] = '\0';
	return m;
}

static void test_deliver_and_read(void **state)
{
	struct mfix *f = *state;
	const char *err;
	int64_t accts[2] = { f->alice, f->bob };
	int res[2];
	uint32_t uids[2];
	const char *small = make_msg(f->a, "small", 300);
	struct store_delivery d = { .data = small, .len = strlen(small), .accounts = accts, .naccounts = 2,
				    .return_path = "s@elsewhere.test", .results = res, .uids = uids };
	assert_int_equal(store_deliver(f->s, &d, &err), 1);
	assert_int_equal(res[0], 1);
	assert_int_equal(res[1], 1);
	assert_int_equal(uids[0], 1);
	/* several chunks on PostgreSQL (256 KiB each) */
	size_t bign = 600 * 1024 + 17;
	const char *big = make_msg(f->a, "big", bign);
	struct store_delivery d2 = { .data = big, .len = bign, .accounts = &f->alice, .naccounts = 1 };
	assert_int_equal(store_deliver(f->s, &d2, &err), 1);

	int64_t mb = inbox(f, f->s, f->alice);
	struct store_mailbox_snapshot snap;
	assert_int_equal(store_mailbox_snapshot(f->s, f->a, f->alice, mb, false, 0, &snap, &err), 1);
	assert_int_equal(snap.nuids, 2);
	assert_int_equal(snap.uids[0], 1);
	assert_int_equal(snap.uids[1], 2);
	assert_int_equal(snap.mb.messages, 2);
	assert_int_equal(snap.mb.unseen, 2);
	assert_int_equal(snap.first_unseen, 1);

	const char *data;
	size_t len;
	assert_int_equal(store_msg_read(f->s, f->a, f->alice, mb, 1, &data, &len, &err), 1);
	const char *rp = "Return-Path: <s@elsewhere.test>\r\n";
	assert_int_equal(len, strlen(rp) + strlen(small));
	assert_memory_equal(data, rp, strlen(rp));
	assert_memory_equal(data + strlen(rp), small, strlen(small));
	assert_int_equal(store_msg_read(f->s, f->a, f->alice, mb, 2, &data, &len, &err), 1);
	assert_int_equal(len, bign);
	assert_memory_equal(data, big, bign);
	/* the fd readers (IMAP FETCH, POP3, JMAP blobs) */
	int fd;
	uint64_t size;
	assert_int_equal(store_msg_open(f->s, f->alice, mb, 2, &fd, &size, &err), 1);
	assert_int_equal(size, bign);
	char part[1000];
	assert_int_equal(pread(fd, part, sizeof(part), 262000), (ssize_t)sizeof(part));
	assert_memory_equal(part, big + 262000, sizeof(part));
	close(fd);
	/* a range: the file has the message's size and at least those bytes (on
	 * PostgreSQL only the chunks holding them were read) */
	assert_int_equal(store_msg_open_range(f->s, f->alice, mb, 2, 524000, 2000, &fd, &size, &err), 1);
	assert_int_equal(size, bign);
	assert_int_equal(pread(fd, part, sizeof(part), 524500), (ssize_t)sizeof(part));
	assert_memory_equal(part, big + 524500, sizeof(part));
	close(fd);
	assert_int_equal(store_msg_open(f->s, f->bob, mb, 2, &fd, &size, &err), 0); /* another account's */

	struct store_msg *msgs;
	size_t n;
	assert_int_equal(store_msg_list(f->s, f->a, f->alice, mb, NULL, 0, &msgs, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_int_equal(msgs[1].size, bign);
	struct store_msg_meta meta;
	assert_int_equal(store_msg_meta(f->s, f->a, f->alice, mb, 1, &meta, &err), 1);
	assert_string_equal(meta.subject, "small");
	assert_non_null(strstr(meta.envelope, "\"<small@t>\""));
	int64_t in;
	struct store_msg_meta em;
	assert_int_equal(store_email_meta(f->s, f->a, f->alice, meta.m.email_id, &em, &in, &err), 1);
	assert_int_equal(in, mb);
	/* one email row for both copies */
	int64_t bmb = inbox(f, f->s, f->bob);
	struct store_msg_meta bm;
	assert_int_equal(store_msg_meta(f->s, f->a, f->bob, bmb, 1, &bm, &err), 1);
	assert_int_equal(bm.m.email_id, meta.m.email_id);
	assert_int_equal(store_msg_read(f->s, f->a, f->bob, bmb, 1, &data, &len, &err), 1);
	assert_int_equal(len, strlen(rp) + strlen(small));
}

static void test_append_quota_exact(void **state)
{
	struct mfix *f = *state;
	const char *err;
	int64_t carol;
	assert_int_equal(store_account_add(f->s, "carol@example.test", "$y$c", 3000, &carol, &err), 1);
	int64_t mb = inbox(f, f->s, carol);
	const char *m = make_msg(f->a, "q", 1000);
	for (int i = 0; i < 3; i++) {
		struct store_append ap = { .account_id = carol, .mailbox_id = mb, .data = m, .len = 1000,
					   .flags = STORE_F_SEEN };
		assert_int_equal(store_append(f->s, &ap, &err), 1);
		assert_int_equal(ap.uid, (uint32_t)i + 1);
		assert_true(ap.uidvalidity > 0);
	}
	struct store_append one = { .account_id = carol, .mailbox_id = mb, .data = "x\r\n", .len = 3 };
	assert_int_equal(store_append(f->s, &one, &err), STORE_EOVERQUOTA);
	assert_non_null(strstr(err, "3000 of 3000"));
	struct store_delivery d = { .data = "x\r\n", .len = 3, .accounts = &carol, .naccounts = 1 };
	assert_int_equal(store_deliver(f->s, &d, &err), STORE_EOVERQUOTA);
	struct store_mailbox_snapshot snap;
	assert_int_equal(store_mailbox_snapshot(f->s, f->a, carol, mb, false, 0, &snap, &err), 1);
	assert_int_equal(snap.nuids, 3);
	assert_int_equal(snap.mb.unseen, 0);
	assert_int_equal(snap.mb.size, 3000);
	uint64_t usage, limit, messages;
	assert_int_equal(store_quota_get(f->s, carol, &usage, &limit, &messages, &err), 1);
	assert_int_equal(usage, 3000);
	assert_int_equal(limit, 3000);
	assert_int_equal(messages, 3);
}

static void test_flags_modseq(void **state)
{
	struct mfix *f = *state;
	const char *err;
	int64_t mb = inbox(f, f->s, f->alice);
	const char *m = make_msg(f->a, "f", 200);
	for (int i = 0; i < 2; i++) {
		struct store_append ap = { .account_id = f->alice, .mailbox_id = mb, .data = m, .len = 200 };
		assert_int_equal(store_append(f->s, &ap, &err), 1);
	}
	const char *kw[] = { "$Work", NULL };
	struct store_range r = { 1, 1 };
	struct store_flag_change fc = { .account_id = f->alice, .mailbox_id = mb, .uids = { &r, 1 },
					.op = STORE_FLAGS_ADD, .flags = STORE_F_FLAGGED | STORE_F_SEEN, .keywords = kw };
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
	assert_int_equal(fc.nchanged, 1);
	uint64_t ms = fc.modseq;
	assert_true(ms > 0);
	struct store_msg *msgs;
	size_t n;
	assert_int_equal(store_msg_list(f->s, f->a, f->alice, mb, NULL, 0, &msgs, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_int_equal(msgs[0].flags, STORE_F_FLAGGED | STORE_F_SEEN);
	assert_string_equal(msgs[0].keywords, "$Work");
	assert_int_equal(msgs[0].modseq, ms);
	/* CHANGEDSINCE and the snapshot's changes */
	assert_int_equal(store_msg_list(f->s, f->a, f->alice, mb, NULL, ms - 1, &msgs, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(msgs[0].uid, 1);
	/* the guard: unchanged since an older MODSEQ fails, the current one passes */
	struct store_flag_change g = { .account_id = f->alice, .mailbox_id = mb, .uids = { &r, 1 },
				       .op = STORE_FLAGS_REMOVE, .flags = STORE_F_SEEN, .unchanged_since = ms - 1 };
	assert_int_equal(store_flags(f->s, f->a, &g, &err), 1);
	assert_int_equal(g.nmodified, 1);
	assert_int_equal(g.nchanged, 0);
	g.unchanged_since = ms;
	g.nmodified = 0;
	assert_int_equal(store_flags(f->s, f->a, &g, &err), 1);
	assert_int_equal(g.nchanged, 1);
	assert_true(g.modseq > ms);
	struct store_mailbox_snapshot snap;
	assert_int_equal(store_mailbox_snapshot(f->s, f->a, f->alice, mb, true, ms, &snap, &err), 1);
	assert_int_equal(snap.nchanged, 1);
	assert_int_equal(snap.mb.unseen, 2);
	assert_int_equal(snap.mb.highestmodseq, g.modseq);
	bool work = false;
	for (size_t i = 0; snap.keywords[i] != NULL; i++)
		work |= strcmp(snap.keywords[i], "$Work") == 0;
	assert_true(work);
}

/* Emails rows left on PostgreSQL (0 on SQLite, not asked). */
static long pg_emails(struct mfix *f)
{
	if (f->pg == NULL)
		return 0;
	PGconn *c = PQconnectdb(f->pg);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, "SELECT (SELECT count(*) FROM emails) + (SELECT count(*) FROM message_chunks)");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	long n = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return n;
}

static void test_expunge_copy_move(void **state)
{
	struct mfix *f = *state;
	const char *err;
	int64_t mb = inbox(f, f->s, f->alice);
	struct store_mailbox arch;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->alice, "Archive", &arch, &err), 1);
	const char *m = make_msg(f->a, "e", 400);
	for (int i = 0; i < 3; i++) {
		struct store_append ap = { .account_id = f->alice, .mailbox_id = mb, .data = m, .len = 400,
					   .flags = i == 0 ? STORE_F_DELETED : 0 };
		assert_int_equal(store_append(f->s, &ap, &err), 1);
	}
	/* COPY 2 to Archive (charged), MOVE 3 there (not charged) */
	struct store_range r2 = { 2, 2 }, r3 = { 3, 3 };
	struct store_copy cp = { .account_id = f->alice, .src_mailbox_id = mb, .dst_mailbox_id = arch.id,
				 .uids = { &r2, 1 } };
	assert_int_equal(store_copy(f->s, f->a, &cp, &err), 1);
	assert_int_equal(cp.n, 1);
	assert_int_equal(cp.dst_uids[0], 1);
	struct store_copy mv = { .account_id = f->alice, .src_mailbox_id = mb, .dst_mailbox_id = arch.id,
				 .uids = { &r3, 1 }, .move = true };
	assert_int_equal(store_copy(f->s, f->a, &mv, &err), 1);
	assert_int_equal(mv.dst_uids[0], 2);
	uint64_t usage, limit, messages;
	assert_int_equal(store_quota_get(f->s, f->alice, &usage, &limit, &messages, &err), 1);
	assert_int_equal(usage, 1600);
	assert_int_equal(messages, 4);
	/* EXPUNGE: only the \Deleted one */
	uint32_t *gone;
	size_t n;
	assert_int_equal(store_expunge(f->s, f->a, f->alice, mb, NULL, true, &gone, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(gone[0], 1);
	uint32_t *uids;
	assert_int_equal(store_uid_list(f->s, f->a, f->alice, mb, &uids, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(uids[0], 2);
	assert_int_equal(store_vanished(f->s, f->a, f->alice, mb, 0, &uids, &n, &err), 1);
	assert_int_equal(n, 2); /* 1 expunged, 3 moved away */
	const char *data;
	size_t len;
	assert_int_equal(store_msg_read(f->s, f->a, f->alice, arch.id, 2, &data, &len, &err), 1);
	assert_memory_equal(data, m, 400);
	assert_int_equal(store_quota_get(f->s, f->alice, &usage, &limit, &messages, &err), 1);
	assert_int_equal(usage, 1200);
	assert_int_equal(messages, 3);
	/* REPLACE (RFC 8508): Archive's 2 by a new message, in one operation */
	const char *m2 = make_msg(f->a, "r", 300);
	struct store_append rep = { .account_id = f->alice, .mailbox_id = arch.id, .data = m2, .len = 300 };
	struct store_append_many am = { .account_id = f->alice, .mailbox_id = arch.id, .msgs = &rep, .n = 1,
					.expunge_mailbox_id = arch.id, .expunge_uid = 2 };
	assert_int_equal(store_append_many(f->s, &am, &err), 1);
	assert_int_equal(rep.uid, 3);
	assert_int_equal(store_uid_list(f->s, f->a, f->alice, arch.id, &uids, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_int_equal(uids[1], 3);
	assert_int_equal(store_msg_read(f->s, f->a, f->alice, arch.id, 3, &data, &len, &err), 1);
	assert_memory_equal(data, m2, 300);
	assert_int_equal(store_quota_get(f->s, f->alice, &usage, &limit, &messages, &err), 1);
	assert_int_equal(usage, 1100);
	assert_int_equal(messages, 3);
	/* the email of the expunged message is gone; deleting the mailbox and the
	 * account releases the rest */
	assert_int_equal(store_mailbox_delete(f->s, f->alice, "Archive", &err), 1);
	assert_int_equal(store_quota_get(f->s, f->alice, &usage, &limit, &messages, &err), 1);
	assert_int_equal(usage, 400);
	if (f->pg != NULL)
		assert_int_equal(pg_emails(f), 2); /* one email and its chunk */
	assert_int_equal(store_account_del(f->s, "alice@example.test", &err), 1);
	assert_int_equal(pg_emails(f), 0);
}

/* SORT and THREAD keys: written with the message on either engine (APPEND, MOVE,
 * EXPUNGE keep them with it), the same orders and thread keys on both. */
static void test_sort_thread(void **state)
{
	struct mfix *f = *state;
	const char *err;
	int64_t mb = inbox(f, f->s, f->alice);
	struct store_mailbox arch;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->alice, "Archive", &arch, &err), 1);
	static const char *const msgs[] = {
		"From: Zed <z@x.test>\r\nDate: Tue, 1 Jan 2030 10:00:00 +0000\r\nSubject: beta\r\n"
		"Message-ID: <b@t>\r\n\r\nbody b\r\n",
		"From: adam <a@x.test>\r\nDate: Mon, 1 Jan 2029 10:00:00 +0000\r\nSubject: Alpha\r\n"
		"Message-ID: <a@t>\r\n\r\nbody a, longer than the others\r\n",
		"From: Mia <m@x.test>\r\nDate: Wed, 1 Jan 2031 10:00:00 +0000\r\nSubject: Re: alpha\r\n"
		"Message-ID: <r@t>\r\nIn-Reply-To: <a@t>\r\nReferences: <a@t>\r\n\r\nr\r\n",
		"From: Bo <o@x.test>\r\nDate: Thu, 1 Jan 2032 10:00:00 +0000\r\nSubject: gamma\r\n"
		"Message-ID: <g@t>\r\n\r\ngone\r\n",
	};
	for (size_t i = 0; i < 4; i++) {
		struct store_append ap = { .account_id = f->alice, .mailbox_id = mb, .data = msgs[i],
					   .len = strlen(msgs[i]), .flags = i == 3 ? STORE_F_DELETED : 0 };
		assert_int_equal(store_append(f->s, &ap, &err), 1);
	}
	uint32_t *gone, *uids;
	size_t n;
	assert_int_equal(store_expunge(f->s, f->a, f->alice, mb, NULL, true, &gone, &n, &err), 1);
	assert_int_equal(n, 1);
	/* SUBJECT (base subject, case-folded), then the UID */
	struct store_sort_crit subj = { STORE_SORT_SUBJECT, false };
	assert_int_equal(store_sort_uids(f->s, f->a, f->alice, mb, NULL, 0, &subj, 1, &uids, &n, &err), 1);
	assert_int_equal(n, 3);
	assert_int_equal(uids[0], 2);
	assert_int_equal(uids[1], 3);
	assert_int_equal(uids[2], 1);
	struct store_sort_crit date[2] = { { STORE_SORT_DISPLAYFROM, true }, { STORE_SORT_DATE, false } };
	assert_int_equal(store_sort_uids(f->s, f->a, f->alice, mb, NULL, 0, date, 2, &uids, &n, &err), 1);
	assert_int_equal(n, 3);
	assert_int_equal(uids[0], 1); /* zed, mia, adam */
	assert_int_equal(uids[1], 3);
	assert_int_equal(uids[2], 2);
	uint32_t only[2] = { 1, 2 };
	struct store_sort_crit size = { STORE_SORT_SIZE, true };
	assert_int_equal(store_sort_uids(f->s, f->a, f->alice, mb, only, 2, &size, 1, &uids, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_int_equal(uids[0], 2);
	assert_int_equal(uids[1], 1);
	struct store_thread_key *k;
	assert_int_equal(store_thread_keys(f->s, f->a, f->alice, mb, NULL, 0, &k, &n, &err), 1);
	assert_int_equal(n, 3);
	assert_int_equal(k[2].uid, 3);
	assert_true(k[2].reply);
	assert_string_equal(k[2].subject, "ALPHA");
	assert_string_equal(k[2].msgid, "<r@t>");
	assert_string_equal(k[2].refs, "<a@t>");
	assert_null(k[0].refs);
	/* MOVE takes the keys along */
	struct store_range r3 = { 3, 3 };
	struct store_copy mv = { .account_id = f->alice, .src_mailbox_id = mb, .dst_mailbox_id = arch.id,
				 .uids = { &r3, 1 }, .move = true };
	assert_int_equal(store_copy(f->s, f->a, &mv, &err), 1);
	assert_int_equal(store_thread_keys(f->s, f->a, f->alice, arch.id, NULL, 0, &k, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(k[0].msgid, "<r@t>");
	assert_int_equal(store_sort_uids(f->s, f->a, f->alice, mb, NULL, 0, &subj, 1, &uids, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_int_equal(store_sort_uids(f->s, f->a, f->bob, mb, NULL, 0, &subj, 1, &uids, &n, &err),
			 STORE_ENOTFOUND);
}

/* PostgreSQL: a message delivered through one node is read and flagged through the
 * other, with the same MODSEQ. */
static void test_pg_two_nodes(void **state)
{
	struct mfix *f = *state;
	char dir2[256];
	snprintf(dir2, sizeof(dir2), "/tmp/postamt-test-XXXXXX");
	assert_non_null(mkdtemp(dir2));
	struct store *s2 = open_backend(dir2, f->pg);
	const char *err;
	const char *m = make_msg(f->a, "nodes", 5000);
	struct store_delivery d = { .data = m, .len = 5000, .accounts = &f->alice, .naccounts = 1 };
	assert_int_equal(store_deliver(f->s, &d, &err), 1);
	int64_t mb = inbox(f, s2, f->alice);
	const char *data;
	size_t len;
	assert_int_equal(store_msg_read(s2, f->a, f->alice, mb, 1, &data, &len, &err), 1);
	assert_int_equal(len, 5000);
	assert_memory_equal(data, m, 5000);
	struct store_range r = { 1, 1 };
	struct store_flag_change fc = { .account_id = f->alice, .mailbox_id = mb, .uids = { &r, 1 },
					.op = STORE_FLAGS_ADD, .flags = STORE_F_ANSWERED };
	assert_int_equal(store_flags(s2, f->a, &fc, &err), 1);
	struct store_msg *msgs;
	size_t n;
	assert_int_equal(store_msg_list(f->s, f->a, f->alice, mb, NULL, 0, &msgs, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(msgs[0].flags, STORE_F_ANSWERED);
	assert_int_equal(msgs[0].modseq, fc.modseq);
	/* both nodes deliver into one mailbox: distinct UIDs */
	struct store_delivery d2 = { .data = m, .len = 5000, .accounts = &f->alice, .naccounts = 1 };
	assert_int_equal(store_deliver(s2, &d2, &err), 1);
	assert_int_equal(store_deliver(f->s, &d, &err), 1);
	uint32_t *uids;
	assert_int_equal(store_uid_list(f->s, f->a, f->alice, mb, &uids, &n, &err), 1);
	assert_int_equal(n, 3);
	assert_int_equal(uids[2], 3);
	store_close(&s2);
	rm_rf(dir2);
}

int main(void)
{
	const struct CMUnitTest lite[] = {
		cmocka_unit_test_setup_teardown(test_deliver_and_read, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_append_quota_exact, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_flags_modseq, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_expunge_copy_move, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_sort_thread, setup_sqlite, teardown),
	};
	const struct CMUnitTest pg[] = {
		cmocka_unit_test_setup_teardown(test_deliver_and_read, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_append_quota_exact, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_flags_modseq, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_expunge_copy_move, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_sort_thread, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_pg_two_nodes, setup_pg, teardown),
	};
	int failed = cmocka_run_group_tests_name("sqlite", lite, NULL, NULL);
	const char *uri = test_pg_uri("postamt_test_messages");
	if (uri == NULL) {
		printf("postgresql: %zu tests skipped: POSTAMT_TEST_PG is not set"
		       " (run under scripts/pg-fixture run)\n", sizeof(pg) / sizeof(pg[0]));
		return failed;
	}
	return failed + cmocka_run_group_tests_name("postgresql", pg, NULL, NULL);
}
