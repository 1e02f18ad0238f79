/* route.c: the router: one table of what webd serves, and the dispatcher.
 *
 * Each row is a path (exact, or a prefix ending in "/", or a matcher function for
 * the autoconfiguration paths), the methods it takes (for anything else: 405 with
 * Allow, without authentication), the authentication it needs (none; a login
 * session or HTTP Basic; the same plus the CSRF check for state-changing
 * requests), the class of body it may have (its largest size; JSON routes also
 * need Content-Type: application/json) and the handler. web_route_find picks the
 * row from the request's head alone, so session.c authenticates and refuses
 * before any body byte is read (an unauthenticated route takes at most
 * WEB_UNAUTH_BODY_MAX, an authenticated one has message memory reserved as its
 * bytes arrive). On the plain-HTTP listener only rows marked `http` are served;
 * every other path is redirected to HTTPS with 301. An unknown path is 404. The
 * handlers live in their own files; this file only names them. */
#include "webd_int.h"

#include <stdio.h>
#include <string.h>

enum {
	M_GET = 1 << 0,
	M_HEAD = 1 << 1,
	M_POST = 1 << 2,
	M_ANY = 0, /* the handler checks the method itself */
};

enum body_class {
	BODY_UNAUTH,  /* WEB_UNAUTH_BODY_MAX: no authentication */
	BODY_SMALL,   /* WEB_SMALL_BODY_MAX: authenticated, small body */
	BODY_JSON,    /* WEB_JSON_MAX, application/json only */
	BODY_MESSAGE, /* limits.message_size: an upload */
};

struct route_row {
	const char *path;                  /* exact, or a prefix when it ends in '/' and prefix */
	bool prefix;
	bool (*match)(const char *path);   /* instead of path */
	unsigned methods;
	enum web_route_auth auth;
	enum body_class body;
	bool http;                         /* served on the plain-HTTP listener too */
	void (*fn)(struct web_session *ws);
};

static void static_index(struct web_session *ws)
{
	web_static(ws, "index.html");
}

static void static_file(struct web_session *ws)
{
	const char *name = ws->req.path + strlen("/static/");
	if (strcmp(name, "admin.html") == 0) { /* only through /admin, for admins */
		web_reply_not_found(ws);
		return;
	}
	web_static(ws, name);
}

#define GET (M_GET | M_HEAD)
static const struct route_row routes[] = {
	/* path                      prefix match                methods auth              body          http fn */
	{ NULL,                      false, web_autoconfig_path, M_ANY,  WEB_ROUTE_OPEN,  BODY_UNAUTH,  true, web_autoconfig },
	{ "/",                       false, NULL,                GET,    WEB_ROUTE_OPEN,  BODY_UNAUTH,  false, static_index },
	{ "/index.html",             false, NULL,                GET,    WEB_ROUTE_OPEN,  BODY_UNAUTH,  false, static_index },
	{ "/static/",                true,  NULL,                GET,    WEB_ROUTE_OPEN,  BODY_UNAUTH,  false, static_file },
	{ "/api/login",              false, NULL,                M_POST, WEB_ROUTE_OPEN,  BODY_UNAUTH,  false, web_api_login },
	{ "/api/logout",             false, NULL,                M_POST, WEB_ROUTE_OPEN,  BODY_UNAUTH,  false, web_api_logout },
	{ "/api/logout-everywhere",  false, NULL,                M_POST, WEB_ROUTE_WRITE, BODY_SMALL,   false, web_api_logout_everywhere },
	{ "/api/mobileconfig",       false, NULL,                GET,    WEB_ROUTE_READ,  BODY_SMALL,   false, web_mobileconfig_user },
	{ "/api/session-check",      false, NULL,                GET,    WEB_ROUTE_OPEN,  BODY_UNAUTH,  false, web_api_session_check },
	{ "/.well-known/acme-challenge/", true, NULL,            GET,    WEB_ROUTE_OPEN,  BODY_UNAUTH,  true, web_acme_challenge },
	{ "/.well-known/mta-sts.txt", false, NULL,               GET,    WEB_ROUTE_OPEN,  BODY_UNAUTH,  false, web_mta_sts },
	{ "/.well-known/jmap",       false, NULL,                GET,    WEB_ROUTE_READ,  BODY_SMALL,   false, web_jmap_session },
	{ "/jmap/session",           false, NULL,                GET,    WEB_ROUTE_READ,  BODY_SMALL,   false, web_jmap_session },
	{ "/jmap/api",               false, NULL,                M_POST, WEB_ROUTE_WRITE, BODY_JSON,    false, web_jmap_api },
	{ "/jmap/api/",              false, NULL,                M_POST, WEB_ROUTE_WRITE, BODY_JSON,    false, web_jmap_api },
	/* the body is the blob, of any type */
	{ "/jmap/upload/",           true,  NULL,                M_POST, WEB_ROUTE_WRITE, BODY_MESSAGE, false, web_jmap_upload },
	{ "/jmap/download/",         true,  NULL,                GET,    WEB_ROUTE_READ,  BODY_SMALL,   false, web_jmap_download },
	{ "/jmap/eventsource",       false, NULL,                M_GET,  WEB_ROUTE_READ,  BODY_SMALL,   false, web_push_start },
	{ "/jmap/eventsource/",      false, NULL,                M_GET,  WEB_ROUTE_READ,  BODY_SMALL,   false, web_push_start },
	/* administration (admin_api.c, metrics_http.c): the admin flag is checked per request */
	{ "/admin",                  false, NULL,                GET,    WEB_ROUTE_READ,  BODY_SMALL,   false, web_admin_page },
	{ "/admin/",                 false, NULL,                GET,    WEB_ROUTE_READ,  BODY_SMALL,   false, web_admin_page },
	/* GET reads, POST changes (WEB_ROUTE_WRITE applies to POST only: CSRF) */
	{ "/admin/api/",             true,  NULL,                GET | M_POST, WEB_ROUTE_WRITE, BODY_SMALL, false, web_admin_api },
	{ "/metrics",                false, NULL,                GET,    WEB_ROUTE_OPEN,  BODY_UNAUTH,  true, web_metrics },
};
#undef GET

