/* cmd_create.c: RFC 9051 §6.3.4 CREATE with RFC 6154 §3 CREATE-SPECIAL-USE.
 *   create = "CREATE" SP mailbox [create-params]
 *   create-params = SP "(" create-param *(SP create-param) ")"
 *   create-param = "USE" SP "(" [use-attr *(SP use-attr)] ")"
 * A trailing "/" only declares the intent to create children (§6.3.4): it is dropped.
 * Parents are created as needed (the store does). RFC 8474 §4.1: the tagged OK
 * carries [MAILBOXID (id)]. */
#include "session.h"

#include <string.h>

struct create_job {
	const char *name;
	unsigned su;
	int64_t id;
	int r;
	const char *error;
};

static void create_work(struct imap_session *is, void *arg)
{
	struct create_job *j = arg;
	j->r = store_mailbox_create(is->env->store, is->account_id, j->name, j->su, &j->id, &j->error);
	if (j->error)
		j->error = arena_strdup(is->cmd_arena, j->error);
}

static void create_done(struct imap_session *is, void *arg)
{
	struct create_job *j = arg;
	if (j->r > 0) {
		char id[24];
		store_id_mailbox(j->id, id);
		imap_tagged(is, "OK", "[MAILBOXID (%s)] CREATE completed", id);
	}
	else if (j->r == STORE_EEXISTS)
		imap_tagged(is, "NO", "[ALREADYEXISTS] Mailbox already exists");
	else
		imap_store_error(is, j->r, j->error);
}

void imap_cmd_create(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_str in;
	unsigned su = 0;
	if (imap_cur_astring(c, &in) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (imap_cur_skip(c, ' ')) {
		if (!imap_cur_skip(c, '(') || !imap_cur_keyword(c, "USE") || imap_cur_sp(c) < 0) {
			c->error = "Expected (USE (...))";
			imap_bad_args(is, cmd);
			return;
		}
		const char **flags;
		size_t n;
		if (imap_cur_flag_list(c, &flags, &n) < 0 || !imap_cur_skip(c, ')')) {
			imap_bad_args(is, cmd);
			return;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned bit = store_special_use_parse(flags[i]);
			if (bit == 0) {
				imap_tagged(is, "NO", "[USEATTR] Unsupported special-use attribute %s", flags[i]);
				return;
			}
			su |= bit;
		}
	}
	if (imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	/* "foo/" means "foo" (§6.3.4) */
	if (in.len > 1 && in.s[in.len - 1] == '/') {
		((char *)in.s)[--in.len] = '\0';
	}
	const char *name, *error;
	if (imap_mailbox_arg(is, &in, &name, &error) < 0) {
		imap_tagged(is, "NO", "[CANNOT] %s", error);
		return;
	}
	if (strcmp(name, "INBOX") == 0) {
		imap_tagged(is, "NO", "[ALREADYEXISTS] INBOX always exists");
		return;
	}
	struct create_job *j = arena_alloc(is->cmd_arena, sizeof(*j));
	j->name = name;
	j->su = su;
	imap_run_async(is, create_work, create_done, j);
}
