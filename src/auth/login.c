/* login.c: logins on the worker pool with a shared failed-login limiter (login.h).
 *
 * The limiter keeps, per client address, the times of its recent failures in a small
 * ring; an address is limited while it has `limit` failures younger than 60 s. The
 * table is guarded by a mutex: logins are rare next to everything else. */
#include "login.h"

#include "auth.h"
#include "cache.h"
#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW_SECONDS 60
#define RING 64 /* failures remembered per address; the limit is capped to this */
#define BUCKETS 256

struct fail_entry {
	struct fail_entry *next;
	time_t times[RING];
	unsigned head, count;
	char ip[];
};

struct auth_service {
	struct pool *lookup_pool; /* account lookups (the store's pool) */
	struct pool *hash_pool;   /* password hashing */
	auth_lookup_fn *lookup;
	void *lookup_ctx;
	pthread_mutex_t lock;
	size_t limit;
	char *dummy_hash; /* checked against for unknown users, to take the same time */
	struct auth_cache *cache; /* recently verified passwords (cache.h) */
	struct fail_entry *buckets[BUCKETS];
};

static time_t now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static unsigned ip_bucket(const char *ip)
{
	unsigned h = 5381;
	for (; *ip; ip++)
		h = h * 33 + (unsigned char)*ip;
	return h % BUCKETS;
}

/* Drops failures older than the window; frees the entry when empty. Lock held. */
static struct fail_entry *entry_get(struct auth_service *svc, const char *ip, bool create)
{
	time_t now = now_mono();
	struct fail_entry **ep = &svc->buckets[ip_bucket(ip)];
	while (*ep != NULL && strcmp((*ep)->ip, ip) != 0)
		ep = &(*ep)->next;
	struct fail_entry *e = *ep;
	if (e != NULL) {
		while (e->count > 0) {
			unsigned oldest = (e->head + RING - e->count) % RING;
			if (now - e->times[oldest] < WINDOW_SECONDS)
				break;
			e->count--;
		}
		if (e->count == 0 && !create) {
			*ep = e->next;
			free(e);
			return NULL;
		}
		return e;
	}
	if (!create)
		return NULL;
	size_t n = strlen(ip);
	e = xcalloc(1, sizeof(*e) + n + 1);
	memcpy(e->ip, ip, n + 1);
	e->next = svc->buckets[ip_bucket(ip)];
	svc->buckets[ip_bucket(ip)] = e;
	return e;
}

static bool limited(struct auth_service *svc, const char *ip)
{
	pthread_mutex_lock(&svc->lock);
	struct fail_entry *e = entry_get(svc, ip, false);
	bool r = e != NULL && e->count >= svc->limit;
	pthread_mutex_unlock(&svc->lock);
	return r;
}

static void record_failure(struct auth_service *svc, const char *ip)
{
	pthread_mutex_lock(&svc->lock);
	struct fail_entry *e = entry_get(svc, ip, true);
	e->times[e->head] = now_mono();
	e->head = (e->head + 1) % RING;
	if (e->count < RING)
		e->count++;
	pthread_mutex_unlock(&svc->lock);
}

size_t auth_failures(struct auth_service *svc, const char *ip)
{
	pthread_mutex_lock(&svc->lock);
	struct fail_entry *e = entry_get(svc, ip, false);
	size_t n = e != NULL ? e->count : 0;
	pthread_mutex_unlock(&svc->lock);
	return n;
}

struct auth_service *auth_service_new(struct pool *lookup_pool, struct pool *hash_pool, auth_lookup_fn *lookup,
				      void *lookup_ctx, size_t failures_per_minute, int64_t cache_ttl)
{
	struct auth_service *svc = xcalloc(1, sizeof(*svc));
	svc->cache = auth_cache_new(cache_ttl);
	svc->lookup_pool = lookup_pool;
	svc->hash_pool = hash_pool;
	svc->lookup = lookup;
	svc->lookup_ctx = lookup_ctx;
	pthread_mutex_init(&svc->lock, NULL);
	auth_service_set_limit(svc, failures_per_minute);
	const char *error;
	if (auth_password_hash(AUTH_SCHEME_DEFAULT, "postamt-unknown-user", &svc->dummy_hash, &error) < 0)
		svc->dummy_hash = NULL; /* unknown users then answer a little faster */
	return svc;
}

void auth_service_set_limit(struct auth_service *svc, size_t failures_per_minute)
{
	pthread_mutex_lock(&svc->lock);
	svc->limit = failures_per_minute < 1 ? 1 : failures_per_minute > RING ? RING : failures_per_minute;
	pthread_mutex_unlock(&svc->lock);
}

