/* cmd_store.c: RFC 9051 §6.4.6 STORE and §6.4.9 UID STORE.
 *   store = "STORE" SP sequence-set SP store-att-flags
 *   store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
 * The change is a store write (group commit) on the committer; then the new flags of
 * every message in the set go out as untagged FETCH (with UID for UID STORE), unless
 * .SILENT. \Recent cannot be stored and is ignored; unknown system flags are BAD. */
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
};

static void store_cb(void *arg, int result, const char *error)
{
	struct store_job *j = arg;
	struct imap_session *is = j->is;
	if (!is->dead) {
		if (result < 0) {
			imap_store_error(is, result, error);
		} else {
			view_refresh_flags(is, &j->set, j->silent, is->cmd_uid);
			imap_tagged(is, "OK", "%sSTORE completed", is->cmd_uid ? "UID " : "");
		}
	}
	arena_free(&j->op);
	free(j);
	imap_busy_end(is);
}

void cmd_store(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_seqset set;
	struct bytes item;
	const char **flags;
	size_t nflags;
	if (imap_cur_seqset(c, true, SIZE_MAX, &set) < 0 || imap_cur_sp(c) < 0 || imap_cur_atom(c, &item) < 0 ||
	    imap_cur_sp(c) < 0 || imap_cur_store_flags(c, &flags, &nflags) < 0 || imap_cur_eol(c) < 0) {
		/* RFC 7162 UNCHANGEDSINCE is not supported (CONDSTORE is not offered) */
		imap_bad_args(is, cmd);
		return;
	}
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
	if (view_resolve(is, &set, cmd->uid, &idx, &n, &error) < 0) {
		imap_tagged(is, "BAD", "%s", error);
		imap_client_error(is);
		return;
	}
	if (n == 0) {
		imap_tagged(is, "OK", "%sSTORE completed", cmd->uid ? "UID " : "");
		return;
	}
	struct store_job *j = xcalloc(1, sizeof(*j));
	j->is = is;
	j->op = arena_new();
	j->set = view_uidset(is, idx, n);
	j->silent = silent;
	j->fc = (struct store_flag_change){
		.account_id = is->account_id,
		.mailbox_id = is->view.mailbox_id,
		.uids = j->set,
		.op = op,
		.flags = bits,
		.keywords = kws,
	};
	imap_busy_begin(is);
	store_flags_async(is->env->store, j->op, &j->fc, conn_loop(is->c), store_cb, j);
}
