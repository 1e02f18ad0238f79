/* test_ip_table.c: per-address and total connection counting, across threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ip_table.h"
#include "net.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

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

/* net_addr_key: IPv4 as it is, IPv4-mapped as IPv4, IPv6 by /64 */
static void key_is(const char *ip, const char *want)
{
	char out[NET_ADDR_MAX];
	net_addr_key(ip, out);
	if (strcmp(out, want) != 0)
		fail_msg("%s -> %s, want %s", ip, out, want);
}

static void test_addr_key(void **state)
{
	(void)state;
	key_is("192.0.2.1", "192.0.2.1");
	key_is("::ffff:192.0.2.1", "192.0.2.1");
	key_is("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64");
	key_is("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64");
	key_is("2001:db8:1:3::1", "2001:db8:1:3::/64");
	key_is("2001:0DB8:0001:0002::", "2001:db8:1:2::/64");
	key_is("::1", "::/64");
	key_is("fe80::1", "fe80::/64");
	key_is("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff::/64");
	key_is("unknown", "unknown");
	key_is("", "");
}

/* the connection limit counts a whole /64 as one address */
static void test_ipv6_prefix(void **state)
{
	(void)state;
	struct ip_table *t = ip_table_new();
	assert_int_equal(ip_table_acquire(t, "2001:db8:1:2::1", 2, 100), 1);
	assert_int_equal(ip_table_acquire(t, "2001:db8:1:2::2", 2, 100), 1);
	assert_int_equal(ip_table_acquire(t, "2001:db8:1:2:abcd::3", 2, 100), 0);
	assert_int_equal(ip_table_acquire(t, "2001:db8:1:3::1", 2, 100), 1);
	assert_int_equal(ip_table_count(t, "2001:db8:1:2::99"), 2);
	ip_table_release(t, "2001:db8:1:2::1");
	assert_int_equal(ip_table_acquire(t, "2001:db8:1:2::7", 2, 100), 1);
	assert_int_equal(ip_table_acquire(t, "::ffff:198.51.100.1", 1, 100), 1);
	assert_int_equal(ip_table_acquire(t, "198.51.100.1", 1, 100), 0);
	ip_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_addr_key),
		cmocka_unit_test(test_ipv6_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
