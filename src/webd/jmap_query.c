/* jmap_query.c: Email/query and Email/queryChanges (RFC 8621 §4.4, §4.5).
 *
 * A query runs per mailbox of the account (or only the mailboxes named by a top-
 * level inMailbox): the FilterCondition tree becomes a store search program for
 * that mailbox (jmap_filter.c) and searched before the mailbox's rows are listed,
 * so that only the matches are (the full-text index answers text and body;
 * scan_and_sort says what a filter whose program needs the rows does); the
 * matching rows are merged across mailboxes by email id, sorted, collapsed by thread if asked, and windowed. queryState is the
 * account's state; query changes are computed from the emails changed since
 * (removed: every changed email, added: those changed that are in the results now,
 * RFC 8620 §5.6 allows that); not with collapseThreads (a thread's row moving to
 * another email of it is not among the changed: canCalculateChanges is false, and
 * the client queries again). Email/query's common case (one mailbox, keyword
 * conditions, sort by receivedAt) does not come here: jmap_query_fast.c answers it
 * from the store's index with the same results. */
#include "jmap_query.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* A general query that used more than this gives the freed memory back (run_query). */
#define JMAP_QUERY_TRIM (4u << 20)

struct row {
	int64_t email_id, thread_id, mailbox_id;
	uint32_t uid;
	unsigned int flags;
	const char *keywords;
	int64_t received, sent;
	uint64_t size;
	const char *from, *to, *subject;
	bool has_attachment;
};

/* ------------------------------------------------------------------ sorting */

static bool has_kw(unsigned int flags, const char *keywords, const char *kw)
{
	unsigned int f = jmap_keyword_flag(kw);
	if (f != 0)
		return (flags & f) != 0;
	size_t n = strlen(kw);
	for (const char *p = keywords ? keywords : ""; *p;) {
		size_t m = strcspn(p, " ");
		if (m == n && strncasecmp(p, kw, n) == 0)
			return true;
		p += m;
		while (*p == ' ')
			p++;
	}
	return false;
}

enum skey { SK_RECEIVED, SK_SENT, SK_SIZE, SK_FROM, SK_TO, SK_SUBJECT, SK_KEYWORD, SK_ID };

struct sortc {
	enum skey key;
	bool asc;
	const char *kw;
};

struct sortspec {
	struct sortc c[8];
	size_t n;
};

static _Thread_local const struct sortspec *cur_sort;

static int cmp_rows(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	for (size_t i = 0; i < cur_sort->n; i++) {
		const struct sortc *c = &cur_sort->c[i];
		int r = 0;
		switch (c->key) {
		case SK_RECEIVED: r = (a->received > b->received) - (a->received < b->received); break;
		case SK_SENT: r = (a->sent > b->sent) - (a->sent < b->sent); break;
		case SK_SIZE: r = (a->size > b->size) - (a->size < b->size); break;
		case SK_FROM: r = strcasecmp(a->from ?: "", b->from ?: ""); break;
		case SK_TO: r = strcasecmp(a->to ?: "", b->to ?: ""); break;
		case SK_SUBJECT: r = strcasecmp(a->subject ?: "", b->subject ?: ""); break;
		case SK_KEYWORD:
			r = (int)has_kw(a->flags, a->keywords, c->kw) - (int)has_kw(b->flags, b->keywords, c->kw);
			break;
		case SK_ID: r = (a->email_id > b->email_id) - (a->email_id < b->email_id); break;
		}
		if (r != 0)
			return c->asc ? r : -r;
	}
	/* stable and total: ties by id, in the direction of the last comparator (so a
	 * newest-first list shows the later of two emails of the same second first) */
	int r = (a->email_id > b->email_id) - (a->email_id < b->email_id);
	return cur_sort->n > 0 && !cur_sort->c[cur_sort->n - 1].asc ? -r : r;
}

