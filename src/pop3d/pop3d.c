/* pop3d.c: POP3 sessions and the command table (one file, DESIGN.md §4.2).
 *
 * States (RFC 1939 §3): AUTHORIZATION after the greeting, TRANSACTION after login,
 * UPDATE after QUIT. The table lists each command with the states it is allowed in.
 * At login the INBOX is listed once (the maildrop snapshot); DELE only marks, and the
 * marked messages are expunged through the store in the UPDATE state, so a dropped
 * connection deletes nothing and an expunge here is the same event IMAP and JMAP
 * see. RETR and TOP stream the stored message in windows of a mail_reader (the one
 * body reader, src/mail/mail_reader.h) through the POP3 stuffing codec as the client
 * reads, so a 50 MiB message costs no more than a window of memory. */
#include "pop3d.h"

#include "arena.h"
#include "auth.h"
#include "log.h"
#include "login.h"
#include "mail_reader.h"
#include "sasl.h"
#include "pop3_parse.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POP3_COMMAND_MAX 255 /* RFC 2449 §4: octets of a command line, with CRLF */
#define POP3_CHUNK (64 * 1024)
#define POP3_OUTPUT_HIGH (256 * 1024)

/* ---- maildrop locks ---- */

struct pop3_locks {
	pthread_mutex_t lock;
	int64_t *ids;
	size_t n, cap;
};

struct pop3_locks *pop3_locks_new(void)
{
	struct pop3_locks *l = xcalloc(1, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

void pop3_locks_free(struct pop3_locks **lp)
{
	struct pop3_locks *l = *lp;
	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l->ids);
	free(l);
	*lp = NULL;
}

bool pop3_lock(struct pop3_locks *l, int64_t account_id)
{
	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->n; i++) {
		if (l->ids[i] == account_id) {
			pthread_mutex_unlock(&l->lock);
			return false;
		}
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->ids = xrealloc(l->ids, l->cap * sizeof(*l->ids));
	}
	l->ids[l->n++] = account_id;
	pthread_mutex_unlock(&l->lock);
	return true;
}

