/* cmd_append.c: RFC 9051 §6.3.12 APPEND with MULTIAPPEND (RFC 3502), UIDPLUS (RFC 4315
 * APPENDUID), BINARY literal8 (RFC 3516 §4.4), APPENDLIMIT (RFC 7889) and the UTF8=ACCEPT
 * data form (RFC 6855 §4, as Thunderbird 128 sends it: "APPEND box (\Seen) UTF8 (~{n}...)").
 *   append = "APPEND" SP mailbox 1*append-message            (RFC 3502 §6, RFC 4466)
 *   append-message = [SP flag-list] [SP date-time] SP append-data
 *   append-data = literal / literal8 / utf8-literal;  utf8-literal = "UTF8" SP "(" literal8 ")"
 *                 / "CATENATE" SP "(" cat-part *(SP cat-part) ")"   (RFC 4469, catenate.c)
 * The literals were framed by the session within the limits (each at most
 * limits.message_size, all together IMAP_APPEND_TOTAL_MAX, at most
 * IMAP_APPEND_MESSAGES_MAX of them; a larger synchronizing literal got NO [TOOBIG]
 * before any "+", RFC 3502 §6.3.11). Every message is checked before the store is asked;
 * then the store appends all of them in one transaction or none (RFC 3502 §6.3.11:
 * atomic), durably before the OK (DESIGN.md §2). The OK carries APPENDUID with the
 * UIDs as a set; with CONDSTORE enabled and the target selected, an untagged
 * HIGHESTMODSEQ (RFC 7162 §3.1.2.1) precedes it. A missing mailbox gets NO [TRYCREATE],
 * a full account NO [OVERQUOTA], and so does a server disk below limits.disk_reserve
 * (with a text that says so; RFC 9051 §7.1: the closest code, as Dovecot uses it). */
#include "session.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct append_job {
	struct imap_session *is;
	struct store_append_many am;
	struct store_append *msgs; /* heap */
};

void imap_put_uid_range(struct buf *b, uint32_t first, uint32_t last)
{
	if (first == last)
		buf_printf(b, "%u", first);
	else
		buf_printf(b, "%u:%u", first, last);
}

static void append_cb(void *arg, int result, const char *error)
{
	struct append_job *j = arg;
	struct imap_session *is = j->is;
	if (!conn_is_closed(is->c)) {
		if (result > 0) {
			struct buf b = { 0 };
			imap_put_uid_range(&b, j->msgs[0].uid, j->msgs[j->am.n - 1].uid);
			if (is->selected && is->view.mailbox_id == j->am.mailbox_id) {
				is->view.dirty = true; /* EXISTS before the OK */
				if (is->condstore) {
					imap_view_sync(is, true);
					imap_printf(is, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
						    (unsigned long long)is->view.modseq);
				}
			}
			imap_tagged(is, "OK", "[APPENDUID %u %s] APPEND completed", j->am.uidvalidity, buf_str(&b));
			buf_free(&b);
		} else if (result == STORE_ENOTFOUND) {
			imap_tagged(is, "NO", "[TRYCREATE] No such mailbox");
		} else {
			imap_store_error(is, result, error);
		}
	}
	free(j->msgs);
	free(j);
	conn_release(is->c);
}

