/* cmd_logout.c: RFC 9051 §6.1.3. "LOGOUT": untagged BYE, tagged OK, then close. */
#include "session.h"

void imap_cmd_logout(struct imap_session *is, struct imap_cmd *cmd)
{
	if (imap_cur_eol(&cmd->args) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	conn_puts(is->c, "* BYE postamt logging out\r\n");
	is->selected = false; /* no more untagged updates */
	imap_tagged(is, "OK", "LOGOUT completed");
	is->state = IMAP_LOGOUT;
	conn_close(is->c);
}
