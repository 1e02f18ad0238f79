/* test_dns.c: the resolver module. Record data parsing (dns_parse.c) over hand-made
 * wire bytes, hostile ones included; reverse names; dns.server parsing; the cache
 * (TTLs, negative entries, the bound); and the resolver on libunbound's local data
 * (blocking, asynchronous on a loop, cancel, many threads at once) and against a
 * loopback UDP socket that never answers (the per-question deadline). */
#include "dns.h"
#include "dns_int.h"
#include "loop.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

static int parse1(int type, const void *data, size_t len, struct arena *a, struct dns_answer *ans)
{
	const uint8_t *d[1] = { data };
	size_t l[1] = { len };
	const char *err = NULL;
	memset(ans, 0, sizeof(*ans));
	return dns_parse_rdata(type, d, l, 1, a, ans, &err);
}

static void test_parse_addresses(void **state)
{
	struct arena *a = arena_new();
	struct dns_answer ans;
	assert_int_equal(parse1(DNS_A, "\x7f\x00\x00\x02", 4, a, &ans), 1);
	assert_int_equal(ans.addrs[0].family, AF_INET);
	assert_memory_equal(ans.addrs[0].bytes, "\x7f\x00\x00\x02", 4);
	uint8_t six[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	assert_int_equal(parse1(DNS_AAAA, six, 16, a, &ans), 1);
	assert_int_equal(ans.addrs[0].family, AF_INET6);
	assert_memory_equal(ans.addrs[0].bytes, six, 16);
	/* wrong lengths are skipped; nothing usable is an error */
	assert_int_equal(parse1(DNS_A, "\x7f\x00\x00", 3, a, &ans), -1);
	assert_int_equal(parse1(DNS_AAAA, six, 4, a, &ans), -1);
	arena_free(&a);
}

static void test_parse_txt(void **state)
{
	struct arena *a = arena_new();
	struct dns_answer ans;
	/* two character-strings are one record, concatenated without a space */
	assert_int_equal(parse1(DNS_TXT, "\x07v=spf1 \x04-all", 13, a, &ans), 1);
	assert_string_equal(ans.txt[0].text, "v=spf1 -all");
	assert_int_equal(ans.txt[0].len, 11);
	/* an empty string is a record with empty text */
	assert_int_equal(parse1(DNS_TXT, "\x00", 1, a, &ans), 1);
	assert_string_equal(ans.txt[0].text, "");
	/* a NUL stays visible through len */
	assert_int_equal(parse1(DNS_TXT,
				"\x03"
				"a\0b",
				4, a, &ans),
			 1);
	assert_int_equal(ans.txt[0].len, 3);
	assert_int_equal(strlen(ans.txt[0].text), 1);
	/* a string running past the record is malformed */
	assert_int_equal(parse1(DNS_TXT, "\x09short", 6, a, &ans), -1);
	/* a huge record: 200 strings of 255 bytes */
	size_t n = 200 * 256;
	uint8_t *big = malloc(n);
	for (size_t i = 0; i < n; i += 256) {
		big[i] = 255;
		memset(big + i + 1, 'x', 255);
	}
	assert_int_equal(parse1(DNS_TXT, big, n, a, &ans), 1);
	assert_int_equal(ans.txt[0].len, 200 * 255);
	free(big);
	/* several records: the bad one is skipped */
	const uint8_t *d[3] = { (const uint8_t *)"\x01"
						 "a",
				(const uint8_t *)"\x05"
						 "b",
				(const uint8_t *)"\x01"
						 "c" };
	size_t l[3] = { 2, 2, 2 };
	const char *err = NULL;
	assert_int_equal(dns_parse_rdata(DNS_TXT, d, l, 3, a, &ans, &err), 2);
	assert_string_equal(ans.txt[0].text, "a");
	assert_string_equal(ans.txt[1].text, "c");
	arena_free(&a);
}

static void test_parse_names(void **state)
{
	struct arena *a = arena_new();
	struct dns_answer ans;
	assert_int_equal(parse1(DNS_MX,
				"\x00\x0a\x02mx\x07"
				"example\x04test\x00",
				19, a, &ans),
			 1);
	assert_int_equal(ans.mx[0].pref, 10);
	assert_string_equal(ans.mx[0].host, "mx.example.test");
	/* the null MX of RFC 7505 */
	assert_int_equal(parse1(DNS_MX, "\x00\x00\x00", 3, a, &ans), 1);
	assert_string_equal(ans.mx[0].host, "");
	assert_int_equal(parse1(DNS_PTR, "\x04host\x04test\x00", 11, a, &ans), 1);
	assert_string_equal(ans.names[0], "host.test");
	/* bytes that could smuggle a dot or a NUL into a name are escaped */
	assert_int_equal(parse1(DNS_PTR,
				"\x03"
				"a.b\x04te\0t\x00",
				10, a, &ans),
			 1);
	assert_string_equal(ans.names[0], "a\\046b.te\\000t");
	/* compression pointers, labels past the data, trailing bytes: malformed */
	assert_int_equal(parse1(DNS_PTR, "\xc0\x0c", 2, a, &ans), -1);
	assert_int_equal(parse1(DNS_PTR, "\x09host\x00", 6, a, &ans), -1);
	assert_int_equal(parse1(DNS_PTR, "\x04host\x00x", 7, a, &ans), -1);
	assert_int_equal(parse1(DNS_PTR, "\x04host", 5, a, &ans), -1);
	/* a name longer than 255 bytes */
	uint8_t longname[320];
	size_t o = 0;
	for (int i = 0; i < 5; i++) {
		longname[o++] = 59;
		memset(longname + o, 'a', 59);
		o += 59;
	}
	longname[o++] = 0;
	assert_int_equal(parse1(DNS_PTR, longname, o, a, &ans), -1);
	assert_int_equal(parse1(DNS_SRV, "\x00\x01\x00\x02\x01\xd1\x04imap\x04test\x00", 17, a, &ans), 1);
	assert_int_equal(ans.srv[0].prio, 1);
	assert_int_equal(ans.srv[0].weight, 2);
	assert_int_equal(ans.srv[0].port, 465);
	assert_string_equal(ans.srv[0].target, "imap.test");
	assert_int_equal(parse1(DNS_TLSA, "\x03\x01\x01\xab\xcd", 5, a, &ans), 1);
	assert_int_equal(ans.tlsa[0].usage, 3);
	assert_int_equal(ans.tlsa[0].selector, 1);
	assert_int_equal(ans.tlsa[0].mtype, 1);
	assert_int_equal(ans.tlsa[0].len, 2);
	assert_memory_equal(ans.tlsa[0].data, "\xab\xcd", 2);
	assert_int_equal(parse1(DNS_TLSA, "\x03\x01", 2, a, &ans), -1);
	assert_int_equal(parse1(99, "x", 1, a, &ans), -1);
	arena_free(&a);
}

static void test_reverse_and_names(void **state)
{
	struct arena *a = arena_new();
	assert_string_equal(dns_reverse_name(AF_INET, (const uint8_t *)"\x01\x02\x03\x04", a), "4.3.2.1.in-addr.arpa");
	uint8_t six[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x1f };
	assert_string_equal(dns_reverse_name(AF_INET6, six, a),
			    "f.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	assert_string_equal(dns_rrtype_name(DNS_TLSA), "TLSA");
	assert_null(dns_rrtype_name(999));
	arena_free(&a);
}

static void test_server_parse(void **state)
{
	char out[96];
	assert_int_equal(dns_server_parse("127.0.0.1:5353", out, sizeof(out)), 1);
	assert_string_equal(out, "127.0.0.1@5353");
	assert_int_equal(dns_server_parse("127.0.0.1", out, sizeof(out)), 1);
	assert_string_equal(out, "127.0.0.1@53");
	assert_int_equal(dns_server_parse("[::1]:5353", out, sizeof(out)), 1);
	assert_string_equal(out, "::1@5353");
	assert_int_equal(dns_server_parse("::1", out, sizeof(out)), 1);
	assert_string_equal(out, "::1@53");
	assert_int_equal(dns_server_parse("10.0.0.1@54", out, sizeof(out)), 1);
	assert_string_equal(out, "10.0.0.1@54");
	assert_int_equal(dns_server_parse("ns.example.test:53", out, sizeof(out)), -1);
	assert_int_equal(dns_server_parse("127.0.0.1:0", out, sizeof(out)), -1);
	assert_int_equal(dns_server_parse("127.0.0.1:99999", out, sizeof(out)), -1);
	assert_int_equal(dns_server_parse("127.0.0.1:53x", out, sizeof(out)), -1);
	assert_int_equal(dns_server_parse("[::1", out, sizeof(out)), -1);
	assert_int_equal(dns_server_parse("", out, sizeof(out)), -1);
}

static struct dns_raw *raw_a(unsigned ttl, uint8_t last)
{
	uint8_t addr[4] = { 127, 0, 0, last };
	const uint8_t *d[1] = { addr };
	size_t l[1] = { 4 };
	return dns_raw_new(DNS_FOUND, false, ttl, NULL, d, l, 1);
}

static void test_cache(void **state)
{
	struct dns_cache *c = dns_cache_new(2);
	struct arena *a = arena_new();
	struct dns_answer ans;
	const char *err;
	struct dns_raw *r = raw_a(10, 1);
	dns_cache_put(c, "a.test", DNS_A, r, 1000);
	free(r);
	/* case does not matter; the remaining TTL is given */
	struct dns_raw *hit = dns_cache_get(c, "A.Test", DNS_A, 6000);
	assert_non_null(hit);
	assert_int_equal(dns_raw_answer(hit, DNS_A, a, &ans, &err), DNS_FOUND);
	assert_true(ans.cached);
	assert_int_equal(ans.ttl, 5);
	assert_int_equal(ans.addrs[0].bytes[3], 1);
	free(hit);
	assert_null(dns_cache_get(c, "a.test", DNS_AAAA, 6000));
	/* expired: gone */
	assert_null(dns_cache_get(c, "a.test", DNS_A, 11000));
	assert_int_equal(dns_cache_count(c), 0);
	/* negative answers are kept too, NXDOMAIN told apart from NODATA */
	r = dns_raw_new(DNS_NONE, true, 60, NULL, NULL, NULL, 0);
	dns_cache_put(c, "nx.test", DNS_TXT, r, 0);
	free(r);
	hit = dns_cache_get(c, "nx.test", DNS_TXT, 1000);
	assert_non_null(hit);
	assert_int_equal(dns_raw_answer(hit, DNS_TXT, a, &ans, &err), DNS_NONE);
	assert_true(ans.nxdomain);
	free(hit);
	/* TTL 0 and temporary errors are not kept */
	r = raw_a(0, 2);
	dns_cache_put(c, "zero.test", DNS_A, r, 0);
	free(r);
	r = dns_raw_error("DNS SERVFAIL");
	dns_cache_put(c, "fail.test", DNS_A, r, 0);
	free(r);
	assert_null(dns_cache_get(c, "zero.test", DNS_A, 0));
	assert_null(dns_cache_get(c, "fail.test", DNS_A, 0));
	/* bounded: the least recently used goes */
	r = raw_a(100, 3);
	dns_cache_put(c, "b.test", DNS_A, r, 0);
	free(r);
	free(dns_cache_get(c, "nx.test", DNS_TXT, 0)); /* nx.test is now the newest */
	r = raw_a(100, 4);
	dns_cache_put(c, "c.test", DNS_A, r, 0);
	free(r);
	assert_int_equal(dns_cache_count(c), 2);
	assert_null(dns_cache_get(c, "b.test", DNS_A, 0));
	free(dns_cache_get(c, "nx.test", DNS_TXT, 0));
	/* a TTL of a week is capped at a day, a negative one at an hour */
	r = raw_a(7 * 86400, 5);
	dns_cache_put(c, "long.test", DNS_A, r, 0);
	free(r);
	hit = dns_cache_get(c, "long.test", DNS_A, 0);
	assert_int_equal(hit->ttl, 86400);
	free(hit);
	r = dns_raw_new(DNS_NONE, false, 86400, NULL, NULL, NULL, 0);
	dns_cache_put(c, "neg.test", DNS_A, r, 0);
	free(r);
	hit = dns_cache_get(c, "neg.test", DNS_A, 0);
	assert_int_equal(hit->ttl, 3600);
	free(hit);
	dns_cache_free(&c);
	assert_null(c);
	arena_free(&a);
}

static void test_raw_answer_malformed(void **state)
{
	struct arena *a = arena_new();
	struct dns_answer ans;
	const char *err = NULL;
	const uint8_t *d[1] = { (const uint8_t *)"\x7f" };
	size_t l[1] = { 1 };
	struct dns_raw *r = dns_raw_new(DNS_FOUND, false, 60, "canon.test", d, l, 1);
	assert_int_equal(dns_raw_answer(r, DNS_A, a, &ans, &err), DNS_TEMP);
	assert_non_null(err);
	assert_string_equal(ans.canon, "canon.test");
	free(r);
	arena_free(&a);
}

/* ------------------------------------------------------------ resolver */

static const char *const local_data[] = {
	"local-zone: test. static",
	"mx.example.test. 300 IN A 127.0.0.9",
	"example.test. 300 IN MX 10 mx.example.test.",
	"example.test. 300 IN TXT \"v=spf1 \" \"-all\"",
	"9.0.0.127.in-addr.arpa. 300 IN PTR mx.example.test.",
	NULL,
};

static struct dns *local_dns(unsigned cache_entries)
{
	struct dns_settings s = { .local_data = local_data, .timeout_ms = 5000, .cache_entries = cache_entries };
	const char *err = NULL;
	struct dns *d = dns_new(&s, &err);
	assert_non_null(d);
	return d;
}

static void test_resolver_blocking(void **state)
{
	struct dns *d = local_dns(0);
	struct arena *a = arena_new();
	struct dns_answer ans;
	const char *err = NULL;
	assert_int_equal(dns_query_wait(d, "example.test.", DNS_MX, 0, a, &ans, &err), DNS_FOUND);
	assert_int_equal(ans.n, 1);
	assert_string_equal(ans.mx[0].host, "mx.example.test");
	assert_false(ans.cached);
	assert_int_equal(dns_query_wait(d, "example.test", DNS_TXT, 0, a, &ans, &err), DNS_FOUND);
	assert_string_equal(ans.txt[0].text, "v=spf1 -all");
	uint8_t ip[4] = { 127, 0, 0, 9 };
	assert_int_equal(dns_query_wait(d, dns_reverse_name(AF_INET, ip, a), DNS_PTR, 0, a, &ans, &err), DNS_FOUND);
	assert_string_equal(ans.names[0], "mx.example.test");
	/* asked again: from the cache */
	assert_int_equal(dns_query_wait(d, "EXAMPLE.test", DNS_MX, 0, a, &ans, &err), DNS_FOUND);
	assert_true(ans.cached);
	/* NXDOMAIN vs NODATA */
	assert_int_equal(dns_query_wait(d, "nothing.example.test", DNS_A, 0, a, &ans, &err), DNS_NONE);
	assert_true(ans.nxdomain);
	assert_int_equal(dns_query_wait(d, "mx.example.test", DNS_AAAA, 0, a, &ans, &err), DNS_NONE);
	assert_false(ans.nxdomain);
	/* names no query should carry */
	assert_int_equal(dns_query_wait(d, "a..test", DNS_A, 0, a, &ans, &err), DNS_TEMP);
	assert_int_equal(dns_query_wait(d, "", DNS_A, 0, a, &ans, &err), DNS_TEMP);
	assert_int_equal(dns_query_wait(d, "a b.test", DNS_A, 0, a, &ans, &err), DNS_TEMP);
	dns_free(&d);
	assert_null(d);
	arena_free(&a);
}

struct async_ctx {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int answers;
	int status;
	char host[256];
	struct dns_req *req;
};

static void async_done(void *arg, const struct dns_answer *ans)
{
	struct async_ctx *c = arg;
	pthread_mutex_lock(&c->lock);
	c->req = NULL;
	c->status = ans->status;
	if (ans->status == DNS_FOUND && ans->rrtype == DNS_MX)
		snprintf(c->host, sizeof(c->host), "%s", ans->mx[0].host);
	c->answers++;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

struct ask {
	struct dns *d;
	struct async_ctx *c;
	const char *name;
	int type;
	bool cancel;
};

static void ask_on_loop(void *arg)
{
	struct ask *q = arg;
	q->c->req = dns_query_async(q->d, q->name, q->type, 0, loop_current(), async_done, q->c);
	if (q->cancel)
		dns_cancel(&q->c->req);
}

static void test_resolver_async(void **state)
{
	struct dns *d = local_dns(DNS_CACHE_OFF);
	struct loop *l = loop_new(0);
	const char *err = NULL;
	assert_int_equal(loop_start(l, &err), 1);
	struct async_ctx c = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	struct ask q = { d, &c, "example.test", DNS_MX, false };
	loop_call(l, ask_on_loop, &q);
	pthread_mutex_lock(&c.lock);
	while (c.answers == 0)
		pthread_cond_wait(&c.cond, &c.lock);
	pthread_mutex_unlock(&c.lock);
	assert_int_equal(c.status, DNS_FOUND);
	assert_string_equal(c.host, "mx.example.test");
	/* cancelled requests never call back; the one after them does */
	q.cancel = true;
	for (int i = 0; i < 20; i++)
		loop_call(l, ask_on_loop, &q);
	q.cancel = false;
	q.name = "nothing.test";
	loop_call(l, ask_on_loop, &q);
	pthread_mutex_lock(&c.lock);
	while (c.answers < 2)
		pthread_cond_wait(&c.cond, &c.lock);
	pthread_mutex_unlock(&c.lock);
	assert_int_equal(c.status, DNS_NONE);
	loop_stop_and_join(l);
	assert_int_equal(c.answers, 2);
	loop_free(&l);
	dns_free(&d);
}

struct worker {
	struct dns *d;
	int found;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct arena *a = arena_new();
	for (int i = 0; i < 200; i++) {
		struct dns_answer ans;
		const char *err = NULL;
		const char *name = i % 2 ? "example.test" : "mx.example.test";
		int type = i % 2 ? DNS_TXT : DNS_A;
		if (dns_query_wait(w->d, name, type, 0, a, &ans, &err) == DNS_FOUND && ans.n == 1)
			w->found++;
		arena_clear(a);
	}
	arena_free(&a);
	return NULL;
}

/* Eight threads ask at once through one struct dns (cache off: every question goes
 * through libunbound and the resolver thread). */
static void test_resolver_threads(void **state)
{
	struct dns *d = local_dns(DNS_CACHE_OFF);
	pthread_t t[8];
	struct worker w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){ d, 0 };
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].found, 200);
	}
	dns_free(&d);
}

