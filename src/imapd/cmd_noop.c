/* cmd_noop.c: RFC 9051 §6.1.2. "NOOP"; also the point where pending untagged updates
 * are sent once mailboxes exist. */
#include "session.h"

void cmd_noop(struct imap_session *is, const struct imap_cmd *cmd)
{
	if (cmd->args.len > 0) {
		imap_tagged(is, cmd, "BAD", "NOOP takes no arguments");
		return;
	}
	imap_tagged(is, cmd, "OK", "NOOP completed");
}
