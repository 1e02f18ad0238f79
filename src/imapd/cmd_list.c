/* cmd_list.c: RFC 9051 §6.3.9 LIST with LIST-EXTENDED (RFC 5258), SPECIAL-USE
 * (RFC 6154), CHILDREN (RFC 3348) and LIST-STATUS (RFC 5819); RFC 3501 §6.3.9 LSUB.
 *   list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
 *   list-select-opts = "(" [list-select-opt *(SP list-select-opt)] ")"
 *   mbox-or-pat = list-mailbox / patterns; patterns = "(" list-mailbox *(SP list-mailbox) ")"
 *   list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
 *   lsub = "LSUB" SP mailbox SP list-mailbox
 * Every LIST line carries \HasChildren/\HasNoChildren and the special-use attribute
 * (macOS Mail uses them without asking, peers-features §4.7). "*" matches anything,
 * "%" anything but the separator "/". */
#include "session.h"

#include <string.h>
#include <strings.h>

enum {
	SEL_SUBSCRIBED = 1 << 0,
	SEL_SPECIAL_USE = 1 << 1,
	SEL_RECURSIVE = 1 << 2,
	RET_SUBSCRIBED = 1 << 3,
	RET_CHILDREN = 1 << 4,
	RET_SPECIAL_USE = 1 << 5,
	RET_STATUS = 1 << 6,
};

static bool match(const char *pat, const char *name)
{
	while (*pat) {
		if (*pat == '*' || *pat == '%') {
			bool star = *pat == '*';
			pat++;
			for (const char *n = name;; n++) {
				if (match(pat, n))
					return true;
				if (*n == '\0' || (!star && *n == '/'))
					return false;
			}
		}
		if (*name != *pat)
			return false;
		pat++;
		name++;
	}
	return *name == '\0';
}

/* "inbox" in any case at the start of a pattern means INBOX */
static const char *canon_pattern(struct arena *a, const char *p)
{
	if (strncasecmp(p, "INBOX", 5) == 0 && (p[5] == '\0' || p[5] == '/')) {
		char *c = arena_strdup(a, p);
		memcpy(c, "INBOX", 5);
		return c;
	}
	return p;
}

static const char *decode_pattern(struct imap_session *is, const struct imap_str *s)
{
	if (is->rev2)
		return s->s;
	struct buf b = { 0 };
	const char *out = s->s;
	if (imap_utf7_decode(&b, s->s, s->len) > 0)
		out = arena_strndup(is->cmd_arena, buf_str(&b), b.len);
	buf_free(&b);
	return out;
}

static int parse_opts(struct imap_cur *c, bool ret, unsigned *opts, unsigned *status)
{
	if (!imap_cur_skip(c, '(')) {
		c->error = "Expected (";
		return -1;
	}
	if (imap_cur_skip(c, ')'))
		return 1;
	for (;;) {
		if (!ret && imap_cur_keyword(c, "SUBSCRIBED"))
			*opts |= SEL_SUBSCRIBED;
		else if (!ret && imap_cur_keyword(c, "SPECIAL-USE"))
			*opts |= SEL_SPECIAL_USE;
		else if (!ret && imap_cur_keyword(c, "RECURSIVEMATCH"))
			*opts |= SEL_RECURSIVE;
		else if (!ret && imap_cur_keyword(c, "REMOTE"))
			;
		else if (ret && imap_cur_keyword(c, "SUBSCRIBED"))
			*opts |= RET_SUBSCRIBED;
		else if (ret && imap_cur_keyword(c, "CHILDREN"))
			*opts |= RET_CHILDREN;
		else if (ret && imap_cur_keyword(c, "SPECIAL-USE"))
			*opts |= RET_SPECIAL_USE;
		else if (ret && imap_cur_keyword(c, "STATUS")) {
			*opts |= RET_STATUS;
			if (imap_cur_sp(c) < 0 || imap_status_items(c, status) < 0)
				return -1;
		} else {
			c->error = "Unknown LIST option";
			return -1;
		}
		if (imap_cur_skip(c, ')'))
			return 1;
		if (imap_cur_sp(c) < 0)
			return -1;
	}
}

