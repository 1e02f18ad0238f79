/* serve_index.h: indexing, in the background, the messages of a store made before
 * the full-text index (serve_index.c). */
#ifndef POSTAMT_SERVE_INDEX_H
#define POSTAMT_SERVE_INDEX_H

struct store;
struct pool;
struct index_catchup;

/* Starts indexing the store's pending messages on the pool, one batch of 200 per
 * pool job, if there are any (logs the start, the progress every 10,000 messages,
 * and the end). Returns the catch-up (never NULL). */
struct index_catchup *index_catchup_start(struct store *s, struct pool *pool);
/* No further batch starts after this (the one running finishes). */
void index_catchup_stop(struct index_catchup *ic);
/* After the pool is freed. */
void index_catchup_free(struct index_catchup **icp);

#endif
