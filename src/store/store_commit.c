/* store_commit.c: the write pipeline: ops, the preparer threads, the committer.
 *
 * Durability. The database is in WAL mode with synchronous=FULL: every COMMIT fsyncs
 * the WAL, so a committed row survives power loss (NORMAL would only be durable at the
 * next checkpoint). The cost is one fsync per transaction, and group commit makes it
 * one per batch: the committer thread takes every queued op, syncs the batch's new
 * blob files and their directory entries (written beforehand by two preparer threads)
 * with one syncfs(), then
 * runs the ops in one BEGIN IMMEDIATE ... COMMIT (a SAVEPOINT per op) and reports all
 * of them; a row therefore never points at a blob that is not on disk. While one
 * batch syncs and commits, the next one accumulates.
 * Checkpoints are SQLite's automatic ones (every 1000 WAL pages, run by the committer
 * connection after a commit; a checkpoint fsyncs the database before the WAL is
 * reused), which keeps the WAL small without a separate policy.
 *
 * A full disk: when an op that deletes fails because the disk is full, the committer
 * gives up the reserve file and runs those ops again in a second transaction
 * (store_space.c); the batch's other ops fail with STORE_ENOSPACE.
 *
 * Ops are queued by any thread. An op with a prepare step goes to the preparers
 * first; when prepared (or when it has none) it joins the commit queue. The committer
 * takes the whole queue as one batch, so batches grow by themselves while a commit is
 * in progress. Completions go back to the submitter's loop with loop_post(), or wake
 * a synchronous caller waiting on a semaphore. */
#include "store_int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ ops */

struct store_op *store_op_new(op_fn *prepare, op_fn *apply, op_finish_fn *finish, void *req,
			struct arena *arena)
{
	struct store_op *op = xcalloc(1, sizeof(*op));
	op->prepare = prepare;
	op->apply = apply;
	op->finish = finish;
	op->req = req;
	op->arena = arena;
	op->tmp = arena_new();
	op->blob_fd = -1;
	return op;
}

void store_op_free(struct store_op *op)
{
	if (op->blob_fd >= 0)
		close(op->blob_fd);
	for (size_t i = 0; i < op->nunlink; i++)
		free(op->unlink[i]);
	free(op->unlink);
	for (size_t i = 0; i < op->nblobs; i++)
		free(op->blobs[i]);
	free(op->blobs);
	free(op->events);
	free(op->locks);
	free(op->blob);
	free(op->data);
	arena_free(&op->tmp);
	free(op);
}

void store_op_lock(struct store_op *op, int64_t account_id)
{
	assert(account_id > 0);
	if (op->nlocks == op->caplocks) {
		op->caplocks = op->caplocks ? op->caplocks * 2 : 2;
		op->locks = xrealloc(op->locks, op->caplocks * sizeof(*op->locks));
	}
	op->locks[op->nlocks++] = account_id;
}

void store_op_event(struct store_op *op, enum store_event_kind kind, int64_t account_id,
	      int64_t mailbox_id, uint32_t uid, uint32_t uid_last, uint32_t count, uint64_t modseq)
{
	if (op->nevents == op->capevents) {
		op->capevents = op->capevents ? op->capevents * 2 : 4;
		op->events = xrealloc(op->events, op->capevents * sizeof(*op->events));
	}
	op->events[op->nevents++] = (struct store_event){
		.kind = kind, .account_id = account_id, .mailbox_id = mailbox_id,
		.uid = uid, .uid_last = uid_last, .count = count, .modseq = modseq,
	};
}

void store_op_unlink_blob(struct store_op *op, const char *blob)
{
	if (op->nunlink == op->capunlink) {
		op->capunlink = op->capunlink ? op->capunlink * 2 : 4;
		op->unlink = xrealloc(op->unlink, op->capunlink * sizeof(*op->unlink));
	}
	op->unlink[op->nunlink++] = xstrdup(blob);
}

static void op_complete_on_loop(void *arg)
{
	struct store_op *op = arg;
	op->done(op->done_arg, op->result, op->result < 0 ? op->error : NULL);
	store_op_free(op);
}

