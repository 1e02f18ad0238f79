/* test_learner.c: the junk filter's learner (src/spam/junk_learner.c) over a real store
 * and a real filter: lessons applied in batches with their deltas, a changed verdict
 * unlearned, a message expunged before the learner came still learned, a crash
 * between learning and marking done applying the batch again (at least once, never
 * lost), the pool-driven learner woken by the store. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "junk.h"
#include "junk_learner.h"
#include "pool.h"
#include "store.h"

struct fx {
	char dir[64];
	struct store *s;
	struct junk *j;
	struct arena *a;
	int64_t acct, inbox, junkbox;
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void open_store(struct fx *f)
{
	struct store_options opt = { .create = true, .no_fsync = true };
	const char *err = NULL;
	if (store_open(f->dir, &opt, &f->s, &err) < 0)
		fail_msg("store_open: %s", err);
	struct junk_settings js;
	junk_settings_default(&js);
	f->j = junk_new(f->s, &js);
}

static void close_store(struct fx *f)
{
	junk_free(&f->j);
	store_close(&f->s);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/postamt-learner-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	open_store(f);
	f->a = arena_new();
	const char *err;
	struct store_mailbox mb;
	if (store_domain_add(f->s, "example.test", &err) < 0 ||
	    store_account_add(f->s, "a@example.test", "$y$x", 0, &f->acct, &err) < 0 ||
	    store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err) != 1)
		return -1;
	f->inbox = mb.id;
	if (store_mailbox_get(f->s, f->a, f->acct, "Junk", &mb, &err) != 1)
		return -1;
	f->junkbox = mb.id;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	close_store(f);
	arena_free(&f->a);
	nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Delivers n different messages to INBOX; returns the first UID. */
static uint32_t deliver(struct fx *f, int n)
{
	uint32_t first = 0;
	for (int i = 0; i < n; i++) {
		char text[256];
		int len = snprintf(text, sizeof(text),
				   "From: seller%d@shop.example\r\nSubject: cheap watches %d\r\n\r\nbuy now %d\r\n", i, i, i);
		uint32_t uid = 0;
		struct store_delivery d = { .data = text, .len = (size_t)len, .accounts = &f->acct, .naccounts = 1,
					    .uids = &uid };
		const char *err;
		assert_int_equal(store_deliver(f->s, &d, &err), 1);
		if (i == 0)
			first = uid;
	}
	return first;
}

static void move(struct fx *f, int64_t from, int64_t to, uint32_t lo, uint32_t hi)
{
	struct store_range r = { lo, hi };
	struct store_copy c = { .account_id = f->acct, .src_mailbox_id = from, .dst_mailbox_id = to,
				.uids = { &r, 1 }, .move = true };
	const char *err;
	assert_int_equal(store_copy(f->s, f->a, &c, &err), 1);
}

static struct store_junk_model model(struct fx *f)
{
	struct store_junk_stats st;
	const char *err;
	assert_int_equal(store_junk_stats(f->s, f->a, f->acct, 0, &st, &err), 1);
	return st.model;
}

static size_t pending(struct fx *f)
{
	struct store_lesson *v;
	size_t n;
	const char *err;
	assert_int_equal(store_lessons_next(f->s, f->a, 100000, &v, &n, &err), 1);
	return n;
}

