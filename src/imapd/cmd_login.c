/* cmd_login.c: RFC 9051 §6.2.3. login = "LOGIN" SP userid SP password;
 * userid = astring; password = astring.
 * A password is accepted only over TLS or from loopback (DESIGN.md §1); elsewhere the
 * server advertises LOGINDISABLED and answers NO [PRIVACYREQUIRED]. The check runs
 * on the worker pool through the shared login service with its failed-login limiter;
 * a failure is answered after the limiter's delay with NO [AUTHENTICATIONFAILED].
 * The tagged OK carries the capabilities, which change after login (§6.2.3). */
#include "session.h"

#include "log.h"
#include "login.h"

#include <string.h>

/* Completes LOGIN or AUTHENTICATE once the password check is done. */
void imap_login_done(void *arg, const struct auth_login *login);
void imap_login_done(void *arg, const struct auth_login *login)
{
	struct imap_session *is = arg;
	if (!conn_is_closed(is->c)) {
		switch (login->result) {
		case AUTH_LOGIN_OK:
			if (is->env->users != NULL &&
			    !imapd_users_acquire(is->env->users, login->address, conn_peer_ip(is->c),
						 is->s->imap_conns_per_user_ip)) {
				conn_log(is->c, LOG_WARN, "event=too_many_user_connections user=%s", login->address);
				imap_tagged(is, "NO", "[LIMIT] Too many connections for this user from your address");
				break;
			}
			is->user_counted = is->env->users != NULL;
			imap_logged_in(is, login->account_id, login->address);
			conn_printf(is->c, "%s OK [CAPABILITY ", is->tag);
			imap_write_capabilities(is);
			conn_puts(is->c, "] Logged in\r\n");
			break;
		case AUTH_LOGIN_FAILED:
			imap_tagged(is, "NO", "[AUTHENTICATIONFAILED] Authentication failed%s",
				    login->bare_name ? AUTH_BARE_NAME_HINT : "");
			imap_client_error(is);
			break;
		case AUTH_LOGIN_LIMITED:
			imap_tagged(is, "NO", "[AUTHENTICATIONFAILED] Too many failed logins from your address, try later");
			imap_client_error(is);
			break;
		case AUTH_LOGIN_TEMPFAIL:
		case AUTH_LOGIN_CONTINUE: /* not for a password login */
			imap_tagged(is, "NO", "[UNAVAILABLE] Temporary authentication failure");
			break;
		}
	}
	is->mode = IMAP_MODE_COMMAND;
	conn_release(is->c);
}

static void start_login(struct imap_session *is, const char *user, const char *password)
{
	conn_hold(is->c);
	auth_login(is->env->auth, conn_loop(is->c), "imap", conn_peer_ip(is->c), user, password, imap_login_done, is);
}

void imap_cmd_login(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_str user, pass;
	if (imap_cur_astring(c, &user) < 0 || imap_cur_sp(c) < 0 || imap_cur_astring(c, &pass) < 0 ||
	    imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (!conn_may_send_password(is->c)) {
		imap_tagged(is, "NO", "[PRIVACYREQUIRED] Use STARTTLS or the IMAPS port before LOGIN");
		imap_client_error(is);
		return;
	}
	if (memchr(user.s, '\0', user.len) || memchr(pass.s, '\0', pass.len)) {
		imap_tagged(is, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
		imap_client_error(is);
		return;
	}
	start_login(is, user.s, pass.s);
}
