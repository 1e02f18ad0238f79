/* jmap_query.c: Email/query, Email/queryChanges and SearchSnippet/get (RFC 8621
 * §4.4, §4.5, §5).
 *
 * A query runs per mailbox of the account (or only the mailboxes named by a top-
 * level inMailbox): the FilterCondition tree becomes a store search program for
 * that mailbox (text, from/to/cc/bcc/subject/body/header and keyword conditions map
 * to the IMAP SEARCH keys the store evaluates with decoding; inMailbox and
 * inMailboxOtherThan become ALL or NOT ALL for the mailbox at hand; receivedAt
 * bounds, sizes and hasAttachment become UID sets computed from the mailbox's rows),
 * the matching rows are merged across mailboxes by email id, sorted, collapsed by
 * thread if asked, and windowed. The thread-keyword conditions are evaluated on the
 * email itself, not its whole thread. queryState is the account's state; query
 * changes are computed from the emails changed since (removed: every changed email,
 * added: those changed that are in the results now, RFC 8620 §5.6 allows that). */
#include "jmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct mbox_rows {
	int64_t mailbox_id;
	struct store_msg *msgs;
	size_t n;
	struct store_msg_meta *metas; /* loaded when needed */
	size_t nmetas;
};

struct qctx {
	struct jmap_ctx *ctx;
	bool need_meta;
	const char *err_type;
	char err[160];
};

/* ------------------------------------------------------------------ filters */

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

static struct store_search *node(struct arena *a, enum store_search_key k)
{
	struct store_search *s = arena_alloc(a, sizeof(*s));
	s->key = k;
	return s;
}

static struct store_search *none(struct arena *a)
{
	struct store_search *n = node(a, STORE_SK_NOT);
	n->sub = node(a, STORE_SK_ALL);
	return n;
}

/* A UID node for the rows of mb that pass keep(). */
static struct store_search *uid_node(struct arena *a, const struct mbox_rows *mb, bool (*keep)(const struct mbox_rows *, size_t, const void *),
				     const void *arg)
{
	struct store_range *r = arena_alloc(a, (mb->n + 1) * sizeof(*r));
	size_t nr = 0;
	for (size_t i = 0; i < mb->n; i++) {
		if (!keep(mb, i, arg))
			continue;
		uint32_t uid = mb->msgs[i].uid;
		if (nr > 0 && r[nr - 1].hi + 1 == uid)
			r[nr - 1].hi = uid;
		else
			r[nr++] = (struct store_range){ uid, uid };
	}
	if (nr == 0)
		return none(a);
	struct store_search *s = node(a, STORE_SK_UID);
	s->set = (struct store_uidset){ r, nr };
	return s;
}

static bool keep_before(const struct mbox_rows *mb, size_t i, const void *arg)
{
	return mb->msgs[i].internal_date < *(const int64_t *)arg;
}

static bool keep_after(const struct mbox_rows *mb, size_t i, const void *arg)
{
	return mb->msgs[i].internal_date >= *(const int64_t *)arg;
}

static bool keep_attach(const struct mbox_rows *mb, size_t i, const void *arg)
{
	bool want = *(const bool *)arg;
	return i < mb->nmetas && mb->metas[i].has_attachment == want;
}

static bool mailbox_listed(json_t *v, int64_t mailbox_id, struct jmap_ctx *ctx)
{
	char id[24];
	store_id_mailbox(mailbox_id, id);
	if (json_is_string(v))
		return strcmp(jmap_resolve_id(ctx, json_string_value(v)) ?: "", id) == 0;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		if (json_is_string(e) && strcmp(jmap_resolve_id(ctx, json_string_value(e)) ?: "", id) == 0)
			return true;
	}
	return false;
}

static struct store_search *str_node(struct arena *a, enum store_search_key k, json_t *v)
{
	struct store_search *s = node(a, k);
	s->str = arena_strdup(a, json_string_value(v));
	return s;
}

