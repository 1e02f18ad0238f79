/* cache.h: remembers recently verified passwords, so that a client that logs in again
 * (a new IMAP connection, a POP3 check every few minutes, a phone reconnecting) does
 * not pay the slow password hash again.
 *
 * An entry is a keyed BLAKE2b-256 digest (libsodium's crypto_generichash, under a
 * random key made when the cache is made and never stored) of the account's stored
 * hash string and the password that matched it. A later login with the same stored
 * hash and password gives the same digest: a hit means "this password verified
 * against this very hash less than ttl seconds ago". Because the stored hash is part
 * of the digest, changing a password (which writes a new hash with a new salt)
 * misses at once; nothing needs to be invalidated. Failed logins are never entered,
 * so every wrong guess still costs the full hash. The table is direct-mapped with a
 * fixed number of slots: a collision only evicts, and memory is bounded
 * (AUTH_CACHE_SLOTS x 40 bytes). Thread-safe. */
#ifndef POSTAMT_AUTH_CACHE_H
#define POSTAMT_AUTH_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#define AUTH_CACHE_SLOTS 8192

struct auth_cache;

/* A cache whose entries live ttl_seconds (0: disabled, nothing is kept). */
struct auth_cache *auth_cache_new(int64_t ttl_seconds);
void auth_cache_free(struct auth_cache **cp);
/* Changes the lifetime (reload); 0 also forgets every entry. */
void auth_cache_set_ttl(struct auth_cache *c, int64_t ttl_seconds);

/* True if password verified against stored_hash within the last ttl seconds. now is
 * a monotonic clock in seconds. */
bool auth_cache_hit(struct auth_cache *c, const char *stored_hash, const char *password, int64_t now);
/* Records that password verified against stored_hash at now. */
void auth_cache_add(struct auth_cache *c, const char *stored_hash, const char *password, int64_t now);

#endif
