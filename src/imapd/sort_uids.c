/* sort_uids.c: RFC 5256 §3 and RFC 5957 sort order of a set of messages, for SORT
 * (cmd_sort.c) and the RFC 5267 SORT update contexts (search_update.c). Keys: ARRIVAL
 * (internal date), DATE (sent date, else the internal date, in UTC), SIZE, SUBJECT
 * (base subject, §2.1), FROM/TO/CC (addr-mailbox of the first address; of a group,
 * its name), DISPLAYFROM/DISPLAYTO (display name, else the address); strings compare
 * case-insensitively; ties go by sequence number. It reads the store and the view and
 * calls no command. */
#include "session.h"

#include "imap_search.h"
#include "imap_thread.h"

#include <stdlib.h>
#include <string.h>

struct sort_item {
	uint32_t uid, seq;
	int64_t num[IMAP_SORT_KEYS_MAX];
	const char *str[IMAP_SORT_KEYS_MAX];
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
