/* cache.c: the verified-password cache (cache.h). */
#include "cache.h"

#include "arena.h"
#include "log.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_BYTES 32

struct slot {
	unsigned char digest[DIGEST_BYTES];
	int64_t added; /* monotonic seconds; 0 = empty */
};

struct auth_cache {
	pthread_mutex_t lock;
	int64_t ttl;
	unsigned char key[crypto_generichash_KEYBYTES];
	struct slot slots[AUTH_CACHE_SLOTS];
};

struct auth_cache *auth_cache_new(int64_t ttl_seconds)
{
	struct auth_cache *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	if (sodium_init() < 0) {
		/* without libsodium there is no random key: keep the cache off */
		log_error("event=auth_cache_disabled reason=\"libsodium initialisation failed\"");
		c->ttl = 0;
	} else {
		randombytes_buf(c->key, sizeof(c->key));
		c->ttl = ttl_seconds > 0 ? ttl_seconds : 0;
	}
	return c;
}

void auth_cache_free(struct auth_cache **cp)
{
	struct auth_cache *c = *cp;
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	sodium_memzero(c, sizeof(*c));
	free(c);
	*cp = NULL;
}

void auth_cache_set_ttl(struct auth_cache *c, int64_t ttl_seconds)
{
	pthread_mutex_lock(&c->lock);
	c->ttl = ttl_seconds > 0 ? ttl_seconds : 0;
	if (c->ttl == 0)
		sodium_memzero(c->slots, sizeof(c->slots));
	pthread_mutex_unlock(&c->lock);
}

/* The digest of the stored hash and the password, and the slot it maps to. The NUL
 * between them keeps ("ab", "c") and ("a", "bc") apart (a crypt string has no NUL). */
static size_t digest_of(const struct auth_cache *c, const char *stored_hash, const char *password,
			unsigned char out[DIGEST_BYTES])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, c->key, sizeof(c->key), DIGEST_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)stored_hash, strlen(stored_hash) + 1);
	crypto_generichash_update(&st, (const unsigned char *)password, strlen(password));
	crypto_generichash_final(&st, out, DIGEST_BYTES);
	uint64_t h;
	memcpy(&h, out, sizeof(h));
	return (size_t)(h % AUTH_CACHE_SLOTS);
}

bool auth_cache_hit(struct auth_cache *c, const char *stored_hash, const char *password, int64_t now)
{
	unsigned char d[DIGEST_BYTES];
	pthread_mutex_lock(&c->lock);
	bool hit = false;
	if (c->ttl > 0) {
		struct slot *s = &c->slots[digest_of(c, stored_hash, password, d)];
		hit = s->added != 0 && now >= s->added && now - s->added < c->ttl &&
		      sodium_memcmp(s->digest, d, DIGEST_BYTES) == 0;
	}
	pthread_mutex_unlock(&c->lock);
	sodium_memzero(d, sizeof(d));
	return hit;
}

void auth_cache_add(struct auth_cache *c, const char *stored_hash, const char *password, int64_t now)
{
	unsigned char d[DIGEST_BYTES];
	pthread_mutex_lock(&c->lock);
	if (c->ttl > 0) {
		struct slot *s = &c->slots[digest_of(c, stored_hash, password, d)];
		memcpy(s->digest, d, DIGEST_BYTES);
		s->added = now > 0 ? now : 1;
	}
	pthread_mutex_unlock(&c->lock);
	sodium_memzero(d, sizeof(d));
}
