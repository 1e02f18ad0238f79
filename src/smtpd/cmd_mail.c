/* smtp_cmd_mail.c: MAIL FROM (RFC 5321 §4.1.1.2).
 *   mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
 * Check: no transaction open, the syntax and parameters (smtp_args), then the
 * pipeline's sender stage (submit_sender): the declared SIZE against
 * limits.message_size (RFC 1870 §6.2: 552), free disk space above
 * limits.disk_reserve (452 4.3.1, RFC 1870 §6.1), with AUTH that the sender is the
 * user's own address or one of their aliases (553 5.7.1), and without AUTH (port 25)
 * that it is not in a local domain (553 5.7.1; the null sender is accepted), and on
 * submission that the account is within its hourly send limits (451 4.7.1). The
 * replies come from one table (submit_reply.c). Proceed: open the transaction. */
#include "session.h"

#include <string.h>

void smtp_cmd_mail(struct smtp_session *ss, const struct smtp_command *cmd)
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
	/* the pipeline's sender stage: SIZE, disk reserve, who may use this sender */
	const char *detail;
	int r = submit_sender(ss->env->submit, smtp_origin(ss), ss->cmd_arena, args.null_path ? "" : args.from.mailbox,
			      args.has_size ? args.size : 0, &detail);
	if (r != SUBMIT_OK) {
		smtp_reply_submit(ss, r, detail);
		return;
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
