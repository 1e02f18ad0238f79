/* send_limit.c: the per-account hourly counters behind limits.send_per_hour and
 * limits.recipients_per_hour (send_limit.h).
 *
 * A chained hash table of entries keyed by account id. Each entry holds 60
 * one-minute buckets of messages and recipients, the minute its buckets were last
 * advanced to, running totals, and the time until which a refusal needs no new
 * warning. Advancing an entry to the current minute clears the buckets that fell
 * out of the window. Once a minute (on the first call of a new minute) every entry
 * is advanced and those with nothing left in the window and no warning pending are
 * freed, so memory follows the accounts that sent in the last hour. */
#include "send_limit.h"

#include "arena.h" /* xcalloc */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MINUTES 60 /* the window: 60 one-minute buckets */

struct entry {
	struct entry *next;
	int64_t account;
	int64_t minute;                /* the newest minute the buckets describe */
	uint64_t messages, recipients; /* totals over the buckets */
	int64_t warned_until;          /* seconds: no new warning before this */
	uint32_t msg[MINUTES], rcpt[MINUTES];
};

struct send_limit {
	pthread_mutex_t lock; /* send_limit.lock: guards everything below */
	struct entry **heads;
	size_t nheads, n;
	int64_t swept; /* the minute of the last sweep */
};

