/* session.c: one IMAP connection: greeting, command framing with literals, dispatch,
 * asynchronous steps, live updates from store events, timeouts.
 *
 * RFC 9051 §7.1.1: the greeting is an untagged OK with the CAPABILITY response code.
 * §4.3: a synchronizing literal gets "+" only once the server accepts it; a literal
 * over the limit gets "NO [TOOBIG]" instead, and the client then abandons the command
 * (so the literal's bytes never arrive and are never read as a command). RFC 7888
 * §4: a non-synchronizing literal over the limit cannot be refused in band, so the
 * server says BYE and closes. §5.4: the autologout timer is at least 30 minutes once
 * authenticated (timeout.imap), shorter before login (timeout.imap_login).
 * Store events for the account arrive on the session's loop (store_subscribe): they
 * mark the view dirty, and the changes go out before the next tagged reply, or at
 * once during IDLE (RFC 2177). Asynchronous steps hold the connection (lib/conn's
 * session core); commands that take the input over (IDLE, AUTHENTICATE) or stream
 * their responses (FETCH) install continuations, so this file names no command. */
#include "session.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

#define IMAP_SESSION_ARENA 1024 /* the first chunk of the connection's arena */
#define IMAP_COMMAND_ARENA 2048 /* ... of the command's */

/* The handler's free callback: the connection is gone and no step holds it. */
static void session_free(void *session)
{
	struct imap_session *is = session;
	imap_session_state_free(is);
	free(is->idle_tag);
	free(is->saved);
	imap_reader_free(&is->rd);
	arena_free(&is->cmd_arena);
	arena_free(&is->arena);
	free(is);
}

static void command_end(struct imap_session *is)
{
	conn_mem_release(is->c); /* the command's literals are gone */
	imap_reader_reset(&is->rd);
	arena_clear(is->cmd_arena);
	is->tag = NULL;
	is->cmd_flags = 0;
	is->cmd_uid = false;
}

/* ------------------------------------------------------------ dispatch */

static void imap_dispatch(struct imap_session *is, struct bytes line)
{
	struct imap_command_line cl;
	const char *error;
	int r = imap_parse_command_line(line, &cl, &error);
	is->tag = arena_strndup(is->cmd_arena, cl.tag.p, cl.tag.len);
	if (r == 0) {
		command_end(is);
		return; /* empty line: ignored, as most servers do */
	}
	if (conn_command(is->c) < 0) {
		conn_puts(is->c, "* BYE [LIMIT] Too many commands in one session\r\n");
		conn_close(is->c);
		command_end(is);
		return;
	}
	if (r < 0) {
		imap_tagged(is, "BAD", "%s", error);
		imap_client_error(is);
		command_end(is);
		return;
	}
	struct imap_cmd cmd = { .tag = is->tag };
	imap_cur_init(&cmd.args, is->cmd_arena, cl.args);
	struct bytes name = cl.name;
	bool uid = false;
	if (bytes_ieq(name, "UID")) {
		uid = true;
		if (imap_cur_atom(&cmd.args, &name) < 0 || (!imap_cur_end(&cmd.args) && imap_cur_sp(&cmd.args) < 0)) {
			imap_tagged(is, "BAD", "UID needs a command");
			imap_client_error(is);
			command_end(is);
			return;
		}
	}
	const struct imap_cmd_def *def = imap_cmd_lookup(name);
	if (def == NULL || (uid && !(def->flags & IMAP_CMD_UID))) {
		imap_tagged(is, "BAD", "Unknown command");
		imap_client_error(is);
		command_end(is);
		return;
	}
	is->cmd_flags = def->flags;
	is->cmd_uid = uid;
	cmd.name = def->name;
	cmd.uid = uid;
	if (!(def->flags & is->state)) {
		if (is->state == IMAP_NOT_AUTHENTICATED)
			imap_tagged(is, "BAD", "Log in first");
		else if (def->flags & IMAP_SELECTED)
			imap_tagged(is, "BAD", "No mailbox selected");
		else
			imap_tagged(is, "BAD", "Command not valid in this state");
		imap_client_error(is);
		command_end(is);
		return;
	}
	if (is->env == NULL && is->state == IMAP_NOT_AUTHENTICATED &&
	    (def->flags & IMAP_ANY_STATE) == IMAP_NOT_AUTHENTICATED && strcmp(def->name, "STARTTLS") != 0) {
		imap_tagged(is, "NO", "[UNAVAILABLE] Mail store not available");
		command_end(is);
		return;
	}
	def->run(is, &cmd);
	/* a command that holds the connection ends at CONN_RELEASED; one that took the
	 * input over (IDLE, AUTHENTICATE) ends itself */
	if (conn_holds(is->c) == 0 && is->mode == IMAP_MODE_COMMAND)
		command_end(is);
}

