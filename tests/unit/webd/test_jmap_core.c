/* test_jmap_core.c: the JMAP Request checks (RFC 8620 §3.3, §3.6.1), JSON pointers
 * with the "*" extension (§3.7, including the RFC's own example), result references
 * and their errors, and the HTTP helpers webd relies on (target splitting with
 * encoded dot segments, query parameters, cookies, gzip negotiation, ETags, Origin). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http_util.h"
#include "jmap_core.h"

#include <string.h>

static const char *const caps[] = { JMAP_CAP_CORE, JMAP_CAP_MAIL, NULL };

static int parse(const char *s, json_t **req, struct jmap_problem *p)
{
	return jmap_parse_request(s, strlen(s), 4, caps, req, p);
}

static void test_request_ok(void **state)
{
	json_t *req;
	struct jmap_problem p;
	assert_int_equal(parse("{\"using\":[\"urn:ietf:params:jmap:core\"],\"methodCalls\":[[\"Core/echo\",{},\"c1\"]]}",
			       &req, &p), 1);
	assert_true(jmap_using(req, JMAP_CAP_CORE));
	assert_false(jmap_using(req, JMAP_CAP_MAIL));
	json_decref(req);
}

static void test_request_problems(void **state)
{
	static const struct {
		const char *in, *type;
	} cases[] = {
		{ "{", JMAP_PROBLEM_NOT_JSON },
		{ "", JMAP_PROBLEM_NOT_JSON },
		{ "[1,2]", JMAP_PROBLEM_NOT_REQUEST },
		{ "{\"using\":[]}", JMAP_PROBLEM_NOT_REQUEST },
		{ "{\"using\":{},\"methodCalls\":[]}", JMAP_PROBLEM_NOT_REQUEST },
		{ "{\"using\":[1],\"methodCalls\":[]}", JMAP_PROBLEM_NOT_REQUEST },
		{ "{\"using\":[\"urn:x\"],\"methodCalls\":[]}", JMAP_PROBLEM_UNKNOWN_CAPABILITY },
		{ "{\"using\":[],\"methodCalls\":[[\"a\",{}]]}", JMAP_PROBLEM_NOT_REQUEST },
		{ "{\"using\":[],\"methodCalls\":[[\"a\",[],\"c\"]]}", JMAP_PROBLEM_NOT_REQUEST },
		{ "{\"using\":[],\"methodCalls\":[[1,{},\"c\"]]}", JMAP_PROBLEM_NOT_REQUEST },
		{ "{\"using\":[],\"methodCalls\":[],\"createdIds\":[]}", JMAP_PROBLEM_NOT_REQUEST },
		{ "{\"using\":[],\"methodCalls\":[],\"createdIds\":{\"a\":1}}", JMAP_PROBLEM_NOT_REQUEST },
		{ "{\"using\":[],\"using\":[],\"methodCalls\":[]}", JMAP_PROBLEM_NOT_JSON },
		{ "{\"using\":[],\"methodCalls\":[[\"a\",{},\"1\"],[\"a\",{},\"2\"],[\"a\",{},\"3\"],[\"a\",{},\"4\"],"
		  "[\"a\",{},\"5\"]]}",
		  JMAP_PROBLEM_LIMIT },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *req = NULL;
		struct jmap_problem p;
		int r = parse(cases[i].in, &req, &p);
		if (r != -1 || strcmp(p.type, cases[i].type) != 0)
			fail_msg("case %zu: %s -> %d %s", i, cases[i].in, r, r < 0 ? p.type : "");
		assert_non_null(p.detail[0] ? p.detail : NULL);
	}
	json_t *req;
	struct jmap_problem p;
	parse("{\"using\":[],\"methodCalls\":[[\"a\",{},\"1\"],[\"a\",{},\"2\"],[\"a\",{},\"3\"],[\"a\",{},\"4\"],"
	      "[\"a\",{},\"5\"]]}",
	      &req, &p);
	assert_string_equal(p.limit, "maxCallsInRequest");
}

static json_t *load(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &e);
	if (j == NULL)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

static void expect_pointer(json_t *doc, const char *path, const char *want)
{
	json_t *r = jmap_pointer(doc, path);
	if (want == NULL) {
		if (r != NULL)
			fail_msg("%s resolved", path);
		return;
	}
	if (r == NULL)
		fail_msg("%s did not resolve", path);
	json_t *w = load(want);
	if (!json_equal(r, w)) {
		char *got = json_dumps(r, JSON_ENCODE_ANY | JSON_COMPACT);
		fail_msg("%s: got %s want %s", path, got, want);
	}
	json_decref(w);
	json_decref(r);
}

static void test_pointer(void **state)
{
	json_t *doc = load("{\"a\":{\"b\":[1,2,{\"c\":3}]},\"x/y\":4,\"m~n\":5,\"list\":[{\"ids\":[\"a\",\"b\"]},"
			   "{\"ids\":[\"c\"]},{\"ids\":\"d\"}]}");
	expect_pointer(doc, "", "{\"a\":{\"b\":[1,2,{\"c\":3}]},\"x/y\":4,\"m~n\":5,\"list\":[{\"ids\":[\"a\",\"b\"]},"
				"{\"ids\":[\"c\"]},{\"ids\":\"d\"}]}");
	expect_pointer(doc, "/a/b/0", "1");
	expect_pointer(doc, "/a/b/2/c", "3");
	expect_pointer(doc, "/x~1y", "4");
	expect_pointer(doc, "/m~0n", "5");
	/* "*": results flattened one level (RFC 8620 §3.7) */
	expect_pointer(doc, "/list/*/ids", "[\"a\",\"b\",\"c\",\"d\"]");
	expect_pointer(doc, "/a/b/3", NULL);
	expect_pointer(doc, "/a/b/01", NULL);
	expect_pointer(doc, "/a/b/-1", NULL);
	expect_pointer(doc, "/a/nope", NULL);
	expect_pointer(doc, "a", NULL);
	expect_pointer(doc, "/m~2n", NULL);
	expect_pointer(doc, "/list/*/nope", NULL);
	expect_pointer(doc, "/a/b/0/x", NULL);
	json_decref(doc);
}

