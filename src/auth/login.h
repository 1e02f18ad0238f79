/* login.h: password logins for every protocol, off the event loops, with the
 * failed-login limiter all protocols share (issue: brute-force defence).
 *
 * A protocol session calls auth_login() with the client's user name, password and
 * address. The account lookup (a callback into the store, given by serve.c) runs on
 * the store's pool and the slow password check on the hashing pool; the result comes
 * back on the session's loop. Failed attempts are counted per client address key
 * (an IPv6 /64) and per account over a sliding minute, attempts in flight included
 * (login_limit.h): each failure is answered only after a delay (AUTH_FAIL_DELAY_MS),
 * and once an address reaches the limit, further attempts are refused at once
 * without looking at the password, until the window moves on. Every failure is
 * logged with the address (event=auth_failed), every refusal too (event=auth_limited). A password that verified against the same stored hash within
 * auth.cache_ttl seconds is accepted without hashing again (cache.h).
 *
 * SASL exchanges (sasl.h) come here through auth_sasl_check: PLAIN and LOGIN end in
 * the same password login; SCRAM-SHA-256 takes a slot of the limiter for the lookup
 * of the user's secret (refused or queued like a password check, counted as neither
 * success nor failure) and another for the proof, whose outcome counts exactly as a
 * password's would (a wrong proof is a failure, answered after the same delay). A
 * SCRAM proof costs two HMACs, so there is nothing for the cache to save. A password
 * that verifies for an account without a SCRAM secret (one set before SCRAM
 * existed) makes the secret on the hashing pool and stores it (auth_scram_save_fn),
 * so that accounts can use SCRAM from their next login on. */
#ifndef POSTAMT_AUTH_LOGIN_H
#define POSTAMT_AUTH_LOGIN_H

#include "arena.h"
#include "login_limit.h"
#include "loop.h"
#include "net.h"
#include "pool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_FAIL_DELAY_MS 1000
/* Appended to the failure text when the user name has no "@" (DESIGN.md §1: users log
 * in with their full address); no account has a bare name, so it tells nothing. */
#define AUTH_BARE_NAME_HINT "; use your full email address as user name"

enum auth_login_result {
	AUTH_LOGIN_CONTINUE = 2,  /* SASL: send login->challenge, feed the answer to auth_sasl_step */
	AUTH_LOGIN_OK = 1,
	AUTH_LOGIN_FAILED = 0,    /* wrong user or password */
	AUTH_LOGIN_TEMPFAIL = -1, /* the store or the hash could not be read */
	AUTH_LOGIN_LIMITED = -2,  /* too many failures from this address (or for this account) */
};

/* Looks up user (as typed by the client). Runs on a pool thread. Returns 1 with the
 * stored hash, the account id, the canonical address and the SCRAM secret (scram.h;
 * NULL when the account has none) (all in a), 0 when there is no such user, <0 on an
 * error. */
typedef int auth_lookup_fn(void *ctx, struct arena *a, const char *user, const char **hash_r,
			   int64_t *account_id_r, const char **address_r, const char **scram_r);
/* Stores secret as the account's SCRAM secret, provided its password hash is still
 * hash (a password changed meanwhile wins). Runs on a pool thread. Returns 1 when
 * stored, 0 when the hash changed, <0 on an error. */
typedef int auth_scram_save_fn(void *ctx, int64_t account_id, const char *hash, const char *secret);

struct auth_sasl;

struct auth_login {
	/* result, valid in the done callback */
	enum auth_login_result result;
	int64_t account_id;
	const char *address; /* canonical, in the request's arena */
	bool cached;         /* accepted by the verified-password cache, without hashing */
	bool bare_name;      /* the user name has no "@": on failure, protocols hint at the full address */
	const char *challenge; /* AUTH_LOGIN_CONTINUE: the next SASL challenge (base64), in the exchange's arena */
	/* private */
	int kind;            /* enum auth_sasl_check_kind */
	struct auth_sasl *sasl;
	const char *scram;   /* the account's SCRAM secret, NULL if none */
	bool need_scram;     /* make the SCRAM secret once the password verified */
	struct login_slot slot; /* in the limiter */
	char addr_key[NET_ADDR_MAX];
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
				      void *lookup_ctx, const struct login_limits *limits, int64_t cache_ttl);
void auth_service_free(struct auth_service **svcp);
/* Changes the limits (reload). */
void auth_service_set_limits(struct auth_service *svc, const struct login_limits *limits);
/* Changes the verified-password cache's lifetime (reload); 0 empties and disables it. */
void auth_service_set_cache_ttl(struct auth_service *svc, int64_t cache_ttl);
/* Where SCRAM secrets made at login go (NULL: none are made), and the PBKDF2
 * iteration count of new secrets (auth.scram_iterations; also reload). */
void auth_service_set_scram(struct auth_service *svc, auth_scram_save_fn *save, unsigned iterations);
/* The iteration count for new SCRAM secrets (auth.scram_iterations); any thread. */
unsigned auth_service_scram_iterations(struct auth_service *svc);
/* Called on the login's loop after every successful login (the admin pages' "last
 * login"): it must not block. proto and ip are valid during the call. Set before any
 * login starts; NULL (the default) for none. */
typedef void auth_login_hook_fn(void *ctx, int64_t account_id, const char *proto, const char *ip);
void auth_service_set_login_hook(struct auth_service *svc, auth_login_hook_fn *hook, void *ctx);

/* Starts a login. user, password, ip and proto are copied. done(arg, login) runs on
 * loop `back` exactly once; the login object is freed after it returns. */
void auth_login(struct auth_service *svc, struct loop *back, const char *proto, const char *ip,
		const char *user, const char *password,
		void (*done)(void *arg, const struct auth_login *login), void *arg);
/* Runs the check an exchange asked for with AUTH_SASL_CHECK (sasl.h): the password
 * login of PLAIN and LOGIN, or SCRAM's secret lookup, proof check and end, all
 * through the limiter as auth_login. done(arg, login) runs on loop `back` exactly
 * once, with AUTH_LOGIN_CONTINUE and login->challenge when the exchange goes on; x
 * must stay valid until then (it lives in the session's command arena). */
void auth_sasl_check(struct auth_service *svc, struct loop *back, const char *proto, const char *ip,
		     struct auth_sasl *x, void (*done)(void *arg, const struct auth_login *login), void *arg);
/* Failures counted for ip's address key in the current window (for tests and logs). */
size_t auth_failures(struct auth_service *svc, const char *ip);
/* The admin API shares the failed-login limiter: auth_admin_limited is true when ip
 * has too many failures (answer 429, as a login would get); auth_admin_refused counts
 * a refused admin request (not an admin, a failed CSRF check) of account from ip as a
 * failed login. Any thread. */
bool auth_admin_limited(struct auth_service *svc, const char *ip);
void auth_admin_refused(struct auth_service *svc, const char *ip, const char *account);

#endif
