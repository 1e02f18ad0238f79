/* smtpd.h: the SMTP server (RFC 5321) on ports 25, 465 and 587.
 *
 * One conn_handler serves all three roles; the listener context says which. The
 * session (session.c) reads command lines, looks the verb up in the command table
 * (commands.c) which enforces state, and runs the verb's check-then-proceed pair.
 * The policy of accepting a message (sender, recipients, size, trace headers,
 * hooks, the durable commit to the store and the outbound queue) is the message
 * pipeline's (src/submit), shared with the webmail; smtpd keeps the SMTP framing. */
#ifndef POSTAMT_SMTPD_H
#define POSTAMT_SMTPD_H

#include "conn.h"
#include "pool.h"
#include "settings.h"

#include <stdbool.h>
#include <stddef.h>

struct auth_service;
struct submit;

enum smtpd_role {
	SMTPD_MX,          /* 25: mail for local domains, STARTTLS offered, no AUTH needed */
	SMTPD_SUBMISSION,  /* 587: STARTTLS, then AUTH, before MAIL (RFC 6409) */
	SMTPD_SUBMISSIONS, /* 465: implicit TLS, AUTH before MAIL (RFC 8314) */
};

/* Services shared by every SMTP session. */
struct smtpd_env {
	struct auth_service *auth;
	struct pool *pool;
	struct submit *submit;   /* the message pipeline: every message goes through it */
};

struct smtpd_listener {
	enum smtpd_role role;
	struct settings_ref *settings;
	const struct smtpd_env *env;
};

extern const struct conn_handler smtpd_handler;

#endif
