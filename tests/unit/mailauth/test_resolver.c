/* test_resolver.c: the checks' DNS over the real resolver (mailauth_resolver.h over
 * src/dns with libunbound answering from local data, no network): answers in the
 * checks' shapes (TXT strings joined, MX, A/AAAA, PTR by address), NXDOMAIN as none,
 * the message's deadline (a question after it is not asked), a missing resolver,
 * and iprev and DMARC through it. */
#include "dmarc.h"
#include "dns.h"
#include "iprev.h"
#include "mailauth_resolver.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>

static const char *const local_data[] = {
	"local-zone: test. static",
	"mail.example.test. 300 IN A 192.0.2.25",
	"mail.example.test. 300 IN AAAA 2001:db8::25",
	"example.test. 300 IN MX 10 mail.example.test.",
	"example.test. 300 IN TXT \"v=spf1 \" \"mx -all\"",
	"_dmarc.example.test. 300 IN TXT \"v=DMARC1; p=quarantine\"",
	"25.2.0.192.in-addr.arpa. 300 IN PTR mail.example.test.",
	NULL,
};

static struct dns *local_dns(void)
{
	struct dns_settings s = { .local_data = local_data, .timeout_ms = 5000 };
	const char *err = NULL;
	struct dns *d = dns_new(&s, &err);
	assert_non_null(d);
	return d;
}

static void answers(void **state)
{
	(void)state;
	struct dns *d = local_dns();
	struct arena *a = arena_new();
	struct mailauth_resolver r;
	mailauth_resolver_init(&r, d, 0, 10000);
	struct mailauth_dns dns = mailauth_resolver_dns(&r);

	const char **txt;
	size_t n;
	assert_int_equal(dns.txt(dns.ctx, "example.test", a, &txt, &n), MAILAUTH_DNS_FOUND);
	assert_int_equal(n, 1);
	assert_string_equal(txt[0], "v=spf1 mx -all");
	assert_int_equal(dns.txt(dns.ctx, "nothing.example.test", a, &txt, &n), MAILAUTH_DNS_NONE);

	const struct mailauth_mx *mx;
	assert_int_equal(dns.mx(dns.ctx, "example.test", a, &mx, &n), MAILAUTH_DNS_FOUND);
	assert_int_equal(n, 1);
	assert_int_equal(mx[0].pref, 10);
	assert_string_equal(mx[0].host, "mail.example.test");

	const struct mailauth_addr *addrs;
	assert_int_equal(dns.addr(dns.ctx, "mail.example.test", AF_INET6, a, &addrs, &n), MAILAUTH_DNS_FOUND);
	struct mailauth_addr want;
	assert_int_equal(mailauth_addr_parse("2001:db8::25", &want), 1);
	assert_int_equal(addrs[0].family, AF_INET6);
	assert_memory_equal(addrs[0].bytes, want.bytes, 16);

	const char **names;
	assert_int_equal(mailauth_addr_parse("192.0.2.25", &want), 1);
	assert_int_equal(dns.ptr(dns.ctx, &want, a, &names, &n), MAILAUTH_DNS_FOUND);
	assert_string_equal(names[0], "mail.example.test");

	/* the checks through it */
	const char *name;
	assert_int_equal(iprev_check(&dns, &want, IPREV_MAX_NAMES, a, &name), MAILAUTH_PASS);
	assert_string_equal(name, "mail.example.test");
	struct dmarc_input in = { .from_domain = "news.example.test", .spf = MAILAUTH_FAIL };
	struct dmarc_outcome out;
	assert_int_equal(dmarc_check(&dns, &in, a, &out), MAILAUTH_FAIL);
	assert_int_equal(out.disposition, DMARC_POLICY_QUARANTINE);
	assert_string_equal(out.policy_domain, "example.test");
	assert_true(r.questions >= 9);
	assert_int_equal(r.expired, 0);
	arena_free(&a);
	dns_free(&d);
}

/* Past the message's deadline nothing is asked: temperror at once. */
static void deadline(void **state)
{
	(void)state;
	struct dns *d = local_dns();
	struct arena *a = arena_new();
	struct mailauth_resolver r;
	mailauth_resolver_init(&r, d, 0, 0);
	struct mailauth_dns dns = mailauth_resolver_dns(&r);
	const char **txt;
	size_t n;
	assert_int_equal(dns.txt(dns.ctx, "example.test", a, &txt, &n), MAILAUTH_DNS_TEMP);
	struct mailauth_addr ip;
	mailauth_addr_parse("192.0.2.25", &ip);
	const char *name;
	assert_int_equal(iprev_check(&dns, &ip, IPREV_MAX_NAMES, a, &name), MAILAUTH_TEMPERROR);
	assert_int_equal(r.questions, 0);
	assert_int_equal(r.expired, 2);
	/* no resolver at all: the same */
	mailauth_resolver_init(&r, NULL, 0, 10000);
	dns = mailauth_resolver_dns(&r);
	assert_int_equal(dns.txt(dns.ctx, "example.test", a, &txt, &n), MAILAUTH_DNS_TEMP);
	assert_int_equal(r.expired, 1);
	arena_free(&a);
	dns_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(answers),
		cmocka_unit_test(deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
