/* session.h: the state of one SMTP connection, shared by session.c and the commands. */
#ifndef POSTAMT_SMTPD_SESSION_H
#define POSTAMT_SMTPD_SESSION_H

#include "arena.h"
#include "smtp_parse.h"
#include "smtpd.h"

#include <stdbool.h>

struct smtp_session {
	struct conn *c;
	const struct smtpd_listener *l;
	const struct settings *s;
	struct arena *arena; /* lives as long as the connection */
	char *helo;          /* the client's EHLO/HELO name, NULL before */
	bool esmtp;          /* EHLO rather than HELO */
	unsigned errors;     /* bad commands so far */
};

/* Command flags checked by the dispatcher before a command runs. */
enum {
	SMTP_CMD_NEEDS_HELO = 1 << 0, /* 503 5.5.1 before EHLO/HELO */
	SMTP_CMD_NEEDS_TLS = 1 << 1,  /* on 587: 530 5.7.0 before STARTTLS */
};

struct smtp_cmd_def {
	enum smtp_verb verb;
	/* Runs the command: checks without side effects, replies with its error, or
	 * proceeds. */
	void (*run)(struct smtp_session *ss, const struct smtp_command *cmd);
	unsigned flags;
};

/* The command table, indexed by verb; a NULL run means "not implemented" (502). */
const struct smtp_cmd_def *smtp_cmd_lookup(enum smtp_verb verb);

/* Replies "CODE ENH text" (or a multi-line reply when text has '\n'). */
void smtp_reply(struct smtp_session *ss, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
