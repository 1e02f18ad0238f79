/* session.c: HTTP/1.1 connections with keep-alive (RFC 9112), and the router.
 *
 * A request head is parsed by the pure parser in proto/http and routed at once
 * (find_route). A route that needs an account authenticates on the head (web_auth),
 * so a request without valid credentials gets 401 before any body byte is read or
 * any message memory is taken. The body is then moved out of the connection's input
 * as it arrives, reserving limits.message_memory for what arrived (not for what was
 * announced), within a limit chosen by route (limits.message_size for uploads,
 * WEB_JSON_MAX for /jmap/api, WEB_SMALL_BODY_MAX for other authenticated routes,
 * WEB_UNAUTH_BODY_MAX without authentication; 413 before reading when
 * Content-Length is over). A reply sent before the body was read closes the
 * connection. A request must be read completely within timeout.http (an
 * authenticated one gets time for a large body at 16 KiB/s more); the read timeout
 * follows that deadline, so a client dribbling bytes (slowloris) gets 408. Handlers
 * either reply at once or begin an asynchronous step (web_busy_begin: the conn is
 * paused, nothing is parsed meanwhile) and reply when it ends; a session whose conn
 * closed meanwhile is freed by the last step (the `dead` flag, as in smtpd). Every
 * reply carries the security headers. On the plain-HTTP listener everything but the
 * autoconfiguration paths is redirected to HTTPS with 301. */
#include "webd_int.h"

#include "http_parse.h"
#include "http_util.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t web_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char common_headers[] = "X-Content-Type-Options: nosniff\r\n"
				     "Referrer-Policy: no-referrer\r\n"
				     "X-Frame-Options: DENY\r\n"
				     "Cross-Origin-Opener-Policy: same-origin\r\n"
				     "Cross-Origin-Resource-Policy: same-origin\r\n";

static const char *csp_header(enum web_csp csp)
{
	switch (csp) {
	case WEB_CSP_PAGE:
		/* img-src https: only for the HTML mail frame, which inherits this policy:
		 * its own policy blocks remote images until the reader asks for them
		 * ("show images", web/js/sanitize.js), and the page shows no remote image
		 * itself. No other remote loads. */
		return "Content-Security-Policy: default-src 'self'; frame-src 'self' about:; "
		       "img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
		       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
		       "frame-ancestors 'none'\r\n";
	case WEB_CSP_DOWNLOAD:
		return "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
		       "sandbox; frame-ancestors 'none'\r\n";
	case WEB_CSP_API:
		break;
	}
	return "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
	       "form-action 'none'\r\n";
}

const char *web_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	}
	return "Unknown";
}

static void write_head(struct web_session *ws, int status, const char *ctype, const char *extra, bool has_length,
		       size_t len, bool no_store)
{
	char length[48] = "";
	if (has_length)
		snprintf(length, sizeof(length), "Content-Length: %zu\r\n", len);
	conn_printf(ws->c, "HTTP/1.1 %d %s\r\nServer: postamt\r\n%s%s%s%s%s%s%s%sConnection: %s\r\n\r\n", status,
		    web_reason(status), ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "", length,
		    csp_header(ws->csp), common_headers,
		    ws->l->https ? "Strict-Transport-Security: max-age=31536000\r\n" : "",
		    no_store ? "Cache-Control: no-store\r\n" : "", ws->keep_alive ? "keep-alive" : "close");
	(void)extra;
}

