/* test_admin_req.c: the admin API's request decoder (src/webd/admin_req.c) and the
 * admin routes (route.c): every endpoint's method (no change through GET, no read
 * through POST), required and unknown fields, the syntax checks (domains, addresses,
 * catch-alls, passwords, quotas, queue ids, alias targets), the delete confirmation,
 * the query parameters; /admin/api/ takes GET as a read and POST as a CSRF-checked
 * change; /metrics is open (its own access rule) on both listeners. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "admin.h"
#include "webd_int.h"

#include "settings.h"

#include <stdio.h>
#include <string.h>

static int parse(const char *method, const char *path, const char *query, const char *body, struct arena *a,
		 struct admin_req *r, int *status, const char **err)
{
	return admin_req_parse(method, path, BYTES_STR(query), body, strlen(body), a, r, status, err);
}

static int status_of(const char *method, const char *path, const char *query, const char *body)
{
	struct arena *a = arena_new();
	struct admin_req r;
	int status = 0;
	const char *err = NULL;
	int ret = parse(method, path, query, body, a, &r, &status, &err);
	arena_free(&a);
	return ret > 0 ? 200 : status;
}

static void test_methods(void **state)
{
	(void)state;
	assert_int_equal(status_of("GET", "users", "", ""), 200);
	assert_int_equal(status_of("HEAD", "users", "", ""), 200);
	assert_int_equal(status_of("POST", "users", "", "{}"), 405);
	assert_int_equal(status_of("GET", "users/delete", "address=a@b.test&confirm=a@b.test", ""), 405);
	assert_int_equal(status_of("GET", "queue/delete", "id=X", ""), 405);
	assert_int_equal(status_of("POST", "queue/delete", "", "{\"id\":\"X1\"}"), 200);
	assert_int_equal(status_of("GET", "nope", "", ""), 404);
	assert_int_equal(status_of("GET", "", "", ""), 404);
	assert_int_equal(status_of("GET", "users/", "", ""), 404);
}

static void test_user_add(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct admin_req r;
	int status;
	const char *err;
	assert_int_equal(
		parse("POST", "users/add", "",
		      "{\"address\":\"Ann@Example.TEST\",\"password\":\"p w\",\"quota\":\"10M\",\"admin\":true}", a, &r,
		      &status, &err),
		1);
	assert_int_equal(r.op, ADMIN_USER_ADD);
	assert_true(r.write);
	assert_string_equal(r.address, "Ann@example.test");
	assert_string_equal(r.password, "p w");
	assert_true(r.has_quota);
	assert_int_equal(r.quota, 10 * 1024 * 1024);
	assert_true(r.has_admin && r.admin);
	assert_int_equal(
		parse("POST", "users/quota", "", "{\"address\":\"a@b.test\",\"quota\":0}", a, &r, &status, &err), 1);
	assert_true(r.has_quota);
	assert_int_equal(r.quota, 0);
	arena_free(&a);
}

static void expect_400(const char *path, const char *body, const char *needle)
{
	struct arena *a = arena_new();
	struct admin_req r;
	int status = 0;
	const char *err = NULL;
	assert_int_equal(parse("POST", path, "", body, a, &r, &status, &err), -1);
	assert_int_equal(status, 400);
	if (strstr(err, needle) == NULL)
		fail_msg("%s %s: \"%s\" lacks \"%s\"", path, body, err, needle);
	arena_free(&a);
}

static void test_bad_input(void **state)
{
	(void)state;
	expect_400("users/add", "", "JSON object");
	expect_400("users/add", "[]", "JSON object");
	expect_400("users/add", "{\"address\":\"a@b.test\",\"address\":\"c@b.test\",\"password\":\"x\"}",
		   "JSON object");
	expect_400("users/add", "{\"address\":\"a@b.test\"}", "missing field \"password\"");
	expect_400("users/add", "{\"address\":\"a@b.test\",\"password\":\"x\",\"pasword\":1}", "unknown field");
	expect_400("users/add", "{\"address\":\"ab.test\",\"password\":\"x\"}", "address");
	expect_400("users/add", "{\"address\":\"@b.test\",\"password\":\"x\"}", "address");
	expect_400("users/add", "{\"address\":7,\"password\":\"x\"}", "address");
	expect_400("users/add", "{\"address\":\"a@b.test\",\"password\":\"\"}", "password");
	expect_400("users/add", "{\"address\":\"a@b.test\",\"password\":\"a\\r\\nb\"}", "password");
	expect_400("users/add", "{\"address\":\"a@b.test\",\"password\":\"a\\u0000b\"}",
		   "JSON object"); /* jansson: no NUL */
	expect_400("users/add", "{\"address\":\"a@b.test\",\"password\":\"x\",\"quota\":-1}", "quota");
	expect_400("users/add", "{\"address\":\"a@b.test\",\"password\":\"x\",\"quota\":\"many\"}", "quota");
	expect_400("users/admin", "{\"address\":\"a@b.test\",\"admin\":1}", "admin");
	expect_400("users/delete", "{\"address\":\"a@b.test\",\"confirm\":\"b@b.test\"}", "confirm");
	expect_400("domains/add", "{\"domain\":\"nodot\"}", "domain");
	expect_400("domains/add", "{\"domain\":\"a b.test\"}", "domain");
	expect_400("domains/add", "{\"domain\":\"a@b.test\"}", "domain");
	expect_400("domains/add", "{\"domain\":\".\"}", "domain");
	expect_400("aliases/add", "{\"address\":\"x@b.test\",\"targets\":\"a@b.test\"}", "targets");
	expect_400("aliases/add", "{\"address\":\"x@b.test\",\"targets\":[\"nope\"]}", "targets");
	expect_400("queue/retry", "{\"id\":\"../x\"}", "id");
	expect_400("queue/retry", "{\"id\":\"\"}", "id");
	char big[2000] = "{\"address\":\"x@b.test\",\"targets\":[";
	for (int i = 0; i < 101; i++)
		strcat(big, i ? ",\"a@b.t\"" : "\"a@b.t\"");
	strcat(big, "]}");
	expect_400("aliases/add", big, "targets");
}

