/* cmd_rename.c: RFC 9051 §6.3.6. rename = "RENAME" SP mailbox SP mailbox.
 * Children move along; renaming INBOX moves its messages to the new mailbox and
 * leaves INBOX empty (the store implements both). */
#include "session.h"

struct rename_job {
	const char *from, *to;
	int r;
	const char *error;
};

static void rename_work(struct imap_session *is, void *arg)
{
	struct rename_job *j = arg;
	j->r = store_mailbox_rename(is->env->store, is->account_id, j->from, j->to, &j->error);
	if (j->error)
		j->error = arena_strdup(is->cmd_arena, j->error);
}

static void rename_done(struct imap_session *is, void *arg)
{
	struct rename_job *j = arg;
	if (j->r > 0)
		imap_tagged(is, "OK", "RENAME completed");
	else
		imap_store_error(is, j->r, j->error);
}

void imap_cmd_rename(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_str a, b;
	if (imap_cur_astring(c, &a) < 0 || imap_cur_sp(c) < 0 || imap_cur_astring(c, &b) < 0 || imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	struct rename_job *j = arena_alloc(is->cmd_arena, sizeof(*j));
	const char *error;
	if (imap_mailbox_arg(is, &a, &j->from, &error) < 0 || imap_mailbox_arg(is, &b, &j->to, &error) < 0) {
		imap_tagged(is, "NO", "[CANNOT] %s", error);
		return;
	}
	imap_run_async(is, rename_work, rename_done, j);
}
