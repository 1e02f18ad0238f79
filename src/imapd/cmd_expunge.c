/* cmd_expunge.c: RFC 9051 §6.4.3 EXPUNGE and UID EXPUNGE (RFC 4315 §2.1, §6.4.9).
 *   expunge = "EXPUNGE"; uid-expunge = "UID" SP "EXPUNGE" SP sequence-set
 * Removes the messages with \Deleted (of the set, for UID EXPUNGE); an untagged
 * EXPUNGE for each goes out (highest sequence number first) before the OK, together
 * with any other pending updates (VANISHED instead once QRESYNC is enabled, RFC 7162
 * §3.2.10; with CONDSTORE the OK carries the new HIGHESTMODSEQ). */
#include "session.h"

#include <stdlib.h>

struct expunge_job {
	struct imap_session *is;
	struct arena *op;
	struct store_uidset set;
	uint32_t *expunged;
	size_t n;
};

static void expunge_cb(void *arg, int result, const char *error)
{
	struct expunge_job *j = arg;
	struct imap_session *is = j->is;
	if (!conn_is_closed(is->c)) {
		if (result < 0) {
			imap_store_error(is, result, error);
		} else {
			struct imap_view *v = &is->view;
			for (size_t i = 0; i < j->n; i++) {
				imap_view_gone(v, j->expunged[i]);
			}
			if (is->condstore) {
				/* RFC 7162 §3.2.10 (and §3.1.2.1): the new HIGHESTMODSEQ with the OK */
				v->dirty = true;
				imap_view_sync(is, true);
				imap_tagged(is, "OK", "[HIGHESTMODSEQ %llu] %sEXPUNGE completed",
					    (unsigned long long)v->modseq, is->cmd_uid ? "UID " : "");
			} else {
				imap_tagged(is, "OK", "%sEXPUNGE completed", is->cmd_uid ? "UID " : "");
			}
		}
	}
	arena_free(&j->op);
	free(j);
	conn_release(is->c);
}

void imap_cmd_expunge(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_seqset set;
	if (cmd->uid && (imap_cur_seqset(c, true, SIZE_MAX, &set) < 0)) {
		imap_bad_args(is, cmd);
		return;
	}
	if (imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (is->view.readonly) {
		imap_tagged(is, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	struct expunge_job *j = xcalloc(1, sizeof(*j));
	j->is = is;
	j->op = arena_new();
	const struct store_uidset *uids = NULL;
	if (cmd->uid) {
		size_t *idx, n;
		const char *error;
		if (imap_view_resolve(is, &set, true, &idx, &n, &error) < 0 || n == 0) {
			arena_free(&j->op);
			free(j);
			imap_tagged(is, "OK", "UID EXPUNGE completed");
			return;
		}
		j->set = imap_view_uidset(is, idx, n);
		uids = &j->set;
	}
	conn_hold(is->c);
	store_expunge_async(is->env->store, j->op, is->account_id, is->view.mailbox_id, uids, true, &j->expunged, &j->n,
			    conn_loop(is->c), expunge_cb, j);
}
