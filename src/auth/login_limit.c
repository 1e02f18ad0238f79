/* login_limit.c: the failed-login limiter (see login_limit.h).
 *
 * Two chained hash tables of entries, one keyed by address key and one by account
 * name. An entry keeps the times of its recent failures in a ring, the attempts in
 * flight, the slots waiting for the address, and for an account the addresses it
 * was logged into from (KNOWN_MAX, the most recent, remembered for KNOWN_SECONDS).
 * One mutex guards both tables: logins are rare next to everything else. */
#include "login_limit.h"

#include "arena.h"
#include "net.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024
#define KNOWN_MAX 8
#define KNOWN_SECONDS (30 * 24 * 3600)

struct known {
	time_t at; /* 0: unused */
	char addr[NET_ADDR_MAX];
};

struct entry {
	struct entry *next;
	time_t times[LOGIN_LIMIT_RING];
	unsigned head, count;
	size_t in_flight;
	struct login_slot *wait_head, *wait_tail;
	struct known *known; /* KNOWN_MAX, accounts only, NULL until the first success */
	char key[];
};

struct table {
	struct entry *b[BUCKETS];
};

struct login_limit {
	pthread_mutex_t lock;
	struct login_limits lim;
	struct table addrs, accounts;
	time_t swept;
};

static size_t key_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h % BUCKETS;
}

static void expire(struct entry *e, time_t now)
{
	while (e->count > 0) {
		unsigned oldest = (e->head + LOGIN_LIMIT_RING - e->count) % LOGIN_LIMIT_RING;
		if (now - e->times[oldest] < LOGIN_LIMIT_WINDOW)
			break;
		e->count--;
	}
}

static bool entry_idle(struct entry *e, time_t now)
{
	expire(e, now);
	if (e->count > 0 || e->in_flight > 0 || e->wait_head != NULL)
		return false;
	for (size_t i = 0; e->known != NULL && i < KNOWN_MAX; i++)
		if (e->known[i].at != 0 && now - e->known[i].at < KNOWN_SECONDS)
			return false;
	return true;
}

static void entry_free(struct entry *e)
{
	free(e->known);
	free(e);
}

/* The entry for key, with its expired failures dropped; created when asked. */
static struct entry *find(struct table *t, const char *key, bool create, time_t now)
{
	struct entry **ep = &t->b[key_hash(key)];
	while (*ep != NULL && strcmp((*ep)->key, key) != 0)
		ep = &(*ep)->next;
	if (*ep != NULL) {
		expire(*ep, now);
		return *ep;
	}
	if (!create)
		return NULL;
	size_t n = strlen(key);
	struct entry *e = xcalloc(1, sizeof(*e) + n + 1);
	memcpy(e->key, key, n + 1);
	*ep = e;
	return e;
}

static void sweep_table(struct table *t, time_t now)
{
	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct entry **ep = &t->b[i]; *ep != NULL;) {
			struct entry *e = *ep;
			if (entry_idle(e, now)) {
				*ep = e->next;
				entry_free(e);
			} else {
				ep = &e->next;
			}
		}
	}
}

/* Once a window: entries of addresses and names that stopped trying go. */
static void sweep(struct login_limit *l, time_t now)
{
	if (now - l->swept < LOGIN_LIMIT_WINDOW)
		return;
	l->swept = now;
	sweep_table(&l->addrs, now);
	sweep_table(&l->accounts, now);
}

static void add_failure(struct entry *e, time_t now)
{
	e->times[e->head] = now;
	e->head = (e->head + 1) % LOGIN_LIMIT_RING;
	if (e->count < LOGIN_LIMIT_RING)
		e->count++;
}

static bool known(const struct entry *u, const char *addr, time_t now)
{
	for (size_t i = 0; u->known != NULL && i < KNOWN_MAX; i++)
		if (u->known[i].at != 0 && now - u->known[i].at < KNOWN_SECONDS && strcmp(u->known[i].addr, addr) == 0)
			return true;
	return false;
}

static void known_add(struct entry *u, const char *addr, time_t now)
{
	if (u->known == NULL)
		u->known = xcalloc(KNOWN_MAX, sizeof(*u->known));
	size_t pick = 0;
	for (size_t i = 0; i < KNOWN_MAX; i++) {
		if (strcmp(u->known[i].addr, addr) == 0) {
			pick = i;
			break;
		}
		if (u->known[i].at < u->known[pick].at)
			pick = i; /* the oldest (or an unused one) */
	}
	u->known[pick].at = now;
	snprintf(u->known[pick].addr, sizeof(u->known[pick].addr), "%s", addr);
}

