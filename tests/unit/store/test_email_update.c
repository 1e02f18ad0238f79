/* test_email_update.c: store_email_update_batch (JMAP Email/set update, issue 15 item 6)
 * against a real SQLite store: a batch is one commit with one MODSEQ and one event per
 * mailbox and kind; each email is all or nothing (a mailbox destroyed meanwhile, a copy
 * over quota, an unknown email roll back that email only, keywords included); moves
 * keep the email id and expunge the source row. */
#include "helpers.h"

#include <stdatomic.h>

static const char msg1[] = "From: a@example.test\r\nSubject: one\r\n\r\nbody\r\n";

struct counter {
	atomic_int events, flags_events, new_events, expunge_events;
	atomic_uint last_count;
};

/* Runs on the committer thread (no loop): quick, no store calls. */
static void count_event(void *arg, const struct store_event *ev)
{
	struct counter *c = arg;
	atomic_fetch_add(&c->events, 1);
	if (ev->kind == STORE_EV_FLAGS)
		atomic_fetch_add(&c->flags_events, 1);
	if (ev->kind == STORE_EV_NEW)
		atomic_fetch_add(&c->new_events, 1);
	if (ev->kind == STORE_EV_EXPUNGE)
		atomic_fetch_add(&c->expunge_events, 1);
	atomic_store(&c->last_count, ev->count);
}

static uint64_t account_modseq(struct fixture *f)
{
	struct store_account acct;
	const char *err;
	assert_int_equal(store_account_get_by_id(f->s, f->a, f->acct, &acct, &err), 1);
	return acct.modseq;
}

/* The messages of a mailbox (n_r of them). */
static struct store_msg *list(struct fixture *f, int64_t mailbox_id, size_t *n_r)
{
	struct store_msg *m;
	const char *err;
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, mailbox_id, NULL, 0, &m, n_r, &err), 1);
	return m;
}

static int64_t mailbox_id(struct fixture *f, const char *name)
{
	struct store_mailbox mb;
	const char *err;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, name, &mb, &err), 1);
	return mb.id;
}

/* 50 emails marked $seen in one batch: one MODSEQ, one FLAGS event for all. */
static void test_batch_is_one_change(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 50; i++)
		deliver1(f, f->acct, msg1);
	size_t n;
	struct store_msg *m = list(f, f->inbox, &n);
	assert_int_equal(n, 50);
	struct store_email_update items[50];
	for (size_t i = 0; i < n; i++)
		items[i] = (struct store_email_update){ .email_id = m[i].email_id, .add_flags = STORE_F_SEEN };
	uint64_t before = account_modseq(f);
	struct counter c = { 0 };
	struct store_sub *sub = store_subscribe(f->s, f->acct, 0, NULL, count_event, &c);
	struct store_email_update_batch b = { .account_id = f->acct, .items = items, .n = n };
	const char *err;
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	store_unsubscribe(&sub);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(items[i].result, 1);
	assert_int_equal(b.modseq, before + 1);
	assert_int_equal(account_modseq(f), before + 1);
	assert_int_equal(atomic_load(&c.events), 1);
	assert_int_equal(atomic_load(&c.flags_events), 1);
	assert_int_equal(atomic_load(&c.last_count), 50);
	m = list(f, f->inbox, &n);
	for (size_t i = 0; i < n; i++) {
		assert_true(m[i].flags & STORE_F_SEEN);
		assert_int_equal(m[i].modseq, before + 1);
	}
	struct store_mailbox inbox;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &inbox, &err), 1);
	assert_int_equal(inbox.unseen, 0);
	assert_int_equal(inbox.highestmodseq, before + 1);
	/* nothing to change: no new MODSEQ */
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	assert_int_equal(b.modseq, 0);
	assert_int_equal(account_modseq(f), before + 1);
}

/* Keywords and a move in one batch; the middle email's target mailbox was destroyed
 * after the client checked it: that email keeps its keywords and mailbox, the others
 * are moved and flagged. */
static void test_failure_in_the_middle_leaves_nothing_half_applied(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 3; i++)
		deliver1(f, f->acct, msg1);
	const char *err;
	int64_t archive = mailbox_id(f, "Archive"), gone;
	assert_int_equal(store_mailbox_create(f->s, f->acct, "Gone", 0, &gone, &err), 1);
	assert_int_equal(store_mailbox_delete(f->s, f->acct, "Gone", &err), 1);
	size_t n;
	struct store_msg *m = list(f, f->inbox, &n);
	assert_int_equal(n, 3);
	const char *kws[] = { "work", NULL };
	int64_t to_archive[] = { archive }, to_gone[] = { gone };
	struct store_email_update items[3];
	for (size_t i = 0; i < 3; i++) {
		items[i] = (struct store_email_update){ .email_id = m[i].email_id, .add_flags = STORE_F_FLAGGED,
							.add_keywords = kws, .mailbox_ids = to_archive,
							.nmailboxes = 1 };
	}
	items[1].mailbox_ids = to_gone;
	int64_t middle = m[1].email_id;
	uint64_t before = account_modseq(f);
	struct counter c = { 0 };
	struct store_sub *sub = store_subscribe(f->s, f->acct, 0, NULL, count_event, &c);
	struct store_email_update_batch b = { .account_id = f->acct, .items = items, .n = 3 };
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	store_unsubscribe(&sub);
	assert_int_equal(items[0].result, 1);
	assert_int_equal(items[1].result, STORE_ENOTFOUND);
	assert_non_null(items[1].error);
	assert_int_equal(items[2].result, 1);
	assert_int_equal(account_modseq(f), before + 1);
	/* the middle one: untouched (no keyword, no flag, still in INBOX) */
	m = list(f, f->inbox, &n);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].email_id, middle);
	assert_int_equal(m[0].flags & STORE_F_FLAGGED, 0);
	assert_string_equal(m[0].keywords, "");
	assert_true(m[0].modseq <= before);
	/* the others: in Archive with the keyword, their INBOX rows expunged */
	m = list(f, archive, &n);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_true(m[i].flags & STORE_F_FLAGGED);
		assert_string_equal(m[i].keywords, "work");
	}
	/* one event per mailbox and kind: FLAGS and EXPUNGE in INBOX, NEW in Archive */
	assert_int_equal(atomic_load(&c.flags_events), 1);
	assert_int_equal(atomic_load(&c.new_events), 1);
	assert_int_equal(atomic_load(&c.expunge_events), 1);
	uint32_t *v;
	assert_int_equal(store_vanished(f->s, f->a, f->acct, f->inbox, before, &v, &n, &err), 1);
	assert_int_equal(n, 2);
}

