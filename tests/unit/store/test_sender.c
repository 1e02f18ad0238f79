/* test_sender.c: the sending policy (store_sender.c) against a real store: which
 * addresses an account owns (its own, aliases that reach it), the From:/Sender:
 * check built on it, and the Return-Path a delivery gets (outside review of
 * December 2026, finding 8; RFC 5321 §4.4). */
#include "helpers.h"

static void alias(struct fixture *f, const char *address, const char *target)
{
	const char *targets[] = { target };
	const char *err;
	assert_int_equal(store_alias_add(f->s, address, targets, 1, &err), 1);
}

static void test_owned(void **state)
{
	struct fixture *f = *state;
	alias(f, "al@example.test", "a@example.test");
	alias(f, "both@example.test", "b@example.test");
	alias(f, "fwd@example.test", "someone@remote.test");
	assert_true(store_sender_owned(f->s, f->a, f->acct, "a@example.test", "a@example.test"));
	assert_true(store_sender_owned(f->s, f->a, f->acct, "a@example.test", "A@EXAMPLE.TEST"));
	assert_true(store_sender_owned(f->s, f->a, f->acct, "a@example.test", "al@example.test"));
	assert_false(store_sender_owned(f->s, f->a, f->acct, "a@example.test", "b@example.test"));
	assert_false(store_sender_owned(f->s, f->a, f->acct, "a@example.test", "both@example.test"));
	assert_false(store_sender_owned(f->s, f->a, f->acct, "a@example.test", "fwd@example.test"));
	assert_false(store_sender_owned(f->s, f->a, f->acct, "a@example.test", "nobody@example.test"));
	assert_false(store_sender_owned(f->s, f->a, f->acct, "a@example.test", "a@remote.test"));
	assert_false(store_sender_owned(f->s, f->a, f->acct, "a@example.test", ""));
	assert_false(store_sender_owned(f->s, f->a, f->acct, "a@example.test", NULL));
}

static int headers(struct fixture *f, const char *msg, const char **bad_r)
{
	*bad_r = NULL;
	return store_header_senders_owned(f->s, f->a, f->acct, "a@example.test", msg, strlen(msg), bad_r);
}

static void test_headers(void **state)
{
	struct fixture *f = *state;
	alias(f, "al@example.test", "a@example.test");
	const char *bad;
	assert_int_equal(headers(f, "From: A <a@example.test>\r\nSubject: x\r\n\r\nFrom: b@example.test\r\n", &bad), 1);
	assert_int_equal(headers(f, "Subject: no from\r\n\r\n", &bad), 1);
	assert_int_equal(headers(f, "From: al@example.test\r\nSender: a@example.test\r\n\r\n", &bad), 1);
	assert_int_equal(headers(f, "From: B <b@example.test>\r\n\r\n", &bad), 0);
	assert_string_equal(bad, "b@example.test");
	assert_int_equal(headers(f, "From: a@example.test\r\nSender: b@example.test\r\n\r\n", &bad), 0);
	assert_string_equal(bad, "b@example.test");
	assert_int_equal(headers(f, "From: a@example.test, x@remote.test\r\n\r\n", &bad), 0);
	assert_string_equal(bad, "x@remote.test");
	assert_int_equal(headers(f, "From: a@example.test\r\nfrom: b@example.test\r\n\r\n", &bad), 0);
	assert_int_equal(headers(f, "From: g: a@example.test, b@example.test;\r\n\r\n", &bad), 0);
	assert_int_equal(headers(f, "From: a@example.test\r\n\t, b@example.test\r\n\r\n", &bad), 0);
}

static const char *stored(struct fixture *f, uint32_t uid)
{
	const char *data, *err;
	size_t len;
	assert_int_equal(store_msg_read(f->s, f->a, f->acct, f->inbox, uid, &data, &len, &err), 1);
	return arena_strndup(f->a, data, len);
}

static uint32_t deliver_from(struct fixture *f, const char *sender, const char *text)
{
	int res = 0;
	uint32_t uid = 0;
	struct store_delivery d = { .data = text, .len = strlen(text), .accounts = &f->acct, .naccounts = 1,
				    .return_path = sender, .results = &res, .uids = &uid };
	const char *err = NULL;
	assert_int_equal(store_deliver(f->s, &d, &err), 1);
	return uid;
}

static void test_return_path(void **state)
{
	struct fixture *f = *state;
	uint32_t u1 = deliver_from(f, "s@remote.test", "Return-Path: <x@evil.test>\nSubject: one\n\nbody\n");
	assert_string_equal(stored(f, u1), "Return-Path: <s@remote.test>\r\nSubject: one\r\n\r\nbody\r\n");
	uint32_t u2 = deliver_from(f, "", "Subject: two\r\n\r\nbody\r\n");
	assert_string_equal(stored(f, u2), "Return-Path: <>\r\nSubject: two\r\n\r\nbody\r\n");
	/* quota counts the stored bytes, Return-Path included */
	uint64_t usage, limit, n;
	const char *err;
	assert_int_equal(store_quota_get(f->s, f->acct, &usage, &limit, &n, &err), 1);
	assert_int_equal(usage, strlen(stored(f, u1)) + strlen(stored(f, u2)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_owned, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_headers, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_return_path, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