/* Whether the command being read carries messages (for the literal limits): APPEND,
 * REPLACE or UID REPLACE (RFC 8508). */
static bool reading_message(struct imap_session *is)
{
	struct bytes cmd = imap_reader_command(&is->rd);
	const char *sp = memchr(cmd.p, ' ', cmd.len);
	if (sp == NULL)
		return false;
	struct bytes rest = { sp + 1, cmd.len - (size_t)(sp + 1 - cmd.p) };
	if (bytes_iprefix(rest, "UID ")) {
		rest.p += 4;
		rest.len -= 4;
		return bytes_iprefix(rest, "REPLACE ");
	}
	return bytes_iprefix(rest, "APPEND ") || bytes_iprefix(rest, "REPLACE ");
}

/* Before login, whether the command being read may carry literals at all: only the
 * commands valid in the not-authenticated state (LOGIN's user name and password, an
 * ID parameter). APPEND and everything else needing a login get no "+". */
static bool preauth_literal_allowed(struct imap_session *is)
{
	struct bytes cmd = imap_reader_command(&is->rd);
	const char *sp = memchr(cmd.p, ' ', cmd.len);
	if (sp == NULL)
		return false;
	struct bytes rest = { sp + 1, cmd.len - (size_t)(sp + 1 - cmd.p) };
	size_t n = 0;
	while (n < rest.len && rest.p[n] != ' ' && rest.p[n] != '\r')
		n++;
	const struct imap_cmd_def *def = imap_cmd_lookup((struct bytes){ rest.p, n });
	return def != NULL && (def->flags & IMAP_NOT_AUTHENTICATED);
}

static void literal_check(struct imap_session *is)
{
	struct imap_reader *rd = &is->rd;
	bool message = reading_message(is);
	uint64_t have = imap_reader_size(rd);
	uint64_t size = rd->lit_size;
	bool ok, login_first = false;
	if (is->state == IMAP_NOT_AUTHENTICATED) {
		/* Finding 2 of the December 2026 review: before login no message literals
		 * and nothing from the shared message budget; the whole command, literals
		 * included, stays within limits.line_length. A synchronizing literal of a
		 * command that needs a login gets no "+"; a non-synchronizing one (RFC 7888
		 * §4) cannot be refused in band: within the bound it is read and the command
		 * is then answered BAD, beyond it the server says BYE. */
		message = false;
		ok = size <= is->s->line_max && have + size <= is->s->line_max;
		if (ok && rd->lit_sync && !preauth_literal_allowed(is)) {
			ok = false;
			login_first = true;
		}
	} else if (message) { /* RFC 3502 §6.3.11 / RFC 7889: per message and for the whole command */
		ok = size <= is->s->message_max && have + size <= imap_append_total_max(is->s) &&
		     rd->literals <= IMAP_APPEND_MESSAGES_MAX;
	} else {
		ok = size <= is->s->imap_command_max && have + size <= is->s->imap_command_max;
	}
	/* limits.message_memory: the literals of all connections together */
	bool busy = ok && message && conn_mem_reserve(is->c, have + size) == 0;
	if (busy)
		ok = false;
	if (ok) {
		imap_reader_literal_accept(rd);
		if (rd->lit_sync)
			conn_puts(is->c, "+ Ready for literal data\r\n");
		return;
	}
	struct imap_command_line cl;
	const char *error;
	struct bytes cmd = imap_reader_command(rd);
	const char *eol = memchr(cmd.p, '\r', cmd.len);
	struct bytes first = { cmd.p, eol ? (size_t)(eol - cmd.p) : cmd.len };
	bool tagged = imap_parse_command_line(first, &cl, &error) > 0;
	/* RFC 5530: TOOBIG for the client's literal, UNAVAILABLE for the server's memory */
	const char *status = login_first ? "BAD" : "NO";
	const char *why = login_first ? "Log in first"
			  : busy      ? "[UNAVAILABLE] Too many messages arriving at once, try again later"
				      : "[TOOBIG] Literal too big";
	conn_log(is->c, LOG_WARN, "event=%s size=%llu",
		 login_first ? "literal_before_login" : busy ? "message_memory_full" : "literal_too_big",
		 (unsigned long long)size);
	if (!rd->lit_sync) {
		conn_printf(is->c, "* BYE %s\r\n", why);
		conn_close(is->c);
		return;
	}
	if (tagged)
		conn_printf(is->c, "%.*s %s %s\r\n", (int)cl.tag.len, cl.tag.p, status, why);
	else
		conn_printf(is->c, "* %s %s\r\n", status, why);
	conn_mem_release(is->c);
	imap_reader_reset(rd);
	if (!busy)
		imap_client_error(is);
}

