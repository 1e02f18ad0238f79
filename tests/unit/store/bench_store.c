/* bench_store.c: store measurements for the performance section (not a test).
 *   bench_store DIR-PARENT [N]
 * 1. deliveries per second with durability on, and fsyncs per delivery, at 1, 8 and
 *    32 concurrent writers (synchronous store_deliver from each thread);
 * 2. a mailbox of N messages (default 100,000): time to list UID+FLAGS of all, time of
 *    SEARCH SUBJECT, and storage overhead (database + blob bytes over raw bytes). */
#include "helpers.h"

#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct wjob {
	struct store *s;
	int64_t acct;
	int n;
};

static void *wthread(void *arg)
{
	struct wjob *j = arg;
	char text[2048];
	for (int i = 0; i < j->n; i++) {
		int len = snprintf(text, sizeof(text),
				   "From: bench@example.test\r\nTo: u@x.test\r\nSubject: bench %d\r\n"
				   "Message-ID: <%d.%p@x>\r\n\r\n%.*s\r\n", i, i, (void *)j, 1500,
				   "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum dolor sit amet, consectetur adipiscing elit. ");
		struct store_delivery d = { .data = text, .len = (size_t)len, .accounts = &j->acct, .naccounts = 1 };
		const char *err;
		if (store_deliver(j->s, &d, &err) != 1)
			fprintf(stderr, "deliver: %s\n", err);
	}
	return NULL;
}

static uint64_t du(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "du -sb %s | cut -f1", path);
	FILE *p = popen(cmd, "r");
	unsigned long long v = 0;
	if (fscanf(p, "%llu", &v) != 1)
		v = 0;
	pclose(p);
	return v;
}

struct gc {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	long done;
};

