/* dns.c: the resolver (dns.h) on libunbound.
 *
 * One ub_ctx in threaded async mode per struct dns. Every question, blocking or not,
 * is handed to libunbound with ub_resolve_async (thread-safe: it takes the context's
 * own lock) and its answer is read by the one resolver thread this file starts, which
 * polls ub_fd() and an eventfd, runs ub_process() and enforces each question's
 * deadline (ub_cancel, then a temporary error). A blocking caller waits on its
 * request's condition variable; an asynchronous one gets the answer posted to its
 * loop. We do not use the blocking ub_resolve: it has no deadline (a silent server
 * holds the caller for libunbound's whole retry schedule) and builds a new worker
 * (sockets, event base) for every call.
 *
 * Answers are kept as a flat copy of libunbound's record data (struct dns_raw) which is
 * what the cache stores; each caller parses its copy into its own arena
 * (dns_parse.c). Lock order: d->lock, then libunbound's context lock (we call
 * ub_resolve_async and ub_cancel holding d->lock; libunbound calls our callback
 * holding none of its locks). */
#include "dns.h"
#include "dns_int.h"

#include "log.h"
#include "loop.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unbound.h>
#include <unistd.h>

#define DNS_TIMEOUT_DEFAULT 5000
#define DNS_CACHE_DEFAULT 4096

/* Where a request is. */
enum req_state {
	REQ_UNBOUND, /* asked of libunbound; in d->pending */
	REQ_POSTED,  /* answered, its delivery posted to its loop; in d->posted */
	REQ_DONE,    /* answered, a blocking caller takes it */
};

struct dns_req {
	struct dns *d;
	struct dns_req *prev, *next; /* in d->pending or d->posted */
	enum req_state state;
	char *name;
	int rrtype;
	uint64_t deadline; /* monotonic ms */
	int async_id;
	bool cancelled; /* asynchronous: nobody wants the answer any more */
	struct dns_raw *raw;
	/* blocking */
	bool sync;
	pthread_cond_t cond;
	/* asynchronous */
	struct loop *loop;
	dns_fn *fn;
	void *arg;
};

struct dns {
	struct ub_ctx *ctx;
	unsigned timeout_ms;
	pthread_mutex_t lock; /* everything below, and the cache */
	struct dns_req *pending, *posted;
	struct dns_cache *cache;
	bool stopping;
	int wake_fd;
	pthread_t thread;
	bool thread_started;
};

uint64_t dns_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------- requests */

static void list_add(struct dns_req **head, struct dns_req *r)
{
	r->prev = NULL;
	r->next = *head;
	if (*head != NULL)
		(*head)->prev = r;
	*head = r;
}

