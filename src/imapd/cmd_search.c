/* cmd_search.c: RFC 9051 §6.4.4 SEARCH and §6.4.9 UID SEARCH, with ESEARCH results
 * (RFC 4731, part of IMAP4rev2), SEARCHRES "$" (RFC 5182), WITHIN (RFC 5032 OLDER/
 * YOUNGER) and the RFC 7162 §3.1.5 MODSEQ key (the answer then ends with
 * "(MODSEQ n)", or "MODSEQ n" in ESEARCH: the highest MODSEQ of the matches, or of
 * the MIN/MAX messages when only those are returned, RFC 4731 §3.2).
 *   search = "SEARCH" [search-return-opts] SP search-program
 *   search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"
 *   search-return-opt = "MIN" / "MAX" / "ALL" / "COUNT" / "SAVE"
 *   esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)
 *   search-correlator = SP "(" "TAG" SP tag-string ")"   (tag-string = string: quoted,
 *   which New Outlook insists on, peers-features §4.10)
 * IMAP4rev1 clients without RETURN get "* SEARCH n...". The program is parsed in
 * src/proto/imap/imap_search.c and evaluated by the store; results are limited to the
 * messages this session knows (the sequence map). */
#include "session.h"

#include "imap_search.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { RET_MIN = 1, RET_MAX = 2, RET_ALL = 4, RET_COUNT = 8, RET_SAVE = 16, RET_UPDATE = 32, RET_PARTIAL = 64 };

