/* test_login_limit.c: the failed-login limiter (login_limit.c) driven with explicit
 * times: attempts count while in flight (concurrent attempts cannot pass a check
 * made before any of them failed), a success counts nothing, the in-flight cap makes
 * attempts wait and hands them back, the window slides, and the per-account limit
 * refuses new addresses but not the ones the account logged in from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "login_limit.h"

#include <stdio.h>

static struct login_slot slot(const char *addr, const char *account)
{
	return (struct login_slot){ .addr = addr, .account = account };
}

static size_t count(struct login_slot *w)
{
	size_t n = 0;
	for (; w != NULL; w = w->next)
		n++;
	return n;
}

static void test_reservation(void **state)
{
	(void)state;
	struct login_limit *l = auth_login_limit_new(&(struct login_limits){ 10, 64, 64 });
	time_t t = 1000;
	/* 45 attempts at once from one address: 10 run, the other 35 wait */
	struct login_slot s[45];
	int go = 0, wait = 0;
	for (int i = 0; i < 45; i++) {
		s[i] = slot("192.0.2.1", "alice@example.test");
		int v = auth_login_limit_begin(l, &s[i], t);
		go += v == LOGIN_LIMIT_GO;
		wait += v == LOGIN_LIMIT_WAIT;
	}
	assert_int_equal(go, 10);
	assert_int_equal(wait, 35);
	/* all 10 fail: the waiting ones are handed back and then refused */
	struct login_slot *woken = NULL;
	for (int i = 0; i < 10; i++) {
		struct login_slot *w = auth_login_limit_end(l, &s[i], 0, t);
		if (w != NULL)
			woken = w;
	}
	assert_int_equal(auth_login_limit_failures(l, "192.0.2.1", t), 10);
	assert_non_null(woken);
	size_t n = count(woken);
	for (struct login_slot *w = woken, *next; w != NULL; w = next) {
		next = w->next;
		assert_int_equal(auth_login_limit_begin(l, w, t), LOGIN_LIMIT_ADDRESS);
	}
	assert_true(n >= 1);
	/* another address is not affected */
	struct login_slot o = slot("192.0.2.2", "bob@example.test");
	assert_int_equal(auth_login_limit_begin(l, &o, t), LOGIN_LIMIT_GO);
	assert_null(auth_login_limit_end(l, &o, 1, t));
	/* the window slides: a minute later the address may try again */
	struct login_slot late = slot("192.0.2.1", "alice@example.test");
	assert_int_equal(auth_login_limit_begin(l, &late, t + LOGIN_LIMIT_WINDOW - 1), LOGIN_LIMIT_ADDRESS);
	assert_int_equal(auth_login_limit_begin(l, &late, t + LOGIN_LIMIT_WINDOW), LOGIN_LIMIT_GO);
	auth_login_limit_end(l, &late, -1, t + LOGIN_LIMIT_WINDOW);
	auth_login_limit_free(&l);
	assert_null(l);
}

static void test_success_counts_nothing(void **state)
{
	(void)state;
	struct login_limit *l = auth_login_limit_new(&(struct login_limits){ 3, 64, 64 });
	time_t t = 50;
	/* in flight, three attempts fill the limit; the fourth waits */
	struct login_slot s[4];
	for (int i = 0; i < 3; i++) {
		s[i] = slot("198.51.100.7", "a@example.test");
		assert_int_equal(auth_login_limit_begin(l, &s[i], t), LOGIN_LIMIT_GO);
	}
	s[3] = slot("198.51.100.7", "a@example.test");
	assert_int_equal(auth_login_limit_begin(l, &s[3], t), LOGIN_LIMIT_WAIT);
	/* one succeeds: the waiting attempt comes back and may run */
	struct login_slot *w = auth_login_limit_end(l, &s[0], 1, t);
	assert_ptr_equal(w, &s[3]);
	assert_null(w->next);
	assert_int_equal(auth_login_limit_begin(l, w, t), LOGIN_LIMIT_GO);
	/* temporary failures count nothing either */
	assert_null(auth_login_limit_end(l, &s[1], -1, t));
	assert_null(auth_login_limit_end(l, &s[2], 1, t));
	assert_null(auth_login_limit_end(l, &s[3], 1, t));
	assert_int_equal(auth_login_limit_failures(l, "198.51.100.7", t), 0);
	auth_login_limit_free(&l);
}

