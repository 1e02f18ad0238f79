/* test_lessons.c: the junk filter's lessons that the store records (store_lesson.c):
 * which user actions teach spam or ham, that a repeated lesson records nothing, that a
 * changed one unlearns the old, that delivery and clearing keywords teach nothing, and
 * the learner's side (pending rows, pinned messages, store_lessons_done). */
#include "helpers.h"

#include <stdatomic.h>
#include <sys/stat.h>

static const char msg[] = "From: x@example.org\r\nTo: a@example.test\r\nSubject: hi\r\n\r\nbody\r\n";

static int64_t mbox(struct fixture *f, const char *name)
{
	struct store_mailbox mb;
	const char *err;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, name, &mb, &err), 1);
	return mb.id;
}

/* The pending lessons (at most 16). */
static size_t pending(struct fixture *f, struct store_lesson **v_r)
{
	size_t n;
	const char *err;
	assert_int_equal(store_lessons_next(f->s, f->a, 16, v_r, &n, &err), 1);
	return n;
}

static int mark(struct fixture *f, int64_t email_id)
{
	int cls;
	const char *err;
	assert_int_equal(store_lesson_get(f->s, f->acct, email_id, &cls, &err), 1);
	return cls;
}

static int64_t email_of(struct fixture *f, int64_t mailbox_id, uint32_t uid)
{
	struct store_msg_meta meta;
	const char *err;
	assert_int_equal(store_msg_meta(f->s, f->a, f->acct, mailbox_id, uid, &meta, &err), 1);
	return meta.m.email_id;
}

/* COPY or MOVE of uids lo..hi; returns the first new UID. */
static uint32_t copy(struct fixture *f, int64_t from, int64_t to, uint32_t lo, uint32_t hi, bool move)
{
	struct store_range r;
	struct store_copy c = { .account_id = f->acct, .src_mailbox_id = from, .dst_mailbox_id = to,
				.uids = uidset1(&r, lo, hi), .move = move };
	const char *err;
	assert_int_equal(store_copy(f->s, f->a, &c, &err), 1);
	assert_int_equal(c.n, hi - lo + 1);
	return c.dst_uids[0];
}

static void keywords(struct fixture *f, int64_t mailbox_id, uint32_t uid, enum store_flag_op op, const char *kw)
{
	const char *kws[] = { kw, NULL };
	struct store_range r;
	struct store_flag_change fc = { .account_id = f->acct, .mailbox_id = mailbox_id, .uids = uidset1(&r, uid, uid),
					.op = op, .keywords = kws };
	const char *err;
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
}

static void learn_all(struct fixture *f)
{
	struct store_lesson *v;
	size_t n = pending(f, &v);
	const char *err;
	assert_int_equal(store_lessons_done(f->s, v, n, &err), 1);
	assert_int_equal(pending(f, &v), 0);
}

static void test_delivery_teaches_nothing(void **state)
{
	struct fixture *f = *state;
	deliver1(f, f->acct, msg);
	/* the pipeline's filing into Junk is its verdict, not a lesson */
	int64_t acct = f->acct;
	struct store_delivery d = { .data = msg, .len = strlen(msg), .accounts = &acct, .naccounts = 1, .mailbox = "Junk" };
	const char *err;
	assert_int_equal(store_deliver(f->s, &d, &err), 1);
	struct store_lesson *v;
	assert_int_equal(pending(f, &v), 0);
}

static void test_move_into_junk_teaches_spam_once(void **state)
{
	struct fixture *f = *state;
	int64_t junk = mbox(f, "Junk");
	uint32_t uid = deliver1(f, f->acct, msg);
	int64_t email = email_of(f, f->inbox, uid);
	uint32_t juid = copy(f, f->inbox, junk, uid, uid, true);
	struct store_lesson *v;
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].account_id, f->acct);
	assert_int_equal(v[0].email_id, email);
	assert_int_equal(v[0].spam, 1);
	assert_int_equal(v[0].ham, 0);
	assert_int_equal(mark(f, email), STORE_LESSON_SPAM);
	/* the same lesson again (a client that also sets $Junk, a second copy) is nothing new */
	keywords(f, junk, juid, STORE_FLAGS_ADD, "$Junk");
	copy(f, junk, f->inbox, juid, juid, false); /* out of Junk: ham */
	copy(f, f->inbox, junk, uid + 1, uid + 1, false); /* and back: spam again */
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].spam, 1);
	assert_int_equal(v[0].ham, 0);
	learn_all(f);
	copy(f, f->inbox, junk, uid + 1, uid + 1, true);
	assert_int_equal(pending(f, &v), 0);
}

