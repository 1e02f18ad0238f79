/* session.c: one SMTP connection: greeting, input modes, dispatch, timeouts.
 *
 * RFC 5321 §4.3.1: the greeting is 220; §4.5.3.2: the server may close an idle
 * connection after its timeout with 421; §4.5.3.1.4-5: command lines have a length
 * limit (limits.line_length), beyond which we reply 500 and close, since the rest of
 * the line would otherwise be read as commands. Pipelined commands (RFC 2920) are
 * simply read one after another; while an asynchronous step runs (delivery, a
 * password check) input is paused and the next command waits in the buffer. */
#include "session.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMTP_COMMAND_MAX 1000 /* octets of a command line with its CRLF */

void smtp_reply(struct smtp_session *ss, int code, const char *enh, const char *fmt, ...)
{
	if (ss->c == NULL)
		return;
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* multi-line: every line but the last gets "CODE-" (RFC 5321 §4.2.1) */
	const char *line = text;
	for (;;) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);
		if (enh != NULL && enh[0] != '\0')
			conn_printf(ss->c, "%d%c%s %.*s\r\n", code, nl ? '-' : ' ', enh, len, line);
		else
			conn_printf(ss->c, "%d%c%.*s\r\n", code, nl ? '-' : ' ', len, line);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
}

void smtp_error(struct smtp_session *ss)
{
	if (++ss->errors >= ss->s->errors_max && ss->c != NULL && !conn_is_closing(ss->c)) {
		conn_log(ss->c, LOG_WARN, "event=too_many_errors");
		smtp_reply(ss, 421, "4.7.0", "%s Too many errors, closing connection", ss->s->hostname);
		conn_close(ss->c);
	}
}

void smtp_quota_full(struct smtp_session *ss, const char *to, const char *text)
{
	bool temporary = ss->l->role == SMTPD_MX && ss->s->quota_full_temporary;
	int code = temporary ? 452 : 552;
	if (ss->c != NULL)
		conn_log(ss->c, LOG_WARN, "event=quota_rejected from=<%s> to=<%s> reply=%d", ss->txn.mail.from.mailbox,
			 to != NULL ? to : "", code);
	smtp_reply(ss, code, temporary ? "4.2.2" : "5.2.2", "%s", text);
}

void smtp_txn_reset(struct smtp_session *ss)
{
	buf_free(&ss->txn.data);
	if (ss->c != NULL)
		conn_mem_release(ss->c);
	memset(&ss->txn, 0, sizeof(ss->txn));
	arena_clear(ss->txn_arena);
}

bool smtp_auth_allowed(const struct smtp_session *ss)
{
	return ss->env->auth != NULL && conn_may_send_password(ss->c);
}

static void session_free(struct smtp_session *ss)
{
	smtp_txn_reset(ss);
	arena_free(&ss->txn_arena);
	arena_free(&ss->cmd_arena);
	arena_free(&ss->arena);
	free(ss);
}

void smtp_busy_begin(struct smtp_session *ss)
{
	ss->pending++;
	ss->mode = SMTP_MODE_BUSY;
	conn_pause(ss->c);
}

bool smtp_busy_end(struct smtp_session *ss)
{
	ss->pending--;
	if (ss->dead) {
		if (ss->pending == 0)
			session_free(ss);
		return false;
	}
	if (ss->pending == 0) {
		if (ss->mode == SMTP_MODE_BUSY)
			ss->mode = SMTP_MODE_COMMAND;
		if (ss->stopping) {
			smtp_reply(ss, 421, "4.3.2", "%s Server shutting down, try again later", ss->s->hostname);
			conn_close(ss->c);
		}
		conn_resume(ss->c);
	}
	return true;
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
	if (++ss->commands > ss->s->commands_max) {
		conn_log(ss->c, LOG_WARN, "event=too_many_commands limit=%zu", ss->s->commands_max);
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

static void smtp_read(struct smtp_session *ss)
{
	while (ss->c != NULL && !conn_is_closing(ss->c)) {
		switch (ss->mode) {
		case SMTP_MODE_BUSY:
			return;
		case SMTP_MODE_DATA:
			smtp_data_input(ss);
			if (ss->mode == SMTP_MODE_DATA)
				return; /* needs more */
			continue;
		case SMTP_MODE_BDAT:
			smtp_bdat_input(ss);
			if (ss->mode == SMTP_MODE_BDAT)
				return;
			continue;
		case SMTP_MODE_COMMAND:
		case SMTP_MODE_AUTH:
			break;
		}
		struct bytes line;
		int r = conn_read_line(ss->c, ss->s->line_max, &line);
		if (r == 0)
			return;
		if (r < 0) {
			conn_log(ss->c, LOG_WARN, "event=line_too_long limit=%zu", ss->s->line_max);
			smtp_reply(ss, 500, "5.5.2", "Line too long");
			conn_close(ss->c);
			return;
		}
		if (ss->mode == SMTP_MODE_AUTH) {
			smtp_auth_input(ss, line);
		} else {
			/* what the previous command allocated for itself goes: a session that
			 * repeats commands stays at its size (no asynchronous step is in flight
			 * here, input is paused while one runs) */
			arena_clear(ss->cmd_arena);
			smtp_dispatch(ss, line);
		}
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
	case CONN_SHUTDOWN:
		if (ss->mode == SMTP_MODE_BUSY) {
			ss->stopping = true; /* the step in flight finishes and replies first */
			break;
		}
		smtp_reply(ss, 421, "4.3.2", "%s Server shutting down, try again later", ss->s->hostname);
		conn_close(ss->c);
		break;
	case CONN_TLS_READY:
	case CONN_DRAINED:
		break;
	case CONN_CLOSED:
		ss->c = NULL;
		if (ss->pending > 0)
			ss->dead = true; /* freed when the last step ends */
		else
			session_free(ss);
		break;
	}
}

const struct conn_handler smtpd_handler = {
	.proto = "smtp",
	.open = smtp_open,
	.event = smtp_event,
	.refuse = smtp_refuse,
};
