/* test_events.c: change events reach subscribers on their own loop threads, filtered
 * by account and mailbox, in commit order; async completions come back on the
 * submitter's loop; unsubscribing while events are in flight never calls back into
 * freed state (run under ASan). */
#include "helpers.h"

#include <pthread.h>
#include <time.h>

#include "loop.h"

struct watcher {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int count;
	int kinds[64];
	uint64_t modseqs[64];
	int64_t mailboxes[64];
	struct loop *expect;
	bool wrong_thread;
};

static void watcher_init(struct watcher *w, struct loop *l)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->expect = l;
}

static void on_event(void *arg, const struct store_event *ev)
{
	struct watcher *w = arg;
	pthread_mutex_lock(&w->mu);
	if (w->expect != NULL && !loop_is_current(w->expect))
		w->wrong_thread = true;
	if (w->count < 64) {
		w->kinds[w->count] = ev->kind;
		w->modseqs[w->count] = ev->modseq;
		w->mailboxes[w->count] = ev->mailbox_id;
	}
	w->count++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static bool wait_count(struct watcher *w, int n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&w->mu);
	while (w->count < n) {
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) != 0)
			break;
	}
	bool ok = w->count >= n;
	pthread_mutex_unlock(&w->mu);
	return ok;
}

/* Lets every call already posted to l run. */
static void noop(void *arg)
{
	struct watcher *w = arg;
	on_event(w, &(struct store_event){ 0 });
}

static void drain(struct loop *l)
{
	struct watcher w;
	watcher_init(&w, NULL);
	loop_post(l, noop, &w);
	assert_true(wait_count(&w, 1));
}

static const char *msg = "From: a@b.test\r\nSubject: ev\r\n\r\nhi\r\n";

static void test_events(void **state)
{
	struct fixture *f = *state;
	const char *err;
	struct loop *l1 = loop_new(1), *l2 = loop_new(2);
	assert_int_equal(loop_start(l1, &err), 1);
	assert_int_equal(loop_start(l2, &err), 1);
	struct watcher w1, w2, w3;
	watcher_init(&w1, l1);
	watcher_init(&w2, l2);
	watcher_init(&w3, l1);
	struct store_sub *s1 = store_subscribe(f->s, f->acct, 0, l1, on_event, &w1);
	struct store_sub *s2 = store_subscribe(f->s, f->acct, f->inbox, l2, on_event, &w2);
	struct store_sub *s3 = store_subscribe(f->s, f->acct2, 0, l1, on_event, &w3);

	deliver1(f, f->acct, msg);
	assert_true(wait_count(&w1, 1));
	assert_true(wait_count(&w2, 1));
	assert_int_equal(w1.kinds[0], STORE_EV_NEW);
	assert_int_equal(w2.mailboxes[0], f->inbox);

	struct store_range r;
	struct store_flag_change fc = { .account_id = f->acct, .mailbox_id = f->inbox,
					.uids = uidset1(&r, 1, 1), .op = STORE_FLAGS_ADD,
					.flags = STORE_F_SEEN };
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
	assert_true(wait_count(&w2, 2));
	assert_int_equal(w2.kinds[1], STORE_EV_FLAGS);
	assert_int_equal(w2.modseqs[1], fc.modseq);
	assert_true(w2.modseqs[1] > w2.modseqs[0]);

	assert_int_equal(store_mailbox_create(f->s, f->acct, "Other", 0, NULL, &err), 1);
	assert_true(wait_count(&w1, 3));
	assert_int_equal(w1.kinds[2], STORE_EV_MAILBOX_CREATED);
	assert_int_equal(store_expunge(f->s, f->a, f->acct, f->inbox, NULL, false, NULL, NULL, &err), 1);
	/* nothing was \Deleted: no event; now delete for real */
	struct store_uidset all = uidset1(&r, 1, UINT32_MAX);
	assert_int_equal(store_expunge(f->s, f->a, f->acct, f->inbox, &all, false, NULL, NULL, &err), 1);
	assert_true(wait_count(&w2, 3));
	assert_int_equal(w2.kinds[2], STORE_EV_EXPUNGE);
	drain(l1);
	drain(l2);
	assert_int_equal(w2.count, 3); /* the mailbox creation was not for INBOX */
	assert_int_equal(w1.count, 4);
	assert_int_equal(w3.count, 0); /* other account */
	assert_false(w1.wrong_thread);
	assert_false(w2.wrong_thread);

	store_unsubscribe(&s1);
	assert_null(s1);
	deliver1(f, f->acct, msg);
	assert_true(wait_count(&w2, 4));
	drain(l1);
	assert_int_equal(w1.count, 4); /* unsubscribed */
	store_unsubscribe(&s2);
	store_unsubscribe(&s3);
	loop_stop_and_join(l1);
	loop_stop_and_join(l2);
	loop_free(&l1);
	loop_free(&l2);
}

