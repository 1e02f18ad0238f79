/* conn_shared.c: what every loop's connections share (see conn.h): the TLS context
 * (swapped on reload; each connection keeps a reference through its SSL), the limits,
 * the per-address table, and the message-memory budget: limits.message_memory over all
 * connections and limits.message_memory_per_ip for the connections of one address,
 * reserved in CONN_MEM_STEP steps as message data arrives and released at the end of a
 * transaction or at close. Any thread: the context and limits under the lock, the
 * budget with atomics. */
#include "conn_int.h"

#include "arena.h"
#include "ip_table.h"

#include <stdlib.h>

struct conn_shared *conn_shared_new(const struct conn_limits *limits)
{
	struct conn_shared *s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->limits = *limits;
	atomic_store(&s->mem_limit, limits->message_memory);
	atomic_store(&s->mem_per_ip, limits->message_memory_per_ip);
	s->ips = ip_table_new();
	atomic_init(&s->live, 0);
	atomic_init(&s->next_id, 1);
	return s;
}

void conn_shared_free(struct conn_shared **sp)
{
	struct conn_shared *s = *sp;
	if (s == NULL)
		return;
	SSL_CTX_free(s->tls);
	ip_table_free(&s->ips);
	pthread_mutex_destroy(&s->lock);
	free(s);
	*sp = NULL;
}

void conn_shared_set_tls(struct conn_shared *s, SSL_CTX *ctx)
{
	if (ctx != NULL)
		SSL_CTX_up_ref(ctx);
	pthread_mutex_lock(&s->lock);
	SSL_CTX *old = s->tls;
	s->tls = ctx;
	pthread_mutex_unlock(&s->lock);
	SSL_CTX_free(old); /* connections hold their own references through their SSL */
}

X509 *conn_tls_certificate(const struct conn *c)
{
	struct conn_shared *s = c->srv->shared;
	pthread_mutex_lock(&s->lock);
	X509 *x = s->tls != NULL ? SSL_CTX_get0_certificate(s->tls) : NULL;
	if (x != NULL)
		X509_up_ref(x);
	pthread_mutex_unlock(&s->lock);
	return x;
}

void conn_shared_set_limits(struct conn_shared *s, const struct conn_limits *limits)
{
	pthread_mutex_lock(&s->lock);
	s->limits = *limits;
	atomic_store(&s->mem_limit, limits->message_memory);
	atomic_store(&s->mem_per_ip, limits->message_memory_per_ip);
	pthread_mutex_unlock(&s->lock);
}

uint64_t conn_shared_mem_used(struct conn_shared *s)
{
	return atomic_load(&s->mem_used);
}

int conn_mem_reserve(struct conn *c, uint64_t n)
{
	if (n <= c->mem_held)
		return 1;
	if (c->closed)
		return 0; /* the budget went with the socket */
	struct conn_shared *s = c->srv->shared;
	uint64_t want = n - c->mem_held;
	want = (want + CONN_MEM_STEP - 1) / CONN_MEM_STEP * CONN_MEM_STEP;
	/* the address's share first (a connection refused by the per-address connection
	 * limit is not counted there and gets no share at all) */
	uint64_t per_ip = atomic_load(&s->mem_per_ip);
	if (per_ip > 0 && (!c->counted || ip_table_mem_add(s->ips, c->ip, want, per_ip) == 0))
		return 0;
	uint64_t limit = atomic_load(&s->mem_limit);
	uint64_t used = atomic_load(&s->mem_used);
	do {
		if (used > limit || want > limit - used) {
			if (per_ip > 0)
				ip_table_mem_sub(s->ips, c->ip, want);
			return 0;
		}
	} while (!atomic_compare_exchange_weak(&s->mem_used, &used, used + want));
	c->mem_held += want;
	if (per_ip > 0)
		c->mem_ip_held += want;
	return 1;
}

void conn_mem_release(struct conn *c)
{
	if (c->mem_held > 0) {
		atomic_fetch_sub(&c->srv->shared->mem_used, c->mem_held);
		c->mem_held = 0;
	}
	if (c->mem_ip_held > 0) {
		ip_table_mem_sub(c->srv->shared->ips, c->ip, c->mem_ip_held);
		c->mem_ip_held = 0;
	}
}

uint64_t conn_shared_mem_used_by(struct conn_shared *s, const char *ip)
{
	return ip_table_mem(s->ips, ip);
}

size_t conn_shared_live(struct conn_shared *s)
{
	return atomic_load(&s->live);
}

SSL *conn_shared_new_ssl(struct conn_shared *s)
{
	pthread_mutex_lock(&s->lock);
	SSL *ssl = s->tls != NULL ? SSL_new(s->tls) : NULL;
	pthread_mutex_unlock(&s->lock);
	return ssl;
}
