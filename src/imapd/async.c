/* async.c: asynchronous steps of an IMAP session on the worker pool. A step holds the
 * connection (lib/conn's session core) while it is out; its done callback runs on the
 * session's loop only if the connection is still open. The bottom of the module: it
 * calls nothing else in it. */
#include "session.h"

#include <stdlib.h>

struct async_job {
	struct imap_session *is;
	imap_work_fn *work, *done;
	void *ctx;
};

static void job_work(void *arg)
{
	struct async_job *j = arg;
	j->work(j->is, j->ctx);
}

static void job_done(void *arg)
{
	struct async_job *j = arg;
	struct imap_session *is = j->is;
	struct conn *c = is->c;
	if (!conn_is_closed(c))
		j->done(is, j->ctx);
	free(j);
	conn_release(c);
}

void imap_run_async(struct imap_session *is, imap_work_fn *work, imap_work_fn *done, void *ctx)
{
	struct async_job *j = xcalloc(1, sizeof(*j));
	*j = (struct async_job){ is, work, done, ctx };
	conn_hold(is->c);
	pool_submit(is->env->pool, job_work, job_done, conn_loop(is->c), j);
}
