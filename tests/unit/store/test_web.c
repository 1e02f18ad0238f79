/* test_web.c: the webmail's rows in the store (store_web.c) against a real store:
 * sessions by hash with idle expiry and deletion one by one or per account; the
 * preferences with their state (ifInState refused when moved on) and size limit;
 * contacts counted by use, found by address or name-word prefix (LIKE characters
 * taken literally), ranked, capped per account; and an account's deletion taking
 * all of them; the senders of received personal mail (not lists, bulk, machines,
 * spam or the account itself) ranked below the addresses written to.
 * The same tests on PostgreSQL when POSTAMT_TEST_PG is set (scripts/pg-fixture run),
 * but for the received contacts: they come with delivery, not on that backend yet. */
#include "helpers.h"
#include "test_pg.h"

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
	struct store_contact one[] = { { .address = "bob@example.net", .name = "Bob Builder" },
				       { .address = "bea%x@example.net" },
				       { .address = "carol@example.org", .name = "Carol Bobbins" } };
	assert_int_equal(store_contact_use(f->s, f->acct, one, 3, 100, 0, &err), 1);
	struct store_contact again[] = { { .address = "CAROL@example.org" } };
	assert_int_equal(store_contact_use(f->s, f->acct, again, 1, 200, 0, &err), 1);
	struct store_contact *v;
	size_t n;
	/* address prefix and name-word prefix; carol used twice comes first; the name
	 * kept when the new use has none */
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "bob", 300, 10, &v, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].address, "carol@example.org");
	assert_string_equal(v[0].name, "Carol Bobbins");
	assert_int_equal(v[0].uses, 2);
	assert_int_equal(v[0].last_used, 200);
	assert_string_equal(v[1].address, "bob@example.net");
	/* LIKE characters are literal: "b%" matches only the address that has one */
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "bea%", 300, 10, &v, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].address, "bea%x@example.net");
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "b_b", 300, 10, &v, &n, &err), 1);
	assert_int_equal(n, 0);
	/* the limit, and another account sees nothing */
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "", 300, 1, &v, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(store_contact_query(f->s, f->a, f->acct2, "", 300, 10, &v, &n, &err), 1);
	assert_int_equal(n, 0);
	/* the cap per account keeps the most used */
	struct store_contact more[] = { { .address = "dave@example.com" } };
	assert_int_equal(store_contact_use(f->s, f->acct, more, 1, 300, 2, &err), 1);
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "", 300, 10, &v, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].address, "carol@example.org");
	assert_string_equal(v[1].address, "dave@example.com");
}

/* Delivers text from `from` (the envelope sender) to accounts, into mailbox (NULL:
 * INBOX) with keywords (NULL: none), as the pipeline does. */
static void deliver_from(struct store *s, const int64_t *accts, size_t n, const char *from, const char *mailbox,
			 const char *const *keywords, const char *text)
{
	int res[2] = { 0, 0 };
	struct store_delivery d = { .data = text, .len = strlen(text), .accounts = accts, .naccounts = n,
				    .mailbox = mailbox, .keywords = keywords, .return_path = from, .results = res };
	const char *err = NULL;
	int r = store_deliver(s, &d, &err);
	if (r != 1)
		fail_msg("deliver: %d %s", r, err ? err : "");
}

/* The one contact of acct with this address, or fails. */
static struct store_contact contact(struct fixture *f, int64_t acct, const char *addr)
{
	struct store_contact k;
	const char *err;
	if (store_contact_get(f->s, f->a, acct, addr, (int64_t)time(NULL), &k, &err) != 1)
		fail_msg("no contact %s", addr);
	return k;
}

static bool has_contact(struct fixture *f, int64_t acct, const char *addr)
{
	struct store_contact k;
	const char *err;
	int r = store_contact_get(f->s, f->a, acct, addr, (int64_t)time(NULL), &k, &err);
	assert_true(r >= 0);
	return r == 1;
}

