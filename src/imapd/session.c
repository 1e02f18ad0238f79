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
#include "login.h"
#include "sasl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDLE_NOTIFY_S 120      /* "* OK Still here" during IDLE, as Dovecot does */
#define IDLE_TICK_MS (15 * 1000)

void imap_write(struct imap_session *is, const char *s, size_t len)
{
	conn_write(is->c, s, len);
}

void imap_printf(struct imap_session *is, const char *fmt, ...)
{
	if (conn_is_closed(is->c))
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s = arena_vprintf(is->cmd_arena, fmt, ap);
	va_end(ap);
	conn_write(is->c, s, strlen(s));
}

void imap_client_error(struct imap_session *is)
{
	if (conn_client_error(is->c) < 0) {
		conn_puts(is->c, "* BYE Too many invalid commands\r\n");
		conn_close(is->c);
	}
}

void imap_tagged(struct imap_session *is, const char *status, const char *fmt, ...)
{
	if (conn_is_closed(is->c))
		return;
	if (is->selected && is->state == IMAP_SELECTED)
		imap_view_sync(is, !(is->cmd_flags & IMAP_CMD_NO_EXPUNGE) || is->cmd_uid);
	if (is->notify != NULL)
		imap_notify_flush(is);
	va_list ap;
	va_start(ap, fmt);
	char *text = arena_vprintf(is->cmd_arena, fmt, ap);
	va_end(ap);
	conn_printf(is->c, "%s %s %s\r\n", is->tag ? is->tag : "*", status, text);
}

void imap_condstore_enable(struct imap_session *is)
{
	if (is->condstore)
		return;
	is->condstore = true;
	if (is->selected)
		imap_printf(is, "* OK [HIGHESTMODSEQ %llu] Highest\r\n", (unsigned long long)is->view.modseq);
}

void imap_bad_args(struct imap_session *is, struct imap_cmd *cmd)
{
	imap_tagged(is, "BAD", "%s", cmd->args.error ? cmd->args.error : "Invalid arguments");
	imap_client_error(is);
}

void imap_store_error(struct imap_session *is, int r, const char *error)
{
	switch (r) {
	case STORE_ENOTFOUND:
		imap_tagged(is, "NO", "[NONEXISTENT] %s", error ? error : "No such mailbox");
		break;
	case STORE_EEXISTS:
		imap_tagged(is, "NO", "[ALREADYEXISTS] %s", error ? error : "Mailbox already exists");
		break;
	case STORE_EOVERQUOTA:
		conn_log(is->c, LOG_WARN, "event=quota_rejected user=%s", is->user ? is->user : "-");
		imap_tagged(is, "NO", "[OVERQUOTA] Quota exceeded");
		break;
	case STORE_EINVAL:
		imap_tagged(is, "NO", "[CANNOT] %s", error ? error : "Invalid argument");
		break;
	case STORE_ENOTALLOWED:
		imap_tagged(is, "NO", "[CANNOT] %s", error ? error : "Not allowed");
		break;
	case STORE_ETOOBIG:
		imap_tagged(is, "NO", "[TOOBIG] Message too big");
		break;
	case STORE_ELIMIT:
		imap_tagged(is, "NO", "[LIMIT] %s", error ? error : "Limit reached");
		break;
	case STORE_ENOSPACE: /* the server's disk, not the user's quota: see docs/operations.md */
		imap_tagged(is, "NO", "[OVERQUOTA] The server's disk is full, try again later");
		break;
	default:
		conn_log(is->c, LOG_ERROR, "event=store_error error=\"%s\"", error ? error : "");
		imap_tagged(is, "NO", "[SERVERBUG] Internal error, try again later");
		break;
	}
}

