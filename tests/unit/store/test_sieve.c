/* test_sieve.c: the Sieve part of the store (store_sieve.c) against a real store:
 * scripts by name and id, replace, rename, the one active script, deleting the
 * active one refused, the limits and HAVESPACE, names (RFC 5804 §1.6), the Sieve
 * state, the vacation settings, the duplicate memory's check-and-set, expiry and
 * pruning, and an account's deletion taking its rows. The same tests on PostgreSQL
 * when POSTAMT_TEST_PG is set (scripts/pg-fixture run), and two nodes on one
 * database, one after the other and at once. */
#include "helpers.h"
#include "test_pg.h"

#include <pthread.h>

static const struct store_sieve_limits limits = { .max_scripts = 3, .max_script_size = 100 };

static int64_t put(struct fixture *f, int64_t acct, const char *name, const char *text, bool activate)
{
	struct store_sieve_put p = { .name = name,
				     .text = text,
				     .text_len = strlen(text),
				     .compiled = "C",
				     .compiled_len = 1,
				     .activate = activate };
	int64_t id = 0;
	const char *err;
	int r = store_sieve_put(f->s, acct, &p, &limits, &id, &err);
	if (r < 0)
		return r;
	assert_true(id > 0);
	return id;
}

static void test_scripts(void **state)
{
	struct fixture *f = *state;
	const char *err;
	struct store_sieve_script *list, sc;
	size_t n;
	int64_t st0, st1;
	assert_int_equal(store_sieve_list(f->s, f->a, f->acct, &list, &n, &st0, &err), 1);
	assert_int_equal(n, 0);
	assert_int_equal(st0, 0);
	int64_t a = put(f, f->acct, "b-script", "keep;", false);
	int64_t b = put(f, f->acct, "a-script", "discard;", true);
	assert_true(a != b);
	assert_int_equal(store_sieve_list(f->s, f->a, f->acct, &list, &n, &st1, &err), 1);
	assert_true(st1 > st0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "a-script");
	assert_true(list[0].active);
	assert_false(list[1].active);
	assert_int_equal(list[1].size, 5);
	assert_null(list[0].text);
	/* replace by name keeps the id and the active flag */
	assert_int_equal(put(f, f->acct, "a-script", "stop;", false), b);
	assert_int_equal(store_sieve_get(f->s, f->a, f->acct, 0, "a-script", STORE_SIEVE_TEXT, &sc, &err), 1);
	assert_string_equal(sc.text, "stop;");
	assert_null(sc.compiled);
	assert_true(sc.active);
	assert_int_equal(store_sieve_get_active(f->s, f->a, f->acct, &sc, &err), 1);
	assert_int_equal(sc.id, b);
	assert_int_equal(sc.compiled_len, 1);
	assert_memory_equal(sc.compiled, "C", 1);
	/* the other account sees nothing */
	assert_int_equal(store_sieve_get(f->s, f->a, f->acct2, b, NULL, 0, &sc, &err), 0);
	assert_int_equal(store_sieve_get_active(f->s, f->a, f->acct2, &sc, &err), 0);
	assert_int_equal(store_sieve_activate(f->s, f->acct2, b, NULL, &err), STORE_ENOTFOUND);
	/* one active at a time */
	assert_int_equal(store_sieve_activate(f->s, f->acct, 0, "b-script", &err), 1);
	assert_int_equal(store_sieve_get(f->s, f->a, f->acct, b, NULL, 0, &sc, &err), 1);
	assert_false(sc.active);
	assert_int_equal(store_sieve_get_active(f->s, f->a, f->acct, &sc, &err), 1);
	assert_int_equal(sc.id, a);
	/* deleting the active script is refused; deactivate, then delete */
	assert_int_equal(store_sieve_delete(f->s, f->acct, a, NULL, &err), STORE_ENOTALLOWED);
	assert_int_equal(store_sieve_activate(f->s, f->acct, 0, NULL, &err), 1);
	assert_int_equal(store_sieve_get_active(f->s, f->a, f->acct, &sc, &err), 0);
	assert_int_equal(store_sieve_delete(f->s, f->acct, a, NULL, &err), 1);
	assert_int_equal(store_sieve_delete(f->s, f->acct, 0, "b-script", &err), STORE_ENOTFOUND);
	assert_int_equal(store_sieve_activate(f->s, f->acct, 0, "nope", &err), STORE_ENOTFOUND);
	/* ids are not reused */
	int64_t c = put(f, f->acct, "b-script", "keep;", false);
	assert_true(c > b && c > a);
}