static void test_in_flight_cap(void **state)
{
	(void)state;
	struct login_limit *l = auth_login_limit_new(&(struct login_limits){ 10, 64, 2 });
	time_t t = 7;
	struct login_slot s[5];
	int v[5];
	for (int i = 0; i < 5; i++) {
		s[i] = slot("2001:db8:1:2::/64", "c@example.test");
		v[i] = auth_login_limit_begin(l, &s[i], t);
	}
	assert_int_equal(v[0], LOGIN_LIMIT_GO);
	assert_int_equal(v[1], LOGIN_LIMIT_GO);
	assert_int_equal(v[2], LOGIN_LIMIT_WAIT);
	assert_int_equal(v[4], LOGIN_LIMIT_WAIT);
	/* a failure hands back all three waiting, in order; one of them runs now */
	struct login_slot *w = auth_login_limit_end(l, &s[0], 0, t);
	assert_ptr_equal(w, &s[2]);
	assert_int_equal(count(w), 3);
	int go = 0;
	for (struct login_slot *x = w, *next; x != NULL; x = next) {
		next = x->next;
		go += auth_login_limit_begin(l, x, t) == LOGIN_LIMIT_GO;
	}
	assert_int_equal(go, 1);
	assert_int_equal(auth_login_limit_failures(l, "2001:db8:1:2::/64", t), 1);
	auth_login_limit_free(&l); /* frees entries with slots still queued (not owned) */
}

static void test_account_limit(void **state)
{
	(void)state;
	struct login_limit *l = auth_login_limit_new(&(struct login_limits){ 10, 5, 4 });
	time_t t = 100;
	/* alice logged in from her address before */
	struct login_slot home = slot("203.0.113.5", "alice@example.test");
	assert_int_equal(auth_login_limit_begin(l, &home, t), LOGIN_LIMIT_GO);
	auth_login_limit_end(l, &home, 1, t);
	/* a botnet: one wrong guess each from many addresses */
	char addrs[8][32];
	for (int i = 0; i < 5; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "192.0.2.%d", 10 + i);
		struct login_slot b = slot(addrs[i], "alice@example.test");
		assert_int_equal(auth_login_limit_begin(l, &b, t + 1), LOGIN_LIMIT_GO);
		auth_login_limit_end(l, &b, 0, t + 1);
	}
	assert_int_equal(auth_login_limit_account_failures(l, "alice@example.test", t + 1), 5);
	/* the next new address is refused for the account, alice's own is not */
	struct login_slot b6 = slot("192.0.2.99", "alice@example.test");
	assert_int_equal(auth_login_limit_begin(l, &b6, t + 2), LOGIN_LIMIT_ACCOUNT);
	home = slot("203.0.113.5", "alice@example.test");
	assert_int_equal(auth_login_limit_begin(l, &home, t + 2), LOGIN_LIMIT_GO);
	auth_login_limit_end(l, &home, 1, t + 2);
	/* other accounts are not affected; after the window new addresses may try */
	struct login_slot bob = slot("192.0.2.99", "bob@example.test");
	assert_int_equal(auth_login_limit_begin(l, &bob, t + 2), LOGIN_LIMIT_GO);
	auth_login_limit_end(l, &bob, 1, t + 2);
	assert_int_equal(auth_login_limit_begin(l, &b6, t + 1 + LOGIN_LIMIT_WINDOW), LOGIN_LIMIT_GO);
	auth_login_limit_end(l, &b6, -1, t + 1 + LOGIN_LIMIT_WINDOW);
	/* the sweep a window later keeps alice (known addresses) and works on */
	struct login_slot again = slot("203.0.113.5", "alice@example.test");
	assert_int_equal(auth_login_limit_begin(l, &again, t + 10 * LOGIN_LIMIT_WINDOW), LOGIN_LIMIT_GO);
	auth_login_limit_end(l, &again, 1, t + 10 * LOGIN_LIMIT_WINDOW);
	auth_login_limit_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reservation),
		cmocka_unit_test(test_success_counts_nothing),
		cmocka_unit_test(test_in_flight_cap),
		cmocka_unit_test(test_account_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
