/* test_web.c: the webmail's rows in the store (store_web.c) against a real store:
 * sessions by hash with idle expiry and deletion one by one or per account; the
 * preferences with their state (ifInState refused when moved on) and size limit;
 * contacts counted by use, found by address or name-word prefix (LIKE characters
 * taken literally), ranked, capped per account; and an account's deletion taking
 * all of them. */
#include "helpers.h"

static struct store_websession session(int64_t acct, const char *addr, char c, int64_t last_used)
{
	struct store_websession ws = { .account_id = acct, .generation = 3, .created = 100, .last_used = last_used };
	memset(ws.hash, c, STORE_WEBSESSION_HASH_LEN);
	ws.hash[STORE_WEBSESSION_HASH_LEN] = '\0';
	snprintf(ws.address, sizeof(ws.address), "%s", addr);
	return ws;
}

static void test_sessions(void **state)
{
	struct fixture *f = *state;
	const char *err;
	struct store_websession a = session(f->acct, "a@example.test", 'a', 1000);
	struct store_websession b = session(f->acct, "a@example.test", 'b', 1000);
	struct store_websession c = session(f->acct2, "b@example.test", 'c', 1000);
	assert_int_equal(store_websession_put_sync(f->s, &a, 0, &err), 1);
	assert_int_equal(store_websession_put_sync(f->s, &b, 0, &err), 1);
	assert_int_equal(store_websession_put_sync(f->s, &c, 0, &err), 1);
	struct store_websession r;
	assert_int_equal(store_websession_get(f->s, a.hash, 500, &r, &err), 1);
	assert_int_equal(r.account_id, f->acct);
	assert_string_equal(r.address, "a@example.test");
	assert_int_equal(r.generation, 3);
	assert_int_equal(r.last_used, 1000);
	/* a hash of the wrong length is never looked up */
	assert_int_equal(store_websession_get(f->s, "abc", 0, &r, &err), 0);
	/* unused since before the cut-off: not found */
	assert_int_equal(store_websession_get(f->s, a.hash, 1001, &r, &err), 0);
	/* a new session drops the account's expired ones (a and b), not the other account's */
	struct store_websession d = session(f->acct, "a@example.test", 'd', 5000);
	assert_int_equal(store_websession_put_sync(f->s, &d, 2000, &err), 1);
	assert_int_equal(store_websession_get(f->s, b.hash, 0, &r, &err), 0);
	assert_int_equal(store_websession_get(f->s, c.hash, 0, &r, &err), 1);
	/* one by hash, then all of an account */
	struct store_websession e = session(f->acct, "a@example.test", 'e', 5000);
	assert_int_equal(store_websession_put_sync(f->s, &e, 0, &err), 1);
	assert_int_equal(store_websession_del_sync(f->s, 0, d.hash, &err), 1);
	assert_int_equal(store_websession_get(f->s, d.hash, 0, &r, &err), 0);
	assert_int_equal(store_websession_get(f->s, e.hash, 0, &r, &err), 1);
	assert_int_equal(store_websession_del_sync(f->s, f->acct, NULL, &err), 1);
	assert_int_equal(store_websession_get(f->s, e.hash, 0, &r, &err), 0);
	assert_int_equal(store_websession_get(f->s, c.hash, 0, &r, &err), 1);
	/* no row for an account that does not exist */
	struct store_websession x = session(9999, "x@example.test", 'x', 5000);
	assert_int_equal(store_websession_put_sync(f->s, &x, 0, &err), STORE_ENOTFOUND);
}