static void test_rename_update(void **state)
{
	struct fixture *f = *state;
	const char *err;
	struct store_sieve_script sc;
	int64_t a = put(f, f->acct, "one", "keep;", true);
	put(f, f->acct, "two", "keep;", false);
	assert_int_equal(store_sieve_rename(f->s, f->acct, "one", "two", &err), STORE_EEXISTS);
	assert_int_equal(store_sieve_rename(f->s, f->acct, "nope", "three", &err), STORE_ENOTFOUND);
	assert_int_equal(store_sieve_rename(f->s, f->acct, "one", "bad\nname", &err), STORE_EINVAL);
	assert_int_equal(store_sieve_rename(f->s, f->acct, "one", "eins", &err), 1);
	assert_int_equal(store_sieve_get(f->s, f->a, f->acct, a, NULL, STORE_SIEVE_TEXT, &sc, &err), 1);
	assert_string_equal(sc.name, "eins");
	assert_true(sc.active);
	int64_t m0 = sc.modseq;
	/* update by id: text only, then name only; the compiled form goes with the text */
	struct store_sieve_put p = { .id = a, .text = "discard;", .text_len = 8 };
	assert_int_equal(store_sieve_put(f->s, f->acct, &p, &limits, NULL, &err), 1);
	assert_int_equal(
		store_sieve_get(f->s, f->a, f->acct, a, NULL, STORE_SIEVE_TEXT | STORE_SIEVE_COMPILED, &sc, &err), 1);
	assert_string_equal(sc.text, "discard;");
	assert_null(sc.compiled);
	assert_true(sc.modseq > m0);
	assert_int_equal(store_sieve_set_compiled(f->s, f->acct, a, "XY", 2, &err), 1);
	assert_int_equal(store_sieve_set_compiled(f->s, f->acct2, a, "XY", 2, &err), STORE_ENOTFOUND);
	struct store_sieve_put q = { .id = a, .name = "two" };
	assert_int_equal(store_sieve_put(f->s, f->acct, &q, &limits, NULL, &err), STORE_EEXISTS);
	q.name = "uno";
	assert_int_equal(store_sieve_put(f->s, f->acct, &q, &limits, NULL, &err), 1);
	assert_int_equal(
		store_sieve_get(f->s, f->a, f->acct, 0, "uno", STORE_SIEVE_TEXT | STORE_SIEVE_COMPILED, &sc, &err), 1);
	assert_string_equal(sc.text, "discard;");
	assert_memory_equal(sc.compiled, "XY", 2);
	q.id = 9999;
	assert_int_equal(store_sieve_put(f->s, f->acct, &q, &limits, NULL, &err), STORE_ENOTFOUND);
	/* a text with a NUL inside is kept whole */
	struct store_sieve_put z = { .name = "nul", .text = "a\0b", .text_len = 3 };
	assert_int_equal(store_sieve_put(f->s, f->acct, &z, &limits, NULL, &err), 1);
	assert_int_equal(store_sieve_get(f->s, f->a, f->acct, 0, "nul", STORE_SIEVE_TEXT, &sc, &err), 1);
	assert_int_equal(sc.size, 3);
	assert_memory_equal(sc.text, "a\0b", 4);
}

