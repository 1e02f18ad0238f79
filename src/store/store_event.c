/* store_event.c: change events from the committer to subscribed sessions.
 *
 * After each COMMIT, the committer thread publishes the committed ops' events: for each
 * matching subscription it takes a reference and posts a delivery to the
 * subscriber's loop (loop_post). The delivery runs fn under the subscription's
 * recursive mutex only if the subscription is still active, then drops its reference.
 * store_unsubscribe() unlinks the subscription, marks it inactive under the same mutex
 * and drops the registry's reference: after it returns no callback can start (and
 * none is running on another thread, because the mutex was taken), so the session may
 * free its state at once; the memory of the subscription itself lives until the last
 * in-flight delivery lets go of it. Because the mutex is recursive, fn may unsubscribe
 * from inside the callback. */
#include "store_int.h"

#include <assert.h>
#include <stdlib.h>

struct store_sub {
	struct store *s;
	int64_t account_id, mailbox_id;
	struct loop *loop;
	store_event_fn *fn;
	void *arg;
	atomic_int refs;
	pthread_mutex_t mu; /* recursive */
	bool active;
	struct store_sub *next; /* in the bucket, under s->sub_mu */
};

struct delivery {
	struct store_sub *sub;
	struct store_event ev;
};

static void sub_unref(struct store_sub *sub)
{
	int was = atomic_fetch_sub(&sub->refs, 1);
	assert(was > 0); /* a release without its reference */
	if (was == 1) {
		pthread_mutex_destroy(&sub->mu);
		free(sub);
	}
}

static struct sub_bucket *bucket(struct store *s, int64_t account_id)
{
	return &s->subs[(uint64_t)account_id % SUB_BUCKETS];
}

struct store_sub *store_subscribe(struct store *s, int64_t account_id, int64_t mailbox_id,
				  struct loop *loop, store_event_fn *fn, void *arg)
{
	struct store_sub *sub = xcalloc(1, sizeof(*sub));
	sub->s = s;
	sub->account_id = account_id;
	sub->mailbox_id = mailbox_id;
	sub->loop = loop;
	sub->fn = fn;
	sub->arg = arg;
	sub->active = true;
	atomic_init(&sub->refs, 1);
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&sub->mu, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_lock(&s->sub_mu);
	struct sub_bucket *b = bucket(s, account_id);
	sub->next = b->head;
	b->head = sub;
	pthread_mutex_unlock(&s->sub_mu);
	return sub;
}

void store_unsubscribe(struct store_sub **subp)
{
	struct store_sub *sub = *subp;
	if (sub == NULL)
		return;
	*subp = NULL;
	struct store *s = sub->s;
	pthread_mutex_lock(&s->sub_mu);
	for (struct store_sub **pp = &bucket(s, sub->account_id)->head; *pp; pp = &(*pp)->next) {
		if (*pp == sub) {
			*pp = sub->next;
			break;
		}
	}
	pthread_mutex_unlock(&s->sub_mu);
	pthread_mutex_lock(&sub->mu);
	sub->active = false;
	pthread_mutex_unlock(&sub->mu);
	sub_unref(sub);
}

static void deliver(void *arg)
{
	struct delivery *d = arg;
	struct store_sub *sub = d->sub;
	pthread_mutex_lock(&sub->mu);
	if (sub->active)
		sub->fn(sub->arg, &d->ev);
	pthread_mutex_unlock(&sub->mu);
	sub_unref(sub);
	free(d);
}

void store_events_publish(struct store *s, const struct store_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct delivery **ds = NULL;
		size_t nd = 0, cap = 0;
		pthread_mutex_lock(&s->sub_mu);
		for (struct store_sub *sub = bucket(s, ev[i].account_id)->head; sub; sub = sub->next) {
			if (sub->account_id != ev[i].account_id)
				continue;
			if (sub->mailbox_id != 0 && sub->mailbox_id != ev[i].mailbox_id &&
			    ev[i].kind != STORE_EV_RESYNC)
				continue;
			if (nd == cap) {
				cap = cap ? cap * 2 : 8;
				ds = xrealloc(ds, cap * sizeof(*ds));
			}
			struct delivery *d = xmalloc(sizeof(*d));
			d->sub = sub;
			d->ev = ev[i];
			atomic_fetch_add(&sub->refs, 1);
			ds[nd++] = d;
		}
		pthread_mutex_unlock(&s->sub_mu);
		for (size_t k = 0; k < nd; k++) {
			if (ds[k]->sub->loop != NULL)
				loop_post(ds[k]->sub->loop, deliver, ds[k]);
			else
				deliver(ds[k]);
		}
		free(ds);
	}
}

size_t store_events_resync(struct store *s)
{
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	pthread_mutex_lock(&s->sub_mu);
	for (size_t b = 0; b < SUB_BUCKETS; b++) {
		size_t first = n; /* an account's subscriptions share its bucket */
		for (struct store_sub *sub = s->subs[b].head; sub; sub = sub->next) {
			bool seen = false;
			for (size_t k = n; k > first && !seen; k--)
				seen = ids[k - 1] == sub->account_id;
			if (seen)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				ids = xrealloc(ids, cap * sizeof(*ids));
			}
			ids[n++] = sub->account_id;
		}
	}
	pthread_mutex_unlock(&s->sub_mu);
	for (size_t i = 0; i < n; i++) {
		struct store_event ev = { .kind = STORE_EV_RESYNC, .account_id = ids[i] };
		store_events_publish(s, &ev, 1);
	}
	free(ids);
	return n;
}
