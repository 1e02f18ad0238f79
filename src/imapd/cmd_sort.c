/* cmd_sort.c: RFC 5256 §3 SORT and UID SORT, with ESORT (RFC 5267 §3) and SORT=DISPLAY
 * (RFC 5957).
 *   sort = ["UID" SP] "SORT" [sort-return-opts] SP sort-criteria SP search-criteria
 *   sort-return-opts = SP "RETURN" SP "(" [sort-return-opt *(SP sort-return-opt)] ")"
 *   sort-return-opt = "MIN" / "MAX" / "ALL" / "COUNT"
 *   sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"
 *   search-criteria = charset 1*(SP search-key)
 *   sort-data = "SORT" *(SP nz-number)
 * Keys: ARRIVAL (internal date), DATE (sent date, else the internal date, in UTC),
 * SIZE, SUBJECT (base subject, §2.1), FROM/TO/CC (addr-mailbox of the first
 * address; of a group, its name), DISPLAYFROM/DISPLAYTO (display name, else the address); strings compare
 * case-insensitively; ties go by sequence number. The search and the sort run on the
 * worker pool (search_job.c; 100,000 messages take a moment); the answer is "* SORT n..." or, with
 * RETURN, "* ESEARCH (TAG "t") [UID] MIN/MAX/ALL/COUNT" where MIN and MAX are the
 * first and last in sort order and ALL keeps the sort order. */
#include "session.h"

#include "imap_search.h"
#include "imap_thread.h"

#include <stdlib.h>
#include <string.h>

enum { RET_MIN = 1, RET_MAX = 2, RET_ALL = 4, RET_COUNT = 8, RET_UPDATE = 16, RET_PARTIAL = 32 };

struct sort_job {
	struct imap_sort_crit crit[IMAP_SORT_KEYS_MAX];
	size_t ncrit;
	struct imap_search *prog;
	unsigned ret;
	uint32_t plo, phi;         /* PARTIAL */
	struct bytes criteria;     /* the search program's text, for UPDATE (cmd_arena) */
	bool esort;
	uint32_t *out; /* sorted numbers (UIDs or sequence numbers) */
	uint32_t *uids; /* the same as UIDs */
	size_t n;
};

/* On the pool, after the search: sorts the matches. */
static void sort_then(struct imap_session *is, struct imap_search_job *sj, void *arg)
{
	struct sort_job *j = arg;
	if (sj->all) {
		/* SORT ... ALL: the order of the key index, if it holds the view's messages */
		sj->r = imap_sort_view(is, j->crit, j->ncrit, &j->uids, &j->n, &sj->error);
		if (sj->r == 0 && imap_search_job_run(is, sj) < 0)
			return;
	}
	if (!sj->all)
		sj->r = imap_sort_uids(is, j->crit, j->ncrit, sj->uids, sj->n, &j->uids, &j->n, &sj->error);
	if (sj->r < 0)
		return;
	j->out = arena_alloc(is->cmd_arena, (j->n + 1) * sizeof(*j->out));
	for (size_t i = 0; i < j->n; i++)
		j->out[i] = is->cmd_uid ? j->uids[i] : (uint32_t)imap_view_index(&is->view, j->uids[i]) + 1;
}

