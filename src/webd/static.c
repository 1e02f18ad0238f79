/* static.c: the webmail's files, embedded at build time (scripts/embed.py).
 *
 * GET / is web/index.html, GET /static/<path> is web/<path>. Only names in the
 * table exist, so no path can reach the file system. A file is sent gzip-compressed
 * (compressed at build time) when the client accepts it; each variant has its own
 * strong ETag, and Cache-Control: no-cache makes the browser revalidate (304) since
 * the names carry no version. HTML pages get the webmail's Content-Security-Policy. */
#include "webd_int.h"

#include "http_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_asset(const void *key, const void *elem)
{
	return strcmp(key, ((const struct webd_asset *)elem)->path);
}

static const char placeholder[] = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
				  "<title>postamt</title></head>\n<body><h1>postamt</h1>\n"
				  "<p>The webmail files are not built into this binary.</p></body></html>\n";

void web_static(struct web_session *ws, const char *name)
{
	const struct webd_env *env = ws->env;
	const struct webd_asset *a = NULL;
	if (env != NULL && env->assets != NULL && env->nassets > 0)
		a = bsearch(name, env->assets, env->nassets, sizeof(*a), cmp_asset);
	if (a == NULL) {
		if (strcmp(name, "index.html") == 0) {
			ws->csp = WEB_CSP_PAGE;
			web_reply(ws, 200, "text/html; charset=utf-8", NULL, placeholder, sizeof(placeholder) - 1);
			return;
		}
		web_reply_text(ws, 404, "404 Not Found\n");
		return;
	}
	if (strncmp(a->ctype, "text/html", 9) == 0)
		ws->csp = WEB_CSP_PAGE;
	bool gz = a->gz != NULL && http_accepts_gzip(BYTES_STR(ws->req.accept_encoding));
	char etag[64];
	snprintf(etag, sizeof(etag), "%s%s", a->etag, gz ? "-gz" : "");
	char extra[256];
	snprintf(extra, sizeof(extra), "ETag: \"%s\"\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\n%s", etag,
		 gz ? "Content-Encoding: gzip\r\n" : "");
	if (ws->req.if_none_match[0] != '\0' && http_etag_matches(BYTES_STR(ws->req.if_none_match), etag)) {
		web_reply(ws, 304, NULL, extra, NULL, 0);
		return;
	}
	if (gz)
		web_reply(ws, 200, a->ctype, extra, a->gz, a->gzlen);
	else
		web_reply(ws, 200, a->ctype, extra, a->data, a->len);
}