/* Converts the parsed program to the store's; resolves "*" and "$". */
static struct store_search *convert(struct imap_session *is, const struct imap_search *n)
{
	static const enum store_search_key map[] = {
		[IMAP_SK_ALL] = STORE_SK_ALL, [IMAP_SK_AND] = STORE_SK_AND, [IMAP_SK_OR] = STORE_SK_OR,
		[IMAP_SK_NOT] = STORE_SK_NOT, [IMAP_SK_ANSWERED] = STORE_SK_ANSWERED,
		[IMAP_SK_DELETED] = STORE_SK_DELETED, [IMAP_SK_DRAFT] = STORE_SK_DRAFT,
		[IMAP_SK_FLAGGED] = STORE_SK_FLAGGED, [IMAP_SK_SEEN] = STORE_SK_SEEN,
		[IMAP_SK_UNANSWERED] = STORE_SK_UNANSWERED, [IMAP_SK_UNDELETED] = STORE_SK_UNDELETED,
		[IMAP_SK_UNDRAFT] = STORE_SK_UNDRAFT, [IMAP_SK_UNFLAGGED] = STORE_SK_UNFLAGGED,
		[IMAP_SK_UNSEEN] = STORE_SK_UNSEEN, [IMAP_SK_NEW] = STORE_SK_NEW, [IMAP_SK_OLD] = STORE_SK_OLD,
		[IMAP_SK_RECENT] = STORE_SK_RECENT, [IMAP_SK_KEYWORD] = STORE_SK_KEYWORD,
		[IMAP_SK_UNKEYWORD] = STORE_SK_UNKEYWORD, [IMAP_SK_BCC] = STORE_SK_BCC, [IMAP_SK_CC] = STORE_SK_CC,
		[IMAP_SK_FROM] = STORE_SK_FROM, [IMAP_SK_TO] = STORE_SK_TO, [IMAP_SK_SUBJECT] = STORE_SK_SUBJECT,
		[IMAP_SK_BODY] = STORE_SK_BODY, [IMAP_SK_TEXT] = STORE_SK_TEXT, [IMAP_SK_HEADER] = STORE_SK_HEADER,
		[IMAP_SK_BEFORE] = STORE_SK_BEFORE, [IMAP_SK_ON] = STORE_SK_ON, [IMAP_SK_SINCE] = STORE_SK_SINCE,
		[IMAP_SK_SENTBEFORE] = STORE_SK_SENTBEFORE, [IMAP_SK_SENTON] = STORE_SK_SENTON,
		[IMAP_SK_SENTSINCE] = STORE_SK_SENTSINCE, [IMAP_SK_SAVEDBEFORE] = STORE_SK_SAVEDBEFORE,
		[IMAP_SK_SAVEDON] = STORE_SK_SAVEDON, [IMAP_SK_SAVEDSINCE] = STORE_SK_SAVEDSINCE,
		[IMAP_SK_OLDER] = STORE_SK_OLDER, [IMAP_SK_YOUNGER] = STORE_SK_YOUNGER,
		[IMAP_SK_LARGER] = STORE_SK_LARGER, [IMAP_SK_SMALLER] = STORE_SK_SMALLER,
		[IMAP_SK_MODSEQ] = STORE_SK_MODSEQ, [IMAP_SK_UID] = STORE_SK_UID, [IMAP_SK_SEQ] = STORE_SK_SEQ,
		[IMAP_SK_EMAILID] = STORE_SK_EMAILID, [IMAP_SK_THREADID] = STORE_SK_THREADID,
	};
	struct store_search *s = arena_alloc(is->cmd_arena, sizeof(*s));
	s->key = map[n->key];
	s->str = n->str;
	s->field = n->field;
	s->num = n->num;
	s->day = n->day;
	if (n->key == IMAP_SK_UID || n->key == IMAP_SK_SEQ) {
		struct imap_view *v = &is->view;
		if (n->set.saved) {
			/* "$" is a set of UIDs: search by UID whatever the key was */
			s->key = STORE_SK_UID;
			struct store_range *r = arena_alloc(is->cmd_arena, (is->nsaved + 1) * sizeof(*r));
			for (size_t i = 0; i < is->nsaved; i++)
				r[i] = (struct store_range){ is->saved[i], is->saved[i] };
			s->set = (struct store_uidset){ r, is->nsaved };
		} else {
			uint32_t star = n->key == IMAP_SK_UID ? (v->n ? v->uids[v->n - 1] : 0) : (uint32_t)v->n;
			struct store_range *r = arena_alloc(is->cmd_arena, (n->set.n + 1) * sizeof(*r));
			size_t k = 0;
			for (size_t i = 0; i < n->set.n; i++) {
				uint32_t lo = n->set.r[i].lo ? n->set.r[i].lo : star;
				uint32_t hi = n->set.r[i].hi ? n->set.r[i].hi : star;
				if (lo > hi) {
					uint32_t t = lo;
					lo = hi;
					hi = t;
				}
				if (hi == 0)
					continue; /* "*" in an empty mailbox */
				if (lo == 0)
					lo = 1;
				r[k++] = (struct store_range){ lo, hi };
			}
			s->set = (struct store_uidset){ r, k };
		}
	}
	if (n->key == IMAP_SK_RECENT || n->key == IMAP_SK_NEW || n->key == IMAP_SK_OLD) {
		/* this session's \Recent ranges as a UID key: RECENT = UID ranges, NEW = RECENT
		 * UNSEEN, OLD = NOT RECENT */
		struct imap_view *v = &is->view;
		struct store_range *r = arena_alloc(is->cmd_arena, (v->nrecent + 1) * sizeof(*r));
		size_t k = 0;
		for (size_t i = 0; i < v->nrecent; i++)
			r[k++] = (struct store_range){ v->recent[i].lo, v->recent[i].hi - 1 };
		struct store_search *u = arena_alloc(is->cmd_arena, sizeof(*u));
		memset(u, 0, sizeof(*u));
		u->key = STORE_SK_UID;
		u->set = (struct store_uidset){ k ? r : NULL, k };
		if (n->key == IMAP_SK_RECENT)
			return u;
		memset(s, 0, sizeof(*s));
		s->key = n->key == IMAP_SK_NEW ? STORE_SK_AND : STORE_SK_NOT;
		s->sub = u;
		if (n->key == IMAP_SK_NEW) {
			struct store_search *un = arena_alloc(is->cmd_arena, sizeof(*un));
			memset(un, 0, sizeof(*un));
			un->key = STORE_SK_UNSEEN;
			u->next = un;
		}
		return s;
	}
	struct store_search **tail = &s->sub;
	for (const struct imap_search *c = n->sub; c != NULL; c = c->next) {
		*tail = convert(is, c);
		tail = &(*tail)->next;
	}
	return s;
}

int imap_search_uids(struct imap_session *is, const struct imap_search *prog, uint32_t **uids_r, size_t *n_r,
		     uint64_t *highest_r, const char **error_r)
{
	struct imap_view *v = &is->view;
	struct store_search *sp = convert(is, prog);
	struct store_search_ctx ctx = {
		.account_id = is->account_id,
		.mailbox_id = v->mailbox_id,
		.seq_uids = v->uids,
		.nseq = v->n,
	};
	uint32_t *uids;
	size_t n;
	int r = store_search(is->env->store, is->cmd_arena, &ctx, sp, &uids, &n, highest_r, error_r);
	if (r < 0)
		return r;
	/* keep what this session knows */
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (imap_view_index(v, uids[i]) >= 0)
			uids[k++] = uids[i];
	*uids_r = uids;
	*n_r = k;
	return 1;
}

