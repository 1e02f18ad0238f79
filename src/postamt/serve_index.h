/* serve_index.h: the server's indexer, which writes the full-text index entries of
 * new messages (and of a store made before the index) in the background
 * (serve_index.c). */
#ifndef POSTAMT_SERVE_INDEX_H
#define POSTAMT_SERVE_INDEX_H

struct store;
struct pool;
struct index_catchup;

/* Creates the indexer and starts a run on the pool if messages wait (logs the start
 * of a catch-up when there are any, its progress every 10,000 messages and its end).
 * Returns the indexer (never NULL). */
struct index_catchup *index_catchup_start(struct store *s, struct pool *pool);
/* Starts a run unless one is going (the server calls it every second): each run
 * indexes what waits, one batch of 200 messages per pool job. */
void index_catchup_kick(struct index_catchup *ic);
/* No further batch starts after this (the one running finishes). */
void index_catchup_stop(struct index_catchup *ic);
/* After the pool is freed. */
void index_catchup_free(struct index_catchup **icp);

#endif
