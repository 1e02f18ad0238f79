/* test_route.c: webd's routing table (src/webd/route.c), from the request's head
 * alone: each path's handler, authentication kind and body limit; a wrong method is
 * 405 with the path's Allow and needs no authentication (HEAD on the EventSource
 * path included); an unknown path is 404; the plain-HTTP listener serves only the
 * autoconfiguration paths and redirects the rest; unauthenticated routes take at
 * most WEB_UNAUTH_BODY_MAX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "webd_int.h"

#include "settings.h"

#include <stdio.h>
#include <string.h>

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
	struct web_route r = route(&https_l, "POST", "/jmap/api");
	assert_ptr_equal(r.fn, web_jmap_api);
	assert_int_equal(r.auth, WEB_ROUTE_WRITE);
	assert_int_equal(r.body_max, WEB_JSON_MAX);
	assert_true(r.json);
	r = route(&https_l, "POST", "/jmap/api/");
	assert_ptr_equal(r.fn, web_jmap_api);
	r = route(&https_l, "POST", "/jmap/upload/A1/");
	assert_ptr_equal(r.fn, web_jmap_upload);
	assert_int_equal(r.auth, WEB_ROUTE_WRITE);
	assert_int_equal(r.body_max, settings.message_max);
	assert_false(r.json);
	r = route(&https_l, "GET", "/jmap/download/A1/B2/x.txt");
	assert_ptr_equal(r.fn, web_jmap_download);
	assert_int_equal(r.auth, WEB_ROUTE_READ);
	assert_int_equal(r.body_max, WEB_SMALL_BODY_MAX);
	r = route(&https_l, "HEAD", "/jmap/download/A1/B2/x.txt");
	assert_ptr_equal(r.fn, web_jmap_download);
	r = route(&https_l, "GET", "/.well-known/jmap");
	assert_ptr_equal(r.fn, web_jmap_session);
	assert_int_equal(r.auth, WEB_ROUTE_READ);
	r = route(&https_l, "GET", "/jmap/eventsource");
	assert_ptr_equal(r.fn, web_push_start);
	r = route(&https_l, "POST", "/api/login");
	assert_ptr_equal(r.fn, web_api_login);
	assert_int_equal(r.auth, WEB_ROUTE_OPEN);
	assert_int_equal(r.body_max, WEB_UNAUTH_BODY_MAX);
	r = route(&https_l, "POST", "/api/logout-everywhere");
	assert_ptr_equal(r.fn, web_api_logout_everywhere);
	assert_int_equal(r.auth, WEB_ROUTE_WRITE);
	r = route(&https_l, "GET", "/api/mobileconfig");
	assert_ptr_equal(r.fn, web_mobileconfig_user);
	assert_int_equal(r.auth, WEB_ROUTE_READ);
	r = route(&https_l, "GET", "/api/session-check");
	assert_ptr_equal(r.fn, web_api_session_check);
	assert_int_equal(r.auth, WEB_ROUTE_OPEN);
	/* the autoconfiguration paths: any method (the handler checks), on both listeners */
	r = route(&https_l, "POST", "/autodiscover/autodiscover.xml");
	assert_ptr_equal(r.fn, web_autoconfig);
	assert_int_equal(r.auth, WEB_ROUTE_OPEN);
	assert_int_equal(r.body_max, WEB_UNAUTH_BODY_MAX);
	r = route(&http_l, "GET", "/.well-known/autoconfig/mail/config-v1.1.xml");
	assert_ptr_equal(r.fn, web_autoconfig);
}

static void test_refusals_need_no_authentication(void **state)
{
	(void)state;
	struct web_route r = route(&https_l, "GET", "/jmap/api");
	assert_ptr_equal(r.fn, web_reply_method_not_allowed);
	assert_string_equal(r.allow, "POST");
	assert_int_equal(r.auth, WEB_ROUTE_OPEN);
	assert_int_equal(r.body_max, WEB_UNAUTH_BODY_MAX);
	r = route(&https_l, "HEAD", "/jmap/eventsource");
	assert_ptr_equal(r.fn, web_reply_method_not_allowed);
	assert_string_equal(r.allow, "GET");
	r = route(&https_l, "DELETE", "/");
	assert_ptr_equal(r.fn, web_reply_method_not_allowed);
	assert_string_equal(r.allow, "GET, HEAD");
	r = route(&https_l, "POST", "/jmap/download/A1/B2/x");
	assert_ptr_equal(r.fn, web_reply_method_not_allowed);
	assert_int_equal(r.auth, WEB_ROUTE_OPEN);
	r = route(&https_l, "GET", "/nonexistent");
	assert_ptr_equal(r.fn, web_reply_not_found);
	assert_int_equal(r.auth, WEB_ROUTE_OPEN);
	assert_int_equal(r.body_max, WEB_UNAUTH_BODY_MAX);
	r = route(&https_l, "GET", "/jmap/apix");
	assert_ptr_equal(r.fn, web_reply_not_found);
	r = route(&https_l, "GET", ""); /* an undecodable path */
	assert_ptr_equal(r.fn, web_reply_not_found);
	/* plain HTTP: everything else goes to HTTPS, unknown paths and wrong methods too */
	r = route(&http_l, "POST", "/jmap/api");
	assert_ptr_equal(r.fn, web_reply_redirect_https);
	assert_int_equal(r.auth, WEB_ROUTE_OPEN);
	r = route(&http_l, "DELETE", "/nonexistent");
	assert_ptr_equal(r.fn, web_reply_redirect_https);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_refusals_need_no_authentication),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