bool imap_charset_ok(const char *charset)
{
	return charset == NULL || strcasecmp(charset, "UTF-8") == 0 || strcasecmp(charset, "US-ASCII") == 0;
}

/* The highest MODSEQ of the MIN and/or MAX message among uids (ascending, n > 0);
 * fallback when the store cannot say. */
static uint64_t minmax_modseq(struct imap_session *is, const uint32_t *uids, size_t n, unsigned ret,
			      uint64_t fallback)
{
	struct store_range r[2];
	size_t nr = 0;
	if (ret & RET_MIN)
		r[nr++] = (struct store_range){ uids[0], uids[0] };
	if ((ret & RET_MAX) && !(nr == 1 && uids[n - 1] == uids[0]))
		r[nr++] = (struct store_range){ uids[n - 1], uids[n - 1] };
	struct store_uidset set = { r, nr };
	struct store_msg *msgs;
	size_t nm;
	const char *error;
	if (store_msg_list(is->env->store, is->cmd_arena, is->account_id, is->view.mailbox_id, &set, 0, &msgs, &nm,
			   &error) < 0 || nm == 0)
		return fallback;
	uint64_t best = 0;
	for (size_t i = 0; i < nm; i++)
		if (msgs[i].modseq > best)
			best = msgs[i].modseq;
	return best;
}

static bool has_modseq(const struct imap_search *n)
{
	if (n->key == IMAP_SK_MODSEQ)
		return true;
	for (const struct imap_search *c = n->sub; c != NULL; c = c->next)
		if (has_modseq(c))
			return true;
	return false;
}

/* RFC 5182 §2.1: a SEARCH with SAVE that fails leaves "$" empty */
static void forget_saved(struct imap_session *is, unsigned ret)
{
	if (!(ret & RET_SAVE))
		return;
	free(is->saved);
	is->saved = NULL;
	is->nsaved = 0;
}

