/* cmd_logout.c: RFC 9051 §6.1.3. "LOGOUT": untagged BYE, tagged OK, then close. */
#include "session.h"

void cmd_logout(struct imap_session *is, const struct imap_cmd *cmd)
{
	if (cmd->args.len > 0) {
		imap_tagged(is, cmd, "BAD", "LOGOUT takes no arguments");
		return;
	}
	conn_puts(is->c, "* BYE postamt logging out\r\n");
	imap_tagged(is, cmd, "OK", "LOGOUT completed");
	is->state = IMAP_LOGOUT;
	conn_close(is->c);
}
