/* test_messages.c: delivery, APPEND, flags and keywords (incl. UNCHANGEDSINCE),
 * expunge and the vanished list, COPY/MOVE with COPYUID data, quota exactness and
 * enforcement, UID monotonicity, UIDVALIDITY stability, INBOX rename, message bodies
 * and metadata, email ids and JMAP change queries. */
#include "helpers.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *msg1 =
	"From: Alice <alice@example.test>\r\n"
	"To: a@example.test\r\n"
	"Subject: hello\r\n"
	"Message-ID: <m1@example.test>\r\n"
	"Date: Tue, 3 Mar 2026 10:00:00 +0100\r\n"
	"\r\n"
	"body one\r\n";
static const char *msg2 =
	"From: Bob <bob@example.test>\r\n"
	"Subject: second\r\n"
	"\r\n"
	"body two, a little longer\r\n";

static void test_deliver_and_read(void **state)
{
	struct fixture *f = *state;
	const char *err;
	/* bare LF input is stored with CRLF */
	const char *lf = "From: x@y.test\nSubject: lf\n\nline1\nline2\n";
	uint32_t uid = deliver1(f, f->acct, lf);
	assert_int_equal(uid, 1);
	const char *data;
	size_t len;
	assert_int_equal(store_msg_read(f->s, f->a, f->acct, f->inbox, uid, &data, &len, &err), 1);
	assert_string_equal(data, "From: x@y.test\r\nSubject: lf\r\n\r\nline1\r\nline2\r\n");
	int fd;
	uint64_t size;
	assert_int_equal(store_msg_open(f->s, f->acct, f->inbox, uid, &fd, &size, &err), 1);
	assert_int_equal(size, len);
	char buf[8];
	assert_int_equal(pread(fd, buf, 5, 31), 5);
	assert_memory_equal(buf, "line1", 5);
	close(fd);
	/* other account / missing uid */
	assert_int_equal(store_msg_open(f->s, f->acct2, f->inbox, uid, &fd, &size, &err), 0);
	assert_int_equal(store_msg_open(f->s, f->acct, f->inbox, 99, &fd, &size, &err), 0);

	uid = deliver1(f, f->acct, msg1);
	assert_int_equal(uid, 2);
	struct store_msg_meta mm;
	assert_int_equal(store_msg_meta(f->s, f->a, f->acct, f->inbox, 2, &mm, &err), 1);
	assert_string_equal(mm.subject, "hello");
	assert_string_equal(mm.from, "Alice <alice@example.test>");
	assert_string_equal(mm.message_id, "<m1@example.test>");
	assert_int_equal(mm.date, 1772528400);
	assert_int_equal(mm.date_tz, 60);
	assert_string_equal(mm.preview, "body one");
	assert_int_equal(mm.m.size, strlen(msg1));
	assert_int_equal(mm.header_size, strlen(msg1) - strlen("body one\r\n"));
	assert_non_null(strstr(mm.envelope, "\"hello\""));
	assert_non_null(strstr(mm.bodystructure, "\"text\" \"plain\""));
	assert_int_equal(store_msg_meta(f->s, f->a, f->acct2, f->inbox, 2, &mm, &err), 0);

	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	assert_int_equal(mb.messages, 2);
	assert_int_equal(mb.unseen, 2);
	assert_int_equal(mb.uidnext, 3);
	assert_int_equal(mb.size, len + strlen(msg1));
	uint64_t usage, limit, count;
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, &limit, &count, &err), 1);
	assert_int_equal(usage, mb.size);
	assert_int_equal(count, 2);
}

static void test_deliver_many(void **state)
{
	struct fixture *f = *state;
	const char *err;
	int64_t c_id;
	assert_int_equal(store_account_add(f->s, "c@example.test", "$y$", 10, &c_id, &err), 1);
	int64_t accts[4] = { f->acct, f->acct2, c_id, 777 };
	int res[4];
	uint32_t uids[4];
	struct store_delivery d = { .data = msg1, .len = strlen(msg1), .accounts = accts,
				    .naccounts = 4, .results = res, .uids = uids };
	assert_int_equal(store_deliver(f->s, &d, &err), 0); /* partial */
	assert_int_equal(res[0], 1);
	assert_int_equal(res[1], 1);
	assert_int_equal(res[2], STORE_EOVERQUOTA);
	assert_int_equal(res[3], STORE_ENOTFOUND);
	assert_int_equal(uids[0], 1);
	assert_int_equal(uids[1], 1);
	/* one blob shared by both rows: the same email id */
	struct store_msg *m1, *m2;
	size_t n1, n2;
	struct store_mailbox mb2;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct2, "INBOX", &mb2, &err), 1);
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, f->inbox, NULL, 0, &m1, &n1, &err), 1);
	assert_int_equal(store_msg_list(f->s, f->a, f->acct2, mb2.id, NULL, 0, &m2, &n2, &err), 1);
	assert_int_equal(n1, 1);
	assert_int_equal(n2, 1);
	assert_int_equal(m1[0].email_id, m2[0].email_id);
	/* nobody gets it: error, nothing stored */
	int64_t only_c = c_id;
	struct store_delivery d2 = { .data = msg1, .len = strlen(msg1), .accounts = &only_c, .naccounts = 1 };
	assert_int_equal(store_deliver(f->s, &d2, &err), STORE_EOVERQUOTA);
	struct store_delivery d3 = { .data = msg1, .len = strlen(msg1), .accounts = NULL, .naccounts = 0 };
	assert_true(store_deliver(f->s, &d3, &err) < 0);
	/* to a named mailbox, falling back to INBOX */
	struct store_delivery d4 = { .data = msg1, .len = strlen(msg1), .accounts = accts,
				     .naccounts = 1, .mailbox = "Junk" };
	assert_int_equal(store_deliver(f->s, &d4, &err), 1);
	struct store_mailbox junk;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Junk", &junk, &err), 1);
	assert_int_equal(junk.messages, 1);
	d4.mailbox = "NoSuchBox";
	assert_int_equal(store_deliver(f->s, &d4, &err), 1);
	struct store_mailbox inbox;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &inbox, &err), 1);
	assert_int_equal(inbox.messages, 2);
}

