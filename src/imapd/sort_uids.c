/* sort_uids.c: RFC 5256 §3 and RFC 5957 sort order of a set of messages, for SORT
 * (cmd_sort.c) and the RFC 5267 SORT update contexts (search_update.c). Keys: ARRIVAL
 * (internal date), DATE (sent date, else the internal date, in UTC), SIZE, SUBJECT
 * (base subject, §2.1), FROM/TO/CC (addr-mailbox of the first address; of a group,
 * its name), DISPLAYFROM/DISPLAYTO (display name, else the address); strings compare
 * case-insensitively; ties go by sequence number, which in a view is UID order.
 *
 * The order comes from the keys the store wrote at delivery (store_sort_uids: an
 * index walk, 100,000 messages in tens of milliseconds); the set only filters it. The
 * derivation from each message's metadata that came before is kept as the fallback
 * for a message without keys (none after migration 3) and as the reference the unit
 * tests compare against (tests/unit/store/test_sortkeys.c). */
#include "session.h"

#include "imap_search.h"
#include "imap_thread.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

struct sort_item {
	uint32_t uid, seq;
	int64_t num[IMAP_SORT_KEYS_MAX];
	const char *str[IMAP_SORT_KEYS_MAX];
};

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

/* The keys derived from the metadata at each command. */
static int sort_by_meta(struct imap_session *is, const struct imap_sort_crit *crit, size_t ncrit, const uint32_t *uids,
			size_t n, uint32_t *out, size_t *n_r, const char **error_r)
{
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
		struct imap_sort_keys keys;
		imap_sort_keys_of(is->cmd_arena, mm->subject, mm->from, mm->to, mm->cc, &keys);
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
				it->str[c] = keys.subject;
				break;
			case IMAP_SORT_FROM:
				it->str[c] = keys.from;
				break;
			case IMAP_SORT_TO:
				it->str[c] = keys.to;
				break;
			case IMAP_SORT_CC:
				it->str[c] = keys.cc;
				break;
			case IMAP_SORT_DISPLAYFROM:
				it->str[c] = keys.display_from;
				break;
			case IMAP_SORT_DISPLAYTO:
				it->str[c] = keys.display_to;
				break;
			}
		}
	}
	struct sort_keys sk = { crit, ncrit };
	qsort_r(items, k, sizeof(*items), item_cmp, &sk);
	for (size_t i = 0; i < k; i++)
		out[i] = items[i].uid;
	*n_r = k;
	return 1;
}

static int uid_cmp(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	return a < b ? -1 : a > b;
}

/* A set smaller than this share of the mailbox is looked up UID by UID; a bigger one
 * takes the walk of the whole mailbox's key index and is filtered. */
#define FEW_DIVISOR 16

size_t imap_sort_set(struct imap_session *is, struct arena *a, const uint32_t *uids, size_t n, uint32_t **set_r,
		     bool *few_r)
{
	uint32_t *set = arena_alloc(a, (n + 1) * sizeof(*set));
	size_t ns = 0;
	for (size_t i = 0; i < n; i++)
		if (imap_view_index(&is->view, uids[i]) >= 0)
			set[ns++] = uids[i];
	qsort(set, ns, sizeof(*set), uid_cmp);
	size_t k = 0;
	for (size_t i = 0; i < ns; i++)
		if (k == 0 || set[i] != set[k - 1])
			set[k++] = set[i];
	*set_r = set;
	*few_r = k * FEW_DIVISOR < is->view.n;
	return k;
}

static void store_crit(const struct imap_sort_crit *crit, size_t ncrit, struct store_sort_crit *sc)
{
	for (size_t c = 0; c < ncrit; c++)
		sc[c] = (struct store_sort_crit){ (enum store_sort_key)crit[c].key, crit[c].reverse };
}

int imap_sort_view(struct imap_session *is, const struct imap_sort_crit *crit, size_t ncrit, uint32_t **out_r,
		   size_t *n_r, const char **error_r)
{
	struct store_sort_crit sc[IMAP_SORT_KEYS_MAX];
	store_crit(crit, ncrit, sc);
	uint32_t *sorted;
	size_t nsorted;
	int rc = store_sort_uids(is->env->store, is->cmd_arena, is->account_id, is->view.mailbox_id, NULL, 0, sc, ncrit,
				 &sorted, &nsorted, error_r);
	if (rc < 0)
		return rc;
	/* the index's order, cut to the view: every message of it must be there */
	size_t k = 0;
	for (size_t i = 0; i < nsorted; i++)
		if (imap_view_index(&is->view, sorted[i]) >= 0)
			sorted[k++] = sorted[i];
	if (k != is->view.n)
		return 0;
	*out_r = k > 0 ? sorted : arena_alloc(is->cmd_arena, sizeof(*sorted));
	*n_r = k;
	return 1;
}

int imap_sort_uids(struct imap_session *is, const struct imap_sort_crit *crit, size_t ncrit, const uint32_t *uids,
		   size_t n, uint32_t **out_r, size_t *n_r, const char **error_r)
{
	_Static_assert((int)STORE_SORT_DISPLAYTO == (int)IMAP_SORT_DISPLAYTO && (int)STORE_SORT_ARRIVAL == 0,
		       "store and IMAP sort keys in the same order");
	*n_r = 0;
	*out_r = arena_alloc(is->cmd_arena, (n + 1) * sizeof(**out_r));
	if (n == 0)
		return 1;
	/* the set, ascending, restricted to the view: what the answer must hold */
	uint32_t *set;
	bool few;
	size_t ns = imap_sort_set(is, is->cmd_arena, uids, n, &set, &few);
	struct store_sort_crit sc[IMAP_SORT_KEYS_MAX];
	store_crit(crit, ncrit, sc);
	uint32_t *sorted;
	size_t nsorted;
	int rc = store_sort_uids(is->env->store, is->cmd_arena, is->account_id, is->view.mailbox_id, few ? set : NULL,
				 few ? ns : 0, sc, ncrit, &sorted, &nsorted, error_r);
	if (rc < 0)
		return rc;
	size_t k = 0;
	for (size_t i = 0; i < nsorted && k < ns; i++)
		if (bsearch(&sorted[i], set, ns, sizeof(*set), uid_cmp) != NULL)
			(*out_r)[k++] = sorted[i];
	if (k == ns) {
		*n_r = k;
		return 1;
	}
	/* a message without keys: cannot happen after migration 3 unless the database was
	 * changed by hand; the answer stays right, only slower */
	log_warn("event=imap_sort_fallback mailbox=%lld missing=%zu", (long long)is->view.mailbox_id, ns - k);
	return sort_by_meta(is, crit, ncrit, set, ns, *out_r, n_r, error_r);
}
