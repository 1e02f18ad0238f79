/* reply.c: how a ManageSieve session answers, what the dispatcher (session.c) and
 * the commands on scripts (commands.c) share: a response line written at once, a NO
 * for a client's error (counted against limits.errors_per_session), and the pool jobs
 * whose whole reply the loop writes when they end. The bottom of the module: it uses
 * no other file of it. */
#include "sieved_int.h"

#include <stdlib.h>

void sieve_reply(struct sieve_session *ss, const char *kind, const char *code, const char *text)
{
	buf_reset(&ss->out);
	msieve_put_response(&ss->out, kind, code, text);
	conn_write(ss->c, ss->out.data, ss->out.len);
}

void sieve_bad(struct sieve_session *ss, const char *code, const char *text)
{
	sieve_reply(ss, "NO", code, text);
	if (conn_client_error(ss->c) < 0) {
		sieve_reply(ss, "BYE", NULL, "Too many errors");
		conn_close(ss->c);
	}
}

/* ---- pool jobs ---- */

static void job_work(void *arg)
{
	struct sieve_job *job = arg;
	job->run(job);
}

static void job_done(void *arg)
{
	struct sieve_job *job = arg;
	struct conn *c = job->ss->c;
	if (!conn_is_closed(c))
		conn_write(c, job->out.data, job->out.len);
	buf_free(&job->out);
	free(job);
	conn_release(c);
}

void sieve_run_job(struct sieve_session *ss, const struct msieve_command *cmd, void (*run)(struct sieve_job *))
{
	struct sieve_job *job = xcalloc(1, sizeof(*job));
	job->ss = ss;
	job->cmd = cmd;
	job->run = run;
	conn_hold(ss->c);
	pool_submit(ss->env->pool, job_work, job_done, conn_loop(ss->c), job);
}
