/* queue_client.c: one outbound SMTP connection (RFC 5321 §3, §4.1) on the queue's
 * loop, with opportunistic STARTTLS (RFC 3207; the certificate is not verified),
 * PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531)
 * and DSN parameters (RFC 3461) when the server offers them.
 *
 * The client reports once: QC_TRY_NEXT when no transaction started (connection
 * refused, bad greeting, EHLO and HELO refused, a timeout before MAIL: the caller
 * tries the next address), QC_TLS_FAILED when the handshake failed (the caller
 * retries the address in the clear), or QC_DONE with a reply for every recipient
 * (the reply to RCPT if it was refused, else the reply to DATA's final dot, else the
 * reply that ended the transaction, or a synthetic 4.4.2 when the connection broke).
 * After reporting it says QUIT and frees itself. Timeouts follow RFC 5321 §4.5.3.2.
 *
 * A route with a login (route_auth, a smarthost) gets AUTH PLAIN (RFC 4954, RFC 4616)
 * after EHLO, and only inside TLS: after STARTTLS, or on implicit TLS (route_tls =
 * implicit, RFC 8314: the handshake right after connecting, the greeting inside it).
 * A relay that offers no STARTTLS, refuses it, offers no AUTH PLAIN or refuses the
 * login ends with QC_AUTH_FAILED: the password never goes out in the clear, and the
 * recipients wait for a later attempt. The password is never logged. */
#include "queue_int.h"

#include "log.h"
#include "net.h"
#include "smtp_client.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct qclient_set {
	struct event_base *base;
	SSL_CTX *ssl;
	struct qclient *head;
};

enum qc_state { S_CONNECTING, S_GREETING, S_EHLO, S_HELO, S_STARTTLS, S_TLS, S_AUTH, S_TX, S_DATA_END, S_QUIT };

struct qclient {
	struct qclient_set *set;
	struct qclient *prev, *next;
	struct bufferevent *bev;
	struct event *defer; /* reports a synchronous failure from the loop */
	struct qclient_params p;
	qclient_fn *done;
	void *arg;
	bool reported;
	enum qc_state state;
	struct smtp_reply_parser rp;
	struct smtp_ehlo ehlo;
	bool tls, eightbit;
	size_t replies;  /* transaction replies received: 0 MAIL, 1..n RCPT, n+1 DATA */
	size_t accepted;
	bool *acc;       /* RCPT accepted, waiting for the final reply */
	char peer[NET_ADDR_MAX];
	/* a failure to report from the loop */
	enum qclient_outcome d_out;
	char d_error[256];
};

struct qclient_set *queue_client_set_new(struct event_base *base, const char **error_r)
{
	struct qclient_set *s = xcalloc(1, sizeof(*s));
	s->base = base;
	s->ssl = SSL_CTX_new(TLS_client_method());
	if (s->ssl == NULL) {
		free(s);
		*error_r = "cannot create the TLS client context";
		return NULL;
	}
	SSL_CTX_set_verify(s->ssl, SSL_VERIFY_NONE, NULL); /* opportunistic: no verification */
	SSL_CTX_set_mode(s->ssl, SSL_MODE_RELEASE_BUFFERS);
	return s;
}

static void client_free(struct qclient *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->set->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->defer != NULL)
		event_free(c->defer);
	smtp_reply_free(&c->rp);
	free(c->acc);
	free(c);
}

void queue_client_set_free(struct qclient_set **sp)
{
	struct qclient_set *s = *sp;
	if (s == NULL)
		return;
	while (s->head != NULL)
		client_free(s->head);
	SSL_CTX_free(s->ssl);
	free(s);
	*sp = NULL;
}

void queue_client_abort(struct qclient **cp)
{
	if (*cp != NULL)
		client_free(*cp);
	*cp = NULL;
}

/* ---------------------------------------------------------------- output */

