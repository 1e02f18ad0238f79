/* cmd_select.c: RFC 9051 §6.3.2 SELECT and §6.3.3 EXAMINE.
 *   select = "SELECT" SP mailbox; examine = "EXAMINE" SP mailbox
 * Responses: FLAGS, PERMANENTFLAGS, EXISTS, (IMAP4rev1: RECENT, UNSEEN), UIDVALIDITY,
 * UIDNEXT, (IMAP4rev2: LIST with the mailbox name), then OK [READ-WRITE] or
 * [READ-ONLY]. A failed SELECT leaves no mailbox selected (§6.3.2). SELECT claims
 * the IMAP4rev1 \Recent messages (a store write), so the work runs on the pool. */
#include "session.h"

#include <stdlib.h>
#include <string.h>

struct select_job {
	const char *name;
	bool readonly;
	int r;
	const char *error;
	struct store_mailbox mb;
	const char **keywords;
	uint32_t first_unseen; /* sequence number, 0 if none */
};

static void select_work(struct imap_session *is, void *arg)
{
	struct select_job *j = arg;
	j->r = store_mailbox_get(is->env->store, is->cmd_arena, is->account_id, j->name, &j->mb, &j->error);
	if (j->r <= 0)
		return;
	uint32_t first_recent = j->mb.first_recent_uid;
	if (!j->readonly) {
		j->r = store_mailbox_claim_recent(is->env->store, is->account_id, j->mb.id, &first_recent, &j->error);
		if (j->r < 0)
			return;
	}
	j->r = view_open(is, &j->mb, j->readonly, &j->error);
	if (j->r < 0)
		return;
	is->view.first_recent = first_recent;
	if (store_mailbox_keywords(is->env->store, is->cmd_arena, is->account_id, j->mb.id, &j->keywords, &j->error) < 0)
		j->keywords = NULL;
	if (j->mb.unseen > 0) {
		for (size_t i = 0; i < is->view.n; i++) {
			if (!(is->view.flags[i] & STORE_F_SEEN)) {
				j->first_unseen = (uint32_t)i + 1;
				break;
			}
		}
	}
}

static void select_done(struct imap_session *is, void *arg)
{
	struct select_job *j = arg;
	if (j->r <= 0) {
		view_close(is);
		is->state = IMAP_AUTHENTICATED;
		if (j->r == 0)
			imap_tagged(is, "NO", "[NONEXISTENT] No such mailbox");
		else
			imap_store_error(is, j->r, j->error);
		return;
	}
	struct imap_view *v = &is->view;
	struct buf b = { 0 };
	struct buf kw = { 0 };
	for (size_t i = 0; j->keywords && j->keywords[i]; i++) {
		buf_putc(&kw, ' ');
		buf_puts(&kw, j->keywords[i]);
		v->nkeywords++;
	}
	buf_printf(&b, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s)\r\n", buf_str(&kw));
	if (v->readonly)
		buf_puts(&b, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
	else
		buf_printf(&b, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s \\*)] Flags permitted\r\n",
			   buf_str(&kw));
	buf_printf(&b, "* %zu EXISTS\r\n", v->n);
	if (!is->rev2) {
		size_t recent = 0;
		for (size_t i = 0; i < v->n; i++)
			recent += view_is_recent(is, i);
		buf_printf(&b, "* %zu RECENT\r\n", recent);
		if (j->first_unseen)
			buf_printf(&b, "* OK [UNSEEN %u] First unseen\r\n", j->first_unseen);
	}
	buf_printf(&b, "* OK [UIDVALIDITY %u] UIDs valid\r\n", v->uidvalidity);
	buf_printf(&b, "* OK [UIDNEXT %u] Predicted next UID\r\n", v->uidnext);
	if (is->rev2) {
		buf_puts(&b, "* LIST () \"/\" ");
		imap_put_mailbox_name(is, &b, v->name);
		buf_puts(&b, "\r\n");
	}
	imap_write(is, b.data, b.len);
	buf_free(&b);
	buf_free(&kw);
	is->selected = true;
	is->state = IMAP_SELECTED;
	v->dirty = true; /* changes between the snapshot and now come with the next sync */
	is->cmd_flags |= IMAP_CMD_NO_EXPUNGE; /* nothing to expunge in a fresh view */
	imap_tagged(is, "OK", "[%s] %s completed", v->readonly ? "READ-ONLY" : "READ-WRITE", v->readonly ? "EXAMINE" : "SELECT");
}

void cmd_select(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_str in;
	if (imap_cur_astring(c, &in) < 0 || imap_cur_eol(c) < 0) {
		/* RFC 7162 SELECT parameters are not supported (CONDSTORE is not offered) */
		imap_bad_args(is, cmd);
		return;
	}
	bool was_selected = is->selected;
	view_close(is);
	is->state = IMAP_AUTHENTICATED;
	if (was_selected && is->rev2)
		imap_printf(is, "* OK [CLOSED] Previous mailbox closed\r\n");
	const char *name, *error;
	if (imap_mailbox_arg(is, &in, &name, &error) < 0) {
		imap_tagged(is, "NO", "[CANNOT] %s", error);
		return;
	}
	struct select_job *j = arena_alloc(is->cmd_arena, sizeof(*j));
	j->name = name;
	j->readonly = strcmp(cmd->name, "EXAMINE") == 0;
	imap_run_async(is, select_work, select_done, j);
}
