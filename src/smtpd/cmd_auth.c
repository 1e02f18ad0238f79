/* cmd_auth.c: AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms.
 *   auth-command = "AUTH" SP sasl-mech [SP initial-response] CRLF
 * Check: AUTH is allowed only over TLS or from loopback (538 5.7.11 otherwise,
 * RFC 4954 §4 and DESIGN.md §1), once per session (503), not inside a transaction
 * (503). The exchange: PLAIN takes its response as initial response or after an
 * empty "334 "; LOGIN asks "Username:" then "Password:" in base64 (the challenges
 * Outlook expects). "*" cancels (501). The password is checked on the worker pool;
 * a failure is answered after a delay by the shared limiter (auth/login.h). */
#include "session.h"

#include "auth.h"
#include "log.h"
#include "login.h"

#include <string.h>

static void auth_done(void *arg, const struct auth_login *login)
{
	struct smtp_session *ss = arg;
	if (ss->c != NULL) {
		switch (login->result) {
		case AUTH_LOGIN_OK:
			ss->auth_user = arena_strdup(ss->arena, login->address);
			ss->auth_account = login->account_id;
			smtp_reply(ss, 235, "2.7.0", "Authentication successful");
			break;
		case AUTH_LOGIN_FAILED:
			smtp_reply(ss, 535, "5.7.8", "Authentication credentials invalid%s",
				   login->bare_name ? AUTH_BARE_NAME_HINT : "");
			smtp_error(ss);
			break;
		case AUTH_LOGIN_LIMITED:
			smtp_reply(ss, 454, "4.7.0", "Too many failed logins from your address, try again later");
			smtp_error(ss);
			break;
		case AUTH_LOGIN_TEMPFAIL:
			smtp_reply(ss, 454, "4.7.0", "Temporary authentication failure");
			break;
		}
	}
	smtp_busy_end(ss);
}

static void start_login(struct smtp_session *ss, const char *user, const char *password)
{
	smtp_busy_begin(ss);
	auth_login(ss->env->auth, conn_loop(ss->c), "smtp", conn_peer_ip(ss->c), user, password, auth_done, ss);
}

static void auth_fail(struct smtp_session *ss, const char *error)
{
	ss->mode = SMTP_MODE_COMMAND;
	smtp_reply(ss, 501, "5.5.2", "%s", error);
	smtp_error(ss);
}

/* PLAIN's message: authzid NUL authcid NUL passwd */
static void auth_plain(struct smtp_session *ss, struct bytes b64)
{
	struct auth_sasl_plain p;
	const char *error;
	if (auth_sasl_plain_decode(ss->cmd_arena, b64, &p, &error) < 0) {
		auth_fail(ss, error);
		return;
	}
	if (p.authzid[0] != '\0' && strcmp(p.authzid, p.authcid) != 0) {
		ss->mode = SMTP_MODE_COMMAND;
		smtp_reply(ss, 535, "5.7.8", "Authorization identity must be empty or equal the user");
		smtp_error(ss);
		return;
	}
	ss->mode = SMTP_MODE_COMMAND;
	start_login(ss, p.authcid, p.password);
}

void smtp_auth_input(struct smtp_session *ss, struct bytes line)
{
	if (auth_sasl_is_cancel(line)) {
		ss->mode = SMTP_MODE_COMMAND;
		smtp_reply(ss, 501, "5.0.0", "Authentication cancelled");
		return;
	}
	const char *value, *error;
	switch (ss->auth_step) {
	case SMTP_AUTH_PLAIN:
		auth_plain(ss, line);
		return;
	case SMTP_AUTH_LOGIN_USER:
		if (auth_sasl_login_decode(ss->cmd_arena, line, &value, &error) < 0) {
			auth_fail(ss, error);
			return;
		}
		ss->auth_login_user = arena_strdup(ss->cmd_arena, value);
		ss->auth_step = SMTP_AUTH_LOGIN_PASS;
		smtp_reply(ss, 334, NULL, AUTH_SASL_LOGIN_PASS_CHALLENGE);
		return;
	case SMTP_AUTH_LOGIN_PASS:
		if (auth_sasl_login_decode(ss->cmd_arena, line, &value, &error) < 0) {
			auth_fail(ss, error);
			return;
		}
		ss->mode = SMTP_MODE_COMMAND;
		start_login(ss, ss->auth_login_user, value);
		return;
	}
}

void cmd_auth(struct smtp_session *ss, const struct smtp_command *cmd)
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
	bool has_ir = sp != NULL;
	if (bytes_ieq(mech, "PLAIN")) {
		ss->auth_step = SMTP_AUTH_PLAIN;
		if (has_ir) {
			auth_plain(ss, ir);
		} else {
			ss->mode = SMTP_MODE_AUTH;
			conn_puts(ss->c, "334 \r\n"); /* an empty challenge */
		}
		return;
	}
	if (bytes_ieq(mech, "LOGIN")) {
		ss->mode = SMTP_MODE_AUTH;
		if (has_ir) { /* RFC 4954 allows the user name as initial response */
			ss->auth_step = SMTP_AUTH_LOGIN_USER;
			smtp_auth_input(ss, ir);
		} else {
			ss->auth_step = SMTP_AUTH_LOGIN_USER;
			smtp_reply(ss, 334, NULL, AUTH_SASL_LOGIN_USER_CHALLENGE);
		}
		return;
	}
	smtp_reply(ss, 504, "5.5.4", "Unrecognized authentication mechanism");
	smtp_error(ss);
}
