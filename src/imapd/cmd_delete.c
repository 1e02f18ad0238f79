/* cmd_delete.c: RFC 9051 §6.3.5. delete = "DELETE" SP mailbox.
 * INBOX cannot be deleted; a mailbox with children is refused (the store's choice,
 * which §6.3.5 permits). */
#include "session.h"

#include <string.h>

struct delete_job {
	const char *name;
	int r;
	const char *error;
};

static void delete_work(struct imap_session *is, void *arg)
{
	struct delete_job *j = arg;
	j->r = store_mailbox_delete(is->env->store, is->account_id, j->name, &j->error);
	if (j->error)
		j->error = arena_strdup(is->cmd_arena, j->error);
}

static void delete_done(struct imap_session *is, void *arg)
{
	struct delete_job *j = arg;
	if (j->r > 0)
		imap_tagged(is, "OK", "DELETE completed");
	else if (j->r == STORE_ENOTALLOWED)
		imap_tagged(is, "NO", "[CANNOT] %s", j->error ? j->error : "Cannot delete this mailbox");
	else
		imap_store_error(is, j->r, j->error);
}

void imap_cmd_delete(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_str in;
	if (imap_cur_astring(c, &in) < 0 || imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	const char *name, *error;
	if (imap_mailbox_arg(is, &in, &name, &error) < 0) {
		imap_tagged(is, "NO", "[CANNOT] %s", error);
		return;
	}
	if (strcmp(name, "INBOX") == 0) {
		imap_tagged(is, "NO", "[CANNOT] INBOX cannot be deleted");
		return;
	}
	struct delete_job *j = arena_alloc(is->cmd_arena, sizeof(*j));
	j->name = name;
	imap_run_async(is, delete_work, delete_done, j);
}