static void test_contacts_received(void **state)
{
	struct fixture *f = *state;
	const char *err;
	int64_t both[] = { f->acct, f->acct2 };
	const char *personal = "From: Eve Example <eve@example.net>\r\nTo: a@example.test\r\nSubject: hi\r\n\r\nHello\r\n";
	deliver_from(f->s, both, 2, "eve@example.net", NULL, NULL, personal);
	deliver_from(f->s, &f->acct, 1, "eve@example.net", NULL, NULL, personal);
	/* counted per recipient account, with the name from the From field; not a use */
	struct store_contact k = contact(f, f->acct, "EVE@example.net");
	assert_string_equal(k.address, "eve@example.net");
	assert_string_equal(k.name, "Eve Example");
	assert_int_equal(k.uses, 0);
	assert_int_equal(k.received, 2);
	assert_true(k.last_used > 0);
	assert_int_equal(contact(f, f->acct2, "eve@example.net").received, 1);

	/* not personal mail: lists, bulk, machines, bounces, several From mailboxes */
	static const char *const bulk[] = {
		"From: news@example.net\r\nList-Id: <news.example.net>\r\nSubject: l\r\n\r\nx\r\n",
		"From: offers@example.net\r\nList-Unsubscribe: <mailto:u@example.net>\r\n\r\nx\r\n",
		"From: promo@example.net\r\nPrecedence: Bulk\r\n\r\nx\r\n",
		"From: away@example.net\r\nAuto-Submitted: auto-replied (vacation)\r\n\r\nx\r\n",
		"From: MAILER-DAEMON@example.net\r\n\r\nx\r\n",
		"From: noreply@example.net\r\n\r\nx\r\n",
		"From: one@example.net, two@example.net\r\n\r\nx\r\n",
		"Subject: no From at all\r\n\r\nx\r\n",
	};
	for (size_t i = 0; i < sizeof(bulk) / sizeof(bulk[0]); i++)
		deliver_from(f->s, &f->acct, 1, "sender@example.net", NULL, NULL, bulk[i]);
	deliver_from(f->s, &f->acct, 1, "", NULL, NULL, "From: frank@example.net\r\n\r\nbounce\r\n");
	/* "Auto-Submitted: no" is a person */
	deliver_from(f->s, &f->acct, 1, "gina@example.net", NULL, NULL,
		     "From: Gina <gina@example.net>\r\nAuto-Submitted: no\r\n\r\nx\r\n");
	/* spam: filed in Junk, or marked $Junk in the inbox */
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Junk", &mb, &err), 1);
	deliver_from(f->s, &f->acct, 1, "spam@example.net", "Junk", NULL, "From: spam@example.net\r\n\r\nx\r\n");
	static const char *const junk_kw[] = { "$Junk", NULL };
	deliver_from(f->s, &f->acct, 1, "spam2@example.net", NULL, junk_kw, "From: spam2@example.net\r\n\r\nx\r\n");
	/* the account itself */
	deliver_from(f->s, &f->acct, 1, "a@example.test", NULL, NULL, "From: Me <A@example.test>\r\n\r\nnote\r\n");
	struct store_contact *v;
	size_t n;
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "", (int64_t)time(NULL), 50, &v, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_true(has_contact(f, f->acct, "gina@example.net"));
	assert_false(has_contact(f, f->acct, "spam@example.net"));
	assert_false(has_contact(f, f->acct, "a@example.test"));

	/* a use weighs more than a received message: bob, written to once, before eve
	 * (received twice); gina (received once) last */
	int64_t now = (int64_t)time(NULL);
	struct store_contact bob[] = { { .address = "bob@example.net", .name = "Bob" } };
	assert_int_equal(store_contact_use(f->s, f->acct, bob, 1, now, 0, &err), 1);
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "", now, 50, &v, &n, &err), 1);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].address, "bob@example.net");
	assert_int_equal(v[0].uses, 1);
	assert_string_equal(v[1].address, "eve@example.net");
	assert_string_equal(v[2].address, "gina@example.net");
	/* written to and received from: one entry with both counts, the name written to */
	struct store_contact eve[] = { { .address = "eve@example.net", .name = "Eve (work)" } };
	assert_int_equal(store_contact_use(f->s, f->acct, eve, 1, now, 0, &err), 1);
	k = contact(f, f->acct, "eve@example.net");
	assert_int_equal(k.uses, 1);
	assert_int_equal(k.received, 2);
	assert_string_equal(k.name, "Eve (work)");
	/* recency: an address written to once 100 days ago ranks below a sender heard
	 * from once today */
	struct store_contact old[] = { { .address = "old@example.net" } };
	assert_int_equal(store_contact_use(f->s, f->acct, old, 1, now - 100 * 86400, 0, &err), 1);
	deliver_from(f->s, &f->acct, 1, "hal@example.net", NULL, NULL, "From: hal@example.net\r\n\r\nx\r\n");
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "", now, 50, &v, &n, &err), 1);
	assert_int_equal(n, 5);
	assert_string_equal(v[0].address, "eve@example.net");
	assert_string_equal(v[1].address, "bob@example.net");
	assert_string_equal(v[2].address, "gina@example.net");
	assert_string_equal(v[3].address, "hal@example.net");
	assert_string_equal(v[4].address, "old@example.net");
	/* name-word search finds received senders too */
	assert_int_equal(store_contact_query(f->s, f->a, f->acct, "gin", now, 50, &v, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].received, 1);
}

