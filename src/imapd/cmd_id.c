/* cmd_id.c: RFC 2971 §3.1. id = "ID" SP id-params-list;
 * id-params-list = "(" *(string SP nstring) ")" / nil. We answer with our name. */
#include "session.h"

void imap_cmd_id(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	if (!imap_cur_keyword(c, "NIL")) {
		if (!imap_cur_skip(c, '(')) {
			c->error = "Expected a parameter list or NIL";
			imap_bad_args(is, cmd);
			return;
		}
		int pairs = 0;
		while (!imap_cur_skip(c, ')')) {
			struct imap_str k, v;
			if ((pairs > 0 && imap_cur_sp(c) < 0) || imap_cur_string(c, &k) < 0 || imap_cur_sp(c) < 0 ||
			    imap_cur_nstring(c, &v) < 0 || ++pairs > 30) {
				if (c->error == NULL)
					c->error = "Too many ID parameters";
				imap_bad_args(is, cmd);
				return;
			}
		}
	}
	if (imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	imap_printf(is, "* ID (\"name\" \"postamt\" \"version\" \"%s\")\r\n", POSTAMT_VERSION);
	imap_tagged(is, "OK", "ID completed");
}