/* ------------------------------------------------------------------ unsubscribe race */

struct victim {
	int magic;
	int events;
	struct store_sub *sub;
};

static void victim_event(void *arg, const struct store_event *ev)
{
	(void)ev;
	struct victim *v = arg;
	assert_int_equal(v->magic, 0x5a5a); /* ASan reports a use after free here */
	v->events++;
}

static void victim_kill(void *arg)
{
	struct victim *v = arg;
	store_unsubscribe(&v->sub);
	v->magic = 0;
	free(v);
}

struct counter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
};

static void count_done(void *arg, int result, const char *error)
{
	(void)error;
	struct counter *c = arg;
	assert_true(result >= 0);
	pthread_mutex_lock(&c->mu);
	c->done++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void test_unsubscribe_in_flight(void **state)
{
	struct fixture *f = *state;
	const char *err;
	deliver1(f, f->acct, msg);
	struct loop *l = loop_new(3);
	assert_int_equal(loop_start(l, &err), 1);
	struct counter c = { .done = 0 };
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	enum { N = 300 };
	static struct store_flag_change fcs[N];
	static struct store_range rs[N];
	for (int round = 0; round < 3; round++) {
		struct victim *v = calloc(1, sizeof(*v));
		v->magic = 0x5a5a;
		v->sub = store_subscribe(f->s, f->acct, 0, l, victim_event, v);
		for (int i = 0; i < N; i++) {
			fcs[i] = (struct store_flag_change){ .account_id = f->acct, .mailbox_id = f->inbox,
				.uids = uidset1(&rs[i], 1, 1), .op = (i & 1) ? STORE_FLAGS_REMOVE : STORE_FLAGS_ADD,
				.flags = STORE_F_FLAGGED };
			store_flags_async(f->s, NULL, &fcs[i], NULL, count_done, &c);
			if (i == N / 2)
				loop_post(l, victim_kill, v); /* unsubscribe + free mid-stream */
		}
		pthread_mutex_lock(&c.mu);
		while (c.done < (round + 1) * N)
			pthread_cond_wait(&c.cv, &c.mu);
		pthread_mutex_unlock(&c.mu);
	}
	/* let the loop run every delivery that was posted */
	struct watcher w;
	watcher_init(&w, NULL);
	loop_post(l, noop, &w);
	assert_true(wait_count(&w, 1));
	loop_stop_and_join(l);
	loop_free(&l);
}

/* An unsubscribe from inside the callback is allowed. */
struct selfkill {
	struct store_sub *sub;
	int events;
};

static void selfkill_event(void *arg, const struct store_event *ev)
{
	(void)ev;
	struct selfkill *k = arg;
	k->events++;
	store_unsubscribe(&k->sub);
}

static void test_unsubscribe_in_callback(void **state)
{
	struct fixture *f = *state;
	struct selfkill k = { 0 };
	k.sub = store_subscribe(f->s, f->acct, 0, NULL, selfkill_event, &k); /* committer thread */
	deliver1(f, f->acct, msg);
	deliver1(f, f->acct, msg);
	assert_int_equal(k.events, 1);
	assert_null(k.sub);
}

/* ------------------------------------------------------------------ async completion */

struct async_wait {
	struct loop *l;
	bool on_loop;
	int result;
	struct counter c;
};

static void async_done(void *arg, int result, const char *error)
{
	(void)error;
	struct async_wait *w = arg;
	w->on_loop = loop_is_current(w->l);
	w->result = result;
	pthread_mutex_lock(&w->c.mu);
	w->c.done++;
	pthread_cond_broadcast(&w->c.cv);
	pthread_mutex_unlock(&w->c.mu);
}

static void test_async_on_loop(void **state)
{
	struct fixture *f = *state;
	const char *err;
	struct async_wait w = { 0 };
	w.l = loop_new(4);
	pthread_mutex_init(&w.c.mu, NULL);
	pthread_cond_init(&w.c.cv, NULL);
	assert_int_equal(loop_start(w.l, &err), 1);
	int64_t acct = f->acct;
	int res = 0;
	uint32_t uid = 0;
	struct store_delivery d = { .data = msg, .len = strlen(msg), .accounts = &acct, .naccounts = 1,
				    .results = &res, .uids = &uid };
	store_deliver_async(f->s, &d, w.l, async_done, &w);
	pthread_mutex_lock(&w.c.mu);
	while (w.c.done < 1)
		pthread_cond_wait(&w.c.cv, &w.c.mu);
	pthread_mutex_unlock(&w.c.mu);
	assert_true(w.on_loop);
	assert_int_equal(w.result, 1);
	assert_int_equal(uid, 1);
	struct store_append ap = { .account_id = f->acct, .mailbox_id = 12345, .data = msg, .len = strlen(msg) };
	store_append_async(f->s, &ap, w.l, async_done, &w);
	pthread_mutex_lock(&w.c.mu);
	while (w.c.done < 2)
		pthread_cond_wait(&w.c.cv, &w.c.mu);
	pthread_mutex_unlock(&w.c.mu);
	assert_int_equal(w.result, STORE_ENOTFOUND);
	loop_stop_and_join(w.l);
	loop_free(&w.l);
}

static void wait_done(struct async_wait *w, int n)
{
	pthread_mutex_lock(&w->c.mu);
	while (w->c.done < n)
		pthread_cond_wait(&w->c.cv, &w->c.mu);
	pthread_mutex_unlock(&w->c.mu);
}

static void test_mailbox_async(void **state)
{
	struct fixture *f = *state;
	const char *err;
	struct async_wait w = { 0 };
	w.l = loop_new(5);
	pthread_mutex_init(&w.c.mu, NULL);
	pthread_cond_init(&w.c.cv, NULL);
	assert_int_equal(loop_start(w.l, &err), 1);
	int64_t id = 0;
	char name[32] = "Async/Box";
	store_mailbox_create_async(f->s, f->acct, name, 0, &id, w.l, async_done, &w);
	name[0] = 'X'; /* the name was copied */
	wait_done(&w, 1);
	assert_true(w.on_loop);
	assert_int_equal(w.result, 1);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Async/Box", &mb, &err), 1);
	assert_int_equal(mb.id, id);
	store_mailbox_rename_async(f->s, f->acct, "Async", "bad//name", w.l, async_done, &w);
	wait_done(&w, 2);
	assert_int_equal(w.result, STORE_EINVAL);
	store_mailbox_rename_async(f->s, f->acct, "Async", "Moved", w.l, async_done, &w);
	wait_done(&w, 3);
	assert_int_equal(w.result, 1);
	store_mailbox_subscribe_async(f->s, f->acct, "Moved/Box", false, w.l, async_done, &w);
	wait_done(&w, 4);
	assert_int_equal(w.result, 1);
	uint32_t first = 0;
	deliver1(f, f->acct, msg);
	store_mailbox_claim_recent_async(f->s, f->acct, f->inbox, &first, w.l, async_done, &w);
	wait_done(&w, 5);
	assert_int_equal(w.result, 1);
	assert_int_equal(first, 1);
	store_mailbox_delete_async(f->s, f->acct, "Moved/Box", w.l, async_done, &w);
	wait_done(&w, 6);
	assert_int_equal(w.result, 1);
	store_mailbox_delete_async(f->s, f->acct, "INBOX", w.l, async_done, &w);
	wait_done(&w, 7);
	assert_int_equal(w.result, STORE_ENOTALLOWED);
	loop_stop_and_join(w.l);
	loop_free(&w.l);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_events), T(test_unsubscribe_in_flight), T(test_unsubscribe_in_callback),
		T(test_async_on_loop), T(test_mailbox_async),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