/* A server that never answers: the question ends at its deadline with a temporary
 * error, and the resolver still works for the next one. */
static void test_resolver_deadline(void **state)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	socklen_t sl = sizeof(sin);
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	char server[64];
	snprintf(server, sizeof(server), "127.0.0.1:%u", ntohs(sin.sin_port));
	struct dns_settings s = { .server = server, .timeout_ms = 300 };
	const char *err = NULL;
	struct dns *d = dns_new(&s, &err);
	assert_non_null(d);
	struct arena *a = arena_new();
	struct dns_answer ans;
	assert_int_equal(dns_query_wait(d, "silent.test", DNS_TXT, 0, a, &ans, &err), DNS_TEMP);
	assert_string_equal(err, "DNS timeout");
	assert_int_equal(dns_query_wait(d, "silent2.test", DNS_A, 100, a, &ans, &err), DNS_TEMP);
	assert_string_equal(ans.error, "DNS timeout");
	/* an asynchronous question too */
	struct loop *l = loop_new(0);
	assert_int_equal(loop_start(l, &err), 1);
	struct async_ctx c = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	struct ask q = { d, &c, "silent3.test", DNS_MX, false };
	loop_call(l, ask_on_loop, &q);
	pthread_mutex_lock(&c.lock);
	while (c.answers == 0)
		pthread_cond_wait(&c.cond, &c.lock);
	pthread_mutex_unlock(&c.lock);
	assert_int_equal(c.status, DNS_TEMP);
	loop_stop_and_join(l);
	loop_free(&l);
	dns_free(&d);
	arena_free(&a);
	close(fd);
	/* a bad server address is refused at once */
	s.server = "dns.example.test";
	assert_null(dns_new(&s, &err));
	assert_non_null(strstr(err, "IP address"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_addresses),      cmocka_unit_test(test_parse_txt),
		cmocka_unit_test(test_parse_names),          cmocka_unit_test(test_reverse_and_names),
		cmocka_unit_test(test_server_parse),         cmocka_unit_test(test_cache),
		cmocka_unit_test(test_raw_answer_malformed), cmocka_unit_test(test_resolver_blocking),
		cmocka_unit_test(test_resolver_async),       cmocka_unit_test(test_resolver_threads),
		cmocka_unit_test(test_resolver_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