static void op_complete(struct store *s, struct store_op *op)
{
	(void)s;
	if (op->result < 0 && op->error == NULL)
		op->error = "store error";
	if (op->sem != NULL) {
		sem_post(op->sem); /* the waiting caller frees op */
	} else if (op->done != NULL && op->loop != NULL) {
		loop_post(op->loop, op_complete_on_loop, op);
	} else if (op->done != NULL) {
		op_complete_on_loop(op);
	} else {
		store_op_free(op);
	}
}

static void queue_push(struct store_op **head, struct store_op **tail, struct store_op *op)
{
	op->next = NULL;
	if (*tail != NULL)
		(*tail)->next = op;
	else
		*head = op;
	*tail = op;
}

static void op_submit(struct store *s, struct store_op *op)
{
	if (s->pg_conninfo != NULL && !op->sql_ready) {
		/* on PostgreSQL only sql.h ops run (their apply uses only op->q); the rest is
		 * not there yet */
		store_op_fail(op, STORE_EUNAVAIL, "%s", STORE_PG_MISSING);
		op_complete(s, op);
		return;
	}
	pthread_mutex_lock(&s->q_mu);
	if (op->prepare != NULL) {
		queue_push(&s->prep_head, &s->prep_tail, op);
		pthread_cond_signal(&s->prep_cond);
	} else {
		queue_push(&s->commit_head, &s->commit_tail, op);
		pthread_cond_signal(&s->commit_cond);
	}
	pthread_mutex_unlock(&s->q_mu);
}

void store_op_submit_async(struct store *s, struct store_op *op, struct loop *loop, store_done_fn *done,
		     void *arg)
{
	op->loop = loop;
	op->done = done;
	op->done_arg = arg;
	op_submit(s, op);
}

int store_op_run(struct store *s, struct store_op *op, const char **error_r)
{
	sem_t sem;
	sem_init(&sem, 0, 0);
	op->sem = &sem;
	op_submit(s, op);
	while (sem_wait(&sem) != 0 && errno == EINTR)
		;
	sem_destroy(&sem);
	int r = op->result;
	if (r < 0)
		*error_r = store_set_error(op->error ? op->error : "store error");
	store_op_free(op);
	return r;
}

void *store_preparer_main(void *arg)
{
	struct store *s = arg;
	pthread_mutex_lock(&s->q_mu);
	for (;;) {
		while (s->prep_head == NULL && !s->stopping)
			pthread_cond_wait(&s->prep_cond, &s->q_mu);
		if (s->prep_head == NULL)
			break;
		struct store_op *op = s->prep_head;
		s->prep_head = op->next;
		if (s->prep_head == NULL)
			s->prep_tail = NULL;
		s->in_prep++;
		pthread_mutex_unlock(&s->q_mu);
		int r = op->prepare(s, op);
		op->result = r < 0 ? r : 0;
		if (r < 0 && op->error == NULL)
			op->error = "store error";
		pthread_mutex_lock(&s->q_mu);
		assert(s->in_prep > 0);
		s->in_prep--;
		queue_push(&s->commit_head, &s->commit_tail, op);
		pthread_cond_signal(&s->commit_cond);
	}
	pthread_mutex_unlock(&s->q_mu);
	return NULL;
}

static void reset_all(struct db *c)
{
	for (size_t i = 0; i < c->ncache; i++)
		sqlite3_reset(c->cache[i].st);
	sql_reset_all(c->sql);
}

/* Makes the batch's new blobs durable before its transaction with one syncfs() of
 * the blob file system: it writes every dirty file and directory entry and commits
 * the journal once, where fsync of each file and of each directory would commit it
 * once per call. Measured with bench_store: one writer 850 -> 1,200 deliveries/s
 * (2 instead of 3 syncs per delivery), 32 writers ~570 -> ~3,000 (0.1 per delivery).
 * The data directory normally holds little else, so syncfs flushes mostly our own
 * writes. */
static void sync_blobs(struct store *s, struct store_op *batch)
{
	struct store_op *one = NULL;
	for (struct store_op *op = batch; op != NULL && one == NULL; op = op->next) {
		if (op->blob_fd >= 0 && op->result >= 0)
			one = op;
	}
	if (one != NULL && !s->opt.no_fsync) {
		int r = syncfs(one->blob_fd);
		store_stat_fsync(s);
		if (r < 0) {
			int e = errno;
			log_error("event=store_error what=sync_blobs errno=%d", e);
			for (struct store_op *op = batch; op != NULL; op = op->next) {
				if (op->blob_fd >= 0 && op->result >= 0)
					store_op_fail(op, store_errno_full(e) ? STORE_ENOSPACE : STORE_ERR,
						"cannot sync message files: %s", strerror(e));
			}
		}
	}
	for (struct store_op *op = batch; op != NULL; op = op->next) {
		if (op->blob_fd >= 0) {
			close(op->blob_fd);
			op->blob_fd = -1;
		}
	}
}