static void test_append(void **state)
{
	struct fixture *f = *state;
	const char *err;
	const char *kws[] = { "$Forwarded", "Work", "work", NULL };
	struct store_append ap = { .account_id = f->acct, .mailbox_id = f->inbox, .data = msg1,
				   .len = strlen(msg1), .flags = STORE_F_SEEN | STORE_F_DRAFT,
				   .keywords = kws, .internal_date = 1700000000, .internal_tz = -300 };
	assert_int_equal(store_append(f->s, &ap, &err), 1);
	assert_int_equal(ap.uid, 1);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	assert_int_equal(ap.uidvalidity, mb.uidvalidity);
	assert_int_equal(mb.unseen, 0);
	struct store_msg *m;
	size_t n;
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, f->inbox, NULL, 0, &m, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].flags, STORE_F_SEEN | STORE_F_DRAFT);
	assert_string_equal(m[0].keywords, "$Forwarded Work"); /* deduplicated */
	assert_int_equal(m[0].internal_date, 1700000000);
	assert_int_equal(m[0].internal_tz, -300);
	assert_int_equal(m[0].email_id, ap.email_id);
	const char **mk;
	assert_int_equal(store_mailbox_keywords(f->s, f->a, f->acct2, f->inbox, &mk, &err), 0);
	assert_int_equal(store_mailbox_keywords(f->s, f->a, f->acct, f->inbox, &mk, &err), 1);
	assert_string_equal(mk[0], "$Forwarded");
	assert_string_equal(mk[1], "Work");
	assert_null(mk[2]);
	/* errors */
	const char *badkw[] = { "a b", NULL };
	ap.keywords = badkw;
	assert_int_equal(store_append(f->s, &ap, &err), STORE_EINVAL);
	ap.keywords = NULL;
	ap.mailbox_id = 424242;
	assert_int_equal(store_append(f->s, &ap, &err), STORE_ENOTFOUND);
	struct store_mailbox bmb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct2, "INBOX", &bmb, &err), 1);
	ap.mailbox_id = bmb.id; /* another account's mailbox */
	assert_int_equal(store_append(f->s, &ap, &err), STORE_ENOTFOUND);
	struct store_append nodata = { .account_id = f->acct, .mailbox_id = f->inbox, .data = NULL, .len = 5 };
	assert_int_equal(store_append(f->s, &nodata, &err), STORE_EINVAL);
	assert_int_equal(store_mailbox_set_special_use(f->s, f->acct, "Sent", 1u << 20, &err), STORE_EINVAL);
	struct store_stats st;
	store_get_stats(f->s, &st);
	assert_true(st.commits > 0);
}

