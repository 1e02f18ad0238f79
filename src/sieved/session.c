/* session.c: ManageSieve sessions (RFC 5804): the greeting (the capabilities), the
 * command table with its states, the dispatcher over the buffered input, STARTTLS,
 * AUTHENTICATE on the shared SASL exchange, and the commands that need no store
 * (CAPABILITY, NOOP, LOGOUT, UNAUTHENTICATE). The commands on scripts are in
 * commands.c and run on the pool through sieve_run_job; both answer through reply.c.
 *
 * Limits: a command outside its literals is at most limits.line_length bytes; a
 * literal before login at most that too (a client that has not logged in cannot make
 * the server buffer a script), after login at most sieve.max_script_size plus the
 * line length. A literal announced over its limit is answered with NO (and
 * QUOTA/MAXSIZE when logged in) and BYE, and the connection closes: its bytes are on
 * their way and cannot be told apart from commands. Connections per address, errors
 * and commands per session are the session core's; failed logins the auth module's. */
#include "sieved_int.h"

#include "auth.h"
#include "log.h"
#include "login.h"
#include "sasl.h"
#include "sieve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ST_ANON = 1, ST_AUTH = 2 };

struct sieve_cmd_def {
	const char *name;
	void (*run)(struct sieve_session *ss, const struct msieve_command *cmd);
	unsigned states;
};

struct msieve_limits sieve_limits_now(const struct sieve_session *ss)
{
	size_t line = ss->s->line_max;
	return (struct msieve_limits){ .line_max = line,
				       .literal_max = ss->authed ? ss->s->sieve_max_script_size + line : line };
}

/* ---- CAPABILITY (§2.4), also the greeting and after STARTTLS ---- */

static void put_capability(struct sieve_session *ss, struct buf *o, const char *name, const char *value)
{
	msieve_put_string(o, name, strlen(name));
	if (value != NULL) {
		buf_putc(o, ' ');
		msieve_put_string(o, value, strlen(value));
	}
	buf_puts(o, "\r\n");
}

static void capabilities(struct sieve_session *ss)
{
	struct buf *o = &ss->out;
	buf_reset(o);
	put_capability(ss, o, "IMPLEMENTATION", "postamt");
	/* RFC 5804 §1.7: SASL lists what may be used now; none before TLS where
	 * passwords are refused */
	put_capability(ss, o, "SASL", !ss->authed && conn_may_send_password(ss->c) ? AUTH_SASL_MECHS : "");
	put_capability(ss, o, "SIEVE", sieve_extensions());
	if (!conn_is_tls(ss->c) && !ss->authed)
		put_capability(ss, o, "STARTTLS", NULL);
	char n[16];
	snprintf(n, sizeof(n), "%u", ss->s->sieve_max_redirects);
	put_capability(ss, o, "MAXREDIRECTS", n);
	if (ss->authed)
		put_capability(ss, o, "OWNER", ss->user);
	put_capability(ss, o, "VERSION", "1.0");
	msieve_put_response(o, "OK", NULL, "ManageSieve ready");
	conn_write(ss->c, o->data, o->len);
}

static void cmd_capability(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (cmd->nargs != 0) {
		sieve_bad(ss, NULL, "Syntax: CAPABILITY");
		return;
	}
	capabilities(ss);
}

/* ---- STARTTLS (§2.2) ---- */

static void cmd_starttls(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (conn_is_tls(ss->c)) {
		sieve_bad(ss, NULL, "TLS is already active");
		return;
	}
	sieve_reply(ss, "OK", NULL, "Begin TLS negotiation now");
	if (conn_starttls(ss->c) < 0) {
		conn_log(ss->c, LOG_ERROR, "event=starttls_failed");
		conn_close(ss->c);
		return;
	}
	ss->starttls = true;
}

/* ---- AUTHENTICATE (§2.1) ---- */

static void sasl_read(void *arg);
/* AUTHENTICATE waiting for the client's response string owns the input */
static const struct conn_continuation sasl_k = { .data = sasl_read };

