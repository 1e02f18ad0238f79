/* conn.c: connections over libevent bufferevents and OpenSSL (see conn.h).
 *
 * Every bufferevent is made with deferred callbacks, so that no callback re-enters a
 * session while it is inside a conn_* call. A plain socket bufferevent never owns its
 * fd; a TLS bufferevent does (it frees its SSL only with BEV_OPT_CLOSE_ON_FREE).
 * STARTTLS frees the plain bufferevent once the last clear-text reply is written and
 * makes a TLS one on the same fd. A closed conn that is still held (conn_session.c)
 * keeps only its struct: every I/O call on it is a no-op; its last conn_release()
 * (below, with conn_finish) frees it. */
#include "conn_int.h"
#include "conn_z.h"

#include "arena.h"
#include "ip_table.h"
#include "log.h"
#include "metrics.h"
#include "net.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <assert.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void conn_schedule(struct conn *c);

/* With COMPRESS=DEFLATE on (conn_z.h), sessions read and write the layer's plain
 * buffers; the wire buffers belong to the bufferevent. */
static struct evbuffer *conn_in(const struct conn *c)
{
	return c->z != NULL ? conn_z_in(c->z) : bufferevent_get_input(c->bev);
}

static struct evbuffer *conn_out(struct conn *c)
{
	if (c->z != NULL) {
		if (conn_z_want_flush(c->z))
			conn_schedule(c); /* one deflate flush per loop pass */
		return conn_z_out(c->z);
	}
	return bufferevent_get_output(c->bev);
}

/* COMPRESS: inflates from the wire buffer until the plain input holds CONN_READ_HIGH
 * bytes, never more; the rest stays compressed in the wire buffer, whose read
 * watermark then stops reading the socket, as for a plain connection (finding 3 of
 * the December 2026 review: 1 MB of deflate data used to become 1 GB here). Nothing
 * is inflated while the session is paused. -1 (connection aborted) on a corrupt
 * stream. */
static int z_inflate(struct conn *c)
{
	int r = conn_z_inflate(c->z, bufferevent_get_input(c->bev), CONN_READ_HIGH);
	if (r < 0) {
		conn_log(c, LOG_WARN, "event=compress_error reason=corrupt-deflate-stream");
		conn_abort(c);
		return -1;
	}
	c->z_more = r > 0;
	return 0;
}

/* After the session read: when inflating stopped at the limit and the session has
 * made room, inflate the next part on the next loop pass (no new bytes may arrive to
 * wake read_cb: the client can be waiting for our answer). */
static void z_again(struct conn *c)
{
	if (c->z != NULL && c->z_more && c->holds == 0 && !c->closing &&
	    evbuffer_get_length(conn_z_in(c->z)) < CONN_READ_HIGH) {
		c->data_pending = true;
		conn_schedule(c);
	}
}

static void z_flush(struct conn *c)
{
	if (c->bev != NULL)
		conn_z_flush(c->z, bufferevent_get_output(c->bev));
}

int conn_compress_start(struct conn *c, const char **error_r)
{
	if (c->z != NULL) {
		*error_r = "Compression is already on";
		return -1;
	}
	if (c->closing) {
		*error_r = "Connection is closing";
		return -1;
	}
	c->z = conn_z_new(error_r);
	if (c->z == NULL)
		return -1;
	/* what the client sent after the command is already compressed; it is
	 * inflated once the session reads again (it is busy with COMPRESS now) */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0) {
		c->z_more = true;
		c->data_pending = true;
		conn_schedule(c);
	}
	return 1;
}

bool conn_is_compressed(const struct conn *c)
{
	return c->z != NULL;
}

/* ---- logging ---- */

void conn_log(const struct conn *c, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg((enum log_level)level, "conn=%llu proto=%s ip=%s %s", (unsigned long long)c->id, c->h->proto, c->ip,
		msg);
}

/* ---- life cycle ---- */

void conn_deliver(struct conn *c, enum conn_event ev)
{
	if (c->session != NULL && !c->closed)
		c->h->event(c->session, ev);
}

/* Input to the reader in charge: the continuation, else the session. When a reader
 * returns with input left and another reader was installed meanwhile (a command took
 * over the input, or gave it back), the new one reads next. */
