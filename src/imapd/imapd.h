/* imapd.h: the IMAP server (RFC 9051 IMAP4rev2 with RFC 3501 IMAP4rev1 compatibility)
 * on ports 143 (STARTTLS) and 993 (implicit TLS).
 *
 * serve.c creates one imapd_listener for both ports and one imapd_env with the
 * services every session shares: the store (the only way to touch mail), the login
 * service (password checks off the loops with the shared failed-login limiter), the
 * worker pool (store writes that have no asynchronous form) and the per-user+address
 * connection counter (limits.imap_connections_per_user_ip). */
#ifndef POSTAMT_IMAPD_H
#define POSTAMT_IMAPD_H

#include "conn.h"
#include "loop.h"
#include "pool.h"
#include "settings.h"

#include <stdbool.h>
#include <stddef.h>

struct store;
struct auth_service;
struct imapd_users;

struct imapd_env {
	struct store *store;
	struct auth_service *auth;
	struct pool *pool;
	struct imapd_users *users; /* imapd_users_new(); NULL: no per-user limit */
};

struct imapd_listener {
	struct settings_ref *settings;
	const struct imapd_env *env; /* NULL: only pre-login commands work */
};

extern const struct conn_handler imapd_handler;

/* Counter of open authenticated connections per (user, client address), shared by
 * every loop (a mutex inside). */
struct imapd_users *imapd_users_new(void);
void imapd_users_free(struct imapd_users **up);
/* Counts one more connection of user from ip unless `max` are open already.
 * Returns true when counted. */
bool imapd_users_acquire(struct imapd_users *u, const char *user, const char *ip, size_t max);
void imapd_users_release(struct imapd_users *u, const char *user, const char *ip);

/* The IDLE sessions of one loop (used on that loop's thread only). */
struct imap_session;
struct imapd_idlers {
	struct loop *loop;
	struct imap_session *head;
	bool armed; /* a tick is pending */
};
struct imapd_idlers *imapd_idlers_for(struct imapd_users *u, struct loop *l);

#endif
