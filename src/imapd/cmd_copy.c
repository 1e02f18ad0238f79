/* cmd_copy.c: RFC 9051 §6.4.7 COPY, §6.4.8 MOVE (RFC 6851) and their UID forms, with
 * UIDPLUS COPYUID (RFC 4315 §3).
 *   copy = "COPY" SP sequence-set SP mailbox; move = "MOVE" SP sequence-set SP mailbox
 * COPY answers OK [COPYUID uidvalidity source-uids dest-uids]; MOVE sends the COPYUID
 * in an untagged OK, then EXPUNGE for every moved message, then the tagged OK.
 * A missing target gets NO [TRYCREATE]; a full account NO [OVERQUOTA]. MOVE into the
 * selected mailbox itself is allowed (RFC 6851 §3.3 does not forbid it; Dovecot does it):
 * the messages get new UIDs, the old ones are expunged. */
#include "session.h"

#include <stdlib.h>
#include <string.h>

struct copy_job {
	struct imap_session *is;
	struct arena *op;
	struct store_copy cp;
};

static void copy_cb(void *arg, int result, const char *error)
{
	struct copy_job *j = arg;
	struct imap_session *is = j->is;
	if (!conn_is_closed(is->c)) {
		if (result == STORE_ENOTFOUND) {
			imap_tagged(is, "NO", "[TRYCREATE] No such mailbox");
		} else if (result < 0) {
			imap_store_error(is, result, error);
		} else {
			struct buf code = { 0 };
			if (j->cp.n > 0) {
				buf_printf(&code, "[COPYUID %u ", j->cp.dst_uidvalidity);
				imap_put_set(&code, j->cp.src_uids, j->cp.n);
				buf_putc(&code, ' ');
				imap_put_set(&code, j->cp.dst_uids, j->cp.n);
				buf_puts(&code, "] ");
			}
			if (j->cp.move) {
				if (code.len)
					imap_printf(is, "* OK %sMoved\r\n", buf_str(&code));
				struct imap_view *v = &is->view;
				for (size_t i = 0; i < j->cp.n; i++) {
					imap_view_gone(v, j->cp.src_uids[i]);
				}
				if (is->view.mailbox_id == j->cp.dst_mailbox_id)
					is->view.dirty = true;
				imap_tagged(is, "OK", "%sMOVE completed", is->cmd_uid ? "UID " : "");
			} else {
				if (is->view.mailbox_id == j->cp.dst_mailbox_id)
					is->view.dirty = true;
				imap_tagged(is, "OK", "%s%sCOPY completed", buf_str(&code), is->cmd_uid ? "UID " : "");
			}
			buf_free(&code);
		}
	}
	arena_free(&j->op);
	free(j);
	conn_release(is->c);
}

void imap_cmd_copy(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_seqset set;
	struct imap_str in;
	if (imap_cur_seqset(c, true, SIZE_MAX, &set) < 0 || imap_cur_sp(c) < 0 || imap_cur_astring(c, &in) < 0 ||
	    imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	bool move = strcmp(cmd->name, "MOVE") == 0;
	if (move && is->view.readonly) {
		imap_tagged(is, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	const char *name, *error;
	if (imap_mailbox_arg(is, &in, &name, &error) < 0) {
		imap_tagged(is, "NO", "[CANNOT] %s", error);
		return;
	}
	size_t *idx, n;
	if (imap_view_resolve(is, &set, cmd->uid, &idx, &n, &error) < 0) {
		imap_tagged(is, "BAD", "%s", error);
		imap_client_error(is);
		return;
	}
	struct store_mailbox mb;
	int r = store_mailbox_get(is->env->store, is->cmd_arena, is->account_id, name, &mb, &error);
	if (r == 0) {
		imap_tagged(is, "NO", "[TRYCREATE] No such mailbox");
		return;
	}
	if (r < 0) {
		imap_store_error(is, r, error);
		return;
	}
	if (n == 0) {
		imap_tagged(is, "OK", "%s%s completed", cmd->uid ? "UID " : "", cmd->name);
		return;
	}
	struct copy_job *j = xcalloc(1, sizeof(*j));
	j->is = is;
	j->op = arena_new();
	j->cp = (struct store_copy){
		.account_id = is->account_id,
		.src_mailbox_id = is->view.mailbox_id,
		.dst_mailbox_id = mb.id,
		.uids = imap_view_uidset(is, idx, n),
		.move = move,
	};
	conn_hold(is->c);
	store_copy_async(is->env->store, j->op, &j->cp, conn_loop(is->c), copy_cb, j);
}
