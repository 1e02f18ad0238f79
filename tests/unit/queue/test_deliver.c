/* test_deliver.c: the queue delivering over loopback to a scripted SMTP server (a
 * thread of this test, fake_smtp.c). Recipients decide the server's answer by their
 * local part: "bad..." gets 550 5.1.1, "later..." 451 4.3.0, anything else 250. Covered: routes,
 * MX / implicit MX / null MX / NXDOMAIN through resolver data (no real DNS), per-
 * recipient results with PIPELINING and without, HELO after a refused EHLO, dot-
 * stuffing, bounces with the null sender, retries with backoff, expiry, a
 * destination that is down and then up across a restart, flush, and STARTTLS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/ssl.h>

#include "fake_smtp.h"
#include "helpers.h"
#include "queue_int.h"
#include "tls.h"

/* ---------------------------------------------------------------- tests */

static void test_route_results_and_bounce(void **state)
{
	struct fake *f = fake_start();
	char *dir = make_tmpdir();
	struct queue_route routes[] = { { .domain = "*", .host = "127.0.0.1", .port = f->port } };
	struct queue_settings s = settings(routes, 1);
	s.lifetime = 4;
	const char *err = NULL;
	struct queue *q = queue_open(dir, &s, &err);
	assert_non_null(q);
	assert_int_equal(queue_start(q, &err), 1);
	const char *rcpts[] = { "ok1@remote.test", "bad1@remote.test", "later1@remote.test", "ok2@other.test" };
	submit(q, "alice@example.test", rcpts, 4, TEST_MESSAGE);

	/* ok1 and ok2 delivered (two destinations: two transactions), with the dots */
	WAIT_FOR(fake_find(f, "ok1@remote.test") != NULL && fake_find(f, "ok2@other.test") != NULL, 10);
	struct received *r = fake_find(f, "ok1@remote.test");
	assert_string_equal(r->sender, "alice@example.test");
	assert_string_equal(r->data, TEST_MESSAGE);

	/* bad1 bounced at once (null sender, to alice, through the route) */
	WAIT_FOR(fake_find(f, "alice@example.test") != NULL, 10);
	r = fake_find(f, "alice@example.test");
	assert_string_equal(r->sender, "");
	assert_non_null(strstr(r->data, "multipart/report; report-type=delivery-status"));
	assert_non_null(strstr(r->data, "Final-Recipient: rfc822; bad1@remote.test"));
	assert_non_null(strstr(r->data, "Status: 5.1.1"));
	assert_non_null(strstr(r->data, "Diagnostic-Code: smtp; 550 5.1.1 no such user here"));
	assert_non_null(strstr(r->data, "Subject: hello")); /* the original headers */
	assert_null(strstr(r->data, "Hello Bob"));           /* not the body */
	assert_null(strstr(r->data, "later1@remote.test"));  /* still being retried */

	/* later1 is retried (backoff 1 s, 2 s) and expires after 4 s: a second bounce */
	WAIT_FOR(fake_count(f) >= 4, 15);
	bool found = false;
	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < f->nmsgs; i++)
		if (strstr(f->msgs[i].data, "Final-Recipient: rfc822; later1@remote.test") != NULL) {
			found = true;
			assert_non_null(strstr(f->msgs[i].data, "Status: 4.4.7")); /* expired */
			assert_non_null(strstr(f->msgs[i].data, "451 4.3.0 try again later"));
		}
	pthread_mutex_unlock(&f->lock);
	assert_true(found);
	assert_true(f->sessions >= 5); /* the first round, at least two retries, bounces */
	WAIT_FOR(queued(dir) == 0, 5);
	queue_close(&q);
	fake_stop(&f);
	rm_rf(dir);
	free(dir);
}

