/* cmd_enable.c: RFC 9051 §6.3.1 (RFC 5161). enable = "ENABLE" 1*(SP capability).
 * Only IMAP4rev2 can be enabled: the session then answers SEARCH with ESEARCH, sends
 * mailbox names in UTF-8 and drops \Recent. Unknown capabilities are ignored; the
 * ENABLED response lists what this command newly enabled. */
#include "session.h"

void cmd_enable(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	bool rev2 = false;
	for (;;) {
		struct bytes cap;
		if (imap_cur_atom(c, &cap) < 0) {
			imap_bad_args(is, cmd);
			return;
		}
		if (bytes_ieq(cap, "IMAP4rev2"))
			rev2 = true;
		if (imap_cur_end(c))
			break;
		if (imap_cur_sp(c) < 0) {
			imap_bad_args(is, cmd);
			return;
		}
	}
	if (rev2 && !is->rev2) {
		is->rev2 = true;
		imap_printf(is, "* ENABLED IMAP4rev2\r\n");
	} else {
		imap_printf(is, "* ENABLED\r\n");
	}
	imap_tagged(is, "OK", "ENABLE completed");
}