static void test_flags(void **state)
{
	struct fixture *f = *state;
	const char *err;
	for (int i = 0; i < 5; i++)
		deliver1(f, f->acct, msg1);
	struct store_range r[2] = { { 2, 3 }, { 5, 9 } };
	struct store_flag_change fc = { .account_id = f->acct, .mailbox_id = f->inbox,
					.uids = { r, 2 }, .op = STORE_FLAGS_ADD,
					.flags = STORE_F_SEEN | STORE_F_FLAGGED };
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
	assert_int_equal(fc.nchanged, 3);
	assert_int_equal(fc.changed[0], 2);
	assert_int_equal(fc.changed[2], 5);
	uint64_t m1 = fc.modseq;
	assert_true(m1 > 0);
	/* changed_prev: each changed message's MODSEQ before the change (issue 16) */
	struct store_msg *before;
	size_t nb;
	struct store_range r5 = { 5, 5 };
	struct store_uidset s5 = { &r5, 1 };
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, f->inbox, &s5, 0, &before, &nb, &err), 1);
	assert_int_equal(nb, 1);
	assert_int_equal(before[0].modseq, m1);
	struct store_flag_change d = { .account_id = f->acct, .mailbox_id = f->inbox, .uids = s5,
				       .op = STORE_FLAGS_ADD, .flags = STORE_F_DRAFT };
	assert_int_equal(store_flags(f->s, f->a, &d, &err), 1);
	assert_int_equal(d.nchanged, 1);
	assert_non_null(d.changed_prev);
	assert_int_equal(d.changed_prev[0], m1);
	assert_true(d.modseq > m1);
	m1 = d.modseq;
	/* again: nothing changes, no new modseq */
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
	assert_int_equal(fc.nchanged, 0);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	assert_int_equal(mb.unseen, 2);
	assert_int_equal(mb.highestmodseq, m1);
	/* keywords add/remove/replace */
	const char *kw[] = { "Todo", "$Junk", NULL };
	struct store_range one;
	struct store_flag_change k = { .account_id = f->acct, .mailbox_id = f->inbox,
				       .uids = uidset1(&one, 1, 1), .op = STORE_FLAGS_ADD, .keywords = kw };
	assert_int_equal(store_flags(f->s, f->a, &k, &err), 1);
	const char *rm[] = { "todo", NULL };
	k.op = STORE_FLAGS_REMOVE;
	k.keywords = rm;
	assert_int_equal(store_flags(f->s, f->a, &k, &err), 1);
	struct store_msg *m;
	size_t n;
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, f->inbox, &k.uids, 0, &m, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].keywords, "$Junk");
	k.op = STORE_FLAGS_REPLACE;
	k.flags = STORE_F_ANSWERED;
	k.keywords = NULL;
	assert_int_equal(store_flags(f->s, f->a, &k, &err), 1);
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, f->inbox, &k.uids, 0, &m, &n, &err), 1);
	assert_string_equal(m[0].keywords, "");
	assert_int_equal(m[0].flags, STORE_F_ANSWERED);
	/* CONDSTORE: UNCHANGEDSINCE guard */
	struct store_range all;
	struct store_flag_change g = { .account_id = f->acct, .mailbox_id = f->inbox,
				       .uids = uidset1(&all, 1, 5), .op = STORE_FLAGS_ADD,
				       .flags = STORE_F_DELETED, .unchanged_since = m1 };
	assert_int_equal(store_flags(f->s, f->a, &g, &err), 1);
	assert_int_equal(g.nmodified, 1); /* uid 1 changed after m1 */
	assert_int_equal(g.modified[0], 1);
	assert_int_equal(g.nchanged, 4);
	/* changed_since listing */
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, f->inbox, NULL, m1, &m, &n, &err), 1);
	assert_int_equal(n, 5);
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, f->inbox, NULL, g.modseq, &m, &n, &err), 1);
	assert_int_equal(n, 0);
	/* the indexed path returns UID order */
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, f->inbox, NULL, 1, &m, &n, &err), 1);
	assert_int_equal(n, 5);
	for (size_t i = 1; i < n; i++)
		assert_true(m[i - 1].uid < m[i].uid);
	/* first unseen: 1 and 4 are unseen (2, 3, 5 got \Seen above) */
	uint32_t fu;
	assert_int_equal(store_first_unseen(f->s, f->acct, f->inbox, &fu, &err), 1);
	assert_int_equal(fu, 1);
	struct store_range r14[2] = { { 1, 1 }, { 4, 4 } };
	struct store_flag_change sn = { .account_id = f->acct, .mailbox_id = f->inbox, .uids = { r14, 2 },
					.op = STORE_FLAGS_ADD, .flags = STORE_F_SEEN };
	assert_int_equal(store_flags(f->s, f->a, &sn, &err), 1);
	assert_int_equal(store_first_unseen(f->s, f->acct, f->inbox, &fu, &err), 0);
	assert_int_equal(store_first_unseen(f->s, f->acct, 99999, &fu, &err), STORE_ENOTFOUND);
	/* invalid keyword */
	const char *bad[] = { "bad\\kw", NULL };
	k.keywords = bad;
	assert_int_equal(store_flags(f->s, f->a, &k, &err), STORE_EINVAL);
	assert_true(store_keyword_valid("$MDNSent"));
	assert_false(store_keyword_valid("\\Seen"));
	assert_false(store_keyword_valid(""));
	assert_int_equal(store_flag_parse("\\SEEN"), STORE_F_SEEN);
	assert_int_equal(store_flag_parse("\\Recent"), 0);
	assert_string_equal(store_flag_name(STORE_F_DRAFT), "\\Draft");
}