static void test_mx_lookup(void **state)
{
	struct fake *f = fake_start();
	char *dir = make_tmpdir();
	struct queue_settings s = settings(NULL, 0);
	s.smtp_port = f->port;
	s.dns_data = (const char *const[]){
		"local-zone: test. static",
		"remote.test. 300 IN MX 20 mx2.remote.test.",
		"remote.test. 300 IN MX 10 mx1.remote.test.",
		"mx1.remote.test. 300 IN A 127.0.0.1",
		"mx2.remote.test. 300 IN A 127.0.0.2",
		"example.test. 300 IN MX 10 mx1.remote.test.", /* where the bounce goes */
		"nullmx.test. 300 IN MX 0 .",
		"implicit.test. 300 IN A 127.0.0.1",
		"nomx-noaddr.test. 300 IN TXT \"v=spf1 -all\"",
		NULL,
	};
	const char *err = NULL;
	struct queue *q = queue_open(dir, &s, &err);
	assert_non_null(q);
	assert_int_equal(queue_start(q, &err), 1);
	const char *rcpts[] = { "x@remote.test", "y@nullmx.test", "z@nxdomain.test", "w@implicit.test",
				"v@[127.0.0.1]", "u@nomx-noaddr.test" };
	submit(q, "alice@example.test", rcpts, 6, TEST_MESSAGE);
	WAIT_FOR(fake_find(f, "x@remote.test") != NULL, 10);
	WAIT_FOR(fake_find(f, "w@implicit.test") != NULL, 10);
	WAIT_FOR(fake_find(f, "v@[127.0.0.1]") != NULL, 10);
	/* one bounce per round of failures, all to alice through the example.test MX */
	const char *a = "alice@example.test";
	WAIT_FOR(fake_has(f, a, "Final-Recipient: rfc822; y@nullmx.test\r\nAction: failed\r\nStatus: 5.1.10"), 10);
	WAIT_FOR(fake_has(f, a, "Final-Recipient: rfc822; z@nxdomain.test\r\nAction: failed\r\nStatus: 5.1.2"), 10);
	WAIT_FOR(fake_has(f, a, "Final-Recipient: rfc822; u@nomx-noaddr.test\r\nAction: failed\r\nStatus: 5.1.2"), 10);
	WAIT_FOR(queued(dir) == 0, 5);
	assert_false(fake_has(f, a, "x@remote.test"));
	queue_close(&q);
	fake_stop(&f);
	rm_rf(dir);
	free(dir);
}

static void test_helo_no_pipelining(void **state)
{
	struct fake *f = fake_start();
	f->no_ehlo = true;
	char *dir = make_tmpdir();
	struct queue_route routes[] = { { .domain = "remote.test", .host = "localhost", .port = f->port } };
	struct queue_settings s = settings(routes, 1);
	s.dns_data = (const char *const[]){ "localhost. 300 IN A 127.0.0.1", NULL };
	const char *err = NULL;
	struct queue *q = queue_open(dir, &s, &err);
	assert_int_equal(queue_start(q, &err), 1);
	const char *rcpts[] = { "bad@remote.test", "a@remote.test", "b@remote.test" };
	const char *msg = "Subject: dots\r\n\r\n.\r\n..\r\n. x\r\n";
	submit(q, "", rcpts, 3, msg); /* null sender: bad@ is not bounced */
	WAIT_FOR(fake_find(f, "a@remote.test b@remote.test") != NULL, 10);
	assert_string_equal(fake_find(f, "a@remote.test b@remote.test")->data, msg);
	WAIT_FOR(queued(dir) == 0, 5);
	usleep(300000);
	assert_int_equal(fake_count(f), 1); /* no bounce of a bounce */
	queue_close(&q);
	fake_stop(&f);
	rm_rf(dir);
	free(dir);
}

