/* jmap_query.h: what Email/query (jmap_query.c) and its filters (jmap_filter.c)
 * share; not for other files. */
#ifndef POSTAMT_JMAP_QUERY_H
#define POSTAMT_JMAP_QUERY_H

#include "jmap.h"

/* The rows of one mailbox as a query scans it. */
struct mbox_rows {
	int64_t mailbox_id;
	struct store_msg *msgs;
	size_t n;
	struct store_msg_sortkey *keys; /* loaded when needed, aligned with msgs */
	const struct store_uidset *subset; /* msgs are only the messages of these UIDs (NULL: all) */
};

struct qctx {
	struct jmap_ctx *ctx;
	bool need_meta;
	const char *err_type;
	char err[160];
};

/* The store search program for filter on one mailbox (arena), or NULL with
 * q->err_type and q->err (invalidArguments, unsupportedFilter, serverFail). */
struct store_search *jmap_query_program(struct qctx *q, json_t *filter, struct mbox_rows *mb);
/* True if filter has a condition that is computed from the mailbox's rows (before,
 * after, hasAttachment): its program needs them (jmap_query_program's mb). */
bool jmap_query_needs_rows(json_t *filter);
/* The string conditions (text, from, to, cc, bcc, subject, body, header) that every
 * result of filter must meet, those of its top-level AND, as a program (arena), or
 * NULL when there is none. Its matches are a superset of the filter's. */
struct store_search *jmap_query_prefilter(struct qctx *q, json_t *filter);
/* Loads mb->keys (aligned with mb->msgs) if not loaded yet; false on a store error. */
bool jmap_query_load_keys(struct qctx *q, struct mbox_rows *mb);
/* True if v (an id or an array of ids, "#creationId" resolved) names the mailbox. */
bool jmap_query_mailbox_listed(json_t *v, int64_t mailbox_id, struct jmap_ctx *ctx);

/* Email/query's window arguments (RFC 8620 §5.5), checked. */
struct jmap_query_page {
	json_int_t position;      /* 0 when absent */
	const char *anchor;       /* NULL: none */
	json_int_t anchor_offset; /* 0 when absent */
	uint64_t limit;           /* at most JMAP_QUERY_MAX */
	bool has_limit;           /* the client gave a limit */
	bool capped;              /* its limit was above JMAP_QUERY_MAX */
	bool want_total;          /* calculateTotal */
};
/* The Email/query reply (takes ids). total is the number of results (jmap_query_fast.c). */
json_t *jmap_query_reply(struct jmap_ctx *ctx, const struct jmap_query_page *page, const char *state, json_t *ids,
			 json_int_t position, uint64_t total);
/* Email/query's common case from the store's receivedAt index (jmap_query_fast.c):
 * 1 with *out_r, 0 when args are not the common case (run the general path), -1
 * after jmap_fail. */
int jmap_query_fast(struct jmap_ctx *ctx, json_t *args, const struct jmap_query_page *page, const char *state,
		    json_t **out_r);

#endif
