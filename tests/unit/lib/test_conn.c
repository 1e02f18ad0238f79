/* test_conn.c: connections on a real loop over loopback: greeting, per-address limit,
 * idle timeout, over-long lines, STARTTLS (with pipelined plaintext dropped), implicit
 * TLS and server shutdown. The client side uses blocking sockets in the test thread. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "conn.h"
#include "conn_client.h"
#include "loop.h"
#include "net.h"
#include "tls.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct fixture {
	struct loop *loop;
	struct conn_shared *shared;
	struct conn_server *srv;
	int port, tls_port;
	int timeout;
	atomic_int closed;
	char dir[64];
};

struct echo {
	struct conn *c;
	struct fixture *f;
};

static void *echo_open(struct conn *c, void *ctx)
{
	struct echo *e = calloc(1, sizeof(*e));
	e->c = c;
	e->f = ctx;
	conn_set_timeout(c, e->f->timeout);
	conn_puts(c, "HELLO\r\n");
	return e;
}

static void echo_refuse(struct conn *c, void *ctx)
{
	conn_puts(c, "BUSY\r\n");
}

static void echo_event(void *session, enum conn_event ev)
{
	struct echo *e = session;
	struct bytes line;
	int r;
	switch (ev) {
	case CONN_DATA:
		while (!conn_is_closing(e->c) && (r = conn_read_line(e->c, 100, &line)) != 0) {
			if (r < 0) {
				conn_puts(e->c, "TOOLONG\r\n");
				conn_close(e->c);
			} else if (bytes_eq(line, "STARTTLS")) {
				conn_puts(e->c, "GO\r\n");
				assert_true(conn_starttls(e->c) >= 0);
			} else if (bytes_eq(line, "TLS?")) {
				conn_printf(e->c, "TLS %s\r\n", conn_is_tls(e->c) ? "yes" : "no");
			} else if (line.len > 4 && memcmp(line.p, "MEM ", 4) == 0) {
				uint64_t n = strtoull(line.p + 4, NULL, 10);
				conn_printf(e->c, "MEM %s\r\n", conn_mem_reserve(e->c, n) ? "ok" : "full");
			} else if (bytes_eq(line, "FREE")) {
				conn_mem_release(e->c);
				conn_puts(e->c, "FREED\r\n");
			} else if (bytes_eq(line, "QUIT")) {
				conn_puts(e->c, "BYE\r\n");
				conn_close(e->c);
			} else {
				conn_printf(e->c, "ECHO %.*s\r\n", (int)line.len, line.p);
			}
		}
		break;
	case CONN_TIMEOUT:
		conn_puts(e->c, "TIMEOUT\r\n");
		conn_close(e->c);
		break;
	case CONN_SHUTDOWN:
		conn_puts(e->c, "SHUTDOWN\r\n");
		conn_close(e->c);
		break;
	case CONN_TLS_READY:
	case CONN_DRAINED:
	case CONN_RELEASED:
		break;
	case CONN_CLOSED:
		atomic_fetch_add(&e->f->closed, 1);
		free(e);
		break;
	}
}

static const struct conn_handler echo_handler = { "echo", echo_open, echo_event, echo_refuse, NULL };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->timeout = 30;
	snprintf(f->dir, sizeof(f->dir), "/tmp/postamt-test-conn-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char cert[128], key[128], err[256];
	snprintf(cert, sizeof(cert), "%s/cert.pem", f->dir);
	snprintf(key, sizeof(key), "%s/key.pem", f->dir);
	assert_int_equal(tls_write_self_signed(cert, key, "localhost", err, sizeof(err)), 1);
	SSL_CTX *ctx = tls_server_ctx_new(cert, key, err, sizeof(err));
	assert_non_null(ctx);
	struct conn_limits lim = { .per_ip = 3, .total = 100, .handshake_timeout = 2,
				   .message_memory = 4 * CONN_MEM_STEP };
	f->shared = conn_shared_new(&lim);
	conn_shared_set_tls(f->shared, ctx);
	SSL_CTX_free(ctx);
	f->loop = loop_new(0);
	f->srv = conn_server_new(f->loop, f->shared);
	const char *e;
	int fd = net_listen("127.0.0.1", 0, err, sizeof(err));
	assert_true(fd >= 0);
	f->port = net_local_port(fd);
	assert_int_equal(conn_server_listen(f->srv, fd, CONN_PLAIN, &echo_handler, f, &e), 1);
	fd = net_listen("127.0.0.1", 0, err, sizeof(err));
	assert_true(fd >= 0);
	f->tls_port = net_local_port(fd);
	assert_int_equal(conn_server_listen(f->srv, fd, CONN_TLS_IMPLICIT, &echo_handler, f, &e), 1);
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
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A client from another loopback address (127.0.0.2), so another share. */
static int client_from(int port, const char *ip)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in src = { .sin_family = AF_INET };
	assert_int_equal(inet_pton(AF_INET, ip, &src.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Reads one line (up to LF) into out; returns its length, or -1 on EOF/timeout. */
static int read_line(int fd, char *out, size_t outlen)
{
	size_t n = 0;
	while (n + 1 < outlen) {
		char ch;
		ssize_t r = recv(fd, &ch, 1, 0);
		if (r <= 0)
			return n ? (int)n : -1;
		if (ch == '\n')
			break;
		if (ch != '\r')
			out[n++] = ch;
	}
	out[n] = '\0';
	return (int)n;
}

static void test_echo_and_quit(void **state)
{
	struct fixture *f = *state;
	int fd = client(f->port);
	char line[256];
	assert_int_equal(read_line(fd, line, sizeof(line)), 5);
	assert_string_equal(line, "HELLO");
	/* two commands in one packet, the second split across writes */
	send_str(fd, "one\r\ntw");
	send_str(fd, "o\nTLS?\r\n");
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, "ECHO one");
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, "ECHO two");
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, "TLS no");
	send_str(fd, "QUIT\r\n");
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, "BYE");
	assert_true(at_eof(fd));
	close(fd);
}