static bool parse_sort(struct jmap_ctx *ctx, json_t *sort, struct sortspec *sp, bool *need_meta)
{
	sp->n = 0;
	if (sort == NULL || json_is_null(sort)) {
		sp->c[0] = (struct sortc){ SK_RECEIVED, false, NULL };
		sp->n = 1;
		return true;
	}
	if (!json_is_array(sort) || json_array_size(sort) > 8) {
		jmap_fail(ctx, "invalidArguments", "sort must be an array of at most 8 comparators");
		return false;
	}
	size_t i;
	json_t *c;
	json_array_foreach(sort, i, c) {
		const char *prop = json_string_value(json_object_get(c, "property"));
		json_t *asc = json_object_get(c, "isAscending");
		struct sortc sc = { SK_ID, asc == NULL || json_is_true(asc), NULL };
		if (prop == NULL) {
			jmap_fail(ctx, "invalidArguments", "a comparator needs a property");
			return false;
		}
		if (strcmp(prop, "receivedAt") == 0)
			sc.key = SK_RECEIVED;
		else if (strcmp(prop, "sentAt") == 0)
			sc.key = SK_SENT;
		else if (strcmp(prop, "size") == 0)
			sc.key = SK_SIZE;
		else if (strcmp(prop, "from") == 0)
			sc.key = SK_FROM;
		else if (strcmp(prop, "to") == 0)
			sc.key = SK_TO;
		else if (strcmp(prop, "subject") == 0)
			sc.key = SK_SUBJECT;
		else if (strcmp(prop, "id") == 0)
			sc.key = SK_ID;
		else if (strcmp(prop, "hasKeyword") == 0 || strcmp(prop, "allInThreadHaveKeyword") == 0 ||
			 strcmp(prop, "someInThreadHaveKeyword") == 0) {
			sc.key = SK_KEYWORD;
			sc.kw = json_string_value(json_object_get(c, "keyword"));
			if (sc.kw == NULL || !jmap_keyword_valid(sc.kw)) {
				jmap_fail(ctx, "invalidArguments", "%s needs a keyword", prop);
				return false;
			}
			sc.kw = arena_strdup(ctx->a, sc.kw);
		} else {
			jmap_fail(ctx, "unsupportedSort", "cannot sort by %s", prop);
			return false;
		}
		*need_meta |= sc.key == SK_SENT || sc.key == SK_FROM || sc.key == SK_TO || sc.key == SK_SUBJECT;
		sp->c[sp->n++] = sc;
	}
	return true;
}

/* ------------------------------------------------------------------ the query */

/* An open-addressing set of int64 (ids are > 0). */
struct idset {
	int64_t *v;
	size_t cap;
};

static void idset_init(struct arena *a, struct idset *s, size_t n)
{
	s->cap = 16;
	while (s->cap < n * 2 + 16)
		s->cap *= 2;
	s->v = arena_alloc(a, s->cap * sizeof(int64_t));
}

/* Adds id; false if it was there. At most the n of idset_init ids fit. */
static bool idset_add(struct idset *s, int64_t id)
{
	size_t h = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull) & (s->cap - 1);
	while (s->v[h] != 0) {
		if (s->v[h] == id)
			return false;
		h = (h + 1) & (s->cap - 1);
	}
	s->v[h] = id;
	return true;
}

static bool idset_has(const struct idset *s, int64_t id)
{
	size_t h = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull) & (s->cap - 1);
	while (s->v[h] != 0) {
		if (s->v[h] == id)
			return true;
		h = (h + 1) & (s->cap - 1);
	}
	return false;
}

/* Ascending UIDs as a set of ranges (arena). */
static struct store_uidset uid_ranges(struct arena *a, const uint32_t *uids, size_t n)
{
	struct store_range *r = arena_alloc(a, (n + 1) * sizeof(*r));
	size_t nr = 0;
	for (size_t i = 0; i < n; i++) {
		assert(i == 0 || uids[i] > uids[i - 1]);
		if (nr > 0 && r[nr - 1].hi + 1 == uids[i])
			r[nr - 1].hi = uids[i];
		else
			r[nr++] = (struct store_range){ uids[i], uids[i] };
	}
	return (struct store_uidset){ r, nr };
}

struct qresult {
	int64_t *ids; /* the email ids in order (the request's arena) */
	size_t n;
};

/* Runs the filter and sort of args with every allocation in ctx->a; sets *rows_r and
 * *n_r (ctx->a); false after jmap_fail. */