static bool load_metas(struct qctx *q, struct mbox_rows *mb)
{
	if (mb->metas != NULL || mb->n == 0)
		return true;
	const char *error;
	struct store_msg_meta *m;
	size_t n;
	if (store_msg_meta_list(q->ctx->store, q->ctx->a, q->ctx->account_id, mb->mailbox_id, NULL, &m, &n, &error) < 0)
		return false;
	/* same UID order as msgs; align by UID in case a message came or went between */
	struct store_msg_meta *al = arena_alloc(q->ctx->a, (mb->n + 1) * sizeof(*al));
	size_t j = 0;
	for (size_t i = 0; i < mb->n; i++) {
		while (j < n && m[j].m.uid < mb->msgs[i].uid)
			j++;
		if (j < n && m[j].m.uid == mb->msgs[i].uid)
			al[i] = m[j];
		else
			al[i].from = al[i].to = al[i].subject = "";
	}
	mb->metas = al;
	mb->nmetas = mb->n;
	return true;
}

/* Builds the program for one mailbox; NULL with q->err_type on a bad filter. */
static struct store_search *build(struct qctx *q, json_t *f, struct mbox_rows *mb, int depth)
{
	struct arena *a = q->ctx->a;
	if (!json_is_object(f) || depth > 64) {
		q->err_type = "invalidArguments";
		snprintf(q->err, sizeof(q->err), "a filter must be an object (at most 64 levels)");
		return NULL;
	}
	const char *op = json_string_value(json_object_get(f, "operator"));
	if (op != NULL) {
		json_t *conds = json_object_get(f, "conditions");
		if (!json_is_array(conds) || (strcmp(op, "AND") && strcmp(op, "OR") && strcmp(op, "NOT"))) {
			q->err_type = "invalidArguments";
			snprintf(q->err, sizeof(q->err), "operator must be AND, OR or NOT with conditions");
			return NULL;
		}
		struct store_search *list = NULL, **tail = &list;
		size_t n = 0, i;
		json_t *c;
		json_array_foreach(conds, i, c) {
			struct store_search *s = build(q, c, mb, depth + 1);
			if (s == NULL)
				return NULL;
			*tail = s;
			tail = &s->next;
			n++;
		}
		if (strcmp(op, "AND") == 0) {
			struct store_search *and = node(a, STORE_SK_AND);
			and->sub = list ? list : node(a, STORE_SK_ALL);
			return and;
		}
		/* OR (and NOT's inner OR) of n: a chain of binary ORs */
		struct store_search *any;
		if (n == 0) {
			any = none(a);
		} else {
			any = list;
			struct store_search *rest = list->next;
			any->next = NULL;
			while (rest != NULL) {
				struct store_search *nx = rest->next;
				rest->next = NULL;
				struct store_search *or = node(a, STORE_SK_OR);
				or->sub = any;
				any->next = rest;
				any = or;
				rest = nx;
			}
		}
		if (strcmp(op, "OR") == 0)
			return any;
		struct store_search *not = node(a, STORE_SK_NOT);
		not->sub = any;
		return not;
	}
	struct store_search *list = NULL, **tail = &list;
	const char *key;
	json_t *v;
	json_object_foreach(f, key, v) {
		struct store_search *s = NULL;
		if (strcmp(key, "inMailbox") == 0) {
			s = json_is_string(v) && mailbox_listed(v, mb->mailbox_id, q->ctx) ? node(a, STORE_SK_ALL) : none(a);
		} else if (strcmp(key, "inMailboxOtherThan") == 0) {
			s = json_is_array(v) && !mailbox_listed(v, mb->mailbox_id, q->ctx) ? node(a, STORE_SK_ALL) : none(a);
		} else if (strcmp(key, "before") == 0 || strcmp(key, "after") == 0) {
			int64_t t;
			if (web_parse_date(json_string_value(v), &t) < 0)
				goto bad;
			int64_t *tp = arena_alloc(a, sizeof(*tp));
			*tp = t;
			s = uid_node(a, mb, key[0] == 'b' ? keep_before : keep_after, tp);
		} else if (strcmp(key, "minSize") == 0 || strcmp(key, "maxSize") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				goto bad;
			json_int_t n = json_integer_value(v);
			if (key[1] == 'i') {
				if (n == 0) {
					s = node(a, STORE_SK_ALL);
				} else {
					s = node(a, STORE_SK_LARGER);
					s->num = n - 1;
				}
			} else {
				s = node(a, STORE_SK_SMALLER);
				s->num = n;
			}
		} else if (strcmp(key, "hasKeyword") == 0 || strcmp(key, "notKeyword") == 0 ||
			   strcmp(key, "allInThreadHaveKeyword") == 0 || strcmp(key, "someInThreadHaveKeyword") == 0 ||
			   strcmp(key, "noneInThreadHaveKeyword") == 0) {
			const char *kw = json_string_value(v);
			if (kw == NULL || !jmap_keyword_valid(kw))
				goto bad;
			bool neg = key[0] == 'n';
			unsigned int fl = jmap_keyword_flag(kw);
			if (fl != 0) {
				static const struct { unsigned int f; enum store_search_key yes, no; } fk[] = {
					{ STORE_F_SEEN, STORE_SK_SEEN, STORE_SK_UNSEEN },
					{ STORE_F_ANSWERED, STORE_SK_ANSWERED, STORE_SK_UNANSWERED },
					{ STORE_F_FLAGGED, STORE_SK_FLAGGED, STORE_SK_UNFLAGGED },
					{ STORE_F_DRAFT, STORE_SK_DRAFT, STORE_SK_UNDRAFT },
				};
				for (size_t k = 0; k < 4; k++) {
					if (fk[k].f == fl)
						s = node(a, neg ? fk[k].no : fk[k].yes);
				}
			} else {
				s = node(a, neg ? STORE_SK_UNKEYWORD : STORE_SK_KEYWORD);
				s->str = arena_strdup(a, kw);
			}
		} else if (strcmp(key, "hasAttachment") == 0) {
			if (!json_is_boolean(v))
				goto bad;
			if (!load_metas(q, mb)) {
				q->err_type = "serverFail";
				snprintf(q->err, sizeof(q->err), "cannot read the mailbox");
				return NULL;
			}
			bool *want = arena_alloc(a, sizeof(*want));
			*want = json_is_true(v);
			s = uid_node(a, mb, keep_attach, want);
		} else if (strcmp(key, "text") == 0 || strcmp(key, "from") == 0 || strcmp(key, "to") == 0 ||
			   strcmp(key, "cc") == 0 || strcmp(key, "bcc") == 0 || strcmp(key, "subject") == 0 ||
			   strcmp(key, "body") == 0) {
			if (!json_is_string(v))
				goto bad;
			static const struct { const char *k; enum store_search_key sk; } sm[] = {
				{ "text", STORE_SK_TEXT }, { "from", STORE_SK_FROM }, { "to", STORE_SK_TO },
				{ "cc", STORE_SK_CC }, { "bcc", STORE_SK_BCC }, { "subject", STORE_SK_SUBJECT },
				{ "body", STORE_SK_BODY },
			};
			for (size_t k = 0; k < sizeof(sm) / sizeof(sm[0]); k++) {
				if (strcmp(sm[k].k, key) == 0)
					s = str_node(a, sm[k].sk, v);
			}
		} else if (strcmp(key, "header") == 0) {
			if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 2 ||
			    !json_is_string(json_array_get(v, 0)) ||
			    (json_array_size(v) == 2 && !json_is_string(json_array_get(v, 1))))
				goto bad;
			s = node(a, STORE_SK_HEADER);
			s->field = arena_strdup(a, json_string_value(json_array_get(v, 0)));
			s->str = json_array_size(v) == 2 ? arena_strdup(a, json_string_value(json_array_get(v, 1))) : "";
		} else {
			q->err_type = "unsupportedFilter";
			snprintf(q->err, sizeof(q->err), "unsupported filter condition %.100s", key);
			return NULL;
		}
		*tail = s;
		tail = &s->next;
		continue;
	bad:
		q->err_type = "invalidArguments";
		snprintf(q->err, sizeof(q->err), "bad value for filter condition %.100s", key);
		return NULL;
	}
	struct store_search *and = node(a, STORE_SK_AND);
	and->sub = list ? list : node(a, STORE_SK_ALL);
	return and;
}

