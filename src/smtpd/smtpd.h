/* smtpd.h: the SMTP server (RFC 5321) on ports 25, 465 and 587.
 *
 * One conn_handler serves all three roles; the listener context says which. The
 * session (session.c) reads command lines, looks the verb up in the command table
 * (commands.c) which enforces state, and runs the verb's check-then-proceed pair.
 * Local recipients are delivered through the store (group commit); remote ones are
 * handed to the outbound queue through smtpd_env.submit, which serve.c wires to the
 * queue module (the servers do not include the queue, DESIGN.md §3). */
#ifndef POSTAMT_SMTPD_H
#define POSTAMT_SMTPD_H

#include "conn.h"
#include "pool.h"
#include "settings.h"

#include <stdbool.h>
#include <stddef.h>

struct store;
struct auth_service;

enum smtpd_role {
	SMTPD_MX,          /* 25: mail for local domains, STARTTLS offered, no AUTH needed */
	SMTPD_SUBMISSION,  /* 587: STARTTLS, then AUTH, before MAIL (RFC 6409) */
	SMTPD_SUBMISSIONS, /* 465: implicit TLS, AUTH before MAIL (RFC 8314) */
};

/* A message for the outbound queue. */
struct smtpd_outbound {
	const char *sender;           /* "" for the null reverse-path */
	const char *const *rcpts;     /* canonical addresses */
	const unsigned *notify;       /* DSN NOTIFY bits per recipient (0: default) */
	const char *const *orcpt;     /* ORCPT per recipient, NULL entries when absent */
	size_t nrcpts;
	const char *envid;            /* ENVID xtext or NULL */
	int ret;                      /* enum smtp_ret */
	bool smtputf8;                /* the transaction declared SMTPUTF8 */
	const char *data;             /* the whole message, CRLF, Received header first */
	size_t len;
	const char *auth_user;        /* authenticated submitter, NULL on port 25 */
};

/* Queues m durably; runs on a pool thread (it fsyncs). Returns 1 and the queue id in
 * id_r, or <0 with *error_r. */
typedef int smtpd_submit_fn(void *ctx, const struct smtpd_outbound *m, char *id_r, size_t idlen,
			    const char **error_r);

/* Services shared by every SMTP session. */
struct smtpd_env {
	struct store *store;
	struct auth_service *auth;
	struct pool *pool;
	smtpd_submit_fn *submit; /* NULL: remote recipients are refused (451) */
	void *submit_ctx;
};

struct smtpd_listener {
	enum smtpd_role role;
	struct settings_ref *settings;
	const struct smtpd_env *env;
};

extern const struct conn_handler smtpd_handler;

#endif