static void test_aliases_and_queries(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct admin_req r;
	int status;
	const char *err;
	assert_int_equal(parse("POST", "aliases/add", "",
			       "{\"address\":\"@Shop.TEST.\",\"targets\":[\"a@b.test\",\"c@B.test\"]}", a, &r, &status,
			       &err),
			 1);
	assert_string_equal(r.address, "@shop.test");
	assert_int_equal(r.ntargets, 2);
	assert_string_equal(r.targets[1], "c@b.test");
	assert_int_equal(parse("POST", "users/delete", "", "{\"address\":\"a@b.test\",\"confirm\":\"A@B.test\"}", a, &r,
			       &status, &err),
			 1);
	assert_int_equal(parse("GET", "dns", "domain=Example.ORG.&check=0", "", a, &r, &status, &err), 1);
	assert_string_equal(r.domain, "example.org");
	assert_false(r.check);
	assert_int_equal(parse("GET", "dns", "domain=example.org", "", a, &r, &status, &err), 1);
	assert_true(r.check);
	assert_int_equal(parse("GET", "dns", "", "", a, &r, &status, &err), -1);
	assert_int_equal(status, 400);
	assert_int_equal(parse("GET", "dns", "domain=example.org&check=yes", "", a, &r, &status, &err), -1);
	assert_int_equal(parse("GET", "events", "q=far%40x.test", "", a, &r, &status, &err), 1);
	assert_string_equal(r.query, "far@x.test");
	arena_free(&a);
}

static struct settings settings = { .message_max = 50 * 1024 * 1024 };
static struct webd_listener https_l = { .https = true }, http_l = { .https = false };

static struct web_route route(const struct webd_listener *l, const char *method, const char *path)
{
	struct web_session ws = { .l = l, .s = &settings };
	snprintf(ws.req.method, sizeof(ws.req.method), "%s", method);
	snprintf(ws.req.path, sizeof(ws.req.path), "%s", path);
	web_route_find(&ws);
	return ws.route;
}

static void test_routes(void **state)
{
	(void)state;
	struct web_route r = route(&https_l, "GET", "/admin/api/users");
	assert_ptr_equal(r.fn, web_admin_api);
	assert_int_equal(r.auth, WEB_ROUTE_READ);
	r = route(&https_l, "POST", "/admin/api/users/add");
	assert_ptr_equal(r.fn, web_admin_api);
	assert_int_equal(r.auth, WEB_ROUTE_WRITE);
	r = route(&https_l, "GET", "/admin");
	assert_ptr_equal(r.fn, web_admin_page);
	assert_int_equal(r.auth, WEB_ROUTE_READ);
	r = route(&https_l, "DELETE", "/admin/api/users");
	assert_ptr_equal(r.fn, web_reply_method_not_allowed);
	assert_string_equal(r.allow, "GET, HEAD, POST");
	r = route(&https_l, "GET", "/metrics");
	assert_ptr_equal(r.fn, web_metrics);
	assert_int_equal(r.auth, WEB_ROUTE_OPEN);
	r = route(&http_l, "GET", "/metrics");
	assert_ptr_equal(r.fn, web_metrics);
	r = route(&http_l, "GET", "/admin/api/users");
	assert_ptr_equal(r.fn, web_reply_redirect_https);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_methods),   cmocka_unit_test(test_user_add),
		cmocka_unit_test(test_bad_input), cmocka_unit_test(test_aliases_and_queries),
		cmocka_unit_test(test_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
