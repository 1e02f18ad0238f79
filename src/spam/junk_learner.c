/* junk_learner.c: the store's junk filter lessons applied to the models, in batches on
 * the pool (junk_learner.h).
 *
 * One job at a time: `running` is true while a job is queued or running; a kick then
 * only sets `again`, and the job queues its successor when it took a full batch or
 * was kicked meanwhile. The mutex guards these flags only, never store work. */
#include "junk_learner.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "log.h"

struct junk_learner {
	struct store *store;
	struct junk *junk;
	struct pool *pool;
	atomic_size_t batch, max_bytes; /* junk_learner_set may change them at any time */
	pthread_mutex_t mu; /* guards running, again, stopping */
	bool running, again, stopping;
	atomic_uint_fast64_t applied;
};

static void learner_job(void *arg);

static void submit_locked(struct junk_learner *l)
{
	l->running = true;
	l->again = false;
	pool_submit(l->pool, learner_job, NULL, NULL, l);
}

void junk_learner_kick(struct junk_learner *l)
{
	if (l == NULL || l->pool == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	if (!l->stopping) {
		if (l->running)
			l->again = true;
		else
			submit_locked(l);
	}
	pthread_mutex_unlock(&l->mu);
}

static void notify(void *arg)
{
	junk_learner_kick(arg); /* on the committer thread: only queues a job */
}

/* Applies one lesson; false when it had to be dropped (logged). */
static bool apply_one(struct junk_learner *l, struct arena *a, const struct store_lesson *ls)
{
	if (ls->spam == 0 && ls->ham == 0)
		return true; /* undone before it was learned */
	const char *data, *error = NULL;
	size_t len;
	int r = store_lesson_read(l->store, a, ls->email_id, atomic_load(&l->max_bytes), &data, &len, &error);
	if (r <= 0) {
		const char *why = r == 0 ? "message gone" : error != NULL ? error : "?";
		log_warn("event=junk_learn_failed account=%" PRId64 " email=%" PRId64 " error=%s", ls->account_id,
			 ls->email_id, LOG_Q(why));
		return false;
	}
	if (junk_train(l->junk, ls->account_id, data, len, ls->spam, ls->ham, &error) < 0) {
		log_warn("event=junk_learn_failed account=%" PRId64 " email=%" PRId64 " error=%s", ls->account_id,
			 ls->email_id, LOG_Q(error != NULL ? error : "?"));
		return false;
	}
	log_debug("event=junk_learned account=%" PRId64 " email=%" PRId64 " spam=%+d ham=%+d", ls->account_id,
		  ls->email_id, ls->spam, ls->ham);
	atomic_fetch_add(&l->applied, 1);
	return true;
}

int junk_learner_run_once(struct junk_learner *l, const char **error_r)
{
	struct arena *a = arena_new();
	struct store_lesson *v;
	size_t n;
	int r = store_lessons_next(l->store, a, atomic_load(&l->batch), &v, &n, error_r);
	if (r > 0 && n > 0) {
		size_t dropped = 0;
		for (size_t i = 0; i < n; i++) {
			struct arena *ma = arena_new(); /* one message at a time in memory */
			dropped += !apply_one(l, ma, &v[i]);
			arena_free(&ma);
		}
		/* dropped ones are marked applied too: one bad message must not block the rest */
		r = store_lessons_done(l->store, v, n, error_r);
		if (r > 0)
			log_info("event=junk_batch lessons=%zu dropped=%zu", n, dropped);
	}
	arena_free(&a);
	return r < 0 ? r : (int)n;
}

static void learner_job(void *arg)
{
	struct junk_learner *l = arg;
	const char *error = NULL;
	int n = junk_learner_run_once(l, &error);
	if (n < 0)
		log_error("event=junk_learner_error error=%s", LOG_Q(error != NULL ? error : "?"));
	pthread_mutex_lock(&l->mu);
	/* a full batch leaves more behind; after an error wait for the next kick */
	if (!l->stopping && n >= 0 && ((size_t)n >= atomic_load(&l->batch) || l->again))
		submit_locked(l);
	else
		l->running = false;
	pthread_mutex_unlock(&l->mu);
}

struct junk_learner *junk_learner_new(struct store *store, struct junk *junk, struct pool *pool,
				      const struct junk_learner_settings *set)
{
	struct junk_learner *l = xcalloc(1, sizeof(*l));
	l->store = store;
	l->junk = junk;
	l->pool = pool;
	junk_learner_set(l, set);
	pthread_mutex_init(&l->mu, NULL);
	store_set_lesson_notify(store, notify, l);
	return l;
}

void junk_learner_set(struct junk_learner *l, const struct junk_learner_settings *set)
{
	atomic_store(&l->batch, set->batch > 0 ? set->batch : 200);
	atomic_store(&l->max_bytes, set->max_bytes);
}

void junk_learner_stop(struct junk_learner *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	l->stopping = true;
	pthread_mutex_unlock(&l->mu);
}

void junk_learner_free(struct junk_learner **lp)
{
	struct junk_learner *l = *lp;
	if (l == NULL)
		return;
	*lp = NULL;
	store_set_lesson_notify(l->store, NULL, NULL);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

uint64_t junk_learner_applied(struct junk_learner *l)
{
	return atomic_load(&l->applied);
}
