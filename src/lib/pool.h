/* pool.h: a few threads for blocking work (password hashing, fsync, big queries).
 *
 * pool_submit() runs work(arg) on a pool thread, then done(arg) back on the loop that
 * submitted it, so a slow hash never stalls other connections (DESIGN.md §2). */
#ifndef POSTAMT_LIB_POOL_H
#define POSTAMT_LIB_POOL_H

#include "loop.h"

#include <stddef.h>
#include <stdint.h>

struct pool;

typedef void pool_work_fn(void *arg);

/* Starts nthreads threads (at least 1). */
struct pool *pool_new(int nthreads);
/* Finishes the queued work, stops the threads, frees the pool; sets *pp to NULL. */
void pool_free(struct pool **pp);
/* Queues work; done runs on loop `back` afterwards (or on the pool thread when back is
 * NULL). Never blocks. */
void pool_submit(struct pool *p, pool_work_fn *work, loop_fn *done, struct loop *back, void *arg);
/* Waits until no job is queued or running (each finished job's done has been posted
 * or run); returns how many jobs the pool has finished so far, so that a caller can
 * tell whether anything ran between two calls. Not from a pool thread. */
uint64_t pool_wait_idle(struct pool *p);
/* Jobs queued and not yet taken by a thread (for /metrics); any thread. */
size_t pool_queued(struct pool *p);

#endif
