/* cmd_mail.c: MAIL FROM (RFC 5321 §4.1.1.2).
 *   mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
 * Check: no transaction open, the syntax and parameters (smtp_args), the declared
 * SIZE against limits.message_size (RFC 1870 §6.2: 552), free disk space above
 * limits.disk_reserve (452 4.3.1, RFC 1870 §6.1), with AUTH that the sender is
 * the user's own address or one of their aliases (store_sender_owned, 553 5.7.1),
 * and without AUTH (port 25) that it is not in a local domain (553 5.7.1: local
 * users send through submission; the null sender is accepted). Proceed: open the
 * transaction. */
#include "session.h"

#include "log.h"
#include "store.h"

#include <inttypes.h>
#include <string.h>
#include <strings.h>

/* Port 25 without AUTH: 1 when the sender's domain is local (DESIGN.md §1: such a
 * sender must log in; Postfix's reject_sender_login_mismatch), 0 when not (an
 * address literal never is), <0 on a lookup error. */
static int sender_local(struct smtp_session *ss, const struct smtp_mailbox *from, const char **error_r)
{
	if (from->domain_literal)
		return 0;
	const char *domain = arena_strndup(ss->cmd_arena, from->domain.p, from->domain.len);
	return store_domain_exists(ss->env->store, domain, error_r);
}

void cmd_mail(struct smtp_session *ss, const struct smtp_command *cmd)
{
	if (ss->txn.active) {
		smtp_reply(ss, 503, "5.5.1", "Nested MAIL command");
		smtp_error(ss);
		return;
	}
	struct smtp_mail_args args;
	struct smtp_error err;
	if (smtp_parse_mail(cmd->arg, true, &args, &err) < 0) {
		smtp_reply(ss, err.code, err.enh, "%s", err.text);
		smtp_error(ss);
		return;
	}
	/* RFC 5321 §4.1.1.2: parameters are ESMTP, so not after HELO; BINARYMIME
	 * (RFC 3030) is not offered */
	bool params = args.has_size || args.body != SMTP_BODY_7BIT || args.smtputf8 || args.ret != SMTP_RET_NONE ||
		      args.envid.len > 0 || args.auth.len > 0;
	if ((params && !ss->esmtp) || args.body == SMTP_BODY_BINARYMIME) {
		smtp_reply(ss, 555, "5.5.4", "Unsupported or malformed parameter");
		smtp_error(ss);
		return;
	}
	if (args.has_size && args.size > ss->s->message_max) {
		smtp_reply(ss, 552, "5.3.4", "Message size exceeds fixed maximum message size (%" PRIu64 ")",
			   ss->s->message_max);
		return;
	}
	const char *space_error; /* limits.disk_reserve, with the declared SIZE (RFC 1870 §6.1: 452) */
	if (store_space_check(ss->env->store, args.has_size ? args.size : 0, &space_error) < 0) {
		conn_log(ss->c, LOG_WARN, "event=mail_refused reason=disk_reserve size=%" PRIu64, args.has_size ? args.size : 0);
		smtp_reply(ss, 452, "4.3.1", "Insufficient system storage, try again later");
		return;
	}
	if (ss->auth_user != NULL) { /* on every port: an authenticated sender is checked */
		if (args.null_path || !store_sender_owned(ss->env->store, ss->cmd_arena, ss->auth_account, ss->auth_user,
							  args.from.mailbox)) {
			conn_log(ss->c, LOG_WARN, "event=sender_rejected user=%s from=<%s>", ss->auth_user,
				 args.from.mailbox);
			smtp_reply(ss, 553, "5.7.1", "Sender address rejected: not owned by %s", ss->auth_user);
			return;
		}
	} else if (!args.null_path) { /* port 25 without AUTH; the null sender stays accepted */
		const char *error;
		int local = sender_local(ss, &args.from, &error);
		if (local < 0) {
			conn_log(ss->c, LOG_ERROR, "event=store_error op=resolve error=%s", LOG_Q(error));
			smtp_reply(ss, 451, "4.3.0", "Temporary lookup failure");
			return;
		}
		if (local > 0) {
			conn_log(ss->c, LOG_WARN, "event=sender_rejected reason=local_unauthenticated from=<%s>",
				 args.from.mailbox);
			smtp_reply(ss, 553, "5.7.1",
				   "Sender address rejected: <%s> is a local address; log in to send as it (submission)",
				   args.from.mailbox);
			smtp_error(ss);
			return;
		}
	}
	/* proceed */
	smtp_txn_reset(ss);
	ss->txn.active = true;
	ss->txn.mail = args;
	if (args.envid.len > 0)
		ss->txn.mail.envid = (struct bytes){ arena_strndup(ss->txn_arena, args.envid.p, args.envid.len),
						    args.envid.len };
	ss->txn.mail.auth = (struct bytes){ "", 0 }; /* RFC 4954 §5: kept only for relaying; we do not */
	smtp_reply(ss, 250, "2.1.0", "Ok");
}
