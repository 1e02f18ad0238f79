/* session.c: HTTP/1.1 connections with keep-alive (RFC 9112).
 *
 * The head is parsed by the pure parser in proto/http; a request body is read (and,
 * until the API needs it, discarded) within limits.message_size. Every response
 * carries the security headers. On the plain-HTTP listener everything but the
 * autoconfiguration paths is redirected to HTTPS with 301. */
#include "webd.h"

#include "arena.h"
#include "http_parse.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct web_session {
	struct conn *c;
	const struct webd_listener *l;
	const struct settings *s;
	uint64_t body_left; /* bytes of the current request body still to discard */
	bool keep_alive;
	unsigned requests;
};

static const char security_headers[] =
	"Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
	"base-uri 'none'; form-action 'self'\r\n"
	"X-Content-Type-Options: nosniff\r\n"
	"Referrer-Policy: no-referrer\r\n"
	"X-Frame-Options: DENY\r\n";

static void respond(struct web_session *ws, int status, const char *reason, const char *ctype, const char *extra,
		    const char *body, bool head_only)
{
	size_t len = strlen(body);
	conn_printf(ws->c,
		    "HTTP/1.1 %d %s\r\nServer: postamt\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s%s"
		    "Cache-Control: no-store\r\nConnection: %s\r\n\r\n",
		    status, reason, ctype, len, security_headers,
		    ws->l->https ? "Strict-Transport-Security: max-age=31536000\r\n" : "", extra ? extra : "",
		    ws->keep_alive ? "keep-alive" : "close");
	if (!head_only)
		conn_write(ws->c, body, len);
	if (!ws->keep_alive)
		conn_close(ws->c);
}

static void respond_error(struct web_session *ws, int status, const char *reason)
{
	ws->keep_alive = false;
	char body[128];
	snprintf(body, sizeof(body), "%d %s\n", status, reason);
	respond(ws, status, reason, "text/plain; charset=utf-8", NULL, body, false);
}

static bool is_autoconfig_path(struct bytes path)
{
	return bytes_iprefix(path, "/.well-known/autoconfig/") || bytes_iprefix(path, "/mail/config-v1.1.xml") ||
	       bytes_iprefix(path, "/autodiscover/") || bytes_iprefix(path, "/.well-known/mta-sts.txt");
}

static void handle(struct web_session *ws, const struct http_request *req)
{
	bool head = bytes_eq(req->method, "HEAD");
	if (!head && !bytes_eq(req->method, "GET") && !bytes_eq(req->method, "POST")) {
		respond(ws, 405, "Method Not Allowed", "text/plain; charset=utf-8", "Allow: GET, HEAD, POST\r\n",
			"405 Method Not Allowed\n", false);
		return;
	}
	if (!ws->l->https && !is_autoconfig_path(req->target)) {
		/* redirect to the same path on HTTPS; the Host header is not trusted for the
		 * name, only the configured hostname is used */
		char *loc = xasprintf("Location: https://%s:%d%.*s\r\n", ws->s->hostname, ws->s->port_https,
				      (int)req->target.len, req->target.p);
		if (ws->s->port_https == 443) {
			free(loc);
			loc = xasprintf("Location: https://%s%.*s\r\n", ws->s->hostname, (int)req->target.len,
					req->target.p);
		}
		respond(ws, 301, "Moved Permanently", "text/plain; charset=utf-8", loc, "Moved to HTTPS\n", head);
		free(loc);
		return;
	}
	if (bytes_eq(req->target, "/") || bytes_iprefix(req->target, "/?")) {
		char *body = xasprintf("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
				       "<title>postamt on %s</title></head>\n<body><h1>postamt</h1>\n"
				       "<p>Mail server for %s. Webmail is coming here.</p></body></html>\n",
				       ws->s->hostname, ws->s->hostname);
		respond(ws, 200, "OK", "text/html; charset=utf-8", NULL, body, head);
		free(body);
		return;
	}
	respond(ws, 404, "Not Found", "text/plain; charset=utf-8", NULL, "404 Not Found\n", head);
}

/* Discards body bytes of the current request; returns true when it is all read. */
static bool drain_body(struct web_session *ws)
{
	size_t have = conn_input_len(ws->c);
	size_t take = have < ws->body_left ? have : (size_t)ws->body_left;
	conn_input_consume(ws->c, take);
	ws->body_left -= take;
	return ws->body_left == 0;
}

static void web_read(struct web_session *ws)
{
	size_t head_max = ws->s->line_max * 4;
	while (!conn_is_closing(ws->c)) {
		if (ws->body_left > 0 && !drain_body(ws))
			return;
		size_t n = conn_input_len(ws->c);
		if (n == 0)
			return;
		size_t look = n < head_max ? n : head_max;
		const char *p = conn_input_peek(ws->c, look);
		struct http_request req;
		int status;
		const char *error;
		int r = http_parse_request((struct bytes){ p, look }, &req, &status, &error);
		if (r == 0) {
			if (n >= head_max) {
				conn_log(ws->c, LOG_WARN, "event=http_head_too_large limit=%zu", head_max);
				respond_error(ws, 431, "Request Header Fields Too Large");
			}
			return;
		}
		if (r < 0) {
			conn_log(ws->c, LOG_INFO, "event=http_bad_request status=%d error=\"%s\"", status, error);
			respond_error(ws, status, error);
			return;
		}
		ws->requests++;
		ws->keep_alive = req.keep_alive;
		/* RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host */
		int hosts = 0;
		for (int i = 0; i < req.nheaders; i++)
			hosts += bytes_ieq(req.headers[i].name, "Host");
		if (hosts > 1 || (req.minor == 1 && hosts == 0)) {
			respond_error(ws, 400, "Bad Request: exactly one Host header field is required");
			return;
		}
		if (req.chunked) {
			respond_error(ws, 411, "Length Required");
			return;
		}
		if (req.has_length && req.content_length > ws->s->message_max) {
			respond_error(ws, 413, "Content Too Large");
			return;
		}
		/* copy what the handler needs before the input moves on */
		char method[16], target[2048];
		if (req.method.len >= sizeof(method) || req.target.len >= sizeof(target)) {
			respond_error(ws, 414, "URI Too Long");
			return;
		}
		memcpy(method, req.method.p, req.method.len);
		memcpy(target, req.target.p, req.target.len);
		req.method.p = method;
		req.target.p = target;
		conn_input_consume(ws->c, req.head_len);
		ws->body_left = req.has_length ? req.content_length : 0;
		conn_log(ws->c, LOG_DEBUG, "event=http_request method=%.*s", (int)req.method.len, req.method.p);
		handle(ws, &req);
	}
}

static void *web_open(struct conn *c, void *ctx)
{
	struct web_session *ws = xcalloc(1, sizeof(*ws));
	ws->c = c;
	ws->l = ctx;
	ws->s = settings_get(ws->l->settings);
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
	case CONN_SHUTDOWN:
		conn_close(ws->c); /* HTTP has no goodbye; an idle keep-alive just closes */
		break;
	case CONN_TLS_READY:
	case CONN_DRAINED:
		break;
	case CONN_CLOSED:
		free(ws);
		break;
	}
}

const struct conn_handler webd_handler = {
	.proto = "http",
	.open = web_open,
	.event = web_event,
	.refuse = web_refuse,
};