static size_t clamp(size_t v, size_t lo, size_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct login_limit *auth_login_limit_new(const struct login_limits *limits)
{
	struct login_limit *l = xcalloc(1, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	auth_login_limit_set(l, limits);
	return l;
}

void auth_login_limit_set(struct login_limit *l, const struct login_limits *limits)
{
	pthread_mutex_lock(&l->lock);
	l->lim.per_ip = clamp(limits->per_ip, 1, LOGIN_LIMIT_RING);
	l->lim.per_account = clamp(limits->per_account, 1, LOGIN_LIMIT_RING);
	l->lim.in_flight = clamp(limits->in_flight, 1, SIZE_MAX);
	pthread_mutex_unlock(&l->lock);
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct entry *e = t->b[i], *next; e != NULL; e = next) {
			next = e->next;
			entry_free(e);
		}
	}
}

void auth_login_limit_free(struct login_limit **lp)
{
	struct login_limit *l = *lp;
	if (l == NULL)
		return;
	table_free(&l->addrs);
	table_free(&l->accounts);
	pthread_mutex_destroy(&l->lock);
	free(l);
	*lp = NULL;
}

int auth_login_limit_begin(struct login_limit *l, struct login_slot *slot, time_t now)
{
	pthread_mutex_lock(&l->lock);
	sweep(l, now);
	const struct login_limits *lim = &l->lim;
	struct entry *a = find(&l->addrs, slot->addr, true, now);
	struct entry *u = find(&l->accounts, slot->account, false, now);
	int v;
	slot->next = NULL;
	slot->held = false;
	if (a->count >= lim->per_ip) {
		v = LOGIN_LIMIT_ADDRESS;
	} else if (u != NULL && u->count + u->in_flight >= lim->per_account && !known(u, slot->addr, now)) {
		v = LOGIN_LIMIT_ACCOUNT;
	} else if (a->count + a->in_flight >= lim->per_ip || a->in_flight >= lim->in_flight) {
		if (a->wait_tail != NULL)
			a->wait_tail->next = slot;
		else
			a->wait_head = slot;
		a->wait_tail = slot;
		v = LOGIN_LIMIT_WAIT;
	} else {
		if (u == NULL)
			u = find(&l->accounts, slot->account, true, now);
		a->in_flight++;
		u->in_flight++;
		slot->held = true;
		v = LOGIN_LIMIT_GO;
	}
	pthread_mutex_unlock(&l->lock);
	return v;
}

struct login_slot *auth_login_limit_end(struct login_limit *l, struct login_slot *slot, int outcome, time_t now)
{
	pthread_mutex_lock(&l->lock);
	struct entry *a = find(&l->addrs, slot->addr, true, now);
	struct entry *u = find(&l->accounts, slot->account, true, now);
	if (slot->held) {
		a->in_flight--;
		u->in_flight--;
		slot->held = false;
	}
	if (outcome == 0) {
		add_failure(a, now);
		add_failure(u, now);
	} else if (outcome > 0) {
		known_add(u, slot->addr, now);
	}
	struct login_slot *woken = a->wait_head;
	a->wait_head = a->wait_tail = NULL;
	pthread_mutex_unlock(&l->lock);
	return woken;
}

size_t auth_login_limit_failures(struct login_limit *l, const char *addr, time_t now)
{
	pthread_mutex_lock(&l->lock);
	struct entry *e = find(&l->addrs, addr, false, now);
	size_t n = e != NULL ? e->count : 0;
	pthread_mutex_unlock(&l->lock);
	return n;
}

size_t auth_login_limit_account_failures(struct login_limit *l, const char *account, time_t now)
{
	pthread_mutex_lock(&l->lock);
	struct entry *e = find(&l->accounts, account, false, now);
	size_t n = e != NULL ? e->count : 0;
	pthread_mutex_unlock(&l->lock);
	return n;
}

bool auth_login_limit_refused(struct login_limit *l, const char *addr, time_t now)
{
	pthread_mutex_lock(&l->lock);
	sweep(l, now);
	struct entry *e = find(&l->addrs, addr, false, now);
	bool refused = e != NULL && e->count >= l->lim.per_ip;
	pthread_mutex_unlock(&l->lock);
	return refused;
}

void auth_login_limit_fail(struct login_limit *l, const char *addr, const char *account, time_t now)
{
	pthread_mutex_lock(&l->lock);
	add_failure(find(&l->addrs, addr, true, now), now);
	add_failure(find(&l->accounts, account, true, now), now);
	pthread_mutex_unlock(&l->lock);
}
