/* session.c: HTTP/1.1 connections with keep-alive (RFC 9112): reading requests.
 *
 * A request head is parsed by the pure parser in proto/http and routed at once
 * (web_route_find: the table in route.c). A route that needs an account
 * authenticates on the head (web_auth), so a request without valid credentials
 * gets 401 before any body byte is read or any message memory is taken. The body
 * is then moved out of the connection's input as it arrives, reserving
 * limits.message_memory for what arrived (not for what was announced), within the
 * route's body limit (413 before reading when Content-Length is over). A reply
 * sent before the body was read closes the connection. A request must be read
 * completely within timeout.http (an authenticated one gets time for a large body
 * at 16 KiB/s more); the read timeout follows that deadline, so a client dribbling
 * bytes (slowloris) gets 408. Handlers either reply at once or begin an
 * asynchronous step (it holds the conn: lib/conn's session core; nothing is parsed
 * meanwhile) and reply when it ends; the request ends at CONN_RELEASED. Replies and their security headers are
 * written by reply.c. */
#include "webd_int.h"

#include "http_parse.h"
#include "http_util.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	ws->keep_alive = req->keep_alive && !conn_is_stopping(ws->c);
	int hosts = 0;
	for (int i = 0; i < req->nheaders; i++)
		hosts += bytes_ieq(req->headers[i].name, "Host");
	if (hosts > 1 || (req->minor == 1 && hosts == 0)) {
		web_reply_fatal(ws, 400);
		return false;
	}
	if (req->chunked) {
		web_reply_fatal(ws, 411);
		return false;
	}
	if (req->method.len >= sizeof(r->method) || req->target.len >= sizeof(r->path)) {
		web_reply_fatal(ws, 414);
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
	web_route_find(ws);
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
	while (conn_may_read(ws->c, NULL)) {
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
			web_reply_fatal(ws, 408);
			return;
		}
		if (ws->mode == WS_BODY) {
			size_t take = n < ws->body_left ? n : (size_t)ws->body_left;
			/* message memory for what arrived, not for what was announced */
			if (conn_mem_reserve(ws->c, ws->req.body.len + take) == 0) {
				conn_log(ws->c, LOG_WARN, "event=message_memory_full length=%" PRIu64,
					 ws->req.content_length);
				web_reply_fatal(ws, 503);
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
			if (conn_holds(ws->c) == 0)
				web_request_end(ws);
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
				web_reply_fatal(ws, 431);
			} else {
				arm_deadline(ws, now);
			}
			return;
		}
		if (r < 0) {
			conn_log(ws->c, LOG_INFO, "event=http_bad_request status=%d error=\"%s\"", status, error);
			web_reply_fatal(ws, status);
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
		if (conn_holds(ws->c) == 0 && (ws->mode == WS_AUTH || ws->mode == WS_READY))
			web_request_end(ws); /* refused, or answered */
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
		if ((ws->mode == WS_BODY || (ws->mode == WS_HEAD && ws->req_started != 0)) && conn_holds(ws->c) == 0) {
			conn_log(ws->c, LOG_INFO, "event=http_request_timeout");
			ws->keep_alive = false;
			web_reply_fatal(ws, 408);
			break;
		}
		conn_close(ws->c); /* an idle keep-alive just closes */
		break;
	case CONN_SHUTDOWN: /* the core waits for the step in flight to reply */
		if (ws->push != NULL)
			web_push_stop(ws);
		conn_close(ws->c);
		break;
	case CONN_RELEASED: /* answered, or refused by authentication */
		if (ws->mode == WS_READY || ws->mode == WS_AUTH)
			web_request_end(ws);
		break;
	case CONN_DRAINED:
	case CONN_TLS_READY:
		break;
	case CONN_CLOSED: /* web_session_free follows once no step holds the conn */
		if (ws->push != NULL)
			web_push_stop(ws);
		break;
	}
}

const struct conn_handler webd_handler = {
	.proto = "http",
	.open = web_open,
	.event = web_event,
	.refuse = web_refuse,
	.free = web_session_free,
};
