/* serve_index.c: the background catch-up of the full-text index.
 *
 * A store made before the index lists every message as pending (store_index.c);
 * searches read those files as before, so the server is fully usable at once. This
 * indexes them while it serves: one batch of 200 messages per pool job (one write
 * transaction through the committer, like any delivery), the next job queued by the
 * one before, so that a big store never holds a pool thread for long and a stop
 * waits for one batch at most. Progress goes to the log. */
#include "serve_index.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "arena.h"
#include "log.h"
#include "pool.h"
#include "store.h"

struct index_catchup {
	struct store *s;
	struct pool *pool;
	atomic_bool stop;
	int64_t pending;     /* at the start */
	int64_t after;       /* email ids up to this one were looked at */
	uint64_t indexed, logged;
};

static int one_batch(void *arg, const struct store_index_counts *c)
{
	(void)arg;
	(void)c;
	return -1; /* one batch per job */
}

static void job(void *arg)
{
	struct index_catchup *ic = arg;
	if (atomic_load(&ic->stop))
		return;
	struct store_index_counts c;
	const char *err;
	int r = store_index_rebuild(ic->s, 0, false, ic->after, one_batch, NULL, &c, &err);
	if (r < 0) {
		log_error("event=index_catchup_failed error=%s indexed=%llu", LOG_Q(err), (unsigned long long)ic->indexed);
		return;
	}
	ic->indexed += c.indexed;
	ic->after = c.last_id > ic->after ? c.last_id : ic->after;
	if (r == 1) {
		log_info("event=index_catchup_done indexed=%llu", (unsigned long long)ic->indexed);
		return;
	}
	if (ic->indexed - ic->logged >= 10000) {
		ic->logged = ic->indexed;
		log_info("event=index_catchup_progress indexed=%llu of=%lld", (unsigned long long)ic->indexed,
			 (long long)ic->pending);
	}
	if (!atomic_load(&ic->stop))
		pool_submit(ic->pool, job, NULL, NULL, ic);
}

struct index_catchup *index_catchup_start(struct store *s, struct pool *pool)
{
	struct index_catchup *ic = xcalloc(1, sizeof(*ic));
	ic->s = s;
	ic->pool = pool;
	atomic_init(&ic->stop, false);
	int64_t too_big = 0;
	const char *err;
	if (store_index_pending(s, &ic->pending, &too_big, &err) < 0) {
		log_error("event=index_catchup_failed error=%s", LOG_Q(err));
		return ic;
	}
	if (ic->pending > 0) {
		log_info("event=index_catchup_start pending=%lld", (long long)ic->pending);
		pool_submit(pool, job, NULL, NULL, ic);
	}
	return ic;
}

void index_catchup_stop(struct index_catchup *ic)
{
	if (ic != NULL)
		atomic_store(&ic->stop, true);
}

void index_catchup_free(struct index_catchup **icp)
{
	free(*icp);
	*icp = NULL;
}