void pop3_unlock(struct pop3_locks *l, int64_t account_id)
{
	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->n; i++) {
		if (l->ids[i] == account_id) {
			l->ids[i] = l->ids[--l->n];
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
}

/* ---- session ---- */

enum pop3_state { POP3_AUTHORIZATION = 1, POP3_TRANSACTION = 2 };

struct pop3_msg {
	uint32_t uid;
	uint64_t size;
	bool deleted;
};

struct pop3_session {
	struct conn *c;
	const struct pop3d_listener *l;
	const struct pop3d_env *env;
	const struct settings *s;
	struct arena *arena;     /* lives as long as the connection: the maildrop snapshot */
	struct arena *cmd_arena; /* cleared before every command (an AUTH exchange is one command) */
	enum pop3_state state;
	char *user;              /* after USER: user_buf, else NULL */
	char user_buf[POP3_COMMAND_MAX]; /* USER's name, replaced by the next USER */
	struct auth_sasl *sasl;  /* AUTH's SASL exchange, in cmd_arena (auth/sasl.h) */
	/* TRANSACTION */
	int64_t account_id;
	bool locked;
	int64_t mailbox_id;
	uint32_t uidvalidity;
	struct pop3_msg *msgs;
	size_t nmsgs;
	/* a RETR/TOP being streamed */
	int fd;
	struct mail_reader rd;     /* the message's bytes, MAIL_X_NONE windows */
	struct buf raw;            /* one window */
	struct pop3_stuffer stuffer;
	struct buf chunk;
};

struct pop3_cmd_def {
	const char *keyword;
	void (*run)(struct pop3_session *ps, const struct pop3_command *cmd);
	unsigned states;
};

static void pop3_ok(struct pop3_session *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pop3_ok(struct pop3_session *ps, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	conn_printf(ps->c, "+OK %s\r\n", text);
}

static void pop3_err(struct pop3_session *ps, const char *text)
{
	conn_printf(ps->c, "-ERR %s\r\n", text);
}

static void pop3_bad(struct pop3_session *ps, const char *text)
{
	pop3_err(ps, text);
	if (conn_client_error(ps->c) < 0) {
		pop3_err(ps, "Too many errors, closing connection");
		conn_close(ps->c);
	}
}

/* The handler's free callback: the connection is gone and no step holds it. */
static void session_free(void *session)
{
	struct pop3_session *ps = session;
	if (ps->locked)
		pop3_unlock(ps->env->locks, ps->account_id);
	if (ps->fd >= 0)
		close(ps->fd);
	buf_free(&ps->chunk);
	buf_free(&ps->raw);
	arena_free(&ps->cmd_arena);
	arena_free(&ps->arena);
	free(ps);
}

/* A line for the reader k (NULL: the command reader, else a continuation): 1 with
 * *line_r, 0 when none is buffered or k may not read now, -1 when it is over
 * limits.line_length (answered, closing). */
static int read_line(struct pop3_session *ps, const struct conn_continuation *k, struct bytes *line_r)
{
	if (!conn_may_read(ps->c, k))
		return 0;
	int r = conn_read_line(ps->c, ps->s->line_max, line_r);
	if (r < 0) {
		conn_log(ps->c, LOG_WARN, "event=line_too_long limit=%zu", ps->s->line_max);
		pop3_err(ps, "Line too long");
		conn_close(ps->c);
	}
	return r;
}

/* A message number argument (RFC 1939: "msg"): 1 with the index, or -1 after
 * answering the error. */
static int msg_arg(struct pop3_session *ps, struct bytes arg, size_t *idx_r)
{
	uint64_t n;
	if (buf_parse_uint64(arg, UINT32_MAX, &n) < 0) {
		pop3_bad(ps, "Invalid message number");
		return -1;
	}
	if (n == 0 || n > ps->nmsgs) {
		pop3_bad(ps, "No such message");
		return -1;
	}
	if (ps->msgs[n - 1].deleted) {
		pop3_bad(ps, "Message is deleted");
		return -1;
	}
	*idx_r = (size_t)n - 1;
	return 1;
}

/* ---- AUTHORIZATION ---- */

static void cmd_capa(struct pop3_session *ps, const struct pop3_command *cmd)
{
	conn_puts(ps->c, "+OK Capability list follows\r\n");
	if (ps->state & POP3_AUTHORIZATION) {
		if (!conn_is_tls(ps->c))
			conn_puts(ps->c, "STLS\r\n");
		if (conn_may_send_password(ps->c))
			conn_puts(ps->c, "USER\r\nSASL " AUTH_SASL_MECHS "\r\n");
	}
	conn_puts(ps->c, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE NEVER\r\n"
			 "LOGIN-DELAY 0\r\nUTF8\r\nIMPLEMENTATION postamt\r\n.\r\n");
}

/* RFC 2595 §4: STLS, only in AUTHORIZATION and only once */
static void cmd_stls(struct pop3_session *ps, const struct pop3_command *cmd)
{
	if (conn_is_tls(ps->c)) {
		pop3_bad(ps, "Command not permitted when TLS active");
		return;
	}
	pop3_ok(ps, "Begin TLS negotiation now");
	if (conn_starttls(ps->c) < 0) {
		conn_log(ps->c, LOG_ERROR, "event=starttls_failed");
		conn_close(ps->c);
		return;
	}
	ps->user = NULL;
}

/* RFC 6856 §2: UTF8 allows UTF-8 in user names, passwords and messages */
static void cmd_utf8(struct pop3_session *ps, const struct pop3_command *cmd)
{
	pop3_ok(ps, "UTF8 enabled");
}

static bool plaintext_refused(struct pop3_session *ps)
{
	if (conn_may_send_password(ps->c))
		return false;
	pop3_bad(ps, "[AUTH] Plaintext authentication disallowed on non-secure connections; use STLS");
	return true;
}

static void snapshot(struct pop3_session *ps)
{
	struct store_mailbox mb;
	const char *error;
	int r = store_mailbox_get(ps->env->store, ps->arena, ps->account_id, "INBOX", &mb, &error);
	struct store_msg *msgs = NULL;
	size_t n = 0;
	if (r > 0)
		r = store_msg_list(ps->env->store, ps->arena, ps->account_id, mb.id, NULL, 0, &msgs, &n, &error);
	if (r <= 0) {
		conn_log(ps->c, LOG_ERROR, "event=store_error op=maildrop error=%s", LOG_Q(r < 0 ? error : "no INBOX"));
		pop3_err(ps, "[SYS/TEMP] Cannot open the maildrop");
		conn_close(ps->c);
		return;
	}
	ps->mailbox_id = mb.id;
	ps->uidvalidity = mb.uidvalidity;
	ps->msgs = arena_alloc(ps->arena, (n + 1) * sizeof(*ps->msgs));
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		ps->msgs[i] = (struct pop3_msg){ msgs[i].uid, msgs[i].size, false };
		total += msgs[i].size;
	}
	ps->nmsgs = n;
	ps->state = POP3_TRANSACTION;
	conn_set_timeout(ps->c, ps->s->timeout_pop3);
	pop3_ok(ps, "Logged in, %zu messages (%" PRIu64 " octets)", n, total);
}

static void sasl_read(void *arg);
/* AUTH waiting for a response line owns the input */
static const struct conn_continuation sasl_k = { .data = sasl_read };

static void login_result(struct pop3_session *ps, const struct auth_login *login)
{
	switch (login->result) {
	case AUTH_LOGIN_CONTINUE:
		conn_continue(ps->c, &sasl_k, ps);
		conn_printf(ps->c, "+ %s\r\n", login->challenge);
		return;
	case AUTH_LOGIN_OK:
		if (!pop3_lock(ps->env->locks, login->account_id)) {
			pop3_err(ps, "[IN-USE] Mailbox is locked by another POP3 session");
			return;
		}
		ps->locked = true;
		ps->account_id = login->account_id;
		snapshot(ps);
		break;
	case AUTH_LOGIN_FAILED:
		pop3_bad(ps, login->bare_name ? "[AUTH] Authentication failed" AUTH_BARE_NAME_HINT
					       : "[AUTH] Authentication failed");
		break;
	case AUTH_LOGIN_LIMITED:
		pop3_bad(ps, "[SYS/TEMP] Too many failed logins from your address, try again later");
		break;
	case AUTH_LOGIN_TEMPFAIL:
		pop3_err(ps, "[SYS/TEMP] Temporary authentication failure");
		break;
	}
	ps->user = NULL;
	ps->sasl = NULL;
}

static void login_done(void *arg, const struct auth_login *login)
{
	struct pop3_session *ps = arg;
	struct conn *c = ps->c;
	if (!conn_is_closed(c))
		login_result(ps, login);
	conn_release(c);
}

static void start_login(struct pop3_session *ps, const char *user, const char *password)
{
	conn_hold(ps->c);
	auth_login(ps->env->auth, conn_loop(ps->c), "pop3", conn_peer_ip(ps->c), user, password, login_done, ps);
}

static void cmd_user(struct pop3_session *ps, const struct pop3_command *cmd)
{
	if (plaintext_refused(ps))
		return;
	if (cmd->nargs != 1) {
		pop3_bad(ps, "Syntax: USER name");
		return;
	}
	/* a fixed buffer, overwritten: repeated USERs must not accumulate. The command
	 * line is shorter than POP3_COMMAND_MAX (pop3_dispatch), so is its argument. */
	size_t n = cmd->args[0].len < sizeof(ps->user_buf) ? cmd->args[0].len : sizeof(ps->user_buf) - 1;
	memcpy(ps->user_buf, cmd->args[0].p, n);
	ps->user_buf[n] = '\0';
	ps->user = ps->user_buf;
	pop3_ok(ps, "Send your password");
}

static void cmd_pass(struct pop3_session *ps, const struct pop3_command *cmd)
{
	if (plaintext_refused(ps))
		return;
	if (ps->user == NULL) {
		pop3_bad(ps, "Send USER first");
		return;
	}
	if (cmd->rest.len == 0) {
		pop3_bad(ps, "Syntax: PASS password");
		return;
	}
	/* RFC 1939 §7: the password may contain spaces: take the rest of the line */
	char *pw = arena_strndup(ps->cmd_arena, cmd->rest.p, cmd->rest.len);
	start_login(ps, ps->user, pw);
	memset(pw, 0, cmd->rest.len);
}

/* What the SASL exchange said after AUTH or a response line. */
static void sasl_next(struct pop3_session *ps, int status, const char *text)
{
	switch (status) {
	case AUTH_SASL_CHALLENGE:
		conn_continue(ps->c, &sasl_k, ps);
		conn_printf(ps->c, "+ %s\r\n", text);
		return;
	case AUTH_SASL_CHECK:
		conn_hold(ps->c);
		auth_sasl_check(ps->env->auth, conn_loop(ps->c), "pop3", conn_peer_ip(ps->c), ps->sasl, login_done, ps);
		return;
	case AUTH_SASL_AUTHZID:
		pop3_bad(ps, "[AUTH] Authorization identity must be empty or equal the user");
		break;
	case AUTH_SASL_NOMECH:
		pop3_bad(ps, "Unsupported authentication mechanism");
		break;
	default: /* malformed, or "*" (RFC 5034 §4: -ERR) */
		pop3_bad(ps, text);
		break;
	}
	ps->sasl = NULL;
}

static void sasl_read(void *arg)
{
	struct pop3_session *ps = arg;
	struct bytes line;
	if (read_line(ps, &sasl_k, &line) <= 0)
		return;
	conn_continue_end(ps->c);
	const char *text;
	int status = auth_sasl_step(ps->sasl, line, &text);
	sasl_next(ps, status, text);
}

/* RFC 5034 §4: AUTH mechanism [initial-response]; "AUTH" alone lists the mechanisms
 * (the older RFC 1734 form some clients still send). */
static void cmd_auth(struct pop3_session *ps, const struct pop3_command *cmd)
{
	if (cmd->nargs == 0) {
		conn_puts(ps->c, "+OK\r\n");
		for (const char *m = AUTH_SASL_MECHS; *m != '\0';) {
			size_t n = strcspn(m, " ");
			conn_printf(ps->c, "%.*s\r\n", (int)n, m);
			m += n + (m[n] == ' ');
		}
		conn_puts(ps->c, ".\r\n");
		return;
	}
	if (!conn_may_send_password(ps->c)) {
		pop3_bad(ps, "[AUTH] Authentication requires TLS; use STLS");
		return;
	}
	if (cmd->nargs > 2) {
		pop3_bad(ps, "Syntax: AUTH mechanism [initial-response]");
		return;
	}
	const char *text;
	int status = auth_sasl_start(ps->cmd_arena, cmd->args[0], cmd->nargs == 2 ? &cmd->args[1] : NULL, &ps->sasl,
				     &text);
	sasl_next(ps, status, text);
}

/* ---- TRANSACTION ---- */

static void cmd_stat(struct pop3_session *ps, const struct pop3_command *cmd)
{
	size_t n = 0;
	uint64_t total = 0;
	for (size_t i = 0; i < ps->nmsgs; i++) {
		if (!ps->msgs[i].deleted) {
			n++;
			total += ps->msgs[i].size;
		}
	}
	pop3_ok(ps, "%zu %" PRIu64, n, total);
}

static void cmd_list_uidl(struct pop3_session *ps, const struct pop3_command *cmd, bool uidl)
{
	if (cmd->nargs > 1) {
		pop3_bad(ps, uidl ? "Syntax: UIDL [msg]" : "Syntax: LIST [msg]");
		return;
	}
	if (cmd->nargs == 1) {
		size_t i;
		if (msg_arg(ps, cmd->args[0], &i) < 0)
			return;
		if (uidl)
			pop3_ok(ps, "%zu %" PRIu32 ".%" PRIu32, i + 1, ps->uidvalidity, ps->msgs[i].uid);
		else
			pop3_ok(ps, "%zu %" PRIu64, i + 1, ps->msgs[i].size);
		return;
	}
	conn_puts(ps->c, "+OK\r\n");
	for (size_t i = 0; i < ps->nmsgs; i++) {
		if (ps->msgs[i].deleted)
			continue;
		if (uidl)
			conn_printf(ps->c, "%zu %" PRIu32 ".%" PRIu32 "\r\n", i + 1, ps->uidvalidity, ps->msgs[i].uid);
		else
			conn_printf(ps->c, "%zu %" PRIu64 "\r\n", i + 1, ps->msgs[i].size);
	}
	conn_puts(ps->c, ".\r\n");
}

static void cmd_list(struct pop3_session *ps, const struct pop3_command *cmd)
{
	cmd_list_uidl(ps, cmd, false);
}

static void cmd_uidl(struct pop3_session *ps, const struct pop3_command *cmd)
{
	cmd_list_uidl(ps, cmd, true);
}

/* Writes the next chunks of the message being sent while the output is short. The
 * transfer holds the connection and owns its drained and close events. */
static void stream_more(struct pop3_session *ps);
static void stream_drained(void *arg)
{
	stream_more(arg);
}

/* The connection went mid-transfer (or a read error closed it). */
static void stream_closed(void *arg)
{
	struct pop3_session *ps = arg;
	if (ps->fd >= 0) {
		mail_reader_free(&ps->rd);
		close(ps->fd);
		ps->fd = -1;
	}
	conn_release(ps->c);
}

static const struct conn_continuation stream_k = { .drained = stream_drained, .closed = stream_closed };

static void stream_more(struct pop3_session *ps)
{
	while (ps->fd >= 0 && conn_output_len(ps->c) < POP3_OUTPUT_HIGH) {
		buf_reset(&ps->raw);
		int r = mail_reader_next(&ps->rd, &ps->raw);
		if (r < 0) {
			/* the client already has part of the message: the only honest end */
			conn_log(ps->c, LOG_ERROR, "event=read_error error=%s", LOG_Q(strerror(errno)));
			conn_close(ps->c); /* stream_closed ends the transfer */
			return;
		}
		buf_reset(&ps->chunk);
		if (r > 0)
			pop3_stuff(&ps->stuffer, (struct bytes){ ps->raw.data, ps->raw.len }, &ps->chunk);
		bool end = r == 0 || ps->stuffer.done || ps->rd.off >= ps->rd.end; /* no extra turn */
		if (end)
			pop3_stuff_finish(&ps->stuffer, &ps->chunk);
		conn_write(ps->c, ps->chunk.data, ps->chunk.len);
		if (end) {
			mail_reader_free(&ps->rd);
			close(ps->fd);
			ps->fd = -1;
			buf_free(&ps->raw);
			conn_want_drained(ps->c, false);
			conn_continue_end(ps->c);
			conn_release(ps->c);
			return;
		}
	}
	conn_want_drained(ps->c, true);
}

static void send_message(struct pop3_session *ps, size_t i, long body_lines)
{
	int fd;
	uint64_t size;
	const char *error;
	int r = store_msg_open(ps->env->store, ps->account_id, ps->mailbox_id, ps->msgs[i].uid, &fd, &size, &error);
	if (r == 0) {
		pop3_err(ps, "[SYS/PERM] Message was removed by another session");
		return;
	}
	if (r < 0) {
		conn_log(ps->c, LOG_ERROR, "event=store_error op=open error=%s", LOG_Q(error));
		pop3_err(ps, "[SYS/TEMP] Cannot read the message");
		return;
	}
	ps->fd = fd;
	mail_reader_init(&ps->rd, fd, 0, size, MAIL_X_NONE, POP3_CHUNK);
	pop3_stuff_init(&ps->stuffer, body_lines);
	if (body_lines < 0)
		pop3_ok(ps, "%" PRIu64 " octets", size);
	else
		pop3_ok(ps, "Top of message follows");
	conn_hold(ps->c);
	conn_continue(ps->c, &stream_k, ps);
	stream_more(ps);
}

static void cmd_retr(struct pop3_session *ps, const struct pop3_command *cmd)
{
	size_t i;
	if (cmd->nargs != 1) {
		pop3_bad(ps, "Syntax: RETR msg");
		return;
	}
	if (msg_arg(ps, cmd->args[0], &i) > 0)
		send_message(ps, i, -1);
}

static void cmd_top(struct pop3_session *ps, const struct pop3_command *cmd)
{
	size_t i;
	uint64_t lines;
	if (cmd->nargs != 2) {
		pop3_bad(ps, "Syntax: TOP msg lines");
		return;
	}
	if (msg_arg(ps, cmd->args[0], &i) < 0)
		return;
	if (buf_parse_uint64(cmd->args[1], 1000000000, &lines) < 0) {
		pop3_bad(ps, "Invalid number of lines");
		return;
	}
	send_message(ps, i, (long)lines);
}

static void cmd_dele(struct pop3_session *ps, const struct pop3_command *cmd)
{
	size_t i;
	if (cmd->nargs != 1) {
		pop3_bad(ps, "Syntax: DELE msg");
		return;
	}
	if (msg_arg(ps, cmd->args[0], &i) < 0)
		return;
	ps->msgs[i].deleted = true;
	pop3_ok(ps, "Message %zu deleted", i + 1);
}

static void cmd_rset(struct pop3_session *ps, const struct pop3_command *cmd)
{
	for (size_t i = 0; i < ps->nmsgs; i++)
		ps->msgs[i].deleted = false;
	cmd_stat(ps, cmd);
}

static void cmd_noop(struct pop3_session *ps, const struct pop3_command *cmd)
{
	pop3_ok(ps, "%s", "");
}

struct update {
	struct pop3_session *ps;
	struct arena *arena;
	struct store_range *ranges;
	struct store_uidset set;
	size_t n;
};

static void update_done(void *arg, int result, const char *error)
{
	struct update *u = arg;
	struct pop3_session *ps = u->ps;
	if (result < 0)
		log_error("event=store_error op=expunge error=%s", LOG_Q(error ? error : "-"));
	struct conn *c = ps->c;
	if (!conn_is_closed(c)) {
		if (result < 0)
			pop3_err(ps, "[SYS/TEMP] Some deleted messages not removed");
		else
			pop3_ok(ps, "postamt signing off (%zu messages deleted)", u->n);
		conn_close(ps->c);
	}
	arena_free(&u->arena);
	free(u);
	conn_release(c);
}

/* RFC 1939 §6: QUIT in TRANSACTION enters UPDATE: remove the marked messages */
static void cmd_quit(struct pop3_session *ps, const struct pop3_command *cmd)
{
	size_t n = 0;
	for (size_t i = 0; i < ps->nmsgs; i++)
		n += ps->msgs[i].deleted;
	if (!(ps->state & POP3_TRANSACTION) || n == 0) {
		pop3_ok(ps, "postamt signing off");
		conn_close(ps->c);
		return;
	}
	struct update *u = xcalloc(1, sizeof(*u));
	u->ps = ps;
	u->arena = arena_new();
	u->ranges = arena_alloc(u->arena, n * sizeof(*u->ranges));
	for (size_t i = 0; i < ps->nmsgs; i++) {
		if (ps->msgs[i].deleted)
			u->ranges[u->n++] = (struct store_range){ ps->msgs[i].uid, ps->msgs[i].uid };
	}
	u->set = (struct store_uidset){ u->ranges, u->n };
	conn_hold(ps->c);
	store_expunge_async(ps->env->store, u->arena, ps->account_id, ps->mailbox_id, &u->set, false, NULL, NULL,
			    conn_loop(ps->c), update_done, u);
}

static const struct pop3_cmd_def commands[] = {
	{ "CAPA", cmd_capa, POP3_AUTHORIZATION | POP3_TRANSACTION },
	{ "STLS", cmd_stls, POP3_AUTHORIZATION },
	{ "UTF8", cmd_utf8, POP3_AUTHORIZATION },
	{ "USER", cmd_user, POP3_AUTHORIZATION },
	{ "PASS", cmd_pass, POP3_AUTHORIZATION },
	{ "AUTH", cmd_auth, POP3_AUTHORIZATION },
	{ "QUIT", cmd_quit, POP3_AUTHORIZATION | POP3_TRANSACTION },
	{ "STAT", cmd_stat, POP3_TRANSACTION },
	{ "LIST", cmd_list, POP3_TRANSACTION },
	{ "UIDL", cmd_uidl, POP3_TRANSACTION },
	{ "RETR", cmd_retr, POP3_TRANSACTION },
	{ "TOP", cmd_top, POP3_TRANSACTION },
	{ "DELE", cmd_dele, POP3_TRANSACTION },
	{ "RSET", cmd_rset, POP3_TRANSACTION },
	{ "NOOP", cmd_noop, POP3_TRANSACTION },
};

static void pop3_dispatch(struct pop3_session *ps, struct bytes line)
{
	/* what the previous command allocated for itself goes, so a session that
	 * repeats commands stays at its size (input waits while a login holds the conn) */
	arena_clear(ps->cmd_arena);
	if (conn_command(ps->c) < 0) {
		pop3_err(ps, "[SYS/PERM] Too many commands, closing connection");
		conn_close(ps->c);
		return;
	}
	if (line.len > POP3_COMMAND_MAX - 2) {
		pop3_bad(ps, "Command exceeds the 255-octet limit of RFC 2449");
		return;
	}
	struct pop3_command cmd;
	const char *error;
	if (pop3_parse_command(line, POP3_COMMAND_MAX, &cmd, &error) < 0) {
		pop3_bad(ps, error);
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].keyword, cmd.keyword) != 0)
			continue;
		if (!(commands[i].states & ps->state)) {
			pop3_bad(ps, ps->state & POP3_AUTHORIZATION ? "Not logged in" : "Command not valid in this state");
			return;
		}
		commands[i].run(ps, &cmd);
		return;
	}
	pop3_bad(ps, "Unknown command");
}

