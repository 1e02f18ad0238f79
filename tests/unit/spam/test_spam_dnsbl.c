/* test_spam_dnsbl.c: the DNS blocklists (spam_dnsbl.h): spam.dnsbl's syntax, the
 * query names (IPv4 reversed octets, IPv6 reversed nibbles, RFC 5782 §2.1/§2.4),
 * what an answer means (127/8 lists, 127.255.255.x refuses our resolver, anything
 * else is not a listing), the verdict over several zones, and the asynchronous
 * check on a loop over libunbound's local data (listed, weighted, refusing, a zone
 * with no answer, cancel). */
#include "loop.h"
#include "spam_dnsbl.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_parse(void **state)
{
	struct arena *a = arena_new();
	struct spam_dnsbl_list l;
	const char *err = NULL;
	assert_int_equal(spam_dnsbl_parse("", a, &l, &err), 1);
	assert_int_equal(l.n, 0);
	assert_int_equal(spam_dnsbl_parse("zen.Example.test, bl.test=2.5  weighted.test.=0.5,", a, &l, &err), 1);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.zones[0].zone, "zen.example.test");
	assert_true(l.zones[0].weight == 0);
	assert_string_equal(l.zones[1].zone, "bl.test");
	assert_true(l.zones[1].weight == 2.5);
	assert_string_equal(l.zones[2].zone, "weighted.test");
	assert_true(l.zones[2].weight == 0.5);
	/* bad ones */
	const char *bad[] = { "a..b",         "bl.test=",         "bl.test=0", "bl.test=-1", "bl.test=x",
			      "bl.test=1001", "bl.test, BL.test", "b l@x",     "=2",         ".",
			      "bl.test=1e3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(spam_dnsbl_parse(bad[i], a, &l, &err), -1);
		assert_non_null(err);
	}
	/* a label of 64 octets, a 17th zone */
	char big[200];
	memset(big, 'a', 64);
	strcpy(big + 64, ".test");
	assert_int_equal(spam_dnsbl_parse(big, a, &l, &err), -1);
	char many[400] = "";
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "z%d.test,", i);
	assert_int_equal(spam_dnsbl_parse(many, a, &l, &err), -1);
	assert_string_equal(err, "too many zones (at most 16)");
	many[strlen(many) - 9] = '\0'; /* 16 of them */
	assert_int_equal(spam_dnsbl_parse(many, a, &l, &err), 1);
	assert_int_equal(l.n, 16);
	arena_free(&a);
}