static void test_out_of_junk_replaces_spam(void **state)
{
	struct fixture *f = *state;
	int64_t junk = mbox(f, "Junk"), archive = mbox(f, "Archive");
	uint32_t uid = deliver1(f, f->acct, msg);
	int64_t email = email_of(f, f->inbox, uid);
	uint32_t juid = copy(f, f->inbox, junk, uid, uid, true);
	learn_all(f); /* the model has the spam lesson */
	copy(f, junk, archive, juid, juid, true);
	struct store_lesson *v;
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].spam, -1); /* unlearned */
	assert_int_equal(v[0].ham, 1);
	assert_int_equal(mark(f, email), STORE_LESSON_HAM);
}

static void test_unlearned_before_learned_nets_out(void **state)
{
	struct fixture *f = *state;
	int64_t junk = mbox(f, "Junk");
	uint32_t uid = deliver1(f, f->acct, msg);
	uint32_t juid = copy(f, f->inbox, junk, uid, uid, true);
	copy(f, junk, f->inbox, juid, juid, true);
	struct store_lesson *v;
	assert_int_equal(pending(f, &v), 1); /* one row per message: the net change */
	assert_int_equal(v[0].spam, 0);
	assert_int_equal(v[0].ham, 1);
}

static void test_trash_teaches_nothing(void **state)
{
	struct fixture *f = *state;
	int64_t junk = mbox(f, "Junk"), trash = mbox(f, "Trash");
	uint32_t a = deliver1(f, f->acct, msg);
	uint32_t b = deliver1(f, f->acct, msg);
	copy(f, f->inbox, trash, a, a, true); /* a deletion, not a verdict */
	struct store_lesson *v;
	assert_int_equal(pending(f, &v), 0);
	uint32_t juid = copy(f, f->inbox, junk, b, b, true);
	learn_all(f);
	copy(f, junk, trash, juid, juid, true); /* deleting spam is no ham */
	assert_int_equal(pending(f, &v), 0);
	/* from Trash into Junk: spam (the message above is spam already) */
	uint32_t c = deliver1(f, f->acct, msg);
	uint32_t tuid = copy(f, f->inbox, trash, c, c, true);
	copy(f, trash, junk, tuid, tuid, true);
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].spam, 1);
}

static void test_keywords(void **state)
{
	struct fixture *f = *state;
	uint32_t uid = deliver1(f, f->acct, msg);
	int64_t email = email_of(f, f->inbox, uid);
	keywords(f, f->inbox, uid, STORE_FLAGS_ADD, "$Junk");
	struct store_lesson *v;
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].spam, 1);
	learn_all(f);
	/* clearing teaches nothing */
	keywords(f, f->inbox, uid, STORE_FLAGS_REMOVE, "$Junk");
	assert_int_equal(pending(f, &v), 0);
	assert_int_equal(mark(f, email), STORE_LESSON_SPAM);
	/* $NotJunk (any case) undoes the spam lesson */
	keywords(f, f->inbox, uid, STORE_FLAGS_ADD, "$notjunk");
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].spam, -1);
	assert_int_equal(v[0].ham, 1);
	learn_all(f);
	/* both at once: no verdict; a replace that sets $Junk: spam */
	const char *both[] = { "$Junk", "$NotJunk", NULL };
	uint32_t other = deliver1(f, f->acct, msg);
	struct store_range r;
	struct store_flag_change fc = { .account_id = f->acct, .mailbox_id = f->inbox, .uids = uidset1(&r, other, other),
					.op = STORE_FLAGS_ADD, .keywords = both };
	const char *err;
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
	assert_int_equal(pending(f, &v), 0);
	const char *junk_only[] = { "$Junk", "other", NULL };
	fc = (struct store_flag_change){ .account_id = f->acct, .mailbox_id = f->inbox, .uids = uidset1(&r, uid, uid),
					 .op = STORE_FLAGS_REPLACE, .keywords = junk_only };
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].spam, 1);
	assert_int_equal(v[0].ham, -1);
}

static void test_copy_is_per_message(void **state)
{
	struct fixture *f = *state;
	int64_t junk = mbox(f, "Junk");
	uint32_t first = deliver1(f, f->acct, msg);
	deliver1(f, f->acct, msg);
	deliver1(f, f->acct, msg);
	copy(f, f->inbox, junk, first, first + 2, false);
	struct store_lesson *v;
	assert_int_equal(pending(f, &v), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(v[i].email_id, email_of(f, f->inbox, first + (uint32_t)i));
		assert_int_equal(v[i].spam, 1);
	}
}