void web_reply(struct web_session *ws, int status, const char *ctype, const char *extra, const void *body,
	       size_t len)
{
	if (ws->c == NULL || conn_is_closing(ws->c))
		return;
	if (ws->stopping || ws->body_left > 0)
		ws->keep_alive = false; /* a body we did not read cannot be skipped safely */
	bool no_store = extra == NULL || strstr(extra, "Cache-Control:") == NULL;
	char length[48];
	snprintf(length, sizeof(length), "Content-Length: %zu\r\n", len);
	conn_printf(ws->c, "HTTP/1.1 %d %s\r\nServer: postamt\r\n%s%s%s%s%s%s%s%s%sConnection: %s\r\n\r\n", status,
		    web_reason(status), ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "",
		    status == 304 ? "" : length, csp_header(ws->csp), common_headers,
		    ws->l->https ? "Strict-Transport-Security: max-age=31536000\r\n" : "",
		    no_store ? "Cache-Control: no-store\r\n" : "", extra ? extra : "",
		    ws->keep_alive ? "keep-alive" : "close");
	if (!ws->req.head && len > 0 && status != 304)
		conn_write(ws->c, body, len);
	conn_log(ws->c, LOG_DEBUG, "event=http_reply status=%d len=%zu", status, len);
	if (!ws->keep_alive)
		conn_close(ws->c);
}

void web_reply_stream_head(struct web_session *ws, const char *ctype)
{
	ws->keep_alive = false;
	write_head(ws, 200, ctype, NULL, false, 0, true);
	ws->mode = WS_STREAM;
}

void web_reply_text(struct web_session *ws, int status, const char *text)
{
	web_reply(ws, status, "text/plain; charset=utf-8", NULL, text, strlen(text));
}

void web_reply_json(struct web_session *ws, int status, json_t *j, const char *extra)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL) {
		web_reply_text(ws, 500, "500 Internal Server Error\n");
		return;
	}
	web_reply(ws, status, "application/json", extra, s, strlen(s));
	free(s);
}

void web_reply_error(struct web_session *ws, int status, const char *text)
{
	web_reply_json(ws, status, json_pack("{ss}", "error", text), NULL);
}

/* An error that ends the connection (the request could not be read to its end). */
static void reply_fatal(struct web_session *ws, int status)
{
	ws->keep_alive = false;
	ws->req.head = false;
	char body[96];
	snprintf(body, sizeof(body), "%d %s\n", status, web_reason(status));
	web_reply(ws, status, "text/plain; charset=utf-8", NULL, body, strlen(body));
}

static void session_free(struct web_session *ws)
{
	buf_free(&ws->req.body);
	arena_free(&ws->arena);
	free(ws);
}

static void end_request(struct web_session *ws);

void web_busy_begin(struct web_session *ws)
{
	ws->pending++;
	conn_pause(ws->c);
}

bool web_busy_end(struct web_session *ws)
{
	ws->pending--;
	if (ws->dead) {
		if (ws->pending == 0)
			session_free(ws);
		return false;
	}
	if (ws->pending == 0 && ws->mode != WS_STREAM) {
		if (ws->mode == WS_READY || ws->mode == WS_AUTH)
			end_request(ws); /* answered, or refused by authentication */
		if (ws->stopping && !conn_is_closing(ws->c))
			conn_close(ws->c);
		conn_resume(ws->c);
	}
	return true;
}

/* ------------------------------------------------------------------ routing */

static void redirect_https(struct web_session *ws)
{
	char *loc;
	if (ws->s->port_https == 443)
		loc = xasprintf("Location: https://%s%s\r\n", ws->s->hostname, ws->req.target);
	else
		loc = xasprintf("Location: https://%s:%d%s\r\n", ws->s->hostname, ws->s->port_https, ws->req.target);
	web_reply(ws, 301, "text/plain; charset=utf-8", loc, "Moved to HTTPS\n", 15);
	free(loc);
}

static void method_not_allowed(struct web_session *ws)
{
	char extra[64];
	snprintf(extra, sizeof(extra), "Allow: %s\r\n", ws->route.allow);
	web_reply(ws, 405, "text/plain; charset=utf-8", extra, "405 Method Not Allowed\n", 23);
}

static void not_found(struct web_session *ws)
{
	web_reply_text(ws, 404, "404 Not Found\n");
}

static void static_index(struct web_session *ws)
{
	web_static(ws, "index.html");
}