static void test_limits(void **state)
{
	struct fixture *f = *state;
	const char *err;
	char big[102];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_sieve_havespace(f->s, f->acct, "s", 100, &limits, &err), 1);
	assert_int_equal(store_sieve_havespace(f->s, f->acct, "s", 101, &limits, &err), STORE_ETOOBIG);
	assert_int_equal(put(f, f->acct, "s", big, false), STORE_ETOOBIG);
	put(f, f->acct, "s1", "keep;", false);
	put(f, f->acct, "s2", "keep;", false);
	put(f, f->acct, "s3", "keep;", false);
	assert_int_equal(store_sieve_havespace(f->s, f->acct, "s4", 10, &limits, &err), STORE_ELIMIT);
	assert_int_equal(put(f, f->acct, "s4", "keep;", false), STORE_ELIMIT);
	/* replacing an existing one is not a new script */
	assert_int_equal(store_sieve_havespace(f->s, f->acct, "s3", 10, &limits, &err), 1);
	assert_true(put(f, f->acct, "s3", "stop;", false) > 0);
	/* the other account has its own count */
	assert_true(put(f, f->acct2, "s4", "keep;", false) > 0);
	/* no limits */
	struct store_sieve_put p = { .name = "s5", .text = big, .text_len = strlen(big) };
	assert_int_equal(store_sieve_put(f->s, f->acct, &p, NULL, NULL, &err), 1);
	/* names */
	assert_int_equal(store_sieve_havespace(f->s, f->acct, "", 1, &limits, &err), STORE_EINVAL);
	assert_int_equal(put(f, f->acct, "tab\there", "keep;", false), STORE_EINVAL);
	assert_int_equal(put(f, f->acct, "\xc3(", "keep;", false), STORE_EINVAL);
	assert_true(store_sieve_name_valid("Ferien \xc3\xbc\xe2\x82\xac"));
	assert_false(store_sieve_name_valid("line\xe2\x80\xa8sep"));
	assert_false(store_sieve_name_valid("c1\xc2\x85"));
	assert_false(store_sieve_name_valid("overlong\xc0\xaf"));
	assert_false(store_sieve_name_valid("del\x7f"));
	char longname[STORE_SIEVE_NAME_MAX + 2];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(store_sieve_name_valid(longname));
	longname[STORE_SIEVE_NAME_MAX] = '\0';
	assert_true(store_sieve_name_valid(longname));
	/* a missing account */
	struct store_sieve_put g = { .name = "x", .text = "keep;", .text_len = 5 };
	assert_int_equal(store_sieve_put(f->s, 424242, &g, &limits, NULL, &err), STORE_ENOTFOUND);
}

static void test_vacation(void **state)
{
	struct fixture *f = *state;
	const char *err;
	struct store_sieve_vacation v;
	int64_t s0, s1;
	assert_int_equal(store_sieve_vacation_get(f->s, f->a, f->acct, &v, &err), 1);
	assert_false(v.enabled);
	assert_null(v.subject);
	assert_null(v.text_body);
	assert_int_equal(v.from_date, 0);
	assert_int_equal(store_sieve_state(f->s, f->acct, &s0, &err), 1);
	struct store_sieve_vacation w = {
		.enabled = true, .from_date = 1000, .to_date = 2000, .subject = "Away", .text_body = "Back soon."
	};
	assert_int_equal(store_sieve_vacation_set(f->s, f->acct, &w, &err), 1);
	assert_int_equal(store_sieve_state(f->s, f->acct, &s1, &err), 1);
	assert_true(s1 > s0);
	assert_int_equal(store_sieve_vacation_get(f->s, f->a, f->acct, &v, &err), 1);
	assert_true(v.enabled);
	assert_int_equal(v.from_date, 1000);
	assert_int_equal(v.to_date, 2000);
	assert_string_equal(v.subject, "Away");
	assert_string_equal(v.text_body, "Back soon.");
	assert_null(v.html_body);
	w.to_date = 10;
	assert_int_equal(store_sieve_vacation_set(f->s, f->acct, &w, &err), STORE_EINVAL);
	assert_int_equal(store_sieve_vacation_set(f->s, 424242, &v, &err), STORE_ENOTFOUND);
	assert_int_equal(store_sieve_vacation_get(f->s, f->a, f->acct2, &v, &err), 1);
	assert_false(v.enabled);
}