static void deliver_data(struct conn *c)
{
	for (;;) {
		if (c->closing || c->closed || c->holds > 0 || c->session == NULL)
			return;
		const struct conn_continuation *k = c->cont;
		void *arg = c->cont_arg;
		if (k != NULL && k->data == NULL)
			return;
		if (evbuffer_get_length(conn_in(c)) == 0)
			return;
		if (k != NULL)
			k->data(arg);
		else
			c->h->event(c->session, CONN_DATA);
		if (c->cont == k && c->cont_arg == arg)
			return; /* the same reader: it took what it could */
	}
}

void conn_resume_input(struct conn *c)
{
	if (c->closed || c->closing)
		return;
	c->data_pending = true;
	conn_schedule(c);
}

void conn_destroy(struct conn *c)
{
	assert(c->closed && c->holds == 0);
	if (c->metric_proto > 0)
		metrics_gauge_add(M_CONN_OPEN + (c->metric_proto - 1), -1);
	void *session = c->session;
	c->session = NULL;
	if (session != NULL && c->h->free != NULL) {
		c->h->free(session);
		conn_log(c, LOG_DEBUG, "event=session_freed");
	}
	free(c);
}

/* The session core's release (declared in conn.h, the rest of the core is in
 * conn_session.c): the last release on an open conn delivers CONN_RELEASED, the
 * delayed CONN_SHUTDOWN, then resumes input; on a closed conn it frees the session. */
bool conn_release(struct conn *c)
{
	assert(c->holds > 0);
	if (--c->holds > 0)
		return !c->closed;
	if (c->closed) {
		assert(c->srv->held_closed > 0);
		c->srv->held_closed--;
		conn_destroy(c);
		return false;
	}
	conn_deliver(c, CONN_RELEASED);
	if (c->holds > 0)
		return true; /* the session started more work */
	if (c->stop_waiting && !c->closing) {
		c->stop_waiting = false;
		conn_deliver(c, CONN_SHUTDOWN);
	}
	conn_resume_input(c);
	return true;
}

static void conn_finish(struct conn *c)
{
	struct conn_server *srv = c->srv;
	if (c->bev != NULL) {
		if (c->tls) {
			SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
			if (ssl != NULL && !c->handshaking && !c->abort_now)
				SSL_shutdown(ssl); /* one close_notify, best effort */
		}
		bufferevent_free(c->bev); /* a TLS bufferevent closes the fd itself */
		c->bev = NULL;
	}
	if (c->fd >= 0 && !c->tls)
		close(c->fd);
	c->fd = -1;
	conn_mem_release(c); /* before the address's entry may go */
	if (c->counted)
		ip_table_release(srv->shared->ips, c->ip);
	atomic_fetch_sub(&srv->shared->live, 1);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	conn_log(c, LOG_DEBUG, "event=close");
	event_free(c->deferred);
	c->deferred = NULL;
	buf_free(&c->line);
	conn_z_free(&c->z);
	c->closing = true;
	c->closed = true; /* from here on every I/O call is a no-op */
	/* the CLOSED callbacks may release holds: keep one of our own meanwhile */
	c->holds++;
	srv->held_closed++; /* until the last conn_release(), ours included */
	const struct conn_continuation *k = c->cont;
	c->cont = NULL;
	if (k != NULL && k->closed != NULL)
		k->closed(c->cont_arg);
	if (c->session != NULL)
		c->h->event(c->session, CONN_CLOSED);
	if (c->holds > 1) /* work is out: the session is freed at its last release */
		conn_log(c, LOG_DEBUG, "event=close_held holds=%u", c->holds - 1);
	conn_release(c);
}

static void conn_schedule(struct conn *c)
{
	if (c->deferred != NULL)
		event_active(c->deferred, EV_TIMEOUT, 0);
}

static void conn_setup_bev(struct conn *c);

static void conn_begin_tls(struct conn *c)
{
	c->starttls_pending = false;
	SSL *ssl = conn_shared_new_ssl(c->srv->shared);
	if (ssl == NULL) {
		conn_log(c, LOG_ERROR, "event=tls_error reason=no-context");
		conn_abort(c);
		return;
	}
	bufferevent_free(c->bev); /* the plain one does not own the fd */
	c->bev = bufferevent_openssl_socket_new(loop_base(c->srv->loop), c->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL) {
		SSL_free(ssl);
		conn_log(c, LOG_ERROR, "event=tls_error reason=bufferevent");
		conn_abort(c);
		return;
	}
	c->tls = true;
	c->handshaking = true;
	conn_setup_bev(c);
}