void cmd_list(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	bool lsub = strcmp(cmd->name, "LSUB") == 0;
	unsigned opts = 0, status = 0;
	bool extended = false;
	if (!lsub && imap_cur_peek(c) == '(') {
		extended = true;
		if (parse_opts(c, false, &opts, &status) < 0 || imap_cur_sp(c) < 0) {
			imap_bad_args(is, cmd);
			return;
		}
		if ((opts & SEL_RECURSIVE) && !(opts & SEL_SUBSCRIBED)) {
			c->error = "RECURSIVEMATCH needs another selection option";
			imap_bad_args(is, cmd);
			return;
		}
	}
	struct imap_str ref;
	if (imap_cur_astring(c, &ref) < 0 || imap_cur_sp(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	const char *pats[64];
	size_t npats = 0;
	if (!lsub && imap_cur_skip(c, '(')) {
		extended = true;
		for (;;) {
			struct imap_str p;
			if (imap_cur_list_mailbox(c, &p) < 0) {
				imap_bad_args(is, cmd);
				return;
			}
			if (npats < 64)
				pats[npats++] = decode_pattern(is, &p);
			if (imap_cur_skip(c, ')'))
				break;
			if (imap_cur_sp(c) < 0) {
				imap_bad_args(is, cmd);
				return;
			}
		}
	} else {
		struct imap_str p;
		if (imap_cur_list_mailbox(c, &p) < 0) {
			imap_bad_args(is, cmd);
			return;
		}
		pats[npats++] = decode_pattern(is, &p);
	}
	if (!lsub && imap_cur_skip(c, ' ')) {
		if (!imap_cur_keyword(c, "RETURN") || imap_cur_sp(c) < 0 || parse_opts(c, true, &opts, &status) < 0) {
			if (c->error == NULL)
				c->error = "Expected RETURN";
			imap_bad_args(is, cmd);
			return;
		}
		extended = true;
	}
	if (imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (lsub)
		opts |= SEL_SUBSCRIBED;
	if (opts & SEL_SUBSCRIBED)
		opts |= RET_SUBSCRIBED;
	(void)extended;

	const char *refname = decode_pattern(is, &ref);
	/* the matcher backtracks: bound the wildcards so a pattern cannot cost minutes */
	for (size_t k = 0; k < npats; k++) {
		size_t w = 0;
		for (const char *q = pats[k]; *q; q++)
			w += *q == '*' || *q == '%';
		if (w > 8) {
			imap_tagged(is, "NO", "[LIMIT] Too many wildcards in the pattern");
			return;
		}
	}
	/* LIST "" "": the hierarchy delimiter (§6.3.9) */
	if (npats == 1 && pats[0][0] == '\0') {
		imap_printf(is, "* %s (\\Noselect) \"/\" \"\"\r\n", lsub ? "LSUB" : "LIST");
		imap_tagged(is, "OK", "%s completed", cmd->name);
		return;
	}
	struct store_mailbox *mbs;
	size_t n;
	const char *error;
	int r = store_mailbox_list(is->env->store, is->cmd_arena, is->account_id, &mbs, &n, &error);
	if (r < 0) {
		imap_store_error(is, r, error);
		return;
	}
	struct buf b = { 0 };
	for (size_t i = 0; i < n; i++) {
		const struct store_mailbox *mb = &mbs[i];
		bool hit = false;
		for (size_t k = 0; k < npats && !hit; k++) {
			const char *full = refname[0] ? arena_printf(is->cmd_arena, "%s%s", refname, pats[k]) : pats[k];
			hit = match(canon_pattern(is->cmd_arena, full), mb->name);
		}
		if (!hit)
			continue;
		bool child_subscribed = false;
		if ((opts & SEL_SUBSCRIBED) && !mb->subscribed) {
			if (!(opts & SEL_RECURSIVE))
				continue;
			size_t len = strlen(mb->name);
			for (size_t k = 0; k < n && !child_subscribed; k++)
				child_subscribed = mbs[k].subscribed && strncmp(mbs[k].name, mb->name, len) == 0 &&
						   mbs[k].name[len] == '/';
			if (!child_subscribed)
				continue;
		}
		if ((opts & SEL_SPECIAL_USE) && mb->special_use == 0)
			continue;
		buf_printf(&b, "* %s (", lsub ? "LSUB" : "LIST");
		const char *sp = "";
		if (!lsub) {
			buf_puts(&b, mb->has_children ? "\\HasChildren" : "\\HasNoChildren");
			sp = " ";
		}
		if ((opts & RET_SUBSCRIBED) && mb->subscribed && !lsub) {
			buf_printf(&b, "%s\\Subscribed", sp);
			sp = " ";
		}
		if (lsub && !mb->subscribed) {
			buf_printf(&b, "%s\\Noselect", sp);
			sp = " ";
		}
		for (unsigned bit = 1; bit <= STORE_SU_FLAGGED; bit <<= 1) {
			if (mb->special_use & bit) {
				const char *nm = store_special_use_name(bit);
				if (nm) {
					buf_printf(&b, "%s%s", sp, nm);
					sp = " ";
				}
			}
		}
		buf_puts(&b, ") \"/\" ");
		imap_put_mailbox_name(is, &b, mb->name);
		if (child_subscribed)
			buf_puts(&b, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
		buf_puts(&b, "\r\n");
		imap_write(is, b.data, b.len);
		buf_reset(&b);
		if ((opts & RET_STATUS) && !(child_subscribed && !mb->subscribed))
			imap_status_write(is, mb, status);
	}
	buf_free(&b);
	imap_tagged(is, "OK", "%s completed", cmd->name);
}
