/* test_acme_parse.c: the ACME client's pure parsers: https URLs, the CA's HTTP/1.1
 * responses (Content-Length, chunked, until close; limits, hostile heads), the JSON
 * objects of RFC 8555 §7.1 (directory, account, order, authorization, challenge,
 * problem) and RFC 9773's renewalInfo, strict about types, URLs and duplicates, and
 * RFC 3339 dates. */
#include "acme_int.h"
#include "arena.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S(lit) (const unsigned char *)(lit), strlen(lit)

static void test_url(void **state)
{
	(void)state;
	struct acme_url u;
	const char *err = NULL;
	assert_int_equal(acme_url_parse("https://ca.example/dir", &u, &err), 1);
	assert_string_equal(u.host, "ca.example");
	assert_string_equal(u.port, "443");
	assert_string_equal(u.path, "/dir");
	assert_int_equal(acme_url_parse("https://127.0.0.1:14000", &u, &err), 1);
	assert_string_equal(u.port, "14000");
	assert_string_equal(u.path, "/");
	assert_int_equal(acme_url_parse("https://[::1]:8443/a?b=c#frag", &u, &err), 1);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "8443");
	assert_string_equal(u.path, "/a?b=c");
	assert_int_equal(acme_url_parse("https://h:000000000000000443/", &u, &err), 1);
	assert_string_equal(u.port, "443");
	assert_int_equal(acme_url_parse("https://h?q", &u, &err), 1);
	assert_string_equal(u.path, "/?q");

	const char *bad[][2] = {
		{ "http://ca.example/dir", "not an https URL" },
		{ "https://user@ca.example/", "URL has user information" },
		{ "https://ca.example:0/", "URL has a bad port" },
		{ "https://ca.example:65536/", "URL has a bad port" },
		{ "https://ca.example:/", "URL has a bad port" },
		{ "https://ca.example:8a/", "URL has a bad port" },
		{ "https:///x", "URL has no host" },
		{ "https://[::1/", "URL has a bad IPv6 address" },
		{ "https://[::1]x/", "URL has a bad port" },
		{ "https://ca.example/a b", "URL has a space or control character" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(acme_url_parse(bad[i][0], &u, &err), -1);
		assert_string_equal(err, bad[i][1]);
	}
	char *huge = malloc(ACME_URL_MAX + 16);
	strcpy(huge, "https://h/");
	memset(huge + 10, 'a', ACME_URL_MAX);
	huge[ACME_URL_MAX + 10] = '\0';
	assert_int_equal(acme_url_parse(huge, &u, &err), -1);
	assert_string_equal(err, "URL too long");
	free(huge);
}

static int http(const char *text, bool eof, size_t max, struct arena *a, struct acme_http_response *r, const char **err)
{
	memset(r, 0, sizeof(*r));
	*err = NULL;
	return acme_http_response_parse((const unsigned char *)text, strlen(text), eof, max, a, r, err);
}

static void test_http_length(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct acme_http_response r;
	const char *err;
	const char *full = "HTTP/1.1 201 Created\r\nReplay-Nonce:  abc_DEF-1 \r\nlocation: https://ca/acct/1\r\n"
			   "Content-Type: application/json; charset=utf-8\r\nRetry-After: 30\r\n"
			   "Content-Length: 11\r\n\r\n{\"a\":\"b\"}\r\n";
	assert_int_equal(http(full, false, 1024, a, &r, &err), 1);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.nonce, "abc_DEF-1");
	assert_string_equal(r.location, "https://ca/acct/1");
	assert_string_equal(r.ctype, "application/json");
	assert_int_equal(r.retry_after, 30);
	assert_int_equal(r.body_len, 11);
	assert_memory_equal(r.body, "{\"a\":\"b\"}\r\n", 11);
	assert_int_equal(r.body[11], '\0');
	/* every strict prefix needs more */
	for (size_t n = 0; n < strlen(full); n++) {
		memset(&r, 0, sizeof(r));
		err = NULL;
		assert_int_equal(acme_http_response_parse((const unsigned char *)full, n, false, 1024, a, &r, &err), 0);
	}
	/* ... and is an error once the peer closed */
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", true, 1024, a, &r, &err), -1);
	assert_string_equal(err, "connection closed before the body ended");
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-", true, 1024, a, &r, &err), -1);
	assert_string_equal(err, "connection closed before the response head ended");
	/* no field: the body ends with the connection; Retry-After as a date is -1 */
	assert_int_equal(http("HTTP/1.1 200 OK\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\nxyz", false, 1024,
			      a, &r, &err),
			 0);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\nxyz", true, 1024, a,
			      &r, &err),
			 1);
	assert_int_equal(r.body_len, 3);
	assert_int_equal(r.retry_after, -1);
	assert_null(r.nonce);
	arena_free(&a);
}

