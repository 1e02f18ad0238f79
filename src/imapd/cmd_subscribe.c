/* cmd_subscribe.c: RFC 9051 §6.3.7 SUBSCRIBE and §6.3.8 UNSUBSCRIBE.
 *   subscribe = "SUBSCRIBE" SP mailbox; unsubscribe = "UNSUBSCRIBE" SP mailbox
 * Only existing mailboxes can be subscribed here (refusing a name that never existed
 * is allowed; Dovecot does too). A subscription outlives its mailbox (DELETE keeps
 * it, RFC 9051 §6.3.7; LIST shows it \NonExistent); unsubscribing a name that does
 * not exist succeeds. */
#include "session.h"

#include <string.h>

struct sub_job {
	const char *name;
	bool on;
	int r;
	const char *error;
};

static void sub_work(struct imap_session *is, void *arg)
{
	struct sub_job *j = arg;
	j->r = store_mailbox_subscribe(is->env->store, is->account_id, j->name, j->on, &j->error);
	if (j->error)
		j->error = arena_strdup(is->cmd_arena, j->error);
}

static void sub_done(struct imap_session *is, void *arg)
{
	struct sub_job *j = arg;
	if (j->r > 0 || (!j->on && j->r == STORE_ENOTFOUND))
		imap_tagged(is, "OK", "%s completed", j->on ? "SUBSCRIBE" : "UNSUBSCRIBE");
	else
		imap_store_error(is, j->r, j->error);
}

void imap_cmd_subscribe(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_str in;
	if (imap_cur_astring(c, &in) < 0 || imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	struct sub_job *j = arena_alloc(is->cmd_arena, sizeof(*j));
	const char *error;
	if (imap_mailbox_arg(is, &in, &j->name, &error) < 0) {
		imap_tagged(is, "NO", "[CANNOT] %s", error);
		return;
	}
	j->on = strcmp(cmd->name, "SUBSCRIBE") == 0;
	imap_run_async(is, sub_work, sub_done, j);
}