/* ------------------------------------------------------------------ sorting */

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

/* Adds id; false if it was there. */
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

struct qresult {
	struct row *rows;
	size_t n;
};

/* Runs the filter and sort of args; false after jmap_fail. */
static bool run_query(struct jmap_ctx *ctx, json_t *args, struct qresult *res)
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
	size_t cap = 0, n = 0;
	struct row *rows = NULL;
	for (size_t m = 0; m < nmbs; m++) {
		if (top_in != NULL && !mailbox_listed(top_in, mbs[m].id, ctx))
			continue;
		if (mbs[m].messages == 0)
			continue;
		struct mbox_rows mb = { .mailbox_id = mbs[m].id };
		if (store_msg_list(ctx->store, ctx->a, ctx->account_id, mbs[m].id, NULL, 0, &mb.msgs, &mb.n, &error) < 0) {
			jmap_fail(ctx, "serverFail", "%s", error);
			return false;
		}
		if (mb.n == 0)
			continue;
		if (need_meta && !load_metas(&q, &mb)) {
			jmap_fail(ctx, "serverFail", "cannot read the mailbox");
			return false;
		}
		/* which rows match */
		bool *match = arena_alloc(ctx->a, mb.n * sizeof(bool));
		if (filter == NULL || (json_object_size(filter) == 1 && top_in != NULL)) {
			for (size_t i = 0; i < mb.n; i++)
				match[i] = true;
		} else {
			struct store_search *prog = build(&q, filter, &mb, 0);
			if (prog == NULL) {
				jmap_fail(ctx, q.err_type, "%s", q.err);
				return false;
			}
			struct store_search_ctx sctx = { .account_id = ctx->account_id, .mailbox_id = mb.mailbox_id };
			uint32_t *uids;
			size_t nu;
			int r = store_search(ctx->store, ctx->a, &sctx, prog, &uids, &nu, NULL, &error);
			if (r < 0) {
				jmap_fail(ctx, "serverFail", "%s", error);
				return false;
			}
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
			if (mb.metas != NULL) {
				r->sent = mb.metas[i].date;
				r->from = mb.metas[i].from;
				r->to = mb.metas[i].to;
				r->subject = mb.metas[i].subject;
				r->has_attachment = mb.metas[i].has_attachment;
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
	res->rows = rows;
	res->n = n;
	return true;
}

json_t *jmap_email_query(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	const char *state = jmap_state(ctx);
	if (state == NULL)
		return jmap_fail(ctx, "serverFail", "cannot read the account");
	state = arena_strdup(ctx->a, state);
	json_t *posv = json_object_get(args, "position");
	if (posv != NULL && !json_is_null(posv) && !json_is_integer(posv))
		return jmap_fail(ctx, "invalidArguments", "position must be an integer");
	uint64_t limit = JMAP_QUERY_MAX;
	bool has_limit = false;
	if (!jmap_arg_uint(ctx, args, "limit", &limit, &has_limit))
		return NULL;
	json_t *anchor = json_object_get(args, "anchor");
	json_t *aoff = json_object_get(args, "anchorOffset");
	if ((anchor != NULL && !json_is_null(anchor) && !json_is_string(anchor)) ||
	    (aoff != NULL && !json_is_null(aoff) && !json_is_integer(aoff)))
		return jmap_fail(ctx, "invalidArguments", "anchor must be an id, anchorOffset an integer");
	struct qresult res;
	if (!run_query(ctx, args, &res))
		return NULL;
	json_int_t pos = json_integer_value(posv);
	if (json_is_string(anchor)) {
		int64_t aid;
		size_t idx = res.n;
		if (store_id_parse(json_string_value(anchor), 'E', &aid) > 0) {
			for (size_t i = 0; i < res.n; i++) {
				if (res.rows[i].email_id == aid) {
					idx = i;
					break;
				}
			}
		}
		if (idx == res.n)
			return jmap_fail(ctx, "anchorNotFound", "the anchor is not in the results");
		pos = (json_int_t)idx + json_integer_value(aoff);
		if (pos < 0)
			pos = 0;
	} else if (pos < 0) {
		pos = (json_int_t)res.n + pos;
		if (pos < 0)
			pos = 0;
	}
	bool capped = false;
	if (limit > JMAP_QUERY_MAX) {
		limit = JMAP_QUERY_MAX;
		capped = true;
	}
	json_t *ids = json_array();
	for (size_t i = (size_t)pos; i < res.n && json_array_size(ids) < limit; i++) {
		char id[24];
		store_id_email(res.rows[i].email_id, id);
		json_array_append_new(ids, json_string(id));
	}
	json_t *out = json_pack("{sssssbsIso}", "accountId", ctx->account_id_str, "queryState", state,
				"canCalculateChanges", 1, "position", (json_int_t)pos, "ids", ids);
	if (json_is_true(json_object_get(args, "calculateTotal")))
		json_object_set_new(out, "total", json_integer((json_int_t)res.n));
	if (capped || (!has_limit && res.n > JMAP_QUERY_MAX))
		json_object_set_new(out, "limit", json_integer((json_int_t)limit));
	return out;
}

json_t *jmap_email_query_changes(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	const char *state = jmap_state(ctx);
	if (state == NULL)
		return jmap_fail(ctx, "serverFail", "cannot read the account");
	state = arena_strdup(ctx->a, state);
	const char *since_s = json_string_value(json_object_get(args, "sinceQueryState"));
	if (since_s == NULL)
		return jmap_fail(ctx, "invalidArguments", "sinceQueryState is required");
	char *end;
	unsigned long long since = strtoull(since_s, &end, 10);
	if (*since_s == '\0' || *end != '\0' || since > strtoull(state, NULL, 10))
		return jmap_fail(ctx, "cannotCalculateChanges", "unknown query state");
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
	struct idset chk;
	idset_init(ctx->a, &chk, nchanged + nremoved);
	for (size_t i = 0; i < nchanged + nremoved; i++)
		idset_add(&chk, i < nchanged ? changed[i] : removed[i - nchanged]);
	for (size_t i = 0; i < res.n; i++) {
		if (idset_add(&chk, res.rows[i].email_id))
			continue; /* was not changed */
		store_id_email(res.rows[i].email_id, id);
		json_array_append_new(added, json_pack("{sssI}", "id", id, "index", (json_int_t)i));
	}
	json_t *out = json_pack("{sssssssoso}", "accountId", ctx->account_id_str, "oldQueryState", since_s,
				"newQueryState", state, "removed", rm, "added", added);
	if (json_is_true(json_object_get(args, "calculateTotal")))
		json_object_set_new(out, "total", json_integer((json_int_t)res.n));
	return out;
}

/* ------------------------------------------------------------------ snippets */

static void collect_terms(json_t *f, json_t *terms, json_t *subject_terms, int depth)
{
	if (!json_is_object(f) || depth > 64)
		return;
	json_t *conds = json_object_get(f, "conditions");
	if (json_is_array(conds)) {
		const char *op = json_string_value(json_object_get(f, "operator"));
		if (op && strcmp(op, "NOT") == 0)
			return;
		size_t i;
		json_t *c;
		json_array_foreach(conds, i, c)
			collect_terms(c, terms, subject_terms, depth + 1);
		return;
	}
	json_t *v;
	if ((v = json_object_get(f, "text")) && json_is_string(v)) {
		json_array_append(terms, v);
		json_array_append(subject_terms, v);
	}
	if ((v = json_object_get(f, "body")) && json_is_string(v))
		json_array_append(terms, v);
	if ((v = json_object_get(f, "subject")) && json_is_string(v))
		json_array_append(subject_terms, v);
}

static void html_escape(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '&': buf_puts(b, "&amp;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\r': case '\n': case '\t': buf_putc(b, ' '); break;
		default: buf_putc(b, s[i]);
		}
	}
}

/* The first case-insensitive match of any term in text[0..len): position and length. */
static bool find_term(const char *text, size_t len, json_t *terms, size_t *pos_r, size_t *tlen_r)
{
	bool found = false;
	size_t i;
	json_t *t;
	json_array_foreach(terms, i, t) {
		const char *term = json_string_value(t);
		size_t tl = strlen(term);
		if (tl == 0 || tl > len)
			continue;
		for (size_t p = 0; p + tl <= len; p++) {
			if (strncasecmp(text + p, term, tl) == 0) {
				if (!found || p < *pos_r) {
					*pos_r = p;
					*tlen_r = tl;
					found = true;
				}
				break;
			}
		}
	}
	return found;
}

/* Text with every term match in <mark>, HTML-escaped; NULL when nothing matches. */
static json_t *highlight(const char *text, size_t len, json_t *terms)
{
	size_t pos, tl;
	if (!find_term(text, len, terms, &pos, &tl))
		return json_null();
	struct buf b = { 0 };
	size_t i = 0;
	while (i < len) {
		if (!find_term(text + i, len - i, terms, &pos, &tl)) {
			html_escape(&b, text + i, len - i);
			break;
		}
		html_escape(&b, text + i, pos);
		buf_puts(&b, "<mark>");
		html_escape(&b, text + i + pos, tl);
		buf_puts(&b, "</mark>");
		i += pos + tl;
	}
	json_t *s = json_string(buf_str(&b));
	buf_free(&b);
	return s ? s : json_null();
}

json_t *jmap_snippet_get(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	json_t *ids = json_object_get(args, "emailIds");
	if (!json_is_array(ids))
		return jmap_fail(ctx, "invalidArguments", "emailIds must be an array");
	if (json_array_size(ids) > JMAP_MAX_OBJECTS)
		return jmap_fail(ctx, "requestTooLarge", "at most %d ids", JMAP_MAX_OBJECTS);
	json_t *terms = json_array(), *sterms = json_array();
	collect_terms(json_object_get(args, "filter"), terms, sterms, 0);
	json_t *list = json_array(), *not_found = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) {
		int64_t eid;
		struct store_msg_meta meta;
		int64_t mbid;
		const char *error;
		const char *s = json_string_value(v);
		if (s == NULL || store_id_parse(s, 'E', &eid) <= 0 ||
		    store_email_meta(ctx->store, ctx->a, ctx->account_id, eid, &meta, &mbid, &error) <= 0) {
			json_array_append_new(not_found, json_is_string(v) ? json_copy(v) : json_null());
			continue;
		}
		json_t *subj = highlight(meta.subject, strlen(meta.subject), sterms);
		json_t *prev = json_null();
		if (json_array_size(terms) > 0) {
			const char *msg;
			size_t len;
			struct mail_part *parts;
			size_t np;
			if (jmap_email_read(ctx, eid, &msg, &len) > 0 && mail_parts_decode(ctx->a, meta.parts, &parts, &np) >= 0) {
				struct buf body = { 0 };
				mail_body_text(msg, len, parts, np, &body);
				size_t pos, tl;
				if (body.len > 0 && find_term(body.data, body.len, terms, &pos, &tl)) {
					size_t start = pos > 80 ? pos - 80 : 0;
					while (start > 0 && ((unsigned char)body.data[start] & 0xc0) == 0x80)
						start--;
					size_t endp = pos + tl + 160 < body.len ? pos + tl + 160 : body.len;
					while (endp < body.len && ((unsigned char)body.data[endp] & 0xc0) == 0x80)
						endp++;
					json_decref(prev);
					prev = highlight(body.data + start, endp - start, terms);
				}
				buf_free(&body);
			}
		}
		json_array_append_new(list, json_pack("{sssoso}", "emailId", s, "subject", subj, "preview", prev));
	}
	json_decref(terms);
	json_decref(sterms);
	return json_pack("{sssoso}", "accountId", ctx->account_id_str, "list", list, "notFound", not_found);
}
