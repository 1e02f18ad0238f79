/* smtp_cmd_auth.c: AUTH (RFC 4954) with the mechanisms of the one SASL exchange
 * (auth/sasl.h: SCRAM-SHA-256, PLAIN, LOGIN).
 *   auth-command = "AUTH" SP sasl-mech [SP initial-response] CRLF
 * Check: AUTH is allowed only over TLS or from loopback (538 5.7.11 otherwise,
 * RFC 4954 §4 and DESIGN.md §1), once per session (503), not inside a transaction
 * (503). The exchange decides the dialogue; this file frames its challenges as
 * "334 " lines and maps its outcomes: a malformed response 501 5.5.2, "*" 501 5.0.0,
 * a foreign authorization identity 535 5.7.8, an unknown mechanism 504. Credentials
 * are checked by auth_sasl_check on the worker pool; a failure is answered after a
 * delay by the shared limiter (auth/login.h). While the exchange waits for a
 * response line, it owns the input (a continuation, lib/conn). */
#include "session.h"

#include "auth.h"
#include "log.h"
#include "login.h"
#include "sasl.h"

#include <string.h>

static void auth_input(void *arg);
static const struct conn_continuation auth_k = { .data = auth_input };

static void auth_done(void *arg, const struct auth_login *login)
{
	struct smtp_session *ss = arg;
	struct conn *c = ss->c;
	if (!conn_is_closed(c)) {
		switch (login->result) {
		case AUTH_LOGIN_CONTINUE:
			conn_continue(c, &auth_k, ss);
			conn_printf(c, "334 %s\r\n", login->challenge);
			break;
		case AUTH_LOGIN_OK:
			ss->sasl = NULL;
			ss->auth_user = arena_strdup(ss->arena, login->address);
			ss->auth_account = login->account_id;
			smtp_reply(ss, 235, "2.7.0", "Authentication successful");
			break;
		case AUTH_LOGIN_FAILED:
			ss->sasl = NULL;
			smtp_reply(ss, 535, "5.7.8", "Authentication credentials invalid%s",
				   login->bare_name ? AUTH_BARE_NAME_HINT : "");
			smtp_error(ss);
			break;
		case AUTH_LOGIN_LIMITED:
			ss->sasl = NULL;
			smtp_reply(ss, 454, "4.7.0", "Too many failed logins from your address, try again later");
			smtp_error(ss);
			break;
		case AUTH_LOGIN_TEMPFAIL:
			ss->sasl = NULL;
			smtp_reply(ss, 454, "4.7.0", "Temporary authentication failure");
			break;
		}
	}
	conn_release(c);
}

/* What the exchange said after the command or a response line. */
static void auth_next(struct smtp_session *ss, int status, const char *text)
{
	conn_continue_end(ss->c);
	switch (status) {
	case AUTH_SASL_CHALLENGE:
		conn_continue(ss->c, &auth_k, ss);
		conn_printf(ss->c, "334 %s\r\n", text);
		return;
	case AUTH_SASL_CHECK:
		conn_hold(ss->c);
		auth_sasl_check(ss->env->auth, conn_loop(ss->c), "smtp", conn_peer_ip(ss->c), ss->sasl, auth_done, ss);
		return;
	case AUTH_SASL_CANCELLED:
		smtp_reply(ss, 501, "5.0.0", "Authentication cancelled");
		break;
	case AUTH_SASL_AUTHZID:
		smtp_reply(ss, 535, "5.7.8", "%s", text);
		smtp_error(ss);
		break;
	case AUTH_SASL_NOMECH:
		smtp_reply(ss, 504, "5.5.4", "Unrecognized authentication mechanism");
		smtp_error(ss);
		break;
	default:
		smtp_reply(ss, 501, "5.5.2", "%s", text);
		smtp_error(ss);
		break;
	}
	ss->sasl = NULL;
}

/* A response line of the exchange (RFC 4954 §4). */
static void auth_input(void *arg)
{
	struct smtp_session *ss = arg;
	struct bytes line;
	while (smtp_next_line(ss, &auth_k, &line) > 0) {
		const char *text;
		int status = auth_sasl_step(ss->sasl, line, &text);
		auth_next(ss, status, text);
	}
}

void smtp_cmd_auth(struct smtp_session *ss, const struct smtp_command *cmd)
{
	if (!conn_may_send_password(ss->c)) {
		smtp_reply(ss, 538, "5.7.11", "Encryption required for requested authentication mechanism");
		smtp_error(ss);
		return;
	}
	if (ss->env->auth == NULL) {
		smtp_reply(ss, 502, "5.5.1", "AUTH not available");
		return;
	}
	if (ss->auth_user != NULL) {
		smtp_reply(ss, 503, "5.5.1", "Already authenticated");
		smtp_error(ss);
		return;
	}
	if (ss->txn.active) {
		smtp_reply(ss, 503, "5.5.1", "AUTH not allowed during a mail transaction");
		smtp_error(ss);
		return;
	}
	const char *sp = memchr(cmd->arg.p, ' ', cmd->arg.len);
	struct bytes mech = { cmd->arg.p, sp ? (size_t)(sp - cmd->arg.p) : cmd->arg.len };
	struct bytes ir = sp ? (struct bytes){ sp + 1, cmd->arg.len - mech.len - 1 } : (struct bytes){ NULL, 0 };
	const char *text;
	int status = auth_sasl_start(ss->cmd_arena, mech, sp ? &ir : NULL, &ss->sasl, &text);
	auth_next(ss, status, text);
}
