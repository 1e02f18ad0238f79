/* pop3d.c: POP3 sessions and the command table (one file, DESIGN.md §4.2).
 *
 * States (RFC 1939 §3): AUTHORIZATION after the greeting, TRANSACTION after login,
 * UPDATE after QUIT. The table lists each command with the states it is allowed in;
 * the dispatcher answers -ERR for a command in the wrong state. */
#include "pop3d.h"

#include "arena.h"
#include "log.h"
#include "pop3_parse.h"

#include <stdlib.h>
#include <string.h>

#define POP3_MAX_ERRORS 20

enum pop3_state { POP3_AUTHORIZATION = 1, POP3_TRANSACTION = 2 };

struct pop3_session {
	struct conn *c;
	const struct pop3d_listener *l;
	const struct settings *s;
	enum pop3_state state;
	unsigned errors;
};

struct pop3_cmd_def {
	const char *keyword;
	void (*run)(struct pop3_session *ps, const struct pop3_command *cmd);
	unsigned states; /* bit mask of enum pop3_state */
};

static void pop3_ok(struct pop3_session *ps, const char *text)
{
	conn_printf(ps->c, "+OK %s\r\n", text);
}

static void pop3_err(struct pop3_session *ps, const char *text)
{
	conn_printf(ps->c, "-ERR %s\r\n", text);
}

/* RFC 2449 §5: CAPA lists what this server offers in the current state */
static void cmd_capa(struct pop3_session *ps, const struct pop3_command *cmd)
{
	conn_puts(ps->c, "+OK Capability list follows\r\n");
	if (ps->state == POP3_AUTHORIZATION && !conn_is_tls(ps->c))
		conn_puts(ps->c, "STLS\r\n");
	conn_puts(ps->c, "RESP-CODES\r\nPIPELINING\r\nIMPLEMENTATION postamt\r\n.\r\n");
}

/* RFC 2595 §4: STLS, only in AUTHORIZATION and only once */
static void cmd_stls(struct pop3_session *ps, const struct pop3_command *cmd)
{
	if (conn_is_tls(ps->c)) {
		pop3_err(ps, "Command not permitted when TLS active");
		return;
	}
	pop3_ok(ps, "Begin TLS negotiation now");
	if (conn_starttls(ps->c) < 0) {
		conn_log(ps->c, LOG_ERROR, "event=starttls_failed");
		conn_close(ps->c);
	}
}

static void cmd_noop(struct pop3_session *ps, const struct pop3_command *cmd)
{
	pop3_ok(ps, "");
}

static void cmd_quit(struct pop3_session *ps, const struct pop3_command *cmd)
{
	pop3_ok(ps, "postamt signing off");
	conn_close(ps->c);
}

static const struct pop3_cmd_def commands[] = {
	{ "CAPA", cmd_capa, POP3_AUTHORIZATION | POP3_TRANSACTION },
	{ "STLS", cmd_stls, POP3_AUTHORIZATION },
	{ "NOOP", cmd_noop, POP3_TRANSACTION },
	{ "QUIT", cmd_quit, POP3_AUTHORIZATION | POP3_TRANSACTION },
};

static void pop3_dispatch(struct pop3_session *ps, struct bytes line)
{
	struct pop3_command cmd;
	const char *error;
	if (pop3_parse_command(line, 255, &cmd, &error) < 0) {
		pop3_err(ps, error);
		ps->errors++;
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].keyword, cmd.keyword) != 0)
			continue;
		if (!(commands[i].states & ps->state)) {
			pop3_err(ps, "Command not valid in this state");
			ps->errors++;
			return;
		}
		commands[i].run(ps, &cmd);
		return;
	}
	pop3_err(ps, "Unknown command");
	ps->errors++;
}

static void pop3_read(struct pop3_session *ps)
{
	while (!conn_is_closing(ps->c)) {
		struct bytes line;
		int r = conn_read_line(ps->c, ps->s->line_max, &line);
		if (r == 0)
			return;
		if (r < 0) {
			conn_log(ps->c, LOG_WARN, "event=line_too_long limit=%zu", ps->s->line_max);
			pop3_err(ps, "Line too long");
			conn_close(ps->c);
			return;
		}
		pop3_dispatch(ps, line);
		if (ps->errors >= POP3_MAX_ERRORS) {
			conn_log(ps->c, LOG_WARN, "event=too_many_errors");
			pop3_err(ps, "Too many errors, closing connection");
			conn_close(ps->c);
		}
	}
}

static void *pop3_open(struct conn *c, void *ctx)
{
	struct pop3_session *ps = xcalloc(1, sizeof(*ps));
	ps->c = c;
	ps->l = ctx;
	ps->s = settings_get(ps->l->settings);
	ps->state = POP3_AUTHORIZATION;
	conn_set_timeout(c, ps->s->timeout_pop3);
	pop3_ok(ps, "postamt POP3 server ready");
	return ps;
}

static void pop3_refuse(struct conn *c, void *ctx)
{
	conn_puts(c, "-ERR [SYS/TEMP] Too many connections from your address, try again later\r\n");
}

static void pop3_event(void *session, enum conn_event ev)
{
	struct pop3_session *ps = session;
	switch (ev) {
	case CONN_DATA:
		pop3_read(ps);
		break;
	case CONN_TIMEOUT:
		pop3_err(ps, "Timeout, closing connection");
		conn_close(ps->c);
		break;
	case CONN_SHUTDOWN:
		pop3_err(ps, "[SYS/TEMP] Server shutting down, try again later");
		conn_close(ps->c);
		break;
	case CONN_TLS_READY:
	case CONN_DRAINED:
		break;
	case CONN_CLOSED:
		free(ps);
		break;
	}
}

const struct conn_handler pop3d_handler = {
	.proto = "pop3",
	.open = pop3_open,
	.event = pop3_event,
	.refuse = pop3_refuse,
};
