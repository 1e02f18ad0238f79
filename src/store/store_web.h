/* store_web.h: what the webmail keeps in the store (included by store.h): login
 * sessions, so that a server restart signs nobody out; each account's webmail
 * preferences (JMAP identities and a settings object, kept as JSON text that the
 * server checks before writing); and the contacts the autocomplete suggests.
 *
 * Sessions are stored by the SHA-256 of their token (hex), never the token itself, so
 * that a copy of the database does not let anyone in. Each row carries the account's
 * session generation from when it was made: a password change, `postamt user logout`
 * or "Sign out everywhere" raises the generation and so ends it (the server compares;
 * stale rows are deleted when seen). Writes have an async form for the server's loops
 * (loop and done may be NULL: fire and forget); reads block but are primary-key or
 * short index reads, like store_account_session_gen. */
#ifndef POSTAMT_STORE_WEB_H
#define POSTAMT_STORE_WEB_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct loop;

/* Bytes of a token hash (SHA-256 in hex) without the NUL. */
#define STORE_WEBSESSION_HASH_LEN 64

struct store_websession {
	char hash[STORE_WEBSESSION_HASH_LEN + 1];
	int64_t account_id;
	char address[256];
	uint64_t generation;
	int64_t created, last_used; /* Unix seconds */
};

/* Records a new session (and drops the account's sessions unused since
 * `expire_before`). Async: done(arg, result, error) on loop. */
void store_websession_put(struct store *s, const struct store_websession *ws, int64_t expire_before,
			  struct loop *loop, void (*done)(void *arg, int result, const char *error), void *arg);
/* Reads the session with that hash: 1 with *ws_r, 0 when there is none or it was
 * unused since `expire_before` (deleted then), <0 on error. */
int store_websession_get(struct store *s, const char *hash, int64_t expire_before, struct store_websession *ws_r,
			 const char **error_r);
/* Sets last_used (the server does it at most every few minutes per session). Async,
 * fire and forget. */
void store_websession_touch(struct store *s, const char *hash, int64_t last_used);
/* Deletes one session (hash) or all of an account's (hash NULL). Async: done on loop
 * (both may be NULL). */
void store_websession_del(struct store *s, int64_t account_id, const char *hash, struct loop *loop,
			  void (*done)(void *arg, int result, const char *error), void *arg);
/* Blocking forms for tests and commands: the same with a result. */
int store_websession_put_sync(struct store *s, const struct store_websession *ws, int64_t expire_before,
			      const char **error_r);
int store_websession_del_sync(struct store *s, int64_t account_id, const char *hash, const char **error_r);

/* The preference kinds: the JMAP identities (a JSON object id -> Identity) and the
 * settings object (JSON object). */
enum store_webpref { STORE_WEBPREF_IDENTITIES = 1, STORE_WEBPREF_SETTINGS = 2 };

/* Reads a preference: 1 with *json_r (arena text) and *state_r (raised by each set),
 * 0 when never set (*json_r NULL, *state_r 0), <0 on error. Blocking. */
int store_webpref_get(struct store *s, struct arena *a, int64_t account_id, enum store_webpref kind,
		      const char **json_r, int64_t *state_r, const char **error_r);
/* Replaces a preference when its state is still `if_state` (JMAP ifInState; -1: any).
 * Returns 1 with *state_r the new state, STORE_ENOTALLOWED when the state moved on,
 * STORE_ENOTFOUND (no account), STORE_EINVAL (json over max_len). Blocking. */
int store_webpref_set(struct store *s, int64_t account_id, enum store_webpref kind, const char *json,
		      size_t max_len, int64_t if_state, int64_t *state_r, const char **error_r);

/* A contact the autocomplete offers: an address the account wrote to (uses: how
 * often) or received personal mail from (received: how many messages), ranked by
 * both (a use weighs four received messages) and by how lately (last_used: the
 * later of the two). */
struct store_contact {
	const char *address;
	const char *name; /* display name last seen (the one the account wrote to first), or NULL */
	int64_t uses, last_used;
	int64_t received;
};

/* Senders of received mail kept per account (store_options.contacts_received_max). */
#define STORE_CONTACTS_RECEIVED_MAX 5000

/* Counts one use of each address (upsert; a non-NULL name replaces the stored one).
 * Addresses longer than STORE_ADDRESS_MAX are skipped. Keeps at most max_per_account
 * rows by dropping the least used (0: no limit). Blocking. */
int store_contact_use(struct store *s, int64_t account_id, const struct store_contact *c, size_t n, int64_t now,
		      size_t max_per_account, const char **error_r);
/* The account's contacts whose address or name (any word of it) starts with prefix
 * (case-insensitive, ASCII folding), best ranked at `now` first, at most limit.
 * Blocking. */
int store_contact_query(struct store *s, struct arena *a, int64_t account_id, const char *prefix, int64_t now,
			size_t limit, struct store_contact **v_r, size_t *n_r, const char **error_r);
/* The contact with exactly this address (case-insensitive): 1 with *out (arena), 0
 * when the account has none. Blocking. */
int store_contact_get(struct store *s, struct arena *a, int64_t account_id, const char *address, int64_t now,
		      struct store_contact *out, const char **error_r);

#endif
