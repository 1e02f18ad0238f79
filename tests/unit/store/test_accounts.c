/* test_accounts.c: domains, accounts, aliases, recipient resolution, quota settings,
 * mailbox names and the mailbox operations (create, rename incl. INBOX, delete,
 * subscribe, UIDVALIDITY stability), and account isolation. */
#include "helpers.h"

static void test_domains(void **state)
{
	struct fixture *f = *state;
	const char *err;
	assert_int_equal(store_domain_add(f->s, "Other.TEST", &err), 1);
	assert_int_equal(store_domain_add(f->s, "other.test", &err), STORE_EEXISTS);
	assert_int_equal(store_domain_add(f->s, "bad domain", &err), STORE_EINVAL);
	assert_int_equal(store_domain_add(f->s, "", &err), STORE_EINVAL);
	assert_int_equal(store_domain_add(f->s, "a..b", &err), STORE_EINVAL);
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
	struct fixture *f = *state;
	const char *err;
	int64_t id;
	assert_int_equal(store_account_add(f->s, "C@Example.TEST", "$y$h", 1024, &id, &err), 1);
	struct store_account acct;
	assert_int_equal(store_account_get(f->s, f->a, "c@example.test", &acct, &err), 1);
	assert_int_equal(acct.id, id);
	assert_string_equal(acct.address, "C@example.test"); /* domain lower-cased */
	assert_int_equal(acct.quota, 1024);
	assert_int_equal(acct.usage, 0);
	assert_string_equal(acct.password_hash, "$y$h");
	/* duplicates, unknown domains, bad addresses */
	assert_int_equal(store_account_add(f->s, "c@EXAMPLE.test", "$y$h", 0, NULL, &err), STORE_EEXISTS);
	assert_int_equal(store_account_add(f->s, "x@unknown.test", "$y$h", 0, NULL, &err), STORE_ENOTFOUND);
	assert_int_equal(store_account_add(f->s, "no-at-sign", "$y$h", 0, NULL, &err), STORE_EINVAL);
	assert_int_equal(store_account_add(f->s, "a b@example.test", "$y$h", 0, NULL, &err), STORE_EINVAL);
	assert_int_equal(store_account_add(f->s, "@example.test", "$y$h", 0, NULL, &err), STORE_EINVAL);
	assert_int_equal(store_account_add(f->s, "x@example.test", "", 0, NULL, &err), STORE_EINVAL);
	/* updates */
	assert_int_equal(store_account_set_password(f->s, "c@example.test", "$y$new", &err), 1);
	assert_int_equal(store_account_set_quota(f->s, "c@example.test", 5, &err), 1);
	assert_int_equal(store_account_get(f->s, f->a, "c@example.test", &acct, &err), 1);
	assert_string_equal(acct.password_hash, "$y$new");
	assert_int_equal(acct.quota, 5);
	assert_int_equal(store_account_set_quota(f->s, "zz@example.test", 5, &err), STORE_ENOTFOUND);
	/* default mailboxes with special use, all subscribed */
	struct store_mailbox *mbs;
	size_t n;
	assert_int_equal(store_mailbox_list(f->s, f->a, id, &mbs, &n, &err), 1);
	assert_int_equal(n, 6);
	assert_string_equal(mbs[0].name, "INBOX");
	unsigned int su = 0;
	for (size_t i = 0; i < n; i++) {
		assert_true(mbs[i].subscribed);
		su |= mbs[i].special_use;
		assert_int_equal(mbs[i].uidnext, 1);
		assert_true(mbs[i].uidvalidity > 0);
	}
	assert_int_equal(su, STORE_SU_DRAFTS | STORE_SU_SENT | STORE_SU_TRASH | STORE_SU_JUNK |
			     STORE_SU_ARCHIVE);
	/* list, delete */
	struct store_account *v;
	assert_int_equal(store_account_list(f->s, f->a, &v, &n, &err), 1);
	assert_int_equal(n, 3);
	assert_int_equal(store_account_del(f->s, "c@example.test", &err), 1);
	assert_int_equal(store_account_get(f->s, f->a, "c@example.test", &acct, &err), 0);
	assert_int_equal(store_account_del(f->s, "c@example.test", &err), STORE_ENOTFOUND);
	assert_int_equal(store_mailbox_list(f->s, f->a, id, &mbs, &n, &err), 1);
	assert_int_equal(n, 0);
}

/* The session generation: raised by a password change and by end_sessions, gone
 * with the account (finding 7 of the December 2026 review). */
