/* test_snapshot.c: store_mailbox_snapshot reads everything IMAP SELECT reports from one
 * state of the store (issue 16). The store's test hook runs writes of "another session"
 * in the middle of the snapshot, after the UID list is read: an expunge of a message
 * appended after the client's MODSEQ, a flag change, a new keyword and a delivery. The
 * snapshot must not see any of them (read apart, the QRESYNC changes missed the
 * expunged message that the UID list, and so EXISTS, still counted), and a snapshot
 * taken from its HIGHESTMODSEQ on must see each of them exactly once. */
#include "helpers.h"

struct snapfix {
	struct fixture *f;
	void (*during)(struct snapfix *x); /* run by the hook inside the snapshot */
	int calls;
	uint32_t expunge_uid, flag_uid, keyword_uid;
	uint32_t delivered_uid;
};

static void hook(void *arg)
{
	struct snapfix *x = arg;
	x->calls++;
	if (x->during != NULL)
		x->during(x);
}

static int snap_setup(void **state)
{
	if (fixture_setup(state) != 0)
		return -1;
	struct snapfix *x = calloc(1, sizeof(*x));
	x->f = *state;
	/* reopen the store with the hook */
	store_close(&x->f->s);
	struct store_options opt = { .no_fsync = true, .snapshot_hook = hook, .snapshot_hook_arg = x };
	const char *err = NULL;
	if (store_open(x->f->dir, &opt, &x->f->s, &err) < 0)
		return -1;
	*state = x;
	return 0;
}

static int snap_teardown(void **state)
{
	struct snapfix *x = *state;
	*state = x->f;
	free(x);
	return fixture_teardown(state);
}

static const char msg[] = "From: a@remote.test\r\nSubject: s\r\n\r\nbody\r\n";

static uint64_t flags_add(struct fixture *f, uint32_t uid, unsigned flags, const char *keyword)
{
	struct store_range r;
	const char *kws[2] = { keyword, NULL };
	struct store_flag_change fc = { .account_id = f->acct,
					.mailbox_id = f->inbox,
					.uids = uidset1(&r, uid, uid),
					.op = STORE_FLAGS_ADD,
					.flags = flags,
					.keywords = keyword ? kws : NULL };
	const char *err = NULL;
	if (store_flags(f->s, f->a, &fc, &err) != 1)
		fail_msg("store_flags: %s", err ? err : "");
	return fc.modseq;
}

static void expunge1(struct fixture *f, uint32_t uid)
{
	struct store_range r;
	struct store_uidset set = uidset1(&r, uid, uid);
	const char *err = NULL;
	if (store_expunge(f->s, f->a, f->acct, f->inbox, &set, false, NULL, NULL, &err) != 1)
		fail_msg("store_expunge: %s", err ? err : "");
}

/* Another session's writes, committed while the snapshot's read transaction is open. */
static void others_write(struct snapfix *x)
{
	expunge1(x->f, x->expunge_uid);
	flags_add(x->f, x->flag_uid, STORE_F_FLAGGED, NULL);
	flags_add(x->f, x->keyword_uid, 0, "NewKeyword");
	x->delivered_uid = deliver1(x->f, x->f->acct, msg);
}

static bool has_uid(const uint32_t *v, size_t n, uint32_t uid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == uid)
			return true;
	return false;
}

static const struct store_msg *changed_msg(const struct store_mailbox_snapshot *sn, uint32_t uid)
{
	for (size_t i = 0; i < sn->nchanged; i++)
		if (sn->changed[i].uid == uid)
			return &sn->changed[i];
	return NULL;
}

static bool has_keyword(const char **kws, const char *kw)
{
	for (size_t i = 0; kws != NULL && kws[i] != NULL; i++)
		if (strcmp(kws[i], kw) == 0)
			return true;
	return false;
}

/* What holds for any snapshot: it is one state of the store. */
static void check_consistent(const struct store_mailbox_snapshot *sn)
{
	assert_int_equal(sn->nuids, sn->mb.messages);
	for (size_t i = 0; i < sn->nuids; i++) {
		assert_true(sn->uids[i] < sn->mb.uidnext);
		if (i > 0)
			assert_true(sn->uids[i] > sn->uids[i - 1]);
	}
	for (size_t i = 0; i < sn->nchanged; i++) {
		assert_true(has_uid(sn->uids, sn->nuids, sn->changed[i].uid));
		assert_true(sn->changed[i].modseq <= sn->mb.highestmodseq);
		char kws[256];
		snprintf(kws, sizeof(kws), "%s", sn->changed[i].keywords);
		for (char *save = NULL, *k = strtok_r(kws, " ", &save); k; k = strtok_r(NULL, " ", &save))
			assert_true(has_keyword(sn->keywords, k)); /* FLAGS lists every keyword */
	}
	for (size_t i = 0; i < sn->nvanished; i++)
		assert_false(has_uid(sn->uids, sn->nuids, sn->vanished[i]));
}