static void test_expunge(void **state)
{
	struct fixture *f = *state;
	const char *err;
	for (int i = 0; i < 6; i++)
		deliver1(f, f->acct, msg1);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	uint64_t before = mb.highestmodseq;
	struct store_range r;
	struct store_flag_change fc = { .account_id = f->acct, .mailbox_id = f->inbox,
					.uids = uidset1(&r, 2, 4), .op = STORE_FLAGS_ADD,
					.flags = STORE_F_DELETED };
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
	/* UID EXPUNGE 3:6 only removes those with \Deleted */
	struct store_range r2;
	struct store_uidset set = uidset1(&r2, 3, 6);
	uint32_t *ex;
	size_t n;
	assert_int_equal(store_expunge(f->s, f->a, f->acct, f->inbox, &set, true, &ex, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_int_equal(ex[0], 3);
	assert_int_equal(ex[1], 4);
	/* EXPUNGE: all \Deleted */
	assert_int_equal(store_expunge(f->s, f->a, f->acct, f->inbox, NULL, false, &ex, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(ex[0], 2);
	/* POP3-style: remove a set regardless of flags */
	struct store_range r3;
	set = uidset1(&r3, 6, 6);
	assert_int_equal(store_expunge(f->s, f->a, f->acct, f->inbox, &set, false, &ex, &n, &err), 1);
	assert_int_equal(n, 1);
	uint32_t *v;
	assert_int_equal(store_vanished(f->s, f->a, f->acct, f->inbox, before, &v, &n, &err), 1);
	assert_int_equal(n, 4);
	assert_int_equal(v[0], 2);
	assert_int_equal(v[3], 6);
	assert_int_equal(store_vanished(f->s, f->a, f->acct2, f->inbox, 0, &v, &n, &err), STORE_ENOTFOUND);
	uint32_t *uids;
	assert_int_equal(store_uid_list(f->s, f->a, f->acct, f->inbox, &uids, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_int_equal(uids[0], 1);
	assert_int_equal(uids[1], 5);
	/* quota freed at once, counters exact */
	uint64_t usage;
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, NULL, NULL, &err), 1);
	assert_int_equal(usage, 2 * strlen(msg1));
	/* UIDs are never reused */
	assert_int_equal(deliver1(f, f->acct, msg1), 7);
	/* JMAP email changes */
	int64_t *ch, *rm;
	size_t nch, nrm;
	assert_int_equal(store_email_changes(f->s, f->a, f->acct, before, &ch, &nch, &rm, &nrm, &err), 1);
	assert_int_equal(nrm, 4);
	assert_true(nch >= 1);
}

static void test_copy_move(void **state)
{
	struct fixture *f = *state;
	const char *err;
	for (int i = 0; i < 4; i++)
		deliver1(f, f->acct, msg1);
	struct store_mailbox trash;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Trash", &trash, &err), 1);
	struct store_range r;
	struct store_copy cp = { .account_id = f->acct, .src_mailbox_id = f->inbox,
				 .dst_mailbox_id = trash.id, .uids = uidset1(&r, 2, 3) };
	assert_int_equal(store_copy(f->s, f->a, &cp, &err), 1);
	assert_int_equal(cp.n, 2);
	assert_int_equal(cp.src_uids[0], 2);
	assert_int_equal(cp.dst_uids[0], 1);
	assert_int_equal(cp.dst_uids[1], 2);
	assert_int_equal(cp.dst_uidvalidity, trash.uidvalidity);
	uint64_t usage;
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, NULL, NULL, &err), 1);
	assert_int_equal(usage, 6 * strlen(msg1)); /* copies count */
	cp.move = true;
	cp.uids = uidset1(&r, 1, 1);
	assert_int_equal(store_copy(f->s, f->a, &cp, &err), 1);
	assert_int_equal(cp.dst_uids[0], 3);
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, NULL, NULL, &err), 1);
	assert_int_equal(usage, 6 * strlen(msg1)); /* moves do not */
	struct store_mailbox inbox;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &inbox, &err), 1);
	assert_int_equal(inbox.messages, 3);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Trash", &trash, &err), 1);
	assert_int_equal(trash.messages, 3);
	uint32_t *v;
	size_t n;
	assert_int_equal(store_vanished(f->s, f->a, f->acct, f->inbox, 0, &v, &n, &err), 1);
	assert_int_equal(n, 1);
	/* the email id is kept: the message is in two mailboxes */
	struct store_msg *m;
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, trash.id, NULL, 0, &m, &n, &err), 1);
	int64_t *mbs;
	uint32_t *uids;
	assert_int_equal(store_email_mailboxes(f->s, f->a, f->acct, m[0].email_id, &mbs, &uids, &n, &err), 1);
	assert_int_equal(n, 2);
	/* nonexistent target: [TRYCREATE] */
	cp.dst_mailbox_id = 99999;
	assert_int_equal(store_copy(f->s, f->a, &cp, &err), STORE_ENOTFOUND);
	/* quota on copy */
	assert_int_equal(store_account_set_quota(f->s, "a@example.test", 7 * strlen(msg1), &err), 1);
	cp.dst_mailbox_id = trash.id;
	cp.move = false;
	struct store_range all;
	cp.uids = uidset1(&all, 1, UINT32_MAX);
	assert_int_equal(store_copy(f->s, f->a, &cp, &err), STORE_EOVERQUOTA);
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, NULL, NULL, &err), 1);
	assert_int_equal(usage, 6 * strlen(msg1));
}

