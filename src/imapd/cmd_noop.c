/* cmd_noop.c: RFC 9051 §6.1.2 "NOOP" and RFC 3501 §6.4.1 "CHECK".
 * NOOP is how clients poll: the pending EXISTS/EXPUNGE/FETCH of the selected mailbox
 * go out before the tagged OK (imap_tagged syncs the view), and nothing else: no
 * STATUS for the selected mailbox (peers-features §4.10). */
#include "session.h"

void imap_cmd_noop(struct imap_session *is, struct imap_cmd *cmd)
{
	if (imap_cur_eol(&cmd->args) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	/* a poll asks the store even when no event arrived yet (events come on the loop
	 * after the change's committer is done; a client that saw another session's
	 * tagged OK expects its changes now) */
	if (is->selected)
		is->view.dirty = true;
	imap_tagged(is, "OK", "%s completed", cmd->name);
}