static bool scan_and_sort(struct jmap_ctx *ctx, json_t *args, struct row **rows_r, size_t *n_r)
{
	json_t *filter = json_object_get(args, "filter"), *sort = json_object_get(args, "sort");
	if (filter != NULL && json_is_null(filter))
		filter = NULL;
	if (filter != NULL && !json_is_object(filter)) {
		jmap_fail(ctx, "invalidArguments", "filter must be an object");
		return false;
	}
	struct sortspec sp;
	bool need_meta = false;
	if (!parse_sort(ctx, sort, &sp, &need_meta))
		return false;
	struct store_mailbox *mbs;
	size_t nmbs;
	const char *error;
	if (store_mailbox_list(ctx->store, ctx->a, ctx->account_id, &mbs, &nmbs, &error) < 0) {
		jmap_fail(ctx, "serverFail", "%s", error);
		return false;
	}
	/* a top-level inMailbox narrows the scan to that mailbox */
	json_t *top_in = filter ? json_object_get(filter, "inMailbox") : NULL;
	struct qctx q = { .ctx = ctx };
	/* the filter is checked once on no rows, so a bad one fails even when no mailbox
	 * has messages to run it on */
	struct mbox_rows no_rows = { 0 };
	if (filter != NULL && jmap_query_program(&q, filter, &no_rows) == NULL) {
		jmap_fail(ctx, q.err_type, "%s", q.err);
		return false;
	}
	/* Which rows a mailbox's search needs listed. A filter whose program does not read
	 * the rows is searched first, then only its matches are listed; one that does
	 * (before, after, hasAttachment) but has string conditions every result must meet
	 * (the index answers text and body) lists only the messages that meet those, and
	 * its program runs on them; otherwise every row is listed. */
	bool trivial = filter == NULL || (json_object_size(filter) == 1 && top_in != NULL);
	bool needs_rows = !trivial && jmap_query_needs_rows(filter);
	struct store_search *pre = needs_rows ? jmap_query_prefilter(&q, filter) : NULL;
	size_t cap = 0, n = 0;
	struct row *rows = NULL;
	for (size_t m = 0; m < nmbs; m++) {
		if (top_in != NULL && !jmap_query_mailbox_listed(top_in, mbs[m].id, ctx))
			continue;
		if (mbs[m].messages == 0)
			continue;
		struct mbox_rows mb = { .mailbox_id = mbs[m].id };
		struct store_search_ctx sctx = { .account_id = ctx->account_id, .mailbox_id = mb.mailbox_id };
		uint32_t *uids = NULL;
		size_t nu = 0;
		struct store_search *first = trivial ? NULL : needs_rows ? pre : jmap_query_program(&q, filter, &mb);
		if (!trivial && !needs_rows && first == NULL) {
			jmap_fail(ctx, q.err_type, "%s", q.err);
			return false;
		}
		if (first != NULL) {
			if (store_search(ctx->store, ctx->a, &sctx, first, &uids, &nu, NULL, &error) < 0) {
				jmap_fail(ctx, "serverFail", "%s", error);
				return false;
			}
			if (nu == 0)
				continue;
		}
		/* a few matches are listed by UID; many as the whole mailbox */
		struct store_uidset subset = { 0 };
		if (first != NULL && nu * 4 < mbs[m].messages) {
			subset = uid_ranges(ctx->a, uids, nu);
			mb.subset = &subset;
		}
		if (store_msg_list(ctx->store, ctx->a, ctx->account_id, mbs[m].id, mb.subset, 0, &mb.msgs, &mb.n, &error) < 0) {
			jmap_fail(ctx, "serverFail", "%s", error);
			return false;
		}
		if (mb.n == 0)
			continue;
		if (need_meta && !jmap_query_load_keys(&q, &mb)) {
			jmap_fail(ctx, "serverFail", "cannot read the mailbox");
			return false;
		}
		if (needs_rows) {
			/* the program on the listed rows, evaluated on them (and within the
			 * prefilter's matches, which hold every result) */
			struct store_search *prog = jmap_query_program(&q, filter, &mb);
			if (prog == NULL) {
				jmap_fail(ctx, q.err_type, "%s", q.err);
				return false;
			}
			sctx.only = mb.subset;
			if (store_search(ctx->store, ctx->a, &sctx, prog, &uids, &nu, NULL, &error) < 0) {
				jmap_fail(ctx, "serverFail", "%s", error);
				return false;
			}
		}
		/* which rows match */
		bool *match = arena_alloc(ctx->a, mb.n * sizeof(bool));
		if (trivial) {
			for (size_t i = 0; i < mb.n; i++)
				match[i] = true;
		} else {
			size_t j = 0;
			for (size_t i = 0; i < mb.n; i++) {
				while (j < nu && uids[j] < mb.msgs[i].uid)
					j++;
				match[i] = j < nu && uids[j] == mb.msgs[i].uid;
			}
		}
		for (size_t i = 0; i < mb.n; i++) {
			if (!match[i])
				continue;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				struct row *nr = arena_alloc(ctx->a, ncap * sizeof(*nr));
				if (n)
					memcpy(nr, rows, n * sizeof(*nr));
				rows = nr;
				cap = ncap;
			}
			const struct store_msg *sm = &mb.msgs[i];
			struct row *r = &rows[n++];
			*r = (struct row){ .email_id = sm->email_id, .thread_id = sm->thread_id, .mailbox_id = mb.mailbox_id,
					   .uid = sm->uid, .flags = sm->flags, .keywords = sm->keywords,
					   .received = sm->internal_date, .size = sm->size };
			if (mb.keys != NULL) {
				r->sent = mb.keys[i].date;
				r->from = mb.keys[i].from;
				r->to = mb.keys[i].to;
				r->subject = mb.keys[i].subject;
				r->has_attachment = mb.keys[i].has_attachment;
			}
		}
	}
	/* one row per email */
	struct idset seen;
	idset_init(ctx->a, &seen, n);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (idset_add(&seen, rows[i].email_id))
			rows[k++] = rows[i];
	}
	n = k;
	cur_sort = &sp;
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_rows);
	cur_sort = NULL;
	if (json_is_true(json_object_get(args, "collapseThreads"))) {
		struct idset threads;
		idset_init(ctx->a, &threads, n);
		k = 0;
		for (size_t i = 0; i < n; i++) {
			if (idset_add(&threads, rows[i].thread_id))
				rows[k++] = rows[i];
		}
		n = k;
	}
	*rows_r = rows;
	*n_r = n;
	return true;
}

