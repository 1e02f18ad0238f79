/* test_dkim_pg.c: the DKIM key rows of the PostgreSQL store (store_dkim.h): a key
 * added through node A is listed by node B (its domain in lower case, found by any
 * case), a selector is refused twice for a domain but not for another, a retired key
 * leaves the listing and keeps its selector taken, and the version changes with every
 * add and retire. On SQLite the store keeps no keys and says so. */
#include "helpers.h"
#include "test_pg.h"

struct kfix {
	char dir[2][256];
	struct store *s[2];
	struct arena *a;
};

static struct store *open_node(char *dir, const char *pg)
{
	snprintf(dir, 256, "/tmp/postamt-test-XXXXXX");
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp");
	struct store_options opt = { .create = true, .no_fsync = true, .postgresql = pg, .read_conns = 2 };
	struct store *s = NULL;
	const char *err = NULL;
	if (store_open(dir, &opt, &s, &err) < 0)
		fail_msg("store_open: %s", err);
	return s;
}

static int setup(void **state)
{
	const char *uri = test_pg_uri("postamt_test_dkim");
	PGconn *c = PQconnectdb(uri);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	test_pg_exec(c, "SET client_min_messages TO warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	PQfinish(c);
	struct kfix *f = calloc(1, sizeof(*f));
	f->s[0] = open_node(f->dir[0], uri);
	f->s[1] = open_node(f->dir[1], uri);
	f->a = arena_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct kfix *f = *state;
	for (int i = 0; i < 2; i++) {
		store_close(&f->s[i]);
		rm_rf(f->dir[i]);
	}
	arena_free(&f->a);
	free(f);
	return 0;
}

static void test_keys_shared(void **state)
{
	struct kfix *f = *state;
	const char *err;
	assert_true(store_dkim_shared(f->s[0]));
	uint64_t v0, v1, v2, v3;
	assert_int_equal(store_dkim_version(f->s[1], &v0, &err), 1);
	struct store_dkim_key k = { "example.test", "e20261207", "ed25519", "PEM-ED", 1796644800 };
	assert_int_equal(store_dkim_key_add(f->s[0], &k, &err), 1);
	k.selector = "r20261207", k.algorithm = "rsa", k.pem = "PEM-RSA";
	assert_int_equal(store_dkim_key_add(f->s[0], &k, &err), 1);
	assert_int_equal(store_dkim_version(f->s[1], &v1, &err), 1);
	assert_true(v1 != v0);
	/* the selector is taken for the domain (whatever its case), not for another */
	k.domain = "Example.TEST";
	assert_int_equal(store_dkim_key_add(f->s[1], &k, &err), STORE_EEXISTS);
	k.domain = "other.test";
	assert_int_equal(store_dkim_key_add(f->s[1], &k, &err), 1);
	struct store_dkim_key *v;
	size_t n;
	assert_int_equal(store_dkim_keys(f->s[1], f->a, "EXAMPLE.test", &v, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].domain, "example.test");
	assert_string_equal(v[0].selector, "e20261207");
	assert_string_equal(v[0].algorithm, "ed25519");
	assert_string_equal(v[0].pem, "PEM-ED");
	assert_int_equal(v[0].created, 1796644800);
	assert_string_equal(v[1].selector, "r20261207");
	assert_int_equal(store_dkim_keys(f->s[0], f->a, NULL, &v, &n, &err), 1);
	assert_int_equal(n, 3);
	assert_string_equal(v[2].domain, "other.test");
	/* retired through B: gone for A, its selector stays taken */
	assert_int_equal(store_dkim_version(f->s[0], &v2, &err), 1);
	assert_int_equal(store_dkim_key_retire(f->s[1], "example.test", "r20261207", &err), 1);
	assert_int_equal(store_dkim_key_retire(f->s[1], "example.test", "r20261207", &err), 0);
	assert_int_equal(store_dkim_key_retire(f->s[1], "example.test", "nosuch", &err), 0);
	assert_int_equal(store_dkim_version(f->s[0], &v3, &err), 1);
	assert_true(v3 != v2);
	assert_int_equal(store_dkim_keys(f->s[0], f->a, "example.test", &v, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].selector, "e20261207");
	k.domain = "example.test";
	assert_int_equal(store_dkim_key_add(f->s[0], &k, &err), STORE_EEXISTS);
}

static void test_sqlite_keeps_no_keys(void **state)
{
	(void)state;
	char dir[256];
	struct store *s = open_node(dir, NULL);
	const char *err = NULL;
	assert_false(store_dkim_shared(s));
	struct store_dkim_key k = { "example.test", "e20261207", "ed25519", "PEM", 1 };
	assert_int_equal(store_dkim_key_add(s, &k, &err), STORE_EINVAL);
	assert_non_null(strstr(err, "DIR/dkim"));
	struct store_dkim_key *v;
	size_t n;
	struct arena *a = arena_new();
	assert_int_equal(store_dkim_keys(s, a, NULL, &v, &n, &err), STORE_EINVAL);
	assert_int_equal(store_dkim_key_retire(s, "example.test", "e20261207", &err), STORE_EINVAL);
	arena_free(&a);
	store_close(&s);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest lite[] = {
		cmocka_unit_test(test_sqlite_keeps_no_keys),
	};
	const struct CMUnitTest pg[] = {
		cmocka_unit_test_setup_teardown(test_keys_shared, setup, teardown),
	};
	int failed = cmocka_run_group_tests_name("sqlite", lite, NULL, NULL);
	if (test_pg_uri("postamt_test_dkim") == NULL) {
		printf("postgresql: %zu tests skipped: POSTAMT_TEST_PG is not set"
		       " (run under scripts/pg-fixture run)\n", sizeof(pg) / sizeof(pg[0]));
		return failed;
	}
	return failed + cmocka_run_group_tests_name("postgresql", pg, NULL, NULL);
}