static void test_quota_exact(void **state)
{
	struct fixture *f = *state;
	const char *err;
	size_t sz = strlen(msg1);
	assert_int_equal(store_account_set_quota(f->s, "a@example.test", 3 * sz, &err), 1);
	assert_int_equal(store_quota_check(f->s, f->acct, sz, &err), 1);
	deliver1(f, f->acct, msg1);
	deliver1(f, f->acct, msg1);
	deliver1(f, f->acct, msg1); /* exactly at the limit */
	assert_int_equal(store_quota_check(f->s, f->acct, 1, &err), STORE_EOVERQUOTA);
	assert_int_equal(store_quota_check(f->s, f->acct, 0, &err), STORE_EOVERQUOTA);
	int64_t acct = f->acct;
	struct store_delivery d = { .data = msg1, .len = sz, .accounts = &acct, .naccounts = 1 };
	assert_int_equal(store_deliver(f->s, &d, &err), STORE_EOVERQUOTA);
	struct store_append ap = { .account_id = f->acct, .mailbox_id = f->inbox, .data = "x", .len = 1 };
	assert_int_equal(store_append(f->s, &ap, &err), STORE_EOVERQUOTA);
	struct store_range r;
	struct store_uidset set = uidset1(&r, 1, 1);
	assert_int_equal(store_expunge(f->s, f->a, f->acct, f->inbox, &set, false, NULL, NULL, &err), 1);
	assert_int_equal(store_quota_check(f->s, f->acct, sz, &err), 1);
	assert_int_equal(store_deliver(f->s, &d, &err), 1);
	uint64_t usage, limit;
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, &limit, NULL, &err), 1);
	assert_int_equal(usage, 3 * sz);
	assert_int_equal(limit, 3 * sz);
	assert_int_equal(store_check(f->s, &err), 1);
	/* too big */
	struct store_options opt = { .message_max = 10 };
	(void)opt;
}

static void test_rename_inbox(void **state)
{
	struct fixture *f = *state;
	const char *err;
	deliver1(f, f->acct, msg1);
	deliver1(f, f->acct, msg1);
	struct store_mailbox before;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &before, &err), 1);
	assert_int_equal(store_mailbox_rename(f->s, f->acct, "inbox", "Old", &err), 1);
	struct store_mailbox inbox, old;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &inbox, &err), 1);
	assert_int_equal(inbox.id, before.id);
	assert_int_equal(inbox.uidvalidity, before.uidvalidity); /* unchanged */
	assert_int_equal(inbox.messages, 0);
	assert_int_equal(inbox.uidnext, 3); /* UIDs are not reused */
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Old", &old, &err), 1);
	assert_int_equal(old.messages, 2);
	assert_int_equal(old.uidnext, 3);
	const char *data;
	size_t len;
	assert_int_equal(store_msg_read(f->s, f->a, f->acct, old.id, 1, &data, &len, &err), 1);
	assert_int_equal(len, strlen(msg1));
	assert_int_equal(deliver1(f, f->acct, msg1), 3);
	assert_int_equal(store_mailbox_rename(f->s, f->acct, "INBOX", "Old", &err), STORE_EEXISTS);
	assert_int_equal(store_check(f->s, &err), 1);
}

static void test_delete_mailbox_frees(void **state)
{
	struct fixture *f = *state;
	const char *err;
	int64_t id;
	assert_int_equal(store_mailbox_create(f->s, f->acct, "Box", 0, &id, &err), 1);
	struct store_append ap = { .account_id = f->acct, .mailbox_id = id, .data = msg1, .len = strlen(msg1) };
	assert_int_equal(store_append(f->s, &ap, &err), 1);
	char path[512];
	struct stat sb;
	int fd;
	uint64_t size;
	assert_int_equal(store_msg_open(f->s, f->acct, id, 1, &fd, &size, &err), 1);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	char target[512];
	ssize_t tl = readlink(path, target, sizeof(target) - 1);
	assert_true(tl > 0);
	target[tl] = '\0';
	close(fd);
	assert_int_equal(stat(target, &sb), 0);
	assert_int_equal(store_mailbox_delete(f->s, f->acct, "Box", &err), 1);
	assert_int_not_equal(stat(target, &sb), 0); /* blob removed */
	uint64_t usage;
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, NULL, NULL, &err), 1);
	assert_int_equal(usage, 0);
}

static void test_uidvalidity_stable(void **state)
{
	struct fixture *f = *state;
	const char *err;
	struct store_mailbox a1, a2;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Sent", &a1, &err), 1);
	deliver1(f, f->acct, msg1);
	/* reopen the store: nothing changes */
	store_close(&f->s);
	f->s = open_in(f->dir, false);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Sent", &a2, &err), 1);
	assert_int_equal(a1.uidvalidity, a2.uidvalidity);
	assert_int_equal(a1.id, a2.id);
	/* every mailbox has its own UIDVALIDITY */
	struct store_mailbox *mbs;
	size_t n;
	assert_int_equal(store_mailbox_list(f->s, f->a, f->acct, &mbs, &n, &err), 1);
	for (size_t i = 1; i < n; i++)
		assert_int_not_equal(mbs[i].uidvalidity, mbs[i - 1].uidvalidity);
}

