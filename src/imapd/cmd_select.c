/* cmd_select.c: RFC 9051 §6.3.2 SELECT and §6.3.3 EXAMINE, with the RFC 7162
 * parameters (CONDSTORE §3.1.8, QRESYNC §3.2.5) and RFC 8474 MAILBOXID.
 *   select = "SELECT" SP mailbox [select-params]; examine likewise
 *   select-params = SP "(" select-param *(SP select-param) ")"
 *   select-param = "CONDSTORE" / "QRESYNC" SP "(" uidvalidity SP mod-sequence-value
 *                  [SP known-uids] [SP seq-match-data] ")"
 *   seq-match-data = "(" known-sequence-set SP known-uid-set ")"
 * Responses: FLAGS, PERMANENTFLAGS, EXISTS, (IMAP4rev1: RECENT, UNSEEN), UIDVALIDITY,
 * UIDNEXT, HIGHESTMODSEQ (always: every mailbox keeps MODSEQs, so NOMODSEQ is never
 * needed), MAILBOXID, (IMAP4rev2: LIST with the mailbox name); with QRESYNC and a
 * matching UIDVALIDITY, VANISHED (EARLIER) for the UIDs expunged since the client's
 * MODSEQ (only those in known-uids when given; the store keeps every expunged UID, so
 * seq-match-data is checked for syntax only) and FETCH (UID FLAGS MODSEQ) for the
 * messages changed since; then OK [READ-WRITE] or [READ-ONLY]. A failed SELECT
 * leaves no mailbox selected (§6.3.2). SELECT claims the IMAP4rev1 \Recent messages
 * (a store write), so the work runs on the pool. When that write fails (a full disk:
 * review finding 10) SELECT still opens the mailbox read-write, showing \Recent as
 * EXAMINE would (the messages stay recent for the next session), and logs why, so that
 * users can still expunge to free space. Everything the responses say (EXISTS, UIDNEXT,
 * HIGHESTMODSEQ, the sequence map, FLAGS, UNSEEN, VANISHED and FETCH) comes from one
 * snapshot of the store (store_mailbox_snapshot), and the view syncs on from its
 * HIGHESTMODSEQ: a message that another session expunges while SELECT runs is still
 * reported with the rest and goes with a later VANISHED/EXPUNGE (issue 16). */
#include "session.h"

#include "log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct select_job {
	const char *name;
	bool readonly;
	int r;
	const char *error;
	struct store_mailbox_snapshot snap; /* what the responses report (cmd_arena) */
	uint32_t first_unseen; /* sequence number, 0 if none */
	/* QRESYNC parameters */
	bool qresync;
	uint32_t q_uidvalidity;
	uint64_t q_modseq;
	struct imap_seqset q_known; /* n == 0: not given */
	struct buf resync;          /* VANISHED (EARLIER) and FETCH lines (heap) */
	const char *recent_error;   /* claiming \Recent failed (cmd_arena), NULL if not */
	int recent_r;
};

static bool in_known(const struct imap_seqset *k, uint32_t uid)
{
	if (k->n == 0)
		return true;
	for (size_t i = 0; i < k->n; i++) {
		uint32_t lo = k->r[i].lo, hi = k->r[i].hi;
		if (lo == 0)
			lo = UINT32_MAX;
		if (hi == 0)
			hi = UINT32_MAX;
		if (lo > hi) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		if (uid >= lo && uid <= hi)
			return true;
	}
	return false;
}

/* RFC 7162 §3.2.5.1: what changed since the client's MODSEQ, from the snapshot the view
 * was opened from (on the pool thread) */
static void resync_work(struct imap_session *is, struct select_job *j)
{
	struct imap_view *v = &is->view;
	const struct store_mailbox_snapshot *sn = &j->snap;
	uint32_t *gone = arena_alloc(is->cmd_arena, (sn->nvanished + 1) * sizeof(*gone));
	size_t k = 0;
	for (size_t i = 0; i < sn->nvanished; i++)
		if (in_known(&j->q_known, sn->vanished[i]) && imap_view_index(v, sn->vanished[i]) < 0)
			gone[k++] = sn->vanished[i];
	if (k > 0) {
		buf_puts(&j->resync, "* VANISHED (EARLIER) ");
		imap_put_set(&j->resync, gone, k);
		buf_puts(&j->resync, "\r\n");
	}
	for (size_t c = 0; c < sn->nchanged; c++) {
		long i = imap_view_index(v, sn->changed[c].uid);
		assert(i >= 0); /* one snapshot: every changed message is in the UID list */
		imap_view_put_fetch_flags(is, &j->resync, (size_t)i, &sn->changed[c], true, true);
		imap_view_reported(v, (size_t)i, sn->changed[c].modseq);
	}
}

