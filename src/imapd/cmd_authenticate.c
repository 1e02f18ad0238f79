/* cmd_authenticate.c: RFC 9051 §6.2.2 with SASL-IR (RFC 4959).
 *   authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp] *(CRLF base64)
 *   initial-resp = (base64 / "=")
 * Mechanisms: PLAIN (RFC 4616) and LOGIN (its "Username:"/"Password:" challenges).
 * Refused like LOGIN without TLS off loopback (NO [PRIVACYREQUIRED]); "*" cancels
 * (BAD, §6.2.2). */
#include "session.h"

#include "auth.h"

#include <string.h>

void imap_start_login(struct imap_session *is, const char *user, const char *password);

static void auth_fail(struct imap_session *is, const char *error)
{
	is->mode = IMAP_MODE_COMMAND;
	imap_tagged(is, "BAD", "%s", error);
	imap_client_error(is);
	imap_reader_reset(&is->rd);
	arena_clear(is->cmd_arena);
}

static void auth_plain(struct imap_session *is, struct bytes b64)
{
	struct auth_sasl_plain p;
	const char *error;
	if (auth_sasl_plain_decode(is->cmd_arena, b64, &p, &error) < 0) {
		auth_fail(is, error);
		return;
	}
	if (p.authzid[0] != '\0' && strcmp(p.authzid, p.authcid) != 0) {
		is->mode = IMAP_MODE_COMMAND;
		imap_tagged(is, "NO", "[AUTHORIZATIONFAILED] Authorization identity must be empty or the user");
		imap_client_error(is);
		return;
	}
	imap_start_login(is, p.authcid, p.password);
}

void imap_auth_input(struct imap_session *is, struct bytes line)
{
	if (auth_sasl_is_cancel(line)) {
		auth_fail(is, "Authentication cancelled");
		return;
	}
	const char *value, *error;
	switch (is->auth_step) {
	case IMAP_AUTH_PLAIN:
		auth_plain(is, line);
		break;
	case IMAP_AUTH_LOGIN_USER:
		if (auth_sasl_login_decode(is->cmd_arena, line, &value, &error) < 0) {
			auth_fail(is, error);
			return;
		}
		is->auth_login_user = arena_strdup(is->cmd_arena, value);
		is->auth_step = IMAP_AUTH_LOGIN_PASS;
		conn_puts(is->c, "+ " AUTH_SASL_LOGIN_PASS_CHALLENGE "\r\n");
		return;
	case IMAP_AUTH_LOGIN_PASS:
		if (auth_sasl_login_decode(is->cmd_arena, line, &value, &error) < 0) {
			auth_fail(is, error);
			return;
		}
		imap_start_login(is, is->auth_login_user, value);
		break;
	}
	/* a finished exchange ends the command unless a login is in flight */
	if (is->pending == 0) {
		is->mode = IMAP_MODE_COMMAND;
		imap_reader_reset(&is->rd);
		arena_clear(is->cmd_arena);
	}
}

void cmd_authenticate(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct bytes mech;
	struct bytes ir = { NULL, 0 };
	bool has_ir = false;
	if (imap_cur_atom(c, &mech) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (imap_cur_skip(c, ' ')) {
		has_ir = true;
		ir = (struct bytes){ c->p + c->pos, c->len - c->pos };
		c->pos = c->len;
	}
	if (!conn_may_send_password(is->c)) {
		imap_tagged(is, "NO", "[PRIVACYREQUIRED] Use STARTTLS or the IMAPS port before AUTHENTICATE");
		imap_client_error(is);
		return;
	}
	if (bytes_ieq(mech, "PLAIN")) {
		is->auth_step = IMAP_AUTH_PLAIN;
		if (has_ir) {
			auth_plain(is, ir);
		} else {
			is->mode = IMAP_MODE_AUTH;
			conn_puts(is->c, "+ \r\n");
		}
		return;
	}
	if (bytes_ieq(mech, "LOGIN")) {
		is->auth_step = IMAP_AUTH_LOGIN_USER;
		is->mode = IMAP_MODE_AUTH;
		if (has_ir)
			imap_auth_input(is, ir);
		else
			conn_puts(is->c, "+ " AUTH_SASL_LOGIN_USER_CHALLENGE "\r\n");
		return;
	}
	imap_tagged(is, "NO", "[CANNOT] Unsupported authentication mechanism");
	imap_client_error(is);
}