static void test_recent(void **state)
{
	struct fixture *f = *state;
	const char *err;
	deliver1(f, f->acct, msg1);
	uint32_t first;
	assert_int_equal(store_mailbox_claim_recent(f->s, f->acct, f->inbox, &first, &err), 1);
	assert_int_equal(first, 1);
	deliver1(f, f->acct, msg1);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	assert_int_equal(mb.recent, 1);
	assert_int_equal(store_mailbox_claim_recent(f->s, f->acct, f->inbox, &first, &err), 1);
	assert_int_equal(first, 2);
	assert_int_equal(store_mailbox_claim_recent(f->s, f->acct2, f->inbox, &first, &err), STORE_ENOTFOUND);
}

static void test_meta_list_threads(void **state)
{
	struct fixture *f = *state;
	const char *err;
	deliver1(f, f->acct, msg1);
	deliver1(f, f->acct, "Subject: other\r\nMessage-ID: <z@x>\r\n\r\nz\r\n");
	deliver1(f, f->acct, "Subject: Re: hello\r\nIn-Reply-To: <m1@example.test>\r\n\r\nre\r\n");
	deliver1(f, f->acct, "Subject: Re: Re: hello\r\nReferences: <m1@example.test> <x@y>\r\n\r\nre2\r\n");
	struct store_msg_meta *mm;
	size_t n;
	struct store_range r[2] = { { 3, 4 }, { 1, 1 } };
	struct store_uidset set = { r, 2 };
	assert_int_equal(store_msg_meta_list(f->s, f->a, f->acct, f->inbox, &set, &mm, &n, &err), 1);
	assert_int_equal(n, 3);
	assert_int_equal(mm[0].m.uid, 1);
	assert_int_equal(mm[1].m.uid, 3);
	assert_string_equal(mm[1].subject, "Re: hello");
	assert_int_equal(mm[2].m.uid, 4);
	assert_int_equal(store_msg_meta_list(f->s, f->a, f->acct, f->inbox, NULL, &mm, &n, &err), 1);
	assert_int_equal(n, 4);
	/* 1, 3 and 4 are one thread; 2 is alone */
	assert_int_equal(mm[0].m.thread_id, mm[2].m.thread_id);
	assert_int_equal(mm[0].m.thread_id, mm[3].m.thread_id);
	assert_int_not_equal(mm[0].m.thread_id, mm[1].m.thread_id);
	int64_t *ids;
	assert_int_equal(store_thread_emails(f->s, f->a, f->acct, mm[0].m.thread_id, &ids, &n, &err), 1);
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], mm[0].m.email_id);
	assert_int_equal(store_thread_emails(f->s, f->a, f->acct2, mm[0].m.thread_id, &ids, &n, &err), 1);
	assert_int_equal(n, 0); /* other account */
	int64_t eid = mm[0].m.email_id;
	assert_int_equal(store_msg_meta_list(f->s, f->a, f->acct2, f->inbox, NULL, &mm, &n, &err), STORE_ENOTFOUND);
	struct store_uidset bad = { NULL, 3 };
	assert_int_equal(store_msg_meta_list(f->s, f->a, f->acct, f->inbox, &bad, &mm, &n, &err), STORE_EINVAL);
	struct store_msg *m;
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, f->inbox, &bad, 0, &m, &n, &err), STORE_EINVAL);
	struct store_flag_change fc = { .account_id = f->acct, .mailbox_id = f->inbox, .uids = bad,
					.op = STORE_FLAGS_ADD, .flags = STORE_F_SEEN };
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), STORE_EINVAL);
	assert_int_equal(store_expunge(f->s, f->a, f->acct, f->inbox, &bad, false, NULL, NULL, &err), STORE_EINVAL);
	/* an email id of another account is not reachable */
	struct store_msg_meta one;
	int64_t mbid;
	assert_int_equal(store_email_meta(f->s, f->a, f->acct, eid, &one, &mbid, &err), 1);
	assert_int_equal(mbid, f->inbox);
	assert_int_equal(store_email_meta(f->s, f->a, f->acct2, eid, &one, &mbid, &err), 0);
	int fd;
	uint64_t size;
	assert_int_equal(store_email_open(f->s, f->acct2, eid, &fd, &size, &err), 0);
	assert_int_equal(store_email_open(f->s, f->acct, eid, &fd, &size, &err), 1);
	close(fd);
}