static void list_del(struct dns_req **head, struct dns_req *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		*head = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void req_free(struct dns_req *r)
{
	if (r->sync)
		pthread_cond_destroy(&r->cond);
	free(r->raw);
	free(r->name);
	free(r);
}

static void wake(struct dns *d)
{
	uint64_t one = 1;
	ssize_t n = write(d->wake_fd, &one, sizeof(one));
	(void)n; /* a full counter still wakes the thread */
}

static void deliver_cb(void *arg)
{
	struct dns_req *r = arg;
	struct dns *d = r->d;
	pthread_mutex_lock(&d->lock);
	assert(r->state == REQ_POSTED);
	list_del(&d->posted, r);
	bool cancelled = r->cancelled;
	pthread_mutex_unlock(&d->lock);
	if (!cancelled) {
		struct arena *a = arena_new();
		struct dns_answer ans;
		const char *error;
		dns_raw_answer(r->raw, r->rrtype, a, &ans, &error);
		r->fn(r->arg, &ans);
		arena_free(&a);
	}
	req_free(r);
}

/* The answer of r has arrived (raw, owned by r from now on). d->lock is held. */
static void complete_locked(struct dns *d, struct dns_req *r, struct dns_raw *raw)
{
	assert(r->state == REQ_UNBOUND);
	r->raw = raw;
	list_del(&d->pending, r);
	if (r->sync) {
		r->state = REQ_DONE;
		pthread_cond_signal(&r->cond);
	} else if (r->cancelled) {
		req_free(r);
	} else {
		r->state = REQ_POSTED;
		list_add(&d->posted, r);
		loop_post(r->loop, deliver_cb, r);
	}
}

static void ub_answer_cb(void *mydata, int err, struct ub_result *res)
{
	struct dns_req *r = mydata;
	struct dns *d = r->d;
	struct dns_raw *raw = dns_raw_from_result(r->name, err, res);
	if (res != NULL)
		ub_resolve_free(res);
	pthread_mutex_lock(&d->lock);
	if (d->cache != NULL && raw->status != DNS_TEMP)
		dns_cache_put(d->cache, r->name, r->rrtype, raw, dns_now_ms());
	complete_locked(d, r, raw);
	pthread_mutex_unlock(&d->lock);
}

/* Makes a request and asks libunbound, or completes it at once from the cache or
 * with an error. d->lock is held. */
static void start_locked(struct dns *d, struct dns_req *r)
{
	r->state = REQ_UNBOUND;
	list_add(&d->pending, r);
	struct dns_raw *hit = d->cache != NULL ? dns_cache_get(d->cache, r->name, r->rrtype, dns_now_ms()) : NULL;
	if (hit != NULL) {
		complete_locked(d, r, hit);
		return;
	}
	int e = ub_resolve_async(d->ctx, r->name, r->rrtype, 1 /* IN */, r, ub_answer_cb, &r->async_id);
	if (e != 0) {
		log_warn("event=dns_error name=%s error=\"%s\"", r->name, ub_strerror(e));
		complete_locked(d, r, dns_raw_error("cannot ask the resolver"));
		return;
	}
	wake(d); /* the thread recomputes its next deadline */
}

static struct dns_req *req_new(struct dns *d, const char *name, int rrtype, unsigned timeout_ms)
{
	struct dns_req *r = xcalloc(1, sizeof(*r));
	r->d = d;
	size_t n = strlen(name);
	if (n > 1 && name[n - 1] == '.')
		n--;
	r->name = xstrndup(name, n);
	r->rrtype = rrtype;
	r->deadline = dns_now_ms() + (timeout_ms != 0 ? timeout_ms : d->timeout_ms);
	return r;
}

/* A name we refuse to ask: empty, too long, or with bytes no query should carry. */
static bool bad_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 254 || (n == 254 && name[253] != '.'))
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= ' ' || c >= 127 || (c == '.' && (i == 0 ? n > 1 : name[i - 1] == '.')))
			return true;
	}
	return false;
}