static void send_challenge(struct sieve_session *ss, const char *challenge)
{
	buf_reset(&ss->out);
	msieve_put_string(&ss->out, challenge, strlen(challenge));
	buf_puts(&ss->out, "\r\n");
	conn_continue(ss->c, &sasl_k, ss);
	conn_write(ss->c, ss->out.data, ss->out.len);
}

static void login_result(struct sieve_session *ss, const struct auth_login *login)
{
	switch (login->result) {
	case AUTH_LOGIN_CONTINUE:
		send_challenge(ss, login->challenge);
		return;
	case AUTH_LOGIN_OK:
		ss->authed = true;
		ss->account_id = login->account_id;
		free(ss->user);
		ss->user = xstrdup(login->address);
		conn_set_timeout(ss->c, ss->s->timeout_sieve);
		conn_log(ss->c, LOG_INFO, "event=login user=%s", LOG_Q(ss->user));
		sieve_reply(ss, "OK", NULL, "Logged in");
		break;
	case AUTH_LOGIN_FAILED:
		sieve_bad(ss, NULL,
			  login->bare_name ? "Authentication failed" AUTH_BARE_NAME_HINT : "Authentication failed");
		break;
	case AUTH_LOGIN_LIMITED:
		sieve_bad(ss, "TRYLATER", "Too many failed logins from your address, try again later");
		break;
	case AUTH_LOGIN_TEMPFAIL:
		sieve_reply(ss, "NO", "TRYLATER", "Temporary authentication failure");
		break;
	}
	ss->sasl = NULL;
}

static void login_done(void *arg, const struct auth_login *login)
{
	struct sieve_session *ss = arg;
	struct conn *c = ss->c;
	if (!conn_is_closed(c))
		login_result(ss, login);
	conn_release(c);
}

static void sasl_next(struct sieve_session *ss, int status, const char *text)
{
	switch (status) {
	case AUTH_SASL_CHALLENGE:
		send_challenge(ss, text);
		return;
	case AUTH_SASL_CHECK:
		conn_hold(ss->c);
		auth_sasl_check(ss->env->auth, conn_loop(ss->c), "sieve", conn_peer_ip(ss->c), ss->sasl, login_done,
				ss);
		return;
	case AUTH_SASL_AUTHZID:
		sieve_bad(ss, NULL, "Authorization identity must be empty or equal the user");
		break;
	case AUTH_SASL_NOMECH:
		sieve_bad(ss, NULL, "Unsupported authentication mechanism");
		break;
	case AUTH_SASL_CANCELLED:
		sieve_bad(ss, NULL, "Authentication cancelled");
		break;
	default:
		sieve_bad(ss, NULL, text);
		break;
	}
	ss->sasl = NULL;
}

static void sasl_read(void *arg)
{
	struct sieve_session *ss = arg;
	if (!conn_may_read(ss->c, &sasl_k))
		return;
	size_t avail = conn_input_len(ss->c);
	if (avail == 0)
		return;
	struct msieve_limits lim = sieve_limits_now(ss);
	const char *in = conn_input_peek(ss->c, avail);
	struct bytes s;
	size_t used = 0;
	const char *error;
	int r = msieve_parse_response((struct bytes){ in, avail }, &lim, ss->cmd_arena, &s, &used, &error);
	if (r == 0)
		return;
	conn_continue_end(ss->c);
	if (r == MSIEVE_ESYNTAX) {
		conn_input_consume(ss->c, used);
		ss->sasl = NULL;
		sieve_bad(ss, NULL, error);
		return;
	}
	if (r < 0) {
		sieve_reply(ss, "BYE", NULL, error);
		conn_close(ss->c);
		return;
	}
	conn_input_consume(ss->c, used);
	const char *text;
	int status = auth_sasl_step(ss->sasl, s, &text);
	sasl_next(ss, status, text);
}

