/* session.c: one IMAP connection: greeting, command lines, dispatch, timeouts.
 *
 * RFC 9051 §7.1.1: the greeting is an untagged OK, with the CAPABILITY response code
 * so that clients need not ask; §5.4: the autologout timer is at least 30 minutes
 * once authenticated (timeout.imap), shorter before login (timeout.imap_login). */
#include "session.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAP_MAX_ERRORS 20

void imap_tagged(struct imap_session *is, const struct imap_cmd *cmd, const char *status, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	conn_printf(is->c, "%.*s %s %s\r\n", (int)cmd->tag.len, cmd->tag.p, status, text);
}

void imap_write_capabilities(struct imap_session *is)
{
	conn_puts(is->c, "IMAP4rev1 IMAP4rev2");
	if (!conn_is_tls(is->c) && is->state == IMAP_NOT_AUTHENTICATED)
		conn_puts(is->c, " STARTTLS");
}

static void imap_dispatch(struct imap_session *is, struct bytes line)
{
	struct imap_command_line cl;
	const char *error;
	int r = imap_parse_command_line(line, &cl, &error);
	if (r == 0)
		return; /* empty line: ignored, as most servers do */
	struct imap_cmd cmd = { cl.tag, cl.name, cl.args };
	if (r < 0) {
		imap_tagged(is, &cmd, "BAD", "%s", error);
		is->errors++;
		return;
	}
	const struct imap_cmd_def *def = imap_cmd_lookup(cl.name);
	if (def == NULL) {
		imap_tagged(is, &cmd, "BAD", "Unknown command");
		is->errors++;
		return;
	}
	if (!(def->states & is->state)) {
		imap_tagged(is, &cmd, "BAD", "Command not valid in this state");
		is->errors++;
		return;
	}
	def->run(is, &cmd);
	arena_clear(is->cmd_arena);
}

static void imap_read(struct imap_session *is)
{
	while (!conn_is_closing(is->c)) {
		struct bytes line;
		int r = conn_read_line(is->c, is->s->line_max, &line);
		if (r == 0)
			return;
		if (r < 0) {
			conn_log(is->c, LOG_WARN, "event=line_too_long limit=%zu", is->s->line_max);
			conn_puts(is->c, "* BYE [LIMIT] Command line too long\r\n");
			conn_close(is->c);
			return;
		}
		imap_dispatch(is, line);
		if (is->errors >= IMAP_MAX_ERRORS) {
			conn_log(is->c, LOG_WARN, "event=too_many_errors");
			conn_puts(is->c, "* BYE Too many invalid commands\r\n");
			conn_close(is->c);
		}
	}
}

static void *imap_open(struct conn *c, void *ctx)
{
	struct imap_session *is = xcalloc(1, sizeof(*is));
	is->c = c;
	is->l = ctx;
	is->s = settings_get(is->l->settings);
	is->cmd_arena = arena_new();
	is->state = IMAP_NOT_AUTHENTICATED;
	conn_set_timeout(c, is->s->timeout_imap_login);
	conn_puts(c, "* OK [CAPABILITY ");
	imap_write_capabilities(is);
	conn_puts(c, "] postamt ready\r\n");
	return is;
}

static void imap_refuse(struct conn *c, void *ctx)
{
	conn_puts(c, "* BYE [UNAVAILABLE] Too many connections from your address, try again later\r\n");
}

static void imap_event(void *session, enum conn_event ev)
{
	struct imap_session *is = session;
	switch (ev) {
	case CONN_DATA:
		imap_read(is);
		break;
	case CONN_TIMEOUT:
		conn_puts(is->c, "* BYE Autologout; idle for too long\r\n");
		conn_close(is->c);
		break;
	case CONN_SHUTDOWN:
		conn_puts(is->c, "* BYE [UNAVAILABLE] Server shutting down\r\n");
		conn_close(is->c);
		break;
	case CONN_TLS_READY:
	case CONN_DRAINED:
		break;
	case CONN_CLOSED:
		arena_free(&is->cmd_arena);
		free(is);
		break;
	}
}

const struct conn_handler imapd_handler = {
	.proto = "imap",
	.open = imap_open,
	.event = imap_event,
	.refuse = imap_refuse,
};