static void test_too_big(void **state)
{
	(void)state;
	char dir[] = "/tmp/postamt-big-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct store_options opt = { .create = true, .no_fsync = true, .message_max = 100 };
	struct store *s;
	const char *err;
	assert_int_equal(store_open(dir, &opt, &s, &err), 1);
	int64_t id;
	assert_int_equal(store_domain_add(s, "x.test", &err), 1);
	assert_int_equal(store_account_add(s, "u@x.test", "$y$", 0, &id, &err), 1);
	char big[200];
	memset(big, 'a', sizeof(big));
	struct store_delivery d = { .data = big, .len = sizeof(big), .accounts = &id, .naccounts = 1 };
	assert_int_equal(store_deliver(s, &d, &err), STORE_ETOOBIG);
	store_close(&s);
	/* no blob left behind */
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "test -z \"$(find %s/blobs -type f)\"", dir);
	assert_int_equal(system(cmd), 0);
	rm_rf(dir);
}

/* Counts the files under DIR/blobs. */
static size_t blob_count(const char *dir)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "find %s/blobs -type f | wc -l", dir);
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	if (p == NULL || fscanf(p, "%zu", &n) != 1)
		fail_msg("find");
	pclose(p);
	return n;
}

/* MULTIAPPEND / REPLACE: all or nothing, consecutive UIDs, one event, quota. */
static void test_append_many(void **state)
{
	struct fixture *f = *state;
	const char *err;
	const char *kws[] = { "Work", NULL };
	struct store_append msgs[3] = {
		{ .data = msg1, .len = strlen(msg1), .flags = STORE_F_SEEN },
		{ .data = msg2, .len = strlen(msg2), .keywords = kws, .internal_date = 1700000000 },
		{ .data = msg1, .len = strlen(msg1) },
	};
	struct store_append_many am = { .account_id = f->acct, .mailbox_id = f->inbox, .msgs = msgs, .n = 3 };
	assert_int_equal(store_append_many(f->s, &am, &err), 1);
	assert_int_equal(msgs[0].uid, 1);
	assert_int_equal(msgs[1].uid, 2);
	assert_int_equal(msgs[2].uid, 3);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	assert_int_equal(am.uidvalidity, mb.uidvalidity);
	assert_int_equal(msgs[2].uidvalidity, mb.uidvalidity);
	assert_int_equal(am.modseq, mb.highestmodseq);
	assert_int_equal(mb.messages, 3);
	struct store_msg *m;
	size_t n;
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, f->inbox, NULL, 0, &m, &n, &err), 1);
	assert_int_equal(n, 3);
	assert_int_equal(m[0].flags, STORE_F_SEEN);
	assert_string_equal(m[1].keywords, "Work");
	assert_int_equal(m[1].internal_date, 1700000000);
	size_t blobs = blob_count(f->dir);
	assert_int_equal(blobs, 3);

	/* one bad message: nothing appended, its blobs removed */
	const char *badkw[] = { "a b", NULL };
	msgs[2].keywords = badkw;
	assert_int_equal(store_append_many(f->s, &am, &err), STORE_EINVAL);
	msgs[2].keywords = NULL;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	assert_int_equal(mb.messages, 3);
	assert_int_equal(blob_count(f->dir), blobs);

	/* quota: the first message fits, the second does not: nothing appended */
	uint64_t usage;
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, NULL, NULL, &err), 1);
	assert_int_equal(store_account_set_quota(f->s, "a@example.test", usage + strlen(msg1) + 1, &err), 1);
	struct store_append two[2] = {
		{ .data = msg1, .len = strlen(msg1) },
		{ .data = msg1, .len = strlen(msg1) },
	};
	struct store_append_many q = { .account_id = f->acct, .mailbox_id = f->inbox, .msgs = two, .n = 2 };
	assert_int_equal(store_append_many(f->s, &q, &err), STORE_EOVERQUOTA);
	uint64_t usage2;
	assert_int_equal(store_quota_get(f->s, f->acct, &usage2, NULL, NULL, &err), 1);
	assert_int_equal(usage2, usage);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	assert_int_equal(mb.messages, 3);
	assert_int_equal(blob_count(f->dir), blobs);
	q.n = 1; /* one fits */
	assert_int_equal(store_append_many(f->s, &q, &err), 1);
	assert_int_equal(two[0].uid, 4);
	assert_int_equal(store_account_set_quota(f->s, "a@example.test", 0, &err), 1);

	/* REPLACE: append and expunge in one transaction */
	struct store_append rep = { .data = msg2, .len = strlen(msg2), .flags = STORE_F_DRAFT };
	struct store_append_many r = { .account_id = f->acct, .mailbox_id = f->inbox, .msgs = &rep, .n = 1,
				       .expunge_mailbox_id = f->inbox, .expunge_uid = 2 };
	assert_int_equal(store_append_many(f->s, &r, &err), 1);
	assert_int_equal(rep.uid, 5);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	assert_int_equal(mb.messages, 4);
	assert_int_equal(r.modseq, mb.highestmodseq);
	uint32_t *gone;
	assert_int_equal(store_vanished(f->s, f->a, f->acct, f->inbox, 0, &gone, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(gone[0], 2);
	/* the replaced message is gone now: nothing happens */
	assert_int_equal(store_append_many(f->s, &r, &err), STORE_ENOTFOUND);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	assert_int_equal(mb.messages, 4);
	assert_int_equal(mb.uidnext, 6);
	/* replacing into another mailbox */
	struct store_mailbox drafts;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Drafts", &drafts, &err), 1);
	r.mailbox_id = drafts.id;
	r.expunge_uid = 5;
	assert_int_equal(store_append_many(f->s, &r, &err), 1);
	assert_int_equal(rep.uid, 1);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	assert_int_equal(mb.messages, 3);
	/* quota: the replacement fits only once the old message is gone */
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, NULL, NULL, &err), 1);
	assert_int_equal(store_account_set_quota(f->s, "a@example.test", usage + 1, &err), 1);
	r.expunge_mailbox_id = drafts.id;
	r.expunge_uid = rep.uid;
	assert_int_equal(store_append_many(f->s, &r, &err), 1);
	assert_int_equal(rep.uid, 2);
	/* six bytes bigger than the old one: over the quota, nothing happens */
	r.expunge_uid = rep.uid;
	rep.data = "X: y\r\nFrom: Bob <bob@example.test>\r\nSubject: second\r\n\r\nbody two, a little longer\r\n";
	rep.len = strlen(rep.data);
	assert_int_equal(store_append_many(f->s, &r, &err), STORE_EOVERQUOTA);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Drafts", &drafts, &err), 1);
	assert_int_equal(drafts.messages, 1);
	assert_int_equal(drafts.uidnext, 3);
	assert_int_equal(store_account_set_quota(f->s, "a@example.test", 0, &err), 1);
	/* no messages, another account's mailbox */
	struct store_append_many none = { .account_id = f->acct, .mailbox_id = f->inbox, .msgs = msgs, .n = 0 };
	assert_int_equal(store_append_many(f->s, &none, &err), STORE_EINVAL);
	struct store_mailbox bmb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct2, "INBOX", &bmb, &err), 1);
	none.n = 1;
	none.mailbox_id = bmb.id;
	assert_int_equal(store_append_many(f->s, &none, &err), STORE_ENOTFOUND);
}