static void test_append(void **state)
{
	struct fixture *f = *state;
	struct store_append ap = { .account_id = f->acct, .mailbox_id = mbox(f, "Junk"), .data = msg, .len = strlen(msg) };
	const char *err;
	assert_int_equal(store_append(f->s, &ap, &err), 1);
	struct store_lesson *v;
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].email_id, ap.email_id);
	assert_int_equal(v[0].spam, 1);
	learn_all(f);
	/* into another mailbox: only with a keyword (Sent copies and drafts teach nothing) */
	ap = (struct store_append){ .account_id = f->acct, .mailbox_id = mbox(f, "Sent"), .data = msg, .len = strlen(msg) };
	assert_int_equal(store_append(f->s, &ap, &err), 1);
	assert_int_equal(pending(f, &v), 0);
	const char *kws[] = { "$NotJunk", NULL };
	struct store_append many[2] = {
		{ .data = msg, .len = strlen(msg), .keywords = kws },
		{ .data = msg, .len = strlen(msg) },
	};
	struct store_append_many am = { .account_id = f->acct, .mailbox_id = f->inbox, .msgs = many, .n = 2 };
	assert_int_equal(store_append_many(f->s, &am, &err), 1);
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].email_id, many[0].email_id);
	assert_int_equal(v[0].ham, 1);
}

static void test_email_update(void **state)
{
	struct fixture *f = *state;
	int64_t junk = mbox(f, "Junk"), trash = mbox(f, "Trash"), archive = mbox(f, "Archive");
	uint32_t uid = deliver1(f, f->acct, msg);
	int64_t email = email_of(f, f->inbox, uid);
	struct store_email_update u = { .email_id = email, .mailbox_ids = &junk, .nmailboxes = 1 };
	struct store_email_update_batch b = { .account_id = f->acct, .items = &u, .n = 1 };
	const char *err;
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	assert_int_equal(u.result, 1);
	struct store_lesson *v;
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].spam, 1);
	learn_all(f);
	/* to Trash and Junk: still in Junk, nothing; then Trash alone: nothing */
	int64_t two[] = { junk, trash };
	u = (struct store_email_update){ .email_id = email, .mailbox_ids = two, .nmailboxes = 2 };
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	u = (struct store_email_update){ .email_id = email, .mailbox_ids = &trash, .nmailboxes = 1 };
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	assert_int_equal(pending(f, &v), 0);
	/* out of Trash into Archive: not out of Junk, nothing */
	u = (struct store_email_update){ .email_id = email, .mailbox_ids = &archive, .nmailboxes = 1 };
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	assert_int_equal(pending(f, &v), 0);
	/* the webmail's "Not spam": out of Junk with $notjunk, one lesson */
	u = (struct store_email_update){ .email_id = email, .mailbox_ids = &junk, .nmailboxes = 1 };
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	const char *nj[] = { "$notjunk", NULL };
	u = (struct store_email_update){ .email_id = email, .mailbox_ids = &f->inbox, .nmailboxes = 1, .add_keywords = nj };
	assert_int_equal(store_email_update_batch(f->s, f->a, &b, &err), 1);
	assert_int_equal(u.result, 1);
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].spam, -1);
	assert_int_equal(v[0].ham, 1);
	assert_int_equal(mark(f, email), STORE_LESSON_HAM);
}

static int empty(struct fixture *f, int64_t mailbox_id)
{
	struct store_range r;
	struct store_uidset all = uidset1(&r, 1, STORE_UID_MAX);
	const char *err;
	return store_expunge(f->s, NULL, f->acct, mailbox_id, &all, false, NULL, NULL, &err);
}

static size_t blob_files(struct fixture *f)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "find %s/blobs -type f | wc -l", f->dir);
	FILE *p = popen(cmd, "r");
	unsigned long n = 0;
	assert_int_equal(fscanf(p, "%lu", &n), 1);
	pclose(p);
	return n;
}

static void test_pending_lesson_keeps_message(void **state)
{
	struct fixture *f = *state;
	int64_t junk = mbox(f, "Junk");
	uint32_t uid = deliver1(f, f->acct, msg);
	uint32_t juid = copy(f, f->inbox, junk, uid, uid, true);
	const char *err;
	/* Junk emptied before the learner came */
	assert_int_equal(empty(f, junk), 1);
	(void)juid;
	assert_int_equal(blob_files(f), 1);
	struct store_lesson *v;
	assert_int_equal(pending(f, &v), 1);
	const char *data;
	size_t len;
	assert_int_equal(store_lesson_read(f->s, f->a, v[0].email_id, 0, &data, &len, &err), 1);
	assert_int_equal(len, strlen(msg));
	assert_memory_equal(data, msg, len);
	assert_int_equal(store_lesson_read(f->s, f->a, v[0].email_id, 4, &data, &len, &err), 1);
	assert_int_equal(len, 4);
	int64_t email = v[0].email_id;
	learn_all(f);
	/* applied: the message is freed now, and so is its mark */
	assert_int_equal(store_lesson_read(f->s, f->a, email, 0, &data, &len, &err), 0);
	assert_int_equal(blob_files(f), 0);
	assert_int_equal(mark(f, email), STORE_LESSON_NONE);
}