/* Runs the ops of batch in one transaction (only those with `retry` set when
 * only_retry). Sets each op's result, committed and full (the disk is full: its apply
 * or the COMMIT failed with SQLITE_FULL, ENOSPC, EDQUOT or EFBIG). */
static void run_txn(struct store *s, struct store_op *batch, bool only_retry)
{
	struct db *c = s->wc;
	const char *err;
	bool began = store_db_exec(c, "BEGIN IMMEDIATE", &err) > 0;
	size_t applied = 0;
	for (struct store_op *op = batch; op != NULL; op = op->next) {
		if (only_retry && !op->retry)
			continue;
		op->full = false;
		if (!began) {
			store_op_fail(op, STORE_ERR, "database busy or unavailable");
			continue;
		}
		if (op->result < 0) /* prepare failed */
			continue;
		if (store_db_exec(c, "SAVEPOINT op", &err) < 0) {
			store_op_fail(op, STORE_ERR, "database error");
			continue;
		}
		op->result = 0;
		op->error = NULL;
		op->q = c->sql;
		int r = op->apply(s, op);
		if (r < 0 && store_db_full(c)) {
			op->full = true;
			r = store_op_fail(op, STORE_ENOSPACE, "the server's disk is full");
		}
		reset_all(c);
		if (r < 0) {
			store_op_rolled_back(op, r);
			store_db_exec(c, "ROLLBACK TO op", &err);
		} else {
			op->result = r;
			applied++;
			/* a lost announcement only delays a watching server's sessions until
			 * their next command: not worth failing the change for */
			if (s->opt.announce && op->nevents > 0 && store_announce_events(op, c) < 0)
				log_warn("event=store_announce_failed");
		}
		store_db_exec(c, "RELEASE op", &err);
	}
	bool committed = false, full = false;
	if (began) {
		reset_all(c);
		if (store_db_exec(c, "COMMIT", &err) > 0) {
			committed = true;
		} else {
			full = store_db_full(c);
			if (!sqlite3_get_autocommit(c->db)) /* SQLite may have rolled back already */
				store_db_exec(c, "ROLLBACK", &err);
		}
		atomic_fetch_add(&s->st_commits, 1);
	}
	atomic_fetch_add(&s->st_ops, applied);
	for (struct store_op *op = batch; op != NULL; op = op->next) {
		if (only_retry && !op->retry)
			continue;
		if (!committed && op->result >= 0) {
			if (full) {
				op->full = true;
				store_op_fail(op, STORE_ENOSPACE, "the server's disk is full");
			} else {
				store_op_fail(op, STORE_ERR, "commit failed");
			}
		}
		op->committed = committed && op->result >= 0;
	}
}

/* A disk-full failure of an op that deletes: give the reserve file up and run those
 * ops again (store_space.c). The others keep their STORE_ENOSPACE. */
static void retry_on_reserve(struct store *s, struct store_op *batch)
{
	bool any = false;
	for (struct store_op *op = batch; op != NULL; op = op->next) {
		op->retry = op->full && op->may_use_reserve;
		any |= op->retry;
	}
	if (!any || !store_reserve_release(s))
		return;
	for (struct store_op *op = batch; op != NULL; op = op->next) {
		if (!op->retry)
			continue;
		op->result = 0;
		op->error = NULL;
		op->nevents = 0;
		for (size_t i = 0; i < op->nunlink; i++)
			free(op->unlink[i]);
		op->nunlink = 0;
	}
	run_txn(s, batch, true);
	for (struct store_op *op = batch; op != NULL; op = op->next) {
		if (op->retry)
			log_info("event=store_reserve_used result=%d", op->result);
	}
}

/* ------------------------------------------------------------------ the junk filter's learner */

void store_set_lesson_notify(struct store *s, store_lesson_notify_fn *fn, void *arg)
{
	pthread_mutex_lock(&s->sub_mu);
	s->lesson_fn = fn;
	s->lesson_arg = arg;
	pthread_mutex_unlock(&s->sub_mu);
}

