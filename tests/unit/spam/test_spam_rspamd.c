/* test_spam_rspamd.c: the rspamd client (spam_rspamd.h): the URL, the request head
 * (every field rspamd reads, control bytes removed), the response parser (whole,
 * one byte at a time, without Content-Length until the end of the stream, and
 * hostile answers), the action table; the blocking client against a port nobody
 * listens on and a server that never answers (its deadline); and the spam hook's
 * header search (spam_hook.h). */
#include "spam_hook.h"
#include "spam_rspamd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

static void test_url(void **state)
{
	struct spam_rspamd_url u;
	const char *err = NULL;
	assert_int_equal(spam_rspamd_url_parse("http://127.0.0.1:11333", &u, &err), 1);
	assert_string_equal(u.host, "127.0.0.1");
	assert_string_equal(u.port, "11333");
	assert_int_equal(spam_rspamd_url_parse("HTTP://rspamd.local/", &u, &err), 1);
	assert_string_equal(u.host, "rspamd.local");
	assert_string_equal(u.port, "11333");
	assert_int_equal(spam_rspamd_url_parse("http://[::1]:8080", &u, &err), 1);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "8080");
	const char *bad[] = { "https://127.0.0.1:11333",
			      "127.0.0.1:11333",
			      "http://",
			      "http://h:0",
			      "http://h:65536",
			      "http://h:x",
			      "http://h:1/checkv2",
			      "http://[::1",
			      "http://a b:1",
			      "http://h:1 " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(spam_rspamd_url_parse(bad[i], &u, &err), -1);
		assert_non_null(err);
	}
}

static void test_request(void **state)
{
	struct spam_rspamd_url u;
	const char *err;
	assert_int_equal(spam_rspamd_url_parse("http://[::1]:11333", &u, &err), 1);
	const char *rcpts[] = { "a@example.test", "b@example.test" };
	struct spam_rspamd_req r = { .ip = "192.0.2.1",
				     .helo = "mail.\r\nX-Evil: 1",
				     .from = "",
				     .rcpts = rcpts,
				     .nrcpts = 2,
				     .queue_id = "Q1",
				     .mta_name = "mx.example.test" };
	struct buf out = { 0 };
	spam_rspamd_request(&out, &u, &r, 42);
	assert_string_equal(buf_str(&out), "POST /checkv2 HTTP/1.1\r\n"
					   "Host: [::1]:11333\r\n"
					   "Connection: close\r\n"
					   "Content-Length: 42\r\n"
					   "IP: 192.0.2.1\r\n"
					   "Helo: mail.X-Evil: 1\r\n"
					   "From: <>\r\n"
					   "Rcpt: a@example.test\r\n"
					   "Rcpt: b@example.test\r\n"
					   "Queue-Id: Q1\r\n"
					   "MTA-Name: mx.example.test\r\n"
					   "\r\n");
	buf_free(&out);
	r.user = "u@example.test";
	r.from = "s@example.org";
	spam_rspamd_request(&out, &u, &r, 0);
	assert_non_null(strstr(buf_str(&out), "From: s@example.org\r\n"));
	assert_non_null(strstr(buf_str(&out), "User: u@example.test\r\n"));
	buf_free(&out);
}

#define BODY_REJECT "{\"is_skipped\":true,\"score\":15.0,\"required_score\":15.0,\"action\":\"reject\"}"
#define RESP(body) "HTTP/1.1 200 OK\r\nServer: rspamd/3.4\r\nContent-Length: " #body "\r\n\r\n"

static void test_response(void **state)
{
	struct spam_rspamd_result r;
	const char *err = NULL;
	char resp[512];
	snprintf(
		resp, sizeof(resp),
		"HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: %zu\r\nContent-Type: application/json\r\n\r\n%s",
		strlen(BODY_REJECT), BODY_REJECT);
	size_t len = strlen(resp);
	assert_int_equal(spam_rspamd_response(resp, len, false, 4096, &r, &err), 1);
	assert_int_equal(r.action, SPAM_RSPAMD_REJECT);
	assert_true(r.score == 15.0);
	assert_true(r.required == 15.0);
	/* one byte at a time: need more until the last */
	for (size_t i = 0; i < len; i++)
		assert_int_equal(spam_rspamd_response(resp, i, false, 4096, &r, &err), 0);
	/* ... and an early end is an error */
	for (size_t i = 0; i < len; i++)
		assert_int_equal(spam_rspamd_response(resp, i, true, 4096, &r, &err), -1);
	/* bytes after Content-Length are ignored */
	char more[600];
	snprintf(more, sizeof(more), "%sGARBAGE", resp);
	assert_int_equal(spam_rspamd_response(more, strlen(more), false, 4096, &r, &err), 1);
	/* over the limit */
	assert_int_equal(spam_rspamd_response(resp, len, false, len - 1, &r, &err), -1);
	/* without Content-Length: the body ends with the stream; bare LF accepted */
	const char *nolen = "HTTP/1.0 200 OK\n\n{\"action\":\"no action\",\"score\":-1.5}";
	assert_int_equal(spam_rspamd_response(nolen, strlen(nolen), false, 4096, &r, &err), 0);
	assert_int_equal(spam_rspamd_response(nolen, strlen(nolen), true, 4096, &r, &err), 1);
	assert_int_equal(r.action, SPAM_RSPAMD_NO_ACTION);
	assert_true(r.score == -1.5);
	assert_true(r.required == 0);
	/* every action word */
	const char *words[] = { "no action", "greylist", "add header", "rewrite subject", "soft reject", "reject" };
	for (size_t i = 0; i < 6; i++) {
		snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n\r\n{\"action\":\"%s\",\"score\":1}", words[i]);
		assert_int_equal(spam_rspamd_response(resp, strlen(resp), true, 4096, &r, &err), 1);
		assert_int_equal(r.action, (enum spam_rspamd_action)i);
		assert_string_equal(spam_rspamd_action_name(r.action), words[i]);
	}
	/* hostile or broken answers */
	const char *bad[] = {
		"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
		"SMTP/1.1 200 OK\r\n\r\n{}",
		"HTTP/1.1 2000 OK\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\n\r\n[1,2]",
		"HTTP/1.1 200 OK\r\n\r\n{\"action\":\"reject\"}",
		"HTTP/1.1 200 OK\r\n\r\n{\"action\":\"reject\",\"score\":\"15\"}",
		"HTTP/1.1 200 OK\r\n\r\n{\"action\":\"discard\",\"score\":1}",
		"HTTP/1.1 200 OK\r\n\r\n{\"action\":5,\"score\":1}",
		"HTTP/1.1 200 OK\r\n\r\n{\"action\":\"reject\",\"action\":\"no action\",\"score\":1}",
		"HTTP/1.1 200 OK\r\n\r\n{\"action\":\"reject\",\"score\":1",
		"HTTP/1.1 200 OK\r\n\r\n",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(spam_rspamd_response(bad[i], strlen(bad[i]), true, 4096, &r, &err), -1);
		assert_non_null(err);
	}
}

