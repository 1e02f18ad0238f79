/* login.c: logins on the worker pool with a shared failed-login limiter (login.h).
 *
 * A login first takes a slot of the limiter (login_limit.h: per address key and per
 * account, counted while in flight), then the account is looked up on the store's
 * pool and the password hashed on the hashing pool; the slot is given back with the
 * outcome, and the logins that waited for it are started again on their loops.
 * SASL SCRAM runs through the same steps (login_start, login_after_work,
 * login_finish), with the secret lookup or the proof check in place of the password
 * check. */
#include "login.h"

#include "auth.h"
#include "cache.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "sasl.h"
#include "scram.h"

#include <sodium.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct auth_service {
	struct pool *lookup_pool; /* account lookups (the store's pool) */
	struct pool *hash_pool;   /* password hashing */
	auth_lookup_fn *lookup;
	void *lookup_ctx;
	char *dummy_hash; /* checked against for unknown users, to take the same time */
	struct auth_cache *cache; /* recently verified passwords (cache.h) */
	struct login_limit *limit; /* failed logins per address and account (login_limit.h) */
	auth_scram_save_fn *save_scram; /* NULL: no SCRAM secrets are made at login */
	auth_login_hook_fn *login_hook;  /* NULL: none */
	void *login_hook_ctx;
	_Atomic unsigned scram_iterations;
	unsigned char fake_key[32]; /* SCRAM salts for users without a secret (sasl.h) */
};

static time_t now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

size_t auth_failures(struct auth_service *svc, const char *ip)
{
	char key[NET_ADDR_MAX];
	net_addr_key(ip, key);
	return auth_login_limit_failures(svc->limit, key, now_mono());
}

bool auth_admin_limited(struct auth_service *svc, const char *ip)
{
	char key[NET_ADDR_MAX];
	net_addr_key(ip, key);
	return auth_login_limit_refused(svc->limit, key, now_mono());
}

void auth_admin_refused(struct auth_service *svc, const char *ip, const char *account)
{
	char key[NET_ADDR_MAX];
	net_addr_key(ip, key);
	char acct[256];
	size_t i = 0;
	for (; account[i] != '\0' && i + 1 < sizeof(acct); i++)
		acct[i] = account[i] >= 'A' && account[i] <= 'Z' ? (char)(account[i] - 'A' + 'a') : account[i];
	acct[i] = '\0';
	auth_login_limit_fail(svc->limit, key, acct, now_mono());
}

unsigned auth_service_scram_iterations(struct auth_service *svc)
{
	return atomic_load(&svc->scram_iterations);
}

void auth_service_set_login_hook(struct auth_service *svc, auth_login_hook_fn *hook, void *ctx)
{
	svc->login_hook = hook;
	svc->login_hook_ctx = ctx;
}

struct auth_service *auth_service_new(struct pool *lookup_pool, struct pool *hash_pool, auth_lookup_fn *lookup,
				      void *lookup_ctx, const struct login_limits *limits, int64_t cache_ttl)
{
	struct auth_service *svc = xcalloc(1, sizeof(*svc));
	svc->cache = auth_cache_new(cache_ttl);
	svc->lookup_pool = lookup_pool;
	svc->hash_pool = hash_pool;
	svc->lookup = lookup;
	svc->lookup_ctx = lookup_ctx;
	svc->limit = auth_login_limit_new(limits);
	svc->scram_iterations = AUTH_SCRAM_ITERATIONS_DEFAULT;
	randombytes_buf(svc->fake_key, sizeof(svc->fake_key));
	const char *error;
	if (auth_password_hash(AUTH_SCHEME_DEFAULT, "postamt-unknown-user", &svc->dummy_hash, &error) < 0)
		svc->dummy_hash = NULL; /* unknown users then answer a little faster */
	return svc;
}

void auth_service_set_limits(struct auth_service *svc, const struct login_limits *limits)
{
	auth_login_limit_set(svc->limit, limits);
}

void auth_service_set_cache_ttl(struct auth_service *svc, int64_t cache_ttl)
{
	auth_cache_set_ttl(svc->cache, cache_ttl);
}

void auth_service_set_scram(struct auth_service *svc, auth_scram_save_fn *save, unsigned iterations)
{
	if (svc->save_scram != save) /* reloads pass the same: no write while pool threads read it */
		svc->save_scram = save;
	atomic_store(&svc->scram_iterations, iterations);
}

void auth_service_free(struct auth_service **svcp)
{
	struct auth_service *svc = *svcp;
	if (svc == NULL)
		return;
	auth_login_limit_free(&svc->limit);
	auth_cache_free(&svc->cache);
	free(svc->dummy_hash);
	free(svc);
	*svcp = NULL;
}

