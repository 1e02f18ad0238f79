/* bench_junk.c: CPU cost of the junk filter per message and the size of one trained
 * account's model. Not a test (no timing asserts): `meson test -C build --benchmark
 * junk-bench` or run build/tests/unit/spam/bench_junk [TRAIN [N]]. One account in a
 * fresh store learns TRAIN spam and TRAIN ham messages of the generated corpus
 * (tests/corpus) through junk_train, then judges N new messages (half spam) through
 * junk_classify, as the port-25 hook does. With a third argument, a PostgreSQL URI
 * (an empty database, e.g. under scripts/pg-fixture run), the model is in that
 * database (store.backend = postgresql) and the classify line adds the wall time and
 * the statements one classification sent (pg_stat_database's xact_commit: each read
 * outside a transaction is one). Prints, for scripts/bench:
 *   learn: X ms per message (CPU, n messages)
 *   classify: X ms per message (CPU, n messages, b bytes on average)
 *   model: T tokens, B bytes of junk_token pages after S+H lessons
 * The CPU time includes the store's SQL (reads of the token counts, the lesson's
 * transaction), not the fsync (the store is opened with fsync off). */
#include "corpus.h"
#include "junk.h"
#include "store.h"

#include <ftw.h>
#include <libpq-fe.h>
#include <unistd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Transactions committed in the database of uri so far (the statistics are sent
 * by the backends at most once a second: wait for them). -1 on failure. */
static long long pg_xacts(const char *uri)
{
	sleep(11); /* idle backends send theirs within 10 s (PostgreSQL 15) */
	PGconn *c = PQconnectdb(uri);
	long long n = -1;
	PGresult *r = PQexec(c, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return n;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

/* Bytes of the model on disk: the pages of junk_token (dbstat), or -1. */
static long long model_bytes(const char *path)
{
	sqlite3 *db;
	long long n = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "SELECT SUM(pgsize) FROM dbstat WHERE name = 'junk_token'", -1, &st, NULL) ==
		    SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				n = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(db);
	return n;
}

static int die(const char *what, const char *err)
{
	fprintf(stderr, "bench_junk: %s: %s\n", what, err ? err : "?");
	return 1;
}

int main(int argc, char **argv)
{
	int train = argc > 1 ? atoi(argv[1]) : 50;
	int n = argc > 2 ? atoi(argv[2]) : 1000;
	if (train < 1 || n < 2)
		return die("usage", "bench_junk [TRAIN>=1 [N>=2 [POSTGRESQL-URI]]]");
	const char *pg = argc > 3 ? argv[3] : NULL;
	char dir[] = "/tmp/postamt-junkbench-XXXXXX";
	if (mkdtemp(dir) == NULL)
		return die("mkdtemp", "failed");
	struct store_options opt = { .create = true, .no_fsync = true, .postgresql = pg };
	struct store *s = NULL;
	const char *err = NULL;
	int64_t acct;
	if (store_open(dir, &opt, &s, &err) < 0)
		return die("store_open", err);
	if (store_domain_add(s, "bench.test", &err) < 0 ||
	    store_account_add(s, "a@bench.test", "$y$x", 0, &acct, &err) < 0)
		return die("account", err);
	struct junk_settings set;
	junk_settings_default(&set);
	set.hostname = "mx.bench.test";
	struct junk *j = junk_new(s, &set);
	uint64_t seed = 0x5DEECE66DULL;
	struct buf b = { 0 };

	double t0 = cpu_ms();
	for (int i = 0; i < 2 * train; i++) {
		bool spam = i % 2 == 0;
		buf_reset(&b);
		corpus_message(&seed, spam, "mx.bench.test", &b);
		if (junk_train(j, acct, b.data, b.len, spam ? 1 : 0, spam ? 0 : 1, &err) != 1)
			return die("junk_train", err);
	}
	printf("learn: %.4f ms per message (CPU, %d messages)\n", (cpu_ms() - t0) / (2 * train), 2 * train);

	double ms = 0, wall = 0;
	size_t bytes = 0;
	long long x0 = pg != NULL ? pg_xacts(pg) : 0;
	int spam_verdicts = 0;
	for (int i = 0; i < n; i++) {
		buf_reset(&b);
		corpus_message(&seed, i % 2 == 0, "mx.bench.test", &b);
		bytes += b.len;
		struct junk_verdict v;
		t0 = cpu_ms();
		double w0 = wall_ms();
		if (junk_classify(j, acct, b.data, b.len, &v, &err) != 1)
			return die("junk_classify", err);
		ms += cpu_ms() - t0;
		wall += wall_ms() - w0;
		spam_verdicts += v.spam;
	}
	printf("classify: %.4f ms per message (CPU, %d messages, %zu bytes on average, %d judged spam)\n", ms / n, n,
	       bytes / (size_t)n, spam_verdicts);
	if (pg != NULL) {
		long long x1 = pg_xacts(pg) - 1; /* less pg_xacts's own first query */
		printf("classify on postgresql: %.3f ms per message (wall), %.2f statements per message\n", wall / n,
		       x0 < 0 ? -1.0 : (double)(x1 - x0) / n);
	}

	struct arena *a = arena_new();
	struct store_junk_stats st;
	if (store_junk_stats(s, a, acct, 0, &st, &err) != 1)
		return die("store_junk_stats", err);
	store_close(&s);
	char path[300];
	snprintf(path, sizeof(path), "%s/db/store.sqlite", dir);
	printf("model: %lld tokens, %lld bytes of junk_token pages after %lld+%lld lessons\n", (long long)st.ntokens,
	       pg != NULL ? -1 : model_bytes(path), (long long)st.model.nspam, (long long)st.model.nham);
	arena_free(&a);
	junk_free(&j);
	buf_free(&b);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