static void pop3_read(struct pop3_session *ps)
{
	struct bytes line;
	while (read_line(ps, NULL, &line) > 0)
		pop3_dispatch(ps, line);
}

static void *pop3_open(struct conn *c, void *ctx)
{
	struct pop3_session *ps = xcalloc(1, sizeof(*ps));
	ps->c = c;
	ps->l = ctx;
	ps->env = ps->l->env;
	ps->s = settings_get(ps->l->settings);
	ps->arena = arena_new();
	ps->cmd_arena = arena_new();
	ps->fd = -1;
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
	case CONN_DRAINED:
	case CONN_RELEASED:
		break;
	case CONN_TIMEOUT:
		pop3_err(ps, "Timeout, closing connection");
		conn_close(ps->c);
		break;
	case CONN_SHUTDOWN: /* a RETR or the UPDATE state holds the conn: it finishes first */
		pop3_err(ps, "[SYS/TEMP] Server shutting down, try again later");
		conn_close(ps->c);
		break;
	case CONN_TLS_READY:
	case CONN_CLOSED: /* session_free follows once no step holds the conn */
		break;
	}
}

const struct conn_handler pop3d_handler = {
	.proto = "pop3",
	.open = pop3_open,
	.event = pop3_event,
	.refuse = pop3_refuse,
	.free = session_free,
};
