/* test_send_limit.c: the per-account hourly counters (src/submit/send_limit.c) with
 * their own clock: the sliding window of 60 one-minute buckets, the caps (0 =
 * unlimited), giving a counted message back, the one warning per account per hour,
 * the memory bound (entries of idle accounts are dropped) and the lock (threads
 * taking at once never overshoot a cap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>

#include "send_limit.h"

#define T0 (60 * 20000) /* seconds of the test clock, at the start of a minute */

static const struct send_limit_caps caps_m3 = { .messages = 3 };

static int take(struct send_limit *l, int64_t acct, const struct send_limit_caps *c, uint64_t rcpts, int64_t now)
{
	struct send_limit_ticket t;
	struct send_limit_refusal r;
	return send_limit_take(l, acct, c, rcpts, now, &t, &r);
}

static void sliding_window(void **state)
{
	struct send_limit *l = send_limit_new();
	assert_int_equal(take(l, 1, &caps_m3, 1, T0), 1);           /* minute 0 */
	assert_int_equal(take(l, 1, &caps_m3, 1, T0 + 30 * 60), 1); /* minute 30 */
	assert_int_equal(take(l, 1, &caps_m3, 1, T0 + 59 * 60), 1); /* minute 59 */
	struct send_limit_refusal r;
	assert_int_equal(send_limit_check(l, 1, &caps_m3, 1, 1, T0 + 59 * 60 + 59, &r), 0);
	assert_string_equal(r.kind, "messages");
	assert_int_equal(r.limit, 3);
	/* a fixed window would reset here; the sliding one frees only the first message */
	assert_int_equal(take(l, 1, &caps_m3, 1, T0 + 60 * 60), 1);
	assert_int_equal(take(l, 1, &caps_m3, 1, T0 + 60 * 60 + 10), 0);
	uint64_t m, rc;
	send_limit_counts(l, 1, T0 + 60 * 60, &m, &rc);
	assert_int_equal(m, 3);
	assert_int_equal(rc, 3);
	/* after a whole idle hour everything is free again */
	send_limit_counts(l, 1, T0 + 3 * 60 * 60, &m, &rc);
	assert_int_equal(m, 0);
	assert_int_equal(rc, 0);
	/* other accounts are separate */
	assert_int_equal(take(l, 2, &caps_m3, 1, T0 + 60 * 60 + 10), 1);
	send_limit_free(&l);
	assert_null(l);
}

static void caps_and_zero(void **state)
{
	struct send_limit *l = send_limit_new();
	struct send_limit_caps rc5 = { .recipients = 5 };
	struct send_limit_refusal r;
	assert_int_equal(take(l, 7, &rc5, 3, T0), 1);
	assert_int_equal(send_limit_check(l, 7, &rc5, 1, 2, T0, &r), 1);
	assert_int_equal(send_limit_check(l, 7, &rc5, 1, 3, T0, &r), 0);
	assert_string_equal(r.kind, "recipients");
	assert_int_equal(take(l, 7, &rc5, 3, T0), 0);
	assert_int_equal(take(l, 7, &rc5, 2, T0), 1);
	/* both caps: messages is named first */
	struct send_limit_caps both = { .messages = 2, .recipients = 5 };
	assert_int_equal(send_limit_check(l, 7, &both, 1, 1, T0, &r), 0);
	assert_string_equal(r.kind, "messages");
	/* 0 is unlimited */
	struct send_limit_caps none = { 0 };
	for (int i = 0; i < 1000; i++)
		assert_int_equal(take(l, 7, &none, 100, T0), 1);
	send_limit_free(&l);
}

static void release_gives_back(void **state)
{
	struct send_limit *l = send_limit_new();
	struct send_limit_caps c = { .messages = 1, .recipients = 4 };
	struct send_limit_ticket t;
	struct send_limit_refusal r;
	assert_int_equal(send_limit_take(l, 1, &c, 4, T0, &t, &r), 1);
	assert_true(t.counted);
	assert_int_equal(take(l, 1, &c, 1, T0), 0);
	send_limit_release(l, &t, T0 + 5);
	assert_false(t.counted);
	send_limit_release(l, &t, T0 + 5); /* twice: nothing more */
	uint64_t m, rc;
	send_limit_counts(l, 1, T0 + 5, &m, &rc);
	assert_int_equal(m, 0);
	assert_int_equal(rc, 0);
	/* a refused take has nothing to give back */
	assert_int_equal(send_limit_take(l, 1, &c, 4, T0 + 5, &t, &r), 1);
	struct send_limit_ticket t2;
	assert_int_equal(send_limit_take(l, 1, &c, 1, T0 + 5, &t2, &r), 0);
	assert_false(t2.counted);
	send_limit_release(l, &t2, T0 + 5);
	send_limit_counts(l, 1, T0 + 5, &m, &rc);
	assert_int_equal(m, 1);
	/* a ticket from outside the window changes nothing */
	send_limit_release(l, &t, T0 + 2 * 60 * 60);
	assert_int_equal(take(l, 1, &c, 4, T0 + 2 * 60 * 60), 1);
	send_limit_free(&l);
}