static void test_batches_and_deltas(void **state)
{
	struct fx *f = *state;
	struct junk_learner *l = junk_learner_new(f->s, f->j, NULL, &(struct junk_learner_settings){ 200, 0 });
	uint32_t first = deliver(f, 450);
	move(f, f->inbox, f->junkbox, first, first + 449);
	const char *err;
	assert_int_equal(junk_learner_run_once(l, &err), 200);
	assert_int_equal(model(f).nspam, 200);
	assert_int_equal(junk_learner_run_once(l, &err), 200);
	assert_int_equal(junk_learner_run_once(l, &err), 50);
	assert_int_equal(junk_learner_run_once(l, &err), 0);
	assert_int_equal(model(f).nspam, 450);
	assert_int_equal(model(f).nham, 0);
	/* ten of them were not spam after all: unlearned and learned as ham */
	uint32_t juid = 1; /* the Junk mailbox's first UID */
	move(f, f->junkbox, f->inbox, juid, juid + 9);
	assert_int_equal(junk_learner_run_once(l, &err), 10);
	assert_int_equal(model(f).nspam, 440);
	assert_int_equal(model(f).nham, 10);
	assert_int_equal(junk_learner_applied(l), 460);
	junk_learner_free(&l);
}

static void test_expunged_before_learning(void **state)
{
	struct fx *f = *state;
	struct junk_learner *l = junk_learner_new(f->s, f->j, NULL, &(struct junk_learner_settings){ 200, 0 });
	uint32_t first = deliver(f, 3);
	move(f, f->inbox, f->junkbox, first, first + 2);
	struct store_range r = { 1, STORE_UID_MAX };
	struct store_uidset all = { &r, 1 };
	const char *err;
	assert_int_equal(store_expunge(f->s, NULL, f->acct, f->junkbox, &all, false, NULL, NULL, &err), 1);
	assert_int_equal(junk_learner_run_once(l, &err), 3);
	assert_int_equal(model(f).nspam, 3);
	assert_int_equal(pending(f), 0);
	assert_int_equal(store_check(f->s, &err), 1);
	junk_learner_free(&l);
}

/* A crash after junk_train and before the batch was marked done: the lessons are
 * still pending at the next start and are applied again (counted twice, not lost). */
static void test_crash_applies_again(void **state)
{
	struct fx *f = *state;
	uint32_t first = deliver(f, 5);
	move(f, f->inbox, f->junkbox, first, first + 4);
	/* what a learner does up to the crash */
	struct store_lesson *v;
	size_t n;
	const char *err;
	assert_int_equal(store_lessons_next(f->s, f->a, 200, &v, &n, &err), 1);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		const char *data;
		size_t len;
		assert_int_equal(store_lesson_read(f->s, f->a, v[i].email_id, 0, &data, &len, &err), 1);
		assert_int_equal(junk_train(f->j, v[i].account_id, data, len, v[i].spam, v[i].ham, &err), 1);
	}
	close_store(f);
	open_store(f);
	assert_int_equal(pending(f), 5);
	struct junk_learner *l = junk_learner_new(f->s, f->j, NULL, &(struct junk_learner_settings){ 200, 0 });
	assert_int_equal(junk_learner_run_once(l, &err), 5);
	assert_int_equal(pending(f), 0);
	assert_int_equal(model(f).nspam, 10);
	junk_learner_free(&l);
}

/* The server's way: the store wakes the learner, which runs on the pool in batches. */
static void test_on_the_pool(void **state)
{
	struct fx *f = *state;
	struct pool *p = pool_new(2);
	struct junk_learner *l = junk_learner_new(f->s, f->j, p, &(struct junk_learner_settings){ 50, 0 });
	uint32_t first = deliver(f, 300);
	move(f, f->inbox, f->junkbox, first, first + 299); /* one transaction, one notice */
	for (int i = 0; i < 3000 && junk_learner_applied(l) < 300; i++)
		usleep(10000);
	pool_wait_idle(p);
	assert_int_equal(junk_learner_applied(l), 300);
	assert_int_equal(pending(f), 0);
	assert_int_equal(model(f).nspam, 300);
	junk_learner_stop(l);
	move(f, f->junkbox, f->inbox, 1, 1);
	pool_wait_idle(p);
	assert_int_equal(pending(f), 1); /* stopped: it waits in the store */
	pool_free(&p);
	junk_learner_free(&l);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_batches_and_deltas),
		T(test_expunged_before_learning),
		T(test_crash_applies_again),
		T(test_on_the_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