static void imap_input(struct imap_session *is)
{
	while (conn_may_read(is->c, NULL)) {
		size_t n = conn_input_len(is->c);
		if (n == 0)
			return;
		const char *p = conn_input_peek(is->c, n);
		size_t used;
		int r = imap_reader_feed(&is->rd, p, n, &used);
		conn_input_consume(is->c, used);
		switch (r) {
		case IMAP_READ_MORE:
			return;
		case IMAP_READ_TOO_LONG:
			conn_log(is->c, LOG_WARN, "event=line_too_long limit=%zu", is->rd.line_max);
			conn_puts(is->c, "* BYE [LIMIT] Command line too long\r\n");
			conn_close(is->c);
			return;
		case IMAP_READ_LITERAL:
			literal_check(is);
			break;
		case IMAP_READ_COMMAND:
			imap_dispatch(is, imap_reader_command(&is->rd));
			break;
		}
	}
}

/* ------------------------------------------------------------ connection events */

static void *imap_open(struct conn *c, void *ctx)
{
	struct imap_session *is = xcalloc(1, sizeof(*is));
	is->c = c;
	is->l = ctx;
	is->env = is->l->env;
	is->s = settings_get(is->l->settings);
	/* small first chunks: most connections wait in IDLE most of the time, and a
	 * command that needs more gets a chunk that goes when it ends */
	is->arena = arena_new_sized(IMAP_SESSION_ARENA);
	is->cmd_arena = arena_new_sized(IMAP_COMMAND_ARENA);
	is->state = IMAP_NOT_AUTHENTICATED;
	imap_reader_init(&is->rd, is->s->line_max);
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
		imap_input(is);
		break;
	case CONN_TIMEOUT:
		conn_puts(is->c, "* BYE Autologout; idle for too long\r\n");
		conn_close(is->c);
		break;
	case CONN_SHUTDOWN: /* the core waits for the step in flight to reply */
		conn_puts(is->c, "* BYE [UNAVAILABLE] Server shutting down\r\n");
		conn_close(is->c);
		break;
	case CONN_RELEASED: /* the step that held the connection is over */
		if (is->mode == IMAP_MODE_COMMAND)
			command_end(is);
		break;
	case CONN_DRAINED:
	case CONN_TLS_READY:
		break;
	case CONN_CLOSED: /* session_free follows once no step holds the conn */
		imap_session_detach(is);
		break;
	}
}

const struct conn_handler imapd_handler = {
	.proto = "imap",
	.open = imap_open,
	.event = imap_event,
	.refuse = imap_refuse,
	.free = session_free,
};
