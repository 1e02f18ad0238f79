/* cmd_close.c: RFC 9051 §6.4.1 CLOSE and §6.4.2 UNSELECT (RFC 3691).
 *   close = "CLOSE"; unselect = "UNSELECT"
 * CLOSE silently expunges the \Deleted messages (no EXPUNGE responses) unless the
 * mailbox is read-only; UNSELECT does not. Both return to the authenticated state. */
#include "session.h"

#include <stdlib.h>
#include <string.h>

struct close_job {
	struct imap_session *is;
	struct arena *op;
};

static void deselect(struct imap_session *is)
{
	imap_view_close(is);
	is->state = IMAP_AUTHENTICATED;
}

static void close_cb(void *arg, int result, const char *error)
{
	struct close_job *j = arg;
	struct imap_session *is = j->is;
	if (!conn_is_closed(is->c)) {
		deselect(is);
		if (result < 0)
			imap_store_error(is, result, error);
		else
			imap_tagged(is, "OK", "CLOSE completed");
	}
	arena_free(&j->op);
	free(j);
	conn_release(is->c);
}

void imap_cmd_close(struct imap_session *is, struct imap_cmd *cmd)
{
	if (imap_cur_eol(&cmd->args) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (strcmp(cmd->name, "UNSELECT") == 0 || is->view.readonly) {
		deselect(is);
		imap_tagged(is, "OK", "%s completed", cmd->name);
		return;
	}
	struct close_job *j = xcalloc(1, sizeof(*j));
	j->is = is;
	j->op = arena_new();
	conn_hold(is->c);
	store_expunge_async(is->env->store, j->op, is->account_id, is->view.mailbox_id, NULL, true, NULL, NULL,
			    conn_loop(is->c), close_cb, j);
}