static void test_http_chunked(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct acme_http_response r;
	const char *err;
	const char *full = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n"
			   "0\r\n\r\n";
	assert_int_equal(http(full, false, 1024, a, &r, &err), 1);
	assert_int_equal(r.body_len, 9);
	assert_string_equal((const char *)r.body, "Wikipedia");
	for (size_t n = 0; n < strlen(full); n++) {
		memset(&r, 0, sizeof(r));
		assert_int_equal(acme_http_response_parse((const unsigned char *)full, n, false, 1024, a, &r, &err), 0);
	}
	assert_int_equal(http("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, 1024, a, &r, &err),
			 -1);
	assert_string_equal(err, "bad chunk size");
	assert_int_equal(
		http("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWikiXX", false, 1024, a, &r, &err), -1);
	assert_string_equal(err, "chunk not followed by CRLF");
	/* a chunk size that overflows, or chunks that add up past the limit */
	assert_int_equal(http("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\n", false,
			      1024, a, &r, &err),
			 -1);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n",
			      false, 12, a, &r, &err),
			 -1);
	assert_string_equal(err, "response body too large");
	assert_int_equal(http("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, 1024, a, &r, &err), -1);
	assert_string_equal(err, "unsupported Transfer-Encoding");
	assert_int_equal(http("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWi", true, 1024, a, &r, &err),
			 -1);
	arena_free(&a);
}

static void test_http_hostile(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct acme_http_response r;
	const char *err;
	const char *bad[][2] = {
		{ "HTTP/1.1 2000 OK\r\n\r\n", "bad HTTP status line" },
		{ "HTTP/1.1 099 OK\r\n\r\n", "bad HTTP status code" },
		{ "SMTP 220 hello\r\n\r\n", "bad HTTP status line" },
		{ "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "bad header field" },
		{ "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "bad header field name" },
		{ "HTTP/1.1 200 OK\r\nX: a\001b\r\n\r\n", "control character in a header field" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "bad Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "bad Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", "response body too large" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(http(bad[i][0], false, 1024, a, &r, &err), -1);
		assert_string_equal(err, bad[i][1]);
	}
	/* a body without framing that passes the limit before the close */
	char body[2100];
	snprintf(body, sizeof(body), "HTTP/1.1 200 OK\r\n\r\n%02000d", 0);
	assert_int_equal(http(body, false, 1024, a, &r, &err), -1);
	assert_string_equal(err, "response body too large");
	/* a head that never ends */
	size_t n = ACME_HTTP_HEAD_MAX + 100;
	char *head = malloc(n + 1);
	memset(head, 'a', n);
	memcpy(head, "HTTP/1.1 200 OK\r\nX: ", 20);
	head[n] = '\0';
	assert_int_equal(http(head, false, 1024, a, &r, &err), -1);
	assert_string_equal(err, "response head too long");
	free(head);
	arena_free(&a);
}

static void test_directory(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct acme_directory d;
	const char *err = NULL;
	const char *ok = "{\"newNonce\":\"https://ca/nonce\",\"newAccount\":\"https://ca/acct\",\"newOrder\":"
			 "\"https://ca/order\",\"renewalInfo\":\"https://ca/ari\",\"revokeCert\":\"https://ca/r\","
			 "\"meta\":{\"termsOfService\":\"https://ca/tos\",\"externalAccountRequired\":false}}";
	assert_int_equal(acme_directory_parse(S(ok), a, &d, &err), 1);
	assert_string_equal(d.new_nonce, "https://ca/nonce");
	assert_string_equal(d.new_account, "https://ca/acct");
	assert_string_equal(d.new_order, "https://ca/order");
	assert_string_equal(d.renewal_info, "https://ca/ari");
	assert_string_equal(d.terms, "https://ca/tos");
	assert_false(d.eab_required);
	assert_int_equal(
		acme_directory_parse(S("{\"newNonce\":\"https://a/n\",\"newAccount\":\"https://a/a\","
				       "\"newOrder\":\"https://a/o\",\"meta\":{\"externalAccountRequired\":true}}"),
				     a, &d, &err),
		1);
	assert_null(d.renewal_info);
	assert_true(d.eab_required);

	const char *bad[][2] = {
		{ "[1]", "answer is not a JSON object" },
		{ "{", "answer is not valid JSON" },
		{ "{\"newNonce\":\"https://a/n\",\"newNonce\":\"https://a/n\"}", "answer is not valid JSON" },
		{ "{\"newNonce\":\"https://a/n\",\"newAccount\":\"https://a/a\"}", "member newOrder is missing" },
		{ "{\"newNonce\":\"http://a/n\",\"newAccount\":\"https://a/a\",\"newOrder\":\"https://a/o\"}",
		  "member newNonce: not an https URL" },
		{ "{\"newNonce\":5,\"newAccount\":\"https://a/a\",\"newOrder\":\"https://a/o\"}",
		  "member newNonce is not a string" },
		{ "{\"newNonce\":\"https://a/n\",\"newAccount\":\"https://a/a\",\"newOrder\":\"https://a/o\",\"meta\":1}",
		  "member meta is not an object" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(acme_directory_parse(S(bad[i][0]), a, &d, &err), -1);
		assert_string_equal(err, bad[i][1]);
	}
	/* a NUL inside, and more than ACME_JSON_MAX bytes */
	assert_int_equal(acme_directory_parse((const unsigned char *)"{\"a\":\"b\0\"}", 10, a, &d, &err), -1);
	size_t n = ACME_JSON_MAX + 1;
	unsigned char *big = malloc(n);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	assert_int_equal(acme_directory_parse(big, n, a, &d, &err), -1);
	assert_string_equal(err, "JSON answer too large");
	free(big);
	arena_free(&a);
}

static void test_order(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct acme_order o;
	const char *err = NULL;
	assert_int_equal(acme_order_parse(S("{\"status\":\"pending\",\"expires\":\"2030-01-01T00:00:00Z\","
					    "\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}],"
					    "\"authorizations\":[\"https://ca/authz/1\",\"https://ca/authz/2\"],"
					    "\"finalize\":\"https://ca/fin/1\"}"),
					  a, &o, &err),
			 1);
	assert_int_equal(o.status, ACME_PENDING);
	assert_int_equal(o.nauthorizations, 2);
	assert_string_equal(o.authorizations[1], "https://ca/authz/2");
	assert_string_equal(o.finalize, "https://ca/fin/1");
	assert_null(o.certificate);
	assert_false(o.has_error);
	assert_int_equal(acme_order_parse(S("{\"status\":\"valid\",\"authorizations\":[\"https://ca/z\"],"
					    "\"finalize\":\"https://ca/f\",\"certificate\":\"https://ca/cert/1\"}"),
					  a, &o, &err),
			 1);
	assert_string_equal(o.certificate, "https://ca/cert/1");
	assert_string_equal(acme_status_name(o.status), "valid");
	assert_int_equal(
		acme_order_parse(S("{\"status\":\"invalid\",\"authorizations\":[\"https://ca/z\"],"
				   "\"finalize\":\"https://ca/f\",\"error\":{\"type\":"
				   "\"urn:ietf:params:acme:error:unauthorized\",\"detail\":\"no\",\"status\":403}}"),
				 a, &o, &err),
		1);
	assert_true(o.has_error);
	assert_string_equal(o.error.type, "urn:ietf:params:acme:error:unauthorized");
	assert_string_equal(o.error.detail, "no");
	assert_int_equal(o.error.status, 403);

	const char *bad[][2] = {
		{ "{\"status\":\"valid\",\"authorizations\":[\"https://ca/z\"],\"finalize\":\"https://ca/f\"}",
		  "valid order without a certificate URL" },
		{ "{\"status\":\"bogus\",\"authorizations\":[\"https://ca/z\"],\"finalize\":\"https://ca/f\"}",
		  "unknown status" },
		{ "{\"authorizations\":[\"https://ca/z\"],\"finalize\":\"https://ca/f\"}",
		  "member status is missing or not a string" },
		{ "{\"status\":\"pending\",\"authorizations\":[],\"finalize\":\"https://ca/f\"}",
		  "member authorizations is not a list of 1 to 100 URLs" },
		{ "{\"status\":\"pending\",\"authorizations\":\"https://ca/z\",\"finalize\":\"https://ca/f\"}",
		  "member authorizations is not a list of 1 to 100 URLs" },
		{ "{\"status\":\"pending\",\"authorizations\":[\"http://ca/z\"],\"finalize\":\"https://ca/f\"}",
		  "an authorization is not an https URL" },
		{ "{\"status\":\"pending\",\"authorizations\":[7],\"finalize\":\"https://ca/f\"}",
		  "an authorization is not an https URL" },
		{ "{\"status\":\"pending\",\"authorizations\":[\"https://ca/z\"]}", "member finalize is missing" },
		{ "{\"status\":\"pending\",\"authorizations\":[\"https://ca/z\"],\"finalize\":\"https://ca/f\","
		  "\"error\":\"x\"}",
		  "member error is not an object" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(acme_order_parse(S(bad[i][0]), a, &o, &err), -1);
		assert_string_equal(err, bad[i][1]);
	}
	/* more than ACME_LIST_MAX authorizations */
	char *many = malloc(64 * 1024);
	size_t len =
		(size_t)sprintf(many, "{\"status\":\"pending\",\"finalize\":\"https://ca/f\",\"authorizations\":[");
	for (int i = 0; i <= ACME_LIST_MAX; i++)
		len += (size_t)sprintf(many + len, "%s\"https://ca/z/%d\"", i ? "," : "", i);
	strcpy(many + len, "]}");
	assert_int_equal(acme_order_parse((const unsigned char *)many, strlen(many), a, &o, &err), -1);
	free(many);
	arena_free(&a);
}

static void test_authz_challenge(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct acme_authz az;
	const char *err = NULL;
	assert_int_equal(
		acme_authz_parse(S("{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
				   "\"challenges\":[{\"type\":\"http-01\",\"url\":\"https://ca/c/1\",\"status\":"
				   "\"pending\",\"token\":\"tok_EN-1\"},{\"type\":\"tls-alpn-01\",\"url\":"
				   "\"https://ca/c/2\",\"status\":\"pending\",\"token\":\"tok2\"},{\"type\":"
				   "\"future-99\",\"url\":\"https://ca/c/3\",\"status\":\"pending\"}]}"),
				 a, &az, &err),
		1);
	assert_string_equal(az.identifier, "a.test");
	assert_int_equal(az.status, ACME_PENDING);
	assert_false(az.wildcard);
	assert_int_equal(az.nchallenges, 3);
	assert_string_equal(az.challenges[0].type, "http-01");
	assert_string_equal(az.challenges[0].token, "tok_EN-1");
	assert_string_equal(az.challenges[1].type, "tls-alpn-01");
	assert_string_equal(az.challenges[1].url, "https://ca/c/2");
	assert_null(az.challenges[2].token);
	/* a type we do not use keeps no token that is not a base64url word */
	struct acme_challenge c0;
	assert_int_equal(acme_challenge_parse(S("{\"type\":\"x-99\",\"url\":\"https://ca/c\",\"status\":\"pending\","
						"\"token\":\"../x\"}"),
					      a, &c0, &err),
			 1);
	assert_null(c0.token);

	const char *bad[][2] = {
		{ "{\"status\":\"pending\",\"identifier\":{\"type\":\"ip\",\"value\":\"1.2.3.4\"},\"challenges\":[]}",
		  "authorization for an identifier that is not dns" },
		{ "{\"status\":\"pending\",\"challenges\":[]}", "authorization without an identifier" },
		{ "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a\"},\"challenges\":{}}",
		  "member challenges is not a list of at most 100" },
		{ "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a\"},\"challenges\":[1]}",
		  "a challenge is not an object" },
		{ "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a\"},\"challenges\":[{\"url\":"
		  "\"https://ca/c\",\"status\":\"pending\"}]}",
		  "challenge without a type" },
		/* a token that would escape the well-known path */
		{ "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a\"},\"challenges\":[{\"type\":"
		  "\"http-01\",\"url\":\"https://ca/c\",\"status\":\"pending\",\"token\":\"../../etc/passwd\"}]}",
		  "challenge token is missing or not a base64url word" },
		{ "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a\"},\"challenges\":[{\"type\":"
		  "\"tls-alpn-01\",\"url\":\"https://ca/c\",\"status\":\"pending\"}]}",
		  "challenge token is missing or not a base64url word" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(acme_authz_parse(S(bad[i][0]), a, &az, &err), -1);
		assert_string_equal(err, bad[i][1]);
	}

	struct acme_challenge c;
	assert_int_equal(acme_challenge_parse(S("{\"type\":\"http-01\",\"url\":\"https://ca/c\",\"status\":\"invalid\","
						"\"token\":\"t\",\"error\":{\"type\":\"urn:ietf:params:acme:error:"
						"connection\",\"detail\":\"refused\"}}"),
					      a, &c, &err),
			 1);
	assert_int_equal(c.status, ACME_INVALID);
	assert_true(c.has_error);
	assert_string_equal(c.error.detail, "refused");
	assert_int_equal(acme_challenge_parse(S("{\"type\":\"http-01\",\"url\":\"https://ca/c\",\"status\":\"valid\","
						"\"token\":\"\"}"),
					      a, &c, &err),
			 -1);
	arena_free(&a);
}

static void test_problem_account(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *err = NULL;
	struct acme_problem p;
	assert_int_equal(acme_problem_parse(S("{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"old\","
					      "\"status\":400}"),
					    a, &p, &err),
			 1);
	assert_string_equal(p.type, "urn:ietf:params:acme:error:badNonce");
	assert_int_equal(p.status, 400);
	assert_int_equal(acme_problem_parse(S("{}"), a, &p, &err), 1);
	assert_string_equal(p.type, "");
	assert_string_equal(p.detail, "");
	assert_int_equal(acme_problem_parse(S("{\"type\":[]}"), a, &p, &err), -1);
	struct acme_account acct;
	assert_int_equal(acme_account_parse(S("{\"status\":\"valid\",\"contact\":[\"mailto:a@b\"]}"), a, &acct, &err),
			 1);
	assert_int_equal(acct.status, ACME_VALID);
	assert_int_equal(acme_account_parse(S("{\"status\":\"revoked\"}"), a, &acct, &err), 1);
	assert_int_equal(acct.status, ACME_REVOKED);
	assert_int_equal(acme_account_parse(S("{\"status\":7}"), a, &acct, &err), -1);
	arena_free(&a);
}

static void test_renewal_info_and_time(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *err = NULL;
	time_t t;
	assert_int_equal(acme_time_parse("2025-01-02T03:04:05Z", &t), 1);
	assert_int_equal((long long)t, 1735787045LL);
	assert_int_equal(acme_time_parse("2025-01-02T03:04:05.678Z", &t), 1);
	assert_int_equal((long long)t, 1735787045LL);
	assert_int_equal(acme_time_parse("2025-01-02T04:04:05+01:00", &t), 1);
	assert_int_equal((long long)t, 1735787045LL);
	assert_int_equal(acme_time_parse("2025-01-02t03:04:05z", &t), 1);
	assert_int_equal(acme_time_parse("2025-13-02T03:04:05Z", &t), -1);
	assert_int_equal(acme_time_parse("2025-01-02 03:04:05", &t), -1);
	assert_int_equal(acme_time_parse("2025-01-02T03:04:05Zjunk", &t), -1);
	assert_int_equal(acme_time_parse("", &t), -1);

	struct acme_renewal_info ri;
	assert_int_equal(acme_renewal_info_parse(S("{\"suggestedWindow\":{\"start\":\"2025-01-02T03:04:05Z\",\"end\":"
						   "\"2025-01-03T03:04:05Z\"},\"explanationURL\":\"https://ca/why\"}"),
						 a, &ri, &err),
			 1);
	assert_int_equal((long long)ri.start, 1735787045LL);
	assert_int_equal((long long)(ri.end - ri.start), 86400);
	assert_string_equal(ri.explanation, "https://ca/why");
	assert_int_equal(acme_renewal_info_parse(S("{\"suggestedWindow\":{\"start\":\"2025-01-03T03:04:05Z\",\"end\":"
						   "\"2025-01-02T03:04:05Z\"}}"),
						 a, &ri, &err),
			 -1);
	assert_string_equal(err, "suggestedWindow ends before it starts");
	assert_int_equal(acme_renewal_info_parse(S("{\"suggestedWindow\":{\"start\":\"soon\",\"end\":"
						   "\"2025-01-02T03:04:05Z\"}}"),
						 a, &ri, &err),
			 -1);
	assert_string_equal(err, "suggestedWindow has a bad date");
	assert_int_equal(acme_renewal_info_parse(S("{}"), a, &ri, &err), -1);
	assert_string_equal(err, "renewalInfo without a suggestedWindow");
	arena_free(&a);
}

static void test_renewal_pick_and_retry(void **state)
{
	(void)state;
	struct acme_renewal_info ri = { .start = 1000, .end = 1000 };
	assert_int_equal((long)acme_renewal_pick(&ri, 12345), 1000); /* an empty window: no division by 0 */
	ri.end = 1100;
	assert_int_equal((long)acme_renewal_pick(&ri, 250), 1050);
	ri.start = 0;
	ri.end = (time_t)1 << 40; /* wider than 32 bits */
	assert_int_equal((long)acme_renewal_pick(&ri, 0xffffffffu), 0xffffffffL);
	/* 60, 120, 240 ... up to retry_max; a longer Retry-After wins, a hostile one is capped */
	assert_int_equal(acme_retry_delay(1, 60, 86400, -1), 60);
	assert_int_equal(acme_retry_delay(2, 60, 86400, -1), 120);
	assert_int_equal(acme_retry_delay(4, 60, 86400, -1), 480);
	assert_int_equal(acme_retry_delay(40, 60, 86400, -1), 86400);
	assert_int_equal(acme_retry_delay(1, 60, 86400, 3600), 3600);
	assert_int_equal(acme_retry_delay(1, 60, 86400, 10), 60);
	assert_int_equal(acme_retry_delay(1, 60, 86400, 999999999999999999L), ACME_RETRY_AFTER_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_http_length),
		cmocka_unit_test(test_http_chunked),
		cmocka_unit_test(test_http_hostile),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_authz_challenge),
		cmocka_unit_test(test_problem_account),
		cmocka_unit_test(test_renewal_info_and_time),
		cmocka_unit_test(test_renewal_pick_and_retry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