int dns_query_wait(struct dns *d, const char *name, int rrtype, unsigned timeout_ms, struct arena *a,
		   struct dns_answer *answer_r, const char **error_r)
{
	if (bad_name(name)) {
		struct dns_raw *raw = dns_raw_error("invalid domain name");
		int s = dns_raw_answer(raw, rrtype, a, answer_r, error_r);
		free(raw);
		return s;
	}
	struct dns_req *r = req_new(d, name, rrtype, timeout_ms);
	r->sync = true;
	pthread_cond_init(&r->cond, NULL);
	pthread_mutex_lock(&d->lock);
	start_locked(d, r);
	while (r->state != REQ_DONE)
		pthread_cond_wait(&r->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
	int s = dns_raw_answer(r->raw, rrtype, a, answer_r, error_r);
	req_free(r);
	return s;
}

struct dns_req *dns_query_async(struct dns *d, const char *name, int rrtype, unsigned timeout_ms, struct loop *loop,
				dns_fn *fn, void *arg)
{
	struct dns_req *r = req_new(d, bad_name(name) ? "invalid." : name, rrtype, timeout_ms);
	r->loop = loop;
	r->fn = fn;
	r->arg = arg;
	pthread_mutex_lock(&d->lock);
	if (bad_name(name)) {
		r->state = REQ_UNBOUND;
		list_add(&d->pending, r);
		complete_locked(d, r, dns_raw_error("invalid domain name"));
	} else {
		start_locked(d, r);
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

void dns_cancel(struct dns_req **rp)
{
	struct dns_req *r = *rp;
	if (r == NULL)
		return;
	*rp = NULL;
	struct dns *d = r->d;
	pthread_mutex_lock(&d->lock);
	assert(!r->sync);
	r->cancelled = true;
	/* a request still in libunbound: if ub_cancel succeeds its callback never runs and
	 * it is ours to free; otherwise the callback is on its way and frees it */
	if (r->state == REQ_UNBOUND && ub_cancel(d->ctx, r->async_id) == 0) {
		list_del(&d->pending, r);
		req_free(r);
	}
	pthread_mutex_unlock(&d->lock);
}

/* --------------------------------------------------------------- thread */

/* Answers every request whose deadline has passed with a temporary error; returns the
 * milliseconds until the next deadline (-1: none). d->lock is held. */
static int expire_locked(struct dns *d)
{
	uint64_t now = dns_now_ms(), next = UINT64_MAX;
	for (struct dns_req *r = d->pending, *nx; r != NULL; r = nx) {
		nx = r->next;
		if (r->deadline > now) {
			if (r->deadline < next)
				next = r->deadline;
			continue;
		}
		/* on this thread, outside ub_process: the answer cannot be half delivered */
		ub_cancel(d->ctx, r->async_id);
		complete_locked(d, r, dns_raw_error("DNS timeout"));
	}
	if (next == UINT64_MAX)
		return -1;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

static void *resolver_thread(void *arg)
{
	struct dns *d = arg;
	struct pollfd p[2] = { { .fd = ub_fd(d->ctx), .events = POLLIN }, { .fd = d->wake_fd, .events = POLLIN } };
	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		int timeout = expire_locked(d);
		pthread_mutex_unlock(&d->lock);
		int n = poll(p, 2, timeout);
		if (n < 0 && errno != EINTR)
			log_error("event=dns_poll_failed error=\"%s\"", strerror(errno));
		if (n > 0 && (p[1].revents & POLLIN)) {
			uint64_t v;
			ssize_t got = read(d->wake_fd, &v, sizeof(v));
			(void)got;
		}
		if (n > 0 && (p[0].revents & POLLIN))
			ub_process(d->ctx); /* runs ub_answer_cb, which takes d->lock */
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* ---------------------------------------------------------------- setup */

void dns_free(struct dns **dp)
{
	struct dns *d = *dp;
	if (d == NULL)
		return;
	if (d->thread_started) {
		pthread_mutex_lock(&d->lock);
		d->stopping = true;
		pthread_mutex_unlock(&d->lock);
		wake(d);
		pthread_join(d->thread, NULL);
	}
	if (d->ctx != NULL)
		ub_ctx_delete(d->ctx);
	/* nobody waits any more: blocking callers are gone, loops have stopped */
	while (d->pending != NULL) {
		struct dns_req *r = d->pending;
		list_del(&d->pending, r);
		assert(!r->sync);
		req_free(r);
	}
	while (d->posted != NULL) {
		struct dns_req *r = d->posted;
		list_del(&d->posted, r);
		req_free(r);
	}
	dns_cache_free(&d->cache);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	pthread_mutex_destroy(&d->lock);
	free(d);
	*dp = NULL;
}

struct dns *dns_new(const struct dns_settings *s, const char **error_r)
{
	struct dns *d = xcalloc(1, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->wake_fd = -1;
	d->timeout_ms = s->timeout_ms != 0 ? s->timeout_ms : DNS_TIMEOUT_DEFAULT;
	unsigned entries = s->cache_entries == 0 ? DNS_CACHE_DEFAULT : s->cache_entries;
	if (entries != DNS_CACHE_OFF)
		d->cache = dns_cache_new(entries);
	d->ctx = ub_ctx_create();
	if (d->ctx == NULL) {
		*error_r = "cannot create the DNS resolver";
		dns_free(&d);
		return NULL;
	}
	if (dns_configure(d->ctx, s, error_r) < 0) {
		dns_free(&d);
		return NULL;
	}
	d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->wake_fd < 0) {
		*error_r = "cannot create the resolver's eventfd";
		dns_free(&d);
		return NULL;
	}
	if (pthread_create(&d->thread, NULL, resolver_thread, d) != 0) {
		*error_r = "cannot start the resolver thread";
		dns_free(&d);
		return NULL;
	}
	d->thread_started = true;
	return d;
}