struct send_limit *send_limit_new(void)
{
	struct send_limit *l = xcalloc(1, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->nheads = 64;
	l->heads = xcalloc(l->nheads, sizeof(*l->heads));
	return l;
}

void send_limit_free(struct send_limit **lp)
{
	struct send_limit *l = *lp;
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->nheads; i++) {
		for (struct entry *e = l->heads[i], *next; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(l->heads);
	pthread_mutex_destroy(&l->lock);
	free(l);
	*lp = NULL;
}

static size_t slot(const struct send_limit *l, int64_t account)
{
	uint64_t h = (uint64_t)account * 0x9e3779b97f4a7c15u;
	return (size_t)(h >> 32) & (l->nheads - 1);
}

static int64_t minute_of(int64_t now)
{
	return now >= 0 ? now / 60 : 0;
}

/* Moves e's window to end at minute m, clearing what fell out of it. */
static void advance(struct entry *e, int64_t m)
{
	if (m <= e->minute)
		return; /* the same minute (a monotonic clock never goes back) */
	if (m - e->minute >= MINUTES) {
		memset(e->msg, 0, sizeof(e->msg));
		memset(e->rcpt, 0, sizeof(e->rcpt));
		e->messages = e->recipients = 0;
	} else {
		for (int64_t k = e->minute + 1; k <= m; k++) {
			size_t b = (size_t)(k % MINUTES);
			e->messages -= e->msg[b];
			e->recipients -= e->rcpt[b];
			e->msg[b] = e->rcpt[b] = 0;
		}
	}
	e->minute = m;
}

static void grow(struct send_limit *l)
{
	size_t old = l->nheads;
	struct entry **heads = l->heads;
	l->nheads = old * 2;
	l->heads = xcalloc(l->nheads, sizeof(*l->heads));
	for (size_t i = 0; i < old; i++) {
		for (struct entry *e = heads[i], *next; e != NULL; e = next) {
			next = e->next;
			size_t s = slot(l, e->account);
			e->next = l->heads[s];
			l->heads[s] = e;
		}
	}
	free(heads);
}

/* Once a minute: advance every entry and drop the empty ones. */
static void sweep(struct send_limit *l, int64_t now)
{
	int64_t m = minute_of(now);
	if (m == l->swept)
		return;
	l->swept = m;
	for (size_t i = 0; i < l->nheads; i++) {
		for (struct entry **p = &l->heads[i]; *p != NULL;) {
			struct entry *e = *p;
			advance(e, m);
			if (e->messages == 0 && e->recipients == 0 && e->warned_until <= now) {
				*p = e->next;
				free(e);
				l->n--;
			} else {
				p = &e->next;
			}
		}
	}
}

/* The account's entry advanced to now; created when create is true, else NULL when
 * absent. */
static struct entry *entry_get(struct send_limit *l, int64_t account, int64_t now, bool create)
{
	sweep(l, now);
	size_t s = slot(l, account);
	for (struct entry *e = l->heads[s]; e != NULL; e = e->next) {
		if (e->account == account) {
			advance(e, minute_of(now));
			return e;
		}
	}
	if (!create)
		return NULL;
	if (l->n >= l->nheads * 2) {
		grow(l);
		s = slot(l, account);
	}
	struct entry *e = xcalloc(1, sizeof(*e));
	e->account = account;
	e->minute = minute_of(now);
	e->next = l->heads[s];
	l->heads[s] = e;
	l->n++;
	return e;
}

/* Whether the counts plus the additions fit; fills in *r when not. */
static bool fits(struct entry *e, const struct send_limit_caps *caps, uint64_t messages, uint64_t recipients,
		 int64_t now, struct send_limit_refusal *r)
{
	uint64_t have_m = e->messages, have_r = e->recipients;
	if (caps->messages > 0 && have_m + messages > caps->messages)
		*r = (struct send_limit_refusal){ "messages", caps->messages, false };
	else if (caps->recipients > 0 && have_r + recipients > caps->recipients)
		*r = (struct send_limit_refusal){ "recipients", caps->recipients, false };
	else
		return true;
	if (e->warned_until <= now) {
		r->first = true;
		e->warned_until = now + MINUTES * 60;
	}
	return false;
}

int send_limit_check(struct send_limit *l, int64_t account, const struct send_limit_caps *caps, uint64_t messages,
		     uint64_t recipients, int64_t now, struct send_limit_refusal *r)
{
	if (caps->messages == 0 && caps->recipients == 0)
		return 1;
	pthread_mutex_lock(&l->lock);
	struct entry *e = entry_get(l, account, now, true); /* it remembers the warning */
	bool ok = fits(e, caps, messages, recipients, now, r);
	pthread_mutex_unlock(&l->lock);
	return ok ? 1 : 0;
}

int send_limit_take(struct send_limit *l, int64_t account, const struct send_limit_caps *caps, uint64_t recipients,
		    int64_t now, struct send_limit_ticket *t, struct send_limit_refusal *r)
{
	*t = (struct send_limit_ticket){ .account = account };
	pthread_mutex_lock(&l->lock);
	struct entry *e = entry_get(l, account, now, true);
	bool ok = fits(e, caps, 1, recipients, now, r);
	if (ok) {
		size_t b = (size_t)(e->minute % MINUTES);
		uint32_t add = recipients > UINT32_MAX - e->rcpt[b] ? UINT32_MAX - e->rcpt[b] : (uint32_t)recipients;
		e->msg[b] += e->msg[b] < UINT32_MAX ? 1 : 0;
		e->rcpt[b] += add;
		e->messages++;
		e->recipients += add;
		t->minute = e->minute;
		t->recipients = add;
		t->counted = true;
	}
	pthread_mutex_unlock(&l->lock);
	return ok ? 1 : 0;
}

void send_limit_release(struct send_limit *l, struct send_limit_ticket *t, int64_t now)
{
	if (!t->counted) {
		*t = (struct send_limit_ticket){ 0 };
		return;
	}
	pthread_mutex_lock(&l->lock);
	struct entry *e = entry_get(l, t->account, now, false);
	if (e != NULL && t->minute > e->minute - MINUTES && t->minute <= e->minute) {
		size_t b = (size_t)(t->minute % MINUTES);
		uint32_t m = e->msg[b] > 0 ? 1 : 0;
		uint32_t rc = e->rcpt[b] < t->recipients ? e->rcpt[b] : (uint32_t)t->recipients;
		e->msg[b] -= m;
		e->rcpt[b] -= rc;
		e->messages -= m;
		e->recipients -= rc;
	}
	pthread_mutex_unlock(&l->lock);
	*t = (struct send_limit_ticket){ 0 };
}

void send_limit_counts(struct send_limit *l, int64_t account, int64_t now, uint64_t *messages_r, uint64_t *recipients_r)
{
	pthread_mutex_lock(&l->lock);
	struct entry *e = entry_get(l, account, now, false);
	*messages_r = e != NULL ? e->messages : 0;
	*recipients_r = e != NULL ? e->recipients : 0;
	pthread_mutex_unlock(&l->lock);
}

size_t send_limit_entries(struct send_limit *l, int64_t now)
{
	pthread_mutex_lock(&l->lock);
	sweep(l, now);
	size_t n = l->n;
	pthread_mutex_unlock(&l->lock);
	return n;
}
