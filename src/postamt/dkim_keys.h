/* dkim_keys.h: a node's DKIM keys wherever its store keeps them: files under DIR/dkim
 * (the SQLite backend, dkim_key.h) or rows of the shared database (the PostgreSQL
 * backend, store_dkim.h), so that a key made through one node signs on every node.
 * The commands (cli_dkim.c), the DNS records (dns_records.c), the admin API
 * (serve_admin.c) and the signing hook (dkim_hook.c) go through these; each takes
 * the store (NULL or a SQLite store: the files under dir_fd) and returns as the
 * dkim_key.h function of the same name. */
#ifndef POSTAMT_DKIM_KEYS_H
#define POSTAMT_DKIM_KEYS_H

#include "dkim_key.h"

#include <stdbool.h>

struct store;

/* True when the keys are in the store's database. */
bool dkim_keys_shared(struct store *s);
int dkim_keys_generate(struct store *s, int dir_fd, const char *domain, time_t now, uid_t owner, gid_t group,
		       struct arena *a, const char **ed_sel_r, const char **rsa_sel_r, const char **error_r);
int dkim_keys_list(struct store *s, int dir_fd, const char *domain, time_t now, int64_t publish_delay,
		   struct arena *a, struct dkim_key_info **keys_r, size_t *n_r, const char **error_r);
int dkim_keys_retire(struct store *s, int dir_fd, const char *domain, const char *selector, time_t now,
		     int64_t publish_delay, struct arena *a, const char **error_r);
/* The whole key set (dkim_keyset_load); *error_r static or in no arena (a store
 * error's thread-local text). */
int dkim_keys_load(struct store *s, int dir_fd, struct dkim_keyset **set_r, char **warnings_r, const char **error_r);
/* A number that changes with the keys (dkim_key_fingerprint, store_dkim_version):
 * 1, 0 when there are none (files), -1 when it cannot be read now. */
int dkim_keys_fingerprint(struct store *s, int dir_fd, unsigned long long *fp_r);

#endif
