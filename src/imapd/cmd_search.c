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
 * messages this session knows (the sequence map). The search runs on the worker pool
 * (search_job.c: it may read every message file for BODY/TEXT); the reply on the loop. */
#include "session.h"

#include "imap_search.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { RET_MIN = 1, RET_MAX = 2, RET_ALL = 4, RET_COUNT = 8, RET_SAVE = 16, RET_UPDATE = 32, RET_PARTIAL = 64 };

/* The highest MODSEQ of the MIN and/or MAX message among uids (ascending, n > 0);
 * fallback when the store cannot say. On the pool. */
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

struct search_cmd {
	unsigned ret;
	uint32_t plo, phi;     /* PARTIAL */
	bool esearch, modseq;
	struct bytes criteria; /* the program's text, for UPDATE (cmd_arena) */
};

/* On the pool, after the search: RFC 4731 §3.2, with MIN and/or MAX but neither ALL
 * nor COUNT the MODSEQ is the highest of the messages reported, not of all matches. */
static void search_then(struct imap_session *is, struct imap_search_job *j, void *arg)
{
	const struct search_cmd *sc = arg;
	if (sc->esearch && sc->modseq && j->n > 0 && (sc->ret & (RET_MIN | RET_MAX)) &&
	    !(sc->ret & (RET_ALL | RET_COUNT)))
		j->highest = minmax_modseq(is, j->uids, j->n, sc->ret, j->highest);
}

/* RFC 5182 §2.1: SAVE keeps the result; with MIN/MAX only, just those */
static void save_result(struct imap_session *is, unsigned ret, const uint32_t *resuid, size_t k)
{
	free(is->saved);
	size_t ns = k;
	const uint32_t *from = resuid;
	uint32_t mm[2];
	if (ret & (RET_MIN | RET_MAX) && !(ret & (RET_ALL | RET_COUNT))) {
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

/* On the loop: the answer and the tagged reply. */
static void search_reply(struct imap_session *is, struct imap_search_job *j, void *arg)
{
	const struct search_cmd *sc = arg;
	unsigned ret = sc->ret;
	if (j->r < 0) {
		forget_saved(is, ret);
		imap_store_error(is, j->r, j->error);
		return;
	}
	const uint32_t *resuid = j->uids;
	size_t k = j->n;
	/* as sequence numbers unless UID SEARCH */
	uint32_t *res = arena_alloc(is->cmd_arena, (k + 1) * sizeof(*res));
	for (size_t i = 0; i < k; i++)
		res[i] = is->cmd_uid ? resuid[i] : (uint32_t)imap_view_index(&is->view, resuid[i]) + 1;
	if (ret & RET_SAVE)
		save_result(is, ret, resuid, k);
	struct buf b = { 0 };
	if (!sc->esearch) {
		buf_puts(&b, "* SEARCH");
		for (size_t i = 0; i < k; i++)
			buf_printf(&b, " %u", res[i]);
		/* RFC 7162 §3.1.5: search-sort-mod-seq when MODSEQ was a key */
		if (sc->modseq && k > 0)
			buf_printf(&b, " (MODSEQ %llu)", (unsigned long long)j->highest);
		buf_puts(&b, "\r\n");
	} else if (ret != RET_SAVE) {
		buf_puts(&b, "* ESEARCH (TAG ");
		imap_put_string(&b, is->tag, strlen(is->tag));
		buf_putc(&b, ')');
		if (is->cmd_uid)
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
			imap_put_partial(&b, sc->plo, sc->phi, res, k);
		if (sc->modseq && k > 0)
			buf_printf(&b, " MODSEQ %llu", (unsigned long long)j->highest);
		buf_puts(&b, "\r\n");
	}
	if ((ret & RET_UPDATE) && !imap_search_update_add(is, is->cmd_uid, sc->criteria, NULL, 0, resuid, k)) {
		/* RFC 5267 §4.2: the result is answered, its updates are not */
		buf_puts(&b, "* NO [NOUPDATE ");
		imap_put_string(&b, is->tag, strlen(is->tag));
		buf_puts(&b, "] Too many search contexts (limits.imap_search_updates)\r\n");
	}
	imap_write(is, b.data, b.len);
	buf_free(&b);
	imap_tagged(is, "OK", "%sSEARCH completed", is->cmd_uid ? "UID " : "");
}

void imap_cmd_search(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct search_cmd *sc = arena_alloc(is->cmd_arena, sizeof(*sc));
	memset(sc, 0, sizeof(*sc));
	unsigned ret = 0;
	sc->esearch = is->rev2;
	if (imap_cur_keyword(c, "RETURN")) {
		sc->esearch = true;
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
				if (imap_cur_sp(c) < 0 || imap_cur_partial(c, &sc->plo, &sc->phi) < 0) {
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
	if (sc->esearch && (ret & ~(unsigned)RET_UPDATE) == 0)
		ret |= RET_ALL; /* RETURN () means ALL (RFC 4731 §3.1), so does (UPDATE) */
	if ((ret & RET_UPDATE) && (ret & RET_PARTIAL)) {
		c->error = "UPDATE and PARTIAL cannot be combined";
		imap_bad_args(is, cmd);
		return;
	}
	sc->ret = ret;
	struct imap_search *prog;
	const char *charset;
	sc->criteria.len = c->len - c->pos;
	sc->criteria.p = arena_strndup(is->cmd_arena, c->p + c->pos, sc->criteria.len);
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
	sc->modseq = has_modseq(prog);
	if (sc->modseq)
		imap_condstore_enable(is);
	imap_search_async(is, prog, search_then, search_reply, sc);
}
