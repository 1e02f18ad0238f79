/* smtpd.h: the SMTP server (RFC 5321) on ports 25, 465 and 587.
 *
 * One conn_handler serves all three roles; the listener context says which. The
 * session (session.c) reads command lines, looks the verb up in the command table
 * (commands.c) which enforces state, and runs the verb's check-then-proceed pair. */
#ifndef POSTAMT_SMTPD_H
#define POSTAMT_SMTPD_H

#include "conn.h"
#include "settings.h"

enum smtpd_role {
	SMTPD_MX,          /* 25: mail for local domains, STARTTLS offered, no AUTH needed */
	SMTPD_SUBMISSION,  /* 587: STARTTLS, then AUTH, before MAIL (RFC 6409) */
	SMTPD_SUBMISSIONS, /* 465: implicit TLS, AUTH before MAIL (RFC 8314) */
};

struct smtpd_listener {
	enum smtpd_role role;
	struct settings_ref *settings;
};

extern const struct conn_handler smtpd_handler;

#endif