static void test_down_restart_flush(void **state)
{
	/* a port with nobody listening */
	int tmp = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(tmp, (struct sockaddr *)&sin, sizeof(sin));
	socklen_t len = sizeof(sin);
	getsockname(tmp, (struct sockaddr *)&sin, &len);
	uint16_t dead = ntohs(sin.sin_port);
	close(tmp);

	char *dir = make_tmpdir();
	struct queue_route routes[] = { { .domain = "remote.test", .host = "127.0.0.1", .port = dead } };
	struct queue_settings s = settings(routes, 1);
	s.retry_initial = 3600; /* only a flush brings it back early */
	s.retry_max = 3600;
	s.no_fsync = false;
	const char *err = NULL;
	struct queue *q = queue_open(dir, &s, &err);
	assert_int_equal(queue_start(q, &err), 1);
	const char *rcpts[] = { "bob@remote.test" };
	submit(q, "alice@example.test", rcpts, 1, TEST_MESSAGE);
	struct arena *a = arena_new();
	struct queue_entry *e = NULL;
	size_t n = 0;
	/* the attempt fails and is recorded with its error and the next attempt */
	for (int i = 0; i < 500; i++) {
		arena_clear(a);
		assert_int_equal(queue_list(dir, NULL, a, &e, &n, &err), 1);
		if (n == 1 && e[0].attempts == 1)
			break;
		usleep(20000);
	}
	assert_int_equal(n, 1);
	assert_int_equal(e[0].attempts, 1);
	assert_true(e[0].next_attempt > time(NULL) + 3000);
	assert_non_null(strstr(e[0].rcpts[0].last_error, "connection refused"));
	queue_close(&q);

	/* the destination comes up; the server restarts with the same queue */
	struct fake *f = fake_start();
	routes[0].port = f->port;
	q = queue_open(dir, &s, &err);
	assert_non_null(q);
	assert_int_equal(q->nmsgs, 1);
	assert_int_equal(queue_start(q, &err), 1);
	usleep(1500000);
	assert_int_equal(fake_count(f), 0); /* not due for an hour */
	assert_int_equal(queue_flush(dir, NULL, &err), 1);
	WAIT_FOR(fake_find(f, "bob@remote.test") != NULL, 10);
	WAIT_FOR(queued(dir) == 0, 5);
	assert_int_equal(count_files(dir, "queue/flush"), 0);
	queue_close(&q);
	arena_free(&a);
	fake_stop(&f);
	rm_rf(dir);
	free(dir);
}

/* queue_reload: deliveries after it use the new routes; the old route is not used
 * again, and the old generation stays valid until queue_close. */
static void test_reload_routes(void **state)
{
	struct fake *a = fake_start(), *b = fake_start();
	char *dir = make_tmpdir();
	struct queue_route routes[] = { { .domain = "remote.test", .host = "127.0.0.1", .port = a->port } };
	struct queue_settings s = settings(routes, 1);
	const char *err = NULL;
	struct queue *q = queue_open(dir, &s, &err);
	assert_int_equal(queue_start(q, &err), 1);
	const char *first[] = { "one@remote.test" };
	submit(q, "alice@example.test", first, 1, TEST_MESSAGE);
	WAIT_FOR(fake_find(a, "one@remote.test") != NULL, 10);
	struct queue_route moved[] = { { .domain = "remote.test", .host = "127.0.0.1", .port = b->port },
				       { .domain = "*", .host = "127.0.0.1", .port = b->port } };
	queue_reload(q, "mx.example.test", moved, 2);
	const char *second[] = { "two@remote.test", "x@other.test" };
	submit(q, "alice@example.test", second, 2, TEST_MESSAGE);
	WAIT_FOR(fake_find(b, "two@remote.test") != NULL && fake_find(b, "x@other.test") != NULL, 10);
	WAIT_FOR(queued(dir) == 0, 5);
	assert_int_equal(fake_count(a), 1);
	queue_reload(q, "", NULL, 0); /* twice more: a pending one is replaced */
	queue_reload(q, "", moved, 1);
	queue_close(&q);
	fake_stop(&a);
	fake_stop(&b);
	rm_rf(dir);
	free(dir);
}