int imap_append_message_parse(struct imap_session *is, struct imap_cur *c, struct store_append *ap)
{
	const char **flags = NULL;
	size_t nflags = 0;
	*ap = (struct store_append){ 0 };
	if (imap_cur_peek(c) == '(') {
		if (imap_cur_flag_list(c, &flags, &nflags) < 0 || imap_cur_sp(c) < 0)
			return -1;
	}
	if (imap_cur_peek(c) == '"') {
		if (imap_cur_datetime(c, &ap->internal_date, &ap->internal_tz) < 0 || imap_cur_sp(c) < 0)
			return -1;
	}
	struct bytes data;
	bool lit8;
	bool utf8 = false;
	if (imap_cur_keyword(c, "CATENATE")) {
		/* RFC 4469 (catenate.c): lit8 then says whether the result is raw */
		int r = imap_catenate_parse(is, c, &data, &lit8);
		if (r <= 0)
			return r;
	} else {
		utf8 = imap_cur_keyword(c, "UTF8");
		if (utf8 && (imap_cur_sp(c) < 0 || !imap_cur_skip(c, '('))) {
			c->error = "Expected UTF8 (literal8)";
			return -1;
		}
		if (imap_cur_literal_view(c, &data, &lit8) < 0)
			return -1;
		if (utf8 && (!lit8 || !imap_cur_skip(c, ')'))) {
			c->error = "Expected UTF8 (literal8)";
			return -1;
		}
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
				return 0;
			}
			bits |= bit;
		} else if (!store_keyword_valid(flags[i])) {
			imap_tagged(is, "BAD", "Invalid keyword");
			imap_client_error(is);
			return 0;
		} else {
			kws[nkw++] = flags[i];
		}
	}
	kws[nkw] = NULL;
	if (data.len > is->s->message_max) {
		imap_tagged(is, "NO", "[TOOBIG] Message larger than APPENDLIMIT");
		return 0;
	}
	if (data.len == 0) {
		imap_tagged(is, "NO", "[CANNOT] Empty message");
		return 0;
	}
	if (!lit8 && memchr(data.p, '\0', data.len) != NULL) {
		/* RFC 9051 §4.3: NUL is only allowed in literal8 */
		imap_tagged(is, "NO", "[CANNOT] NUL in a message needs literal8 (~{n})");
		return 0;
	}
	ap->data = data.p;
	ap->len = data.len;
	/* RFC 3516 §4.4: a literal8 is binary: its bare LFs are content, kept as they are
	 * (the UTF8 form of RFC 6855 is text and gets CRLF like a literal) */
	ap->raw = lit8 && !utf8;
	ap->flags = bits;
	ap->keywords = kws;
	return 1;
}

void imap_cmd_append(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_str in;
	if (imap_cur_astring(c, &in) < 0 || imap_cur_sp(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	/* check every message first (DESIGN.md §4.3) */
	is->catenated = 0;
	size_t n = 0, cap = 4;
	uint64_t total = 0;
	struct store_append *msgs = xcalloc(cap, sizeof(*msgs));
	for (;;) {
		if (n == cap) {
			cap *= 2;
			msgs = xrealloc(msgs, cap * sizeof(*msgs));
		}
		int r = imap_append_message_parse(is, c, &msgs[n]);
		if (r <= 0) {
			if (r < 0)
				imap_bad_args(is, cmd);
			free(msgs);
			return;
		}
		total += msgs[n].len;
		n++;
		if (imap_cur_end(c))
			break;
		if (imap_cur_sp(c) < 0 || n == IMAP_APPEND_MESSAGES_MAX) {
			if (n == IMAP_APPEND_MESSAGES_MAX)
				c->error = "Too many messages in one APPEND";
			imap_bad_args(is, cmd);
			free(msgs);
			return;
		}
	}
	if (total > imap_append_total_max(is->s)) {
		/* the framing limit already holds this; kept for the direct callers */
		imap_tagged(is, "NO", "[TOOBIG] Messages too large together");
		free(msgs);
		return;
	}
	const char *name, *error;
	if (imap_mailbox_arg(is, &in, &name, &error) < 0) {
		imap_tagged(is, "NO", "[CANNOT] %s", error);
		free(msgs);
		return;
	}
	/* limits.disk_reserve: a temporary refusal while the server's disk is nearly full */
	if (store_space_check(is->env->store, total, &error) < 0) {
		conn_log(is->c, LOG_WARN, "event=append_refused reason=disk_reserve size=%llu", (unsigned long long)total);
		imap_store_error(is, STORE_ENOSPACE, error);
		free(msgs);
		return;
	}
	struct store_mailbox mb;
	int r = store_mailbox_get(is->env->store, is->cmd_arena, is->account_id, name, &mb, &error);
	if (r <= 0) {
		if (r == 0)
			imap_tagged(is, "NO", "[TRYCREATE] No such mailbox");
		else
			imap_store_error(is, r, error);
		free(msgs);
		return;
	}
	struct append_job *j = xcalloc(1, sizeof(*j));
	j->is = is;
	j->msgs = msgs;
	j->am = (struct store_append_many){
		.account_id = is->account_id,
		.mailbox_id = mb.id,
		.msgs = msgs,
		.n = n,
	};
	conn_hold(is->c);
	store_append_many_async(is->env->store, &j->am, conn_loop(is->c), append_cb, j);
}