static bool row_matches(const struct route_row *r, const char *path)
{
	if (r->match != NULL)
		return r->match(path);
	if (r->prefix)
		return strncmp(path, r->path, strlen(r->path)) == 0;
	return strcmp(path, r->path) == 0;
}

static unsigned method_bit(const char *method)
{
	if (strcmp(method, "GET") == 0)
		return M_GET;
	if (strcmp(method, "HEAD") == 0)
		return M_HEAD;
	if (strcmp(method, "POST") == 0)
		return M_POST;
	return 1u << 31; /* in no row */
}

/* The Allow header's value for a row's methods (static strings). */
static const char *allow_of(unsigned methods)
{
	switch (methods) {
	case M_GET | M_HEAD: return "GET, HEAD";
	case M_GET: return "GET";
	case M_POST: return "POST";
	case M_GET | M_HEAD | M_POST: return "GET, HEAD, POST";
	}
	return "GET, HEAD, POST";
}

static uint64_t body_max(const struct web_session *ws, enum body_class c)
{
	switch (c) {
	case BODY_UNAUTH: return WEB_UNAUTH_BODY_MAX;
	case BODY_SMALL: return WEB_SMALL_BODY_MAX;
	case BODY_JSON: return WEB_JSON_MAX;
	case BODY_MESSAGE: return ws->s->message_max > WEB_SMALL_BODY_MAX ? ws->s->message_max : WEB_SMALL_BODY_MAX;
	}
	return WEB_UNAUTH_BODY_MAX;
}

void web_route_find(struct web_session *ws)
{
	const struct web_request *r = &ws->req;
	struct web_route *rt = &ws->route;
	*rt = (struct web_route){ .fn = web_reply_not_found, .auth = WEB_ROUTE_OPEN, .body_max = WEB_UNAUTH_BODY_MAX };
	const struct route_row *row = NULL;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && row == NULL; i++) {
		if (row_matches(&routes[i], r->path))
			row = &routes[i];
	}
	if (!ws->l->https && (row == NULL || !row->http)) {
		rt->fn = web_reply_redirect_https;
		return;
	}
	if (row == NULL)
		return;
	rt->allow = row->methods == M_ANY ? NULL : allow_of(row->methods);
	if (row->methods != M_ANY && (row->methods & method_bit(r->method)) == 0) {
		/* refused on the head, without authentication */
		rt->fn = web_reply_method_not_allowed;
		return;
	}
	rt->fn = row->fn;
	rt->auth = row->auth;
	if (rt->auth == WEB_ROUTE_WRITE && (method_bit(r->method) & (M_GET | M_HEAD)) != 0)
		rt->auth = WEB_ROUTE_READ; /* a row that takes both: only its POSTs change state */
	rt->body_max = body_max(ws, row->body);
	rt->json = row->body == BODY_JSON;
}
