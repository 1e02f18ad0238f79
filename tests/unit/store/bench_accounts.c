/* bench_accounts.c: the account paths through the SQL driver layer (not a test).
 *   bench_accounts DIR-PARENT [N] [POSTGRESQL-URI]
 * Adds N accounts (default 10,000), then times `user list` (store_account_list of
 * all, best of 20) and an auth lookup loop (store_account_get of random addresses,
 * 100,000 calls, one thread). With a URI the store runs on PostgreSQL (the database
 * is used as it is: give an empty one). Built against the store before the driver
 * layer too (it uses only store.h), to show what the indirection costs. */
#include "helpers.h"

#include <time.h>

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_accounts DIR-PARENT [N] [POSTGRESQL-URI]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 10000;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/bench-accounts-XXXXXX", argv[1]);
	if (mkdtemp(dir) == NULL)
		return 1;
	struct store_options opt = { .create = true, .no_fsync = true };
#ifdef STORE_PG_MISSING
	opt.postgresql = argc > 3 ? argv[3] : NULL;
#endif
	struct store *s;
	const char *err;
	if (store_open(dir, &opt, &s, &err) < 0) {
		fprintf(stderr, "store_open: %s\n", err);
		return 1;
	}
	store_domain_add(s, "example.test", &err);
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		char addr[64];
		snprintf(addr, sizeof(addr), "user%06d@example.test", i);
		if (store_account_add(s, addr, "$y$j9T$bench", 0, NULL, &err) < 0) {
			fprintf(stderr, "account_add: %s\n", err);
			return 1;
		}
	}
	double t_add = now_s() - t0;
	double best = 1e9;
	for (int r = 0; r < 20; r++) {
		struct arena *a = arena_new();
		struct store_account *v;
		size_t got;
		t0 = now_s();
		if (store_account_list(s, a, &v, &got, &err) < 0 || got != (size_t)n)
			return 1;
		double t = now_s() - t0;
		best = t < best ? t : best;
		arena_free(&a);
	}
	int lookups = 100000;
	struct arena *a = arena_new();
	unsigned int seed = 1;
	t0 = now_s();
	double c0 = cpu_s();
	for (int i = 0; i < lookups; i++) {
		char addr[64];
		snprintf(addr, sizeof(addr), "User%06d@example.test", (int)(rand_r(&seed) % (unsigned int)n));
		struct store_account acct;
		if (store_account_get(s, a, addr, &acct, &err) != 1)
			return 1;
		if ((i & 1023) == 0) {
			arena_free(&a);
			a = arena_new();
		}
	}
	double t_get = now_s() - t0, c_get = cpu_s() - c0;
	arena_free(&a);
	printf("accounts=%d add=%.2fs (%.0f/s) list_best=%.1fms get=%.2fus/lookup (cpu %.2fus)\n", n, t_add,
	       n / t_add, best * 1e3, t_get / lookups * 1e6, c_get / lookups * 1e6);
	store_close(&s);
	rm_rf(dir);
	return 0;
}
