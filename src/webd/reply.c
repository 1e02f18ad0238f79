/* reply.c: every reply webd writes: the status line and the security headers
 * (Content-Security-Policy per kind of content, nosniff, no referrer, no framing,
 * HSTS on HTTPS, no-store unless the caller caches), whole replies (text, JSON,
 * JSON errors), the head of a streamed reply or of a download streamed with its length, the errors that end a connection
 * (web_reply_fatal), the redirect to HTTPS and the router's 404 and 405 pages.
 * Nothing here reads a request or calls back into the session: the handlers, the
 * router (route.c) and the HTTP reader (session.c) all sit above this file. */
#include "webd_int.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	case WEB_CSP_PDF: /* the API's policy: the browser's viewer needs no loads */
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
	case 303: return "See Other";
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

/* The head of a reply of len body bytes (false: nothing may be written). */
static bool reply_head(struct web_session *ws, int status, const char *ctype, const char *extra, uint64_t len)
{
	if (conn_is_closing(ws->c))
		return false;
	if (conn_is_stopping(ws->c) || ws->body_left > 0)
		ws->keep_alive = false; /* a body we did not read cannot be skipped safely */
	bool no_store = extra == NULL || strstr(extra, "Cache-Control:") == NULL;
	char length[48];
	snprintf(length, sizeof(length), "Content-Length: %llu\r\n", (unsigned long long)len);
	conn_printf(ws->c, "HTTP/1.1 %d %s\r\nServer: postamt\r\n%s%s%s%s%s%s%s%s%sConnection: %s\r\n\r\n", status,
		    web_reason(status), ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "",
		    status == 304 ? "" : length, csp_header(ws->csp), common_headers,
		    ws->l->https ? "Strict-Transport-Security: max-age=31536000\r\n" : "",
		    no_store ? "Cache-Control: no-store\r\n" : "", extra ? extra : "",
		    ws->keep_alive ? "keep-alive" : "close");
	conn_log(ws->c, LOG_DEBUG, "event=http_reply status=%d len=%llu", status, (unsigned long long)len);
	return true;
}

void web_reply(struct web_session *ws, int status, const char *ctype, const char *extra, const void *body,
	       size_t len)
{
	if (!reply_head(ws, status, ctype, extra, len))
		return;
	if (!ws->req.head && len > 0 && status != 304)
		conn_write(ws->c, body, len);
	if (!ws->keep_alive)
		conn_close(ws->c);
}

bool web_reply_sized_head(struct web_session *ws, int status, const char *ctype, const char *extra, uint64_t len)
{
	return reply_head(ws, status, ctype, extra, len) && !ws->req.head;
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

void web_reply_fatal(struct web_session *ws, int status)
{
	ws->keep_alive = false;
	ws->req.head = false;
	char body[96];
	snprintf(body, sizeof(body), "%d %s\n", status, web_reason(status));
	web_reply(ws, status, "text/plain; charset=utf-8", NULL, body, strlen(body));
}

void web_reply_redirect_https(struct web_session *ws)
{
	char *loc;
	if (ws->s->port_https == 443)
		loc = xasprintf("Location: https://%s%s\r\n", ws->s->hostname, ws->req.target);
	else
		loc = xasprintf("Location: https://%s:%d%s\r\n", ws->s->hostname, ws->s->port_https, ws->req.target);
	web_reply(ws, 301, "text/plain; charset=utf-8", loc, "Moved to HTTPS\n", 15);
	free(loc);
}

void web_reply_method_not_allowed(struct web_session *ws)
{
	char extra[64];
	snprintf(extra, sizeof(extra), "Allow: %s\r\n", ws->route.allow);
	web_reply(ws, 405, "text/plain; charset=utf-8", extra, "405 Method Not Allowed\n", 23);
}

void web_reply_not_found(struct web_session *ws)
{
	web_reply_text(ws, 404, "404 Not Found\n");
}