static void test_verdict(void **state)
{
	assert_int_equal(spam_rspamd_verdict(SPAM_RSPAMD_NO_ACTION), SPAM_RSPAMD_INBOX);
	assert_int_equal(spam_rspamd_verdict(SPAM_RSPAMD_GREYLIST), SPAM_RSPAMD_TEMP);
	assert_int_equal(spam_rspamd_verdict(SPAM_RSPAMD_SOFT_REJECT), SPAM_RSPAMD_TEMP);
	assert_int_equal(spam_rspamd_verdict(SPAM_RSPAMD_ADD_HEADER), SPAM_RSPAMD_JUNK);
	assert_int_equal(spam_rspamd_verdict(SPAM_RSPAMD_REWRITE_SUBJECT), SPAM_RSPAMD_JUNK);
	assert_int_equal(spam_rspamd_verdict(SPAM_RSPAMD_REJECT), SPAM_RSPAMD_REFUSE);
}

/* A listening socket on loopback that never accepts: the kernel completes the
 * connection, nobody answers. */
static int silent_server(char port[8])
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	socklen_t len = sizeof(sin);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	snprintf(port, 8, "%u", ntohs(sin.sin_port));
	return fd;
}

static void test_client_failures(void **state)
{
	struct spam_rspamd_url u = { .host = "127.0.0.1" };
	struct arena *a = arena_new();
	struct spam_rspamd_req r = { .ip = "192.0.2.1", .from = "" };
	struct bytes body[1] = { BYTES("Subject: x\r\n\r\nhi\r\n") };
	struct spam_rspamd_result res;
	const char *err = NULL;
	/* a port nobody listens on: refused */
	int fd = silent_server(u.port);
	close(fd);
	assert_int_equal(spam_rspamd_check(&u, 2000, 4096, &r, body, 1, a, &res, &err), -1);
	assert_string_equal(err, "cannot connect to rspamd");
	/* a server that never answers: the deadline */
	fd = silent_server(u.port);
	assert_int_equal(spam_rspamd_check(&u, 200, 4096, &r, body, 1, a, &res, &err), -1);
	assert_string_equal(err, "timeout waiting for rspamd's answer");
	close(fd);
	arena_free(&a);
}

static void test_header_find(void **state)
{
	const char *msg = "Received: from x\r\n"
			  "X-Rspamd-Score: 1\r\n"
			  "x-rspamd-score : 2\r\n"
			  "\tcontinued\r\n"
			  "X-Rspamd-Scores: 3\r\n"
			  "Subject: X-Rspamd-Score: no\r\n"
			  "X-Rspamd-Score: 4\r\n"
			  "\r\n"
			  "X-Rspamd-Score: in the body\r\n";
	struct submit_span s[8];
	size_t n = spam_header_find(msg, strlen(msg), "X-Rspamd-Score", s, 8);
	assert_int_equal(n, 3);
	assert_memory_equal(msg + s[0].off, "X-Rspamd-Score: 1\r\n", s[0].len);
	assert_int_equal(s[1].len, strlen("x-rspamd-score : 2\r\n\tcontinued\r\n"));
	assert_memory_equal(msg + s[1].off, "x-rspamd-score : 2\r\n\tcontinued\r\n", s[1].len);
	assert_memory_equal(msg + s[2].off, "X-Rspamd-Score: 4\r\n", s[2].len);
	/* the bound */
	assert_int_equal(spam_header_find(msg, strlen(msg), "X-Rspamd-Score", s, 1), 1);
	/* a header without an end and a message that is only a body */
	assert_int_equal(spam_header_find("X-Rspamd-Score: 1", 17, "X-Rspamd-Score", s, 8), 1);
	assert_int_equal(spam_header_find("\r\nX-Rspamd-Score: 1\r\n", 21, "X-Rspamd-Score", s, 8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_client_failures),
		cmocka_unit_test(test_header_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