/* A copy into a second mailbox over quota: that email's keyword change is undone
 * too; an unknown email is notFound; the quota usage is unchanged. */
static void test_over_quota_and_unknown(void **state)
{
	struct fixture *f = *state;
	deliver1(f, f->acct, msg1);
	deliver1(f, f->acct, msg1);
	const char *err;
	assert_int_equal(store_account_set_quota(f->s, "a@example.test", 2 * strlen(msg1), &err), 1);
	int64_t trash = mailbox_id(f, "Trash");
	size_t n;
	struct store_msg *m = list(f, f->inbox, &n);
	int64_t both[] = { f->inbox, trash };
	struct store_email_update items[3] = {
		{ .email_id = m[0].email_id, .add_flags = STORE_F_SEEN, .mailbox_ids = both, .nmailboxes = 2 },
		{ .email_id = 999999, .add_flags = STORE_F_SEEN },
		{ .email_id = m[1].email_id, .replace = true, .set_flags = STORE_F_ANSWERED },
	};
	struct store_email_update_batch b = { .account_id = f->acct, .items = items, .n = 3 };
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	assert_int_equal(items[0].result, STORE_EOVERQUOTA);
	assert_int_equal(items[1].result, STORE_ENOTFOUND);
	assert_int_equal(items[2].result, 1);
	m = list(f, f->inbox, &n);
	assert_int_equal(n, 2);
	assert_int_equal(m[0].flags & STORE_F_SEEN, 0);
	assert_int_equal(m[1].flags, STORE_F_ANSWERED);
	list(f, trash, &n);
	assert_int_equal(n, 0);
	uint64_t usage;
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, NULL, NULL, &err), 1);
	assert_int_equal(usage, 2 * strlen(msg1));
}

/* Moving and copying keep the email id; replacing keywords keeps \Deleted; a copy
 * is charged to the quota, a move is not. */
static void test_move_copy_keep_email(void **state)
{
	struct fixture *f = *state;
	deliver1(f, f->acct, msg1);
	const char *err;
	size_t n;
	struct store_msg *m = list(f, f->inbox, &n);
	int64_t email = m[0].email_id;
	struct store_range r;
	struct store_flag_change fc = { .account_id = f->acct, .mailbox_id = f->inbox, .uids = uidset1(&r, 1, 1),
					.op = STORE_FLAGS_ADD, .flags = STORE_F_DELETED };
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
	int64_t trash = mailbox_id(f, "Trash"), junk = mailbox_id(f, "Junk");
	int64_t two[] = { trash, junk };
	const char *kws[] = { "a", "b", NULL };
	struct store_email_update u = { .email_id = email, .replace = true, .set_flags = STORE_F_SEEN,
					.set_keywords = kws, .mailbox_ids = two, .nmailboxes = 2 };
	struct store_email_update_batch b = { .account_id = f->acct, .items = &u, .n = 1 };
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	assert_int_equal(u.result, 1);
	int64_t *mbs;
	uint32_t *uids;
	assert_int_equal(store_email_mailboxes(f->s, f->a, f->acct, email, &mbs, &uids, &n, &err), 1);
	assert_int_equal(n, 2);
	list(f, f->inbox, &n);
	assert_int_equal(n, 0);
	m = list(f, junk, &n);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].flags, STORE_F_SEEN | STORE_F_DELETED);
	assert_string_equal(m[0].keywords, "a b");
	uint64_t usage;
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, NULL, NULL, &err), 1);
	assert_int_equal(usage, 2 * strlen(msg1));
	/* back to one mailbox: the other row is expunged and its quota freed */
	int64_t one[] = { f->inbox };
	u = (struct store_email_update){ .email_id = email, .mailbox_ids = one, .nmailboxes = 1 };
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	assert_int_equal(u.result, 1);
	assert_int_equal(store_email_mailboxes(f->s, f->a, f->acct, email, &mbs, &uids, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(mbs[0], f->inbox);
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, NULL, NULL, &err), 1);
	assert_int_equal(usage, strlen(msg1));
	/* an empty mailbox set and a bad keyword are refused */
	u = (struct store_email_update){ .email_id = email, .mailbox_ids = one, .nmailboxes = 0 };
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	assert_int_equal(u.result, STORE_EINVAL);
	const char *bad[] = { "a b", NULL };
	u = (struct store_email_update){ .email_id = email, .add_keywords = bad };
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	assert_int_equal(u.result, STORE_EINVAL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_batch_is_one_change),
		T(test_failure_in_the_middle_leaves_nothing_half_applied),
		T(test_over_quota_and_unknown),
		T(test_move_copy_keep_email),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
