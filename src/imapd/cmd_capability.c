/* cmd_capability.c: RFC 9051 §6.1.1. capability = "CAPABILITY" */
#include "session.h"

void imap_cmd_capability(struct imap_session *is, struct imap_cmd *cmd)
{
	if (imap_cur_eol(&cmd->args) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	conn_puts(is->c, "* CAPABILITY ");
	imap_write_capabilities(is);
	conn_puts(is->c, "\r\n");
	imap_tagged(is, "OK", "CAPABILITY completed");
}
