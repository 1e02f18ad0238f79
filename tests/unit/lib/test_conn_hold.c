/* test_conn_hold.c: the session core of lib/conn on a real loop over loopback: holds
 * (the session is freed exactly once, at the last release; a conn closed while held
 * keeps its session until then; input and CONN_SHUTDOWN wait for the last release,
 * which delivers CONN_RELEASED first), continuations taking the input over and giving
 * it back with pipelined input, and the per-session command and error limits. The
 * releases come from the test thread through loop_call, as a pool completion would
 * come through loop_post. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "conn.h"
#include "conn_client.h"
#include "loop.h"
#include "net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct fixture {
	struct loop *loop;
	struct conn_shared *shared;
	struct conn_server *srv;
	int port;
	atomic_int closed, freed;
	struct sess *last; /* the newest session (loop thread writes, test reads after a reply) */
	bool released_ret;
};

struct sess {
	struct conn *c;
	struct fixture *f;
};

static void *s_open(struct conn *c, void *ctx)
{
	struct sess *s = calloc(1, sizeof(*s));
	s->c = c;
	s->f = ctx;
	s->f->last = s;
	conn_puts(c, "HELLO\r\n");
	return s;
}

static void s_refuse(struct conn *c, void *ctx)
{
	conn_puts(c, "BUSY\r\n");
}

/* A continuation that takes one line, answers "K line" and gives the input back. */
static void k_data(void *arg);
static const struct conn_continuation one_line_k = { .data = k_data };

static void k_data(void *arg)
{
	struct sess *s = arg;
	struct bytes line;
	if (!conn_may_read(s->c, &one_line_k) || conn_read_line(s->c, 100, &line) <= 0)
		return;
	conn_printf(s->c, "K %.*s\r\n", (int)line.len, line.p);
	conn_continue_end(s->c);
}

static void s_line(struct sess *s, struct bytes line)
{
	if (conn_command(s->c) < 0) {
		conn_puts(s->c, "TOO MANY COMMANDS\r\n");
		conn_close(s->c);
	} else if (line.len > 5 && memcmp(line.p, "HOLD ", 5) == 0) {
		int n = atoi(line.p + 5);
		for (int i = 0; i < n; i++)
			conn_hold(s->c);
		conn_printf(s->c, "HELD %u\r\n", conn_holds(s->c));
	} else if (bytes_eq(line, "HOLDCLOSE")) {
		conn_hold(s->c);
		conn_puts(s->c, "CLOSING\r\n");
		conn_close(s->c);
	} else if (bytes_eq(line, "CONT")) {
		conn_continue(s->c, &one_line_k, s);
	} else if (bytes_eq(line, "BAD")) {
		conn_puts(s->c, "ERR\r\n");
		if (conn_client_error(s->c) < 0) {
			conn_puts(s->c, "TOO MANY ERRORS\r\n");
			conn_close(s->c);
		}
	} else {
		conn_printf(s->c, "ECHO %.*s\r\n", (int)line.len, line.p);
	}
}

static void s_event(void *session, enum conn_event ev)
{
	struct sess *s = session;
	struct bytes line;
	switch (ev) {
	case CONN_DATA:
		while (conn_may_read(s->c, NULL) && conn_read_line(s->c, 100, &line) > 0)
			s_line(s, line);
		break;
	case CONN_RELEASED:
		conn_puts(s->c, "RELEASED\r\n");
		break;
	case CONN_SHUTDOWN:
		conn_puts(s->c, "SHUTDOWN\r\n");
		conn_close(s->c);
		break;
	case CONN_TIMEOUT:
	case CONN_TLS_READY:
	case CONN_DRAINED:
		break;
	case CONN_CLOSED:
		/* the struct stays valid for a holder: these are no-ops, not crashes */
		conn_puts(s->c, "never sent\r\n");
		atomic_fetch_add(&s->f->closed, 1);
		break;
	}
}

static void s_free(void *session)
{
	struct sess *s = session;
	atomic_fetch_add(&s->f->freed, 1);
	free(s);
}

static const struct conn_handler hold_handler = { "hold", s_open, s_event, s_refuse, s_free };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct conn_limits lim = {
		.per_ip = 10, .total = 100, .handshake_timeout = 2, .errors_per_session = 3, .commands_per_session = 6
	};
	f->shared = conn_shared_new(&lim);
	f->loop = loop_new(0);
	f->srv = conn_server_new(f->loop, f->shared);
	char err[256];
	const char *e;
	int fd = net_listen("127.0.0.1", 0, err, sizeof(err));
	assert_true(fd >= 0);
	f->port = net_local_port(fd);
	assert_int_equal(conn_server_listen(f->srv, fd, CONN_PLAIN, &hold_handler, f, &e), 1);
	assert_int_equal(loop_start(f->loop, &e), 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	loop_stop_and_join(f->loop);
	conn_server_free(&f->srv);
	loop_free(&f->loop);
	conn_shared_free(&f->shared);
	free(f);
	return 0;
}

static void expect_line(int fd, const char *want)
{
	char out[256];
	size_t n = 0;
	while (n + 1 < sizeof(out)) {
		char ch;
		ssize_t r = recv(fd, &ch, 1, 0);
		assert_true(r == 1);
		if (ch == '\n')
			break;
		if (ch != '\r')
			out[n++] = ch;
	}
	out[n] = '\0';
	assert_string_equal(out, want);
}