void imap_cmd_search(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	unsigned ret = 0;
	uint32_t plo = 0, phi = 0;
	bool esearch = is->rev2;
	if (imap_cur_keyword(c, "RETURN")) {
		esearch = true;
		if (imap_cur_sp(c) < 0 || !imap_cur_skip(c, '(')) {
			c->error = "Expected RETURN (...)";
			imap_bad_args(is, cmd);
			return;
		}
		while (!imap_cur_skip(c, ')')) {
			if (ret && imap_cur_sp(c) < 0) {
				imap_bad_args(is, cmd);
				return;
			}
			if (imap_cur_keyword(c, "MIN"))
				ret |= RET_MIN;
			else if (imap_cur_keyword(c, "MAX"))
				ret |= RET_MAX;
			else if (imap_cur_keyword(c, "ALL"))
				ret |= RET_ALL;
			else if (imap_cur_keyword(c, "COUNT"))
				ret |= RET_COUNT;
			else if (imap_cur_keyword(c, "SAVE"))
				ret |= RET_SAVE;
			else if (imap_cur_keyword(c, "UPDATE"))
				ret |= RET_UPDATE; /* RFC 5267 §4 */
			else if (imap_cur_keyword(c, "PARTIAL")) {
				ret |= RET_PARTIAL; /* RFC 5267 §4.4 */
				if (imap_cur_sp(c) < 0 || imap_cur_partial(c, &plo, &phi) < 0) {
					imap_bad_args(is, cmd);
					return;
				}
			} else {
				c->error = "Unknown search return option";
				imap_bad_args(is, cmd);
				return;
			}
		}
		if (imap_cur_sp(c) < 0) {
			imap_bad_args(is, cmd);
			return;
		}
	}
	if (esearch && (ret & ~(unsigned)RET_UPDATE) == 0)
		ret |= RET_ALL; /* RETURN () means ALL (RFC 4731 §3.1), so does (UPDATE) */
	if ((ret & RET_UPDATE) && (ret & RET_PARTIAL)) {
		c->error = "UPDATE and PARTIAL cannot be combined";
		imap_bad_args(is, cmd);
		return;
	}
	struct imap_search *prog;
	const char *charset;
	struct bytes criteria = { c->p + c->pos, c->len - c->pos };
	if (imap_search_parse(c, &prog, &charset) < 0) {
		forget_saved(is, ret);
		imap_bad_args(is, cmd);
		return;
	}
	if (!imap_charset_ok(charset)) {
		forget_saved(is, ret);
		imap_tagged(is, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return;
	}
	if ((ret & RET_UPDATE) && imap_search_update_check(is, prog) < 0) {
		forget_saved(is, ret);
		return;
	}
	bool modseq = has_modseq(prog);
	if (modseq)
		imap_condstore_enable(is);
	uint32_t *resuid;
	size_t k;
	uint64_t highest = 0;
	const char *error;
	int r = imap_search_uids(is, prog, &resuid, &k, &highest, &error);
	if (r < 0) {
		forget_saved(is, ret);
		imap_store_error(is, r, error);
		return;
	}
	/* as sequence numbers unless UID SEARCH */
	uint32_t *res = arena_alloc(is->cmd_arena, (k + 1) * sizeof(*res));
	for (size_t i = 0; i < k; i++)
		res[i] = cmd->uid ? resuid[i] : (uint32_t)imap_view_index(&is->view, resuid[i]) + 1;
	if (ret & RET_SAVE) {
		free(is->saved);
		size_t ns = k;
		const uint32_t *from = resuid;
		uint32_t mm[2];
		if (ret & (RET_MIN | RET_MAX) && !(ret & (RET_ALL | RET_COUNT))) {
			/* RFC 5182 §2.1: with MIN/MAX only, SAVE keeps just those */
			ns = 0;
			if (k > 0 && (ret & RET_MIN))
				mm[ns++] = resuid[0];
			if (k > 0 && (ret & RET_MAX) && !(ns == 1 && resuid[k - 1] == mm[0]))
				mm[ns++] = resuid[k - 1];
			from = mm;
		}
		is->saved = xmalloc((ns + 1) * sizeof(*is->saved));
		memcpy(is->saved, from, ns * sizeof(*from));
		is->nsaved = ns;
		is->saved_valid = true;
	}
	struct buf b = { 0 };
	if (!esearch) {
		buf_puts(&b, "* SEARCH");
		for (size_t i = 0; i < k; i++)
			buf_printf(&b, " %u", res[i]);
		/* RFC 7162 §3.1.5: search-sort-mod-seq when MODSEQ was a key */
		if (modseq && k > 0)
			buf_printf(&b, " (MODSEQ %llu)", (unsigned long long)highest);
		buf_puts(&b, "\r\n");
	} else if (ret != RET_SAVE) {
		buf_puts(&b, "* ESEARCH (TAG ");
		imap_put_string(&b, is->tag, strlen(is->tag));
		buf_putc(&b, ')');
		if (cmd->uid)
			buf_puts(&b, " UID");
		if ((ret & RET_MIN) && k > 0)
			buf_printf(&b, " MIN %u", res[0]);
		if ((ret & RET_MAX) && k > 0)
			buf_printf(&b, " MAX %u", res[k - 1]);
		if ((ret & RET_ALL) && k > 0) {
			buf_puts(&b, " ALL ");
			imap_put_set(&b, res, k);
		}
		if (ret & RET_COUNT)
			buf_printf(&b, " COUNT %zu", k);
		if (ret & RET_PARTIAL)
			imap_put_partial(&b, plo, phi, res, k);
		if (modseq && k > 0) {
			/* RFC 4731 §3.2: with MIN and/or MAX but neither ALL nor COUNT, the
			 * highest MODSEQ of the messages reported, not of all matches */
			if ((ret & (RET_MIN | RET_MAX)) && !(ret & (RET_ALL | RET_COUNT)))
				highest = minmax_modseq(is, resuid, k, ret, highest);
			buf_printf(&b, " MODSEQ %llu", (unsigned long long)highest);
		}
		buf_puts(&b, "\r\n");
	}
	if ((ret & RET_UPDATE) && !imap_search_update_add(is, cmd->uid, criteria, NULL, 0, resuid, k)) {
		/* RFC 5267 §4.2: the result is answered, its updates are not */
		buf_puts(&b, "* NO [NOUPDATE ");
		imap_put_string(&b, is->tag, strlen(is->tag));
		buf_puts(&b, "] Too many search contexts (limits.imap_search_updates)\r\n");
	}
	imap_write(is, b.data, b.len);
	buf_free(&b);
	imap_tagged(is, "OK", "%sSEARCH completed", cmd->uid ? "UID " : "");
}