/* Beyond contacts_received_max the least received go, and only a new sender pays. */
static void test_contacts_received_cap(void **state)
{
	(void)state;
	char dir[] = "/tmp/postamt-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct store_options opt = { .create = true, .no_fsync = true, .contacts_received_max = 2 };
	struct store *s = NULL;
	const char *err = NULL;
	assert_int_equal(store_open(dir, &opt, &s, &err), 1);
	int64_t acct;
	assert_true(store_domain_add(s, "example.test", &err) >= 0);
	assert_true(store_account_add(s, "a@example.test", "$y$x", 0, &acct, &err) >= 0);
	deliver_from(s, &acct, 1, "x@example.net", NULL, NULL, "From: x@example.net\r\n\r\n1\r\n");
	deliver_from(s, &acct, 1, "x@example.net", NULL, NULL, "From: x@example.net\r\n\r\n2\r\n");
	deliver_from(s, &acct, 1, "y@example.net", NULL, NULL, "From: y@example.net\r\n\r\n1\r\n");
	deliver_from(s, &acct, 1, "y@example.net", NULL, NULL, "From: y@example.net\r\n\r\n2\r\n");
	deliver_from(s, &acct, 1, "z@example.net", NULL, NULL, "From: z@example.net\r\n\r\n1\r\n");
	struct arena *a = arena_new();
	struct store_contact *v;
	size_t n;
	assert_int_equal(store_contact_query(s, a, acct, "", (int64_t)time(NULL), 10, &v, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].address, "x@example.net");
	assert_string_equal(v[1].address, "y@example.net");
	arena_free(&a);
	store_close(&s);
	rm_rf(dir);
}

static void account_del(void **state, bool deliver)
{
	struct fixture *f = *state;
	const char *err, *json;
	int64_t st;
	struct store_websession a = session(f->acct2, "b@example.test", 'a', 1000);
	assert_int_equal(store_websession_put_sync(f->s, &a, 0, &err), 1);
	assert_int_equal(store_webpref_set(f->s, f->acct2, STORE_WEBPREF_IDENTITIES, "{}", 100, -1, &st, &err), 1);
	struct store_contact one[] = { { .address = "bob@example.net" } };
	assert_int_equal(store_contact_use(f->s, f->acct2, one, 1, 100, 0, &err), 1);
	if (deliver)
		deliver_from(f->s, &f->acct2, 1, "eve@example.net", NULL, NULL, "From: eve@example.net\r\n\r\nx\r\n");
	assert_int_equal(store_account_del(f->s, "b@example.test", &err), 1);
	struct store_websession r;
	assert_int_equal(store_websession_get(f->s, a.hash, 0, &r, &err), 0);
	assert_int_equal(store_webpref_get(f->s, f->a, f->acct2, STORE_WEBPREF_IDENTITIES, &json, &st, &err), 0);
	struct store_contact *v;
	size_t n;
	assert_int_equal(store_contact_query(f->s, f->a, f->acct2, "", 300, 10, &v, &n, &err), 1);
	assert_int_equal(n, 0);
}

