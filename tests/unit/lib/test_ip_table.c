/* test_ip_table.c: per-address and total connection counting, across threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ip_table.h"

#include <pthread.h>
#include <stdio.h>

static void test_limits(void **state)
{
	struct ip_table *t = ip_table_new();
	assert_int_equal(ip_table_acquire(t, "192.0.2.1", 2, 3), 1);
	assert_int_equal(ip_table_acquire(t, "192.0.2.1", 2, 3), 1);
	assert_int_equal(ip_table_acquire(t, "192.0.2.1", 2, 3), 0); /* per address */
	assert_int_equal(ip_table_count(t, "192.0.2.1"), 2);
	assert_int_equal(ip_table_acquire(t, "2001:db8::1", 2, 3), 1);
	assert_int_equal(ip_table_acquire(t, "2001:db8::2", 2, 3), -1); /* total */
	assert_int_equal(ip_table_total(t), 3);
	ip_table_release(t, "192.0.2.1");
	assert_int_equal(ip_table_count(t, "192.0.2.1"), 1);
	assert_int_equal(ip_table_acquire(t, "2001:db8::2", 2, 3), 1);
	ip_table_release(t, "192.0.2.1");
	ip_table_release(t, "2001:db8::1");
	ip_table_release(t, "2001:db8::2");
	ip_table_release(t, "198.51.100.9"); /* never counted: ignored */
	assert_int_equal(ip_table_total(t), 0);
	assert_int_equal(ip_table_count(t, "192.0.2.1"), 0);
	ip_table_free(&t);
	assert_null(t);
}

static void *hammer(void *arg)
{
	struct ip_table *t = arg;
	char ip[32];
	for (int round = 0; round < 2000; round++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", round % 7, round % 13);
		if (ip_table_acquire(t, ip, 1000, 1000000) == 1)
			ip_table_release(t, ip);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct ip_table *t = ip_table_new();
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, hammer, t);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(ip_table_total(t), 0);
	ip_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