/* The example of RFC 8620 §3.7. */
static void test_rfc_example(void **state)
{
	json_t *responses = load(
		"[[\"Email/query\",{\"accountId\":\"A1\",\"queryState\":\"abcdefg\",\"canCalculateChanges\":true,"
		"\"position\":0,\"total\":101,\"ids\":[\"msg1023\",\"msg223\",\"msg110\",\"msg93\",\"msg91\",\"msg38\","
		"\"msg36\",\"msg33\",\"msg11\",\"msg1\"]},\"t0\"],"
		"[\"Email/get\",{\"accountId\":\"A1\",\"state\":\"123456\",\"list\":[{\"id\":\"msg1023\",\"threadId\":"
		"\"trd194\"},{\"id\":\"msg223\",\"threadId\":\"trd114\"}],\"notFound\":[]},\"t1\"],"
		"[\"Thread/get\",{\"accountId\":\"A1\",\"state\":\"123456\",\"list\":[{\"id\":\"trd194\",\"emailIds\":"
		"[\"msg1020\",\"msg1021\",\"msg1023\"]},{\"id\":\"trd114\",\"emailIds\":[\"msg201\",\"msg223\"]}],"
		"\"notFound\":[]},\"t2\"]]");
	json_t *args = load("{\"accountId\":\"A1\",\"#ids\":{\"resultOf\":\"t2\",\"name\":\"Thread/get\",\"path\":"
			    "\"/list/*/emailIds\"},\"properties\":[\"from\"]}");
	const char *type;
	char desc[256];
	assert_int_equal(jmap_resolve_refs(args, responses, &type, desc, sizeof(desc)), 1);
	json_t *want = load("[\"msg1020\",\"msg1021\",\"msg1023\",\"msg201\",\"msg223\"]");
	assert_true(json_equal(json_object_get(args, "ids"), want));
	assert_null(json_object_get(args, "#ids"));
	json_decref(want);
	json_decref(args);

	static const struct {
		const char *args, *type;
	} bad[] = {
		{ "{\"ids\":[],\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/query\",\"path\":\"/ids\"}}", "invalidArguments" },
		{ "{\"#ids\":{\"resultOf\":\"t9\",\"name\":\"Email/query\",\"path\":\"/ids\"}}", "invalidResultReference" },
		{ "{\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/get\",\"path\":\"/ids\"}}", "invalidResultReference" },
		{ "{\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/query\",\"path\":\"/nope\"}}", "invalidResultReference" },
		{ "{\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/query\"}}", "invalidResultReference" },
		{ "{\"#ids\":\"t0\"}", "invalidResultReference" },
		/* found by fuzz-jmap: a reference must not resolve to another "#" name */
		{ "{\"##ids\":{\"resultOf\":\"t0\",\"name\":\"Email/query\",\"path\":\"/ids\"}}", "invalidArguments" },
		{ "{\"#\":{\"resultOf\":\"t0\",\"name\":\"Email/query\",\"path\":\"/ids\"}}", "invalidArguments" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *a = load(bad[i].args);
		if (jmap_resolve_refs(a, responses, &type, desc, sizeof(desc)) != -1 || strcmp(type, bad[i].type) != 0)
			fail_msg("case %zu: want %s", i, bad[i].type);
		json_decref(a);
	}
	json_decref(responses);
}

static void test_ids(void **state)
{
	assert_true(jmap_id_valid("Mb"));
	assert_true(jmap_id_valid("a-b_C9"));
	assert_false(jmap_id_valid(""));
	assert_false(jmap_id_valid("a b"));
	assert_false(jmap_id_valid("a/b"));
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(jmap_id_valid(big));
}

static void test_http_target(void **state)
{
	char path[256];
	struct bytes q;
	assert_int_equal(http_target_split(BYTES("/static/js/app.js?v=1"), path, sizeof(path), &q), 1);
	assert_string_equal(path, "/static/js/app.js");
	assert_int_equal(q.len, 3);
	assert_int_equal(http_target_split(BYTES("/jmap/download/A1/Bb/a%20b.txt"), path, sizeof(path), &q), 1);
	assert_string_equal(path, "/jmap/download/A1/Bb/a b.txt");
	static const char *const bad[] = {
		"/static/../etc/passwd", "/static/%2e%2e/x", "/static/%2E%2e/x", "/static/.%2e", "/./x", "/static/..",
		"/a%00b", "/a%zz", "/a%2", "x", "", "/a%0d%0a", "/a\\..\\b", "/a%5c..",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (http_target_split(BYTES_STR(bad[i]), path, sizeof(path), &q) != -1)
			fail_msg("accepted %s", bad[i]);
	}
	assert_int_equal(http_target_split(BYTES("/a/..b/c."), path, sizeof(path), &q), 1);
}

static void test_http_helpers(void **state)
{
	char v[64];
	struct bytes q = BYTES("types=*&closeafter=no&ping=30&email=a%40b.test&x=a+b&empty=");
	assert_int_equal(http_query_get(q, "ping", v, sizeof(v)), 1);
	assert_string_equal(v, "30");
	assert_int_equal(http_query_get(q, "email", v, sizeof(v)), 1);
	assert_string_equal(v, "a@b.test");
	assert_int_equal(http_query_get(q, "x", v, sizeof(v)), 1);
	assert_string_equal(v, "a b");
	assert_int_equal(http_query_get(q, "empty", v, sizeof(v)), 1);
	assert_string_equal(v, "");
	assert_int_equal(http_query_get(q, "nope", v, sizeof(v)), 0);
	assert_int_equal(http_query_get(BYTES("a=%00"), "a", v, sizeof(v)), -1);

	struct bytes c = http_cookie_get(BYTES("a=1; postamt_session=tok-123; b=\"q\""), "postamt_session");
	assert_int_equal(c.len, 7);
	assert_memory_equal(c.p, "tok-123", 7);
	c = http_cookie_get(BYTES("xpostamt_session=1"), "postamt_session");
	assert_int_equal(c.len, 0);
	c = http_cookie_get(BYTES("b=\"q\""), "b");
	assert_int_equal(c.len, 1);

	assert_true(http_accepts_gzip(BYTES("gzip, deflate, br")));
	assert_true(http_accepts_gzip(BYTES("br;q=1.0, gzip;q=0.8")));
	assert_false(http_accepts_gzip(BYTES("gzip;q=0")));
	assert_false(http_accepts_gzip(BYTES("deflate")));
	assert_false(http_accepts_gzip(BYTES("")));

	assert_true(http_etag_matches(BYTES("\"abc\""), "abc"));
	assert_true(http_etag_matches(BYTES("W/\"x\", \"abc\""), "abc"));
	assert_true(http_etag_matches(BYTES("*"), "abc"));
	assert_false(http_etag_matches(BYTES("\"abcd\""), "abc"));

	assert_true(http_origin_matches(BYTES("https://localhost:10443"), BYTES("localhost:10443")));
	assert_false(http_origin_matches(BYTES("https://evil.test"), BYTES("localhost:10443")));
	assert_false(http_origin_matches(BYTES("http://localhost:10443"), BYTES("localhost:10443")));
	assert_false(http_origin_matches(BYTES("null"), BYTES("localhost")));

	char enc[64];
	assert_true(http_pct_encode("a b/ü.txt", enc, sizeof(enc)) > 0);
	assert_string_equal(enc, "a%20b%2F%C3%BC.txt");

	/* inline downloads: PDF and raster images only (attachment previews) */
	assert_true(http_inline_type_ok("application/pdf"));
	assert_true(http_inline_type_ok("IMAGE/PNG"));
	assert_true(http_inline_type_ok("image/jpeg"));
	assert_false(http_inline_type_ok("image/svg+xml"));
	assert_false(http_inline_type_ok("text/html"));
	assert_false(http_inline_type_ok("image/png; charset=x"));
	assert_false(http_inline_type_ok(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_ok),   cmocka_unit_test(test_request_problems),
		cmocka_unit_test(test_pointer),      cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_ids),          cmocka_unit_test(test_http_target),
		cmocka_unit_test(test_http_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
