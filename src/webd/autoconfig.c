/* autoconfig.c: the autoconfiguration endpoints, on HTTP (no redirect) and HTTPS:
 *   GET  /.well-known/autoconfig/mail/config-v1.1.xml[?emailaddress=]  Thunderbird
 *   GET  /mail/config-v1.1.xml[?emailaddress=]                          Thunderbird
 *   POST /autodiscover/autodiscover.xml (also /Autodiscover/...)       Outlook (POX)
 *   GET  /apple/mobileconfig?email=                                     Apple profile
 * They hold no secret (the same settings `make run` prints), so no login is asked.
 * They answer only for the domains this server hosts: an address in any other
 * domain gets 404, so that the server does not claim to be the mail server of
 * domains it knows nothing about. The domains table is read on the worker pool
 * (the conn paused meanwhile), as the JMAP requests are.
 * The webmail's settings page offers GET /api/mobileconfig, the Apple profile for
 * the logged-in user (HTTPS, after web_auth).
 * An Apple profile carries the server's certificate when it is self-signed (the
 * `init` default), as a com.apple.security.root payload, so that the device can be
 * told to trust it; a certificate issued by a CA is trusted through that CA. */
#include "webd_int.h"

#include "autoconfig.h"
#include "http_util.h"
#include "log.h"
#include "store.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum autoconfig_doc { DOC_THUNDERBIRD, DOC_OUTLOOK, DOC_APPLE };

/* One request on its way through the pool: the address and which document. */
struct autoconfig_job {
	struct web_session *ws;
	struct store *store;
	enum autoconfig_doc doc;
	char email[256];
	char domain[256];
	int exists; /* out: store_domain_exists() */
};

bool web_autoconfig_path(const char *path)
{
	return strcmp(path, "/.well-known/autoconfig/mail/config-v1.1.xml") == 0 ||
	       strcmp(path, "/mail/config-v1.1.xml") == 0 || strcasecmp(path, "/autodiscover/autodiscover.xml") == 0 ||
	       strcmp(path, "/apple/mobileconfig") == 0;
}

/* Writes the Apple profile for p, with the certificate when it is self-signed. */
static void reply_apple(struct web_session *ws, struct autoconfig_params *p)
{
	struct buf out = { 0 };
	unsigned char *der = NULL;
	X509 *cert = conn_tls_certificate(ws->c);
	if (cert != NULL && X509_self_signed(cert, 1) == 1) {
		int n = i2d_X509(cert, &der);
		if (n > 0) {
			p->cert_der = der;
			p->cert_der_len = (size_t)n;
		}
	}
	X509_free(cert);
	web_autoconfig_apple(&out, p);
	OPENSSL_free(der);
	web_reply(ws, 200, "application/x-apple-aspen-config",
		  "Content-Disposition: attachment; filename=\"postamt.mobileconfig\"\r\n", out.data, out.len);
	buf_free(&out);
}

static void reply_doc(struct web_session *ws, enum autoconfig_doc doc, const char *email)
{
	struct autoconfig_params p = { .hostname = ws->s->hostname, .port_offset = ws->s->port_https - 443,
				       .email = email };
	struct buf out = { 0 };
	switch (doc) {
	case DOC_APPLE:
		reply_apple(ws, &p);
		return;
	case DOC_OUTLOOK:
		web_autoconfig_outlook(&out, &p);
		break;
	case DOC_THUNDERBIRD:
		web_autoconfig_thunderbird(&out, &p);
		break;
	}
	web_reply(ws, 200, "application/xml; charset=utf-8", NULL, out.data, out.len);
	buf_free(&out);
}

static void domain_work(void *arg)
{
	struct autoconfig_job *job = arg;
	const char *err = NULL;
	job->exists = store_domain_exists(job->store, job->domain, &err);
}

static void domain_done(void *arg)
{
	struct autoconfig_job *job = arg;
	struct web_session *ws = job->ws;
	if (!conn_is_closed(ws->c)) {
		if (job->exists > 0) {
			reply_doc(ws, job->doc, job->email);
		} else if (job->exists == 0) {
			conn_log(ws->c, LOG_INFO, "event=autoconfig_unknown_domain domain=%s", job->domain);
			web_reply_text(ws, 404, "404 Not Found: no mail service for this domain here\n");
		} else {
			web_reply_text(ws, 503, "503 Service Unavailable\n");
		}
	}
	free(job);
	conn_release(ws->c);
}

/* Replies with the document for email, after checking on the pool that its domain
 * is one of ours; without an address, at once. */
static void answer(struct web_session *ws, enum autoconfig_doc doc, const char *email)
{
	if (email == NULL) {
		reply_doc(ws, doc, NULL);
		return;
	}
	struct autoconfig_job *job = xcalloc(1, sizeof(*job));
	job->ws = ws;
	job->store = ws->env->store;
	job->doc = doc;
	snprintf(job->email, sizeof(job->email), "%s", email);
	if (web_autoconfig_email_domain(email, job->domain, sizeof(job->domain)) <= 0) {
		free(job);
		web_reply_text(ws, 400, "400 Bad Request: invalid address\n");
		return;
	}
	conn_hold(ws->c);
	pool_submit(ws->env->pool, domain_work, domain_done, conn_loop(ws->c), job);
}

void web_autoconfig(struct web_session *ws)
{
	const char *path = ws->req.path;
	char email[256];
	if (strcasecmp(path, "/autodiscover/autodiscover.xml") == 0) {
		if (strcmp(ws->req.method, "POST") != 0 && strcmp(ws->req.method, "GET") != 0 &&
		    strcmp(ws->req.method, "HEAD") != 0) {
			web_reply(ws, 405, "text/plain; charset=utf-8", "Allow: GET, HEAD, POST\r\n", "405 Method Not Allowed\n",
				  23);
			return;
		}
		bool have = ws->req.body.len > 0 &&
			    web_autoconfig_request_email(ws->req.body.data, ws->req.body.len, email, sizeof(email)) > 0;
		answer(ws, DOC_OUTLOOK, have ? email : NULL);
		return;
	}
	if (strcmp(ws->req.method, "GET") != 0 && strcmp(ws->req.method, "HEAD") != 0) {
		web_reply(ws, 405, "text/plain; charset=utf-8", "Allow: GET, HEAD\r\n", "405 Method Not Allowed\n", 23);
		return;
	}
	bool apple = strcmp(path, "/apple/mobileconfig") == 0;
	int r = http_query_get(ws->req.query, apple ? "email" : "emailaddress", email, sizeof(email));
	if (r != 0 && !(r > 0 && web_autoconfig_email_ok(email))) {
		web_reply_text(ws, 400, "400 Bad Request: invalid address\n");
		return;
	}
	if (apple && r == 0) {
		web_reply_text(ws, 400, "400 Bad Request: ?email= is required\n");
		return;
	}
	answer(ws, apple ? DOC_APPLE : DOC_THUNDERBIRD, r > 0 ? email : NULL);
}

void web_mobileconfig_user(struct web_session *ws)
{
	reply_doc(ws, DOC_APPLE, ws->user.address);
}
