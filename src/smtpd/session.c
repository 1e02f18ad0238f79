/* session.c: one SMTP connection: greeting, input modes, dispatch, timeouts.
 *
 * RFC 5321 §4.3.1: the greeting is 220; §4.5.3.2: the server may close an idle
 * connection after its timeout with 421; §4.5.3.1.4-5: command lines have a length
 * limit (limits.line_length), beyond which we reply 500 and close, since the rest of
 * the line would otherwise be read as commands. Pipelined commands (RFC 2920) are
 * simply read one after another; while an asynchronous step runs (delivery, a
 * password check) it holds the connection (lib/conn's session core), so input waits
 * and the next command stays in the buffer. DATA, BDAT and AUTH take the input over
 * as continuations (cmd_data.c, cmd_auth.c); this file names no command. */
#include "session.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMTP_COMMAND_MAX 1000 /* octets of a command line with its CRLF */

/* The handler's free callback: the connection is gone and no step holds it. */
static void smtp_free(void *session)
{
	struct smtp_session *ss = session;
	smtp_client_check_cancel(ss);
	smtp_txn_reset(ss);
	arena_free(&ss->txn_arena);
	arena_free(&ss->cmd_arena);
	arena_free(&ss->arena);
	free(ss);
}

static void *smtp_open(struct conn *c, void *ctx)
{
	struct smtp_session *ss = xcalloc(1, sizeof(*ss));
	ss->c = c;
	ss->l = ctx;
	ss->env = ss->l->env;
	ss->s = settings_get(ss->l->settings);
	ss->arena = arena_new();
	ss->txn_arena = arena_new();
	ss->cmd_arena = arena_new();
	conn_set_timeout(c, ss->s->timeout_smtp);
	smtp_reply(ss, 220, NULL, "%s ESMTP postamt", ss->s->hostname);
	smtp_client_check_start(ss);
	return ss;
}

static void smtp_refuse(struct conn *c, void *ctx)
{
	const struct smtpd_listener *l = ctx;
	conn_printf(c, "421 4.7.0 %s Too many connections from your address, try again later\r\n",
		    settings_get(l->settings)->hostname);
}

static void smtp_dispatch(struct smtp_session *ss, struct bytes line)
{
	struct smtp_command cmd;
	const char *error;
	if (conn_command(ss->c) < 0) {
		smtp_reply(ss, 421, "4.7.0", "%s Too many commands, closing connection", ss->s->hostname);
		conn_close(ss->c);
		return;
	}
	/* RFC 5321 §4.5.3.1.4: command lines are at most 512 octets; we take up to 1000
	 * (the text line limit) as Postfix does, and AUTH lines up to limits.line_length
	 * (RFC 4954 §4: long initial responses) */
	if (line.len > SMTP_COMMAND_MAX - 2 && !bytes_iprefix(line, "AUTH ")) {
		smtp_reply(ss, 500, "5.5.2", "Line too long");
		smtp_error(ss);
		return;
	}
	if (smtp_parse_command(line, &cmd, &error) < 0) {
		smtp_reply(ss, 500, "5.5.2", "%s", error);
		smtp_error(ss);
		return;
	}
	const struct smtp_cmd_def *def = smtp_cmd_lookup(cmd.verb);
	if (def == NULL) {
		smtp_reply(ss, 500, "5.5.2", "Command unrecognized");
		smtp_error(ss);
		return;
	}
	if (def->run == NULL) {
		smtp_reply(ss, 502, "5.5.1", "Command not implemented");
		smtp_error(ss);
		return;
	}
	bool submission = ss->l->role != SMTPD_MX;
	if ((def->flags & SMTP_CMD_NEEDS_TLS) && submission && !conn_is_tls(ss->c)) {
		smtp_reply(ss, 530, "5.7.0", "Must issue a STARTTLS command first");
		smtp_error(ss);
		return;
	}
	if ((def->flags & SMTP_CMD_NEEDS_HELO) && ss->helo[0] == '\0') {
		smtp_reply(ss, 503, "5.5.1", "Send EHLO or HELO first");
		smtp_error(ss);
		return;
	}
	if ((def->flags & SMTP_CMD_NEEDS_AUTH) && submission && ss->auth_user == NULL) {
		smtp_reply(ss, 530, "5.7.0", "Authentication required");
		smtp_error(ss);
		return;
	}
	def->run(ss, &cmd);
}

/* Command lines, while no step holds the connection and no command took the input
 * over (then the core hands the rest of the input to that command). */
static void smtp_read(struct smtp_session *ss)
{
	struct bytes line;
	while (smtp_next_line(ss, NULL, &line) > 0) {
		/* what the previous command allocated for itself goes: a session that
		 * repeats commands stays at its size (no asynchronous step is in flight
		 * here: input waits while one holds the connection) */
		arena_clear(ss->cmd_arena);
		smtp_dispatch(ss, line);
	}
}

static void smtp_event(void *session, enum conn_event ev)
{
	struct smtp_session *ss = session;
	switch (ev) {
	case CONN_DATA:
		smtp_read(ss);
		break;
	case CONN_TIMEOUT:
		smtp_reply(ss, 421, "4.4.2", "%s Timeout, closing connection", ss->s->hostname);
		conn_close(ss->c);
		break;
	case CONN_SHUTDOWN: /* the core waits for the step in flight to reply */
		smtp_reply(ss, 421, "4.3.2", "%s Server shutting down, try again later", ss->s->hostname);
		conn_close(ss->c);
		break;
	case CONN_TLS_READY:
	case CONN_DRAINED:
	case CONN_RELEASED:
	case CONN_CLOSED: /* smtp_free follows once no step holds the connection */
		break;
	}
}

const struct conn_handler smtpd_handler = {
	.proto = "smtp",
	.open = smtp_open,
	.event = smtp_event,
	.refuse = smtp_refuse,
	.free = smtp_free,
};
