/* test_relay_auth.c: the queue logging in to a smarthost (route_auth, route_tls;
 * queue_client.c) against the scripted server of fake_smtp.c: AUTH PLAIN after
 * STARTTLS and on implicit TLS; never in the clear, even when the relay offers AUTH
 * there (the mail stays queued, no AUTH line is sent); a relay without AUTH PLAIN,
 * and a wrong password (535), keep the mail queued without a bounce, and a reload
 * with the right password delivers it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fake_smtp.h"
#include "helpers.h"
#include "queue_int.h"
#include "tls.h"

#define USER "relay@example.net"
#define PASSWORD "s3cret:pw #1"
#define GOOD "AHJlbGF5QGV4YW1wbGUubmV0AHMzY3JldDpwdyAjMQ==" /* base64 "\0" USER "\0" PASSWORD */

struct env {
	char *dir;
	struct fake *f;
	struct queue *q;
	struct queue_route route;
};

/* A fake relay (TLS when tls, implicit when implicit) and a queue routing
 * remote.test to it with the login USER:password. */
static struct env *env_new(bool tls, bool implicit, const char *mechs, const char *password)
{
	struct env *e = calloc(1, sizeof(*e));
	e->dir = make_tmpdir();
	e->f = fake_start();
	if (tls) {
		char cert[300], key[300], errbuf[256];
		snprintf(cert, sizeof(cert), "%s/cert.pem", e->dir);
		snprintf(key, sizeof(key), "%s/key.pem", e->dir);
		assert_int_equal(tls_write_self_signed(cert, key, "relay.test", errbuf, sizeof(errbuf)), 1);
		e->f->tls = tls_server_ctx_new(cert, key, errbuf, sizeof(errbuf));
		assert_non_null(e->f->tls);
	}
	e->f->implicit = implicit;
	e->f->auth_mechs = mechs;
	e->f->auth_expect = GOOD;
	e->route = (struct queue_route){ .domain = "remote.test",
					 .host = "127.0.0.1",
					 .port = e->f->port,
					 .auth_user = USER,
					 .auth_password = password,
					 .implicit_tls = implicit };
	struct queue_settings s = settings(&e->route, 1);
	s.retry_initial = 60; /* a deferral stays deferred while the test looks */
	s.retry_max = 60;
	const char *err = NULL;
	e->q = queue_open(e->dir, &s, &err);
	assert_non_null(e->q);
	assert_int_equal(queue_start(e->q, &err), 1);
	return e;
}

static void env_free(struct env **ep)
{
	struct env *e = *ep;
	queue_close(&e->q);
	fake_stop(&e->f);
	rm_rf(e->dir);
	free(e->dir);
	free(e);
	*ep = NULL;
}

/* The last error of the first recipient of the only queued message, "" if none. */
static const char *last_error(struct env *e, char *out, size_t size, enum queue_rcpt_state *state_r)
{
	struct arena *a = arena_new();
	struct queue_entry *en;
	size_t n = 0;
	const char *err;
	out[0] = '\0';
	if (queue_list(e->dir, NULL, a, &en, &n, &err) > 0 && n == 1 && en[0].nrcpts == 1) {
		snprintf(out, size, "%s", en[0].rcpts[0].last_error);
		*state_r = en[0].rcpts[0].state;
	}
	arena_free(&a);
	return out;
}

static void deferred_with(struct env *e, const char *needle)
{
	char buf[600];
	enum queue_rcpt_state st = QUEUE_RCPT_FAILED;
	WAIT_FOR(strstr(last_error(e, buf, sizeof(buf), &st), needle) != NULL, 10);
	assert_int_equal(st, QUEUE_RCPT_PENDING); /* deferred, not failed: no bounce */
	assert_int_equal(fake_count(e->f), 0);
	assert_null(strstr(buf, PASSWORD));
}

static void login_after_starttls(void **state)
{
	struct env *e = env_new(true, false, "LOGIN PLAIN", PASSWORD);
	const char *rcpts[] = { "bob@remote.test" };
	submit(e->q, "alice@example.test", rcpts, 1, TEST_MESSAGE);
	WAIT_FOR(fake_find(e->f, "bob@remote.test") != NULL, 10);
	struct received *r = fake_find(e->f, "bob@remote.test");
	assert_true(r->tls && r->authed);
	assert_string_equal(r->data, TEST_MESSAGE);
	assert_int_equal(fake_get(e->f, &e->f->auth_lines), 1);
	assert_int_equal(fake_get(e->f, &e->f->auth_in_clear), 0);
	WAIT_FOR(queued(e->dir) == 0, 5);
	env_free(&e);
}

static void login_on_implicit_tls(void **state)
{
	struct env *e = env_new(true, true, "PLAIN", PASSWORD);
	const char *rcpts[] = { "carol@remote.test" };
	submit(e->q, "alice@example.test", rcpts, 1, TEST_MESSAGE);
	WAIT_FOR(fake_find(e->f, "carol@remote.test") != NULL, 10);
	struct received *r = fake_find(e->f, "carol@remote.test");
	assert_true(r->tls && r->authed);
	assert_int_equal(fake_get(e->f, &e->f->auth_in_clear), 0);
	WAIT_FOR(queued(e->dir) == 0, 5);
	env_free(&e);
}

/* The relay offers AUTH PLAIN but no STARTTLS: nothing is sent, the mail waits. */
static void never_in_the_clear(void **state)
{
	struct env *e = env_new(false, false, "PLAIN LOGIN", PASSWORD);
	const char *rcpts[] = { "dave@remote.test" };
	submit(e->q, "alice@example.test", rcpts, 1, TEST_MESSAGE);
	deferred_with(e, "offers no STARTTLS; the password is not sent in the clear");
	assert_int_equal(fake_get(e->f, &e->f->auth_lines), 0);
	env_free(&e);
}

static void no_auth_plain(void **state)
{
	struct env *e = env_new(true, false, "LOGIN CRAM-MD5", PASSWORD);
	const char *rcpts[] = { "erin@remote.test" };
	submit(e->q, "alice@example.test", rcpts, 1, TEST_MESSAGE);
	deferred_with(e, "does not offer AUTH PLAIN");
	assert_int_equal(fake_get(e->f, &e->f->auth_lines), 0);
	env_free(&e);
}

/* 535 is the admin's mistake: the mail waits (no bounce), one AUTH per attempt (the
 * route's other addresses are not tried with the same login), and a reload with the
 * right password delivers it. */
static void wrong_password_waits_for_reload(void **state)
{
	struct env *e = env_new(true, false, "PLAIN", "wrong");
	const char *rcpts[] = { "frank@remote.test" };
	submit(e->q, "alice@example.test", rcpts, 1, TEST_MESSAGE);
	deferred_with(e, "login as " USER " refused: 535 5.7.8");
	assert_int_equal(fake_get(e->f, &e->f->auth_lines), 1);
	struct queue_route fixed = e->route;
	fixed.auth_password = PASSWORD;
	queue_reload(e->q, "mx.example.test", &fixed, 1);
	queue_flush_now(e->q);
	WAIT_FOR(fake_find(e->f, "frank@remote.test") != NULL, 10);
	assert_true(fake_find(e->f, "frank@remote.test")->authed);
	WAIT_FOR(queued(e->dir) == 0, 5);
	env_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(login_after_starttls),
		cmocka_unit_test(login_on_implicit_tls),
		cmocka_unit_test(never_in_the_clear),
		cmocka_unit_test(no_auth_plain),
		cmocka_unit_test(wrong_password_waits_for_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