static void static_file(struct web_session *ws)
{
	web_static(ws, ws->req.path + 8);
}

static bool is_get(const struct web_request *r)
{
	return strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
}

static bool is_post(const struct web_request *r)
{
	return strcmp(r->method, "POST") == 0;
}

/* Sets ws->route from the request's head: a wrong method becomes a 405 route, an
 * unknown path a 404 route (both without authentication). */
static void find_route(struct web_session *ws)
{
	const struct web_request *r = &ws->req;
	const char *p = r->path;
	struct web_route *rt = &ws->route;
	*rt = (struct web_route){ .fn = not_found, .auth = WEB_ROUTE_OPEN, .body_max = WEB_UNAUTH_BODY_MAX };
	bool ok = true; /* the method fits */
	if (web_autoconfig_path(p)) {
		rt->fn = web_autoconfig;
		return;
	}
	if (!ws->l->https) {
		rt->fn = redirect_https;
		return;
	}
	if (strcmp(p, "/") == 0 || strcmp(p, "/index.html") == 0) {
		rt->fn = static_index, rt->allow = "GET, HEAD", ok = is_get(r);
	} else if (strncmp(p, "/static/", 8) == 0) {
		rt->fn = static_file, rt->allow = "GET, HEAD", ok = is_get(r);
	} else if (strcmp(p, "/api/login") == 0) {
		rt->fn = web_api_login, rt->allow = "POST", ok = is_post(r);
	} else if (strcmp(p, "/api/logout") == 0) {
		rt->fn = web_api_logout, rt->allow = "POST", ok = is_post(r);
	} else if (strcmp(p, "/api/logout-everywhere") == 0) {
		rt->fn = web_api_logout_everywhere, rt->allow = "POST", ok = is_post(r);
		rt->auth = WEB_ROUTE_WRITE;
	} else if (strcmp(p, "/api/mobileconfig") == 0) {
		rt->fn = web_mobileconfig_user, rt->allow = "GET, HEAD", ok = is_get(r);
		rt->auth = WEB_ROUTE_READ;
	} else if (strcmp(p, "/api/session-check") == 0) {
		rt->fn = web_api_session_check, rt->allow = "GET, HEAD", ok = is_get(r);
	} else if (strcmp(p, "/.well-known/jmap") == 0 || strcmp(p, "/jmap/session") == 0) {
		rt->fn = web_jmap_session, rt->allow = "GET, HEAD", ok = is_get(r);
		rt->auth = WEB_ROUTE_READ;
	} else if (strcmp(p, "/jmap/api") == 0 || strcmp(p, "/jmap/api/") == 0) {
		rt->fn = web_jmap_api, rt->allow = "POST", ok = is_post(r);
		rt->auth = WEB_ROUTE_WRITE, rt->body_max = WEB_JSON_MAX, rt->json = true;
	} else if (strncmp(p, "/jmap/upload/", 13) == 0) {
		/* the body is the blob, of any type */
		rt->fn = web_jmap_upload, rt->allow = "POST", ok = is_post(r);
		rt->auth = WEB_ROUTE_WRITE, rt->body_max = ws->s->message_max;
	} else if (strncmp(p, "/jmap/download/", 15) == 0) {
		rt->fn = web_jmap_download, rt->allow = "GET, HEAD", ok = is_get(r);
		rt->auth = WEB_ROUTE_READ;
	} else if (strcmp(p, "/jmap/eventsource") == 0 || strcmp(p, "/jmap/eventsource/") == 0) {
		rt->fn = web_push_start, rt->allow = "GET", ok = strcmp(r->method, "GET") == 0;
		rt->auth = WEB_ROUTE_READ;
	}
	if (!ok) {
		*rt = (struct web_route){ .fn = method_not_allowed, .auth = WEB_ROUTE_OPEN,
					  .body_max = WEB_UNAUTH_BODY_MAX, .allow = rt->allow };
		return;
	}
	if (rt->auth != WEB_ROUTE_OPEN && rt->body_max < WEB_SMALL_BODY_MAX)
		rt->body_max = WEB_SMALL_BODY_MAX;
}