static void test_per_ip_limit(void **state)
{
	struct fixture *f = *state;
	int fds[3];
	char line[256];
	for (int i = 0; i < 3; i++) {
		fds[i] = client(f->port);
		read_line(fds[i], line, sizeof(line));
		assert_string_equal(line, "HELLO");
	}
	int extra = client(f->port);
	read_line(extra, line, sizeof(line));
	assert_string_equal(line, "BUSY");
	assert_true(at_eof(extra));
	close(extra);
	/* the others still work */
	send_str(fds[0], "still\r\n");
	read_line(fds[0], line, sizeof(line));
	assert_string_equal(line, "ECHO still");
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	/* once they are gone, a new one is accepted */
	for (int tries = 0; tries < 100 && conn_shared_live(f->shared) > 0; tries++)
		usleep(20000);
	int again = client(f->port);
	read_line(again, line, sizeof(line));
	assert_string_equal(line, "HELLO");
	close(again);
}

static void expect(int fd, const char *cmd, const char *want)
{
	char line[256];
	send_str(fd, cmd);
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, want);
}

static void test_message_memory(void **state)
{
	struct fixture *f = *state;
	char line[256];
	int a = client(f->port), b = client(f->port);
	read_line(a, line, sizeof(line));
	read_line(b, line, sizeof(line));
	expect(a, "MEM 1\r\n", "MEM ok"); /* one step */
	assert_int_equal(conn_shared_mem_used(f->shared), CONN_MEM_STEP);
	expect(a, "MEM 100\r\n", "MEM ok"); /* already held */
	assert_int_equal(conn_shared_mem_used(f->shared), CONN_MEM_STEP);
	expect(b, "MEM 196608\r\n", "MEM ok"); /* three steps: the limit is reached */
	assert_int_equal(conn_shared_mem_used(f->shared), 4 * CONN_MEM_STEP);
	expect(a, "MEM 65537\r\n", "MEM full"); /* a second step for a does not fit */
	assert_int_equal(conn_shared_mem_used(f->shared), 4 * CONN_MEM_STEP);
	expect(a, "MEM 18446744073709551615\r\n", "MEM full"); /* no wrap-around */
	expect(b, "FREE\r\n", "FREED");
	assert_int_equal(conn_shared_mem_used(f->shared), CONN_MEM_STEP);
	expect(a, "MEM 262144\r\n", "MEM ok"); /* now a may have all of it */
	assert_int_equal(conn_shared_mem_used(f->shared), 4 * CONN_MEM_STEP);
	/* closing gives it back */
	close(a);
	for (int tries = 0; tries < 100 && conn_shared_mem_used(f->shared) > 0; tries++)
		usleep(20000);
	assert_int_equal(conn_shared_mem_used(f->shared), 0);
	expect(b, "MEM 262144\r\n", "MEM ok");
	close(b);
	for (int tries = 0; tries < 100 && conn_shared_mem_used(f->shared) > 0; tries++)
		usleep(20000);
	assert_int_equal(conn_shared_mem_used(f->shared), 0);
}