static void login_finish(void *arg)
{
	struct auth_login *l = arg;
	if (l->result == AUTH_LOGIN_OK && l->challenge != NULL)
		l->result = AUTH_LOGIN_CONTINUE; /* SCRAM: the server's signature goes first */
	l->done(l->arg, l);
	arena_free(&l->arena);
	free(l);
}

/* Store pool: the account, and the answer when the password is remembered. */
static void lookup_work(void *arg)
{
	struct auth_login *l = arg;
	int r = l->svc->lookup(l->svc->lookup_ctx, l->arena, l->user, &l->hash, &l->account_id, &l->address,
			       &l->scram);
	l->need_scram = r > 0 && l->scram == NULL && l->svc->save_scram != NULL;
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

/* Makes and stores the SCRAM secret of an account that has none, from the password
 * that just verified (hashing pool). A failure only means SCRAM must wait. */
static void make_scram(struct auth_login *l)
{
	char *secret = NULL;
	const char *error = "store error";
	int r = auth_scram_secret_make(l->password, atomic_load(&l->svc->scram_iterations), &secret, &error);
	if (r > 0)
		r = l->svc->save_scram(l->svc->lookup_ctx, l->account_id, l->hash, secret);
	if (r < 0)
		log_error("event=scram_secret_failed user=%s error=%s", l->address, LOG_Q(error));
	else if (r > 0)
		log_info("event=scram_secret_made user=%s", l->address);
	free(secret);
}

static void scram_save_work(void *arg)
{
	make_scram(arg);
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
	if (v > 0 && l->need_scram)
		make_scram(l);
}

static void login_after_work(void *arg);

/* Back on the loop after the lookup: done, or on to the hashing pool. */
static void lookup_done(void *arg)
{
	struct auth_login *l = arg;
	if (l->decided && l->result == AUTH_LOGIN_OK && l->need_scram)
		pool_submit(l->svc->hash_pool, scram_save_work, login_after_work, l->back, l);
	else if (l->decided)
		login_after_work(l);
	else
		pool_submit(l->svc->hash_pool, hash_work, login_after_work, l->back, l);
}

/* Store pool: the SCRAM secret of the exchange's user. */
static void scram_lookup_work(void *arg)
{
	struct auth_login *l = arg;
	int r = l->svc->lookup(l->svc->lookup_ctx, l->arena, l->user, &l->hash, &l->account_id, &l->address,
			       &l->scram);
	if (r < 0) {
		l->result = AUTH_LOGIN_TEMPFAIL;
		log_error("event=auth_error proto=%s ip=%s reason=lookup", l->proto, l->ip);
	} else if (r == 0) {
		l->scram = NULL;
		l->account_id = 0;
		l->address = NULL;
	}
}

/* Back on the loop: the server-first message, from the secret or a fake one. */
static void scram_lookup_done(void *arg)
{
	struct auth_login *l = arg;
	if (l->result != AUTH_LOGIN_TEMPFAIL) {
		unsigned it = atomic_load(&l->svc->scram_iterations);
		const char *chal;
		if (auth_sasl_scram_server_first(l->sasl, l->scram, l->svc->fake_key, it, NULL, &chal) < 0) {
			log_error("event=auth_error proto=%s ip=%s reason=%s", l->proto, l->ip, LOG_Q(chal));
			l->result = AUTH_LOGIN_TEMPFAIL;
		} else {
			auth_sasl_set_account(l->sasl, l->account_id, l->address);
			l->result = AUTH_LOGIN_CONTINUE;
			l->challenge = chal;
		}
	}
	login_after_work(l);
}

/* On the loop: SCRAM's proof (two HMACs and a hash: no pool needed). */
static void scram_proof(struct auth_login *l)
{
	const char *chal;
	if (auth_sasl_scram_verify(l->sasl, &chal) > 0) {
		l->result = AUTH_LOGIN_OK;
		l->account_id = auth_sasl_account_id(l->sasl);
		l->address = auth_sasl_address(l->sasl);
		l->challenge = chal;
	} else {
		l->result = AUTH_LOGIN_FAILED;
	}
	login_after_work(l);
}

static void login_start(void *arg);

static void login_after_work(void *arg)
{
	struct auth_login *l = arg;
	if (l->result != AUTH_LOGIN_OK) {
		l->account_id = 0;
		l->address = NULL;
	}
	int outcome = l->result == AUTH_LOGIN_OK ? 1 : l->result == AUTH_LOGIN_FAILED ? 0 : -1;
	if (outcome >= 0)
		metrics_inc((outcome > 0 ? M_LOGIN_OK : M_LOGIN_FAILED) + metrics_proto(l->proto));
	time_t now = now_mono();
	/* the logins that waited for this address try again, each on its own loop */
	for (struct login_slot *w = auth_login_limit_end(l->svc->limit, &l->slot, outcome, now), *next; w != NULL;
	     w = next) {
		next = w->next;
		struct auth_login *wl = w->arg;
		loop_post(wl->back, login_start, wl);
	}
	char user[128];
	log_quote(l->user, strlen(l->user), user, sizeof(user));
	if (l->result == AUTH_LOGIN_FAILED) {
		log_warn("event=auth_failed proto=%s ip=%s user=%s failures=%zu account_failures=%zu", l->proto,
			 l->ip, user, auth_login_limit_failures(l->svc->limit, l->addr_key, now),
			 auth_login_limit_account_failures(l->svc->limit, l->slot.account, now));
		loop_post_after(l->back, AUTH_FAIL_DELAY_MS, login_finish, l);
		return;
	}
	if (l->result == AUTH_LOGIN_OK) {
		log_info("event=auth_ok proto=%s ip=%s user=%s cached=%s", l->proto, l->ip, l->address,
			 l->cached ? "yes" : "no");
		if (l->svc->login_hook != NULL)
			l->svc->login_hook(l->svc->login_hook_ctx, l->account_id, l->proto, l->ip);
	}
	login_finish(l);
}

/* On the login's loop: take a slot of the limiter, then look the account up; or
 * wait for a slot; or be refused at once. */
static void login_start(void *arg)
{
	struct auth_login *l = arg;
	int v = auth_login_limit_begin(l->svc->limit, &l->slot, now_mono());
	if (v == LOGIN_LIMIT_GO) {
		if (l->kind == AUTH_SASL_CHECK_SCRAM_PROOF)
			scram_proof(l);
		else if (l->kind == AUTH_SASL_CHECK_SCRAM_LOOKUP)
			pool_submit(l->svc->lookup_pool, scram_lookup_work, scram_lookup_done, l->back, l);
		else
			pool_submit(l->svc->lookup_pool, lookup_work, lookup_done, l->back, l);
		return;
	}
	if (v == LOGIN_LIMIT_WAIT)
		return; /* login_after_work of another login of this address posts us again */
	char user[128];
	log_quote(l->user, strlen(l->user), user, sizeof(user));
	l->result = AUTH_LOGIN_LIMITED;
	metrics_inc(M_LOGIN_FAILED + metrics_proto(l->proto));
	log_warn("event=auth_limited proto=%s ip=%s user=%s reason=%s", l->proto, l->ip, user,
		 v == LOGIN_LIMIT_ACCOUNT ? "account" : "address");
	login_finish(l);
}

static struct auth_login *login_new(struct auth_service *svc, struct loop *back, const char *proto, const char *ip,
				    const char *user, void (*done)(void *arg, const struct auth_login *login),
				    void *arg)
{
	struct auth_login *l = xcalloc(1, sizeof(*l));
	l->svc = svc;
	l->arena = arena_new();
	l->kind = AUTH_SASL_CHECK_PASSWORD;
	l->user = arena_strdup(l->arena, user);
	l->ip = arena_strdup(l->arena, ip);
	l->proto = proto;
	l->back = back;
	l->done = done;
	l->arg = arg;
	l->bare_name = strchr(user, '@') == NULL;
	net_addr_key(ip, l->addr_key);
	/* the account as typed, lower-cased (an attacker cannot dodge it by case) */
	char *account = arena_strdup(l->arena, user);
	for (char *p = account; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	l->slot = (struct login_slot){ .addr = l->addr_key, .account = account, .arg = l };
	return l;
}

void auth_login(struct auth_service *svc, struct loop *back, const char *proto, const char *ip, const char *user,
		const char *password, void (*done)(void *arg, const struct auth_login *login), void *arg)
{
	struct auth_login *l = login_new(svc, back, proto, ip, user, done, arg);
	l->password = arena_strdup(l->arena, password);
	/* the session gets its answer on a later loop pass in every case */
	loop_post(back, login_start, l);
}

void auth_sasl_check(struct auth_service *svc, struct loop *back, const char *proto, const char *ip,
		     struct auth_sasl *x, void (*done)(void *arg, const struct auth_login *login), void *arg)
{
	enum auth_sasl_check_kind kind = auth_sasl_check_kind(x);
	if (kind == AUTH_SASL_CHECK_PASSWORD) {
		auth_login(svc, back, proto, ip, auth_sasl_user(x), auth_sasl_password(x), done, arg);
		return;
	}
	struct auth_login *l = login_new(svc, back, proto, ip, auth_sasl_user(x), done, arg);
	l->kind = (int)kind;
	l->sasl = x;
	l->password = "";
	if (kind == AUTH_SASL_CHECK_SCRAM_DONE) {
		/* the proof verified (and was counted) already: the client took our signature */
		l->result = AUTH_LOGIN_OK;
		l->account_id = auth_sasl_account_id(x);
		l->address = auth_sasl_address(x);
		loop_post(back, login_finish, l);
		return;
	}
	loop_post(back, login_start, l);
}
