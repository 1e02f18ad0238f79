/* state.c: what web sessions on all loops share (struct webd_state, made by serve.c):
 * login sessions (random 256-bit tokens, idle expiry WEB_SESSION_IDLE; kept in the
 * store too, by the token's SHA-256, so that they survive a restart), checked
 * HTTP Basic credentials (WEB_BASIC_CACHE_TTL, so a JMAP client does not pay a
 * password hash per request), uploads (refcounted blobs with an expiry and a
 * per-account byte limit), per-account JSON for identities and submissions, and one
 * list of EventSource streams per loop for the ping ticker (push.c). One mutex guards
 * everything but the per-loop lists, which only their loop touches.
 *
 * Login sessions and Basic entries carry the account's session generation from when
 * they were made (store_account_session_gen: raised by every password change and by
 * `postamt user logout`); web_account_gen() gives the current one from a per-account
 * cache that asks the store at most every WEB_GEN_CACHE_MS, so that a change made by
 * the command line (another process) ends them within that time without a database
 * query per request.
 *
 * The memory table is a cache of the store's web_sessions: a token not in memory is
 * looked up in the store once (a primary-key read) and cached; use is written back
 * at most every WEB_SESSION_TOUCH seconds, so after a restart a session may expire
 * up to that much early, never late. A session ended here is remembered for
 * WEB_REMOVED_TTL seconds, so that a store read that began before its delete was
 * committed cannot put it back into memory. On a store shared by several nodes
 * (store_shared: PostgreSQL) another node may end a session this one has in memory
 * (its sign-out deletes the row): a cached session is confirmed by a primary-key
 * read at most every WEB_GEN_CACHE_MS, as the generations are. */
#include "webd_int.h"

#include "store.h"
#include "textfmt.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NBUCKETS 256

struct login_entry {
	struct login_entry *next;
	char token[WEB_TOKEN_LEN + 1]; /* or a hex key for Basic entries */
	int64_t account_id;
	char address[WEB_ADDRESS_MAX];
	int64_t last_used;             /* monotonic seconds */
	uint64_t gen;                  /* the account's session generation when made */
	char hash[STORE_WEBSESSION_HASH_LEN + 1]; /* login sessions: the store's key */
	int64_t touched;               /* login sessions: wall seconds last written to the store */
	int64_t verified_ms;           /* login sessions: last seen in the store (monotonic) */
};

struct gen_entry {
	struct gen_entry *next;
	int64_t account_id;
	uint64_t gen;
	bool exists;
	int64_t checked_ms; /* monotonic */
};

struct account_entry {
	struct account_entry *next;
	int64_t account_id;
	json_t *identities, *submissions;
	uint64_t counter;
};

struct webd_state {
	pthread_mutex_t mu;
	struct login_entry *logins[NBUCKETS];
	struct login_entry *basic[NBUCKETS];
	struct gen_entry *gens[NBUCKETS];
	struct web_blob *uploads;
	struct account_entry *accounts;
	struct web_pushers **loops;
	size_t nloops;
	uint64_t upload_seq;
	/* token hashes of sessions ended in the last WEB_REMOVED_TTL seconds: a store
	 * read that began before the delete must not bring one back into memory */
	char removed[WEB_REMOVED_MAX][STORE_WEBSESSION_HASH_LEN + 1];
	int64_t removed_at[WEB_REMOVED_MAX];
	size_t removed_next;
	/* the same for a whole account (Sign out everywhere) */
	int64_t removed_account[WEB_REMOVED_MAX];
	int64_t removed_account_at[WEB_REMOVED_MAX];
	size_t removed_account_next;
};

#define WEB_REMOVED_TTL 60