/* limits.message_memory_per_ip: one address cannot take the whole budget, and what
 * it holds over several connections counts together. */
static void test_message_memory_per_ip(void **state)
{
	struct fixture *f = *state;
	struct conn_limits lim = { .per_ip = 3, .total = 100, .handshake_timeout = 2,
				   .message_memory = 8 * CONN_MEM_STEP, .message_memory_per_ip = 3 * CONN_MEM_STEP };
	conn_shared_set_limits(f->shared, &lim);
	char line[256];
	int a = client(f->port), b = client(f->port), c = client_from(f->port, "127.0.0.2");
	read_line(a, line, sizeof(line));
	read_line(b, line, sizeof(line));
	read_line(c, line, sizeof(line));
	expect(a, "MEM 131072\r\n", "MEM ok"); /* two steps of 127.0.0.1's three */
	expect(b, "MEM 131072\r\n", "MEM full"); /* two more would pass the share */
	assert_int_equal(conn_shared_mem_used_by(f->shared, "127.0.0.1"), 2 * CONN_MEM_STEP);
	expect(b, "MEM 1\r\n", "MEM ok"); /* the third fits */
	expect(b, "MEM 131072\r\n", "MEM full");
	assert_int_equal(conn_shared_mem_used(f->shared), 3 * CONN_MEM_STEP); /* far below the total */
	/* another address has a share of its own */
	expect(c, "MEM 196608\r\n", "MEM ok");
	assert_int_equal(conn_shared_mem_used_by(f->shared, "127.0.0.2"), 3 * CONN_MEM_STEP);
	assert_int_equal(conn_shared_mem_used(f->shared), 6 * CONN_MEM_STEP);
	/* released memory returns to the address's share */
	expect(a, "FREE\r\n", "FREED");
	assert_int_equal(conn_shared_mem_used_by(f->shared, "127.0.0.1"), CONN_MEM_STEP);
	expect(b, "MEM 131072\r\n", "MEM ok");
	/* the total still applies: 5 steps are held, 127.0.0.1 has a step of its share left */
	lim.message_memory = 5 * CONN_MEM_STEP;
	conn_shared_set_limits(f->shared, &lim);
	expect(a, "MEM 1\r\n", "MEM full");
	close(a);
	close(b);
	close(c);
	for (int tries = 0; tries < 100 && conn_shared_mem_used(f->shared) > 0; tries++)
		usleep(20000);
	assert_int_equal(conn_shared_mem_used(f->shared), 0);
	assert_int_equal(conn_shared_mem_used_by(f->shared, "127.0.0.1"), 0);
}

