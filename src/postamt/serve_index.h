/* serve_index.h: the server's indexer, which writes the full-text index entries of
 * new messages (and of a store made before the index) in the background
 * (serve_index.c). */
#ifndef POSTAMT_SERVE_INDEX_H
#define POSTAMT_SERVE_INDEX_H

struct store;
struct pool;
struct event_base;
struct index_catchup;

/* Creates the indexer and starts a run on the pool if messages wait (logs the start
 * of a catch-up when there are any, its progress every 10,000 messages and its end),
 * and a timer on base (the main thread's) that starts a run every second unless one
 * is going. Each run indexes what waits, one batch per pool job. Returns the indexer
 * (never NULL). */
struct index_catchup *index_catchup_start(struct store *s, struct pool *pool, struct event_base *base);
/* No further batch starts after this (the one running finishes). */
void index_catchup_stop(struct index_catchup *ic);
/* After the pool is freed (and before base). */
void index_catchup_free(struct index_catchup **icp);

#endif
