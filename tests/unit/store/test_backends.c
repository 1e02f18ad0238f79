/* test_backends.c: the part of the store converted to sql.h (domains, accounts,
 * aliases, passwords, SCRAM secrets, session generations, mailboxes), run on both backends:
 * SQLite always, PostgreSQL when POSTAMT_TEST_PG names a database that may be wiped
 * (scripts/pg-fixture run sets it; without it those tests are skipped, saying why);
 * and store_admin.c (the admin flag, last logins, removing a domain).
 * Also: the dialect translation, two stores on one database (two nodes), a dropped
 * connection, an unreachable server, and the refusal of what is not converted yet. */
#include "helpers.h"
#include "test_pg.h"

#include <libpq-fe.h>

#include "sql.h"
#include "store_sieve.h"

struct bfix {
	char dir[256];
	struct store *s;
	struct arena *a;
	const char *pg; /* NULL: SQLite */
};

static struct store *open_backend(const char *dir, const char *pg)
{
	struct store_options opt = { .create = true, .no_fsync = true, .postgresql = pg, .read_conns = 2 };
	struct store *s = NULL;
	const char *err = NULL;
	if (store_open(dir, &opt, &s, &err) < 0)
		fail_msg("store_open: %s", err);
	return s;
}

static int setup(void **state, const char *pg)
{
	struct bfix *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/postamt-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->pg = pg;
	if (pg != NULL)
		test_pg_wipe(pg);
	f->s = open_backend(f->dir, pg);
	f->a = arena_new();
	const char *err;
	if (store_domain_add(f->s, "example.test", &err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int setup_sqlite(void **state)
{
	return setup(state, NULL);
}

static int setup_pg(void **state)
{
	return setup(state, test_pg_uri("postamt_test_backends"));
}

static int teardown(void **state)
{
	struct bfix *f = *state;
	if (f == NULL)
		return 0;
	store_close(&f->s);
	arena_free(&f->a);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static void test_domains(void **state)
{
	struct bfix *f = *state;
	const char *err;
	assert_int_equal(store_domain_add(f->s, "Other.TEST", &err), 1);
	assert_int_equal(store_domain_add(f->s, "other.test", &err), STORE_EEXISTS);
	assert_int_equal(store_domain_add(f->s, "bad domain", &err), STORE_EINVAL);
	const char **v;
	assert_int_equal(store_domain_list(f->s, f->a, &v, &err), 1);
	assert_string_equal(v[0], "example.test");
	assert_string_equal(v[1], "other.test");
	assert_null(v[2]);
	assert_int_equal(store_domain_exists(f->s, "OTHER.test", &err), 1);
	assert_int_equal(store_domain_exists(f->s, "nope.test", &err), 0);
}

static void test_accounts(void **state)
{
	struct bfix *f = *state;
	const char *err;
	int64_t id, id2;
	assert_int_equal(store_account_add(f->s, "C@Example.TEST", "$y$h", 1024, &id, &err), 1);
	assert_int_equal(store_account_add(f->s, "b@example.test", "$y$b", 0, &id2, &err), 1);
	assert_true(id > 0 && id2 > id);
	struct store_account acct;
	assert_int_equal(store_account_get(f->s, f->a, "c@example.test", &acct, &err), 1);
	assert_int_equal(acct.id, id);
	assert_string_equal(acct.address, "C@example.test");
	assert_int_equal(acct.quota, 1024);
	assert_string_equal(acct.password_hash, "$y$h");
	assert_null(acct.scram);
	assert_int_equal(store_account_add(f->s, "c@EXAMPLE.test", "$y$h", 0, NULL, &err), STORE_EEXISTS);
	assert_int_equal(store_account_add(f->s, "x@unknown.test", "$y$h", 0, NULL, &err), STORE_ENOTFOUND);
	assert_int_equal(store_account_add(f->s, "a b@example.test", "$y$h", 0, NULL, &err), STORE_EINVAL);
	assert_int_equal(store_account_set_quota(f->s, "c@example.test", 5, &err), 1);
	assert_int_equal(store_account_set_quota(f->s, "zz@example.test", 5, &err), STORE_ENOTFOUND);
	assert_int_equal(store_account_get_by_id(f->s, f->a, id, &acct, &err), 1);
	assert_int_equal(acct.quota, 5);
	uint64_t usage = 1, limit = 0, messages = 1;
	assert_int_equal(store_quota_get(f->s, id, &usage, &limit, &messages, &err), 1);
	assert_true(usage == 0 && limit == 5 && messages == 0);
	assert_int_equal(store_quota_check(f->s, id, 5, &err), 1);
	assert_int_equal(store_quota_check(f->s, id, 6, &err), STORE_EOVERQUOTA);
	assert_int_equal(store_quota_get(f->s, id + 99, &usage, &limit, &messages, &err), STORE_ENOTFOUND);
	struct store_account *v;
	size_t n;
	assert_int_equal(store_account_list(f->s, f->a, &v, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].address, "b@example.test"); /* by address, case-insensitively */
	assert_string_equal(v[1].address, "C@example.test");
	assert_int_equal(store_account_del(f->s, "c@example.test", &err), 1);
	assert_int_equal(store_account_del(f->s, "c@example.test", &err), STORE_ENOTFOUND);
	assert_int_equal(store_account_get(f->s, f->a, "c@example.test", &acct, &err), 0);
	assert_int_equal(store_account_get_by_id(f->s, f->a, id, &acct, &err), 0);
}

static void test_password_scram_sessions(void **state)
{
	struct bfix *f = *state;
	const char *err;
	int64_t id;
	uint64_t gen;
	assert_int_equal(store_account_add(f->s, "a@example.test", "$y$1", 0, &id, &err), 1);
	assert_int_equal(store_account_session_gen(f->s, id, &gen, &err), 1);
	assert_int_equal(gen, 0);
	/* the secret is stored only against the hash it was made from */
	assert_int_equal(store_account_set_scram(f->s, id, "$y$other", "S1", &err), 0);
	assert_int_equal(store_account_set_scram(f->s, id, "$y$1", "S1", &err), 1);
	assert_int_equal(store_account_set_scram(f->s, id, "$y$1", "S2", &err), 1);
	struct store_account acct;
	assert_int_equal(store_account_get(f->s, f->a, "a@example.test", &acct, &err), 1);
	assert_string_equal(acct.scram, "S2");
	/* a new password: the old secret goes, the sessions end */
	assert_int_equal(store_account_set_password(f->s, "a@example.test", "$y$2", &err), 1);
	assert_int_equal(store_account_get(f->s, f->a, "a@example.test", &acct, &err), 1);
	assert_string_equal(acct.password_hash, "$y$2");
	assert_null(acct.scram);
	assert_int_equal(store_account_session_gen(f->s, id, &gen, &err), 1);
	assert_int_equal(gen, 1);
	assert_int_equal(store_account_end_sessions(f->s, "A@example.test", &err), 1);
	assert_int_equal(store_account_session_gen(f->s, id, &gen, &err), 1);
	assert_int_equal(gen, 2);
	assert_int_equal(store_account_end_sessions(f->s, "zz@example.test", &err), STORE_ENOTFOUND);
	assert_int_equal(store_account_session_gen(f->s, id + 1000, &gen, &err), 0);
}

static void test_aliases(void **state)
{
	struct bfix *f = *state;
	const char *err;
	int64_t a, b;
	assert_int_equal(store_account_add(f->s, "a@example.test", "$y$x", 0, &a, &err), 1);
	assert_int_equal(store_account_add(f->s, "b@example.test", "$y$x", 0, &b, &err), 1);
	const char *t1[] = { "a@example.test", "B@example.test", "x@remote.test" };
	assert_int_equal(store_alias_add(f->s, "team@example.test", t1, 3, &err), 1);
	assert_int_equal(store_alias_add(f->s, "TEAM@example.test", t1, 1, &err), 1); /* already there */
	const char *t2[] = { "team@example.test" };
	assert_int_equal(store_alias_add(f->s, "a@example.test", t2, 1, &err), STORE_EEXISTS);
	assert_int_equal(store_alias_add(f->s, "x@unknown.test", t2, 1, &err), STORE_ENOTFOUND);
	assert_int_equal(store_account_add(f->s, "team@example.test", "$y$x", 0, NULL, &err), STORE_EEXISTS);
	const char *loop1[] = { "loop2@example.test" }, *loop2[] = { "loop1@example.test" };
	assert_int_equal(store_alias_add(f->s, "loop1@example.test", loop1, 1, &err), 1);
	assert_int_equal(store_alias_add(f->s, "loop2@example.test", loop2, 1, &err), 1);
	struct store_rcpt r;
	assert_int_equal(store_resolve(f->s, f->a, "Team@Example.test", &r, &err), 1);
	assert_int_equal(r.naccounts, 2);
	assert_int_equal(r.nremote, 1);
	assert_string_equal(r.remote[0], "x@remote.test");
	assert_int_equal(store_resolve(f->s, f->a, "loop1@example.test", &r, &err), 0);
	assert_int_equal(store_resolve(f->s, f->a, "nobody@example.test", &r, &err), 0);
	assert_int_equal(store_resolve(f->s, f->a, "x@remote.test", &r, &err), STORE_ENOTFOUND);
	const char *all[] = { "b@example.test" };
	assert_int_equal(store_alias_add(f->s, "@example.test", all, 1, &err), 1);
	assert_int_equal(store_resolve(f->s, f->a, "anything@example.test", &r, &err), 1);
	assert_int_equal(r.naccounts, 1);
	assert_int_equal(r.accounts[0], b);
	struct store_alias *al;
	size_t n;
	assert_int_equal(store_alias_list(f->s, f->a, &al, &n, &err), 1);
	assert_int_equal(n, 6);
	assert_int_equal(store_alias_del(f->s, "team@example.test", &err), 1);
	assert_int_equal(store_alias_del(f->s, "team@example.test", &err), STORE_ENOTFOUND);
	assert_int_equal(store_alias_list(f->s, f->a, &al, &n, &err), 1);
	assert_int_equal(n, 3);
}

static void test_admin_and_domain_del(void **state)
{
	struct bfix *f = *state;
	const char *err;
	int64_t id;
	assert_int_equal(store_account_add(f->s, "a@example.test", "$y$x", 0, &id, &err), 1);
	assert_int_equal(store_account_is_admin(f->s, id, &err), 0);
	assert_int_equal(store_account_set_admin(f->s, "A@example.test", true, &err), 1);
	assert_int_equal(store_account_set_admin(f->s, "a@example.test", true, &err), 1); /* twice: no error */
	assert_int_equal(store_account_set_admin(f->s, "zz@example.test", true, &err), STORE_ENOTFOUND);
	assert_int_equal(store_account_is_admin(f->s, id, &err), 1);
	int64_t *ids;
	size_t n;
	assert_int_equal(store_admin_list(f->s, f->a, &ids, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], id);
	assert_int_equal(store_last_login_set(f->s, id, 1000, "imap", "192.0.2.1", &err), 1);
	assert_int_equal(store_last_login_set(f->s, id, 2000, "smtp", "192.0.2.2", &err), 1);
	assert_int_equal(store_last_login_set(f->s, id + 99, 2000, "smtp", "192.0.2.2", &err), 1); /* gone: no row */
	struct store_last_login *ll;
	assert_int_equal(store_last_login_list(f->s, f->a, &ll, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(ll[0].at, 2000);
	assert_string_equal(ll[0].proto, "smtp");
	assert_string_equal(ll[0].ip, "192.0.2.2");
	/* a domain goes only when nothing uses it (an account, an alias, the catch-all) */
	assert_int_equal(store_domain_add(f->s, "other.test", &err), 1);
	assert_int_equal(store_domain_add(f->s, "eXample2.test", &err), 1);
	const char *t[] = { "a@example.test" };
	assert_int_equal(store_alias_add(f->s, "@example2.test", t, 1, &err), 1);
	assert_int_equal(store_domain_del(f->s, "example2.test", &err), STORE_ENOTALLOWED);
	assert_int_equal(store_domain_del(f->s, "example.test", &err), STORE_ENOTALLOWED);
	assert_non_null(strstr(err, "1 accounts and 0 aliases"));
	assert_int_equal(store_domain_del(f->s, "other.test", &err), 1);
	assert_int_equal(store_domain_del(f->s, "other.test", &err), STORE_ENOTFOUND);
	assert_int_equal(store_alias_del(f->s, "@example2.test", &err), 1);
	assert_int_equal(store_domain_del(f->s, "EXAMPLE2.test", &err), 1);
	assert_int_equal(store_account_del(f->s, "a@example.test", &err), 1);
	assert_int_equal(store_admin_list(f->s, f->a, &ids, &n, &err), 1);
	assert_int_equal(n, 0);
}

/* Mailboxes (store_mailbox.c, store_mailbox_read.c): the defaults of a new account,
 * create with parents, list order and \HasChildren, rename with children, INBOX
 * rename, subscriptions that outlive a delete, special-use, the counters. */
static void test_mailboxes(void **state)
{
	struct bfix *f = *state;
	const char *err;
	int64_t id;
	assert_int_equal(store_account_add(f->s, "m@example.test", "$y$x", 0, &id, &err), 1);
	struct store_mailbox *mbs;
	size_t n;
	assert_int_equal(store_mailbox_list(f->s, f->a, id, &mbs, &n, &err), 1);
	static const char *const defaults[] = { "INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash" };
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(mbs[i].name, defaults[i]);
	assert_int_equal(mbs[4].special_use, STORE_SU_SENT);
	assert_true(mbs[0].subscribed);
	assert_int_equal(mbs[0].uidnext, 1);
	assert_true(mbs[0].uidvalidity > 0);
	for (size_t i = 0; i < n; i++) { /* never repeated */
		for (size_t j = i + 1; j < n; j++)
			assert_true(mbs[i].uidvalidity != mbs[j].uidvalidity);
	}
	/* create: the parents come too, not subscribed */
	int64_t deep;
	assert_int_equal(store_mailbox_create(f->s, id, "Work/2026/Q4", 0, &deep, &err), 1);
	assert_int_equal(store_mailbox_create(f->s, id, "work/2026/Q4", 0, NULL, &err), 1); /* case matters */
	assert_int_equal(store_mailbox_create(f->s, id, "Work/2026/Q4", 0, NULL, &err), STORE_EEXISTS);
	assert_int_equal(store_mailbox_create(f->s, id, "inbox", 0, NULL, &err), STORE_EEXISTS);
	assert_int_equal(store_mailbox_create(f->s, id, "a/*", 0, NULL, &err), STORE_EINVAL);
	assert_int_equal(store_mailbox_create(f->s, 999999, "X", 0, NULL, &err), STORE_ENOTFOUND);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, id, "Work", &mb, &err), 1);
	assert_false(mb.subscribed);
	assert_true(mb.has_children);
	uint64_t work_modseq = mb.modseq;
	assert_int_equal(store_mailbox_get(f->s, f->a, id, "Work/2026/Q4", &mb, &err), 1);
	assert_int_equal(mb.id, deep);
	assert_true(mb.subscribed);
	assert_false(mb.has_children);
	assert_true(mb.modseq > work_modseq);
	assert_int_equal(store_mailbox_get_by_id(f->s, f->a, id, deep, &mb, &err), 1);
	assert_string_equal(mb.name, "Work/2026/Q4");
	assert_int_equal(store_mailbox_get(f->s, f->a, id, "Nope", &mb, &err), 0);
	/* "Work-x" sorts between "Work" and "Work/" bytewise: not a child */
	assert_int_equal(store_mailbox_create(f->s, id, "Work-x", 0, NULL, &err), 1);
	assert_int_equal(store_mailbox_list(f->s, f->a, id, &mbs, &n, &err), 1);
	static const char *const order[] = { "INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash", "Work",
					     "Work-x", "Work/2026", "Work/2026/Q4", "work", "work/2026",
					     "work/2026/Q4" };
	assert_int_equal(n, sizeof(order) / sizeof(order[0]));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(mbs[i].name, order[i]);
	assert_false(mbs[7].has_children);
	/* delete: not with children, not INBOX; the subscription stays */
	assert_int_equal(store_mailbox_delete(f->s, id, "Work/2026", &err), STORE_ENOTALLOWED);
	assert_int_equal(store_mailbox_delete(f->s, id, "INBOX", &err), STORE_ENOTALLOWED);
	assert_int_equal(store_mailbox_delete(f->s, id, "Nope", &err), STORE_ENOTFOUND);
	assert_int_equal(store_mailbox_delete(f->s, id, "work/2026/Q4", &err), 1);
	const char **lost;
	assert_int_equal(store_lost_subscriptions(f->s, f->a, id, &lost, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(lost[0], "work/2026/Q4");
	int64_t *gone;
	assert_int_equal(store_mailbox_destroyed_since(f->s, f->a, id, 0, &gone, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(store_mailbox_subscribe(f->s, id, "work/2026/Q4", false, &err), 1);
	assert_int_equal(store_lost_subscriptions(f->s, f->a, id, &lost, &n, &err), 1);
	assert_int_equal(n, 0);
	/* rename moves the children; into itself is refused */
	assert_int_equal(store_mailbox_rename(f->s, id, "Work", "Work/Sub", &err), STORE_EINVAL);
	assert_int_equal(store_mailbox_rename(f->s, id, "Work", "Sent", &err), STORE_EEXISTS);
	assert_int_equal(store_mailbox_rename(f->s, id, "Work", "Old/Work", &err), 1);
	assert_int_equal(store_mailbox_get(f->s, f->a, id, "Old/Work/2026/Q4", &mb, &err), 1);
	assert_int_equal(mb.id, deep);
	assert_int_equal(store_mailbox_get(f->s, f->a, id, "Old", &mb, &err), 1);
	assert_int_equal(store_mailbox_get(f->s, f->a, id, "Work", &mb, &err), 0);
	assert_int_equal(store_mailbox_get(f->s, f->a, id, "Work-x", &mb, &err), 1); /* not a child */
	/* INBOX: renaming it makes a new mailbox and keeps INBOX */
	assert_int_equal(store_mailbox_rename(f->s, id, "INBOX", "Before", &err), 1);
	assert_int_equal(store_mailbox_get(f->s, f->a, id, "INBOX", &mb, &err), 1);
	assert_int_equal(store_mailbox_get(f->s, f->a, id, "Before", &mb, &err), 1);
	assert_int_equal(mb.messages, 0);
	/* subscribe, special-use */
	assert_int_equal(store_mailbox_subscribe(f->s, id, "Old", true, &err), 1);
	assert_int_equal(store_mailbox_set_special_use(f->s, id, "Old", STORE_SU_ARCHIVE, &err), 1);
	assert_int_equal(store_mailbox_get(f->s, f->a, id, "Old", &mb, &err), 1);
	assert_true(mb.subscribed);
	assert_int_equal(mb.special_use, STORE_SU_ARCHIVE);
	assert_int_equal(store_mailbox_subscribe(f->s, id, "Nope", true, &err), STORE_ENOTFOUND);
	uint32_t recent;
	assert_int_equal(store_mailbox_claim_recent(f->s, id, mb.id, &recent, &err), 1);
	assert_int_equal(recent, 1);
	const char **kws;
	assert_int_equal(store_mailbox_keywords(f->s, f->a, id, mb.id, &kws, &err), 1);
	assert_null(kws[0]);
	/* the account's removal takes its mailboxes */
	assert_int_equal(store_account_del(f->s, "m@example.test", &err), 1);
	assert_int_equal(store_mailbox_list(f->s, f->a, id, &mbs, &n, &err), 1);
	assert_int_equal(n, 0);
}

/* PostgreSQL: a second store on the same database (a second node) sees the first's
 * writes at once, and what is not converted refuses clearly. */
static void test_pg_two_nodes(void **state)
{
	struct bfix *f = *state;
	const char *err;
	char dir2[256];
	snprintf(dir2, sizeof(dir2), "/tmp/postamt-test-XXXXXX");
	assert_non_null(mkdtemp(dir2));
	struct store *s2 = open_backend(dir2, f->pg); /* joins: the schema exists */
	int64_t id;
	assert_int_equal(store_account_add(f->s, "a@example.test", "$y$x", 0, &id, &err), 1);
	struct store_account acct;
	assert_int_equal(store_account_get(s2, f->a, "A@example.test", &acct, &err), 1);
	assert_int_equal(acct.id, id);
	assert_int_equal(store_domain_exists(s2, "example.test", &err), 1);
	assert_int_equal(store_account_end_sessions(s2, "a@example.test", &err), 1);
	uint64_t gen;
	assert_int_equal(store_account_session_gen(f->s, id, &gen, &err), 1);
	assert_int_equal(gen, 1);
	/* mailboxes made through one node are seen by the other */
	int64_t lists;
	assert_int_equal(store_mailbox_create(s2, id, "Lists", 0, &lists, &err), 1);
	struct store_mailbox *mbs;
	size_t n;
	assert_int_equal(store_mailbox_list(f->s, f->a, id, &mbs, &n, &err), 1);
	assert_int_equal(n, 7);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, id, "Lists", &mb, &err), 1);
	assert_int_equal(mb.id, lists);
	/* messages are there (test_messages_backends.c); what is not converted yet
	 * refuses clearly */
	struct store_mailbox_snapshot snap;
	assert_int_equal(store_mailbox_snapshot(s2, f->a, id, lists, false, 0, &snap, &err), 1);
	assert_int_equal(snap.nuids, 0);
	assert_int_equal(store_mailbox_rename(f->s, id, "Lists", "Lists2", &err), 1);
	/* Sieve scripts are shared (test_sieve.c has the rest) */
	struct store_sieve_script *scripts;
	assert_int_equal(store_sieve_list(s2, f->a, id, &scripts, &n, NULL, &err), 1);
	assert_int_equal(n, 0);
	store_close(&s2);
	rm_rf(dir2);
}

/* PostgreSQL: a connection the server ends (a restart, pg_terminate_backend) is
 * replaced by the next borrower; the call that found it broken fails temporarily. */
static void test_pg_reconnect(void **state)
{
	struct bfix *f = *state;
	const char *err;
	int64_t id;
	assert_int_equal(store_account_add(f->s, "a@example.test", "$y$x", 0, &id, &err), 1);
	PGconn *c = PQconnectdb(f->pg);
	PGresult *r = PQexec(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
				"  WHERE datname = current_database() AND pid <> pg_backend_pid()");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_true(atoi(PQgetvalue(r, 0, 0)) >= 1);
	PQclear(r);
	PQfinish(c);
	struct store_account acct;
	int got = store_account_get(f->s, f->a, "a@example.test", &acct, &err);
	assert_true(got == 1 || got == STORE_EUNAVAIL);
	assert_int_equal(store_account_get(f->s, f->a, "a@example.test", &acct, &err), 1);
	assert_int_equal(acct.id, id);
}

/* The driver's error classes: a statement timeout is temporary, and so is every
 * statement after it in the failed transaction (25P02 stands for its cause, with the
 * cause's text); a syntax error is permanent, and so are the statements after it;
 * many statement texts on one connection (its index grows). */
static const char *const many_sql[] = {
#define Q(n) "SELECT " #n " + ?",
	Q(0) Q(1) Q(2) Q(3) Q(4) Q(5) Q(6) Q(7) Q(8) Q(9) Q(10) Q(11) Q(12) Q(13) Q(14) Q(15) Q(16) Q(17)
	Q(18) Q(19) Q(20) Q(21) Q(22) Q(23) Q(24) Q(25) Q(26) Q(27) Q(28) Q(29) Q(30) Q(31) Q(32) Q(33)
	Q(34) Q(35) Q(36) Q(37) Q(38) Q(39) Q(40) Q(41) Q(42) Q(43) Q(44) Q(45) Q(46) Q(47) Q(48) Q(49)
#undef Q
};

static void test_pg_error_classes(void **state)
{
	struct bfix *f = *state;
	char *err = NULL;
	struct sql_conn *q = sql_pg_connect(f->pg, &err);
	assert_non_null(q);
	assert_int_equal(sql_begin(q), SQL_DONE);
	assert_int_equal(sql_exec(q, "SET LOCAL statement_timeout = 10"), SQL_DONE);
	assert_int_equal(sql_exec(q, "SELECT pg_sleep(2)"), SQL_ETEMP);
	assert_null(sql_prepare(q, "SELECT 1")); /* prepared in a failed transaction: refused */
	struct sql_stmt *st;
	assert_non_null(strstr(sql_errmsg(q), "statement timeout"));
	sql_rollback(q);
	assert_int_equal(sql_begin(q), SQL_DONE);
	assert_int_equal(sql_exec(q, "SELEKT 1"), SQL_ERR);
	assert_int_equal(sql_exec(q, "SELECT 1"), SQL_ERR);
	assert_null(sql_prepare(q, "SELECT 2")); /* refused, the process goes on */
	sql_rollback(q);
	/* the repeated statements are found again, each with its own text */
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(many_sql) / sizeof(many_sql[0]); i++) {
			st = sql_prepare(q, many_sql[i]);
			assert_non_null(st);
			sql_bind_int64(st, 1, 1000);
			assert_int_equal(sql_step(st), SQL_ROW);
			assert_int_equal(sql_col_int64(st, 0), 1000 + (int64_t)i);
			sql_reset(st);
		}
	}
	sql_close(q);
}

/* An unreachable server: opening fails with a temporary error that says why. */
static void test_pg_unreachable(void **state)
{
	(void)state;
	char dir[256];
	snprintf(dir, sizeof(dir), "/tmp/postamt-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	struct store_options opt = { .create = true, .no_fsync = true,
				     .postgresql = "postgresql://postamt@127.0.0.1:1/postamt?connect_timeout=2" };
	struct store *s = NULL;
	const char *err = NULL;
	assert_int_equal(store_open(dir, &opt, &s, &err), STORE_EUNAVAIL);
	assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
	rm_rf(dir);
}

static void test_translate(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "SELECT id FROM t WHERE a = ? AND b = ?", "SELECT id FROM t WHERE a = $1 AND b = $2" },
		{ "INSERT OR IGNORE INTO aliases(address, target) VALUES(?, ?)",
		  "INSERT INTO aliases(address, target) VALUES($1, $2) ON CONFLICT DO NOTHING" },
		{ "INSERT OR IGNORE INTO t(a) VALUES(?) RETURNING id",
		  "INSERT INTO t(a) VALUES($1) ON CONFLICT DO NOTHING RETURNING id" },
		{ "SELECT '?' FROM t WHERE name = ? COLLATE NOCASE", "SELECT '?' FROM t WHERE name = $1" },
		{ "SELECT 1 FROM m WHERE a = ?1 AND name > ?2 || '/' AND name < ?2 || '0'",
		  "SELECT 1 FROM m WHERE a = $1 AND name > $2 || '/' AND name < $2 || '0'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = sql_pg_translate(cases[i].in);
		assert_string_equal(t, cases[i].out);
		free(t);
	}
}

int main(void)
{
	const struct CMUnitTest lite[] = {
		cmocka_unit_test(test_translate),
		cmocka_unit_test(test_pg_unreachable),
		cmocka_unit_test_setup_teardown(test_domains, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_accounts, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_password_scram_sessions, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_aliases, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_admin_and_domain_del, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_mailboxes, setup_sqlite, teardown),
	};
	const struct CMUnitTest pg[] = {
		cmocka_unit_test_setup_teardown(test_domains, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_accounts, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_password_scram_sessions, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_aliases, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_admin_and_domain_del, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_mailboxes, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_pg_two_nodes, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_pg_reconnect, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_pg_error_classes, setup_pg, teardown),
	};
	int failed = cmocka_run_group_tests_name("sqlite", lite, NULL, NULL);
	const char *uri = test_pg_uri("postamt_test_backends");
	if (uri == NULL) {
		printf("postgresql: %zu tests skipped: POSTAMT_TEST_PG is not set"
		       " (run under scripts/pg-fixture run)\n", sizeof(pg) / sizeof(pg[0]));
		return failed;
	}
	return failed + cmocka_run_group_tests_name("postgresql", pg, NULL, NULL);
}