static void test_session_generation(void **state)
{
	struct fixture *f = *state;
	const char *err;
	int64_t id;
	uint64_t gen = 99;
	assert_int_equal(store_account_add(f->s, "g@example.test", "$y$h", 0, &id, &err), 1);
	assert_int_equal(store_account_session_gen(f->s, id, &gen, &err), 1);
	assert_int_equal(gen, 0);
	assert_int_equal(store_account_set_quota(f->s, "g@example.test", 5, &err), 1);
	assert_int_equal(store_account_session_gen(f->s, id, &gen, &err), 1);
	assert_int_equal(gen, 0); /* a quota change ends nothing */
	assert_int_equal(store_account_set_password(f->s, "G@EXAMPLE.test", "$y$new", &err), 1);
	assert_int_equal(store_account_session_gen(f->s, id, &gen, &err), 1);
	assert_int_equal(gen, 1);
	assert_int_equal(store_account_end_sessions(f->s, "g@example.test", &err), 1);
	assert_int_equal(store_account_session_gen(f->s, id, &gen, &err), 1);
	assert_int_equal(gen, 2);
	assert_int_equal(store_account_end_sessions(f->s, "nobody@example.test", &err), STORE_ENOTFOUND);
	assert_int_equal(store_account_del(f->s, "g@example.test", &err), 1);
	assert_int_equal(store_account_session_gen(f->s, id, &gen, &err), 0);
}

static void test_aliases(void **state)
{
	struct fixture *f = *state;
	const char *err;
	assert_int_equal(store_domain_add(f->s, "other.test", &err), 1);
	const char *t1[] = { "a@example.test", "b@example.test", "far@remote.test" };
	assert_int_equal(store_alias_add(f->s, "team@example.test", t1, 3, &err), 1);
	const char *t2[] = { "team@example.test", "a@example.test" };
	assert_int_equal(store_alias_add(f->s, "all@other.test", t2, 2, &err), 1);
	/* loops are cut */
	const char *t3[] = { "loop2@example.test" };
	const char *t4[] = { "loop1@example.test" };
	assert_int_equal(store_alias_add(f->s, "loop1@example.test", t3, 1, &err), 1);
	assert_int_equal(store_alias_add(f->s, "loop2@example.test", t4, 1, &err), 1);
	/* errors */
	assert_int_equal(store_alias_add(f->s, "a@example.test", t3, 1, &err), STORE_EEXISTS);
	assert_int_equal(store_alias_add(f->s, "x@unknown.test", t3, 1, &err), STORE_ENOTFOUND);
	assert_int_equal(store_alias_add(f->s, "x@example.test", NULL, 0, &err), STORE_EINVAL);
	const char *bad[] = { "not an address" };
	assert_int_equal(store_alias_add(f->s, "x@example.test", bad, 1, &err), STORE_EINVAL);
	assert_int_equal(store_account_add(f->s, "team@example.test", "$y$", 0, NULL, &err), STORE_EEXISTS);

	struct store_rcpt r;
	assert_int_equal(store_resolve(f->s, f->a, "A@EXAMPLE.TEST", &r, &err), 1);
	assert_int_equal(r.naccounts, 1);
	assert_int_equal(r.accounts[0], f->acct);
	assert_int_equal(store_resolve(f->s, f->a, "all@other.test", &r, &err), 1);
	assert_int_equal(r.naccounts, 2); /* a (once, deduplicated) and b */
	assert_int_equal(r.nremote, 1);
	assert_string_equal(r.remote[0], "far@remote.test");
	assert_int_equal(store_resolve(f->s, f->a, "loop1@example.test", &r, &err), 0);
	assert_int_equal(store_resolve(f->s, f->a, "nobody@example.test", &r, &err), 0);
	assert_int_equal(store_resolve(f->s, f->a, "x@remote.test", &r, &err), STORE_ENOTFOUND);
	assert_true(store_resolve(f->s, f->a, "garbage", &r, &err) < 0);
	/* catch-all */
	const char *t5[] = { "b@example.test" };
	assert_int_equal(store_alias_add(f->s, "@example.test", t5, 1, &err), 1);
	assert_int_equal(store_resolve(f->s, f->a, "anything@example.test", &r, &err), 1);
	assert_int_equal(r.naccounts, 1);
	assert_int_equal(r.accounts[0], f->acct2);
	/* an exact alias wins over the catch-all; accounts too */
	assert_int_equal(store_resolve(f->s, f->a, "a@example.test", &r, &err), 1);
	assert_int_equal(r.accounts[0], f->acct);
	struct store_alias *al;
	size_t n;
	assert_int_equal(store_alias_list(f->s, f->a, &al, &n, &err), 1);
	assert_int_equal(n, 8);
	assert_int_equal(store_alias_del(f->s, "team@example.test", &err), 1);
	assert_int_equal(store_alias_del(f->s, "team@example.test", &err), STORE_ENOTFOUND);
}

