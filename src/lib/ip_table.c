/* ip_table.c: per-address connection counting and message-memory shares (see
 * ip_table.h).
 *
 * A chained hash table of address keys (ip_key: net_addr_key, so IPv6 clients
 * count per /64); entries are removed when their
 * connection count drops to zero (their memory is released first, conn.c), so its
 * size follows the number of distinct connected clients. */
#include "ip_table.h"

#include "arena.h"
#include "net.h"

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IP_BUCKETS 1024

struct ip_entry {
	struct ip_entry *next;
	size_t count;
	uint64_t mem; /* message memory held by the address's connections */
	char ip[];
};

struct ip_table {
	pthread_mutex_t lock;
	size_t total;
	struct ip_entry *buckets[IP_BUCKETS];
};

static size_t ip_hash(const char *ip)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *ip; ip++) {
		h ^= (unsigned char)*ip;
		h *= 16777619u;
	}
	return h % IP_BUCKETS;
}

struct ip_table *ip_table_new(void)
{
	struct ip_table *t = xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void ip_table_free(struct ip_table **tp)
{
	struct ip_table *t = *tp;
	if (t == NULL)
		return;
	for (size_t i = 0; i < IP_BUCKETS; i++) {
		for (struct ip_entry *e = t->buckets[i], *next; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
	*tp = NULL;
}

/* The key an address is counted under, for connections and message memory alike:
 * every public function looks addresses up through here, so both counts always
 * agree on what "one address" is (a change of the key, e.g. IPv6 by /64, goes here). */
static void ip_key(const char *addr, char out[NET_ADDR_MAX])
{
	net_addr_key(addr, out);
}

static struct ip_entry **ip_find(struct ip_table *t, const char *ip)
{
	struct ip_entry **ep = &t->buckets[ip_hash(ip)];
	while (*ep != NULL && strcmp((*ep)->ip, ip) != 0)
		ep = &(*ep)->next;
	return ep;
}

int ip_table_acquire(struct ip_table *t, const char *addr, size_t per_ip, size_t total)
{
	char ip[NET_ADDR_MAX];
	ip_key(addr, ip);
	int r = 1;
	pthread_mutex_lock(&t->lock);
	struct ip_entry **ep = ip_find(t, ip);
	if (t->total >= total) {
		r = -1;
	} else if (*ep != NULL && (*ep)->count >= per_ip) {
		r = 0;
	} else {
		if (*ep == NULL) {
			size_t n = strlen(ip);
			struct ip_entry *e = xmalloc(sizeof(*e) + n + 1);
			e->next = NULL;
			e->count = 0;
			e->mem = 0;
			memcpy(e->ip, ip, n + 1);
			*ep = e;
		}
		(*ep)->count++;
		t->total++;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

void ip_table_release(struct ip_table *t, const char *addr)
{
	char ip[NET_ADDR_MAX];
	ip_key(addr, ip);
	pthread_mutex_lock(&t->lock);
	struct ip_entry **ep = ip_find(t, ip);
	if (*ep != NULL) {
		t->total--;
		if (--(*ep)->count == 0) {
			struct ip_entry *e = *ep;
			*ep = e->next;
			free(e);
		}
	}
	pthread_mutex_unlock(&t->lock);
}

size_t ip_table_count(struct ip_table *t, const char *addr)
{
	char ip[NET_ADDR_MAX];
	ip_key(addr, ip);
	pthread_mutex_lock(&t->lock);
	struct ip_entry **ep = ip_find(t, ip);
	size_t n = *ep != NULL ? (*ep)->count : 0;
	pthread_mutex_unlock(&t->lock);
	return n;
}

size_t ip_table_total(struct ip_table *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = t->total;
	pthread_mutex_unlock(&t->lock);
	return n;
}

int ip_table_mem_add(struct ip_table *t, const char *addr, uint64_t n, uint64_t max)
{
	char ip[NET_ADDR_MAX];
	ip_key(addr, ip);
	int r = 0;
	pthread_mutex_lock(&t->lock);
	struct ip_entry *e = *ip_find(t, ip);
	if (e != NULL && e->mem <= max && n <= max - e->mem) {
		e->mem += n;
		r = 1;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

void ip_table_mem_sub(struct ip_table *t, const char *addr, uint64_t n)
{
	char ip[NET_ADDR_MAX];
	ip_key(addr, ip);
	pthread_mutex_lock(&t->lock);
	struct ip_entry *e = *ip_find(t, ip);
	if (e != NULL)
		e->mem = n < e->mem ? e->mem - n : 0;
	pthread_mutex_unlock(&t->lock);
}

uint64_t ip_table_mem(struct ip_table *t, const char *addr)
{
	char ip[NET_ADDR_MAX];
	ip_key(addr, ip);
	pthread_mutex_lock(&t->lock);
	struct ip_entry *e = *ip_find(t, ip);
	uint64_t n = e != NULL ? e->mem : 0;
	pthread_mutex_unlock(&t->lock);
	return n;
}