static void cmd_authenticate(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (cmd->nargs < 1 || cmd->nargs > 2 || cmd->args[0].type != MSIEVE_STRING ||
	    (cmd->nargs == 2 && cmd->args[1].type != MSIEVE_STRING)) {
		sieve_bad(ss, NULL, "Syntax: AUTHENTICATE mechanism [initial-response]");
		return;
	}
	if (!conn_may_send_password(ss->c)) {
		sieve_bad(ss, "ENCRYPT-NEEDED", "Authentication requires TLS; use STARTTLS");
		return;
	}
	const char *text;
	/* an empty initial response is "=" in the exchange's terms (RFC 4422 §4) */
	struct bytes ir = cmd->nargs == 2 ? cmd->args[1].str : (struct bytes){ 0 };
	if (cmd->nargs == 2 && ir.len == 0)
		ir = BYTES("=");
	int status = auth_sasl_start(ss->cmd_arena, cmd->args[0].str, cmd->nargs == 2 ? &ir : NULL, &ss->sasl, &text);
	sasl_next(ss, status, text);
}

/* ---- NOOP (§2.13), LOGOUT (§2.5), UNAUTHENTICATE (§2.14.1) ---- */

static void cmd_noop(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (cmd->nargs > 1 || (cmd->nargs == 1 && cmd->args[0].type != MSIEVE_STRING)) {
		sieve_bad(ss, NULL, "Syntax: NOOP [tag]");
		return;
	}
	if (cmd->nargs == 0) {
		sieve_reply(ss, "OK", NULL, "Done");
		return;
	}
	struct buf code = { 0 };
	buf_puts(&code, "TAG ");
	msieve_put_string(&code, cmd->args[0].str.p, cmd->args[0].str.len);
	sieve_reply(ss, "OK", buf_str(&code), "Done");
	buf_free(&code);
}

static void cmd_logout(struct sieve_session *ss, const struct msieve_command *cmd)
{
	sieve_reply(ss, "OK", NULL, "Logout completed");
	conn_close(ss->c);
}

static void cmd_unauthenticate(struct sieve_session *ss, const struct msieve_command *cmd)
{
	if (cmd->nargs != 0) {
		sieve_bad(ss, NULL, "Syntax: UNAUTHENTICATE");
		return;
	}
	ss->authed = false;
	ss->account_id = 0;
	free(ss->user);
	ss->user = NULL;
	conn_set_timeout(ss->c, ss->s->timeout_imap_login);
	sieve_reply(ss, "OK", NULL, NULL);
}

static const struct sieve_cmd_def commands[] = {
	{ "CAPABILITY", cmd_capability, ST_ANON | ST_AUTH },
	{ "STARTTLS", cmd_starttls, ST_ANON },
	{ "AUTHENTICATE", cmd_authenticate, ST_ANON },
	{ "LOGOUT", cmd_logout, ST_ANON | ST_AUTH },
	{ "NOOP", cmd_noop, ST_ANON | ST_AUTH },
	{ "UNAUTHENTICATE", cmd_unauthenticate, ST_AUTH },
	{ "HAVESPACE", cmd_havespace, ST_AUTH },
	{ "PUTSCRIPT", cmd_putscript, ST_AUTH },
	{ "CHECKSCRIPT", cmd_checkscript, ST_AUTH },
	{ "LISTSCRIPTS", cmd_listscripts, ST_AUTH },
	{ "SETACTIVE", cmd_setactive, ST_AUTH },
	{ "GETSCRIPT", cmd_getscript, ST_AUTH },
	{ "DELETESCRIPT", cmd_deletescript, ST_AUTH },
	{ "RENAMESCRIPT", cmd_renamescript, ST_AUTH },
};

static void dispatch(struct sieve_session *ss, const struct msieve_command *cmd)
{
	unsigned state = ss->authed ? ST_AUTH : ST_ANON;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cmd->name) != 0)
			continue;
		if (!(commands[i].states & state)) {
			sieve_bad(ss, NULL, ss->authed ? "Already logged in" : "Log in first");
			return;
		}
		commands[i].run(ss, cmd);
		return;
	}
	sieve_bad(ss, NULL, "Unknown command");
}