static void deferred_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (c->z != NULL && !c->abort_now)
		z_flush(c);
	if (c->closing && (c->abort_now || c->bev == NULL || evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)) {
		conn_finish(c);
		return;
	}
	if (c->starttls_pending && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_begin_tls(c);
		return;
	}
	if (c->data_pending && c->holds == 0 && !c->closing) {
		c->data_pending = false;
		if (c->z != NULL && z_inflate(c) < 0)
			return;
		deliver_data(c);
		if (!c->closed)
			z_again(c);
	}
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (c->closing || c->starttls_pending) {
		evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	if (c->holds > 0) {
		c->data_pending = true;
		return;
	}
	if (c->z != NULL && z_inflate(c) < 0)
		return;
	deliver_data(c);
	if (!c->closed)
		z_again(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	/* callbacks are deferred: more output may have been queued since the buffer
	 * drained, so look again before closing or starting TLS */
	bool empty = evbuffer_get_length(bufferevent_get_output(bev)) == 0;
	if (c->closing) {
		if (empty)
			conn_finish(c);
		return;
	}
	if (c->starttls_pending) {
		if (empty)
			conn_begin_tls(c);
		return;
	}
	if (c->want_drained && (c->z == NULL || evbuffer_get_length(conn_z_out(c->z)) == 0)) {
		if (c->cont != NULL && c->cont->drained != NULL)
			c->cont->drained(c->cont_arg);
		else
			conn_deliver(c, CONN_DRAINED);
	}
}

static void apply_timeouts(struct conn *c)
{
	int secs = c->timeout;
	if (c->handshaking) {
		pthread_mutex_lock(&c->srv->shared->lock);
		secs = c->srv->shared->limits.handshake_timeout;
		pthread_mutex_unlock(&c->srv->shared->lock);
	}
	if (secs > 0) {
		struct timeval tv = { secs, 0 };
		bufferevent_set_timeouts(c->bev, &tv, &tv);
	} else {
		bufferevent_set_timeouts(c->bev, NULL, NULL);
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		c->handshaking = false;
		apply_timeouts(c);
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		const char *sni = ssl ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : NULL;
		conn_log(c, LOG_INFO, "event=tls version=%s cipher=%s resumed=%s sni=%s", ssl ? SSL_get_version(ssl) : "-",
			 ssl ? SSL_get_cipher_name(ssl) : "-", ssl && SSL_session_reused(ssl) ? "yes" : "no",
			 sni ? sni : "-");
		if (!c->closing)
			conn_deliver(c, CONN_TLS_READY);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (c->handshaking || c->closing || c->session == NULL) {
			conn_log(c, LOG_INFO, "event=timeout state=%s", c->handshaking ? "tls-handshake" : "closing");
			c->abort_now = true;
			conn_finish(c);
			return;
		}
		conn_log(c, LOG_INFO, "event=timeout");
		/* libevent disabled the direction that timed out; writing the goodbye needs
		 * EV_WRITE back on */
		bufferevent_enable(bev, EV_WRITE);
		conn_deliver(c, CONN_TIMEOUT);
		if (!c->closing)
			conn_close(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (what & BEV_EVENT_ERROR) {
			unsigned long e = c->tls ? bufferevent_get_openssl_error(bev) : 0;
			char buf[160] = "-";
			if (e != 0)
				ERR_error_string_n(e, buf, sizeof(buf));
			/* a client that connects and closes without a byte (port probes,
			 * health checks) is not worth an info line */
			bool quiet = !c->handshaking || ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
			char q[200];
			conn_log(c, quiet ? LOG_DEBUG : LOG_INFO, "event=%s tls_error=%s",
				 c->handshaking ? "tls_handshake_failed" : "error", log_quote(buf, strlen(buf), q, sizeof(q)));
		}
		c->abort_now = true;
		conn_finish(c);
	}
}

static void conn_setup_bev(struct conn *c)
{
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONN_READ_HIGH);
	if (c->tls)
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	apply_timeouts(c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void accept_cb(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct listener *lst = arg;
	struct conn_server *srv = lst->srv;
	struct conn_shared *sh = srv->shared;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	struct conn *c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->h = lst->h;
	c->fd = fd;
	c->id = atomic_fetch_add(&sh->next_id, 1);
	c->local_port = net_local_port(fd);
	net_addr_text(sa, (socklen_t)salen, c->ip);
	c->loopback = net_is_loopback(sa);

	pthread_mutex_lock(&sh->lock);
	struct conn_limits lim = sh->limits;
	pthread_mutex_unlock(&sh->lock);
	c->errors_max = lim.errors_per_session;
	c->commands_max = lim.commands_per_session;
	int r = ip_table_acquire(sh->ips, c->ip, lim.per_ip, lim.total);
	if (r < 0) {
		/* over the total: no reply, not even a TLS handshake */
		conn_log(c, LOG_WARN, "event=refused reason=total-connections limit=%zu", lim.total);
		close(fd);
		free(c);
		return;
	}
	c->counted = r > 0;

	if (lst->tls == CONN_TLS_IMPLICIT) {
		SSL *ssl = conn_shared_new_ssl(sh);
		if (ssl == NULL) {
			conn_log(c, LOG_ERROR, "event=tls_error reason=no-context");
			if (c->counted)
				ip_table_release(sh->ips, c->ip);
			close(fd);
			free(c);
			return;
		}
		c->bev = bufferevent_openssl_socket_new(loop_base(srv->loop), fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
							BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		c->tls = true;
		c->handshaking = true;
	} else {
		c->bev = bufferevent_socket_new(loop_base(srv->loop), fd, BEV_OPT_DEFER_CALLBACKS);
	}
	if (c->bev == NULL)
		abort();
	c->deferred = event_new(loop_base(srv->loop), -1, 0, deferred_cb, c);
	atomic_fetch_add(&sh->live, 1);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	conn_setup_bev(c);

	if (!c->counted) {
		conn_log(c, LOG_WARN, "event=refused reason=connections-per-ip limit=%zu", lim.per_ip);
		lst->h->refuse(c, lst->ctx);
		conn_close(c);
		return;
	}
	conn_log(c, LOG_INFO, "event=connect port=%d tls=%s", c->local_port, c->tls ? "implicit" : "no");
	enum metric_proto mp = metrics_proto(lst->h->proto);
	metrics_inc(M_CONN_TOTAL + mp);
	metrics_gauge_add(M_CONN_OPEN + mp, 1);
	c->metric_proto = 1 + (int)mp;
	c->session = lst->h->open(c, lst->ctx);
}

static void accept_error_cb(struct evconnlistener *ev, void *arg)
{
	/* EMFILE and friends: log and pause briefly rather than spin */
	log_warn("event=accept_error port=%d", net_local_port(evconnlistener_get_fd(ev)));
}

struct conn_server *conn_server_new(struct loop *l, struct conn_shared *s)
{
	struct conn_server *srv = xcalloc(1, sizeof(*srv));
	srv->loop = l;
	srv->shared = s;
	return srv;
}

int conn_server_listen(struct conn_server *srv, int fd, enum conn_tls tls, const struct conn_handler *h, void *ctx,
		       const char **error_r)
{
	struct listener *lst = xcalloc(1, sizeof(*lst));
	lst->srv = srv;
	lst->tls = tls;
	lst->h = h;
	lst->ctx = ctx;
	lst->ev = evconnlistener_new(loop_base(srv->loop), accept_cb, lst, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (lst->ev == NULL) {
		free(lst);
		close(fd);
		*error_r = "cannot create a listener";
		return -1;
	}
	evconnlistener_set_error_cb(lst->ev, accept_error_cb);
	lst->next = srv->listeners;
	srv->listeners = lst;
	return 1;
}

void conn_server_stop_listening(struct conn_server *srv)
{
	for (struct listener *l = srv->listeners, *next; l != NULL; l = next) {
		next = l->next;
		evconnlistener_free(l->ev);
		free(l);
	}
	srv->listeners = NULL;
}

/* True while a TLS handshake is really still running: the CONNECTED event may be
 * deferred after OpenSSL finished it. */
static bool still_handshaking(const struct conn *c)
{
	if (!c->handshaking)
		return false;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	return ssl == NULL || !SSL_is_init_finished(ssl);
}

void conn_server_shutdown(struct conn_server *srv)
{
	for (struct conn *c = srv->conns; c != NULL; c = c->next) {
		if (c->closing)
			continue;
		if (c->session == NULL || still_handshaking(c)) {
			conn_abort(c);
			continue;
		}
		c->stopping = true;
		if (c->holds > 0)
			c->stop_waiting = true; /* the command in flight replies first */
		else
			conn_deliver(c, CONN_SHUTDOWN);
	}
}

void conn_server_close_all(struct conn_server *srv)
{
	conn_server_stop_listening(srv);
	while (srv->conns != NULL) {
		srv->conns->abort_now = true;
		conn_finish(srv->conns);
	}
}

void conn_server_free(struct conn_server **srvp)
{
	struct conn_server *srv = *srvp;
	if (srv == NULL)
		return;
	conn_server_close_all(srv);
	*srvp = NULL;
	/* a conn still held now belongs to work that never completed (the pools and the
	 * store are drained before this): it and its server are leaked, not freed under
	 * a straggler */
	if (srv->held_closed > 0) {
		log_warn("event=conn_leak held=%zu", srv->held_closed);
		return;
	}
	free(srv);
}

/* ---- input ---- */

int conn_read_line(struct conn *c, size_t max, struct bytes *line_r)
{
	if (c->closed)
		return 0;
	struct evbuffer *in = conn_in(c);
	size_t eol_len = 0;
	struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	if (p.pos < 0)
		return evbuffer_get_length(in) > max ? -1 : 0;
	if ((size_t)p.pos > max)
		return -1;
	buf_reset(&c->line);
	buf_reserve(&c->line, (size_t)p.pos);
	evbuffer_remove(in, c->line.data, (size_t)p.pos);
	c->line.len = (size_t)p.pos;
	c->line.data[c->line.len] = '\0';
	evbuffer_drain(in, eol_len);
	*line_r = (struct bytes){ c->line.data, c->line.len };
	return 1;
}

size_t conn_input_len(struct conn *c)
{
	if (c->closed)
		return 0;
	return evbuffer_get_length(conn_in(c));
}

const char *conn_input_peek(struct conn *c, size_t n)
{
	return (const char *)evbuffer_pullup(conn_in(c), (ev_ssize_t)n);
}

void conn_input_consume(struct conn *c, size_t n)
{
	evbuffer_drain(conn_in(c), n);
}

/* ---- output ---- */

void conn_write(struct conn *c, const void *data, size_t len)
{
	if (c->closed || (c->closing && c->abort_now))
		return;
	evbuffer_add(conn_out(c), data, len);
}

void conn_puts(struct conn *c, const char *s)
{
	conn_write(c, s, strlen(s));
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	if (c->closed || (c->closing && c->abort_now))
		return;
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(conn_out(c), fmt, ap);
	va_end(ap);
}

size_t conn_output_len(struct conn *c)
{
	if (c->closed)
		return 0;
	size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));
	return c->z != NULL ? n + evbuffer_get_length(conn_z_out(c->z)) : n;
}

void conn_want_drained(struct conn *c, bool want)
{
	c->want_drained = want;
}

void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
	conn_schedule(c); /* finishes at once when nothing is queued */
}

void conn_abort(struct conn *c)
{
	if (c->closed)
		return;
	c->closing = true;
	c->abort_now = true;
	conn_schedule(c);
}

bool conn_is_closing(const struct conn *c)
{
	return c->closing;
}

long conn_starttls(struct conn *c)
{
	if (c->closed || c->tls || c->starttls_pending || c->closing)
		return -1;
	pthread_mutex_lock(&c->srv->shared->lock);
	bool have_tls = c->srv->shared->tls != NULL;
	pthread_mutex_unlock(&c->srv->shared->lock);
	if (!have_tls)
		return -1;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	long dropped = (long)evbuffer_get_length(in);
	evbuffer_drain(in, (size_t)dropped);
	bufferevent_disable(c->bev, EV_READ); /* the ClientHello stays in the socket */
	c->starttls_pending = true;
	conn_schedule(c);
	if (dropped > 0)
		conn_log(c, LOG_WARN, "event=starttls_pipelined dropped=%ld", dropped);
	return dropped;
}

void conn_set_timeout(struct conn *c, int seconds)
{
	c->timeout = seconds;
	if (c->bev != NULL && !c->handshaking)
		apply_timeouts(c);
}

bool conn_is_tls(const struct conn *c)
{
	/* on implicit-TLS ports this is true from the start: sessions only ever read
	 * input that came through the finished handshake */
	return c->tls;
}

bool conn_is_loopback(const struct conn *c)
{
	return c->loopback;
}

bool conn_may_send_password(const struct conn *c)
{
	return conn_is_tls(c) || c->loopback;
}

const char *conn_peer_ip(const struct conn *c)
{
	return c->ip;
}

uint64_t conn_id(const struct conn *c)
{
	return c->id;
}

int conn_local_port(const struct conn *c)
{
	return c->local_port;
}

struct loop *conn_loop(const struct conn *c)
{
	return c->srv->loop;
}

const char *conn_tls_version(const struct conn *c)
{
	if (!c->tls || c->handshaking || c->bev == NULL)
		return NULL;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	return ssl != NULL ? SSL_get_version(ssl) : NULL;
}