void auth_service_set_cache_ttl(struct auth_service *svc, int64_t cache_ttl)
{
	auth_cache_set_ttl(svc->cache, cache_ttl);
}

void auth_service_free(struct auth_service **svcp)
{
	struct auth_service *svc = *svcp;
	if (svc == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct fail_entry *e = svc->buckets[i], *next; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&svc->lock);
	auth_cache_free(&svc->cache);
	free(svc->dummy_hash);
	free(svc);
	*svcp = NULL;
}

static void login_finish(void *arg)
{
	struct auth_login *l = arg;
	l->done(l->arg, l);
	arena_free(&l->arena);
	free(l);
}

/* Store pool: the account, and the answer when the password is remembered. */
static void lookup_work(void *arg)
{
	struct auth_login *l = arg;
	int r = l->svc->lookup(l->svc->lookup_ctx, l->arena, l->user, &l->hash, &l->account_id, &l->address);
	if (r < 0) {
		l->result = AUTH_LOGIN_TEMPFAIL;
		l->decided = true;
		log_error("event=auth_error proto=%s ip=%s reason=lookup", l->proto, l->ip);
	} else if (r == 0) {
		l->hash = NULL; /* unknown: hash_work spends the time of a real check */
	} else if (auth_cache_hit(l->svc->cache, l->hash, l->password, now_mono())) {
		l->result = AUTH_LOGIN_OK;
		l->cached = true;
		l->decided = true;
	}
}

/* Hashing pool: the slow check. */
static void hash_work(void *arg)
{
	struct auth_login *l = arg;
	const char *error = NULL;
	if (l->hash == NULL) {
		/* spend the same time as a real check, so that timing does not tell
		 * which users exist */
		if (l->svc->dummy_hash != NULL)
			auth_password_verify(l->svc->dummy_hash, l->password, &error);
		l->result = AUTH_LOGIN_FAILED;
		return;
	}
	int v = auth_password_verify(l->hash, l->password, &error);
	if (v < 0) {
		l->result = AUTH_LOGIN_TEMPFAIL;
		log_error("event=auth_error proto=%s ip=%s user=%s reason=%s", l->proto, l->ip, l->address,
			  LOG_Q(error ? error : "bad hash"));
		return;
	}
	l->result = v > 0 ? AUTH_LOGIN_OK : AUTH_LOGIN_FAILED;
	if (v > 0)
		auth_cache_add(l->svc->cache, l->hash, l->password, now_mono());
}

static void login_after_work(void *arg);

/* Back on the loop after the lookup: done, or on to the hashing pool. */
static void lookup_done(void *arg)
{
	struct auth_login *l = arg;
	if (l->decided)
		login_after_work(l);
	else
		pool_submit(l->svc->hash_pool, hash_work, login_after_work, l->back, l);
}

static void login_after_work(void *arg)
{
	struct auth_login *l = arg;
	if (l->result != AUTH_LOGIN_OK) {
		l->account_id = 0;
		l->address = NULL;
	}
	char user[128];
	log_quote(l->user, strlen(l->user), user, sizeof(user));
	if (l->result == AUTH_LOGIN_FAILED) {
		record_failure(l->svc, l->ip);
		log_warn("event=auth_failed proto=%s ip=%s user=%s failures=%zu", l->proto, l->ip, user,
			 auth_failures(l->svc, l->ip));
		loop_post_after(l->back, AUTH_FAIL_DELAY_MS, login_finish, l);
		return;
	}
	if (l->result == AUTH_LOGIN_OK)
		log_info("event=auth_ok proto=%s ip=%s user=%s cached=%s", l->proto, l->ip, l->address,
			 l->cached ? "yes" : "no");
	login_finish(l);
}

void auth_login(struct auth_service *svc, struct loop *back, const char *proto, const char *ip, const char *user,
		const char *password, void (*done)(void *arg, const struct auth_login *login), void *arg)
{
	struct auth_login *l = xcalloc(1, sizeof(*l));
	l->svc = svc;
	l->arena = arena_new();
	l->user = arena_strdup(l->arena, user);
	l->password = arena_strdup(l->arena, password);
	l->ip = arena_strdup(l->arena, ip);
	l->proto = proto;
	l->back = back;
	l->done = done;
	l->arg = arg;
	if (limited(svc, ip)) {
		l->result = AUTH_LOGIN_LIMITED;
		log_warn("event=auth_limited proto=%s ip=%s", proto, ip);
		loop_post(back, login_finish, l);
		return;
	}
	pool_submit(svc->lookup_pool, lookup_work, lookup_done, back, l);
}
