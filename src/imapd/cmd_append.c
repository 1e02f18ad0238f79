/* cmd_append.c: RFC 9051 §6.3.12 APPEND with UIDPLUS (RFC 4315 APPENDUID), BINARY
 * literal8 (RFC 3516 §4.4), APPENDLIMIT (RFC 7889) and the UTF8=ACCEPT data form
 * (RFC 6855 §4, as Thunderbird 128 sends it: "APPEND box (\Seen) UTF8 (~{n}...)").
 *   append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP append-data
 *   append-data = literal / literal8 / utf8-literal;  utf8-literal = "UTF8" SP "(" literal8 ")"
 * The literal was framed by the session within limits.message_size (a larger
 * synchronizing literal got NO [TOOBIG] before any "+"); the store writes the message
 * durably before the OK (DESIGN.md §2). A missing mailbox gets NO [TRYCREATE], a full
 * account NO [OVERQUOTA]. */
#include "session.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct append_job {
	struct imap_session *is;
	struct store_append ap;
};

static void append_cb(void *arg, int result, const char *error)
{
	struct append_job *j = arg;
	struct imap_session *is = j->is;
	if (!is->dead) {
		if (result > 0) {
			if (is->selected && is->view.mailbox_id == j->ap.mailbox_id)
				is->view.dirty = true; /* EXISTS before the OK */
			imap_tagged(is, "OK", "[APPENDUID %u %u] APPEND completed", j->ap.uidvalidity, j->ap.uid);
		} else if (result == STORE_ENOTFOUND) {
			imap_tagged(is, "NO", "[TRYCREATE] No such mailbox");
		} else {
			imap_store_error(is, result, error);
		}
	}
	free(j);
	imap_busy_end(is);
}

void cmd_append(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_str in;
	const char **flags = NULL;
	size_t nflags = 0;
	int64_t date = 0;
	int tz = 0;
	if (imap_cur_astring(c, &in) < 0 || imap_cur_sp(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (imap_cur_peek(c) == '(') {
		if (imap_cur_flag_list(c, &flags, &nflags) < 0 || imap_cur_sp(c) < 0) {
			imap_bad_args(is, cmd);
			return;
		}
	}
	if (imap_cur_peek(c) == '"') {
		if (imap_cur_datetime(c, &date, &tz) < 0 || imap_cur_sp(c) < 0) {
			imap_bad_args(is, cmd);
			return;
		}
	}
	struct bytes data;
	bool lit8;
	bool utf8 = imap_cur_keyword(c, "UTF8");
	if (utf8 && (imap_cur_sp(c) < 0 || !imap_cur_skip(c, '('))) {
		imap_bad_args(is, cmd);
		return;
	}
	if (imap_cur_literal_view(c, &data, &lit8) < 0 || (utf8 && (!lit8 || !imap_cur_skip(c, ')'))) ||
	    imap_cur_eol(c) < 0) {
		/* MULTIAPPEND and CATENATE are not offered */
		imap_bad_args(is, cmd);
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
		} else if (!store_keyword_valid(flags[i])) {
			imap_tagged(is, "BAD", "Invalid keyword");
			imap_client_error(is);
			return;
		} else {
			kws[nkw++] = flags[i];
		}
	}
	kws[nkw] = NULL;
	if (data.len > is->s->message_max) {
		imap_tagged(is, "NO", "[TOOBIG] Message larger than APPENDLIMIT");
		return;
	}
	if (data.len == 0) {
		imap_tagged(is, "NO", "[CANNOT] Empty message");
		return;
	}
	if (!lit8 && memchr(data.p, '\0', data.len) != NULL) {
		/* RFC 9051 §4.3: NUL is only allowed in literal8 */
		imap_tagged(is, "NO", "[CANNOT] NUL in a message needs literal8 (~{n})");
		return;
	}
	const char *name, *error;
	if (imap_mailbox_arg(is, &in, &name, &error) < 0) {
		imap_tagged(is, "NO", "[CANNOT] %s", error);
		return;
	}
	struct store_mailbox mb;
	int r = store_mailbox_get(is->env->store, is->cmd_arena, is->account_id, name, &mb, &error);
	if (r == 0) {
		imap_tagged(is, "NO", "[TRYCREATE] No such mailbox");
		return;
	}
	if (r < 0) {
		imap_store_error(is, r, error);
		return;
	}
	struct append_job *j = xcalloc(1, sizeof(*j));
	j->is = is;
	j->ap = (struct store_append){
		.account_id = is->account_id,
		.mailbox_id = mb.id,
		.data = data.p,
		.len = data.len,
		.flags = bits,
		.keywords = kws,
		.internal_date = date,
		.internal_tz = tz,
	};
	imap_busy_begin(is);
	store_append_async(is->env->store, &j->ap, conn_loop(is->c), append_cb, j);
}
