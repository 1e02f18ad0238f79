/* test_http.c: http_parse_request (src/proto/http), RFC 9112 §2-6.
 *
 * Every request here is also fed one byte at a time: each prefix is parsed from an
 * exact-size copy (so that a sanitizer build sees any read past its end) and must
 * give 0 until the result, then exactly the whole input's result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http_parse.h"

#include <stdlib.h>
#include <string.h>

struct outcome {
	int r, status;
	const char *error;
	struct http_request req;
};

/* Parses len bytes of p from an exact-size copy; views are moved back into p. */
static void parse_copy(const char *p, size_t len, struct outcome *o)
{
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, p, len);
	memset(o, 0, sizeof(*o));
	o->r = http_parse_request((struct bytes){ copy, len }, &o->req, &o->status, &o->error);
	if (o->r > 0) {
		struct http_request *q = &o->req;
#define MOVE(v) ((v).p = p + ((v).p - copy))
		MOVE(q->method);
		MOVE(q->target);
		MOVE(q->version);
		for (int i = 0; i < q->nheaders; i++) {
			MOVE(q->headers[i].name);
			MOVE(q->headers[i].value);
		}
#undef MOVE
	}
	free(copy);
}

static void assert_same(const struct outcome *a, const struct outcome *b)
{
	assert_int_equal(a->r, b->r);
	if (a->r < 0) {
		assert_int_equal(a->status, b->status);
		assert_string_equal(a->error, b->error);
	} else if (a->r > 0) {
		assert_memory_equal(&a->req, &b->req, sizeof(a->req));
	}
}

/* Parses in whole and byte by byte; returns the whole result in *o and the number of
 * bytes after which the parser first answered (len + 1 if it never did). */
static size_t parse_bytewise(struct bytes in, struct outcome *o)
{
	parse_copy(in.p, in.len, o);
	size_t first = in.len + 1;
	for (size_t k = 0; k <= in.len; k++) {
		struct outcome pre;
		parse_copy(in.p, k, &pre);
		if (pre.r == 0) {
			assert_true(first > in.len); /* no going back to need-more */
			continue;
		}
		if (first > in.len)
			first = k;
		assert_same(&pre, o);
	}
	if (o->r > 0)
		assert_int_equal(first, o->req.head_len);
	if (o->r == 0)
		assert_int_equal(first, in.len + 1);
	return first;
}

static void assert_view(struct bytes v, const char *expected)
{
	assert_int_equal(v.len, strlen(expected));
	assert_memory_equal(v.p, expected, v.len);
}

/* A complete head: checks method, target, minor version and the head length. */
static struct outcome ok(struct bytes in, size_t head_len, const char *method, const char *target, int minor)
{
	struct outcome o;
	parse_bytewise(in, &o);
	assert_int_equal(o.r, 1);
	assert_view(o.req.method, method);
	assert_view(o.req.target, target);
	assert_int_equal(o.req.minor, minor);
	assert_int_equal(o.req.head_len, head_len);
	return o;
}

static void bad(struct bytes in, int status, const char *error)
{
	struct outcome o;
	parse_bytewise(in, &o);
	assert_int_equal(o.r, -1);
	assert_int_equal(o.status, status);
	assert_string_equal(o.error, error);
}

static void more(struct bytes in)
{
	struct outcome o;
	parse_bytewise(in, &o);
	assert_int_equal(o.r, 0);
}

#define HEAD(s) BYTES(s), sizeof(s) - 1

static void test_simple_get(void **state)
{
	(void)state;
	struct outcome o = ok(HEAD("GET / HTTP/1.1\r\nHost: mail.example.test\r\nAccept: */*\r\n\r\n"), "GET", "/", 1);
	assert_view(o.req.version, "HTTP/1.1");
	assert_int_equal(o.req.nheaders, 2);
	assert_view(o.req.headers[0].name, "Host");
	assert_view(o.req.headers[0].value, "mail.example.test");
	assert_view(o.req.headers[1].name, "Accept");
	assert_view(o.req.headers[1].value, "*/*");
	assert_true(o.req.keep_alive);
	assert_false(o.req.has_length);
	assert_false(o.req.chunked);
	assert_view(http_header_get(&o.req, "host"), "mail.example.test");
	assert_view(http_header_get(&o.req, "HOST"), "mail.example.test");
	assert_view(http_header_get(&o.req, "Cookie"), "");
}

