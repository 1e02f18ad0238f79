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
	struct store_msg_meta *metas; /* loaded when needed */
	size_t nmetas;
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
/* Loads mb->metas (aligned with mb->msgs) if not loaded yet; false on a store error. */
bool jmap_query_load_metas(struct qctx *q, struct mbox_rows *mb);
/* True if v (an id or an array of ids, "#creationId" resolved) names the mailbox. */
bool jmap_query_mailbox_listed(json_t *v, int64_t mailbox_id, struct jmap_ctx *ctx);

#endif
