/* cmd_store.c: RFC 9051 §6.4.6 STORE and §6.4.9 UID STORE, RFC 7162 §3.1.3
 * UNCHANGEDSINCE.
 *   store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags
 *   store-modifiers = SP "(" store-modifier *(SP store-modifier) ")"
 *   store-modifier = "UNCHANGEDSINCE" SP mod-sequence-valzer
 *   store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
 * Messages whose MODSEQ is above UNCHANGEDSINCE are left alone and listed in the
 * tagged OK [MODIFIED set] (sequence numbers, or UIDs for UID STORE); with
 * CONDSTORE enabled every answer FETCH carries MODSEQ, even for .SILENT.
 * The change is a store write (group commit) on the committer; then the new flags of
 * every message in the set go out as untagged FETCH (with UID for UID STORE), unless
 * .SILENT and the client can compute them itself (RFC 3501 §6.4.6: a change from
 * another session is reported even then; issue 16). \Recent cannot be stored and is ignored; unknown system flags are BAD. */
#include "session.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct store_job {
	struct imap_session *is;
	struct arena *op;
	struct store_flag_change fc;
	struct store_uidset set;
	bool silent;
	bool guard;
};

static void store_cb(void *arg, int result, const char *error)
{
	struct store_job *j = arg;
	struct imap_session *is = j->is;
	if (!conn_is_closed(is->c)) {
		if (result < 0) {
			imap_store_error(is, result, error);
		} else if (j->guard && j->fc.nmodified > 0) {
			/* report the messages that passed, then MODIFIED with the others */
			size_t total = 0;
			for (size_t i = 0; i < j->set.n; i++)
				total += (size_t)(j->set.r[i].hi - j->set.r[i].lo) + 1;
			struct store_range *r = arena_alloc(is->cmd_arena, (total + 1) * sizeof(*r));
			size_t nr = 0, m = 0;
			for (size_t i = 0; i < j->set.n; i++) {
				for (uint64_t u = j->set.r[i].lo; u <= j->set.r[i].hi; u++) {
					while (m < j->fc.nmodified && j->fc.modified[m] < u)
						m++;
					if (m < j->fc.nmodified && j->fc.modified[m] == u)
						continue;
					r[nr++] = (struct store_range){ (uint32_t)u, (uint32_t)u };
				}
			}
			struct store_uidset ok = { r, nr };
			if (ok.n > 0)
				imap_view_refresh_flags(is, &ok, j->silent, is->cmd_uid, &j->fc);
			uint32_t *mod = arena_alloc(is->cmd_arena, (j->fc.nmodified + 1) * sizeof(*mod));
			size_t k = 0;
			for (size_t i = 0; i < j->fc.nmodified; i++) {
				long x = imap_view_index(&is->view, j->fc.modified[i]);
				if (x >= 0)
					mod[k++] = is->cmd_uid ? j->fc.modified[i] : (uint32_t)x + 1;
			}
			struct buf b = { 0 };
			imap_put_set(&b, mod, k);
			imap_tagged(is, "OK", "[MODIFIED %s] Conditional STORE failed for some messages", buf_str(&b));
			buf_free(&b);
		} else {
			imap_view_refresh_flags(is, &j->set, j->silent, is->cmd_uid, &j->fc);
			imap_tagged(is, "OK", "%sSTORE completed", is->cmd_uid ? "UID " : "");
		}
	}
	arena_free(&j->op);
	free(j);
	conn_release(is->c);
}

void imap_cmd_store(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_seqset set;
	struct bytes item;
	const char **flags;
	size_t nflags;
	bool guard = false;
	uint64_t since = 0;
	if (imap_cur_seqset(c, true, SIZE_MAX, &set) < 0 || imap_cur_sp(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (imap_cur_skip(c, '(')) {
		if (!imap_cur_keyword(c, "UNCHANGEDSINCE")) {
			c->error = "Unknown STORE modifier";
			imap_bad_args(is, cmd);
			return;
		}
		if (imap_cur_sp(c) < 0 || imap_cur_number(c, 0, INT64_MAX, &since) < 0 || !imap_cur_skip(c, ')') ||
		    imap_cur_sp(c) < 0) {
			if (c->error == NULL)
				c->error = "Invalid UNCHANGEDSINCE";
			imap_bad_args(is, cmd);
			return;
		}
		guard = true;
	}
	if (imap_cur_atom(c, &item) < 0 || imap_cur_sp(c) < 0 || imap_cur_store_flags(c, &flags, &nflags) < 0 ||
	    imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (guard)
		imap_condstore_enable(is);
	enum store_flag_op op = STORE_FLAGS_REPLACE;
	struct bytes it = item;
	if (it.len > 0 && (it.p[0] == '+' || it.p[0] == '-')) {
		op = it.p[0] == '+' ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE;
		it.p++;
		it.len--;
	}
	bool silent = false;
	if (bytes_ieq(it, "FLAGS.SILENT")) {
		silent = true;
	} else if (!bytes_ieq(it, "FLAGS")) {
		imap_tagged(is, "BAD", "Expected FLAGS, +FLAGS or -FLAGS");
		imap_client_error(is);
		return;
	}
	unsigned bits = 0;
	const char **kws = arena_alloc(is->cmd_arena, (nflags + 1) * sizeof(*kws));
	size_t nkw = 0;
	for (size_t i = 0; i < nflags; i++) {
		if (flags[i][0] == '\\') {
			unsigned bit = store_flag_parse(flags[i]);
			if (bit == 0 && strcasecmp(flags[i], "\\Recent") != 0) {
				imap_tagged(is, "BAD", "Invalid flag %s", flags[i]);
				imap_client_error(is);
				return;
			}
			bits |= bit;
		} else {
			if (!store_keyword_valid(flags[i])) {
				imap_tagged(is, "BAD", "Invalid keyword");
				imap_client_error(is);
				return;
			}
			kws[nkw++] = flags[i];
		}
	}
	kws[nkw] = NULL;
	if (is->view.readonly) {
		imap_tagged(is, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	size_t *idx, n;
	const char *error;
	if (imap_view_resolve(is, &set, cmd->uid, &idx, &n, &error) < 0) {
		imap_tagged(is, "BAD", "%s", error);
		imap_client_error(is);
		return;
	}
	if (n == 0) {
		imap_tagged(is, "OK", "%sSTORE completed", cmd->uid ? "UID " : "");
		return;
	}
	if (guard && since == 0) {
		/* RFC 7162 §3.1.3: UNCHANGEDSINCE 0 always fails (every MODSEQ is >= 1) */
		uint32_t *mod = arena_alloc(is->cmd_arena, n * sizeof(*mod));
		for (size_t i = 0; i < n; i++)
			mod[i] = cmd->uid ? is->view.uids[idx[i]] : (uint32_t)idx[i] + 1;
		struct buf b = { 0 };
		imap_put_set(&b, mod, n);
		imap_tagged(is, "OK", "[MODIFIED %s] Conditional STORE failed", buf_str(&b));
		buf_free(&b);
		return;
	}
	struct store_job *j = xcalloc(1, sizeof(*j));
	j->is = is;
	j->op = arena_new();
	j->set = imap_view_uidset(is, idx, n);
	j->silent = silent;
	j->guard = guard;
	j->fc = (struct store_flag_change){
		.unchanged_since = since,
		.account_id = is->account_id,
		.mailbox_id = is->view.mailbox_id,
		.uids = j->set,
		.op = op,
		.flags = bits,
		.keywords = kws,
	};
	conn_hold(is->c);
	store_flags_async(is->env->store, j->op, &j->fc, conn_loop(is->c), store_cb, j);
}