/* Parses " (CONDSTORE)" / " (QRESYNC (...))" after the mailbox name. */
static int select_params(struct imap_session *is, struct imap_cur *c, struct select_job *j, bool *condstore_r)
{
	if (imap_cur_end(c))
		return 1;
	if (imap_cur_sp(c) < 0 || !imap_cur_skip(c, '(')) {
		c->error = "Expected ( before the SELECT parameters";
		return -1;
	}
	for (;;) {
		if (imap_cur_keyword(c, "CONDSTORE")) {
			*condstore_r = true;
		} else if (imap_cur_keyword(c, "QRESYNC")) {
			if (!is->qresync) {
				c->error = "QRESYNC is not enabled (ENABLE QRESYNC first)";
				return -1;
			}
			uint64_t uv, ms;
			if (imap_cur_sp(c) < 0 || !imap_cur_skip(c, '(') || imap_cur_number(c, 1, UINT32_MAX, &uv) < 0 ||
			    imap_cur_sp(c) < 0 || imap_cur_number(c, 0, INT64_MAX, &ms) < 0) {
				if (c->error == NULL)
					c->error = "Invalid QRESYNC parameters";
				return -1;
			}
			j->qresync = true;
			j->q_uidvalidity = (uint32_t)uv;
			j->q_modseq = ms;
			if (imap_cur_skip(c, ' ') && imap_cur_peek(c) != '(') {
				if (imap_cur_seqset(c, false, 100000, &j->q_known) < 0)
					return -1;
				(void)imap_cur_skip(c, ' ');
			}
			if (imap_cur_skip(c, '(')) {
				/* seq-match-data: checked, not needed */
				struct imap_seqset a, b;
				if (imap_cur_seqset(c, false, 100000, &a) < 0 || imap_cur_sp(c) < 0 ||
				    imap_cur_seqset(c, false, 100000, &b) < 0 || !imap_cur_skip(c, ')')) {
					if (c->error == NULL)
						c->error = "Invalid QRESYNC sequence match data";
					return -1;
				}
			}
			if (!imap_cur_skip(c, ')')) {
				c->error = "Expected ) after the QRESYNC parameters";
				return -1;
			}
		} else {
			c->error = "Unknown SELECT parameter";
			return -1;
		}
		if (imap_cur_skip(c, ')'))
			break;
		if (imap_cur_sp(c) < 0)
			return -1;
	}
	return imap_cur_eol(c);
}

static void select_work(struct imap_session *is, void *arg)
{
	struct select_job *j = arg;
	struct store *store = is->env->store;
	struct store_mailbox mb;
	j->r = store_mailbox_get(store, is->cmd_arena, is->account_id, j->name, &mb, &j->error);
	if (j->r <= 0)
		return;
	uint32_t first_recent = mb.first_recent_uid;
	if (!j->readonly && mb.recent > 0) {
		/* a write (group commit): only when there is something to claim */
		uint32_t claimed;
		const char *error;
		int r = store_mailbox_claim_recent(store, is->account_id, mb.id, &claimed, &error);
		if (r > 0) {
			first_recent = claimed;
		} else if (r == STORE_ENOTFOUND) { /* deleted meanwhile */
			j->r = r;
			j->error = arena_strdup(is->cmd_arena, error ? error : "");
			return;
		} else { /* e.g. a full disk: open it all the same, \Recent as EXAMINE shows it */
			j->recent_r = r;
			j->recent_error = arena_strdup(is->cmd_arena, error ? error : "");
		}
	}
	/* everything the responses say, from one read transaction (issue 16: read apart,
	 * a message expunged between the UID list and the QRESYNC changes was counted in
	 * EXISTS but reported neither by FETCH nor by VANISHED) */
	bool resync = j->qresync && j->q_uidvalidity == mb.uidvalidity; /* else a full sync (§3.2.5) */
	j->r = store_mailbox_snapshot(store, is->cmd_arena, is->account_id, mb.id, resync, j->q_modseq, &j->snap,
				      &j->error);
	if (j->r <= 0)
		return; /* 0: deleted meanwhile */
	imap_view_open(is, &j->snap, j->readonly);
	/* what SELECT claimed (EXAMINE: what nobody claimed yet) up to the UIDNEXT read
	 * before the claim; later arrivals are claimed by the sync that sees them */
	imap_view_recent_add(&is->view, first_recent, mb.uidnext);
	if (resync && j->q_uidvalidity == j->snap.mb.uidvalidity)
		resync_work(is, j);
	if (j->snap.first_unseen > 0 && !is->rev2) {
		long i = imap_view_index(&is->view, j->snap.first_unseen);
		assert(i >= 0);
		j->first_unseen = (uint32_t)i + 1;
	}
}

