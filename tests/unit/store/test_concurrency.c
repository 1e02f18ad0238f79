/* test_concurrency.c: several threads deliver, append, change flags, expunge and read
 * at once; afterwards every reported write is present exactly once, UIDs are unique and
 * increasing, counters and quota usage are exact. With fsync on, concurrent async
 * deliveries share commits (group commit). */
#include "helpers.h"

#include <pthread.h>
#include <time.h>

enum { WRITERS = 4, PER_WRITER = 60 };

struct job {
	struct fixture *f;
	int id;
	int ok;
	uint32_t uids[PER_WRITER];
};

static void *writer(void *arg)
{
	struct job *j = arg;
	char text[256];
	for (int i = 0; i < PER_WRITER; i++) {
		snprintf(text, sizeof(text), "From: w%d@x.test\r\nSubject: w%d m%d\r\n\r\nbody %d %d\r\n",
			 j->id, j->id, i, j->id, i);
		int64_t accts[2] = { j->f->acct, j->f->acct2 };
		int res[2];
		uint32_t uids[2];
		struct store_delivery d = { .data = text, .len = strlen(text), .accounts = accts,
					    .naccounts = 2, .results = res, .uids = uids };
		const char *err;
		if (store_deliver(j->f->s, &d, &err) == 1) {
			j->uids[j->ok++] = uids[0];
		}
	}
	return NULL;
}

static void *flagger(void *arg)
{
	struct job *j = arg;
	struct arena *a = arena_new();
	for (int i = 0; i < 100; i++) {
		struct store_range r = { 1, UINT32_MAX };
		struct store_flag_change fc = { .account_id = j->f->acct, .mailbox_id = j->f->inbox,
						.uids = { &r, 1 },
						.op = (i & 1) ? STORE_FLAGS_REMOVE : STORE_FLAGS_ADD,
						.flags = STORE_F_SEEN };
		const char *err;
		if (store_flags(j->f->s, a, &fc, &err) == 1)
			j->ok++;
		arena_clear(a);
	}
	arena_free(&a);
	return NULL;
}

static void *reader(void *arg)
{
	struct job *j = arg;
	struct arena *a = arena_new();
	for (int i = 0; i < 200; i++) {
		struct store_msg *m;
		size_t n;
		const char *err;
		if (store_msg_list(j->f->s, a, j->f->acct, j->f->inbox, NULL, 0, &m, &n, &err) == 1) {
			for (size_t k = 1; k < n; k++)
				assert_true(m[k].uid > m[k - 1].uid);
			j->ok++;
		}
		arena_clear(a);
	}
	arena_free(&a);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	const char *err;
	pthread_t th[WRITERS + 2];
	struct job jobs[WRITERS + 2];
	for (int i = 0; i < WRITERS + 2; i++) {
		jobs[i] = (struct job){ .f = f, .id = i };
		pthread_create(&th[i], NULL, i < WRITERS ? writer : (i == WRITERS ? flagger : reader),
			       &jobs[i]);
	}
	for (int i = 0; i < WRITERS + 2; i++)
		pthread_join(th[i], NULL);
	uint32_t all[WRITERS * PER_WRITER];
	size_t n = 0;
	for (int i = 0; i < WRITERS; i++) {
		assert_int_equal(jobs[i].ok, PER_WRITER);
		for (int k = 1; k < PER_WRITER; k++) /* a writer sees its UIDs increase */
			assert_true(jobs[i].uids[k] > jobs[i].uids[k - 1]);
		memcpy(all + n, jobs[i].uids, PER_WRITER * sizeof(uint32_t));
		n += PER_WRITER;
	}
	assert_int_equal(jobs[WRITERS].ok, 100);
	assert_int_equal(jobs[WRITERS + 1].ok, 200);
	qsort(all, n, sizeof(all[0]), cmp_u32);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(all[i], i + 1); /* unique, dense */
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err), 1);
	assert_int_equal(mb.messages, n);
	assert_int_equal(mb.uidnext, n + 1);
	assert_int_equal(store_check(f->s, &err), 1);
	/* expunge everything while a reader runs */
	pthread_create(&th[0], NULL, reader, &jobs[WRITERS + 1]);
	struct store_range r;
	struct store_uidset set = uidset1(&r, 1, UINT32_MAX);
	size_t nex;
	assert_int_equal(store_expunge(f->s, f->a, f->acct, f->inbox, &set, false, NULL, &nex, &err), 1);
	pthread_join(th[0], NULL);
	assert_int_equal(nex, n);
	uint64_t usage, usage2;
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, NULL, NULL, &err), 1);
	assert_int_equal(usage, 0);
	assert_int_equal(store_quota_get(f->s, f->acct2, &usage2, NULL, NULL, &err), 1);
	assert_true(usage2 > 0);
	assert_int_equal(store_check(f->s, &err), 1);
}

/* ------------------------------------------------------------------ group commit */

struct gc {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, failed;
};

static void gc_done(void *arg, int result, const char *error)
{
	(void)error;
	struct gc *g = arg;
	pthread_mutex_lock(&g->mu);
	g->done++;
	g->failed += result != 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_group_commit(void **state)
{
	(void)state;
	char dir[] = "/tmp/postamt-gc-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct store *s = open_in(dir, true); /* real fsyncs */
	const char *err;
	int64_t id;
	assert_int_equal(store_domain_add(s, "x.test", &err), 1);
	assert_int_equal(store_account_add(s, "u@x.test", "$y$", 0, &id, &err), 1);
	enum { N = 200 };
	static struct store_delivery d[N];
	static char texts[N][128];
	struct gc g = { .done = 0 };
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	struct store_stats before, after;
	store_get_stats(s, &before);
	double t0 = now_s();
	for (int i = 0; i < N; i++) {
		snprintf(texts[i], sizeof(texts[i]), "Subject: gc %d\r\n\r\nbody\r\n", i);
		d[i] = (struct store_delivery){ .data = texts[i], .len = strlen(texts[i]),
						.accounts = &id, .naccounts = 1 };
		store_deliver_async(s, &d[i], NULL, gc_done, &g);
	}
	pthread_mutex_lock(&g.mu);
	while (g.done < N)
		pthread_cond_wait(&g.cv, &g.mu);
	pthread_mutex_unlock(&g.mu);
	double dt = now_s() - t0;
	store_get_stats(s, &after);
	uint64_t commits = after.commits - before.commits;
	assert_int_equal(g.failed, 0);
	print_message("group commit: %d deliveries in %.3f s (%.0f/s), %llu commits\n", N, dt,
		      N / dt, (unsigned long long)commits);
	assert_true(commits < N / 2); /* deliveries shared transactions */
	uint64_t usage, msgs;
	assert_int_equal(store_quota_get(s, id, &usage, NULL, &msgs, &err), 1);
	assert_int_equal(msgs, N);
	assert_int_equal(store_check(s, &err), 1);
	store_close(&s);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_concurrent, fixture_setup, fixture_teardown),
		cmocka_unit_test(test_group_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