/* True when the session (hash, account) was ended lately (lock held). */
static bool recently_removed(struct webd_state *st, const char *hash, int64_t account_id, int64_t now)
{
	for (size_t i = 0; i < WEB_REMOVED_MAX; i++) {
		if (st->removed_at[i] != 0 && now - st->removed_at[i] <= WEB_REMOVED_TTL &&
		    strcmp(st->removed[i], hash) == 0)
			return true;
		if (st->removed_account_at[i] != 0 && now - st->removed_account_at[i] <= WEB_REMOVED_TTL &&
		    st->removed_account[i] == account_id)
			return true;
	}
	return false;
}

static int64_t now_s(void)
{
	return web_now_ms() / 1000;
}

struct webd_state *webd_state_new(void)
{
	struct webd_state *st = xcalloc(1, sizeof(*st));
	pthread_mutex_init(&st->mu, NULL);
	return st;
}

static void free_list(struct login_entry **b)
{
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct login_entry *e = b[i];
		while (e != NULL) {
			struct login_entry *n = e->next;
			explicit_bzero(e->token, sizeof(e->token));
			free(e);
			e = n;
		}
	}
}

void webd_state_free(struct webd_state **sp)
{
	struct webd_state *st = *sp;
	if (st == NULL)
		return;
	free_list(st->logins);
	free_list(st->basic);
	for (size_t i = 0; i < NBUCKETS; i++) {
		while (st->gens[i] != NULL) {
			struct gen_entry *g = st->gens[i];
			st->gens[i] = g->next;
			free(g);
		}
	}
	while (st->uploads != NULL) {
		struct web_blob *b = st->uploads;
		st->uploads = b->next;
		free(b->data);
		free(b);
	}
	while (st->accounts != NULL) {
		struct account_entry *a = st->accounts;
		st->accounts = a->next;
		json_decref(a->identities);
		json_decref(a->submissions);
		free(a);
	}
	for (size_t i = 0; i < st->nloops; i++)
		free(st->loops[i]);
	free(st->loops);
	pthread_mutex_destroy(&st->mu);
	free(st);
	*sp = NULL;
}

static size_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return (size_t)(h % NBUCKETS);
}

/* Constant-time comparison of equal-length strings. */
static bool same(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* Drops expired entries of one bucket (lock held). */
static void expire_bucket(struct login_entry **head, int64_t now, int64_t ttl)
{
	struct login_entry **pp = head;
	while (*pp != NULL) {
		struct login_entry *e = *pp;
		if (now - e->last_used > ttl) {
			*pp = e->next;
			explicit_bzero(e->token, sizeof(e->token));
			free(e);
		} else {
			pp = &e->next;
		}
	}
}

static void add_entry(struct login_entry **b, const char *key, int64_t account_id, const char *address,
		      uint64_t gen)
{
	size_t klen = strlen(key);
	struct login_entry *e = xcalloc(1, sizeof(*e));
	memcpy(e->token, key, klen < WEB_TOKEN_LEN ? klen : WEB_TOKEN_LEN);
	e->account_id = account_id;
	snprintf(e->address, sizeof(e->address), "%s", address);
	e->last_used = now_s();
	e->verified_ms = web_now_ms();
	e->gen = gen;
	size_t h = hash_bytes(e->token, strlen(e->token));
	e->next = b[h];
	b[h] = e;
}

static int find_entry(struct login_entry **b, struct bytes key, int64_t ttl, bool touch, int64_t *account_id_r,
		      char *address_r, size_t addrlen, uint64_t *gen_r)
{
	if (key.len == 0 || key.len > WEB_TOKEN_LEN)
		return 0;
	size_t h = hash_bytes(key.p, key.len);
	int64_t now = now_s();
	expire_bucket(&b[h], now, ttl);
	for (struct login_entry *e = b[h]; e != NULL; e = e->next) {
		if (strlen(e->token) == key.len && same(e->token, key.p, key.len)) {
			if (touch)
				e->last_used = now;
			*account_id_r = e->account_id;
			snprintf(address_r, addrlen, "%s", e->address);
			*gen_r = e->gen;
			return 1;
		}
	}
	return 0;
}

/* The store's key of a token: SHA-256 in hex (the token itself is never stored). */
static void token_hash(struct bytes token, char out[STORE_WEBSESSION_HASH_LEN + 1])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)token.p, token.len, d);
	textfmt_hex(d, sizeof(d), out, STORE_WEBSESSION_HASH_LEN + 1);
	explicit_bzero(d, sizeof(d));
}