static void test_query_name(void **state)
{
	struct arena *a = arena_new();
	assert_string_equal(spam_dnsbl_query_name("192.0.2.99", "zen.test", a), "99.2.0.192.zen.test");
	assert_string_equal(spam_dnsbl_query_name("127.0.0.2", "bl.test", a), "2.0.0.127.bl.test");
	/* RFC 5782 §2.4's example: 2001:db8:1:2:3:4:567:89ab */
	assert_string_equal(spam_dnsbl_query_name("2001:db8:1:2:3:4:567:89ab", "bad.example.com", a),
			    "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bad.example.com");
	assert_string_equal(spam_dnsbl_query_name("::1", "bl.test", a),
			    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test");
	assert_null(spam_dnsbl_query_name("not-an-ip", "bl.test", a));
	assert_null(spam_dnsbl_query_name("1.2.3", "bl.test", a));
	assert_null(spam_dnsbl_query_name("", "bl.test", a));
	arena_free(&a);
}

static struct dns_addr v4(int a, int b, int c, int d)
{
	return (struct dns_addr){ AF_INET, { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d } };
}

static void test_classify(void **state)
{
	char code[16];
	struct dns_addr l2 = v4(127, 0, 0, 2), r254 = v4(127, 255, 255, 254), pub = v4(192, 0, 2, 1);
	assert_int_equal(spam_dnsbl_classify(DNS_NONE, NULL, 0, code), SPAM_DNSBL_CLEAN);
	assert_string_equal(code, "");
	assert_int_equal(spam_dnsbl_classify(DNS_TEMP, NULL, 0, code), SPAM_DNSBL_TEMP);
	assert_int_equal(spam_dnsbl_classify(DNS_FOUND, &l2, 1, code), SPAM_DNSBL_LISTED);
	assert_string_equal(code, "127.0.0.2");
	assert_int_equal(spam_dnsbl_classify(DNS_FOUND, &r254, 1, code), SPAM_DNSBL_REFUSED_US);
	assert_string_equal(code, "127.255.255.254");
	assert_int_equal(spam_dnsbl_classify(DNS_FOUND, &pub, 1, code), SPAM_DNSBL_BOGUS);
	assert_string_equal(code, "");
	/* a listing and a refusal together: the listing wins */
	struct dns_addr both[] = { r254, pub, v4(127, 0, 0, 10) };
	assert_int_equal(spam_dnsbl_classify(DNS_FOUND, both, 3, code), SPAM_DNSBL_LISTED);
	assert_string_equal(code, "127.0.0.10");
	/* an IPv6 record is no listing */
	struct dns_addr six = { AF_INET6, { 127 } };
	assert_int_equal(spam_dnsbl_classify(DNS_FOUND, &six, 1, NULL), SPAM_DNSBL_BOGUS);
}

static void test_combine(void **state)
{
	struct arena *a = arena_new();
	struct spam_dnsbl_list l;
	const char *err;
	assert_int_equal(spam_dnsbl_parse("one.test two.test=1.5 three.test=2 four.test", a, &l, &err), 1);
	enum spam_dnsbl_state st[4] = { SPAM_DNSBL_CLEAN, SPAM_DNSBL_LISTED, SPAM_DNSBL_LISTED, SPAM_DNSBL_LISTED };
	char codes[4][16] = { "", "127.0.0.2", "127.0.0.3", "127.0.0.4" };
	struct spam_dnsbl_verdict v;
	spam_dnsbl_combine(&l, st, codes, a, &v);
	assert_string_equal(v.zone, "four.test");
	assert_string_equal(v.code, "127.0.0.4");
	assert_true(v.score == 3.5);
	assert_string_equal(v.weighted, "two.test three.test");
	/* refusals and timeouts list nobody */
	enum spam_dnsbl_state none[4] = { SPAM_DNSBL_REFUSED_US, SPAM_DNSBL_TEMP, SPAM_DNSBL_BOGUS, SPAM_DNSBL_CLEAN };
	spam_dnsbl_combine(&l, none, codes, a, &v);
	assert_null(v.zone);
	assert_null(v.code);
	assert_null(v.weighted);
	assert_true(v.score == 0);
	arena_free(&a);
}

/* ------------------------------------------------------------ lookups on a loop */

static const char *const local_data[] = {
	"local-zone: test. static",
	"2.0.0.127.deny.test. 300 IN A 127.0.0.2",
	"2.0.0.127.weight.test. 300 IN A 127.0.0.4",
	"2.0.0.127.quota.test. 300 IN A 127.255.255.254",
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.deny.test. 300 IN A 127.0.0.3",
	NULL,
};

struct result {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int calls;
	char zone[64], code[16], weighted[128];
	double score;
};

static void done(void *arg, const char *zone, const char *code, double score, const char *weighted)
{
	struct result *r = arg;
	pthread_mutex_lock(&r->lock);
	snprintf(r->zone, sizeof(r->zone), "%s", zone ? zone : "-");
	snprintf(r->code, sizeof(r->code), "%s", code ? code : "-");
	snprintf(r->weighted, sizeof(r->weighted), "%s", weighted ? weighted : "-");
	r->score = score;
	r->calls++;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

struct start {
	struct spam_dnsbl *b;
	const char *ip;
	struct result *r;
	bool cancel;
	bool started;
};

static void start_on_loop(void *arg)
{
	struct start *s = arg;
	struct spam_dnsbl_check *k = spam_dnsbl_start(s->b, s->ip, loop_current(), done, s->r);
	s->started = k != NULL;
	if (s->cancel)
		spam_dnsbl_cancel(&k);
}

static void run(struct loop *l, struct spam_dnsbl *b, const char *ip, struct result *r)
{
	int before = r->calls;
	struct start s = { b, ip, r, false, false };
	loop_call(l, start_on_loop, &s);
	assert_true(s.started);
	pthread_mutex_lock(&r->lock);
	while (r->calls == before)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

static void test_lookup(void **state)
{
	const char *err = NULL;
	struct dns *d = dns_new(&(struct dns_settings){ .local_data = local_data, .timeout_ms = 5000 }, &err);
	assert_non_null(d);
	assert_null(spam_dnsbl_new(d, "bad..zone", 0, &err));
	struct spam_dnsbl *b = spam_dnsbl_new(d, "quota.test, weight.test=3, deny.test, other.test=1", 0, &err);
	assert_non_null(b);
	assert_true(spam_dnsbl_enabled(b));
	struct loop *l = loop_new(0);
	assert_int_equal(loop_start(l, &err), 1);
	struct result r = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

	run(l, b, "127.0.0.2", &r); /* loopback gets no exemption */
	assert_string_equal(r.zone, "deny.test");
	assert_string_equal(r.code, "127.0.0.2");
	assert_string_equal(r.weighted, "weight.test");
	assert_true(r.score == 3);

	run(l, b, "::1", &r); /* IPv6: nibbles */
	assert_string_equal(r.zone, "deny.test");
	assert_string_equal(r.code, "127.0.0.3");
	assert_string_equal(r.weighted, "-");

	run(l, b, "192.0.2.1", &r); /* listed nowhere */
	assert_string_equal(r.zone, "-");
	assert_true(r.score == 0);

	/* nothing to ask: no callback */
	struct start s = { b, "not-an-ip", &r, false, true };
	loop_call(l, start_on_loop, &s);
	assert_false(s.started);
	/* a cancelled check never calls back; the next one does */
	int before = r.calls;
	s = (struct start){ b, "127.0.0.2", &r, true, false };
	for (int i = 0; i < 10; i++)
		loop_call(l, start_on_loop, &s);
	run(l, b, "192.0.2.1", &r);
	assert_int_equal(r.calls, before + 1);

	loop_stop_and_join(l);
	loop_free(&l);
	spam_dnsbl_free(&b);
	assert_null(b);
	/* a list refusing our resolver alone: nobody refused */
	b = spam_dnsbl_new(d, "quota.test", 0, &err);
	l = loop_new(0);
	assert_int_equal(loop_start(l, &err), 1);
	run(l, b, "127.0.0.2", &r);
	assert_string_equal(r.zone, "-");
	loop_stop_and_join(l);
	loop_free(&l);
	spam_dnsbl_free(&b);
	/* no zones: nothing enabled */
	b = spam_dnsbl_new(d, "", 0, &err);
	assert_false(spam_dnsbl_enabled(b));
	spam_dnsbl_free(&b);
	dns_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),   cmocka_unit_test(test_query_name), cmocka_unit_test(test_classify),
		cmocka_unit_test(test_combine), cmocka_unit_test(test_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
