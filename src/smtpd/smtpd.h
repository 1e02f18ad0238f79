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

/* The verdict of the connect-time client check: zone and code are set when a
 * refusing blocklist lists the client (RCPT then answers 554 5.7.1 naming zone);
 * score and weighted (zones separated by spaces, NULL when none) come from lists
 * that only add to the spam score. The strings are valid during the call only. */
typedef void smtpd_client_done_fn(void *arg, const char *zone, const char *code, double score, const char *weighted);

/* The connect-time check of port-25 clients (the DNS blocklists of src/spam, wired
 * in serve.c; smtpd may not include dns or spam). start asks about ip and returns
 * a handle, or NULL when there is nothing to ask (done will not run); done runs
 * later on loop, never inside start. cancel forgets a handle whose done has not
 * run, on the same loop. */
struct smtpd_client_check {
	void *(*start)(void *ctx, const char *ip, struct loop *loop, smtpd_client_done_fn *done, void *arg);
	void (*cancel)(void *handle);
	void *ctx;
};

/* Services shared by every SMTP session. */
struct smtpd_env {
	struct auth_service *auth;
	struct pool *pool;
	struct submit *submit;   /* the message pipeline: every message goes through it */
	const struct smtpd_client_check *client_check; /* port 25 at connect; NULL: none */
};

struct smtpd_listener {
	enum smtpd_role role;
	struct settings_ref *settings;
	const struct smtpd_env *env;
};

extern const struct conn_handler smtpd_handler;

#endif