bool web_sessions_create(struct webd_state *st, struct store *store, int64_t account_id, const char *address,
			 uint64_t gen, char token_r[WEB_TOKEN_LEN + 1], struct loop *loop,
			 void (*saved)(void *arg, int result, const char *error), void *arg)
{
	web_random_token(token_r, WEB_TOKEN_LEN + 1, 32);
	struct store_websession row = { .account_id = account_id, .generation = gen };
	token_hash(BYTES_STR(token_r), row.hash);
	snprintf(row.address, sizeof(row.address), "%s", address);
	row.created = row.last_used = (int64_t)time(NULL);
	pthread_mutex_lock(&st->mu);
	add_entry(st->logins, token_r, account_id, address, gen);
	size_t h = hash_bytes(token_r, strlen(token_r));
	memcpy(st->logins[h]->hash, row.hash, sizeof(row.hash));
	st->logins[h]->touched = row.last_used;
	pthread_mutex_unlock(&st->mu);
	if (store == NULL)
		return false;
	store_websession_put(store, &row, row.last_used - WEB_SESSION_IDLE, loop, saved, arg);
	return true;
}

/* Drops the memory entry of a login token (lock held). */
static void forget_token(struct webd_state *st, struct bytes token)
{
	size_t h = hash_bytes(token.p, token.len);
	for (struct login_entry **pp = &st->logins[h]; *pp != NULL;) {
		struct login_entry *e = *pp;
		if (strlen(e->token) == token.len && same(e->token, token.p, token.len)) {
			*pp = e->next;
			explicit_bzero(e->token, sizeof(e->token));
			free(e);
		} else {
			pp = &e->next;
		}
	}
}

