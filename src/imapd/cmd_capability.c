/* cmd_capability.c: RFC 9051 §6.1.1. capability = "CAPABILITY" */
#include "session.h"

void cmd_capability(struct imap_session *is, const struct imap_cmd *cmd)
{
	if (cmd->args.len > 0) {
		imap_tagged(is, cmd, "BAD", "CAPABILITY takes no arguments");
		return;
	}
	conn_puts(is->c, "* CAPABILITY ");
	imap_write_capabilities(is);
	conn_puts(is->c, "\r\n");
	imap_tagged(is, cmd, "OK", "CAPABILITY completed");
}