/* On the loop: the answer and the tagged reply. */
static void sort_reply(struct imap_session *is, struct imap_search_job *sj, void *arg)
{
	struct sort_job *j = arg;
	if (sj->r < 0) {
		imap_store_error(is, sj->r, sj->error);
		return;
	}
	struct buf b = { 0 };
	if (!j->esort) {
		buf_puts(&b, "* SORT");
		for (size_t i = 0; i < j->n; i++)
			buf_printf(&b, " %u", j->out[i]);
	} else {
		buf_puts(&b, "* ESEARCH (TAG ");
		imap_put_string(&b, is->tag, strlen(is->tag));
		buf_putc(&b, ')');
		if (is->cmd_uid)
			buf_puts(&b, " UID");
		if ((j->ret & RET_MIN) && j->n > 0)
			buf_printf(&b, " MIN %u", j->out[0]);
		if ((j->ret & RET_MAX) && j->n > 0)
			buf_printf(&b, " MAX %u", j->out[j->n - 1]);
		if ((j->ret & RET_ALL) && j->n > 0) {
			buf_puts(&b, " ALL ");
			imap_put_set(&b, j->out, j->n);
		}
		if (j->ret & RET_COUNT)
			buf_printf(&b, " COUNT %zu", j->n);
		if (j->ret & RET_PARTIAL)
			imap_put_partial(&b, j->plo, j->phi, j->out, j->n);
	}
	buf_puts(&b, "\r\n");
	if ((j->ret & RET_UPDATE) && !imap_search_update_add(is, is->cmd_uid, j->criteria, j->crit, j->ncrit, j->uids, j->n)) {
		buf_puts(&b, "* NO [NOUPDATE ");
		imap_put_string(&b, is->tag, strlen(is->tag));
		buf_puts(&b, "] Too many search contexts (limits.imap_search_updates)\r\n");
	}
	imap_write(is, b.data, b.len);
	buf_free(&b);
	imap_tagged(is, "OK", "%sSORT completed", is->cmd_uid ? "UID " : "");
}

void imap_cmd_sort(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct sort_job *j = arena_alloc(is->cmd_arena, sizeof(*j));
	if (imap_cur_keyword(c, "RETURN")) {
		j->esort = true;
		if (imap_cur_sp(c) < 0 || !imap_cur_skip(c, '(')) {
			c->error = "Expected RETURN (...)";
			imap_bad_args(is, cmd);
			return;
		}
		while (!imap_cur_skip(c, ')')) {
			if (j->ret && imap_cur_sp(c) < 0) {
				imap_bad_args(is, cmd);
				return;
			}
			if (imap_cur_keyword(c, "MIN"))
				j->ret |= RET_MIN;
			else if (imap_cur_keyword(c, "MAX"))
				j->ret |= RET_MAX;
			else if (imap_cur_keyword(c, "ALL"))
				j->ret |= RET_ALL;
			else if (imap_cur_keyword(c, "COUNT"))
				j->ret |= RET_COUNT;
			else if (imap_cur_keyword(c, "UPDATE"))
				j->ret |= RET_UPDATE; /* RFC 5267 §4 (CONTEXT=SORT) */
			else if (imap_cur_keyword(c, "PARTIAL")) {
				j->ret |= RET_PARTIAL;
				if (imap_cur_sp(c) < 0 || imap_cur_partial(c, &j->plo, &j->phi) < 0) {
					imap_bad_args(is, cmd);
					return;
				}
			} else {
				c->error = "Unknown sort return option";
				imap_bad_args(is, cmd);
				return;
			}
		}
		if ((j->ret & ~(unsigned)RET_UPDATE) == 0)
			j->ret |= RET_ALL;
		if ((j->ret & RET_UPDATE) && (j->ret & RET_PARTIAL)) {
			c->error = "UPDATE and PARTIAL cannot be combined";
			imap_bad_args(is, cmd);
			return;
		}
		if (imap_cur_sp(c) < 0) {
			imap_bad_args(is, cmd);
			return;
		}
	}
	struct imap_str charset;
	const char *cs2;
	if (imap_sort_parse(c, j->crit, &j->ncrit) < 0 || imap_cur_sp(c) < 0 || imap_cur_astring(c, &charset) < 0 ||
	    imap_cur_sp(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	j->criteria.len = c->len - c->pos;
	j->criteria.p = arena_strndup(is->cmd_arena, c->p + c->pos, j->criteria.len);
	if (imap_search_parse(c, &j->prog, &cs2) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (!imap_charset_ok(charset.s)) {
		imap_tagged(is, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return;
	}
	if ((j->ret & RET_UPDATE) && imap_search_update_check(is, j->prog) < 0)
		return;
	imap_search_async_keys(is, j->prog, sort_then, sort_reply, j);
}
