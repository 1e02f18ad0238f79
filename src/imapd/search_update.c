/* search_update.c: RFC 5267 §4 CONTEXT=SEARCH and CONTEXT=SORT: results kept up to
 * date after SEARCH/SORT RETURN (UPDATE) (CANCELUPDATE and the check of the criteria
 * are in cmd_cancelupdate.c).
 *   ret-data-addto = "ADDTO" SP "(" context-position SP sequence-set
 *                    *(SP context-position SP sequence-set) ")"
 *   ret-data-removefrom = "REMOVEFROM" SP "(" ... the same ... ")"
 * A context keeps the search criteria as the client sent them (re-parsed at each
 * evaluation) and the result as the client knows it, as UIDs (ascending for SEARCH,
 * in sort order for SORT). Whenever the view syncs after a change (another session's,
 * or this session's own STORE/EXPUNGE/APPEND), every context is evaluated again and the
 * difference goes out as untagged "* ESEARCH (TAG "t") [UID] ADDTO/REMOVEFROM (...)",
 * in UIDs for UID SEARCH/SORT and in sequence numbers otherwise. SEARCH results use
 * position 0 (unordered); SORT results give, per message, its position in the sorted
 * result: removals in descending position (each valid when applied), then additions in
 * ascending final position. A message expunged while in a result gets its REMOVEFROM
 * just before its EXPUNGE, when its number is still valid. Sort keys never change, so
 * the order of the members is fixed and only membership changes.
 *
 * UPDATE with PARTIAL is
 * refused with BAD. At most limits.imap_search_updates contexts per session; one more
 * answers NO [NOUPDATE "tag"] (the search itself is still answered). Contexts end with
 * the selection (SELECT, EXAMINE, CLOSE, UNSELECT, logout). A session without
 * contexts carries one NULL pointer. */
#include "session.h"

#include "imap_search.h"
#include "imap_thread.h"

#include <stdlib.h>
#include <string.h>

struct search_update {
	struct search_update *next;
	char *tag;                /* heap */
	char *criteria;           /* the search program text (heap), without a charset */
	size_t criteria_len;
	bool uid;                 /* numbers are UIDs (UID SEARCH/SORT) */
	bool sort;
	struct imap_sort_crit crit[IMAP_SORT_KEYS_MAX];
	size_t ncrit;
	uint32_t *uids;           /* the result as the client knows it (heap) */
	size_t n;
};

size_t imap_search_update_count(const struct imap_session *is)
{
	size_t k = 0;
	for (const struct search_update *u = is->updates; u != NULL; u = u->next)
		k++;
	return k;
}

bool imap_search_update_add(struct imap_session *is, bool uid, struct bytes criteria, const struct imap_sort_crit *crit,
		       size_t ncrit, const uint32_t *uids, size_t n)
{
	if (imap_search_update_count(is) >= is->s->imap_search_updates)
		return false;
	struct search_update *u = xcalloc(1, sizeof(*u));
	u->tag = xstrdup(is->tag);
	u->criteria = xmalloc(criteria.len + 1);
	memcpy(u->criteria, criteria.p, criteria.len);
	u->criteria[criteria.len] = '\0';
	u->criteria_len = criteria.len;
	u->uid = uid;
	u->sort = crit != NULL;
	if (crit != NULL) {
		memcpy(u->crit, crit, ncrit * sizeof(*crit));
		u->ncrit = ncrit;
	}
	u->uids = xmalloc((n + 1) * sizeof(*u->uids));
	if (n > 0)
		memcpy(u->uids, uids, n * sizeof(*uids));
	u->n = n;
	/* a later context with the same tag replaces nothing: the newest is found first */
	u->next = is->updates;
	is->updates = u;
	return true;
}

static void update_free(struct search_update *u)
{
	free(u->tag);
	free(u->criteria);
	free(u->uids);
	free(u);
}

bool imap_search_update_cancel(struct imap_session *is, const char *tag)
{
	struct search_update **pp = &is->updates;
	while (*pp != NULL && strcmp((*pp)->tag, tag) != 0)
		pp = &(*pp)->next;
	if (*pp == NULL)
		return false;
	struct search_update *u = *pp;
	*pp = u->next;
	update_free(u);
	return true;
}

