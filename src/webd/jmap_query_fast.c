/* jmap_query_fast.c: Email/query's common case without reading the mailbox.
 *
 * Opening a folder in the webmail is Email/query {filter: {inMailbox: X}, sort:
 * [receivedAt descending], position, limit, calculateTotal}. The general path
 * (jmap_query.c) lists and sorts every message of the mailbox for it; here the store
 * answers from its (mailbox, internal date, email id) index instead
 * (store_email_window): a page with OFFSET/LIMIT, the total and an anchor's index
 * with COUNT. It takes a filter that is one FilterCondition with a string inMailbox
 * and otherwise only keyword conditions (the thread-keyword ones are evaluated on the
 * email itself, as in jmap_filter.c), a sort by receivedAt alone (or none: the
 * default is receivedAt descending), and no collapseThreads. The result is the
 * general path's: one entry per email, ties on receivedAt by email id in the same
 * direction. Everything else (and a mailbox the account does not have, and any
 * argument the general path would reject) goes the general way. The reply's shape
 * (jmap_query_reply) is here too: both paths use it, and the general path calls
 * down into this file, never the other way. */
#include "jmap_query.h"

#include <string.h>

/* hasKeyword and the like: true with *neg for notKeyword/noneInThreadHaveKeyword. */
static bool keyword_condition(const char *key, bool *neg)
{
	*neg = strcmp(key, "notKeyword") == 0 || strcmp(key, "noneInThreadHaveKeyword") == 0;
	return *neg || strcmp(key, "hasKeyword") == 0 || strcmp(key, "allInThreadHaveKeyword") == 0 ||
	       strcmp(key, "someInThreadHaveKeyword") == 0;
}

/* Fills w's mailbox, order and conditions when args are the common case. */
static bool common_case(struct jmap_ctx *ctx, json_t *args, struct store_window *w)
{
	if (json_is_true(json_object_get(args, "collapseThreads")))
		return false;
	json_t *sort = json_object_get(args, "sort");
	w->ascending = false;
	if (sort != NULL && !json_is_null(sort)) {
		if (!json_is_array(sort) || json_array_size(sort) != 1)
			return false;
		json_t *c = json_array_get(sort, 0);
		const char *prop = json_string_value(json_object_get(c, "property"));
		if (prop == NULL || strcmp(prop, "receivedAt") != 0)
			return false;
		json_t *asc = json_object_get(c, "isAscending");
		w->ascending = asc == NULL || json_is_true(asc); /* as parse_sort reads it */
	}
	json_t *filter = json_object_get(args, "filter");
	if (!json_is_object(filter) || json_object_get(filter, "operator") != NULL)
		return false;
	bool have_mailbox = false;
	size_t non = 0, noff = 0;
	const char *key;
	json_t *v;
	json_object_foreach(filter, key, v) {
		if (strcmp(key, "inMailbox") == 0) {
			const char *id = json_is_string(v) ? jmap_resolve_id(ctx, json_string_value(v)) : NULL;
			char canon[24];
			if (id == NULL || store_id_parse(id, 'M', &w->mailbox_id) <= 0)
				return false;
			store_id_mailbox(w->mailbox_id, canon);
			if (strcmp(canon, id) != 0)
				return false;
			have_mailbox = true;
			continue;
		}
		bool neg;
		const char *kw = json_string_value(v);
		if (!keyword_condition(key, &neg) || kw == NULL || !jmap_keyword_valid(kw))
			return false;
		unsigned int flag = jmap_keyword_flag(kw);
		if (flag != 0 && neg)
			w->flags_off |= flag;
		else if (flag != 0)
			w->flags_on |= flag;
		else if (neg && noff < STORE_WINDOW_KEYWORDS)
			w->keywords_off[noff++] = kw;
		else if (!neg && non < STORE_WINDOW_KEYWORDS)
			w->keywords_on[non++] = kw;
		else
			return false;
	}
	return have_mailbox;
}

int jmap_query_fast(struct jmap_ctx *ctx, json_t *args, const struct jmap_query_page *page, const char *state,
		    json_t **out_r)
{
	struct store_window w = { .account_id = ctx->account_id };
	if (!common_case(ctx, args, &w))
		return 0;
	if (page->anchor != NULL) {
		if (store_id_parse(page->anchor, 'E', &w.anchor) <= 0) {
			jmap_fail(ctx, "anchorNotFound", "the anchor is not in the results");
			return -1;
		}
		w.position = page->anchor_offset;
	} else {
		w.position = page->position;
	}
	w.limit = page->limit;
	/* the total also tells whether an unlimited query was cut to JMAP_QUERY_MAX */
	w.want_total = page->want_total || !page->has_limit;
	const char *error;
	int r = store_email_window(ctx->store, ctx->a, &w, &error);
	if (r == STORE_ENOTFOUND)
		return 0; /* no such mailbox in the account: the general path's empty result */
	if (r == 0) {
		jmap_fail(ctx, "anchorNotFound", "the anchor is not in the results");
		return -1;
	}
	if (r < 0) {
		jmap_fail(ctx, "serverFail", "%s", error);
		return -1;
	}
	json_t *ids = json_array();
	for (size_t i = 0; i < w.n; i++) {
		char id[24];
		store_id_email(w.ids[i], id);
		json_array_append_new(ids, json_string(id));
	}
	*out_r = jmap_query_reply(ctx, page, state, ids, (json_int_t)w.start, w.total);
	return 1;
}

json_t *jmap_query_reply(struct jmap_ctx *ctx, const struct jmap_query_page *page, const char *state, json_t *ids,
			 json_int_t position, uint64_t total)
{
	json_t *out = json_pack("{sssssbsIso}", "accountId", ctx->account_id_str, "queryState", state,
				"canCalculateChanges", 1, "position", position, "ids", ids);
	if (page->want_total)
		json_object_set_new(out, "total", json_integer((json_int_t)total));
	if (page->capped || (!page->has_limit && total > JMAP_QUERY_MAX))
		json_object_set_new(out, "limit", json_integer((json_int_t)page->limit));
	return out;
}
