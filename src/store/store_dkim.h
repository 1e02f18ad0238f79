/* store_dkim.h: the DKIM signing keys in the store (store_dkim.c), on the PostgreSQL
 * backend only: there every node signs with the keys of table dkim_keys, so a key
 * made or retired through one node is used by all (docs/cluster.md). The SQLite
 * backend keeps its keys as files under DIR/dkim (src/mailauth/dkim_key.h) and these
 * calls answer STORE_EINVAL there. Included by store.h. */
#ifndef POSTAMT_STORE_DKIM_H
#define POSTAMT_STORE_DKIM_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* One key row. */
struct store_dkim_key {
	const char *domain;    /* lower case */
	const char *selector;
	const char *algorithm; /* "ed25519" or "rsa" */
	const char *pem;       /* the private key, PKCS#8 PEM */
	int64_t created;       /* Unix time */
};

/* True when the store keeps the DKIM keys (PostgreSQL), false for files in DIR. */
bool store_dkim_shared(const struct store *s);
/* The active keys of domain (case-insensitive; NULL: of every domain), ordered by
 * domain and selector, in arena a. Returns 1, or <0 with *error_r. */
int store_dkim_keys(struct store *s, struct arena *a, const char *domain, struct store_dkim_key **keys_r, size_t *n_r,
		    const char **error_r);
/* Adds an active key. Returns 1, STORE_EEXISTS when the domain has (or had: a retired
 * key keeps its row) that selector, or <0 with *error_r. */
int store_dkim_key_add(struct store *s, const struct store_dkim_key *k, const char **error_r);
/* Retires a key (active = 0: no longer published nor signing). Returns 1, 0 when the
 * domain has no such active key, or <0 with *error_r. */
int store_dkim_key_retire(struct store *s, const char *domain, const char *selector, const char **error_r);
/* A number that changes whenever a key is added or retired (from the active rows'
 * ids), for a signer to notice new keys cheaply. Returns 1, or <0 with *error_r. */
int store_dkim_version(struct store *s, uint64_t *version_r, const char **error_r);

#endif