static void warning_once_per_hour(void **state)
{
	struct send_limit *l = send_limit_new();
	assert_int_equal(take(l, 1, &caps_m3, 1, T0), 1);
	assert_int_equal(take(l, 1, &caps_m3, 1, T0), 1);
	assert_int_equal(take(l, 1, &caps_m3, 1, T0), 1);
	struct send_limit_ticket t;
	struct send_limit_refusal r;
	assert_int_equal(send_limit_take(l, 1, &caps_m3, 1, T0 + 1, &t, &r), 0);
	assert_true(r.first);
	assert_int_equal(send_limit_check(l, 1, &caps_m3, 1, 1, T0 + 2, &r), 0);
	assert_false(r.first);
	assert_int_equal(send_limit_take(l, 1, &caps_m3, 1, T0 + 59 * 60, &t, &r), 0);
	assert_false(r.first);
	/* an hour after the warning, with the account at its cap again: a new warning */
	for (int i = 0; i < 3; i++)
		assert_int_equal(take(l, 1, &caps_m3, 1, T0 + 61 * 60), 1);
	assert_int_equal(send_limit_check(l, 1, &caps_m3, 1, 1, T0 + 61 * 60 + 1, &r), 0);
	assert_true(r.first);
	send_limit_free(&l);
}

static void memory_bound(void **state)
{
	struct send_limit *l = send_limit_new();
	struct send_limit_caps c = { .messages = 10 };
	for (int64_t a = 1; a <= 5000; a++)
		assert_int_equal(take(l, a, &c, 1, T0), 1);
	assert_int_equal(send_limit_entries(l, T0), 5000);
	for (int64_t a = 1; a <= 5000; a++) {
		uint64_t m, rc;
		send_limit_counts(l, a, T0, &m, &rc);
		assert_int_equal(m, 1);
	}
	/* half of them send again half an hour later */
	for (int64_t a = 1; a <= 2500; a++)
		assert_int_equal(take(l, a, &c, 1, T0 + 30 * 60), 1);
	assert_int_equal(send_limit_entries(l, T0 + 30 * 60), 5000);
	/* an hour after the first sends only the second half-hour's senders remain */
	assert_int_equal(send_limit_entries(l, T0 + 60 * 60 + 1), 2500);
	assert_int_equal(send_limit_entries(l, T0 + 91 * 60), 0);
	send_limit_free(&l);
}

struct race {
	struct send_limit *l;
	int ok;
};

static void *racer(void *arg)
{
	struct race *r = arg;
	struct send_limit_caps c = { .messages = 500, .recipients = 1200 };
	for (int i = 0; i < 1000; i++)
		r->ok += take(r->l, 42, &c, 2, T0);
	return NULL;
}

static void threads_never_overshoot(void **state)
{
	struct send_limit *l = send_limit_new();
	pthread_t th[4];
	struct race rs[4];
	for (int i = 0; i < 4; i++) {
		rs[i] = (struct race){ l, 0 };
		pthread_create(&th[i], NULL, racer, &rs[i]);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += rs[i].ok;
	}
	assert_int_equal(total, 500); /* messages first: 500 * 2 recipients <= 1200 */
	uint64_t m, rc;
	send_limit_counts(l, 42, T0, &m, &rc);
	assert_int_equal(m, 500);
	assert_int_equal(rc, 1000);
	send_limit_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sliding_window),     cmocka_unit_test(caps_and_zero),
		cmocka_unit_test(release_gives_back), cmocka_unit_test(warning_once_per_hour),
		cmocka_unit_test(memory_bound),       cmocka_unit_test(threads_never_overshoot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