static void test_duplicate(void **state)
{
	struct fixture *f = *state;
	const char *err;
	const char *key = "vacation\n\nx@remote.test";
	assert_int_equal(store_sieve_duplicate_seen(f->s, f->acct, key, 1000, &err), 0);
	assert_int_equal(store_sieve_duplicate(f->s, f->acct, key, 1000, 60, &err), 1);
	assert_int_equal(store_sieve_duplicate(f->s, f->acct, key, 1059, 60, &err), 0);
	assert_int_equal(store_sieve_duplicate_seen(f->s, f->acct, key, 1059, &err), 1);
	/* per account */
	assert_int_equal(store_sieve_duplicate(f->s, f->acct2, key, 1059, 60, &err), 1);
	/* expired: recorded again, with a new period */
	assert_int_equal(store_sieve_duplicate_seen(f->s, f->acct, key, 1060, &err), 0);
	assert_int_equal(store_sieve_duplicate(f->s, f->acct, key, 1060, 60, &err), 1);
	assert_int_equal(store_sieve_duplicate(f->s, f->acct, key, 1100, 60, &err), 0);
	/* pruning: 250 short-lived keys, then calls after their expiry remove them */
	for (int i = 0; i < 250; i++) {
		char k[32];
		snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(store_sieve_duplicate(f->s, f->acct, k, 2000, 1, &err), 1);
	}
	/* asked "as of time 0", a row still present would count as seen */
	assert_int_equal(store_sieve_duplicate_seen(f->s, f->acct, "k0", 0, &err), 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_sieve_duplicate(f->s, f->acct, "other", 3000 + i, 0, &err), 1);
	for (int i = 0; i < 250; i++) {
		char k[32];
		snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(store_sieve_duplicate_seen(f->s, f->acct, k, 0, &err), 0);
	}
	assert_int_equal(store_sieve_duplicate(f->s, f->acct, key, 0, -1, &err), STORE_EINVAL);
}

static void test_account_del(void **state)
{
	struct fixture *f = *state;
	const char *err;
	put(f, f->acct2, "s", "keep;", true);
	struct store_sieve_vacation w = { .enabled = true, .subject = "x" };
	assert_int_equal(store_sieve_vacation_set(f->s, f->acct2, &w, &err), 1);
	assert_int_equal(store_sieve_duplicate(f->s, f->acct2, "k", 1, 1000, &err), 1);
	assert_int_equal(store_account_del(f->s, "b@example.test", &err), 1);
	int64_t id;
	assert_int_equal(store_account_add(f->s, "c@example.test", "$y$x", 0, &id, &err), 1);
	struct store_sieve_script *list;
	size_t n;
	int64_t st;
	/* nothing left that a later account could see (ids are never reused, so check
	 * the deleted id) */
	assert_int_equal(store_sieve_list(f->s, f->a, f->acct2, &list, &n, &st, &err), 1);
	assert_int_equal(n, 0);
	assert_int_equal(st, 0);
	assert_int_equal(store_sieve_duplicate_seen(f->s, f->acct2, "k", 2, &err), 0);
	struct store_sieve_vacation v;
	assert_int_equal(store_sieve_vacation_get(f->s, f->a, f->acct2, &v, &err), 1);
	assert_false(v.enabled);
}

/* Two nodes on one database: a script put and activated through one store is the
 * active script of the other; the duplicate memory is one for both. */
static void test_pg_two_nodes(void **state)
{
	struct fixture *f = *state;
	char dir[256];
	snprintf(dir, sizeof(dir), "/tmp/postamt-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	const char *uri = test_pg_uri("postamt_test_sieve");
	struct store_options opt = { .create = true, .no_fsync = true, .postgresql = uri };
	struct store *s2 = NULL;
	const char *err = NULL;
	assert_int_equal(store_open(dir, &opt, &s2, &err), 1);
	int64_t id = put(f, f->acct, "main", "keep;", true);
	struct store_sieve_script sc;
	assert_int_equal(store_sieve_get_active(s2, f->a, f->acct, &sc, &err), 1);
	assert_int_equal(sc.id, id);
	assert_string_equal(sc.text, "keep;");
	assert_int_equal(sc.compiled_len, 1);
	assert_memory_equal(sc.compiled, "C", 1);
	/* bytes a C string cannot carry survive the round trip */
	unsigned char bin[256];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)i;
	assert_int_equal(store_sieve_set_compiled(s2, f->acct, id, bin, sizeof(bin), &err), 1);
	assert_int_equal(store_sieve_get(f->s, f->a, f->acct, id, NULL, STORE_SIEVE_COMPILED, &sc, &err), 1);
	assert_int_equal(sc.compiled_len, sizeof(bin));
	assert_memory_equal(sc.compiled, bin, sizeof(bin));
	assert_int_equal(store_sieve_activate(s2, f->acct, 0, "", &err), 1);
	assert_int_equal(store_sieve_get_active(f->s, f->a, f->acct, &sc, &err), 0);
	assert_int_equal(store_sieve_duplicate(f->s, f->acct, "k", 100, 60, &err), 1);
	assert_int_equal(store_sieve_duplicate(s2, f->acct, "k", 120, 60, &err), 0);
	store_close(&s2);
	rm_rf(dir);
}