static void test_prefs(void **state)
{
	struct fixture *f = *state;
	const char *err, *json;
	int64_t st;
	assert_int_equal(store_webpref_get(f->s, f->a, f->acct, STORE_WEBPREF_SETTINGS, &json, &st, &err), 0);
	assert_null(json);
	assert_int_equal(st, 0);
	assert_int_equal(store_webpref_set(f->s, f->acct, STORE_WEBPREF_SETTINGS, "{\"a\":1}", 100, 0, &st, &err), 1);
	assert_int_equal(st, 1);
	/* ifInState that moved on is refused and changes nothing */
	assert_int_equal(store_webpref_set(f->s, f->acct, STORE_WEBPREF_SETTINGS, "{}", 100, 0, &st, &err),
			 STORE_ENOTALLOWED);
	assert_int_equal(store_webpref_set(f->s, f->acct, STORE_WEBPREF_SETTINGS, "{\"a\":2}", 100, -1, &st, &err), 1);
	assert_int_equal(st, 2);
	assert_int_equal(store_webpref_get(f->s, f->a, f->acct, STORE_WEBPREF_SETTINGS, &json, &st, &err), 1);
	assert_string_equal(json, "{\"a\":2}");
	assert_int_equal(st, 2);
	/* kinds and accounts are apart */
	assert_int_equal(store_webpref_get(f->s, f->a, f->acct, STORE_WEBPREF_IDENTITIES, &json, &st, &err), 0);
	assert_int_equal(store_webpref_get(f->s, f->a, f->acct2, STORE_WEBPREF_SETTINGS, &json, &st, &err), 0);
	/* the size limit, and no account */
	assert_int_equal(store_webpref_set(f->s, f->acct, STORE_WEBPREF_SETTINGS, "{\"long\":1}", 5, -1, &st, &err),
			 STORE_EINVAL);
	assert_int_equal(store_webpref_set(f->s, 9999, STORE_WEBPREF_SETTINGS, "{}", 100, -1, &st, &err),
			 STORE_ENOTFOUND);
}

static void test_contacts(void **state)
{
	struct fixture *f = *state;
	const char *err;
	struct store_contact one[] = { { "bob@example.net", "Bob Builder", 0, 0 },
				       { "bea%x@example.net", NULL, 0, 0 },
				       { "carol@example.org", "Carol Bobbins", 0, 0 } };
	assert_int_equal(store_contact_use(f->s, f->acct, one, 3, 100, 0, &err), 1);
	struct store_contact again[] = { { "CAROL@example.org", NULL, 0, 0 } };
	assert_int_equal(store_contact_use(f->s, f->acct, again, 1, 200, 0, &err), 1);
	struct store_contact *v;
	size_t n;
	/* address prefix and name-word prefix; carol used twice comes first; the name
	 * kept when the new use has none */
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "bob", 10, &v, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].address, "carol@example.org");
	assert_string_equal(v[0].name, "Carol Bobbins");
	assert_int_equal(v[0].uses, 2);
	assert_int_equal(v[0].last_used, 200);
	assert_string_equal(v[1].address, "bob@example.net");
	/* LIKE characters are literal: "b%" matches only the address that has one */
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "bea%", 10, &v, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].address, "bea%x@example.net");
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "b_b", 10, &v, &n, &err), 1);
	assert_int_equal(n, 0);
	/* the limit, and another account sees nothing */
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "", 1, &v, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(store_contact_query(f->s, f->a, f->acct2, "", 10, &v, &n, &err), 1);
	assert_int_equal(n, 0);
	/* the cap per account keeps the most used */
	struct store_contact more[] = { { "dave@example.com", NULL, 0, 0 } };
	assert_int_equal(store_contact_use(f->s, f->acct, more, 1, 300, 2, &err), 1);
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "", 10, &v, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].address, "carol@example.org");
	assert_string_equal(v[1].address, "dave@example.com");
}

static void test_account_del(void **state)
{
	struct fixture *f = *state;
	const char *err, *json;
	int64_t st;
	struct store_websession a = session(f->acct2, "b@example.test", 'a', 1000);
	assert_int_equal(store_websession_put_sync(f->s, &a, 0, &err), 1);
	assert_int_equal(store_webpref_set(f->s, f->acct2, STORE_WEBPREF_IDENTITIES, "{}", 100, -1, &st, &err), 1);
	struct store_contact one[] = { { "bob@example.net", NULL, 0, 0 } };
	assert_int_equal(store_contact_use(f->s, f->acct2, one, 1, 100, 0, &err), 1);
	assert_int_equal(store_account_del(f->s, "b@example.test", &err), 1);
	struct store_websession r;
	assert_int_equal(store_websession_get(f->s, a.hash, 0, &r, &err), 0);
	assert_int_equal(store_webpref_get(f->s, f->a, f->acct2, STORE_WEBPREF_IDENTITIES, &json, &st, &err), 0);
	struct store_contact *v;
	size_t n;
	assert_int_equal(store_contact_query(f->s, f->a, f->acct2, "", 10, &v, &n, &err), 1);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sessions, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_prefs, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_contacts, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_account_del, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