int web_sessions_lookup(struct webd_state *st, struct store *store, struct bytes token, int64_t *account_id_r,
			char *address_r, size_t addrlen, uint64_t *gen_r)
{
	if (token.len == 0 || token.len > WEB_TOKEN_LEN)
		return 0;
	int64_t wall = (int64_t)time(NULL);
	char touch[STORE_WEBSESSION_HASH_LEN + 1] = "", verify[STORE_WEBSESSION_HASH_LEN + 1] = "";
	bool shared = store != NULL && store_shared(store);
	pthread_mutex_lock(&st->mu);
	int r = find_entry(st->logins, token, WEB_SESSION_IDLE, true, account_id_r, address_r, addrlen, gen_r);
	if (r > 0) {
		size_t h = hash_bytes(token.p, token.len);
		int64_t ms = web_now_ms();
		for (struct login_entry *e = st->logins[h]; e != NULL; e = e->next) {
			if (strlen(e->token) == token.len && same(e->token, token.p, token.len)) {
				if (wall - e->touched >= WEB_SESSION_TOUCH) {
					e->touched = wall;
					memcpy(touch, e->hash, sizeof(touch));
				}
				if (shared && ms - e->verified_ms >= WEB_GEN_CACHE_MS) {
					/* one request confirms it; the others meanwhile use memory */
					e->verified_ms = ms;
					memcpy(verify, e->hash, sizeof(verify));
				}
				break;
			}
		}
	}
	pthread_mutex_unlock(&st->mu);
	if (r > 0 && verify[0] != '\0') {
		/* another node may have ended it (its sign-out deleted the row) */
		struct store_websession row;
		const char *error;
		int v = store_websession_get(store, verify, 0, &row, &error);
		if (v < 0)
			return v;
		if (v == 0) {
			pthread_mutex_lock(&st->mu);
			forget_token(st, token);
			pthread_mutex_unlock(&st->mu);
			return 0;
		}
	}
	if (r > 0) {
		if (touch[0] != '\0' && store != NULL)
			store_websession_touch(store, touch, wall);
		return 1;
	}
	if (store == NULL)
		return 0;
	/* not in memory: made before a restart (or by another loop's cache miss) */
	struct store_websession row;
	const char *error;
	char hash[STORE_WEBSESSION_HASH_LEN + 1];
	token_hash(token, hash);
	r = store_websession_get(store, hash, wall - WEB_SESSION_IDLE, &row, &error);
	if (r <= 0)
		return r;
	char tok[WEB_TOKEN_LEN + 1];
	memcpy(tok, token.p, token.len);
	tok[token.len] = '\0';
	pthread_mutex_lock(&st->mu);
	/* another request with the same cookie (the page sends several at once) may
	 * have read it meanwhile: one entry per token, or a logout would leave one */
	size_t h = hash_bytes(tok, token.len);
	struct login_entry *e = st->logins[h];
	while (e != NULL && !(strlen(e->token) == token.len && same(e->token, token.p, token.len)))
		e = e->next;
	if (e == NULL && recently_removed(st, hash, row.account_id, now_s())) {
		pthread_mutex_unlock(&st->mu);
		explicit_bzero(tok, sizeof(tok));
		return 0;
	}
	if (e == NULL) {
		add_entry(st->logins, tok, row.account_id, row.address, row.generation);
		e = st->logins[h];
		memcpy(e->hash, hash, sizeof(e->hash));
		/* the idle time already spent counts (wall clock in the store, monotonic here) */
		e->last_used = now_s() - (wall - row.last_used);
		e->touched = row.last_used;
	}
	pthread_mutex_unlock(&st->mu);
	explicit_bzero(tok, sizeof(tok));
	*account_id_r = row.account_id;
	snprintf(address_r, addrlen, "%s", row.address);
	*gen_r = row.generation;
	return 1;
}

bool web_sessions_remove(struct webd_state *st, struct store *store, struct bytes token, struct loop *loop,
			 void (*done)(void *arg, int result, const char *error), void *arg)
{
	if (token.len == 0 || token.len > WEB_TOKEN_LEN)
		return false;
	pthread_mutex_lock(&st->mu);
	forget_token(st, token);
	pthread_mutex_unlock(&st->mu);
	char hash[STORE_WEBSESSION_HASH_LEN + 1];
	token_hash(token, hash);
	pthread_mutex_lock(&st->mu);
	memcpy(st->removed[st->removed_next], hash, sizeof(hash));
	st->removed_at[st->removed_next] = now_s();
	st->removed_next = (st->removed_next + 1) % WEB_REMOVED_MAX;
	pthread_mutex_unlock(&st->mu);
	if (store == NULL)
		return false;
	store_websession_del(store, 0, hash, loop, done, arg);
	return done != NULL;
}

static void hex_key(const unsigned char key[32], char out[WEB_TOKEN_LEN + 1])
{
	/* 20 bytes of the hash are plenty for a cache key */
	textfmt_hex(key, 20, out, WEB_TOKEN_LEN + 1);
}

int web_basic_lookup(struct webd_state *st, const unsigned char key[32], int64_t *account_id_r,
		     char *address_r, size_t addrlen, uint64_t *gen_r)
{
	char k[WEB_TOKEN_LEN + 1];
	hex_key(key, k);
	pthread_mutex_lock(&st->mu);
	int r = find_entry(st->basic, (struct bytes){ k, strlen(k) }, WEB_BASIC_CACHE_TTL, false, account_id_r,
			   address_r, addrlen, gen_r);
	pthread_mutex_unlock(&st->mu);
	return r;
}