/* In a child: a store with one delivered (unseen) message, its directory written to
 * fd; corrupt (SQL or NULL) is run on the database behind the store's back; then the
 * message is expunged, which gives its size back to the account and takes it out of
 * the mailbox's counters. Exits 0 when that returns. */
static void expunge_child(int fd, const char *corrupt)
{
	void *st = NULL;
	if (fixture_setup(&st) < 0)
		_exit(2);
	struct fixture *f = st;
	if (write(fd, f->dir, strlen(f->dir)) < 0)
		_exit(2);
	close(fd);
	deliver1(f, f->acct, msg1);
	if (corrupt != NULL) {
		char *path = xasprintf("%s/db/store.sqlite", f->dir);
		sqlite3 *db;
		if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, corrupt, NULL, NULL, NULL) != SQLITE_OK)
			_exit(3);
		sqlite3_close(db);
		free(path);
	}
	const char *err;
	struct store_range r;
	struct store_uidset set = uidset1(&r, 1, 1);
	store_expunge(f->s, f->a, f->acct, f->inbox, &set, false, NULL, NULL, &err);
	_exit(0);
}

/* Runs expunge_child; returns its wait status and removes its directory. */
static int run_expunge_child(const char *corrupt)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		expunge_child(p[1], corrupt);
	}
	close(p[1]);
	char dir[256] = "";
	ssize_t n = read(p[0], dir, sizeof(dir) - 1);
	close(p[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (n > 0 && strncmp(dir, "/tmp/postamt-test-", 18) == 0) {
		dir[n] = '\0';
		rm_rf(dir);
	}
	return status;
}

/* The account's usage and message count and the mailbox's counters are sums over the
 * message rows, changed in the same transaction: a counter going below zero is a bug,
 * and the store asserts instead of storing it (issue 15 item 8). */
static void test_negative_counters_assert(void **state)
{
	(void)state;
	int st = run_expunge_child(NULL);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	static const char *const corrupt[] = {
		"UPDATE accounts SET usage = 0",      /* quota bytes */
		"UPDATE accounts SET messages = 0",   /* the account's message count */
		"UPDATE mailboxes SET unseen = 0",    /* the mailbox's unseen counter */
		"UPDATE mailboxes SET messages = 0 WHERE name = 'INBOX'",
	};
	for (size_t i = 0; i < sizeof(corrupt) / sizeof(corrupt[0]); i++) {
		st = run_expunge_child(corrupt[i]);
		if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT))
			fail_msg("%s: the expunge did not abort (status %d)", corrupt[i], st);
	}
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_deliver_and_read), T(test_deliver_many), T(test_append), T(test_append_many), T(test_flags),
		T(test_expunge), T(test_copy_move), T(test_quota_exact), T(test_rename_inbox),
		T(test_delete_mailbox_frees), T(test_uidvalidity_stable), T(test_recent),
		T(test_meta_list_threads),
		cmocka_unit_test(test_too_big), cmocka_unit_test(test_negative_counters_assert),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