static void send_line(struct qclient *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void send_line(struct qclient *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
	evbuffer_add(bufferevent_get_output(c->bev), "\r\n", 2);
}

static void set_read_timeout(struct qclient *c, unsigned seconds)
{
	struct timeval r = { (time_t)seconds, 0 }, w = { (time_t)c->p.s->timeout_data_block, 0 };
	bufferevent_set_timeouts(c->bev, &r, &w);
}

/* ---------------------------------------------------------------- results */

static void quit(struct qclient *c)
{
	c->state = S_QUIT;
	send_line(c, "QUIT");
	set_read_timeout(c, c->p.s->timeout_command < 10 ? c->p.s->timeout_command : 10);
}

static void report(struct qclient *c, enum qclient_outcome out, int code, const char *enh, const char *error)
{
	if (c->reported)
		return;
	c->reported = true;
	c->done(c->arg, out, code, enh, error);
}

/* Gives every recipient still without a final reply this one. */
static void fail_open_rcpts(struct qclient *c, int code, const char *enh, const char *text)
{
	for (size_t i = 0; i < c->p.nrcpts; i++) {
		struct qclient_rcpt *r = &c->p.rcpts[i];
		if (r->code == 0 || c->acc[i]) {
			r->code = code;
			snprintf(r->enh, sizeof(r->enh), "%s", enh);
			free(r->text);
			r->text = xstrdup(text);
			c->acc[i] = false;
		}
	}
}

/* The reply as one line of text: "550 5.1.1 text text". */
static char *reply_text(const struct smtp_reply *r)
{
	struct buf b = { 0 };
	buf_printf(&b, "%d ", r->code);
	for (const char *p = buf_str(&r->text); *p != '\0'; p++)
		buf_putc(&b, *p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p);
	char *s = xstrdup(buf_str(&b));
	buf_free(&b);
	return s;
}

static const char *reply_enh(const struct smtp_reply *r)
{
	if (r->enh[0] != '\0')
		return r->enh;
	return r->code < 300 ? "2.0.0" : r->code < 500 ? "4.0.0" : "5.0.0";
}

static void finish_with_reply(struct qclient *c, const struct smtp_reply *rep)
{
	char *t = reply_text(rep);
	fail_open_rcpts(c, rep->code, reply_enh(rep), t);
	free(t);
	report(c, QC_DONE, 0, NULL, NULL);
	quit(c);
}

/* Connection broke or timed out. Returns after freeing c. */
static void broken(struct qclient *c, const char *why)
{
	char err[320];
	snprintf(err, sizeof(err), "%s [%s]: %s", c->p.host, c->peer, why);
	if (c->state == S_TLS) {
		report(c, QC_TLS_FAILED, 0, NULL, err);
	} else if (c->state == S_TX || c->state == S_DATA_END) {
		fail_open_rcpts(c, 421, "4.4.2", err);
		report(c, QC_DONE, 0, NULL, NULL);
	} else {
		report(c, QC_TRY_NEXT, 0, "4.4.1", err);
	}
	client_free(c);
}

/* ---------------------------------------------------------------- the transaction */

static void put_notify(struct buf *b, unsigned n)
{
	if (n & SMTP_NOTIFY_NEVER) {
		buf_puts(b, " NOTIFY=NEVER");
		return;
	}
	const char *sep = " NOTIFY=";
	if (n & SMTP_NOTIFY_SUCCESS) {
		buf_printf(b, "%sSUCCESS", sep);
		sep = ",";
	}
	if (n & SMTP_NOTIFY_FAILURE) {
		buf_printf(b, "%sFAILURE", sep);
		sep = ",";
	}
	if (n & SMTP_NOTIFY_DELAY)
		buf_printf(b, "%sDELAY", sep);
}

static void send_rcpt(struct qclient *c, size_t i)
{
	const struct qclient_rcpt *r = &c->p.rcpts[i];
	struct buf b = { 0 };
	buf_printf(&b, "RCPT TO:<%s>", r->address);
	if (c->ehlo.dsn && r->notify != 0)
		put_notify(&b, r->notify);
	if (c->ehlo.dsn && r->orcpt != NULL && r->orcpt[0] != '\0')
		buf_printf(&b, " ORCPT=%s", r->orcpt);
	send_line(c, "%s", buf_str(&b));
	buf_free(&b);
}

static void begin_tx(struct qclient *c)
{
	char text[160];
	if (c->ehlo.size > 0 && c->p.data.len > c->ehlo.size) {
		snprintf(text, sizeof(text), "552 5.3.4 message size %zu exceeds the limit of %s (%llu)", c->p.data.len,
			 c->p.host, (unsigned long long)c->ehlo.size);
		fail_open_rcpts(c, 552, "5.3.4", text);
		report(c, QC_DONE, 0, NULL, NULL);
		quit(c);
		return;
	}
	if (c->p.smtputf8 && !c->ehlo.smtputf8) {
		snprintf(text, sizeof(text), "553 5.6.7 %s does not support SMTPUTF8", c->p.host);
		fail_open_rcpts(c, 553, "5.6.7", text);
		report(c, QC_DONE, 0, NULL, NULL);
		quit(c);
		return;
	}
	c->state = S_TX;
	c->replies = 0;
	struct buf b = { 0 };
	buf_printf(&b, "MAIL FROM:<%s>", c->p.sender);
	if (c->ehlo.has_size)
		buf_printf(&b, " SIZE=%zu", c->p.data.len);
	if (c->eightbit && c->ehlo.eightbitmime)
		buf_puts(&b, " BODY=8BITMIME");
	if (c->p.smtputf8)
		buf_puts(&b, " SMTPUTF8");
	if (c->ehlo.dsn && c->p.ret != SMTP_RET_NONE)
		buf_puts(&b, c->p.ret == SMTP_RET_FULL ? " RET=FULL" : " RET=HDRS");
	if (c->ehlo.dsn && c->p.envid != NULL && c->p.envid[0] != '\0')
		buf_printf(&b, " ENVID=%s", c->p.envid);
	send_line(c, "%s", buf_str(&b));
	buf_free(&b);
	if (c->ehlo.pipelining) { /* RFC 2920 §3.1: DATA may end the group */
		for (size_t i = 0; i < c->p.nrcpts; i++)
			send_rcpt(c, i);
		send_line(c, "DATA");
	}
	set_read_timeout(c, c->p.s->timeout_command);
}

/* The route's login cannot be done: report it (the caller keeps every recipient
 * queued) and say QUIT. */
static void auth_fail(struct qclient *c, int code, const char *enh, const char *why)
{
	char err[600];
	snprintf(err, sizeof(err), "%s [%s]: %s", c->p.host, c->peer, why);
	report(c, QC_AUTH_FAILED, code, enh, err);
	quit(c);
}

/* After EHLO on a route with a login: AUTH PLAIN, only inside TLS. */
static void start_auth(struct qclient *c)
{
	if (!c->tls) {
		auth_fail(c, 0, "4.7.11",
			  c->ehlo.starttls
				  ? "STARTTLS is off for this route (queue.starttls = no); the password is not sent "
				    "in the clear"
				  : "the relay offers no STARTTLS; the password is not sent in the clear");
		return;
	}
	if (!c->ehlo.auth_plain) {
		auth_fail(c, 0, "4.7.0", "the relay does not offer AUTH PLAIN");
		return;
	}
	struct buf b = { 0 };
	buf_puts(&b, "AUTH PLAIN ");
	if (smtp_auth_plain(c->p.auth_user, c->p.auth_password, &b) < 0) {
		buf_free(&b);
		auth_fail(c, 0, "4.7.0", "the route's login cannot be sent with AUTH PLAIN");
		return;
	}
	send_line(c, "%s", buf_str(&b));
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	c->state = S_AUTH;
	set_read_timeout(c, c->p.s->timeout_command);
}

/* The reply to AUTH: 235 goes on; anything else (535 wrong password, 534, 454, a
 * challenge) keeps the mail queued, since a wrong password is the admin's to fix and
 * must not bounce every message at once. */
static void auth_reply(struct qclient *c, const struct smtp_reply *rep)
{
	if (rep->code == 235) {
		log_info("event=queue_auth id=%s host=%s user=%s", c->p.id, c->p.host, c->p.auth_user);
		begin_tx(c);
		return;
	}
	if (rep->code == 334)
		send_line(c, "*"); /* a challenge to an initial response: cancel (RFC 4954 §4) */
	char enh[16];
	snprintf(enh, sizeof(enh), "4%s", reply_enh(rep) + 1);
	char *t = reply_text(rep);
	char why[400];
	snprintf(why, sizeof(why), "login as %s refused: %s", c->p.auth_user, t);
	free(t);
	auth_fail(c, rep->code, enh, why);
}

static void send_data(struct qclient *c)
{
	struct buf b = { 0 };
	smtp_dot_stuff(c->p.data, &b);
	evbuffer_add(bufferevent_get_output(c->bev), b.data, b.len);
	buf_free(&b);
	c->state = S_DATA_END;
	set_read_timeout(c, c->p.s->timeout_data_end);
}

/* One reply inside the transaction. */
static void tx_reply(struct qclient *c, const struct smtp_reply *rep)
{
	size_t n = c->p.nrcpts, idx = c->replies++;
	bool ok = rep->code >= 200 && rep->code < 300;
	if (idx == 0) { /* MAIL */
		if (!ok) {
			finish_with_reply(c, rep);
			return;
		}
		if (!c->ehlo.pipelining)
			send_rcpt(c, 0);
	} else if (idx <= n) { /* RCPT */
		struct qclient_rcpt *r = &c->p.rcpts[idx - 1];
		if (ok) {
			c->acc[idx - 1] = true;
			c->accepted++;
		} else {
			r->code = rep->code;
			snprintf(r->enh, sizeof(r->enh), "%s", reply_enh(rep));
			free(r->text);
			r->text = reply_text(rep);
		}
		if (!c->ehlo.pipelining) {
			if (idx < n) {
				send_rcpt(c, idx);
			} else if (c->accepted == 0) {
				report(c, QC_DONE, 0, NULL, NULL);
				quit(c);
			} else {
				send_line(c, "DATA");
				set_read_timeout(c, c->p.s->timeout_data_init);
			}
		} else if (idx == n) {
			set_read_timeout(c, c->p.s->timeout_data_init);
		}
	} else { /* DATA */
		if (c->accepted == 0) {
			report(c, QC_DONE, 0, NULL, NULL);
			quit(c);
		} else if (rep->code == 354) {
			send_data(c);
		} else {
			finish_with_reply(c, rep);
		}
	}
}

static void tls_event_cb(struct bufferevent *bev, short what, void *arg);
static void read_cb(struct bufferevent *bev, void *arg);

static void start_tls(struct qclient *c)
{
	SSL *ssl = SSL_new(c->set->ssl);
	if (strcmp(c->p.host, c->peer) != 0 && strchr(c->p.host, '[') == NULL)
		SSL_set_tlsext_host_name(ssl, c->p.host);
	struct bufferevent *tb = bufferevent_openssl_filter_new(c->set->base, c->bev, ssl, BUFFEREVENT_SSL_CONNECTING,
								BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tb == NULL) {
		SSL_free(ssl);
		c->state = S_TLS;
		broken(c, "cannot start TLS");
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tb, 1);
	c->bev = tb;
	c->state = S_TLS;
	bufferevent_setcb(tb, read_cb, NULL, tls_event_cb, c);
	bufferevent_enable(tb, EV_READ | EV_WRITE);
	set_read_timeout(c, c->p.s->timeout_command);
}

/* Returns false if c was freed. */
static bool on_reply(struct qclient *c, const struct smtp_reply *rep)
{
	bool ok = rep->code >= 200 && rep->code < 300;
	char *t;
	switch (c->state) {
	case S_GREETING:
		if (!ok) {
			t = reply_text(rep);
			report(c, QC_TRY_NEXT, rep->code, reply_enh(rep), t);
			free(t);
			quit(c);
			break;
		}
		send_line(c, "EHLO %s", c->p.helo);
		c->state = S_EHLO;
		break;
	case S_EHLO:
		if (!ok && c->p.auth_user != NULL) {
			auth_fail(c, 0, "4.7.0", "the relay refused EHLO, so no login is possible");
			break;
		}
		if (!ok) {
			send_line(c, "HELO %s", c->p.helo);
			c->state = S_HELO;
			break;
		}
		smtp_ehlo_parse(buf_str(&rep->text), &c->ehlo);
		if (c->ehlo.starttls && c->p.try_tls && !c->tls) {
			send_line(c, "STARTTLS");
			c->state = S_STARTTLS;
		} else if (c->p.auth_user != NULL) {
			start_auth(c);
		} else {
			begin_tx(c);
		}
		break;
	case S_HELO:
		if (!ok) {
			t = reply_text(rep);
			report(c, QC_TRY_NEXT, rep->code, reply_enh(rep), t);
			free(t);
			quit(c);
			break;
		}
		memset(&c->ehlo, 0, sizeof(c->ehlo));
		begin_tx(c);
		break;
	case S_STARTTLS:
		if (rep->code == 220) {
			start_tls(c);
			return false; /* the old bufferevent's input must not be read again */
		}
		if (c->p.auth_user != NULL)
			auth_fail(c, 0, "4.7.11", "the relay refused STARTTLS; the password is not sent in the clear");
		else
			begin_tx(c); /* refused: go on in the clear */
		break;
	case S_AUTH:
		auth_reply(c, rep);
		break;
	case S_TX:
		tx_reply(c, rep);
		break;
	case S_DATA_END:
		finish_with_reply(c, rep);
		break;
	case S_QUIT:
		if (rep->code == 221) {
			client_free(c);
			return false;
		}
		break;
	case S_CONNECTING:
	case S_TLS:
		break;
	}
	return true;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct qclient *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (evbuffer_get_length(in) > 0) {
		size_t len = evbuffer_get_length(in), used = 0;
		const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
		const char *err = NULL;
		int r = smtp_reply_feed(&c->rp, (struct bytes){ data, len }, &used, &err);
		evbuffer_drain(in, used);
		if (r < 0) {
			if (c->state == S_QUIT)
				client_free(c);
			else
				broken(c, err);
			return;
		}
		if (r == 0)
			return;
		if (!on_reply(c, &c->rp.reply))
			return;
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct qclient *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->p.implicit_tls) { /* RFC 8314 §3.3: TLS first, the greeting inside it */
			start_tls(c);
			return;
		}
		c->state = S_GREETING;
		set_read_timeout(c, c->p.s->timeout_command);
		return;
	}
	if (c->state == S_QUIT) {
		client_free(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		broken(c, c->state == S_CONNECTING ? "connect timed out" : "timed out waiting for the server");
	} else if (what & BEV_EVENT_EOF) {
		broken(c, "connection closed by the server");
	} else {
		int e = EVUTIL_SOCKET_ERROR();
		broken(c, c->state == S_CONNECTING ? (e == ECONNREFUSED ? "connection refused" : evutil_socket_error_to_string(e))
						   : "connection lost");
	}
}

static void tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct qclient *c = arg;
	if ((what & BEV_EVENT_CONNECTED) && c->state == S_TLS) {
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		c->tls = true;
		log_info("event=queue_tls id=%s host=%s addr=%s version=%s cipher=%s%s", c->p.id, c->p.host, c->peer,
			 SSL_get_version(ssl), SSL_get_cipher_name(ssl), c->p.implicit_tls ? " mode=implicit" : "");
		if (c->p.implicit_tls) {
			c->state = S_GREETING;
			return;
		}
		send_line(c, "EHLO %s", c->p.helo);
		c->state = S_EHLO;
		return;
	}
	if (c->state == S_TLS && (what & BEV_EVENT_ERROR)) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		char why[200];
		snprintf(why, sizeof(why), "TLS handshake failed: %s",
			 e != 0 ? ERR_reason_error_string(e) != NULL ? ERR_reason_error_string(e) : "error" : "connection lost");
		broken(c, why);
		return;
	}
	event_cb(bev, what, arg);
}

