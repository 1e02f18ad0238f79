/* jmap_filter.c: an Email/query FilterCondition/FilterOperator tree (RFC 8621
 * §4.4.1) as a store search program for one mailbox. text, from/to/cc/bcc/subject/
 * body/header and keyword conditions map to the IMAP SEARCH keys the store evaluates
 * with decoding; inMailbox and inMailboxOtherThan become ALL or NOT ALL for the
 * mailbox at hand; receivedAt bounds and hasAttachment become UID sets computed from
 * the mailbox's rows, sizes LARGER and SMALLER. The thread-keyword conditions are
 * evaluated on the email itself, not its whole thread. */
#include "jmap_query.h"

#include <stdio.h>
#include <string.h>

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
	return mb->keys[i].has_attachment == want;
}

bool jmap_query_mailbox_listed(json_t *v, int64_t mailbox_id, struct jmap_ctx *ctx)
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

bool jmap_query_load_keys(struct qctx *q, struct mbox_rows *mb)
{
	if (mb->keys != NULL || mb->n == 0)
		return true;
	const char *error;
	struct store_msg_sortkey *k;
	size_t n;
	if (store_msg_sortkeys(q->ctx->store, q->ctx->a, q->ctx->account_id, mb->mailbox_id, mb->subset, &k, &n,
			       &error) < 0)
		return false;
	/* same UID order as msgs; align by UID in case a message came or went between */
	struct store_msg_sortkey *al = arena_alloc(q->ctx->a, (mb->n + 1) * sizeof(*al));
	size_t j = 0;
	for (size_t i = 0; i < mb->n; i++) {
		while (j < n && k[j].uid < mb->msgs[i].uid)
			j++;
		if (j < n && k[j].uid == mb->msgs[i].uid)
			al[i] = k[j];
		else
			al[i].from = al[i].to = al[i].subject = "";
	}
	mb->keys = al;
	return true;
}

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
			s = json_is_string(v) && jmap_query_mailbox_listed(v, mb->mailbox_id, q->ctx) ? node(a, STORE_SK_ALL) : none(a);
		} else if (strcmp(key, "inMailboxOtherThan") == 0) {
			s = json_is_array(v) && !jmap_query_mailbox_listed(v, mb->mailbox_id, q->ctx) ? node(a, STORE_SK_ALL) : none(a);
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
			if (!jmap_query_load_keys(q, mb)) {
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

bool jmap_query_needs_rows(json_t *filter)
{
	if (!json_is_object(filter))
		return false;
	json_t *conds = json_object_get(filter, "conditions");
	if (json_object_get(filter, "operator") != NULL) {
		size_t i;
		json_t *c;
		json_array_foreach(conds, i, c) {
			if (jmap_query_needs_rows(c))
				return true;
		}
		return false;
	}
	return json_object_get(filter, "before") != NULL || json_object_get(filter, "after") != NULL ||
	       json_object_get(filter, "hasAttachment") != NULL;
}

static bool is_string_condition(const char *key)
{
	static const char *const keys[] = { "text", "from", "to", "cc", "bcc", "subject", "body", "header" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i], key) == 0)
			return true;
	}
	return false;
}

/* Appends the string conditions of f's top-level AND to *tail (depth as in build). */
static bool prefilter(struct qctx *q, json_t *f, struct store_search ***tail, int depth)
{
	if (!json_is_object(f) || depth > 64)
		return false;
	const char *op = json_string_value(json_object_get(f, "operator"));
	if (op != NULL) {
		if (strcmp(op, "AND") != 0)
			return true; /* OR and NOT: nothing every result must meet */
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(f, "conditions"), i, c) {
			if (!prefilter(q, c, tail, depth + 1))
				return false;
		}
		return true;
	}
	const char *key;
	json_t *v;
	json_object_foreach(f, key, v) {
		if (!is_string_condition(key))
			continue;
		json_t *one = json_pack("{sO}", key, v);
		struct mbox_rows none = { 0 };
		struct store_search *s = one != NULL ? build(q, one, &none, depth + 1) : NULL;
		json_decref(one);
		if (s == NULL)
			return false;
		**tail = s;
		*tail = &s->next;
	}
	return true;
}

struct store_search *jmap_query_prefilter(struct qctx *q, json_t *filter)
{
	struct store_search *list = NULL, **tail = &list;
	if (!prefilter(q, filter, &tail, 0) || list == NULL)
		return NULL;
	struct store_search *and = node(q->ctx->a, STORE_SK_AND);
	and->sub = list;
	return and;
}

struct store_search *jmap_query_program(struct qctx *q, json_t *filter, struct mbox_rows *mb)
{
	return build(q, filter, mb, 0);
}
