/* cmd_starttls.c: RFC 9051 §6.2.1. "STARTTLS": tagged OK, then the handshake.
 * Input pipelined after the command is dropped (conn_starttls), and the client must
 * ask for capabilities again afterwards (§6.2.1: they may change). */
#include "session.h"

#include "log.h"

void imap_cmd_starttls(struct imap_session *is, struct imap_cmd *cmd)
{
	if (imap_cur_eol(&cmd->args) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (conn_is_tls(is->c)) {
		imap_tagged(is, "BAD", "TLS is already active");
		imap_client_error(is);
		return;
	}
	imap_tagged(is, "OK", "Begin TLS negotiation now");
	if (conn_starttls(is->c) < 0) {
		conn_log(is->c, LOG_ERROR, "event=starttls_failed");
		conn_close(is->c);
	}
}