/* Nothing arrives within a short while (the input is waiting, as it should). */
static bool silent(int fd)
{
	struct timeval tv = { 0, 200000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char ch;
	bool quiet = recv(fd, &ch, 1, 0) < 0;
	tv = (struct timeval){ 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return quiet;
}

static void release_cb(void *arg)
{
	struct fixture *f = arg;
	f->released_ret = conn_release(f->last->c);
}

/* What a completion sees on the loop: the conn closed, the session still there. */
static void closed_cb(void *arg)
{
	struct fixture *f = arg;
	assert_true(conn_is_closed(f->last->c));
	assert_true(conn_is_closing(f->last->c));
	conn_puts(f->last->c, "dropped\r\n");
	assert_int_equal(conn_mem_reserve(f->last->c, 1), 0);
}

static void wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 250 && atomic_load(v) != want; i++)
		usleep(20000);
	assert_int_equal(atomic_load(v), want);
}

static void shutdown_cb(void *arg)
{
	conn_server_shutdown(arg);
}

/* Two holds, the client goes: CLOSED at once, the free at the second release only. */
static void test_free_once_at_last_release(void **state)
{
	struct fixture *f = *state;
	int fd = client(f->port);
	expect_line(fd, "HELLO");
	send_str(fd, "HOLD 2\r\n");
	expect_line(fd, "HELD 2");
	close(fd);
	wait_for(&f->closed, 1);
	assert_int_equal(atomic_load(&f->freed), 0);
	loop_call(f->loop, closed_cb, f);
	loop_call(f->loop, release_cb, f);
	assert_false(f->released_ret);
	assert_int_equal(atomic_load(&f->freed), 0);
	assert_int_equal(conn_shared_live(f->shared), 0); /* the socket's count went at close */
	loop_call(f->loop, release_cb, f);
	assert_false(f->released_ret);
	assert_int_equal(atomic_load(&f->freed), 1);
	usleep(100000);
	assert_int_equal(atomic_load(&f->freed), 1);
	assert_int_equal(atomic_load(&f->closed), 1);
}

/* The session closes its own conn while a step holds it: the client sees the close,
 * the session waits for the release. */
static void test_close_while_held(void **state)
{
	struct fixture *f = *state;
	int fd = client(f->port);
	expect_line(fd, "HELLO");
	send_str(fd, "HOLDCLOSE\r\n");
	expect_line(fd, "CLOSING");
	assert_true(at_eof(fd));
	close(fd);
	wait_for(&f->closed, 1);
	assert_int_equal(atomic_load(&f->freed), 0);
	loop_call(f->loop, release_cb, f);
	assert_false(f->released_ret);
	assert_int_equal(atomic_load(&f->freed), 1);
}

/* Holds nest on an open conn: input waits until the last release, which delivers
 * CONN_RELEASED before the waiting input is read; no free on an open conn. */
static void test_nested_holds(void **state)
{
	struct fixture *f = *state;
	int fd = client(f->port);
	expect_line(fd, "HELLO");
	send_str(fd, "HOLD 2\r\n");
	expect_line(fd, "HELD 2");
	send_str(fd, "ping\r\n");
	assert_true(silent(fd));
	loop_call(f->loop, release_cb, f);
	assert_true(f->released_ret);
	assert_true(silent(fd));
	loop_call(f->loop, release_cb, f);
	assert_true(f->released_ret);
	expect_line(fd, "RELEASED");
	expect_line(fd, "ECHO ping");
	assert_int_equal(atomic_load(&f->freed), 0);
	close(fd);
	wait_for(&f->freed, 1); /* not held: freed with the close */
	assert_int_equal(atomic_load(&f->closed), 1);
}

/* A server stop waits for the step in flight: CONN_SHUTDOWN follows CONN_RELEASED. */
static void test_shutdown_waits_for_release(void **state)
{
	struct fixture *f = *state;
	int fd = client(f->port);
	expect_line(fd, "HELLO");
	send_str(fd, "HOLD 1\r\n");
	expect_line(fd, "HELD 1");
	loop_call(f->loop, shutdown_cb, f->srv);
	assert_true(silent(fd));
	loop_call(f->loop, release_cb, f);
	expect_line(fd, "RELEASED");
	expect_line(fd, "SHUTDOWN");
	assert_true(at_eof(fd));
	close(fd);
	wait_for(&f->freed, 1);
}

/* A continuation takes the next line and gives the input back: pipelined lines in
 * one packet go to the right reader. */
static void test_continuation(void **state)
{
	struct fixture *f = *state;
	int fd = client(f->port);
	expect_line(fd, "HELLO");
	send_str(fd, "CONT\r\nabc\r\ndef\r\n");
	expect_line(fd, "K abc");
	expect_line(fd, "ECHO def");
	close(fd);
	wait_for(&f->freed, 1);
}

/* limits.commands_per_session and limits.errors_per_session, counted by the core. */
static void test_session_limits(void **state)
{
	struct fixture *f = *state;
	int fd = client(f->port);
	expect_line(fd, "HELLO");
	send_str(fd, "BAD\r\nBAD\r\n");
	expect_line(fd, "ERR");
	expect_line(fd, "ERR");
	send_str(fd, "BAD\r\n");
	expect_line(fd, "ERR");
	expect_line(fd, "TOO MANY ERRORS");
	assert_true(at_eof(fd));
	close(fd);
	fd = client(f->port);
	expect_line(fd, "HELLO");
	for (int i = 1; i <= 6; i++)
		send_str(fd, "x\r\n");
	for (int i = 1; i <= 6; i++)
		expect_line(fd, "ECHO x");
	send_str(fd, "x\r\n");
	expect_line(fd, "TOO MANY COMMANDS");
	assert_true(at_eof(fd));
	close(fd);
	wait_for(&f->freed, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_free_once_at_last_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_while_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_waits_for_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_continuation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_limits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
