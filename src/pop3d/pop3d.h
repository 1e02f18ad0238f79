/* pop3d.h: the POP3 server (RFC 1939, 2449, 2595, 5034, 6856) on ports 110 and 995.
 *
 * The maildrop is the account's INBOX in the store, as a snapshot taken at login. A
 * second POP3 session on the same maildrop is refused with [IN-USE] (RFC 2449 §8.1.1);
 * the set of maildrops in use is shared by all loops (struct pop3d_env). */
#ifndef POSTAMT_POP3D_H
#define POSTAMT_POP3D_H

#include "conn.h"
#include "pool.h"
#include "settings.h"

#include <stdbool.h>
#include <stdint.h>

struct store;
struct auth_service;
struct pop3_locks;

struct pop3d_env {
	struct store *store;
	struct auth_service *auth;
	struct pop3_locks *locks;
};

struct pop3d_listener {
	struct settings_ref *settings;
	const struct pop3d_env *env;
};

/* The maildrops in use. */
struct pop3_locks *pop3_locks_new(void);
void pop3_locks_free(struct pop3_locks **lp);
/* Takes the maildrop of account id: true, or false when another session has it. */
bool pop3_lock(struct pop3_locks *l, int64_t account_id);
void pop3_unlock(struct pop3_locks *l, int64_t account_id);

extern const struct conn_handler pop3d_handler;

#endif
