/* bench_web.c: what one webmail request and one ManageSieve upload cost in the store
 * (not a test).
 *   bench_web DIR-PARENT [N] [POSTGRESQL-URI]
 * One account; times N (default 2,000) of each, one thread: a session lookup by hash
 * (store_websession_get, what a node does for a cookie it has not cached and, on a
 * shared store, every 2 s for one it has), a settings read (store_webpref_get), the
 * active script read by delivery (store_sieve_get_active), a settings write
 * (store_webpref_set) and a script upload (store_sieve_put). With a URI the store
 * runs on PostgreSQL (the database is used as it is: give an empty one). */
#include "helpers.h"

#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, int n, double t0)
{
	double t = now_s() - t0;
	printf("%-22s %6d calls %8.3f s %8.1f us/call\n", what, n, t, t / n * 1e6);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_web DIR-PARENT [N] [POSTGRESQL-URI]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 2000;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/bench-web-XXXXXX", argv[1]);
	if (mkdtemp(dir) == NULL)
		return 1;
	struct store_options opt = { .create = true, .no_fsync = true, .postgresql = argc > 3 ? argv[3] : NULL };
	struct store *s;
	const char *err;
	int64_t acct;
	if (store_open(dir, &opt, &s, &err) < 0 || store_domain_add(s, "example.test", &err) < 0 ||
	    store_account_add(s, "bench@example.test", "$y$j9T$bench", 0, &acct, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err);
		return 1;
	}
	struct store_websession ws = { .account_id = acct, .generation = 1, .created = 1, .last_used = 1 };
	memset(ws.hash, 'a', STORE_WEBSESSION_HASH_LEN);
	snprintf(ws.address, sizeof(ws.address), "bench@example.test");
	int64_t st;
	struct store_sieve_put p = { .name = "main", .text = "keep;", .text_len = 5, .activate = true };
	if (store_websession_put_sync(s, &ws, 0, &err) < 0 ||
	    store_webpref_set(s, acct, STORE_WEBPREF_SETTINGS, "{\"density\":\"compact\"}", 0, -1, &st, &err) < 0 ||
	    store_sieve_put(s, acct, &p, NULL, NULL, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err);
		return 1;
	}
	struct arena *a = arena_new();
	struct store_websession r;
	double t0 = now_s();
	for (int i = 0; i < n; i++)
		if (store_websession_get(s, ws.hash, 0, &r, &err) != 1)
			return 1;
	report("websession_get", n, t0);
	const char *json;
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		if (store_webpref_get(s, a, acct, STORE_WEBPREF_SETTINGS, &json, &st, &err) != 1)
			return 1;
		arena_clear(a);
	}
	report("webpref_get", n, t0);
	struct store_sieve_script sc;
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		if (store_sieve_get_active(s, a, acct, &sc, &err) != 1)
			return 1;
		arena_clear(a);
	}
	report("sieve_get_active", n, t0);
	t0 = now_s();
	for (int i = 0; i < n; i++)
		if (store_webpref_set(s, acct, STORE_WEBPREF_SETTINGS, "{\"density\":\"comfortable\"}", 0, -1, &st,
				      &err) != 1)
			return 1;
	report("webpref_set", n, t0);
	t0 = now_s();
	for (int i = 0; i < n; i++)
		if (store_sieve_put(s, acct, &p, NULL, NULL, &err) != 1)
			return 1;
	report("sieve_put", n, t0);
	arena_free(&a);
	store_close(&s);
	rm_rf(dir);
	return 0;
}