/* Runs the query of args; false after jmap_fail. Its working memory (the listed
 * messages, their sort keys, the rows: about 45 MiB for a mailbox of 100,000) is an
 * arena of its own, freed here; only the ids go to the request's arena. glibc keeps
 * freed memory in the pool thread's malloc arena (a freed large block also raises its
 * mmap threshold, so that later ones come from the heap and stay: 100 MiB after a few
 * such queries), so after a large query its free pages go back to the system. */
static bool run_query(struct jmap_ctx *ctx, json_t *args, struct qresult *res)
{
	struct arena *req = ctx->a;
	struct arena *scratch = arena_new();
	ctx->a = scratch;
	struct row *rows;
	size_t n;
	bool ok = scan_and_sort(ctx, args, &rows, &n);
	ctx->a = req;
	if (ok) {
		res->ids = arena_alloc(req, (n + 1) * sizeof(int64_t));
		for (size_t i = 0; i < n; i++)
			res->ids[i] = rows[i].email_id;
		res->n = n;
	}
	size_t used = arena_used(scratch);
	arena_free(&scratch);
#ifdef __GLIBC__
	if (used > JMAP_QUERY_TRIM)
		malloc_trim(0);
#endif
	return ok;
}

json_t *jmap_email_query(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = jmap_begin(ctx, args);
	if (state == NULL)
		return NULL;
	json_t *posv = json_object_get(args, "position");
	if (posv != NULL && !json_is_null(posv) && !json_is_integer(posv))
		return jmap_fail(ctx, "invalidArguments", "position must be an integer");
	struct jmap_query_page page = { .limit = JMAP_QUERY_MAX };
	if (!jmap_arg_uint(ctx, args, "limit", &page.limit, &page.has_limit))
		return NULL;
	json_t *anchor = json_object_get(args, "anchor");
	json_t *aoff = json_object_get(args, "anchorOffset");
	if ((anchor != NULL && !json_is_null(anchor) && !json_is_string(anchor)) ||
	    (aoff != NULL && !json_is_null(aoff) && !json_is_integer(aoff)))
		return jmap_fail(ctx, "invalidArguments", "anchor must be an id, anchorOffset an integer");
	page.position = json_integer_value(posv);
	page.anchor = json_string_value(anchor);
	page.anchor_offset = json_integer_value(aoff);
	if (page.limit > JMAP_QUERY_MAX) {
		page.limit = JMAP_QUERY_MAX;
		page.capped = true;
	}
	page.want_total = json_is_true(json_object_get(args, "calculateTotal"));
	json_t *out;
	int fr = jmap_query_fast(ctx, args, &page, state, &out);
	if (fr != 0)
		return fr > 0 ? out : NULL;
	struct qresult res;
	if (!run_query(ctx, args, &res))
		return NULL;
	json_int_t pos = page.position;
	if (page.anchor != NULL) {
		int64_t aid;
		size_t idx = res.n;
		if (store_id_parse(page.anchor, 'E', &aid) > 0) {
			for (size_t i = 0; i < res.n; i++) {
				if (res.ids[i] == aid) {
					idx = i;
					break;
				}
			}
		}
		if (idx == res.n)
			return jmap_fail(ctx, "anchorNotFound", "the anchor is not in the results");
		/* idx < 2^32: no overflow */
		pos = page.anchor_offset > INT64_MAX - (json_int_t)idx ? INT64_MAX : (json_int_t)idx + page.anchor_offset;
		if (pos < 0)
			pos = 0;
	} else if (pos < 0) {
		pos = (json_int_t)res.n + pos;
		if (pos < 0)
			pos = 0;
	}
	json_t *ids = json_array();
	for (size_t i = (size_t)pos; i < res.n && json_array_size(ids) < page.limit; i++) {
		char id[24];
		store_id_email(res.ids[i], id);
		json_array_append_new(ids, json_string(id));
	}
	out = jmap_query_reply(ctx, &page, state, ids, pos, res.n);
	/* queryChanges computes added/removed per changed email: with threads
	 * collapsed, a thread's row moving to its newer email is not among them */
	if (json_is_true(json_object_get(args, "collapseThreads")))
		json_object_set_new(out, "canCalculateChanges", json_false());
	return out;
}