static void test_account_del(void **state)
{
	account_del(state, true);
}

/* PostgreSQL: no delivery there yet (STORE_PG_MISSING), so no received contact */
static void test_account_del_pg(void **state)
{
	account_del(state, false);
}

/* Two nodes on one database: a session, a preference and a contact written through
 * one store are seen through the other at once. */
static void test_pg_two_nodes(void **state)
{
	struct fixture *f = *state;
	char dir[256];
	snprintf(dir, sizeof(dir), "/tmp/postamt-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	struct store_options opt = { .create = true, .no_fsync = true, .postgresql = test_pg_uri("postamt_test_web") };
	struct store *s2 = NULL;
	const char *err = NULL, *json;
	assert_int_equal(store_open(dir, &opt, &s2, &err), 1);
	struct store_websession a = session(f->acct, "a@example.test", 'a', 1000), r;
	assert_int_equal(store_websession_put_sync(f->s, &a, 0, &err), 1);
	assert_int_equal(store_websession_get(s2, a.hash, 500, &r, &err), 1);
	assert_int_equal(r.account_id, f->acct);
	assert_int_equal(store_websession_del_sync(s2, f->acct, NULL, &err), 1);
	assert_int_equal(store_websession_get(f->s, a.hash, 500, &r, &err), 0);
	int64_t st;
	const char *x = "{\"x\":{}}";
	assert_int_equal(store_webpref_set(f->s, f->acct, STORE_WEBPREF_IDENTITIES, x, 100, -1, &st, &err), 1);
	assert_int_equal(store_webpref_set(s2, f->acct, STORE_WEBPREF_IDENTITIES, "{}", 100, 0, &st, &err),
			 STORE_ENOTALLOWED);
	assert_int_equal(store_webpref_set(s2, f->acct, STORE_WEBPREF_IDENTITIES, "{}", 100, 1, &st, &err), 1);
	assert_int_equal(store_webpref_get(f->s, f->a, f->acct, STORE_WEBPREF_IDENTITIES, &json, &st, &err), 1);
	assert_string_equal(json, "{}");
	assert_int_equal(st, 2);
	struct store_contact one[] = { { .address = "Zed@example.net", .name = "Zed" } };
	assert_int_equal(store_contact_use(s2, f->acct, one, 1, 100, 0, &err), 1);
	struct store_contact k;
	assert_int_equal(store_contact_get(f->s, f->a, f->acct, "zed@EXAMPLE.net", 100, &k, &err), 1);
	assert_string_equal(k.name, "Zed");
	store_close(&s2);
	rm_rf(dir);
}

static int setup_pg(void **state)
{
	return test_pg_fixture_setup(state, "postamt_test_web");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sessions, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_prefs, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_contacts, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_contacts_received, fixture_setup, fixture_teardown),
		cmocka_unit_test(test_contacts_received_cap),
		cmocka_unit_test_setup_teardown(test_account_del, fixture_setup, fixture_teardown),
	};
	const struct CMUnitTest pg[] = {
		cmocka_unit_test_setup_teardown(test_sessions, setup_pg, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_prefs, setup_pg, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_contacts, setup_pg, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_account_del_pg, setup_pg, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_pg_two_nodes, setup_pg, fixture_teardown),
	};
	int failed = cmocka_run_group_tests_name("sqlite", tests, NULL, NULL);
	if (test_pg_uri("postamt_test_web") == NULL) {
		printf("postgresql: %zu tests skipped: POSTAMT_TEST_PG is not set (run under scripts/pg-fixture run)\n",
		       sizeof(pg) / sizeof(pg[0]));
		return failed;
	}
	return failed + cmocka_run_group_tests_name("postgresql", pg, NULL, NULL);
}
