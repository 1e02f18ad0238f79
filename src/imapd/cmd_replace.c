/* cmd_replace.c: RFC 8508 REPLACE and UID REPLACE.
 *   replace = "REPLACE" SP seq-number SP mailbox append-message
 *   uid-replace = "UID" SP replace          (seq-number is then a UID)
 * Appends the new message to `mailbox` (which may be another one than the selected)
 * and expunges the old one from the selected mailbox, both in one store transaction
 * (store_append_many with expunge_uid): either both happen or neither. The old
 * message is expunged whatever its \Deleted flag. Responses in the order of the RFC's
 * example (with UIDPLUS): "* OK [APPENDUID v u]" first, then EXISTS when the
 * target is selected and EXPUNGE (VANISHED under QRESYNC), then the tagged OK (with
 * HIGHESTMODSEQ under CONDSTORE). A sequence number beyond the mailbox is BAD as for
 * other commands; a UID not in the mailbox, or a message expunged meanwhile by another
 * session, gets NO and nothing is appended. EXAMINE: NO [READ-ONLY]. */
#include "session.h"

#include <stdlib.h>
#include <string.h>

struct replace_job {
	struct imap_session *is;
	struct store_append_many am;
	struct store_append msg;
};

static void replace_cb(void *arg, int result, const char *error)
{
	struct replace_job *j = arg;
	struct imap_session *is = j->is;
	if (!conn_is_closed(is->c)) {
		if (result > 0) {
			imap_printf(is, "* OK [APPENDUID %u %u] Replacement message ready\r\n", j->am.uidvalidity,
				    j->msg.uid);
			struct imap_view *v = &is->view;
			if (is->selected) /* the sync finds the expunge (and the new message) */
				v->dirty = true;
			if (is->condstore && is->selected) {
				imap_view_sync(is, true);
				imap_tagged(is, "OK", "[HIGHESTMODSEQ %llu] %sREPLACE completed",
					    (unsigned long long)v->modseq, is->cmd_uid ? "UID " : "");
			} else {
				imap_tagged(is, "OK", "%sREPLACE completed", is->cmd_uid ? "UID " : "");
			}
		} else if (result == STORE_ENOTFOUND && error != NULL && strcmp(error, "no such message") == 0) {
			imap_tagged(is, "NO", "[EXPUNGEISSUED] The message to replace was expunged; nothing was appended");
		} else if (result == STORE_ENOTFOUND) {
			imap_tagged(is, "NO", "[TRYCREATE] No such mailbox");
		} else {
			imap_store_error(is, result, error);
		}
	}
	free(j);
	conn_release(is->c);
}

void imap_cmd_replace(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_view *v = &is->view;
	uint64_t num = 0;
	struct imap_str in;
	bool star = imap_cur_skip(c, '*');
	if ((!star && imap_cur_number(c, 1, UINT32_MAX, &num) < 0) || imap_cur_sp(c) < 0 ||
	    imap_cur_astring(c, &in) < 0 || imap_cur_sp(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	struct store_append msg;
	is->catenated = 0;
	int r = imap_append_message_parse(is, c, &msg);
	if (r == 0)
		return;
	if (r < 0 || imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd); /* one message only, even with MULTIAPPEND */
		return;
	}
	/* the message replaced */
	uint32_t old_uid = 0;
	if (cmd->uid) {
		if (star)
			old_uid = v->n ? v->uids[v->n - 1] : 0;
		else if (imap_view_index(v, (uint32_t)num) >= 0)
			old_uid = (uint32_t)num;
		if (old_uid == 0) {
			imap_tagged(is, "NO", "No such message");
			return;
		}
	} else {
		size_t seq = star ? v->n : (size_t)num;
		if (seq == 0 || seq > v->n) {
			imap_tagged(is, "BAD", "Invalid sequence number");
			imap_client_error(is);
			return;
		}
		old_uid = v->uids[seq - 1];
	}
	if (v->readonly) {
		imap_tagged(is, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	const char *name, *error;
	if (imap_mailbox_arg(is, &in, &name, &error) < 0) {
		imap_tagged(is, "NO", "[CANNOT] %s", error);
		return;
	}
	struct store_mailbox mb;
	r = store_mailbox_get(is->env->store, is->cmd_arena, is->account_id, name, &mb, &error);
	if (r <= 0) {
		if (r == 0)
			imap_tagged(is, "NO", "[TRYCREATE] No such mailbox");
		else
			imap_store_error(is, r, error);
		return;
	}
	struct replace_job *j = xcalloc(1, sizeof(*j));
	j->is = is;
	j->msg = msg;
	j->am = (struct store_append_many){
		.account_id = is->account_id,
		.mailbox_id = mb.id,
		.msgs = &j->msg,
		.n = 1,
		.expunge_mailbox_id = v->mailbox_id,
		.expunge_uid = old_uid,
	};
	conn_hold(is->c);
	store_append_many_async(is->env->store, &j->am, conn_loop(is->c), replace_cb, j);
}