void web_basic_store(struct webd_state *st, const unsigned char key[32], int64_t account_id, const char *address,
		     uint64_t gen)
{
	char k[WEB_TOKEN_LEN + 1];
	hex_key(key, k);
	pthread_mutex_lock(&st->mu);
	/* a stale entry for the same key (an older generation) goes first */
	size_t h = hash_bytes(k, strlen(k));
	for (struct login_entry **pp = &st->basic[h]; *pp != NULL;) {
		struct login_entry *e = *pp;
		if (strcmp(e->token, k) == 0) {
			*pp = e->next;
			explicit_bzero(e->token, sizeof(e->token));
			free(e);
		} else {
			pp = &e->next;
		}
	}
	add_entry(st->basic, k, account_id, address, gen);
	pthread_mutex_unlock(&st->mu);
}

/* Drops every entry of the account from one table (lock held). */
static size_t remove_account(struct login_entry **b, int64_t account_id)
{
	size_t n = 0;
	for (size_t i = 0; i < NBUCKETS; i++) {
		for (struct login_entry **pp = &b[i]; *pp != NULL;) {
			struct login_entry *e = *pp;
			if (e->account_id == account_id) {
				*pp = e->next;
				explicit_bzero(e->token, sizeof(e->token));
				free(e);
				n++;
			} else {
				pp = &e->next;
			}
		}
	}
	return n;
}

size_t web_sessions_remove_account(struct webd_state *st, struct store *store, int64_t account_id,
				   struct loop *loop, void (*done)(void *arg, int result, const char *error),
				   void *arg)
{
	pthread_mutex_lock(&st->mu);
	size_t n = remove_account(st->logins, account_id);
	remove_account(st->basic, account_id);
	st->removed_account[st->removed_account_next] = account_id;
	st->removed_account_at[st->removed_account_next] = now_s();
	st->removed_account_next = (st->removed_account_next + 1) % WEB_REMOVED_MAX;
	pthread_mutex_unlock(&st->mu);
	if (store != NULL)
		store_websession_del(store, account_id, NULL, loop, done, arg);
	else if (done != NULL)
		done(arg, 1, NULL);
	return n;
}

/* ------------------------------------------------------------------ generations */

int web_account_gen(struct webd_state *st, struct store *store, int64_t account_id, bool fresh, uint64_t *gen_r)
{
	size_t h = (size_t)((uint64_t)account_id % NBUCKETS);
	int64_t now = web_now_ms();
	pthread_mutex_lock(&st->mu);
	struct gen_entry *g = st->gens[h];
	while (g != NULL && g->account_id != account_id)
		g = g->next;
	if (g != NULL && !fresh && now - g->checked_ms < WEB_GEN_CACHE_MS) {
		*gen_r = g->gen;
		int r = g->exists ? 1 : 0;
		pthread_mutex_unlock(&st->mu);
		return r;
	}
	pthread_mutex_unlock(&st->mu);
	if (store == NULL) {
		*gen_r = 0;
		return 1; /* no store (tests): every session has generation 0 */
	}
	/* a primary-key read, at most once per account per WEB_GEN_CACHE_MS */
	uint64_t gen = 0;
	const char *error;
	int r = store_account_session_gen(store, account_id, &gen, &error);
	if (r < 0)
		return r;
	pthread_mutex_lock(&st->mu);
	g = st->gens[h];
	while (g != NULL && g->account_id != account_id)
		g = g->next;
	if (g == NULL) {
		g = xcalloc(1, sizeof(*g));
		g->account_id = account_id;
		g->next = st->gens[h];
		st->gens[h] = g;
	}
	g->gen = gen;
	g->exists = r > 0;
	g->checked_ms = now;
	pthread_mutex_unlock(&st->mu);
	*gen_r = gen;
	return r;
}

/* ------------------------------------------------------------------ uploads */

static void blob_free(struct web_blob *b)
{
	free(b->data);
	free(b);
}

/* Unlinks expired uploads and, for account_id, the oldest while over max (lock held).
 * A blob still referenced is unlinked and freed by its last unref. */
