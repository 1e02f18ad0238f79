/* queue_files.c: the queue's default backend, the files under DIR/queue
 * (queue_spool.c has their format; docs/queue.md). A node holds every message in
 * memory from queue_open to its end; the state file is rewritten after each round
 * and both files go when the message is done. `postamt queue flush` leaves
 * DIR/queue/flush, which the tick takes. */
#include "queue_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void load_cb(void *arg, struct qmsg *m)
{
	struct queue *q = arg;
	for (size_t i = 0; i < m->nrcpts; i++)
		m->rcpts[i].busy = false;
	queue_msg_add(q, m);
}

static int files_open(struct queue *q, const char **error_r)
{
	if (mkdir(q->qdir, 0700) < 0 && errno != EEXIST) {
		*error_r = "cannot create the queue directory";
		return -1;
	}
	return queue_spool_load(q->qdir, true, load_cb, q, error_r);
}

static int files_write_msg(struct queue *q, struct qmsg *m, struct bytes data, const char **error_r)
{
	return queue_spool_write_msg(q->qdir, m, data, !q->s.no_fsync, error_r);
}

static int files_read_data(struct queue *q, const struct qmsg *m, struct buf *out, const char **error_r)
{
	return queue_spool_read_data(q->qdir, m, out, error_r);
}

static int files_save(struct queue *q, struct qmsg *m, enum queue_save how, const char **error_r)
{
	if (how == QUEUE_SAVE_DONE)
		return queue_spool_remove(q->qdir, m->id, !q->s.no_fsync, error_r) < 0 ? -1 : 1;
	return queue_spool_write_state(q->qdir, m, !q->s.no_fsync, error_r) < 0 ? -1 : 1;
}

static bool files_tick(struct queue *q)
{
	char *trigger = xasprintf("%s/flush", q->qdir);
	bool flush = unlink(trigger) == 0;
	free(trigger);
	return flush;
}

const struct queue_backend queue_backend_files = {
	.name = "files",
	.open = files_open,
	.write_msg = files_write_msg,
	.read_data = files_read_data,
	.save = files_save,
	.tick = files_tick,
	.shared = false,
};