/* True when the Content-Type is application/json (parameters such as charset allowed). */
static bool is_json_type(const char *ct)
{
	size_t n = strlen("application/json");
	if (strncasecmp(ct, "application/json", n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static const char *hdr(struct web_session *ws, const struct http_request *req, const char *name)
{
	struct bytes v = http_header_get(req, name);
	return v.len ? arena_strndup(ws->arena, v.p, v.len) : "";
}

/* A complete head: check it, copy what we need, find the route. Returns false when
 * the reply was an error. No body byte is read and no message memory is taken here:
 * that happens as the body arrives (web_read), after authentication where the route
 * needs it (web_auth runs on the head, see begin_body). */
static bool begin_request(struct web_session *ws, const struct http_request *req)
{
	struct web_request *r = &ws->req;
	ws->keep_alive = req->keep_alive && !ws->stopping;
	int hosts = 0;
	for (int i = 0; i < req->nheaders; i++)
		hosts += bytes_ieq(req->headers[i].name, "Host");
	if (hosts > 1 || (req->minor == 1 && hosts == 0)) {
		reply_fatal(ws, 400);
		return false;
	}
	if (req->chunked) {
		reply_fatal(ws, 411);
		return false;
	}
	if (req->method.len >= sizeof(r->method) || req->target.len >= sizeof(r->path)) {
		reply_fatal(ws, 414);
		return false;
	}
	memcpy(r->method, req->method.p, req->method.len);
	r->method[req->method.len] = '\0';
	r->head = strcmp(r->method, "HEAD") == 0;
	r->target = arena_strndup(ws->arena, req->target.p, req->target.len);
	if (http_target_split((struct bytes){ r->target, req->target.len }, r->path, sizeof(r->path), &r->query) < 0) {
		/* "..", encoded or not, and anything undecodable: there is no such file */
		conn_log(ws->c, LOG_INFO, "event=http_bad_path");
		r->path[0] = '\0';
	}
	r->host = hdr(ws, req, "Host");
	r->cookie = hdr(ws, req, "Cookie");
	r->authorization = hdr(ws, req, "Authorization");
	r->origin = hdr(ws, req, "Origin");
	r->fetch_site = hdr(ws, req, "Sec-Fetch-Site");
	r->fetch_mode = hdr(ws, req, "Sec-Fetch-Mode");
	r->fetch_dest = hdr(ws, req, "Sec-Fetch-Dest");
	r->csrf = hdr(ws, req, "X-Postamt-CSRF");
	r->accept_encoding = hdr(ws, req, "Accept-Encoding");
	r->content_type = hdr(ws, req, "Content-Type");
	r->if_none_match = hdr(ws, req, "If-None-Match");
	r->expect = hdr(ws, req, "Expect");
	r->content_length = req->has_length ? req->content_length : 0;
	buf_reset(&r->body);
	/* from here on a reply before the body is read ends the connection (web_reply) */
	ws->body_left = r->content_length;
	find_route(ws);
	uint64_t limit = ws->route.body_max;
	if (r->content_length > limit) {
		conn_log(ws->c, LOG_INFO, "event=http_body_too_large length=%" PRIu64 " limit=%" PRIu64,
			 r->content_length, limit);
		ws->req.head = false;
		web_reply_error(ws, 413, "request body too large");
		return false;
	}
	if (ws->route.json && !is_json_type(r->content_type)) {
		/* RFC 8620 §3.1 uses application/json; a cross-site form cannot send it
		 * without a CORS preflight, which we never grant */
		ws->req.head = false;
		web_reply_error(ws, 415, "the request must be Content-Type: application/json");
		return false;
	}
	conn_log(ws->c, LOG_DEBUG, "event=http_request method=%s length=%" PRIu64, r->method, r->content_length);
	return true;
}

static void arm_deadline(struct web_session *ws, int64_t now);

/* Authentication (if any) is done: take the body. With no body, runs the route now. */
static void begin_body(struct web_session *ws)
{
	struct web_request *r = &ws->req;
	if (ws->route.auth != WEB_ROUTE_OPEN) {
		/* an authenticated client gets time for a large body at 16 KiB/s; an
		 * unauthenticated one has timeout.http for head and (small) body together */
		ws->req_deadline = web_now_ms() + (int64_t)ws->s->timeout_http * 1000 +
				   (int64_t)(r->content_length / 16384) * 1000;
	}
	if (ws->body_left == 0) {
		ws->mode = WS_READY;
		ws->route.fn(ws);
		return;
	}
	size_t pre = (size_t)(r->content_length < 1024 * 1024 ? r->content_length : 1024 * 1024);
	if (conn_mem_reserve(ws->c, pre) == 0) {
		/* limits.message_memory (or the address's share): too many bodies at once */
		conn_log(ws->c, LOG_WARN, "event=message_memory_full length=%" PRIu64, r->content_length);
		ws->req.head = false;
		ws->keep_alive = false;
		web_reply_json(ws, 503, json_pack("{ss}", "error", "server busy, try again later"),
			       "Retry-After: 5\r\n");
		return;
	}
	buf_reserve(&r->body, pre);
	if (strcasecmp(r->expect, "100-continue") == 0)
		conn_puts(ws->c, "HTTP/1.1 100 Continue\r\n\r\n");
	ws->mode = WS_BODY;
	arm_deadline(ws, web_now_ms());
}

static void end_request(struct web_session *ws)
{
	if (ws->mode == WS_STREAM)
		return;
	ws->mode = WS_HEAD;
	ws->req_started = 0;
	ws->body_left = 0;
	buf_free(&ws->req.body);
	if (ws->c != NULL) {
		conn_mem_release(ws->c);
		conn_set_timeout(ws->c, ws->s->timeout_http);
	}
	memset(&ws->req, 0, sizeof(ws->req));
	memset(&ws->route, 0, sizeof(ws->route));
	arena_clear(ws->arena);
	ws->next = NULL;
	memset(&ws->user, 0, sizeof(ws->user));
}

/* The idle timeout while the rest of a request is awaited: what is left until its
 * deadline, so that a client sending a byte now and then still gets 408 in time.
 * Once the request is complete (or authentication runs), timeout.http again. */
static void arm_deadline(struct web_session *ws, int64_t now)
{
	int64_t left = (ws->req_deadline - now + 999) / 1000;
	if (left < 1)
		left = 1;
	if (left > ws->s->timeout_http)
		left = ws->s->timeout_http;
	conn_set_timeout(ws->c, (int)left);
}

static void web_read(struct web_session *ws)
{
	size_t head_max = ws->s->line_max * 4;
	while (ws->c != NULL && !conn_is_closing(ws->c) && ws->pending == 0) {
		if (ws->mode == WS_STREAM) {
			/* an EventSource client has nothing more to say */
			conn_input_consume(ws->c, conn_input_len(ws->c));
			return;
		}
		size_t n = conn_input_len(ws->c);
		if (n == 0)
			return;
		int64_t now = web_now_ms();
		if (ws->mode == WS_HEAD && ws->req_started == 0) {
			ws->req_started = now;
			ws->req_deadline = now + (int64_t)ws->s->timeout_http * 1000;
		}
		if (now > ws->req_deadline) {
			conn_log(ws->c, LOG_INFO, "event=http_request_timeout");
			reply_fatal(ws, 408);
			return;
		}
		if (ws->mode == WS_BODY) {
			size_t take = n < ws->body_left ? n : (size_t)ws->body_left;
			/* message memory for what arrived, not for what was announced */
			if (conn_mem_reserve(ws->c, ws->req.body.len + take) == 0) {
				conn_log(ws->c, LOG_WARN, "event=message_memory_full length=%" PRIu64,
					 ws->req.content_length);
				reply_fatal(ws, 503);
				return;
			}
			buf_append(&ws->req.body, conn_input_peek(ws->c, take), take);
			conn_input_consume(ws->c, take);
			ws->body_left -= take;
			if (ws->body_left > 0) {
				arm_deadline(ws, now);
				return;
			}
			conn_set_timeout(ws->c, ws->s->timeout_http);
			ws->mode = WS_READY;
			ws->route.fn(ws);
			if (ws->pending == 0)
				end_request(ws);
			continue;
		}
		size_t look = n < head_max ? n : head_max;
		const char *p = conn_input_peek(ws->c, look);
		struct http_request req;
		int status;
		const char *error;
		int r = http_parse_request((struct bytes){ p, look }, &req, &status, &error);
		if (r == 0) {
			if (n >= head_max) {
				conn_log(ws->c, LOG_WARN, "event=http_head_too_large limit=%zu", head_max);
				reply_fatal(ws, 431);
			} else {
				arm_deadline(ws, now);
			}
			return;
		}
		if (r < 0) {
			conn_log(ws->c, LOG_INFO, "event=http_bad_request status=%d error=\"%s\"", status, error);
			reply_fatal(ws, status);
			return;
		}
		if (!begin_request(ws, &req))
			return;
		conn_input_consume(ws->c, req.head_len);
		conn_set_timeout(ws->c, ws->s->timeout_http);
		if (ws->route.auth != WEB_ROUTE_OPEN) {
			/* on the head: a request without valid credentials is refused before
			 * any of its body is read or any memory is taken for it */
			ws->mode = WS_AUTH;
			web_auth(ws, ws->route.auth == WEB_ROUTE_WRITE, begin_body);
		} else {
			begin_body(ws);
		}
		if (ws->pending == 0 && (ws->mode == WS_AUTH || ws->mode == WS_READY))
			end_request(ws); /* refused, or answered */
	}
}

static void *web_open(struct conn *c, void *ctx)
{
	struct web_session *ws = xcalloc(1, sizeof(*ws));
	ws->c = c;
	ws->l = ctx;
	ws->env = ws->l->env;
	ws->s = settings_get(ws->l->settings);
	ws->arena = arena_new();
	conn_set_timeout(c, ws->s->timeout_http);
	return ws;
}

static void web_refuse(struct conn *c, void *ctx)
{
	conn_puts(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 40\r\n"
		     "Retry-After: 60\r\nConnection: close\r\n\r\nToo many connections from your address.\n");
}

static void web_event(void *session, enum conn_event ev)
{
	struct web_session *ws = session;
	switch (ev) {
	case CONN_DATA:
		web_read(ws);
		break;
	case CONN_TIMEOUT:
		if ((ws->mode == WS_BODY || (ws->mode == WS_HEAD && ws->req_started != 0)) && ws->pending == 0) {
			conn_log(ws->c, LOG_INFO, "event=http_request_timeout");
			ws->keep_alive = false;
			reply_fatal(ws, 408);
			break;
		}
		conn_close(ws->c); /* an idle keep-alive just closes */
		break;
	case CONN_SHUTDOWN:
		if (ws->push != NULL)
			web_push_stop(ws);
		if (ws->pending > 0) {
			ws->stopping = true; /* the step in flight replies, then we close */
			break;
		}
		conn_close(ws->c);
		break;
	case CONN_TLS_READY:
	case CONN_DRAINED:
		break;
	case CONN_CLOSED:
		if (ws->push != NULL)
			web_push_stop(ws);
		ws->c = NULL;
		if (ws->pending > 0)
			ws->dead = true; /* freed when the last step ends */
		else
			session_free(ws);
		break;
	}
}

const struct conn_handler webd_handler = {
	.proto = "http",
	.open = web_open,
	.event = web_event,
	.refuse = web_refuse,
};