static void test_concurrency_limit(void **state)
{
	struct fake *f = fake_start();
	char *dir = make_tmpdir();
	struct queue_route routes[] = { { .domain = "*", .host = "127.0.0.1", .port = f->port } };
	struct queue_settings s = settings(routes, 1);
	s.concurrency_per_dest = 1;
	const char *err = NULL;
	struct queue *q = queue_open(dir, &s, &err);
	char *names[10];
	for (int i = 0; i < 10; i++) {
		names[i] = xasprintf("r%d@d%d.test", i, i);
		const char *one[] = { names[i] };
		submit(q, "alice@example.test", one, 1, TEST_MESSAGE); /* queued before start */
	}
	assert_int_equal(queue_start(q, &err), 1);
	WAIT_FOR(fake_count(f) == 10, 20);
	WAIT_FOR(queued(dir) == 0, 5);
	queue_close(&q);
	for (int i = 0; i < 10; i++)
		free(names[i]);
	fake_stop(&f);
	rm_rf(dir);
	free(dir);
}

static void test_starttls(void **state)
{
	char *dir = make_tmpdir();
	char cert[300], key[300], errbuf[256];
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	assert_int_equal(tls_write_self_signed(cert, key, "fake.test", errbuf, sizeof(errbuf)), 1);
	struct fake *f = fake_start();
	f->tls = tls_server_ctx_new(cert, key, errbuf, sizeof(errbuf));
	assert_non_null(f->tls);
	struct queue_route routes[] = { { .domain = "*", .host = "127.0.0.1", .port = f->port } };
	struct queue_settings s = settings(routes, 1);
	const char *err = NULL;
	struct queue *q = queue_open(dir, &s, &err);
	assert_int_equal(queue_start(q, &err), 1);
	const char *rcpts[] = { "secret@remote.test" };
	submit(q, "alice@example.test", rcpts, 1, TEST_MESSAGE);
	WAIT_FOR(fake_find(f, "secret@remote.test") != NULL, 10);
	assert_true(fake_find(f, "secret@remote.test")->tls);
	assert_string_equal(fake_find(f, "secret@remote.test")->data, TEST_MESSAGE);
	assert_non_null(strstr(f->tls_version, "TLSv1."));
	WAIT_FOR(queued(dir) == 0, 5);
	queue_close(&q);

	/* with STARTTLS switched off, the same server gets the message in the clear */
	s.no_starttls = true;
	q = queue_open(dir, &s, &err);
	assert_int_equal(queue_start(q, &err), 1);
	const char *rcpts2[] = { "plain@remote.test" };
	submit(q, "alice@example.test", rcpts2, 1, TEST_MESSAGE);
	WAIT_FOR(fake_find(f, "plain@remote.test") != NULL, 10);
	assert_false(fake_find(f, "plain@remote.test")->tls);
	WAIT_FOR(queued(dir) == 0, 5);
	queue_close(&q);

	/* a failed handshake: the same address again, in the clear */
	s.no_starttls = false;
	f->break_tls = true;
	q = queue_open(dir, &s, &err);
	assert_int_equal(queue_start(q, &err), 1);
	const char *rcpts3[] = { "fallback@remote.test" };
	submit(q, "alice@example.test", rcpts3, 1, TEST_MESSAGE);
	WAIT_FOR(fake_find(f, "fallback@remote.test") != NULL, 10);
	assert_false(fake_find(f, "fallback@remote.test")->tls);
	WAIT_FOR(queued(dir) == 0, 5);
	queue_close(&q);
	fake_stop(&f);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_results_and_bounce),
		cmocka_unit_test(test_mx_lookup),
		cmocka_unit_test(test_helo_no_pipelining),
		cmocka_unit_test(test_down_restart_flush),
		cmocka_unit_test(test_reload_routes),
		cmocka_unit_test(test_concurrency_limit),
		cmocka_unit_test(test_starttls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
