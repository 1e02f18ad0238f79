/* cmd_status.c: RFC 9051 §6.3.11 STATUS, with STATUS=SIZE (RFC 8438), APPENDLIMIT
 * (RFC 7889 §5), HIGHESTMODSEQ (RFC 7162 §3.1.6, a CONDSTORE-enabling item) and
 * MAILBOXID (RFC 8474 §4.3).
 *   status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
 *   status-att = "MESSAGES" / "UIDNEXT" / "UIDVALIDITY" / "UNSEEN" / "DELETED" / "SIZE"
 *                / RFC 3501 "RECENT" / "APPENDLIMIT" / "HIGHESTMODSEQ" / "MAILBOXID"
 * The same items serve LIST ... RETURN (STATUS (...)) (RFC 5819): their parse and the
 * response are in status_put.c. */
#include "session.h"

void imap_cmd_status(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_str in;
	unsigned st;
	if (imap_cur_astring(c, &in) < 0 || imap_cur_sp(c) < 0 || imap_status_items(c, &st) < 0 ||
	    imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (st & ST_HIGHESTMODSEQ)
		imap_condstore_enable(is);
	const char *name, *error;
	if (imap_mailbox_arg(is, &in, &name, &error) < 0) {
		imap_tagged(is, "NO", "[CANNOT] %s", error);
		return;
	}
	struct store_mailbox mb;
	int r = store_mailbox_get(is->env->store, is->cmd_arena, is->account_id, name, &mb, &error);
	if (r == 0) {
		imap_tagged(is, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	if (r < 0) {
		imap_store_error(is, r, error);
		return;
	}
	imap_status_write(is, &mb, st);
	imap_tagged(is, "OK", "STATUS completed");
}
