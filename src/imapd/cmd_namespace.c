/* cmd_namespace.c: RFC 9051 §6.3.10 (RFC 2342). namespace = "NAMESPACE".
 * One personal namespace with prefix "" and delimiter "/"; no other users' or
 * shared namespaces. */
#include "session.h"

void imap_cmd_namespace(struct imap_session *is, struct imap_cmd *cmd)
{
	if (imap_cur_eol(&cmd->args) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	imap_printf(is, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	imap_tagged(is, "OK", "NAMESPACE completed");
}
