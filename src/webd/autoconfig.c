/* autoconfig.c: the autoconfiguration endpoints, on HTTP (no redirect) and HTTPS:
 *   GET  /.well-known/autoconfig/mail/config-v1.1.xml[?emailaddress=]  Thunderbird
 *   GET  /mail/config-v1.1.xml[?emailaddress=]                          Thunderbird
 *   POST /autodiscover/autodiscover.xml (also /Autodiscover/...)       Outlook (POX)
 *   GET  /apple/mobileconfig?email=                                     Apple profile
 * They hold no secret (the same settings `make run` prints), so no login is asked.
 * The webmail's settings page offers GET /api/mobileconfig, the Apple profile for
 * the logged-in user (HTTPS, after web_auth). */
#include "webd_int.h"

#include "autoconfig.h"
#include "http_util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

bool web_autoconfig_path(const char *path)
{
	return strcmp(path, "/.well-known/autoconfig/mail/config-v1.1.xml") == 0 ||
	       strcmp(path, "/mail/config-v1.1.xml") == 0 || strcasecmp(path, "/autodiscover/autodiscover.xml") == 0 ||
	       strcmp(path, "/apple/mobileconfig") == 0;
}

void web_autoconfig(struct web_session *ws)
{
	const char *path = ws->req.path;
	struct autoconfig_params p = { .hostname = ws->s->hostname, .port_offset = ws->s->port_https - 443 };
	char email[256];
	struct buf out = { 0 };
	if (strcasecmp(path, "/autodiscover/autodiscover.xml") == 0) {
		if (strcmp(ws->req.method, "POST") != 0 && strcmp(ws->req.method, "GET") != 0 &&
		    strcmp(ws->req.method, "HEAD") != 0) {
			web_reply(ws, 405, "text/plain; charset=utf-8", "Allow: GET, HEAD, POST\r\n", "405 Method Not Allowed\n",
				  23);
			return;
		}
		if (ws->req.body.len > 0 &&
		    autoconfig_request_email(ws->req.body.data, ws->req.body.len, email, sizeof(email)) > 0)
			p.email = email;
		autoconfig_outlook(&out, &p);
		web_reply(ws, 200, "application/xml; charset=utf-8", NULL, out.data, out.len);
		buf_free(&out);
		return;
	}
	if (strcmp(ws->req.method, "GET") != 0 && strcmp(ws->req.method, "HEAD") != 0) {
		web_reply(ws, 405, "text/plain; charset=utf-8", "Allow: GET, HEAD\r\n", "405 Method Not Allowed\n", 23);
		return;
	}
	const char *param = strcmp(path, "/apple/mobileconfig") == 0 ? "email" : "emailaddress";
	int r = http_query_get(ws->req.query, param, email, sizeof(email));
	if (r > 0 && autoconfig_email_ok(email))
		p.email = email;
	else if (r != 0) {
		web_reply_text(ws, 400, "400 Bad Request: invalid address\n");
		return;
	}
	if (strcmp(path, "/apple/mobileconfig") == 0) {
		if (p.email == NULL) {
			web_reply_text(ws, 400, "400 Bad Request: ?email= is required\n");
			return;
		}
		autoconfig_apple(&out, &p);
		web_reply(ws, 200, "application/x-apple-aspen-config",
			  "Content-Disposition: attachment; filename=\"postamt.mobileconfig\"\r\n", out.data, out.len);
	} else {
		autoconfig_thunderbird(&out, &p);
		web_reply(ws, 200, "application/xml; charset=utf-8", NULL, out.data, out.len);
	}
	buf_free(&out);
}

void web_mobileconfig_user(struct web_session *ws)
{
	struct autoconfig_params p = { .hostname = ws->s->hostname, .port_offset = ws->s->port_https - 443,
				       .email = ws->user.address };
	struct buf out = { 0 };
	autoconfig_apple(&out, &p);
	web_reply(ws, 200, "application/x-apple-aspen-config",
		  "Content-Disposition: attachment; filename=\"postamt.mobileconfig\"\r\n", out.data, out.len);
	buf_free(&out);
}
