/* serve_index.c: the server's indexer of the full-text index.
 *
 * Deliveries list each new message as waiting (store_index.c); searches read the
 * files of waiting messages, so nothing is ever missing from results. This writes
 * their entries in the background: a run indexes one batch of 200 messages per pool
 * job (one write transaction through the committer, like a delivery), the next job
 * queued by the one before while messages wait, so that a big backlog never holds a
 * pool thread for long and a stop waits for one batch at most. The server kicks it
 * every second. A store made before the index starts with every message waiting: that
 * catch-up is logged (start, every 10,000 messages, end); the steady trickle of new
 * mail is not. */
#include "serve_index.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "log.h"
#include "pool.h"
#include "store.h"

struct index_catchup {
	struct store *s;
	struct pool *pool;
	atomic_bool stop;
	atomic_bool running; /* a run's job is queued or running */
	struct event *timer; /* the main thread's: a kick every second */
	/* the catch-up after start, while it lasts (only the jobs touch these) */
	bool catching_up;
	int64_t pending; /* waiting at the start */
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
	if (atomic_load(&ic->stop)) {
		atomic_store(&ic->running, false);
		return;
	}
	struct store_index_counts c;
	const char *err;
	int r = store_index_rebuild(ic->s, 0, false, 0, one_batch, NULL, &c, &err);
	if (r < 0) {
		log_error("event=index_failed error=%s", LOG_Q(err));
		atomic_store(&ic->running, false);
		return;
	}
	if (ic->catching_up) {
		ic->indexed += c.indexed;
		if (r == 1) {
			ic->catching_up = false;
			log_info("event=index_catchup_done indexed=%llu", (unsigned long long)ic->indexed);
		} else if (ic->indexed - ic->logged >= 10000) {
			ic->logged = ic->indexed;
			log_info("event=index_catchup_progress indexed=%llu of=%lld", (unsigned long long)ic->indexed,
				 (long long)ic->pending);
		}
	}
	if (r == 0 && !atomic_load(&ic->stop)) {
		pool_submit(ic->pool, job, NULL, NULL, ic); /* more may wait */
		return;
	}
	atomic_store(&ic->running, false);
}

static void index_catchup_kick(struct index_catchup *ic);

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	index_catchup_kick(arg);
}

struct index_catchup *index_catchup_start(struct store *s, struct pool *pool, struct event_base *base)
{
	struct index_catchup *ic = xcalloc(1, sizeof(*ic));
	ic->s = s;
	ic->pool = pool;
	atomic_init(&ic->stop, false);
	atomic_init(&ic->running, false);
	/* new mail waits about a second at most for its index entry */
	ic->timer = event_new(base, -1, EV_PERSIST, timer_cb, ic);
	event_add(ic->timer, &(struct timeval){ 1, 0 });
	int64_t other = 0;
	const char *err;
	if (store_index_pending(s, &ic->pending, &other, &err) < 0) {
		log_error("event=index_failed error=%s", LOG_Q(err));
		return ic;
	}
	if (ic->pending > 0) {
		ic->catching_up = true;
		log_info("event=index_catchup_start pending=%lld", (long long)ic->pending);
		index_catchup_kick(ic);
	}
	return ic;
}

static void index_catchup_kick(struct index_catchup *ic)
{
	if (ic == NULL || atomic_load(&ic->stop) || atomic_exchange(&ic->running, true))
		return;
	pool_submit(ic->pool, job, NULL, NULL, ic);
}

void index_catchup_stop(struct index_catchup *ic)
{
	if (ic != NULL)
		atomic_store(&ic->stop, true);
}

void index_catchup_free(struct index_catchup **icp)
{
	if (*icp != NULL && (*icp)->timer != NULL)
		event_free((*icp)->timer);
	free(*icp);
	*icp = NULL;
}
