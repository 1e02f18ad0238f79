/* login.h: password logins for every protocol, off the event loops, with the
 * failed-login limiter all protocols share (issue: brute-force defence).
 *
 * A protocol session calls auth_login() with the client's user name, password and
 * address. The account lookup (a callback into the store, given by serve.c) runs on
 * the store's pool and the slow password check on the hashing pool; the result comes
 * back on the session's loop. Failed attempts are counted per client address over a sliding
 * minute: each failure is answered only after a delay (AUTH_FAIL_DELAY_MS), and once
 * an address reaches the limit, further attempts are refused at once without
 * looking at the password, until the window moves on. Every failure is logged with
 * the address. A password that verified against the same stored hash within
 * auth.cache_ttl seconds is accepted without hashing again (cache.h). */
#ifndef POSTAMT_AUTH_LOGIN_H
#define POSTAMT_AUTH_LOGIN_H

#include "arena.h"
#include "loop.h"
#include "pool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_FAIL_DELAY_MS 1000

enum auth_login_result {
	AUTH_LOGIN_OK = 1,
	AUTH_LOGIN_FAILED = 0,    /* wrong user or password */
	AUTH_LOGIN_TEMPFAIL = -1, /* the store or the hash could not be read */
	AUTH_LOGIN_LIMITED = -2,  /* too many failures from this address */
};

/* Looks up user (as typed by the client). Runs on a pool thread. Returns 1 with the
 * stored hash, the account id and the canonical address (all in a), 0 when there
 * is no such user, <0 on an error. */
typedef int auth_lookup_fn(void *ctx, struct arena *a, const char *user, const char **hash_r,
			   int64_t *account_id_r, const char **address_r);

struct auth_login {
	/* result, valid in the done callback */
	enum auth_login_result result;
	int64_t account_id;
	const char *address; /* canonical, in the request's arena */
	bool cached;         /* accepted by the verified-password cache, without hashing */
	/* private */
	const char *hash;    /* the stored hash; NULL for an unknown user */
	bool decided;        /* the lookup already settled the result */
	struct auth_service *svc;
	struct arena *arena;
	const char *user, *password, *ip, *proto;
	struct loop *back;
	void (*done)(void *arg, const struct auth_login *login);
	void *arg;
};

struct auth_service;

/* Lookups (and answers from the cache) run on lookup_pool, password hashes on
 * hash_pool, so that remembered logins never queue behind slow hashes (a login storm,
 * a password-guessing attack). cache_ttl: seconds a verified password is remembered
 * (cache.h); 0 = never. */
struct auth_service *auth_service_new(struct pool *lookup_pool, struct pool *hash_pool, auth_lookup_fn *lookup,
				      void *lookup_ctx, size_t failures_per_minute, int64_t cache_ttl);
void auth_service_free(struct auth_service **svcp);
/* Changes the limit (reload). */
void auth_service_set_limit(struct auth_service *svc, size_t failures_per_minute);
/* Changes the verified-password cache's lifetime (reload); 0 empties and disables it. */
void auth_service_set_cache_ttl(struct auth_service *svc, int64_t cache_ttl);

/* Starts a login. user, password, ip and proto are copied. done(arg, login) runs on
 * loop `back` exactly once; the login object is freed after it returns. */
void auth_login(struct auth_service *svc, struct loop *back, const char *proto, const char *ip,
		const char *user, const char *password,
		void (*done)(void *arg, const struct auth_login *login), void *arg);
/* Failures counted for ip in the current window (for tests and logs). */
size_t auth_failures(struct auth_service *svc, const char *ip);

#endif