static void test_lesson_during_learning_is_kept(void **state)
{
	struct fixture *f = *state;
	int64_t junk = mbox(f, "Junk");
	uint32_t uid = deliver1(f, f->acct, msg);
	uint32_t juid = copy(f, f->inbox, junk, uid, uid, true);
	struct store_lesson *v;
	assert_int_equal(pending(f, &v), 1);
	struct store_lesson taken = v[0]; /* the learner works on it ... */
	copy(f, junk, f->inbox, juid, juid, true); /* ... while the user changes their mind */
	const char *err;
	assert_int_equal(store_lessons_done(f->s, &taken, 1, &err), 1);
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].spam, -1); /* what remains: unlearn the spam just learned, learn ham */
	assert_int_equal(v[0].ham, 1);
	/* applying it twice (a crash between learning and done) leaves nothing behind */
	struct store_lesson again = v[0];
	assert_int_equal(store_lessons_done(f->s, &again, 1, &err), 1);
	assert_int_equal(pending(f, &v), 0);
	assert_int_equal(store_lessons_done(f->s, &again, 1, &err), 1);
	assert_int_equal(pending(f, &v), 0);
}

static void test_account_deletion_cleans_up(void **state)
{
	struct fixture *f = *state;
	int64_t junk = mbox(f, "Junk");
	uint32_t a = deliver1(f, f->acct, msg);
	uint32_t b = deliver1(f, f->acct, msg);
	int64_t email = email_of(f, f->inbox, a);
	copy(f, f->inbox, junk, a, b, true);
	learn_all(f);
	uint32_t c = deliver1(f, f->acct, msg);
	copy(f, f->inbox, junk, c, c, true);
	const char *err;
	/* Junk emptied: the pending lesson alone keeps message c */
	assert_int_equal(empty(f, junk), 1);
	assert_int_equal(blob_files(f), 1);
	/* b@ has a lesson of its own that stays */
	uint32_t d = deliver1(f, f->acct2, msg);
	struct store_range r;
	const char *kws[] = { "$Junk", NULL };
	struct store_flag_change fc = { .account_id = f->acct2, .mailbox_id = 0, .uids = uidset1(&r, d, d),
					.op = STORE_FLAGS_ADD, .keywords = kws };
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct2, "INBOX", &mb, &err), 1);
	fc.mailbox_id = mb.id;
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
	assert_int_equal(store_account_del(f->s, "a@example.test", &err), 1);
	struct store_lesson *v;
	assert_int_equal(pending(f, &v), 1);
	assert_int_equal(v[0].account_id, f->acct2);
	assert_int_equal(blob_files(f), 1); /* b@'s message only */
	assert_int_equal(mark(f, email), STORE_LESSON_NONE);
}

static atomic_int notified;

static void notify(void *arg)
{
	(void)arg;
	atomic_fetch_add(&notified, 1);
}

static void test_notify(void **state)
{
	struct fixture *f = *state;
	store_set_lesson_notify(f->s, notify, NULL);
	uint32_t uid = deliver1(f, f->acct, msg);
	assert_int_equal(atomic_load(&notified), 0);
	copy(f, f->inbox, mbox(f, "Junk"), uid, uid, true);
	/* the committer tells after the batch's completions: the next write's batch
	 * runs after that */
	deliver1(f, f->acct, msg);
	assert_int_equal(atomic_load(&notified), 1);
	deliver1(f, f->acct, msg);
	assert_int_equal(atomic_load(&notified), 1);
	store_set_lesson_notify(f->s, NULL, NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_delivery_teaches_nothing),
		T(test_move_into_junk_teaches_spam_once),
		T(test_out_of_junk_replaces_spam),
		T(test_unlearned_before_learned_nets_out),
		T(test_trash_teaches_nothing),
		T(test_keywords),
		T(test_copy_is_per_message),
		T(test_append),
		T(test_email_update),
		T(test_pending_lesson_keeps_message),
		T(test_lesson_during_learning_is_kept),
		T(test_account_deletion_cleans_up),
		T(test_notify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