static void defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qclient *c = arg;
	report(c, c->d_out, 0, "4.4.1", c->d_error);
	client_free(c);
}

struct qclient *queue_client_start(struct qclient_set *set, const struct qclient_params *p, qclient_fn *done, void *arg)
{
	struct qclient *c = xcalloc(1, sizeof(*c));
	c->set = set;
	c->p = *p;
	c->done = done;
	c->arg = arg;
	c->acc = xcalloc(p->nrcpts > 0 ? p->nrcpts : 1, sizeof(bool));
	smtp_reply_init(&c->rp);
	net_addr_text(p->addr, p->addrlen, c->peer);
	for (size_t i = 0; i < p->data.len && !c->eightbit; i++)
		c->eightbit = (unsigned char)p->data.p[i] >= 0x80;
	c->next = set->head;
	if (set->head != NULL)
		set->head->prev = c;
	set->head = c;

	c->bev = bufferevent_socket_new(set->base, -1, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	struct timeval tv = { (time_t)p->s->timeout_connect, 0 };
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	c->state = S_CONNECTING;
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)p->addr, (int)p->addrlen) < 0) {
		c->d_out = QC_TRY_NEXT;
		snprintf(c->d_error, sizeof(c->d_error), "%s [%s]: cannot connect: %s", p->host, c->peer,
			 strerror(errno));
		c->defer = event_new(set->base, -1, 0, defer_cb, c);
		event_active(c->defer, EV_TIMEOUT, 0);
	}
	return c;
}
