/* users.c: state all IMAP sessions share (struct imapd_users, made by serve.c):
 * connections per (user, client address) for limits.imap_connections_per_user_ip
 * (DESIGN.md §6: 20 by default), a small chained hash table under a mutex whose
 * entries go when their count drops to zero; and one list of IDLE sessions per loop
 * for the "still here" ticker (session.c). A loop's list is touched only on that
 * loop's thread; the ticker's argument lives here, so a tick dropped at shutdown
 * leaks nothing. */
#include "imapd.h"

#include "arena.h"
#include "net.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 256

struct entry {
	struct entry *next;
	size_t count;
	char key[]; /* "user\0ip" flattened as "user ip" */
};

struct imapd_users {
	pthread_mutex_t mu;
	struct entry *b[NBUCKETS];
	struct imapd_idlers **loops; /* by loop id */
	size_t nloops;
};

struct imapd_users *imapd_users_new(void)
{
	struct imapd_users *u = xcalloc(1, sizeof(*u));
	pthread_mutex_init(&u->mu, NULL);
	return u;
}

void imapd_users_free(struct imapd_users **up)
{
	struct imapd_users *u = *up;
	if (u == NULL)
		return;
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct entry *e = u->b[i];
		while (e != NULL) {
			struct entry *n = e->next;
			free(e);
			e = n;
		}
	}
	for (size_t i = 0; i < u->nloops; i++)
		free(u->loops[i]);
	free(u->loops);
	pthread_mutex_destroy(&u->mu);
	free(u);
	*up = NULL;
}

static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)(h % NBUCKETS);
}

/* "user addr-key": an IPv6 /64 counts as one address (net_addr_key) */
static char *user_key(const char *user, const char *ip)
{
	char k[NET_ADDR_MAX];
	net_addr_key(ip, k);
	return xasprintf("%s %s", user, k);
}

bool imapd_users_acquire(struct imapd_users *u, const char *user, const char *ip, size_t max)
{
	char *key = user_key(user, ip);
	size_t h = hash(key);
	bool ok = false;
	pthread_mutex_lock(&u->mu);
	struct entry *e = u->b[h];
	while (e != NULL && strcmp(e->key, key) != 0)
		e = e->next;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e) + strlen(key) + 1);
		strcpy(e->key, key);
		e->next = u->b[h];
		u->b[h] = e;
	}
	if (e->count < max) {
		e->count++;
		ok = true;
	} else if (e->count == 0) {
		/* max == 0 and a new entry: drop it again */
		u->b[h] = e->next;
		free(e);
	}
	pthread_mutex_unlock(&u->mu);
	free(key);
	return ok;
}

void imapd_users_release(struct imapd_users *u, const char *user, const char *ip)
{
	char *key = user_key(user, ip);
	size_t h = hash(key);
	pthread_mutex_lock(&u->mu);
	struct entry **pp = &u->b[h];
	while (*pp != NULL && strcmp((*pp)->key, key) != 0)
		pp = &(*pp)->next;
	if (*pp != NULL && --(*pp)->count == 0) {
		struct entry *e = *pp;
		*pp = e->next;
		free(e);
	}
	pthread_mutex_unlock(&u->mu);
	free(key);
}

struct imapd_idlers *imapd_idlers_for(struct imapd_users *u, struct loop *l)
{
	size_t id = (size_t)loop_id(l);
	pthread_mutex_lock(&u->mu);
	if (id >= u->nloops) {
		u->loops = xrealloc(u->loops, (id + 1) * sizeof(*u->loops));
		memset(u->loops + u->nloops, 0, (id + 1 - u->nloops) * sizeof(*u->loops));
		u->nloops = id + 1;
	}
	if (u->loops[id] == NULL) {
		u->loops[id] = xcalloc(1, sizeof(*u->loops[id]));
		u->loops[id]->loop = l;
	}
	struct imapd_idlers *r = u->loops[id];
	pthread_mutex_unlock(&u->mu);
	return r;
}
