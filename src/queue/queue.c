/* queue.c: the queue's life cycle (open, start, close), submission from any thread,
 * the one-second tick (incoming messages, the flush trigger, due retries) and the
 * command-line views. The message list, the backoff schedule and the end of a message
 * are in queue_msgs.c, below both this file and queue_deliver.c.
 *
 * Threads: queue_submit and queue_flush_now may run on any thread; they touch only
 * the files and q->incoming under q->lock. Everything else runs on the queue's own
 * loop once it is started (before that, on the thread that opened the queue). */
#include "queue_int.h"

#include "log.h"
#include "loop.h"
#include "store.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned def(unsigned v, unsigned d)
{
	return v != 0 ? v : d;
}

static char *qdir_of(const char *data_dir)
{
	return xasprintf("%s/queue", data_dir);
}

/* ---------------------------------------------------------------- messages */

static int msg_check(const struct queue_msg *in, const char **error_r)
{
	if (in->nrcpts == 0) {
		*error_r = "no recipients";
		return -1;
	}
	for (size_t i = 0; i < in->nrcpts; i++) {
		const char *a = in->rcpts[i].address;
		if (a == NULL || strchr(a, '@') == NULL || strpbrk(a, "\r\n") != NULL) {
			*error_r = "bad recipient address";
			return -1;
		}
	}
	if (in->sender != NULL && strpbrk(in->sender, "\r\n") != NULL) {
		*error_r = "bad sender address";
		return -1;
	}
	return 1;
}

static void wake_cb(void *arg);
static void use_gen(struct queue *q, struct queue_gen *g);

int queue_submit(struct queue *q, const struct queue_msg *in, char *id_r, const char **error_r)
{
	if (msg_check(in, error_r) < 0)
		return -1;
	struct qmsg *m = queue_msg_new(in);
	if (q->be->write_msg(q, m, (struct bytes){ in->data, in->len }, error_r) < 0) {
		queue_msg_free(&m);
		return -1;
	}
	log_info("event=queue_submit id=%s from=<%s> rcpts=%zu size=%" PRIu64 "%s%s", m->id, m->sender, m->nrcpts,
		 m->size, m->auth_user != NULL ? " user=" : "", m->auth_user != NULL ? m->auth_user : "");
	if (id_r != NULL)
		snprintf(id_r, QUEUE_ID_MAX, "%s", m->id);
	pthread_mutex_lock(&q->lock);
	m->nextm = q->incoming;
	q->incoming = m;
	struct loop *l = q->loop;
	pthread_mutex_unlock(&q->lock);
	if (l != NULL)
		loop_post(l, wake_cb, q);
	return 1;
}

void queue_flush_now(struct queue *q)
{
	const char *err = NULL;
	if (q->be->shared && store_queue_flush(q->store, &err) < 0)
		log_warn("event=queue_flush_failed error=\"%s\"", err);
	pthread_mutex_lock(&q->lock);
	q->flush_requested = true;
	struct loop *l = q->loop;
	pthread_mutex_unlock(&q->lock);
	if (l != NULL)
		loop_post(l, wake_cb, q);
}

/* ---------------------------------------------------------------- the tick */

void queue_take_incoming(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	struct qmsg *in = q->incoming;
	q->incoming = NULL;
	struct queue_gen *g = q->pending;
	q->pending = NULL;
	bool flush = q->flush_requested;
	q->flush_requested = false;
	pthread_mutex_unlock(&q->lock);
	if (g != NULL) {
		use_gen(q, g);
		log_info("event=queue_reloaded routes=%zu", g->nroutes);
	}
	/* the list is newest first: reverse to keep submission order */
	struct qmsg *rev = NULL;
	while (in != NULL) {
		struct qmsg *next = in->nextm;
		in->nextm = rev;
		rev = in;
		in = next;
	}
	while (rev != NULL) {
		struct qmsg *next = rev->nextm;
		queue_msg_add(q, rev);
		rev = next;
	}
	if (flush) {
		size_t n = 0;
		for (struct qmsg *m = q->msgs; m != NULL; m = m->nextm) {
			for (size_t i = 0; i < m->nrcpts; i++)
				m->rcpts[i].next = 0;
			m->next = 0;
			n++;
		}
		log_info("event=queue_flush messages=%zu", n);
	}
}

static void wake_cb(void *arg)
{
	struct queue *q = arg;
	if (q->stopping)
		return;
	queue_take_incoming(q);
	queue_schedule(q);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;
	if (!q->stopping && q->be->tick(q)) {
		pthread_mutex_lock(&q->lock);
		q->flush_requested = true;
		pthread_mutex_unlock(&q->lock);
	}
	wake_cb(arg);
}

/* ---------------------------------------------------------------- life cycle */