static void select_done(struct imap_session *is, void *arg)
{
	struct select_job *j = arg;
	if (j->r <= 0) {
		buf_free(&j->resync);
		imap_view_close(is);
		is->state = IMAP_AUTHENTICATED;
		if (j->r == 0)
			imap_tagged(is, "NO", "[NONEXISTENT] No such mailbox");
		else
			imap_store_error(is, j->r, j->error);
		return;
	}
	if (j->recent_error != NULL)
		conn_log(is->c, LOG_WARN, "event=select_recent_failed mailbox=%s result=%d error=%s", LOG_Q(j->name),
			 j->recent_r, LOG_Q(j->recent_error));
	struct imap_view *v = &is->view;
	struct buf b = { 0 };
	struct buf kw = { 0 };
	for (size_t i = 0; j->snap.keywords && j->snap.keywords[i]; i++) {
		buf_putc(&kw, ' ');
		buf_puts(&kw, j->snap.keywords[i]);
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
			recent += imap_view_is_recent(is, i);
		buf_printf(&b, "* %zu RECENT\r\n", recent);
		if (j->first_unseen)
			buf_printf(&b, "* OK [UNSEEN %u] First unseen\r\n", j->first_unseen);
	}
	buf_printf(&b, "* OK [UIDVALIDITY %u] UIDs valid\r\n", v->uidvalidity);
	buf_printf(&b, "* OK [UIDNEXT %u] Predicted next UID\r\n", v->uidnext);
	buf_printf(&b, "* OK [HIGHESTMODSEQ %llu] Highest\r\n", (unsigned long long)v->modseq);
	char id[24];
	store_id_mailbox(v->mailbox_id, id);
	buf_printf(&b, "* OK [MAILBOXID (%s)] Ok\r\n", id);
	if (is->rev2) {
		buf_puts(&b, "* LIST () \"/\" ");
		imap_put_mailbox_name(is, &b, v->name);
		buf_puts(&b, "\r\n");
	}
	buf_append(&b, j->resync.data, j->resync.len);
	buf_free(&j->resync);
	imap_write(is, b.data, b.len);
	buf_free(&b);
	buf_free(&kw);
	is->selected = true;
	is->state = IMAP_SELECTED;
	v->dirty = true; /* changes between the snapshot and now come with the next sync */
	is->cmd_flags |= IMAP_CMD_NO_EXPUNGE; /* nothing to expunge in a fresh view */
	imap_tagged(is, "OK", "[%s] %s completed", v->readonly ? "READ-ONLY" : "READ-WRITE", v->readonly ? "EXAMINE" : "SELECT");
}

void imap_cmd_select(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_str in;
	struct select_job *j = arena_alloc(is->cmd_arena, sizeof(*j));
	bool condstore = false;
	if (imap_cur_astring(c, &in) < 0 || select_params(is, c, j, &condstore) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	bool was_selected = is->selected;
	imap_view_close(is);
	is->state = IMAP_AUTHENTICATED;
	if (condstore || j->qresync)
		imap_condstore_enable(is); /* not selected now: no untagged HIGHESTMODSEQ */
	/* RFC 7162 §3.2.11: [CLOSED] also for QRESYNC clients */
	if (was_selected && (is->rev2 || is->qresync))
		imap_printf(is, "* OK [CLOSED] Previous mailbox closed\r\n");
	const char *name, *error;
	if (imap_mailbox_arg(is, &in, &name, &error) < 0) {
		imap_tagged(is, "NO", "[CANNOT] %s", error);
		return;
	}
	j->name = name;
	j->readonly = strcmp(cmd->name, "EXAMINE") == 0;
	imap_run_async(is, select_work, select_done, j);
}
