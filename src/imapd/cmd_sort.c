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

struct sort_item {
	uint32_t uid, seq;
	int64_t num[IMAP_SORT_KEYS_MAX];
	const char *str[IMAP_SORT_KEYS_MAX];
};

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

static const char *fold(struct arena *a, const char *s)
{
	size_t n = strlen(s);
	char *o = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++)
		o[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];
	return o;
}

/* RFC 5256 §3 sorts by the addr-mailbox of the first address of the ENVELOPE: for group
 * syntax ("team: a@b;", RFC 5322 §3.4) that is the group start, whose addr-mailbox is
 * the group's name (RFC 9051 §7.5.2). Returns the name, or NULL when the list does not
 * start with a group. */
static const char *group_name(struct arena *a, const char *list)
{
	const char *p = list;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *s = p, *e;
	if (*p == '"') {
		s = ++p;
		while (*p != '\0' && *p != '"')
			p += p[0] == '\\' && p[1] != '\0' ? 2 : 1;
		if (*p != '"')
			return NULL;
		e = p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ':')
			return NULL;
	} else {
		p += strcspn(p, ":<@,\"");
		if (*p != ':')
			return NULL;
		e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
	}
	return arena_strndup(a, s, (size_t)(e - s));
}

/* the addr-mailbox of the first address, or its display name */
static const char *addr_key(struct arena *a, const char *list, bool display)
{
	const char *name, *addr;
	const char *group = list != NULL && !display ? group_name(a, list) : NULL;
	if (group != NULL)
		return fold(a, group);
	imap_first_address(a, list, &name, &addr);
	if (display)
		return fold(a, name[0] ? name : addr);
	const char *at = strchr(addr, '@');
	return fold(a, at ? arena_strndup(a, addr, (size_t)(at - addr)) : addr);
}

struct sort_keys {
	const struct imap_sort_crit *crit;
	size_t ncrit;
};

static int item_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_item *a = pa, *b = pb;
	const struct sort_keys *j = arg;
	for (size_t k = 0; k < j->ncrit; k++) {
		int r;
		if (a->str[k] != NULL)
			r = strcmp(a->str[k], b->str[k]);
		else
			r = a->num[k] < b->num[k] ? -1 : a->num[k] > b->num[k];
		if (r != 0)
			return j->crit[k].reverse ? -r : r;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int imap_sort_uids(struct imap_session *is, const struct imap_sort_crit *crit, size_t ncrit, const uint32_t *uids,
		   size_t n, uint32_t **out_r, size_t *n_r, const char **error_r)
{
	*n_r = 0;
	*out_r = arena_alloc(is->cmd_arena, (n + 1) * sizeof(**out_r));
	if (n == 0)
		return 1;
	struct store_range *r = arena_alloc(is->cmd_arena, n * sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = (struct store_range){ uids[i], uids[i] };
	struct store_uidset set = { r, n };
	struct store_msg_meta *metas;
	size_t nm;
	int rc = store_msg_meta_list(is->env->store, is->cmd_arena, is->account_id, is->view.mailbox_id, &set, &metas,
				     &nm, error_r);
	if (rc < 0)
		return rc;
	struct sort_item *items = arena_alloc(is->cmd_arena, (nm + 1) * sizeof(*items));
	size_t k = 0;
	for (size_t i = 0; i < nm; i++) {
		const struct store_msg_meta *mm = &metas[i];
		long x = imap_view_index(&is->view, mm->m.uid);
		if (x < 0)
			continue;
		struct sort_item *it = &items[k++];
		it->uid = mm->m.uid;
		it->seq = (uint32_t)x + 1;
		for (size_t c = 0; c < ncrit; c++) {
			switch (crit[c].key) {
			case IMAP_SORT_ARRIVAL:
				it->num[c] = mm->m.internal_date;
				break;
			case IMAP_SORT_DATE:
				it->num[c] = mm->date ? mm->date : mm->m.internal_date;
				break;
			case IMAP_SORT_SIZE:
				it->num[c] = (int64_t)mm->m.size;
				break;
			case IMAP_SORT_SUBJECT:
				it->str[c] = imap_base_subject(is->cmd_arena, mm->subject, NULL);
				break;
			case IMAP_SORT_FROM:
				it->str[c] = addr_key(is->cmd_arena, mm->from, false);
				break;
			case IMAP_SORT_TO:
				it->str[c] = addr_key(is->cmd_arena, mm->to, false);
				break;
			case IMAP_SORT_CC:
				it->str[c] = addr_key(is->cmd_arena, mm->cc, false);
				break;
			case IMAP_SORT_DISPLAYFROM:
				it->str[c] = addr_key(is->cmd_arena, mm->from, true);
				break;
			case IMAP_SORT_DISPLAYTO:
				it->str[c] = addr_key(is->cmd_arena, mm->to, true);
				break;
			}
		}
	}
	struct sort_keys keys = { crit, ncrit };
	qsort_r(items, k, sizeof(*items), item_cmp, &keys);
	for (size_t i = 0; i < k; i++)
		(*out_r)[i] = items[i].uid;
	*n_r = k;
	return 1;
}

/* On the pool, after the search: sorts the matches. */
static void sort_then(struct imap_session *is, struct imap_search_job *sj, void *arg)
{
	struct sort_job *j = arg;
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
	imap_search_async(is, j->prog, sort_then, sort_reply, j);
}