static void lesson_notify(struct store *s)
{
	/* called under the mutex, so that once store_set_lesson_notify(NULL) returned no
	 * call into the old receiver is in flight (it may be freed); fn is quick */
	pthread_mutex_lock(&s->sub_mu);
	if (s->lesson_fn != NULL)
		s->lesson_fn(s->lesson_arg);
	pthread_mutex_unlock(&s->sub_mu);
}

static void run_batch(struct store *s, struct store_op *batch)
{
	sync_blobs(s, batch);
	if (s->pg_conninfo != NULL) {
		store_pg_txn(s, batch);
	} else {
		run_txn(s, batch, false);
		retry_on_reserve(s, batch);
	}
	bool freed = false, lessons = false;
	for (struct store_op *op = batch, *next; op != NULL; op = next) {
		next = op->next;
		if (op->committed) {
			lessons |= op->lessons;
			store_events_publish(s, op->events, op->nevents);
			for (size_t i = 0; i < op->nunlink; i++) {
				char *p = store_blob_path(s, op->unlink[i]);
				unlink(p);
				free(p);
			}
			freed |= op->nunlink > 0;
		} else {
			if (op->blob != NULL) {
				char *p = store_blob_path(s, op->blob);
				unlink(p);
				free(p);
			}
			for (size_t i = 0; i < op->nblobs; i++) {
				char *p = store_blob_path(s, op->blobs[i]);
				unlink(p);
				free(p);
			}
		}
		if (op->finish != NULL)
			op->finish(s, op);
		op_complete(s, op);
	}
	if (freed)
		store_space_invalidate(s);
	if (lessons)
		lesson_notify(s); /* the junk filter's learner has work */
	store_reserve_maintain(s);
}

void *store_committer_main(void *arg)
{
	struct store *s = arg;
	pthread_mutex_lock(&s->q_mu);
	for (;;) {
		while (s->commit_head == NULL &&
		       !(s->stopping && s->prep_head == NULL && s->in_prep == 0)) {
			int64_t due = store_watch_due(s);
			if (due == 0) { /* changes other processes announced (store_import.c) */
				pthread_mutex_unlock(&s->q_mu);
				store_watch_run(s);
				pthread_mutex_lock(&s->q_mu);
				continue;
			}
			if (!s->reserve_missing && due < 0) {
				pthread_cond_wait(&s->commit_cond, &s->q_mu);
				continue;
			}
			/* the reserve file is gone: look for room for it once a second; and the
			 * next read of announced changes */
			int64_t wait_ms = s->reserve_missing && (due < 0 || due > 1000) ? 1000 : due;
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += wait_ms / 1000;
			ts.tv_nsec += (wait_ms % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (pthread_cond_timedwait(&s->commit_cond, &s->q_mu, &ts) == ETIMEDOUT && s->reserve_missing) {
				pthread_mutex_unlock(&s->q_mu);
				store_reserve_maintain(s);
				pthread_mutex_lock(&s->q_mu);
			}
		}
		if (s->commit_head == NULL)
			break;
		struct store_op *batch = s->commit_head;
		s->commit_head = s->commit_tail = NULL;
		s->committing = true;
		pthread_mutex_unlock(&s->q_mu);
		run_batch(s, batch);
		if (store_watch_due(s) == 0) /* a steady stream of batches never times out */
			store_watch_run(s);
		pthread_mutex_lock(&s->q_mu);
		s->committing = false;
		s->batches_done++;
	}
	pthread_mutex_unlock(&s->q_mu);
	return NULL;
}

int store_sql_write(struct store *s, struct store_op *op, const char **error_r)
{
	op->sql_ready = true;
	if (s->pg_conninfo == NULL)
		return store_op_run(s, op, error_r);
	int r = store_pg_write(s, op, error_r);
	store_op_free(op);
	return r;
}

uint64_t store_wait_idle(struct store *s)
{
	/* polled: only the stop sequence waits here, and a batch takes milliseconds */
	for (;;) {
		pthread_mutex_lock(&s->q_mu);
		bool idle = s->prep_head == NULL && s->in_prep == 0 && s->commit_head == NULL && !s->committing;
		uint64_t n = s->batches_done;
		pthread_mutex_unlock(&s->q_mu);
		if (idle)
			return n;
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}