static void test_mailbox_names(void **state)
{
	struct fixture *f = *state;
	const char *out, *err;
	static const char *const bad[] = {
		"", "/x", "x/", "a//b", "a/../b", "..", ".", "a/./b", "a\001b", "a\tb", "a*", "%",
		"\xff\xfe", "\xc0\xaf", "a\x7f",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(store_mailbox_name_check(f->a, bad[i], &out, &err), STORE_EINVAL);
		assert_non_null(err);
	}
	assert_int_equal(store_mailbox_name_check(f->a, NULL, &out, &err), STORE_EINVAL);
	char longname[600];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[599] = '\0';
	assert_int_equal(store_mailbox_name_check(f->a, longname, &out, &err), STORE_EINVAL);
	char deep[200] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, i ? "/a" : "a");
	assert_int_equal(store_mailbox_name_check(f->a, deep, &out, &err), STORE_EINVAL);
	assert_int_equal(store_mailbox_name_check(f->a, "inbox", &out, &err), 1);
	assert_string_equal(out, "INBOX");
	assert_int_equal(store_mailbox_name_check(f->a, "InBox/Sub", &out, &err), 1);
	assert_string_equal(out, "INBOX/Sub");
	assert_int_equal(store_mailbox_name_check(f->a, "inboxes", &out, &err), 1);
	assert_string_equal(out, "inboxes");
	assert_int_equal(store_mailbox_name_check(f->a, "Entwürfe/Ä & B", &out, &err), 1);
	/* bad names never reach the database */
	assert_int_equal(store_mailbox_create(f->s, f->acct, "a/../b", 0, NULL, &err), STORE_EINVAL);
	assert_int_equal(store_mailbox_rename(f->s, f->acct, "Sent", "x//y", &err), STORE_EINVAL);
}

static void test_mailbox_ops(void **state)
{
	struct fixture *f = *state;
	const char *err;
	int64_t id;
	struct store_mailbox mb, mb2;
	assert_int_equal(store_mailbox_create(f->s, f->acct, "Work/Projects/X", 0, &id, &err), 1);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Work", &mb, &err), 1);
	assert_true(mb.has_children);
	assert_false(mb.subscribed); /* created as a parent */
	assert_int_equal(store_mailbox_create(f->s, f->acct, "Work/Projects/X", 0, NULL, &err), STORE_EEXISTS);
	assert_int_equal(store_mailbox_create(f->s, f->acct, "INBOX", 0, NULL, &err), STORE_EEXISTS);
	assert_int_equal(store_mailbox_create(f->s, 9999, "Foo", 0, NULL, &err), STORE_ENOTFOUND);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Work/Projects/X", &mb, &err), 1);
	uint32_t uidvalidity = mb.uidvalidity;
	/* rename keeps id and UIDVALIDITY, and moves children */
	assert_int_equal(store_mailbox_rename(f->s, f->acct, "Work", "Job", &err), 1);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Work/Projects/X", &mb2, &err), 0);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Job/Projects/X", &mb2, &err), 1);
	assert_int_equal(mb2.id, id);
	assert_int_equal(mb2.uidvalidity, uidvalidity);
	assert_int_equal(store_mailbox_rename(f->s, f->acct, "Job", "Job/Sub", &err), STORE_EINVAL);
	assert_int_equal(store_mailbox_rename(f->s, f->acct, "Job", "Sent", &err), STORE_EEXISTS);
	assert_int_equal(store_mailbox_rename(f->s, f->acct, "Nope", "Zzz", &err), STORE_ENOTFOUND);
	assert_int_equal(store_mailbox_rename(f->s, f->acct, "Sent", "INBOX", &err), STORE_EEXISTS);
	/* delete: not INBOX, not with children */
	assert_int_equal(store_mailbox_delete(f->s, f->acct, "INBOX", &err), STORE_ENOTALLOWED);
	assert_int_equal(store_mailbox_delete(f->s, f->acct, "Job", &err), STORE_ENOTALLOWED);
	assert_int_equal(store_mailbox_delete(f->s, f->acct, "Job/Projects/X", &err), 1);
	assert_int_equal(store_mailbox_delete(f->s, f->acct, "Job/Projects/X", &err), STORE_ENOTFOUND);
	int64_t *ids;
	size_t n;
	assert_int_equal(store_mailbox_destroyed_since(f->s, f->a, f->acct, 0, &ids, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], id);
	/* recreated: new id, new UIDVALIDITY */
	assert_int_equal(store_mailbox_create(f->s, f->acct, "Job/Projects/X", 0, &id, &err), 1);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Job/Projects/X", &mb, &err), 1);
	assert_int_not_equal(mb.id, mb2.id);
	assert_int_not_equal(mb.uidvalidity, uidvalidity);
	/* subscribe, special use */
	assert_int_equal(store_mailbox_subscribe(f->s, f->acct, "Job", true, &err), 1);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Job", &mb, &err), 1);
	assert_true(mb.subscribed);
	assert_int_equal(store_mailbox_subscribe(f->s, f->acct, "Job", false, &err), 1);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Job", &mb, &err), 1);
	assert_false(mb.subscribed);
	assert_int_equal(store_mailbox_set_special_use(f->s, f->acct, "Job", STORE_SU_ARCHIVE, &err), 1);
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Job", &mb, &err), 1);
	assert_int_equal(mb.special_use, STORE_SU_ARCHIVE);
	assert_string_equal(store_special_use_name(STORE_SU_DRAFTS), "\\Drafts");
	assert_int_equal(store_special_use_parse("\\junk"), STORE_SU_JUNK);
	assert_int_equal(store_special_use_parse("\\Draft"), 0);
}