static void uploads_trim(struct webd_state *st, int64_t account_id, uint64_t incoming, uint64_t max)
{
	int64_t now = now_s();
	for (;;) {
		uint64_t used = 0;
		struct web_blob **oldest = NULL;
		for (struct web_blob **pp = &st->uploads; *pp != NULL;) {
			struct web_blob *b = *pp;
			if (b->expires < now) {
				*pp = b->next;
				if (--b->refs == 0)
					blob_free(b);
				continue;
			}
			if (b->account_id == account_id) {
				used += b->len;
				oldest = pp; /* the list is newest first: the last match is the oldest */
			}
			pp = &b->next;
		}
		if (max == 0 || used + incoming <= max || oldest == NULL)
			return;
		struct web_blob *b = *oldest;
		*oldest = b->next;
		if (--b->refs == 0)
			blob_free(b);
	}
}

void web_upload_put(struct webd_state *st, int64_t account_id, const char *type, char *data, size_t len,
		    uint64_t max_per_account, char id_r[40])
{
	struct web_blob *b = xcalloc(1, sizeof(*b));
	char rnd[24];
	web_random_token(rnd, sizeof(rnd), 15);
	snprintf(b->id, sizeof(b->id), "U%s", rnd);
	b->account_id = account_id;
	snprintf(b->type, sizeof(b->type), "%s", type);
	b->data = data;
	b->len = len;
	b->expires = now_s() + WEB_UPLOAD_TTL;
	b->refs = 1; /* the list's */
	pthread_mutex_lock(&st->mu);
	uploads_trim(st, account_id, len, max_per_account);
	b->next = st->uploads;
	st->uploads = b;
	pthread_mutex_unlock(&st->mu);
	memcpy(id_r, b->id, sizeof(b->id));
}

struct web_blob *web_upload_get(struct webd_state *st, int64_t account_id, const char *id)
{
	struct web_blob *found = NULL;
	pthread_mutex_lock(&st->mu);
	int64_t now = now_s();
	for (struct web_blob *b = st->uploads; b != NULL; b = b->next) {
		if (b->account_id == account_id && b->expires >= now && strcmp(b->id, id) == 0) {
			b->refs++;
			found = b;
			break;
		}
	}
	pthread_mutex_unlock(&st->mu);
	return found;
}

void web_blob_unref(struct webd_state *st, struct web_blob *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&st->mu);
	bool last = --b->refs == 0;
	pthread_mutex_unlock(&st->mu);
	if (last)
		blob_free(b);
}

/* ------------------------------------------------------------------ per account */

void web_state_with_account(struct webd_state *st, int64_t account_id,
			    void (*fn)(void *arg, json_t *identities, json_t *submissions, uint64_t *counter),
			    void *arg)
{
	pthread_mutex_lock(&st->mu);
	struct account_entry *a = st->accounts;
	while (a != NULL && a->account_id != account_id)
		a = a->next;
	if (a == NULL) {
		a = xcalloc(1, sizeof(*a));
		a->account_id = account_id;
		a->identities = json_object();
		a->submissions = json_object();
		a->next = st->accounts;
		st->accounts = a;
	}
	fn(arg, a->identities, a->submissions, &a->counter);
	pthread_mutex_unlock(&st->mu);
}

/* ------------------------------------------------------------------ push lists */

struct web_pushers *web_pushers_for(struct webd_state *st, struct loop *l)
{
	size_t id = (size_t)loop_id(l);
	pthread_mutex_lock(&st->mu);
	if (id >= st->nloops) {
		st->loops = xrealloc(st->loops, (id + 1) * sizeof(*st->loops));
		for (size_t i = st->nloops; i <= id; i++)
			st->loops[i] = NULL;
		st->nloops = id + 1;
	}
	if (st->loops[id] == NULL) {
		st->loops[id] = xcalloc(1, sizeof(**st->loops));
		st->loops[id]->loop = l;
	}
	struct web_pushers *p = st->loops[id];
	pthread_mutex_unlock(&st->mu);
	return p;
}