json_t *jmap_email_query_changes(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = jmap_begin(ctx, args);
	if (state == NULL)
		return NULL;
	const char *since_s = json_string_value(json_object_get(args, "sinceQueryState"));
	if (since_s == NULL)
		return jmap_fail(ctx, "invalidArguments", "sinceQueryState is required");
	char *end;
	unsigned long long since = strtoull(since_s, &end, 10);
	if (*since_s == '\0' || *end != '\0' || since > strtoull(state, NULL, 10))
		return jmap_fail(ctx, "cannotCalculateChanges", "unknown query state");
	if (json_is_true(json_object_get(args, "collapseThreads")))
		return jmap_fail(ctx, "cannotCalculateChanges", "not with collapseThreads: query again");
	uint64_t max = 0;
	if (!jmap_arg_uint(ctx, args, "maxChanges", &max, NULL))
		return NULL;
	struct qresult res;
	if (!run_query(ctx, args, &res))
		return NULL;
	int64_t *changed, *removed;
	size_t nchanged, nremoved;
	const char *error;
	if (store_email_changes(ctx->store, ctx->a, ctx->account_id, since, &changed, &nchanged, &removed, &nremoved,
				&error) < 0)
		return jmap_fail(ctx, "serverFail", "%s", error);
	if (max > 0 && nchanged + nremoved > max)
		return jmap_fail(ctx, "tooManyChanges", "more than maxChanges changes");
	struct idset ch;
	idset_init(ctx->a, &ch, nchanged + nremoved);
	json_t *rm = json_array(), *added = json_array();
	char id[24];
	for (size_t i = 0; i < nchanged + nremoved; i++) {
		int64_t e = i < nchanged ? changed[i] : removed[i - nchanged];
		if (!idset_add(&ch, e))
			continue;
		store_id_email(e, id);
		json_array_append_new(rm, json_string(id));
	}
	for (size_t i = 0; i < res.n; i++) {
		/* a lookup only: ch is sized for the changes, not the results */
		if (!idset_has(&ch, res.ids[i]))
			continue; /* was not changed */
		store_id_email(res.ids[i], id);
		json_array_append_new(added, json_pack("{sssI}", "id", id, "index", (json_int_t)i));
	}
	json_t *out = json_pack("{sssssssoso}", "accountId", ctx->account_id_str, "oldQueryState", since_s,
				"newQueryState", state, "removed", rm, "added", added);
	if (json_is_true(json_object_get(args, "calculateTotal")))
		json_object_set_new(out, "total", json_integer((json_int_t)res.n));
	return out;
}