/* A generation with copies of hostname (empty or NULL: the system's name) and routes. */
static struct queue_gen *gen_new(const char *hostname, const struct queue_route *routes, size_t nroutes)
{
	struct queue_gen *g = xcalloc(1, sizeof(*g));
	char host[256] = "localhost";
	if (hostname == NULL || hostname[0] == '\0')
		gethostname(host, sizeof(host) - 1);
	g->hostname = xstrdup(hostname != NULL && hostname[0] != '\0' ? hostname : host);
	g->routes = xcalloc(nroutes + 1, sizeof(*g->routes));
	for (size_t i = 0; i < nroutes; i++) {
		g->routes[i].domain = xstrdup(routes[i].domain);
		g->routes[i].host = xstrdup(routes[i].host);
		g->routes[i].port = routes[i].port != 0 ? routes[i].port : 25;
		g->routes[i].implicit_tls = routes[i].implicit_tls;
		if (routes[i].auth_user != NULL && routes[i].auth_password != NULL) {
			g->routes[i].auth_user = xstrdup(routes[i].auth_user);
			g->routes[i].auth_password = xstrdup(routes[i].auth_password);
		}
	}
	g->nroutes = nroutes;
	return g;
}

static void gen_free(struct queue_gen *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->nroutes; i++) {
		free((char *)g->routes[i].domain);
		free((char *)g->routes[i].host);
		free((char *)g->routes[i].auth_user);
		if (g->routes[i].auth_password != NULL)
			explicit_bzero((char *)g->routes[i].auth_password, strlen(g->routes[i].auth_password));
		free((char *)g->routes[i].auth_password);
	}
	free(g->routes);
	free(g->hostname);
	free(g);
}

/* Makes g current (before the queue starts, or on the queue thread). */
static void use_gen(struct queue *q, struct queue_gen *g)
{
	g->prev = q->gens;
	q->gens = g;
	q->hostname = g->hostname;
	q->s.hostname = g->hostname;
	q->routes = g->routes;
	q->s.routes = g->routes;
	q->s.nroutes = g->nroutes;
}

void queue_reload(struct queue *q, const char *hostname, const struct queue_route *routes, size_t nroutes)
{
	struct queue_gen *g = gen_new(hostname, routes, nroutes);
	pthread_mutex_lock(&q->lock);
	struct queue_gen *old = q->pending; /* never seen by a job: free it */
	q->pending = g;
	struct loop *l = q->loop;
	pthread_mutex_unlock(&q->lock);
	gen_free(old);
	if (l != NULL)
		loop_post(l, wake_cb, q);
}

void queue_set_bounce(struct queue *q, queue_bounce_fn *fn, void *ctx)
{
	q->bounce = fn;
	q->bounce_ctx = ctx;
}

struct queue *queue_open(const char *data_dir, const struct queue_settings *s, const char **error_r)
{
	struct queue *q = xcalloc(1, sizeof(*q));
	q->data_dir = xstrdup(data_dir);
	q->qdir = qdir_of(data_dir);
	q->s = *s;
	q->s.retry_initial = def(s->retry_initial, 300);
	q->s.retry_max = def(s->retry_max, 4 * 3600);
	q->s.lifetime = def(s->lifetime, 5 * 86400);
	q->s.concurrency_per_dest = def(s->concurrency_per_dest, 4);
	q->s.concurrency_total = def(s->concurrency_total, 20);
	q->s.timeout_connect = def(s->timeout_connect, 30);
	q->s.timeout_command = def(s->timeout_command, 300);
	q->s.timeout_data_init = def(s->timeout_data_init, 120);
	q->s.timeout_data_block = def(s->timeout_data_block, 180);
	q->s.timeout_data_end = def(s->timeout_data_end, 600);
	q->s.smtp_port = s->smtp_port != 0 ? s->smtp_port : 25;
	q->s.lease = def(s->lease, 60);
	q->store = s->store != NULL && store_queue_shared(s->store) ? s->store : NULL;
	q->be = q->store != NULL ? &queue_backend_pg : &queue_backend_files;
	use_gen(q, gen_new(s->hostname, s->routes, s->nroutes));
	size_t ndata = 0;
	while (s->dns_data != NULL && s->dns_data[ndata] != NULL)
		ndata++;
	if (s->dns_data != NULL) {
		q->dns_data = xcalloc(ndata + 1, sizeof(char *));
		for (size_t i = 0; i < ndata; i++)
			q->dns_data[i] = xstrdup(s->dns_data[i]);
	}
	q->s.dns_data = (const char *const *)q->dns_data;
	q->s.dns_server = s->dns_server != NULL ? xstrdup(s->dns_server) : NULL;
	pthread_mutex_init(&q->lock, NULL);

	int n = q->be->open(q, error_r);
	if (n < 0) {
		queue_close(&q);
		return NULL;
	}
	log_info("event=queue_open backend=%s messages=%d", q->be->name, n);
	return q;
}