static void test_line_too_long(void **state)
{
	struct fixture *f = *state;
	int fd = client(f->port);
	char line[256];
	read_line(fd, line, sizeof(line));
	char *big = malloc(1 << 20);
	memset(big, 'x', 1 << 20);
	ssize_t sent = send(fd, big, 1 << 20, MSG_NOSIGNAL);
	free(big);
	assert_true(sent > 0);
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, "TOOLONG");
	close(fd);
}

static void test_idle_timeout(void **state)
{
	struct fixture *f = *state;
	f->timeout = 1;
	int fd = client(f->port);
	char line[256];
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, "HELLO");
	time_t t0 = time(NULL);
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, "TIMEOUT");
	assert_true(time(NULL) - t0 <= 3);
	assert_true(at_eof(fd));
	close(fd);
	f->timeout = 30;
}

static SSL *tls_client(int fd)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL keeps a reference */
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, "localhost");
	assert_int_equal(SSL_connect(ssl), 1);
	return ssl;
}

static int ssl_read_line(SSL *ssl, char *out, size_t outlen)
{
	size_t n = 0;
	while (n + 1 < outlen) {
		char ch;
		if (SSL_read(ssl, &ch, 1) <= 0)
			return -1;
		if (ch == '\n')
			break;
		if (ch != '\r')
			out[n++] = ch;
	}
	out[n] = '\0';
	return (int)n;
}

static void test_starttls_drops_pipelined(void **state)
{
	struct fixture *f = *state;
	int fd = client(f->port);
	char line[256];
	read_line(fd, line, sizeof(line));
	send_str(fd, "STARTTLS\r\nINJECTED\r\n");
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, "GO");
	SSL *ssl = tls_client(fd);
	SSL_write(ssl, "TLS?\r\n", 6);
	assert_true(ssl_read_line(ssl, line, sizeof(line)) > 0);
	assert_string_equal(line, "TLS yes"); /* not "ECHO INJECTED" */
	SSL_write(ssl, "QUIT\r\n", 6);
	ssl_read_line(ssl, line, sizeof(line));
	assert_string_equal(line, "BYE");
	SSL_free(ssl);
	close(fd);
}

static void test_implicit_tls_and_garbage(void **state)
{
	struct fixture *f = *state;
	int fd = client(f->tls_port);
	SSL *ssl = tls_client(fd);
	char line[256];
	ssl_read_line(ssl, line, sizeof(line));
	assert_string_equal(line, "HELLO");
	assert_string_equal(SSL_get_version(ssl), "TLSv1.3");
	SSL_free(ssl);
	close(fd);
	/* garbage instead of a ClientHello: closed without a reply */
	fd = client(f->tls_port);
	send_str(fd, "GET / HTTP/1.0\r\n\r\n");
	char buf[64];
	ssize_t r = recv(fd, buf, sizeof(buf), 0);
	assert_true(r <= 0 || (unsigned char)buf[0] == 0x15); /* EOF or a TLS alert */
	close(fd);
	/* a client that says nothing is dropped after the handshake timeout (2 s) */
	fd = client(f->tls_port);
	time_t t0 = time(NULL);
	r = recv(fd, buf, sizeof(buf), 0);
	assert_true(r <= 0);
	assert_true(time(NULL) - t0 <= 4);
	close(fd);
}

static void shutdown_cb(void *arg)
{
	conn_server_shutdown(arg);
}

static void test_shutdown(void **state)
{
	struct fixture *f = *state;
	int fd = client(f->port);
	char line[256];
	read_line(fd, line, sizeof(line));
	loop_post(f->loop, shutdown_cb, f->srv);
	read_line(fd, line, sizeof(line));
	assert_string_equal(line, "SHUTDOWN");
	assert_true(at_eof(fd));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_echo_and_quit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_ip_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_memory_per_ip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_starttls_drops_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_implicit_tls_and_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