void imap_write_capabilities(struct imap_session *is)
{
	conn_puts(is->c, "IMAP4rev1 IMAP4rev2");
	if (is->state == IMAP_NOT_AUTHENTICATED) {
		if (!conn_is_tls(is->c))
			conn_puts(is->c, " STARTTLS");
		if (!conn_may_send_password(is->c))
			conn_puts(is->c, " LOGINDISABLED");
		else
			for (const char *m = AUTH_SASL_MECHS; *m != '\0';) { /* AUTH=SCRAM-SHA-256 AUTH=PLAIN ... */
			size_t n = strcspn(m, " ");
			conn_printf(is->c, " AUTH=%.*s", (int)n, m);
			m += n + (m[n] == ' ');
		}
	}
	conn_puts(is->c, " SASL-IR LITERAL+ LITERAL- UTF8=ACCEPT ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MULTIAPPEND MOVE REPLACE CHILDREN"
			 " SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE BINARY CATENATE"
			 " QUOTA QUOTA=RES-STORAGE CONDSTORE QRESYNC ESEARCH SEARCHRES WITHIN OBJECTID"
			 " SAVEDATE PREVIEW SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT"
			 " CONTEXT=SEARCH CONTEXT=SORT NOTIFY"
			 " THREAD=REFERENCES COMPRESS=DEFLATE");
	conn_printf(is->c, " APPENDLIMIT=%llu", (unsigned long long)is->s->message_max);
}

/* ------------------------------------------------------------ mailbox names */

int imap_mailbox_arg(struct imap_session *is, const struct imap_str *in, const char **name_r, const char **error_r)
{
	if (memchr(in->s, '\0', in->len) != NULL) {
		*error_r = "Mailbox name contains NUL";
		return -1;
	}
	const char *utf8 = in->s;
	if (!is->rev2 && !is->utf8) {
		/* IMAP4rev1: modified UTF-7 (RFC 3501 §5.1.3), strictly */
		struct buf b = { 0 };
		int r = imap_utf7_decode(&b, in->s, in->len);
		if (r > 0)
			utf8 = arena_strndup(is->cmd_arena, buf_str(&b), b.len);
		buf_free(&b);
		if (r < 0) {
			*error_r = "Mailbox name is not valid modified UTF-7";
			return -1;
		}
	}
	const char *canon, *err;
	if (store_mailbox_name_check(is->cmd_arena, utf8, &canon, &err) < 0) {
		*error_r = arena_strdup(is->cmd_arena, err);
		return -1;
	}
	*name_r = canon;
	return 1;
}

void imap_put_mailbox_name(struct imap_session *is, struct buf *b, const char *utf8)
{
	if (is->rev2 || is->utf8)
		imap_put_string(b, utf8, strlen(utf8));
	else
		imap_put_mailbox(b, utf8);
}

/* ------------------------------------------------------------ asynchronous steps */