/* Reads and runs commands while the input holds whole ones. */
static void sieve_read(struct sieve_session *ss)
{
	while (conn_may_read(ss->c, NULL) && !conn_is_closing(ss->c)) {
		size_t avail = conn_input_len(ss->c);
		if (avail == 0)
			return;
		/* what the previous command allocated goes (its reply is written) */
		arena_clear(ss->cmd_arena);
		struct msieve_limits lim = sieve_limits_now(ss);
		const char *in = conn_input_peek(ss->c, avail);
		struct msieve_command *cmd = arena_alloc(ss->cmd_arena, sizeof(*cmd));
		size_t used = 0;
		const char *error;
		int r = msieve_parse_command((struct bytes){ in, avail }, &lim, ss->cmd_arena, cmd, &used, &error);
		if (r == 0)
			return;
		if (conn_command(ss->c) < 0) {
			sieve_reply(ss, "BYE", NULL, "Too many commands");
			conn_close(ss->c);
			return;
		}
		if (r == MSIEVE_ESYNTAX) {
			conn_input_consume(ss->c, used);
			sieve_bad(ss, NULL, error);
			continue;
		}
		if (r == MSIEVE_ELITERAL) {
			conn_log(ss->c, LOG_WARN, "event=literal_too_large bytes=%zu limit=%zu authed=%d", used,
				 lim.literal_max, ss->authed);
			sieve_reply(ss, "NO", ss->authed ? "QUOTA/MAXSIZE" : NULL,
				    ss->authed ? "The script is over the size limit"
					       : "Literal too large before login");
			sieve_reply(ss, "BYE", NULL, "Closing");
			conn_close(ss->c);
			return;
		}
		if (r < 0) {
			conn_log(ss->c, LOG_WARN, "event=line_too_long limit=%zu", lim.line_max);
			sieve_reply(ss, "BYE", NULL, error);
			conn_close(ss->c);
			return;
		}
		conn_input_consume(ss->c, used);
		dispatch(ss, cmd);
	}
}

static void *sieve_open(struct conn *c, void *ctx)
{
	struct sieve_session *ss = xcalloc(1, sizeof(*ss));
	ss->c = c;
	ss->l = ctx;
	ss->env = ss->l->env;
	ss->s = settings_get(ss->l->settings);
	ss->cmd_arena = arena_new();
	conn_set_timeout(c, ss->s->timeout_imap_login);
	capabilities(ss);
	return ss;
}

static void sieve_refuse(struct conn *c, void *ctx)
{
	conn_puts(c, "BYE (TRYLATER) \"Too many connections from your address, try again later\"\r\n");
}

static void sieve_event(void *session, enum conn_event ev)
{
	struct sieve_session *ss = session;
	switch (ev) {
	case CONN_DATA:
		sieve_read(ss);
		break;
	case CONN_DRAINED:
	case CONN_RELEASED: /* input resumes after it: CONN_DATA reads what waited */
		break;
	case CONN_TLS_READY:
		/* RFC 5804 §2.2: the capabilities again, as they changed */
		if (ss->starttls) {
			ss->starttls = false;
			capabilities(ss);
		}
		break;
	case CONN_TIMEOUT:
		sieve_reply(ss, "BYE", NULL, "Disconnected for inactivity");
		conn_close(ss->c);
		break;
	case CONN_SHUTDOWN:
		sieve_reply(ss, "BYE", "TRYLATER", "Server shutting down");
		conn_close(ss->c);
		break;
	case CONN_CLOSED:
		break;
	}
}

static void session_free(void *session)
{
	struct sieve_session *ss = session;
	free(ss->user);
	buf_free(&ss->out);
	arena_free(&ss->cmd_arena);
	free(ss);
}

const struct conn_handler sieved_handler = {
	.proto = "sieve",
	.open = sieve_open,
	.event = sieve_event,
	.refuse = sieve_refuse,
	.free = session_free,
};
