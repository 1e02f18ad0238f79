/* cmd_enable.c: RFC 9051 §6.3.1 (RFC 5161). enable = "ENABLE" 1*(SP capability).
 * What can be enabled: IMAP4rev2 (ESEARCH answers, UTF-8 mailbox names, no \Recent),
 * CONDSTORE (RFC 7162 §3.1: MODSEQ in every unsolicited FETCH), QRESYNC (§3.2.3:
 * implies CONDSTORE, VANISHED instead of EXPUNGE, SELECT (QRESYNC ...)), UTF8=ACCEPT
 * (RFC 6855 §3: UTF-8 in quoted strings and mailbox names, APPEND UTF8 (...)).
 * Unknown capabilities are ignored; the ENABLED response lists what this command
 * newly enabled, in the order asked (RFC 5161 §3.1). */
#include "session.h"

#include <string.h>

void imap_cmd_enable(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct buf out = { 0 };
	buf_puts(&out, "* ENABLED");
	for (;;) {
		struct bytes cap;
		if (imap_cur_atom(c, &cap) < 0) {
			buf_free(&out);
			imap_bad_args(is, cmd);
			return;
		}
		const char *name = NULL;
		if (bytes_ieq(cap, "IMAP4rev2") && !is->rev2) {
			is->rev2 = true;
			name = "IMAP4rev2";
		} else if (bytes_ieq(cap, "CONDSTORE") && !is->condstore) {
			name = "CONDSTORE";
			imap_condstore_enable(is);
		} else if (bytes_ieq(cap, "QRESYNC") && !is->qresync) {
			name = "QRESYNC";
			is->qresync = true;
			imap_condstore_enable(is);
		} else if (bytes_ieq(cap, "UTF8=ACCEPT") && !is->utf8) {
			name = "UTF8=ACCEPT";
			is->utf8 = true;
		}
		if (name != NULL) {
			buf_putc(&out, ' ');
			buf_puts(&out, name);
		}
		if (imap_cur_end(c))
			break;
		if (imap_cur_sp(c) < 0) {
			buf_free(&out);
			imap_bad_args(is, cmd);
			return;
		}
	}
	buf_puts(&out, "\r\n");
	imap_write(is, out.data, out.len);
	buf_free(&out);
	imap_tagged(is, "OK", "ENABLE completed");
}