/* The handler's free callback: the connection is gone and no step holds it. */
static void session_free(void *session)
{
	struct imap_session *is = session;
	imap_view_close(is);
	imap_notify_end(is);
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

int imap_continuation_line(struct imap_session *is, const struct conn_continuation *k, struct bytes *line_r)
{
	if (!conn_may_read(is->c, k))
		return 0;
	int r = conn_read_line(is->c, is->s->line_max, line_r);
	if (r < 0) {
		conn_puts(is->c, "* BYE [LIMIT] Line too long\r\n");
		conn_close(is->c);
	}
	return r;
}

struct async_job {
	struct imap_session *is;
	imap_work_fn *work, *done;
	void *ctx;
};

static void job_work(void *arg)
{
	struct async_job *j = arg;
	j->work(j->is, j->ctx);
}

static void job_done(void *arg)
{
	struct async_job *j = arg;
	struct imap_session *is = j->is;
	struct conn *c = is->c;
	if (!conn_is_closed(c))
		j->done(is, j->ctx);
	free(j);
	conn_release(c);
}

void imap_run_async(struct imap_session *is, imap_work_fn *work, imap_work_fn *done, void *ctx)
{
	struct async_job *j = xcalloc(1, sizeof(*j));
	*j = (struct async_job){ is, work, done, ctx };
	conn_hold(is->c);
	pool_submit(is->env->pool, job_work, job_done, conn_loop(is->c), j);
}

/* ------------------------------------------------------------ events and IDLE */

static void on_store_event(void *arg, const struct store_event *ev)
{
	struct imap_session *is = arg;
	if (conn_is_closed(is->c))
		return;
	if (is->notify != NULL)
		imap_notify_event(is, ev); /* RFC 5465: the other mailboxes */
	if (!is->selected || ev->mailbox_id != is->view.mailbox_id)
		return;
	is->view.dirty = true;
	bool delayed = false;
	if (is->mode == IMAP_MODE_IDLE && conn_holds(is->c) == 0) {
		imap_view_sync(is, true);
		arena_clear(is->cmd_arena);
	} else if (imap_notify_selected(is, &delayed) && imap_notify_may_write(is) && is->state == IMAP_SELECTED) {
		/* NOTIFY (selected ...): at once, also between commands */
		imap_view_sync(is, !delayed);
		arena_clear(is->cmd_arena);
	}
}

void imap_logged_in(struct imap_session *is, int64_t account_id, const char *address)
{
	is->user = arena_strdup(is->arena, address);
	is->account_id = account_id;
	is->state = IMAP_AUTHENTICATED;
	conn_set_timeout(is->c, is->s->timeout_imap);
	/* a command line without literals may now be as long as a whole command (a 31 KB
	 * ID, RFC 2971; issue 16); before login it stays at limits.line_length */
	if (is->s->imap_command_max > is->rd.line_max)
		is->rd.line_max = is->s->imap_command_max;
	is->sub = store_subscribe(is->env->store, account_id, 0, conn_loop(is->c), on_store_event, is);
	conn_log(is->c, LOG_INFO, "event=login user=%s", address);
}

static int64_t mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* Every IDLE_TICK_MS while the loop has IDLE sessions: "still here" to those that
 * heard nothing for IDLE_NOTIFY_S. */
static void idle_tick(void *arg)
{
	struct imapd_idlers *il = arg;
	il->armed = false;
	if (il->head == NULL)
		return;
	int64_t now = mono_seconds();
	for (struct imap_session *is = il->head; is != NULL; is = is->idle_next) {
		if (now - is->idle_notified >= IDLE_NOTIFY_S) {
			conn_puts(is->c, "* OK Still here\r\n");
			is->idle_notified = now;
		}
	}
	il->armed = true;
	loop_post_after(il->loop, IDLE_TICK_MS, idle_tick, il);
}

void imap_idle_start(struct imap_session *is)
{
	is->mode = IMAP_MODE_IDLE;
	if (is->env == NULL || is->env->users == NULL || is->idlers != NULL)
		return;
	struct imapd_idlers *il = imapd_idlers_for(is->env->users, conn_loop(is->c));
	is->idlers = il;
	is->idle_notified = mono_seconds();
	is->idle_prev = NULL;
	is->idle_next = il->head;
	if (il->head != NULL)
		il->head->idle_prev = is;
	il->head = is;
	if (!il->armed) {
		il->armed = true;
		loop_post_after(il->loop, IDLE_TICK_MS, idle_tick, il);
	}
}

void imap_idle_stop(struct imap_session *is)
{
	struct imapd_idlers *il = is->idlers;
	if (il == NULL)
		return;
	if (is->idle_prev != NULL)
		is->idle_prev->idle_next = is->idle_next;
	else
		il->head = is->idle_next;
	if (is->idle_next != NULL)
		is->idle_next->idle_prev = is->idle_prev;
	is->idlers = NULL;
	is->idle_prev = is->idle_next = NULL;
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
	is->arena = arena_new();
	is->cmd_arena = arena_new();
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
	case CONN_CLOSED:
		if (is->sub != NULL)
			store_unsubscribe(&is->sub);
		if (is->user_counted)
			imapd_users_release(is->env->users, is->user, conn_peer_ip(is->c));
		is->user_counted = false;
		imap_idle_stop(is); /* session_free follows once no step holds the conn */
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
