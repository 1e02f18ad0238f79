/* test_iprev.c: iprev (iprev.h, RFC 8601 §3) over a DNS table in memory: pass when
 * one PTR name resolves back, fail without a PTR or a way back, temperror when a
 * failure may hide a pass, permerror for unusable names, the bound on names. */
#include "dns_table.h"
#include "iprev.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static const struct dns_row zone[] = {
	{ "PTR", "192.0.2.1", "mail.example.com" },
	{ "A", "mail.example.com", "192.0.2.1" },
	{ "PTR", "192.0.2.2", "liar.example.com" },
	{ "A", "liar.example.com", "198.51.100.7" },
	{ "PTR", "192.0.2.3", "first.example.com" },
	{ "PTR", "192.0.2.3", "second.example.com" },
	{ "A", "second.example.com", "192.0.2.3" },
	{ "PTR", "192.0.2.4", NULL },
	{ "PTR", "192.0.2.5", "slow.example.com" },
	{ "A", "slow.example.com", NULL },
	{ "PTR", "192.0.2.6", "bad name!" },
	{ "PTR", "2001:db8::25", "v6.example.com" },
	{ "AAAA", "v6.example.com", "2001:db8::25" },
	{ "A", "v6.example.com", "2001:db8::25" }, /* never asked: the family is AAAA */
	{ "PTR", "192.0.2.9", "n1.example.com" },
	{ "PTR", "192.0.2.9", "n2.example.com" },
	{ "PTR", "192.0.2.9", "n3.example.com" },
	{ "A", "n3.example.com", "192.0.2.9" },
};

static enum mailauth_result check(const char *ip, size_t max, const char **name_r, unsigned *questions_r)
{
	struct dns_table t = DNS_TABLE(zone);
	struct mailauth_dns dns = dns_table_dns(&t);
	struct mailauth_addr addr;
	assert_int_equal(mailauth_addr_parse(ip, &addr), 1);
	static struct arena *a;
	if (a == NULL)
		a = arena_new(); /* kept: the names live in it; freed by the process */
	enum mailauth_result r = iprev_check(&dns, &addr, max, a, name_r);
	if (questions_r)
		*questions_r = t.questions;
	return r;
}

static void results(void **state)
{
	(void)state;
	const char *name;
	unsigned q;
	assert_int_equal(check("192.0.2.1", IPREV_MAX_NAMES, &name, &q), MAILAUTH_PASS);
	assert_string_equal(name, "mail.example.com");
	assert_int_equal(q, 2);
	assert_int_equal(check("192.0.2.2", IPREV_MAX_NAMES, &name, NULL), MAILAUTH_FAIL);
	assert_null(name);
	assert_int_equal(check("192.0.2.3", IPREV_MAX_NAMES, &name, NULL), MAILAUTH_PASS);
	assert_string_equal(name, "second.example.com");
	assert_int_equal(check("192.0.2.4", IPREV_MAX_NAMES, &name, NULL), MAILAUTH_TEMPERROR);
	assert_int_equal(check("192.0.2.5", IPREV_MAX_NAMES, &name, NULL), MAILAUTH_TEMPERROR);
	assert_int_equal(check("192.0.2.6", IPREV_MAX_NAMES, &name, &q), MAILAUTH_PERMERROR);
	assert_int_equal(q, 1); /* an unusable name is never asked about */
	assert_int_equal(check("192.0.2.99", IPREV_MAX_NAMES, &name, NULL), MAILAUTH_FAIL); /* no PTR */
	assert_int_equal(check("2001:db8::25", IPREV_MAX_NAMES, &name, NULL), MAILAUTH_PASS);
	assert_string_equal(name, "v6.example.com");
}

/* Only the first max names of the PTR answer are followed. */
static void bounded(void **state)
{
	(void)state;
	const char *name;
	unsigned q;
	assert_int_equal(check("192.0.2.9", 3, &name, &q), MAILAUTH_PASS);
	assert_int_equal(q, 4);
	assert_int_equal(check("192.0.2.9", 2, &name, &q), MAILAUTH_FAIL);
	assert_int_equal(q, 3);
}

static void addresses(void **state)
{
	(void)state;
	struct mailauth_addr a;
	assert_int_equal(mailauth_addr_parse("192.0.2.1", &a), 1);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.bytes[3], 1);
	assert_int_equal(mailauth_addr_parse("::1", &a), 1);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(mailauth_addr_parse("192.0.2", &a), -1);
	assert_int_equal(mailauth_addr_parse("", &a), -1);
	assert_int_equal(mailauth_addr_parse("[::1]", &a), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(results),
		cmocka_unit_test(bounded),
		cmocka_unit_test(addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