void imap_search_update_free_all(struct imap_session *is)
{
	while (is->updates != NULL) {
		struct search_update *u = is->updates;
		is->updates = u->next;
		update_free(u);
	}
	is->updates_stale = false;
}

/* Evaluates u again: the matching UIDs this session knows, in u's order (cmd_arena). */
static int evaluate(struct imap_session *is, const struct search_update *u, uint32_t **uids_r, size_t *n_r,
		    const char **error_r)
{
	struct imap_cur cur;
	imap_cur_init(&cur, is->cmd_arena, (struct bytes){ u->criteria, u->criteria_len });
	struct imap_search *prog;
	const char *charset;
	if (imap_search_parse(&cur, &prog, &charset) < 0) {
		*error_r = cur.error;
		return -1;
	}
	uint32_t *uids;
	size_t n;
	int r = imap_search_uids(is, prog, &uids, &n, NULL, error_r);
	if (r < 0)
		return r;
	if (u->sort && n > 0)
		return imap_sort_uids(is, u->crit, u->ncrit, uids, n, uids_r, n_r, error_r);
	*uids_r = uids;
	*n_r = n;
	return 1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static bool in_sorted(const uint32_t *v, size_t n, uint32_t x)
{
	return bsearch(&x, v, n, sizeof(*v), cmp_u32) != NULL;
}

/* the number the client uses for uid: the UID or its sequence number */
static uint32_t number(struct imap_session *is, const struct search_update *u, uint32_t uid)
{
	return u->uid ? uid : (uint32_t)imap_view_index(&is->view, uid) + 1;
}

static void put_head(struct imap_session *is, struct buf *b, const struct search_update *u, const char *what)
{
	buf_puts(b, "* ESEARCH (TAG ");
	imap_put_string(b, u->tag, strlen(u->tag));
	buf_putc(b, ')');
	if (u->uid)
		buf_puts(b, " UID");
	buf_printf(b, " %s (", what);
	(void)is;
}

/* "* ESEARCH ... REMOVEFROM/ADDTO (0 set)" for a SEARCH context; uids ascending */
static void put_unordered(struct imap_session *is, struct buf *b, const struct search_update *u, const char *what,
			  const uint32_t *uids, size_t n)
{
	if (n == 0)
		return;
	uint32_t *num = arena_alloc(is->cmd_arena, n * sizeof(*num));
	for (size_t i = 0; i < n; i++)
		num[i] = number(is, u, uids[i]);
	qsort(num, n, sizeof(*num), cmp_u32);
	put_head(is, b, u, what);
	buf_puts(b, "0 ");
	imap_put_set(b, num, n);
	buf_puts(b, ")\r\n");
}

/* Removes from u->uids the members for which drop[i] is set, reporting them. */
static void remove_members(struct imap_session *is, struct buf *b, struct search_update *u, const uint8_t *drop)
{
	size_t nd = 0;
	for (size_t i = 0; i < u->n; i++)
		nd += drop[i];
	if (nd == 0)
		return;
	if (u->sort) {
		put_head(is, b, u, "REMOVEFROM");
		bool first = true;
		for (size_t i = u->n; i-- > 0;) {
			if (!drop[i])
				continue;
			buf_printf(b, "%s%zu %u", first ? "" : " ", i + 1, number(is, u, u->uids[i]));
			first = false;
		}
		buf_puts(b, ")\r\n");
	} else {
		uint32_t *gone = arena_alloc(is->cmd_arena, nd * sizeof(*gone));
		size_t k = 0;
		for (size_t i = 0; i < u->n; i++)
			if (drop[i])
				gone[k++] = u->uids[i];
		put_unordered(is, b, u, "REMOVEFROM", gone, k);
	}
	size_t w = 0;
	for (size_t i = 0; i < u->n; i++)
		if (!drop[i])
			u->uids[w++] = u->uids[i];
	u->n = w;
}

void imap_search_update_expunged(struct imap_session *is, struct buf *b, const uint32_t *gone, size_t ngone)
{
	if (ngone == 0)
		return;
	uint32_t *g = arena_alloc(is->cmd_arena, ngone * sizeof(*g));
	memcpy(g, gone, ngone * sizeof(*g));
	qsort(g, ngone, sizeof(*g), cmp_u32);
	for (struct search_update *u = is->updates; u != NULL; u = u->next) {
		uint8_t *drop = arena_alloc(is->cmd_arena, u->n + 1);
		for (size_t i = 0; i < u->n; i++)
			drop[i] = in_sorted(g, ngone, u->uids[i]) && imap_view_index(&is->view, u->uids[i]) >= 0;
		remove_members(is, b, u, drop);
	}
}

void imap_search_update_sync(struct imap_session *is, struct buf *b)
{
	is->updates_stale = false;
	for (struct search_update *u = is->updates; u != NULL; u = u->next) {
		uint32_t *now;
		size_t nn;
		const char *error;
		if (evaluate(is, u, &now, &nn, &error) < 0)
			continue; /* a store error: the next sync tries again */
		/* membership: both as ascending copies */
		size_t nold = u->n;
		uint32_t *olds = arena_alloc(is->cmd_arena, (nold + 1) * sizeof(*olds));
		uint32_t *news = arena_alloc(is->cmd_arena, (nn + 1) * sizeof(*news));
		memcpy(olds, u->uids, nold * sizeof(*olds));
		memcpy(news, now, nn * sizeof(*news));
		qsort(olds, nold, sizeof(*olds), cmp_u32);
		qsort(news, nn, sizeof(*news), cmp_u32);
		uint8_t *drop = arena_alloc(is->cmd_arena, u->n + 1);
		for (size_t i = 0; i < u->n; i++)
			drop[i] = !in_sorted(news, nn, u->uids[i]);
		remove_members(is, b, u, drop);
		/* additions: in the new result's order; for SORT with their final positions */
		size_t na = 0;
		uint32_t *added = arena_alloc(is->cmd_arena, (nn + 1) * sizeof(*added));
		size_t *pos = arena_alloc(is->cmd_arena, (nn + 1) * sizeof(*pos));
		for (size_t i = 0; i < nn; i++) {
			if (in_sorted(olds, nold, now[i]))
				continue;
			pos[na] = i + 1;
			added[na++] = now[i];
		}
		if (na > 0) {
			if (u->sort) {
				put_head(is, b, u, "ADDTO");
				for (size_t i = 0; i < na; i++)
					buf_printf(b, "%s%zu %u", i ? " " : "", pos[i], number(is, u, added[i]));
				buf_puts(b, ")\r\n");
			} else {
				put_unordered(is, b, u, "ADDTO", added, na);
			}
		}
		if (na > 0 || nn != nold) {
			u->uids = xrealloc(u->uids, (nn + 1) * sizeof(*u->uids));
			memcpy(u->uids, now, nn * sizeof(*now));
			u->n = nn;
		}
	}
}

int imap_cur_partial(struct imap_cur *c, uint32_t *lo_r, uint32_t *hi_r)
{
	uint64_t lo, hi;
	if (imap_cur_number(c, 1, UINT32_MAX, &lo) < 0 || !imap_cur_skip(c, ':') ||
	    imap_cur_number(c, 1, UINT32_MAX, &hi) < 0) {
		c->error = "Expected PARTIAL n:m (positive numbers)";
		return -1;
	}
	*lo_r = (uint32_t)(lo < hi ? lo : hi);
	*hi_r = (uint32_t)(lo < hi ? hi : lo);
	return 1;
}

void imap_put_partial(struct buf *b, uint32_t lo, uint32_t hi, const uint32_t *nums, size_t n)
{
	buf_printf(b, " PARTIAL (%u:%u ", lo, hi);
	if (lo > n) {
		buf_puts(b, "NIL)");
		return;
	}
	size_t end = hi < n ? hi : n;
	imap_put_set(b, nums + lo - 1, end - (lo - 1));
	buf_putc(b, ')');
}
