/* cmd_list.c: RFC 9051 §6.3.9 LIST with LIST-EXTENDED (RFC 5258), SPECIAL-USE
 * (RFC 6154), CHILDREN (RFC 3348) and LIST-STATUS (RFC 5819); RFC 3501 §6.3.9 LSUB.
 *   list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
 *   list-select-opts = "(" [list-select-opt *(SP list-select-opt)] ")"
 *   mbox-or-pat = list-mailbox / patterns; patterns = "(" list-mailbox *(SP list-mailbox) ")"
 *   list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
 *   lsub = "LSUB" SP mailbox SP list-mailbox
 * Every LIST line carries \HasChildren/\HasNoChildren and the special-use attribute
 * (macOS Mail uses them without asking, peers-features §4.7). "*" matches anything,
 * "%" anything but the separator "/". With the SUBSCRIBED selection (and LSUB) the
 * subscriptions of deleted mailboxes are listed too, as \NonExistent (RFC 5258 §3.4);
 * an unsubscribed name with a subscribed descendant gets CHILDINFO under RECURSIVEMATCH
 * (§3.5) and, in LSUB, \Noselect when "%" hides the descendant (RFC 3501 §6.3.9). */
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

static bool matches(struct imap_session *is, const char *refname, const char *const *pats, size_t npats,
		    const char *name)
{
	for (size_t k = 0; k < npats; k++) {
		const char *full = refname[0] ? arena_printf(is->cmd_arena, "%s%s", refname, pats[k]) : pats[k];
		if (match(canon_pattern(is->cmd_arena, full), name))
			return true;
	}
	return false;
}

/* A name LIST may show: a mailbox, or (subscriptions only) a subscribed name whose
 * mailbox was deleted, or the missing parent of one. */
struct entry {
	const char *name;
	const struct store_mailbox *mb; /* NULL: no such mailbox */
	bool subscribed;
};

static bool has_entry(const struct entry *e, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			return true;
	return false;
}

static int entries(struct imap_session *is, const struct store_mailbox *mbs, size_t n, bool subscribed,
		   struct entry **ents_r, size_t *n_r, const char **error_r)
{
	const char **lost = NULL;
	size_t nlost = 0;
	if (subscribed &&
	    store_lost_subscriptions(is->env->store, is->cmd_arena, is->account_id, &lost, &nlost, error_r) < 0)
		return -1;
	/* each lost name brings at most its parents (STORE_MAILBOX_DEPTH_MAX levels) */
	size_t cap = n + nlost * (STORE_MAILBOX_DEPTH_MAX + 1) + 1;
	struct entry *e = arena_alloc(is->cmd_arena, cap * sizeof(*e));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		e[k++] = (struct entry){ mbs[i].name, &mbs[i], mbs[i].subscribed };
	for (size_t i = 0; i < nlost; i++)
		if (!has_entry(e, k, lost[i]))
			e[k++] = (struct entry){ lost[i], NULL, true };
	for (size_t i = n; i < k && k < cap; i++) {
		/* the parents of a lost name that have no mailbox either */
		char *name = arena_strdup(is->cmd_arena, e[i].name);
		for (char *p = strchr(name, '/'); p != NULL && k < cap; p = strchr(p + 1, '/')) {
			*p = '\0';
			if (!has_entry(e, k, name))
				e[k++] = (struct entry){ arena_strdup(is->cmd_arena, name), NULL, false };
			*p = '/';
		}
	}
	*ents_r = e;
	*n_r = k;
	return 1;
}

/* True if a subscribed name lies below name (only one the patterns do not match, when
 * unmatched_only). */
static bool descendant(struct imap_session *is, const struct entry *e, size_t n, const char *name,
		       const char *refname, const char *const *pats, size_t npats, bool unmatched_only)
{
	size_t len = strlen(name);
	for (size_t k = 0; k < n; k++) {
		if (!e[k].subscribed || strncmp(e[k].name, name, len) != 0 || e[k].name[len] != '/')
			continue;
		if (!unmatched_only || !matches(is, refname, pats, npats, e[k].name))
			return true;
	}
	return false;
}

void imap_cmd_list(struct imap_session *is, struct imap_cmd *cmd)
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
	struct entry *ents;
	size_t nents;
	if (entries(is, mbs, n, (opts & SEL_SUBSCRIBED) != 0, &ents, &nents, &error) < 0) {
		imap_store_error(is, STORE_ERR, error);
		return;
	}
	struct buf b = { 0 };
	for (size_t i = 0; i < nents; i++) {
		const struct entry *e = &ents[i];
		const struct store_mailbox *mb = e->mb;
		if (!matches(is, refname, pats, npats, e->name))
			continue;
		if (mb == NULL && !(opts & SEL_SUBSCRIBED))
			continue;
		bool child_subscribed = false, noselect = false;
		if ((opts & SEL_SUBSCRIBED) && !e->subscribed) {
			/* RFC 5258 §3.5 (RECURSIVEMATCH): CHILDINFO; RFC 3501 §6.3.9 (LSUB "%"):
			 * \Noselect when a subscribed descendant is not listed itself */
			if (lsub)
				noselect = descendant(is, ents, nents, e->name, refname, pats, npats, true);
			else if (opts & SEL_RECURSIVE)
				child_subscribed = descendant(is, ents, nents, e->name, refname, pats, npats, false);
			if (!child_subscribed && !noselect)
				continue;
		}
		if ((opts & SEL_SPECIAL_USE) && (mb == NULL || mb->special_use == 0))
			continue;
		buf_printf(&b, "* %s (", lsub ? "LSUB" : "LIST");
		const char *sp = "";
		if (!lsub) {
			/* RFC 5258 §3.4: a subscribed name without a mailbox is \NonExistent */
			buf_puts(&b, mb == NULL ? "\\NonExistent" : mb->has_children ? "\\HasChildren" : "\\HasNoChildren");
			sp = " ";
		}
		if ((opts & RET_SUBSCRIBED) && e->subscribed && !lsub) {
			buf_printf(&b, "%s\\Subscribed", sp);
			sp = " ";
		}
		if (noselect) {
			buf_printf(&b, "%s\\Noselect", sp);
			sp = " ";
		}
		for (unsigned bit = 1; mb != NULL && bit <= STORE_SU_FLAGGED; bit <<= 1) {
			if (mb->special_use & bit) {
				const char *nm = store_special_use_name(bit);
				if (nm) {
					buf_printf(&b, "%s%s", sp, nm);
					sp = " ";
				}
			}
		}
		buf_puts(&b, ") \"/\" ");
		imap_put_mailbox_name(is, &b, e->name);
		if (child_subscribed)
			buf_puts(&b, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
		buf_puts(&b, "\r\n");
		imap_write(is, b.data, b.len);
		buf_reset(&b);
		if ((opts & RET_STATUS) && mb != NULL && !(child_subscribed && !e->subscribed))
			imap_status_write(is, mb, status);
	}
	buf_free(&b);
	imap_tagged(is, "OK", "%s completed", cmd->name);
}