static void test_snapshot_is_one_state(void **state)
{
	struct snapfix *x = *state;
	struct fixture *f = x->f;
	const char *err = NULL;
	for (int i = 0; i < 3; i++)
		deliver1(f, f->acct, msg); /* 1 2 3: the client knows these */
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get_by_id(f->s, f->a, f->acct, f->inbox, &mb, &err), 1);
	uint64_t client_modseq = mb.highestmodseq;
	uint32_t u4 = deliver1(f, f->acct, msg), u5 = deliver1(f, f->acct, msg); /* new since */
	flags_add(f, 1, STORE_F_SEEN, NULL);
	flags_add(f, 2, STORE_F_DELETED, NULL);
	expunge1(f, 2);

	x->expunge_uid = u4; /* appended after the client's MODSEQ: only the changes report it */
	x->flag_uid = u5;
	x->keyword_uid = 3;
	x->during = others_write;
	struct store_mailbox_snapshot sn;
	assert_int_equal(store_mailbox_snapshot(f->s, f->a, f->acct, f->inbox, true, client_modseq, &sn, &err), 1);
	assert_int_equal(x->calls, 1);
	x->during = NULL;
	check_consistent(&sn);
	assert_true(sn.changes);

	/* the state before the hook's writes */
	uint32_t want_uids[] = { 1, 3, u4, u5 };
	assert_int_equal(sn.nuids, 4);
	assert_memory_equal(sn.uids, want_uids, sizeof(want_uids));
	assert_int_equal(sn.mb.uidnext, u5 + 1);
	assert_int_equal(sn.first_unseen, 3);
	assert_false(has_keyword(sn.keywords, "NewKeyword"));
	assert_int_equal(sn.nvanished, 1);
	assert_int_equal(sn.vanished[0], 2);
	assert_int_equal(sn.nchanged, 3); /* 1 (\Seen), 4 and 5 (new) */
	assert_non_null(changed_msg(&sn, 1));
	assert_non_null(changed_msg(&sn, u4)); /* expunged meanwhile, yet reported */
	assert_int_equal(changed_msg(&sn, u5)->flags, 0);
	assert_null(changed_msg(&sn, 3));

	/* the store has moved on: from the snapshot's HIGHESTMODSEQ every one of the
	 * hook's writes shows, and nothing that the first snapshot reported */
	struct store_mailbox_snapshot next;
	assert_int_equal(store_mailbox_snapshot(f->s, f->a, f->acct, f->inbox, true, sn.mb.highestmodseq, &next, &err),
			 1);
	check_consistent(&next);
	assert_true(next.mb.highestmodseq > sn.mb.highestmodseq);
	assert_int_equal(next.nvanished, 1);
	assert_int_equal(next.vanished[0], u4);
	assert_false(has_uid(next.uids, next.nuids, u4));
	assert_int_equal(next.nchanged, 3); /* 3 (keyword), 5 (\Flagged), the delivery */
	assert_string_equal(changed_msg(&next, 3)->keywords, "NewKeyword");
	assert_int_equal(changed_msg(&next, u5)->flags, STORE_F_FLAGGED);
	assert_non_null(changed_msg(&next, x->delivered_uid));
	assert_null(changed_msg(&next, 1));
	assert_true(has_keyword(next.keywords, "NewKeyword"));
	assert_int_equal(next.mb.uidnext, x->delivered_uid + 1);
}

static void test_snapshot_without_changes_and_missing(void **state)
{
	struct snapfix *x = *state;
	struct fixture *f = x->f;
	const char *err = NULL;
	struct store_mailbox_snapshot sn;
	/* an empty mailbox */
	assert_int_equal(store_mailbox_snapshot(f->s, f->a, f->acct, f->inbox, false, 0, &sn, &err), 1);
	assert_int_equal(sn.nuids, 0);
	assert_int_equal(sn.first_unseen, 0);
	assert_non_null(sn.keywords);
	assert_null(sn.keywords[0]);
	deliver1(f, f->acct, msg);
	flags_add(f, 1, STORE_F_SEEN, "kw");
	assert_int_equal(store_mailbox_snapshot(f->s, f->a, f->acct, f->inbox, false, 0, &sn, &err), 1);
	check_consistent(&sn);
	assert_false(sn.changes);
	assert_int_equal(sn.nchanged + sn.nvanished, 0);
	assert_int_equal(sn.first_unseen, 0); /* all seen */
	assert_string_equal(sn.mb.name, "INBOX");
	/* changed_since 0: every message */
	assert_int_equal(store_mailbox_snapshot(f->s, f->a, f->acct, f->inbox, true, 0, &sn, &err), 1);
	assert_int_equal(sn.nchanged, 1);
	assert_string_equal(sn.changed[0].keywords, "kw");
	/* another account's mailbox, and no mailbox at all */
	assert_int_equal(store_mailbox_snapshot(f->s, f->a, f->acct2, f->inbox, true, 0, &sn, &err), 0);
	assert_int_equal(sn.nuids, 0);
	assert_int_equal(store_mailbox_snapshot(f->s, f->a, f->acct, 999999, false, 0, &sn, &err), 0);
	assert_int_equal(x->calls, 3); /* the hook runs only once a mailbox was found */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, snap_setup, snap_teardown)
	const struct CMUnitTest tests[] = {
		T(test_snapshot_is_one_state),
		T(test_snapshot_without_changes_and_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