static void test_forms(void **state)
{
	(void)state;
	struct outcome o;
	/* body bytes after the head are not part of it */
	static const char post[] = "POST /jmap/api HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"using\":[]}\n";
	o = ok((struct bytes){ post, sizeof(post) - 1 }, sizeof(post) - 1 - 13, "POST", "/jmap/api", 1);
	assert_true(o.req.has_length);
	assert_int_equal(o.req.content_length, 13);
	o = ok(HEAD("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), "POST", "/up", 1);
	assert_true(o.req.chunked);
	o = ok(HEAD("POST /up HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"), "POST", "/up", 1);
	assert_true(o.req.chunked);
	o = ok(HEAD("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), "OPTIONS", "*", 1);
	o = ok(HEAD("GET /mail/config-v1.1.xml?emailaddress=demo%40example.test HTTP/1.1\r\n\r\n"), "GET",
	       "/mail/config-v1.1.xml?emailaddress=demo%40example.test", 1);
	assert_int_equal(o.req.nheaders, 0);
	/* bare LF line ends (RFC 9112 §2.2 allows a recipient to accept them) */
	o = ok(HEAD("GET / HTTP/1.1\nHost: x\n\n"), "GET", "/", 1);
	assert_view(o.req.headers[0].value, "x");
	/* leading empty lines are skipped and counted in the head (§2.2) */
	o = ok(HEAD("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), "GET", "/", 1);
	/* OWS around values is trimmed; an empty value is allowed */
	o = ok(HEAD("GET / HTTP/1.1\r\nX-A:   a b \t\r\nX-B:\r\nX-C:\t\r\n\r\n"), "GET", "/", 1);
	assert_view(o.req.headers[0].value, "a b");
	assert_view(o.req.headers[1].value, "");
	assert_view(o.req.headers[2].value, "");
	/* obs-text in a value is allowed */
	o = ok(HEAD("GET / HTTP/1.1\r\nX-Name: J\xc3\xbcrgen\r\n\r\n"), "GET", "/", 1);
	assert_view(o.req.headers[0].value, "J\xc3\xbcrgen");
}

static void test_keep_alive(void **state)
{
	(void)state;
	struct outcome o;
	o = ok(HEAD("GET / HTTP/1.0\r\n\r\n"), "GET", "/", 0);
	assert_false(o.req.keep_alive);
	assert_view(o.req.version, "HTTP/1.0");
	o = ok(HEAD("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), "GET", "/", 0);
	assert_true(o.req.keep_alive);
	o = ok(HEAD("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), "GET", "/", 1);
	assert_false(o.req.keep_alive);
	o = ok(HEAD("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n"), "GET", "/", 1);
	assert_false(o.req.keep_alive);
	o = ok(HEAD("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n"), "GET", "/", 1);
	assert_true(o.req.keep_alive);
}

static void test_need_more(void **state)
{
	(void)state;
	more(BYTES(""));
	more(BYTES("\r\n"));
	more(BYTES("GET / HTT"));
	more(BYTES("GET / HTTP/1.1\r\n"));
	more(BYTES("GET / HTTP/1.1\r\nHost: x\r\n"));
	more(BYTES("GET / HTTP/1.1\r\nHost: x\r\n\r"));
}

static void test_request_line_errors(void **state)
{
	(void)state;
	bad(BYTES("GET\r\n\r\n"), 400, "malformed request line");
	bad(BYTES("GET /\r\n\r\n"), 400, "malformed request line");
	bad(BYTES(" / HTTP/1.1\r\n\r\n"), 400, "malformed request line");
	bad(BYTES("GET  / HTTP/1.1\r\n\r\n"), 400, "malformed request line");
	bad(BYTES("GET / FTP/1.1\r\n\r\n"), 400, "malformed request line");
	bad(BYTES("G(T / HTTP/1.1\r\n\r\n"), 400, "bad method");
	bad(BYTES("G\xc3\x89T / HTTP/1.1\r\n\r\n"), 400, "bad method");
	bad(BYTES("GET /a\x01z HTTP/1.1\r\n\r\n"), 400, "bad request target");
	bad(BYTES("GET /\x7f HTTP/1.1\r\n\r\n"), 400, "bad request target");
	bad(BYTES("GET /\xc3\xa4 HTTP/1.1\r\n\r\n"), 400, "bad request target");
	bad(BYTES("GET / HTTP/2.0\r\n\r\n"), 505, "HTTP version not supported");
	bad(BYTES("GET / HTTP/0.9\r\n\r\n"), 505, "HTTP version not supported");
	bad(BYTES("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505, "HTTP version not supported");
	/* the error comes as soon as the request line is complete */
	struct outcome o;
	assert_int_equal(parse_bytewise(BYTES("GET / HTTP/3\r\nHost: x"), &o), sizeof("GET / HTTP/3\r\n") - 1);
	assert_int_equal(o.status, 505);
}

static void test_field_errors(void **state)
{
	(void)state;
	bad(BYTES("GET / HTTP/1.1\r\nHost x\r\n\r\n"), 400, "malformed header field");
	bad(BYTES("GET / HTTP/1.1\r\n: x\r\n\r\n"), 400, "malformed header field");
	bad(BYTES("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), 400, "malformed header field name");
	bad(BYTES("GET / HTTP/1.1\r\nHo(st: x\r\n\r\n"), 400, "malformed header field name");
	bad(BYTES("GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n"), 400, "control character in header field");
	bad(BYTES("GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n"), 400, "control character in header field");
	/* a bare CR inside a line is not a line end (RFC 9112 §2.2) */
	bad(BYTES("GET / HTTP/1.1\r\nX: a\rSet-Cookie: z\r\n\r\n"), 400, "control character in header field");
}

static void test_obs_fold(void **state)
{
	(void)state;
	/* RFC 9112 §5.2: obs-fold may be rejected with 400 */
	bad(BYTES("GET / HTTP/1.1\r\nX-Long: a\r\n b\r\n\r\n"), 400, "obsolete line folding");
	bad(BYTES("GET / HTTP/1.1\r\nX-Long: a\r\n\tb\r\n\r\n"), 400, "obsolete line folding");
	/* whitespace before the first field (§2.2) */
	bad(BYTES("GET / HTTP/1.1\r\n Host: x\r\n\r\n"), 400, "obsolete line folding");
	/* a folded Transfer-Encoding must not sneak past as a continuation */
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length: 3\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n"), 400,
	    "obsolete line folding");
}

static void test_smuggling(void **state)
{
	(void)state;
	/* RFC 9112 §6.3: both framings is an attack; in either order */
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400,
	    "both Content-Length and Transfer-Encoding");
	bad(BYTES("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"), 400,
	    "both Content-Length and Transfer-Encoding");
	bad(BYTES("POST / HTTP/1.0\r\ncontent-length: 0\r\ntransfer-encoding: CHUNKED\r\n\r\n"), 400,
	    "both Content-Length and Transfer-Encoding");
	/* §6.3 item 5: differing Content-Length values */
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"), 400, "bad Content-Length");
	/* equal duplicates are one length */
	struct outcome o = ok(HEAD("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"), "POST", "/", 1);
	assert_int_equal(o.req.content_length, 5);
	/* a list, sign, space, hex or overflow is not a length */
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n"), 400, "bad Content-Length");
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"), 400, "bad Content-Length");
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400, "bad Content-Length");
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n"), 400, "bad Content-Length");
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n"), 400, "bad Content-Length");
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"), 400, "bad Content-Length");
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"), 400, "bad Content-Length");
	o = ok(HEAD("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n"), "POST", "/", 1);
	assert_int_equal(o.req.content_length, 9223372036854775807ULL);
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n"), 400, "bad Content-Length");
	/* codings other than chunked alone are not implemented (§6.1: 501) */
	bad(BYTES("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 501, "unsupported transfer coding");
	bad(BYTES("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501, "unsupported transfer coding");
	bad(BYTES("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), 501, "unsupported transfer coding");
	bad(BYTES("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n"), 501, "unsupported transfer coding");
	/* space before the colon must not hide a framing header (§5.1: 400) */
	bad(BYTES("POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\n"), 400,
	    "malformed header field name");
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length : 3\r\n\r\n"), 400, "malformed header field name");
	/* a vertical tab or form feed is not OWS */
	bad(BYTES("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\x0b\r\n\r\n"), 400, "control character in header field");
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length: \x0c" "3\r\n\r\n"), 400, "control character in header field");
	/* the differing length fails as soon as its line is complete */
	struct outcome e;
	size_t at = parse_bytewise(BYTES("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\nX"), &e);
	assert_int_equal(at, sizeof("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n") - 1);
}

static void test_too_many_fields(void **state)
{
	(void)state;
	struct buf b = { 0 };
	buf_puts(&b, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS; i++)
		buf_printf(&b, "X-%d: %d\r\n", i, i);
	buf_puts(&b, "\r\n");
	struct outcome o;
	parse_copy(b.data, b.len, &o);
	assert_int_equal(o.r, 1);
	assert_int_equal(o.req.nheaders, HTTP_MAX_HEADERS);
	assert_view(o.req.headers[HTTP_MAX_HEADERS - 1].name, "X-63");
	b.len -= 2;
	buf_puts(&b, "X-64: 64\r\n\r\n");
	parse_bytewise((struct bytes){ b.data, b.len }, &o);
	assert_int_equal(o.r, -1);
	assert_int_equal(o.status, 431);
	assert_string_equal(o.error, "too many header fields");
	buf_free(&b);
}

static void test_nul_bytes(void **state)
{
	(void)state;
	bad(BYTES("GET /a\0b HTTP/1.1\r\n\r\n"), 400, "bad request target");
	bad(BYTES("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"), 400, "control character in header field");
	struct outcome o;
	parse_bytewise(BYTES("GET / HTTP/1.1\0\r\n\r\n"), &o);
	assert_int_equal(o.r, -1);
}

/* Found by tests/fuzz (corpus/http/regress-nul-in-method): is_tchar() used
 * strchr(list, c), which matches the terminating NUL, so a NUL byte passed as a
 * token character in the method and in field names. */
static void test_regress_nul_in_token(void **state)
{
	(void)state;
	bad(BYTES("G\0T / HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "bad method");
	bad(BYTES("GET / HTTP/1.1\r\nHo\0st: x\r\n\r\n"), 400, "malformed header field name");
	bad(BYTES("POST / HTTP/1.1\r\nContent-Length\0: 5\r\n\r\n"), 400, "malformed header field name");
}

static void test_long_input(void **state)
{
	(void)state;
	static char in[1024 * 1024];
	size_t n = sizeof(in);
	/* a 1 MiB request line without an end: the parser asks for more; the session's
	 * head limit turns that into 431 */
	memcpy(in, "GET /", 5);
	memset(in + 5, 'a', n - 5);
	struct outcome o;
	parse_copy(in, n, &o);
	assert_int_equal(o.r, 0);
	/* a 1 MiB field value is parsed as such */
	static const char head[] = "GET / HTTP/1.1\r\nX-Big: ";
	memcpy(in, head, sizeof(head) - 1);
	memset(in + sizeof(head) - 1, 'v', n - sizeof(head) + 1);
	memcpy(in + n - 4, "\r\n\r\n", 4);
	parse_copy(in, n, &o);
	assert_int_equal(o.r, 1);
	assert_int_equal(o.req.head_len, n);
	assert_int_equal(o.req.headers[0].value.len, n - 4 - (sizeof(head) - 1));
}

/* An empty view may have a NULL pointer (an empty struct buf has data == NULL).
 * Passing it to memchr() or doing arithmetic on it is undefined behaviour that the
 * sanitizer build reports; the parser must answer without touching the pointer. */
static void test_empty_null_view(void **state)
{
	(void)state;
	struct http_request req;
	int status = 0;
	const char *error = NULL;
	assert_int_equal(http_parse_request((struct bytes){ NULL, 0 }, &req, &status, &error), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_get),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_need_more),
		cmocka_unit_test(test_request_line_errors),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_obs_fold),
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_regress_nul_in_token),
		cmocka_unit_test(test_long_input), cmocka_unit_test(test_empty_null_view),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