static void test_isolation(void **state)
{
	struct fixture *f = *state;
	const char *err;
	struct store_mailbox mb;
	/* b cannot see or touch a's INBOX by id */
	assert_int_equal(store_mailbox_get_by_id(f->s, f->a, f->acct2, f->inbox, &mb, &err), 0);
	assert_int_equal(store_mailbox_get_by_id(f->s, f->a, f->acct, f->inbox, &mb, &err), 1);
	struct store_range r;
	struct store_flag_change fc = { .account_id = f->acct2, .mailbox_id = f->inbox,
					.uids = uidset1(&r, 1, UINT32_MAX), .op = STORE_FLAGS_ADD,
					.flags = STORE_F_SEEN };
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), STORE_ENOTFOUND);
	assert_int_equal(store_expunge(f->s, f->a, f->acct2, f->inbox, NULL, false, NULL, NULL, &err),
			 STORE_ENOTFOUND);
	struct store_mailbox bmb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct2, "INBOX", &bmb, &err), 1);
	struct store_copy cp = { .account_id = f->acct2, .src_mailbox_id = f->inbox,
				 .dst_mailbox_id = bmb.id, .uids = uidset1(&r, 1, UINT32_MAX) };
	assert_int_equal(store_copy(f->s, f->a, &cp, &err), STORE_ENOTFOUND);
	cp.account_id = f->acct;
	assert_int_equal(store_copy(f->s, f->a, &cp, &err), STORE_ENOTFOUND);
}

static void test_ids(void **state)
{
	(void)state;
	char buf[24];
	int64_t v;
	int64_t samples[] = { 1, 2, 31, 32, 1000, 123456789, INT64_MAX };
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		store_id_email(samples[i], buf);
		assert_int_equal(buf[0], 'E');
		assert_int_equal(store_id_parse(buf, 'E', &v), 1);
		assert_int_equal(v, samples[i]);
		assert_int_equal(store_id_parse(buf, 'M', &v), 0);
	}
	store_id_mailbox(5, buf);
	assert_string_equal(buf, "Mf");
	assert_int_equal(store_id_parse("M", 'M', &v), 0);
	assert_int_equal(store_id_parse("M0", 'M', &v), 0);
	assert_int_equal(store_id_parse("Ma", 'M', &v), 0);
	assert_int_equal(store_id_parse("Mzzzzzzzzzzzzzz", 'M', &v), 0);
	assert_int_equal(store_id_parse(NULL, 'M', &v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_domains, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_accounts, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_session_generation, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_aliases, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_mailbox_names, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_mailbox_ops, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_isolation, fixture_setup, fixture_teardown),
		cmocka_unit_test(test_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