int queue_start(struct queue *q, const char **error_r)
{
	struct loop *l = loop_new(-1);
	struct event_base *base = loop_base(l);
	q->dns = queue_dns_new(l, &q->s, error_r);
	if (q->dns == NULL) {
		loop_free(&l);
		return -1;
	}
	q->clients = queue_client_set_new(base, error_r);
	if (q->clients == NULL) {
		queue_dns_free(&q->dns);
		loop_free(&l);
		return -1;
	}
	q->tick = event_new(base, -1, EV_PERSIST, tick_cb, q);
	struct timeval one = { 1, 0 };
	event_add(q->tick, &one);
	if (loop_start(l, error_r) < 0) {
		event_free(q->tick);
		q->tick = NULL;
		queue_client_set_free(&q->clients);
		queue_dns_free(&q->dns);
		loop_free(&l);
		return -1;
	}
	pthread_mutex_lock(&q->lock);
	q->loop = l;
	pthread_mutex_unlock(&q->lock);
	loop_post(l, wake_cb, q);
	return 1;
}

void queue_close(struct queue **qp)
{
	struct queue *q = *qp;
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	struct loop *l = q->loop;
	q->loop = NULL;
	pthread_mutex_unlock(&q->lock);
	if (l != NULL) {
		loop_stop_and_join(l);
		/* the loop's thread is gone: its state can be freed from here */
		q->stopping = true;
		queue_jobs_free(q);
		queue_client_set_free(&q->clients);
		queue_dns_free(&q->dns);
		event_free(q->tick);
		loop_free(&l);
	}
	if (q->be != NULL && q->be->shared && q->owner[0] != '\0') {
		/* a clean stop: what this node held is anyone's a second from now, not only
		 * after queue.lease (deliveries in progress were dropped unfinished) */
		const char *err = NULL;
		if (store_queue_heartbeat(q->store, q->owner, 0, &err) < 0)
			log_warn("event=queue_release_failed owner=%s error=\"%s\"", q->owner, err);
	}
	while (q->msgs != NULL) {
		struct qmsg *m = q->msgs;
		queue_msg_unlink(q, m);
		queue_msg_free(&m);
	}
	while (q->incoming != NULL) {
		struct qmsg *m = q->incoming;
		q->incoming = m->nextm;
		queue_msg_free(&m);
	}
	gen_free(q->pending);
	while (q->gens != NULL) {
		struct queue_gen *g = q->gens;
		q->gens = g->prev;
		gen_free(g);
	}
	for (size_t i = 0; q->dns_data != NULL && q->dns_data[i] != NULL; i++)
		free(q->dns_data[i]);
	free(q->dns_data);
	free((char *)q->s.dns_server);
	pthread_mutex_destroy(&q->lock);
	free(q->qdir);
	free(q->data_dir);
	free(q);
	*qp = NULL;
}

/* ---------------------------------------------------------------- CLI */

struct list_ctx {
	struct arena *a;
	struct queue_entry *v;
	size_t n, cap;
};

static void list_cb(void *arg, struct qmsg *m)
{
	struct list_ctx *c = arg;
	if (c->n == c->cap) {
		size_t cap = c->cap == 0 ? 16 : c->cap * 2;
		struct queue_entry *v = arena_alloc(c->a, cap * sizeof(*v));
		if (c->n > 0)
			memcpy(v, c->v, c->n * sizeof(*v));
		c->v = v;
		c->cap = cap;
	}
	struct queue_entry *e = &c->v[c->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", m->id);
	e->created = m->created;
	queue_msg_summarize(m);
	e->next_attempt = m->next;
	e->attempts = m->attempts;
	e->sender = arena_strdup(c->a, m->sender);
	e->size = m->size;
	e->nrcpts = m->nrcpts;
	e->rcpts = arena_alloc(c->a, m->nrcpts * sizeof(*e->rcpts));
	for (size_t i = 0; i < m->nrcpts; i++) {
		const struct qrcpt *r = &m->rcpts[i];
		e->rcpts[i].address = arena_strdup(c->a, r->address);
		e->rcpts[i].state = r->state;
		e->rcpts[i].attempts = r->attempts;
		e->rcpts[i].next_attempt = r->next;
		e->rcpts[i].last_error = arena_strdup(c->a, r->diag != NULL ? r->diag : "");
	}
	queue_msg_free(&m);
}

int queue_list(const char *data_dir, struct store *store, struct arena *a, struct queue_entry **entries_r,
	       size_t *n_r, const char **error_r)
{
	if (store != NULL && store_queue_shared(store))
		return queue_pg_list(store, a, entries_r, n_r, error_r);
	char *qdir = qdir_of(data_dir);
	struct list_ctx c = { .a = a };
	int r = queue_spool_load(qdir, false, list_cb, &c, error_r);
	free(qdir);
	if (r < 0)
		return -1;
	*entries_r = c.v;
	*n_r = c.n;
	return 1;
}

int queue_flush(const char *data_dir, struct store *store, const char **error_r)
{
	if (store != NULL && store_queue_shared(store))
		return store_queue_flush(store, error_r) < 0 ? -1 : 1;
	char *qdir = qdir_of(data_dir);
	char *path = xasprintf("%s/flush", qdir);
	int ret = 1;
	struct stat st;
	if (stat(qdir, &st) == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			*error_r = "cannot create DIR/queue/flush";
			ret = -1;
		} else {
			close(fd);
		}
	}
	free(path);
	free(qdir);
	return ret;
}