static void gc_done(void *arg, int result, const char *error)
{
	(void)result;
	(void)error;
	struct gc *g = arg;
	pthread_mutex_lock(&g->mu);
	g->done++;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

int main(int argc, char **argv)
{
	const char *parent = argc > 1 ? argv[1] : "/tmp";
	long nbig = argc > 2 ? atol(argv[2]) : 100000;
	long body_kb = getenv("BENCH_BODY_KB") ? atol(getenv("BENCH_BODY_KB")) : 0; /* extra body */
	char *extra = calloc(1, (size_t)body_kb * 1024 + 1);
	for (long i = 0; i < body_kb * 1024; i++)
		extra[i] = (i % 77 == 76) ? '\n' : (char)('a' + i % 26);
	const char *err;
	int writers[] = { 1, 8, 32 };
	for (size_t w = 0; w < 3; w++) {
		char dir[512];
		snprintf(dir, sizeof(dir), "%s/bench-XXXXXX", parent);
		if (mkdtemp(dir) == NULL)
			return 1;
		struct store *s = open_in(dir, true);
		int64_t acct;
		store_domain_add(s, "x.test", &err);
		store_account_add(s, "u@x.test", "$y$", 0, &acct, &err);
		int per = 1600 / writers[w];
		pthread_t th[32];
		struct wjob jobs[32];
		struct store_stats st0, st1;
		store_get_stats(s, &st0);
		double t0 = now_s();
		for (int i = 0; i < writers[w]; i++) {
			jobs[i] = (struct wjob){ s, acct, per };
			pthread_create(&th[i], NULL, wthread, &jobs[i]);
		}
		for (int i = 0; i < writers[w]; i++)
			pthread_join(th[i], NULL);
		double dt = now_s() - t0;
		store_get_stats(s, &st1);
		long total = (long)per * writers[w];
		double commits = (double)(st1.commits - st0.commits);
		double fsyncs = (double)(st1.fsyncs - st0.fsyncs) + commits; /* + one WAL fsync per commit */
		printf("writers=%2d deliveries=%ld time=%.2fs rate=%.0f/s commits=%.0f fsyncs/delivery=%.2f\n",
		       writers[w], total, dt, total / dt, commits, fsyncs / total);
		store_close(&s);
		rm_rf(dir);
	}

	/* a big mailbox */
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/bench-XXXXXX", parent);
	if (mkdtemp(dir) == NULL)
		return 1;
	struct store *s = open_in(dir, false);
	int64_t acct;
	store_domain_add(s, "x.test", &err);
	store_account_add(s, "u@x.test", "$y$", 0, &acct, &err);
	struct gc g = { .done = 0 };
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	enum { BATCH = 2000 };
	static struct store_delivery d[BATCH];
	static char *texts[BATCH];
	for (int i = 0; i < BATCH; i++)
		texts[i] = malloc(3000 + (size_t)body_kb * 1024);
	uint64_t raw = 0;
	double t0 = now_s();
	for (long base = 0; base < nbig; base += BATCH) {
		long cnt = nbig - base < BATCH ? nbig - base : BATCH;
		long target = g.done + cnt;
		for (long i = 0; i < cnt; i++) {
			long k = base + i;
			int len = snprintf(texts[i], 3000 + (size_t)body_kb * 1024,
					   "From: Sender %ld <s%ld@example.test>\r\nTo: u@x.test\r\n"
					   "Subject: %s message number %ld\r\nDate: Mon, 2 Mar 2026 12:00:00 +0000\r\n"
					   "Message-ID: <%ld@bench>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
					   "%s%.*s\r\n", k % 97, k % 97, k % 1000 == 0 ? "needle" : "ordinary", k, k, extra,
					   (int)(1000 + k % 2000),
					   "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum. Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum. Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum. Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum. Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur.");
			raw += (uint64_t)len;
			d[i] = (struct store_delivery){ .data = texts[i], .len = (size_t)len, .accounts = &acct, .naccounts = 1 };
			store_deliver_async(s, &d[i], NULL, gc_done, &g);
		}
		pthread_mutex_lock(&g.mu);
		while (g.done < target)
			pthread_cond_wait(&g.cv, &g.mu);
		pthread_mutex_unlock(&g.mu);
	}
	printf("filled %ld messages (%llu raw bytes) in %.1fs (fsync off)\n", nbig,
	       (unsigned long long)raw, now_s() - t0);
	struct arena *a = arena_new();
	struct store_mailbox mb;
	store_mailbox_get(s, a, acct, "INBOX", &mb, &err);
	for (int rep = 0; rep < 3; rep++) {
		t0 = now_s();
		struct store_msg *m;
		size_t n;
		store_msg_list(s, a, acct, mb.id, NULL, 0, &m, &n, &err);
		double t_list = now_s() - t0;
		arena_clear(a);
		t0 = now_s();
		uint32_t *uids;
		store_uid_list(s, a, acct, mb.id, &uids, &n, &err);
		double t_uids = now_s() - t0;
		arena_clear(a);
		struct store_search_ctx sc = { .account_id = acct, .mailbox_id = mb.id };
		struct store_search k = { .key = STORE_SK_SUBJECT, .str = "NEEDLE" };
		t0 = now_s();
		size_t nm;
		store_search(s, a, &sc, &k, &uids, &nm, NULL, &err);
		double t_search = now_s() - t0;
		arena_clear(a);
		struct store_search kb = { .key = STORE_SK_BODY, .str = "zzz-not-there" };
		struct store_range r = { 1, 10000 };
		struct store_search ku = { .key = STORE_SK_UID, .set = { &r, 1 }, .next = &kb };
		struct store_search kand = { .key = STORE_SK_AND, .sub = &ku };
		t0 = now_s();
		store_search(s, a, &sc, &kand, &uids, &nm, NULL, &err);
		double t_body = now_s() - t0;
		arena_clear(a);
		printf("list %zu (uid, flags, modseq, size, dates): %.1f ms; uids only: %.1f ms; "
		       "SEARCH SUBJECT: %.1f ms (%zu hits); SEARCH UID 1:10000 BODY: %.1f ms\n",
		       n, t_list * 1000, t_uids * 1000, t_search * 1000, (size_t)(nbig + 999) / 1000,
		       t_body * 1000);
	}
	store_close(&s);
	char p1[600], p2[600];
	snprintf(p1, sizeof(p1), "%s/db", dir);
	snprintf(p2, sizeof(p2), "%s/blobs", dir);
	uint64_t dbsz = du(p1), blobsz = du(p2);
	printf("storage: raw %llu, blobs %llu, database %llu: overhead %.1f%% (blob files count their "
	       "4 KiB blocks; database alone %.1f%%)\n", (unsigned long long)raw,
	       (unsigned long long)blobsz, (unsigned long long)dbsz,
	       100.0 * ((double)(dbsz + blobsz) - (double)raw) / (double)raw, 100.0 * (double)dbsz / (double)raw);
	arena_free(&a);
	if (getenv("BENCH_KEEP") != NULL)
		printf("kept %s\n", dir);
	else
		rm_rf(dir);
	return 0;
}