/* Two nodes writing one account at once: each puts and activates scripts of its own
 * and checks-and-sets the same duplicate keys. The limit and the one active script
 * hold across them (the account's Sieve lock), and each key is new for one only. */
#define RACE_ROUNDS 25

struct racer {
	struct store *s;
	int64_t acct;
	char tag;
	int fresh[RACE_ROUNDS]; /* store_sieve_duplicate's results */
	int bad;                /* results other than 1 or STORE_ELIMIT */
};

static void *race(void *arg)
{
	struct racer *r = arg;
	const char *err;
	for (int i = 0; i < RACE_ROUNDS; i++) {
		char name[32], key[32];
		snprintf(name, sizeof(name), "%c%d", r->tag, i);
		struct store_sieve_put p = { .name = name, .text = "keep;", .text_len = 5, .activate = true };
		int x = store_sieve_put(r->s, r->acct, &p, &limits, NULL, &err);
		r->bad += x != 1 && x != STORE_ELIMIT;
		snprintf(key, sizeof(key), "dup%d", i);
		r->fresh[i] = store_sieve_duplicate(r->s, r->acct, key, 1000, 60, &err);
	}
	return NULL;
}

static void test_pg_race(void **state)
{
	struct fixture *f = *state;
	char dir[256];
	snprintf(dir, sizeof(dir), "/tmp/postamt-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	const char *uri = test_pg_uri("postamt_test_sieve");
	struct store_options opt = { .create = true, .no_fsync = true, .postgresql = uri };
	struct store *s2 = NULL;
	const char *err = NULL;
	assert_int_equal(store_open(dir, &opt, &s2, &err), 1);
	struct racer r[2] = { { .s = f->s, .acct = f->acct, .tag = 'a' }, { .s = s2, .acct = f->acct, .tag = 'b' } };
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(r[0].bad + r[1].bad, 0);
	for (int i = 0; i < RACE_ROUNDS; i++)
		assert_int_equal(r[0].fresh[i] + r[1].fresh[i], 1);
	struct store_sieve_script *list;
	size_t n, active = 0;
	assert_int_equal(store_sieve_list(f->s, f->a, f->acct, &list, &n, NULL, &err), 1);
	assert_int_equal(n, limits.max_scripts);
	for (size_t i = 0; i < n; i++)
		active += list[i].active;
	assert_int_equal(active, 1);
	store_close(&s2);
	rm_rf(dir);
}

static int setup_pg(void **state)
{
	return test_pg_fixture_setup(state, "postamt_test_sieve");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scripts, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_rename_update, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_limits, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_vacation, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_duplicate, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_account_del, fixture_setup, fixture_teardown),
	};
	const struct CMUnitTest pg[] = {
		cmocka_unit_test_setup_teardown(test_scripts, setup_pg, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_rename_update, setup_pg, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup_pg, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_vacation, setup_pg, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_duplicate, setup_pg, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_account_del, setup_pg, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_pg_two_nodes, setup_pg, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_pg_race, setup_pg, fixture_teardown),
	};
	int failed = cmocka_run_group_tests_name("sqlite", tests, NULL, NULL);
	if (test_pg_uri("postamt_test_sieve") == NULL) {
		printf("postgresql: %zu tests skipped: POSTAMT_TEST_PG is not set (run under scripts/pg-fixture run)\n",
		       sizeof(pg) / sizeof(pg[0]));
		return failed;
	}
	return failed + cmocka_run_group_tests_name("postgresql", pg, NULL, NULL);
}
