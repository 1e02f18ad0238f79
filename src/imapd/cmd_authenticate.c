/* cmd_authenticate.c: RFC 9051 §6.2.2 with SASL-IR (RFC 4959).
 *   authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp] *(CRLF base64)
 *   initial-resp = (base64 / "=")
 * Mechanisms: those of the one SASL exchange (auth/sasl.h: SCRAM-SHA-256, PLAIN,
 * LOGIN), which decides the dialogue; this file frames its challenges as "+ " lines
 * and maps its outcomes: a malformed response or "*" BAD (§6.2.2), a foreign
 * authorization identity NO [AUTHORIZATIONFAILED], an unknown mechanism NO [CANNOT].
 * Refused like LOGIN without TLS off loopback (NO [PRIVACYREQUIRED]). Credentials are
 * checked by auth_sasl_check, and the login completes as LOGIN's (cmd_login.c).
 * While the exchange waits for a response line it owns the input (a continuation). */
#include "session.h"

#include "auth.h"
#include "login.h"
#include "sasl.h"

#include <string.h>

void imap_login_done(void *arg, const struct auth_login *login);

static void auth_input(void *arg);
static const struct conn_continuation auth_k = { .data = auth_input };

static void auth_done(void *arg, const struct auth_login *login)
{
	struct imap_session *is = arg;
	if (login->result != AUTH_LOGIN_CONTINUE) {
		is->sasl = NULL;
		conn_continue_end(is->c);
		imap_login_done(arg, login);
		return;
	}
	if (!conn_is_closed(is->c)) {
		is->mode = IMAP_MODE_AUTH;
		conn_continue(is->c, &auth_k, is);
		conn_printf(is->c, "+ %s\r\n", login->challenge);
	}
	conn_release(is->c);
}

/* What the exchange said after the command or a response line. */
static void auth_next(struct imap_session *is, int status, const char *text)
{
	if (status == AUTH_SASL_CHALLENGE) {
		is->mode = IMAP_MODE_AUTH;
		conn_continue(is->c, &auth_k, is);
		conn_printf(is->c, "+ %s\r\n", text);
		return;
	}
	if (status == AUTH_SASL_CHECK) {
		conn_hold(is->c);
		auth_sasl_check(is->env->auth, conn_loop(is->c), "imap", conn_peer_ip(is->c), is->sasl, auth_done, is);
		return;
	}
	bool in_exchange = is->mode == IMAP_MODE_AUTH;
	is->mode = IMAP_MODE_COMMAND;
	conn_continue_end(is->c);
	is->sasl = NULL;
	if (status == AUTH_SASL_AUTHZID)
		imap_tagged(is, "NO", "[AUTHORIZATIONFAILED] Authorization identity must be empty or the user");
	else if (status == AUTH_SASL_NOMECH)
		imap_tagged(is, "NO", "[CANNOT] Unsupported authentication mechanism");
	else
		imap_tagged(is, "BAD", "%s", text);
	imap_client_error(is);
	if (in_exchange) { /* the command ends here, not in the dispatcher */
		imap_reader_reset(&is->rd);
		arena_clear(is->cmd_arena);
	}
}

/* A response line of the exchange (RFC 9051 §6.2.2). */
static void auth_input(void *arg)
{
	struct imap_session *is = arg;
	struct bytes line;
	if (imap_continuation_line(is, &auth_k, &line) <= 0)
		return;
	const char *text;
	int status = auth_sasl_step(is->sasl, line, &text);
	auth_next(is, status, text);
}

void imap_cmd_authenticate(struct imap_session *is, struct imap_cmd *cmd)
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
	const char *text;
	int status = auth_sasl_start(is->cmd_arena, mech, has_ir ? &ir : NULL, &is->sasl, &text);
	auth_next(is, status, text);
}
