/* loop.c: worker threads with one event base each, and loop_post (see loop.h).
 *
 * Each loop owns a queue of posted calls guarded by a mutex and one libevent event
 * that is activated to wake the loop; the loop drains the whole queue in one pass. */
#include "loop.h"

#include "arena.h"

#include <assert.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdlib.h>

struct posted {
	struct posted *next;
	loop_fn *fn;
	void *arg;
};

struct loop {
	int id;
	struct delayed *timers; /* armed loop_post_after timers (loop thread only) */
	struct event_base *base;
	struct event *wake;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	struct posted *head, *tail;
};

struct delayed {
	struct delayed *prev, *next;
	struct loop *l;
	struct event *ev;
	unsigned ms;
	loop_fn *fn;
	void *arg;
};

static void delayed_unlink(struct delayed *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		d->l->timers = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
}

/* The loop that runs on this thread: thread-local, not shared state. */
static _Thread_local struct loop *current_loop;

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	pthread_mutex_lock(&l->lock);
	struct posted *p = l->head;
	l->head = l->tail = NULL;
	pthread_mutex_unlock(&l->lock);
	while (p != NULL) {
		struct posted *next = p->next;
		p->fn(p->arg);
		free(p);
		p = next;
	}
}

struct loop *loop_new(int id)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, (void (*)(void))evthread_use_pthreads);
	struct loop *l = xcalloc(1, sizeof(*l));
	l->id = id;
	struct event_config *ec = event_config_new();
	/* one loop per thread: no need for the base to grab its own lock on every op,
	 * but loop_post activates events from other threads, so keep locking on. */
	l->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (l->base == NULL)
		abort();
	l->wake = event_new(l->base, -1, 0, wake_cb, l);
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	current_loop = l;
	event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY);
	current_loop = NULL;
	return NULL;
}

int loop_start(struct loop *l, const char **error_r)
{
	if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
		*error_r = "cannot start a worker thread";
		return -1;
	}
	l->started = true;
	return 1;
}

void loop_stop_and_join(struct loop *l)
{
	if (!l->started)
		return;
	event_base_loopexit(l->base, NULL);
	pthread_join(l->thread, NULL);
	l->started = false;
}

void loop_free(struct loop **lp)
{
	struct loop *l = *lp;
	if (l == NULL)
		return;
	loop_stop_and_join(l);
	/* drop what is still queued or armed: its owners are gone with the loop */
	while (l->timers != NULL) {
		struct delayed *d = l->timers;
		delayed_unlink(d);
		event_free(d->ev);
		free(d);
	}
	for (struct posted *p = l->head, *next; p != NULL; p = next) {
		next = p->next;
		free(p);
	}
	event_free(l->wake);
	event_base_free(l->base);
	pthread_mutex_destroy(&l->lock);
	free(l);
	*lp = NULL;
}

void loop_post(struct loop *l, loop_fn *fn, void *arg)
{
	struct posted *p = xmalloc(sizeof(*p));
	p->next = NULL;
	p->fn = fn;
	p->arg = arg;
	pthread_mutex_lock(&l->lock);
	bool was_empty = l->head == NULL;
	if (l->tail != NULL)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	pthread_mutex_unlock(&l->lock);
	if (was_empty)
		event_active(l->wake, EV_READ, 0);
}

static void delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *d = arg;
	delayed_unlink(d);
	event_free(d->ev);
	loop_fn *fn = d->fn;
	void *fnarg = d->arg;
	free(d);
	fn(fnarg);
}

static void delayed_arm(void *arg)
{
	/* runs on the loop's thread: the timer is made and added there */
	struct delayed *d = arg;
	d->ev = event_new(d->l->base, -1, 0, delayed_cb, d);
	d->next = d->l->timers;
	if (d->next != NULL)
		d->next->prev = d;
	d->l->timers = d;
	struct timeval tv = { (time_t)(d->ms / 1000), (suseconds_t)(d->ms % 1000) * 1000 };
	event_add(d->ev, &tv);
}

void loop_post_after(struct loop *l, unsigned ms, loop_fn *fn, void *arg)
{
	struct delayed *d = xcalloc(1, sizeof(*d));
	d->l = l;
	d->fn = fn;
	d->arg = arg;
	d->ms = ms;
	loop_post(l, delayed_arm, d);
}

struct event_base *loop_base(struct loop *l)
{
	return l->base;
}

int loop_id(const struct loop *l)
{
	return l->id;
}

bool loop_is_current(const struct loop *l)
{
	return current_loop == l;
}

struct loop *loop_current(void)
{
	return current_loop;
}

struct call {
	loop_fn *fn;
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void call_run(void *arg)
{
	struct call *c = arg;
	c->fn(c->arg);
	pthread_mutex_lock(&c->lock);
	c->done = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void loop_call(struct loop *l, loop_fn *fn, void *arg)
{
	assert(l->started && !loop_is_current(l));
	struct call c = { .fn = fn, .arg = arg, .done = false };
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	loop_post(l, call_run, &c);
	pthread_mutex_lock(&c.lock);
	while (!c.done)
		pthread_cond_wait(&c.cond, &c.lock);
	pthread_mutex_unlock(&c.lock);
	pthread_cond_destroy(&c.cond);
	pthread_mutex_destroy(&c.lock);
}
