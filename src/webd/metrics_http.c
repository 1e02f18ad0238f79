/* metrics_http.c: GET /metrics on the HTTP and HTTPS ports (DESIGN.md §1
 * "Administration"; docs/admin.md "Metrics").
 *
 * Loopback clients are answered as they are; others only with `Authorization: Bearer
 * TOKEN` equal to metrics.token (compared in constant time), and not at all when no
 * token is set: 403 then, so a scrape from elsewhere learns nothing. The counters come
 * from src/lib/metrics (atomics); the gauges that need the store (its size) run on a
 * pool thread, with the ones serve adds (queue, certificate, pools, disk) through
 * webd_admin_ops.gauges. Content-Type: text/plain; version=0.0.4. */
#include "webd_int.h"

#include "log.h"
#include "metrics.h"
#include "store.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct metrics_job {
	struct web_session *ws;
	const struct webd_env *env;
	struct buf out;
};

static bool allowed(const struct web_session *ws)
{
	if (conn_is_loopback(ws->c))
		return true;
	const char *token = ws->s->metrics_token;
	const char *auth = ws->req.authorization;
	if (token == NULL || token[0] == '\0' || strncasecmp(auth, "Bearer ", 7) != 0)
		return false;
	const char *given = auth + 7;
	while (*given == ' ')
		given++;
	size_t n = strlen(token);
	return strlen(given) == n && CRYPTO_memcmp(given, token, n) == 0;
}

static void metrics_work(void *arg)
{
	struct metrics_job *job = arg;
	metrics_format(&job->out);
	struct arena *a = arena_new();
	struct store_account *v;
	size_t n;
	const char *err;
	if (store_account_list(job->env->store, a, &v, &n, &err) > 0) {
		uint64_t bytes = 0, msgs = 0;
		for (size_t i = 0; i < n; i++) {
			bytes += v[i].usage;
			msgs += v[i].messages;
		}
		metrics_format_gauge(&job->out, "postamt_store_bytes", "Bytes of all messages in all mailboxes.",
				     (double)bytes);
		metrics_format_gauge(&job->out, "postamt_store_messages", "Messages in all mailboxes.", (double)msgs);
		metrics_format_gauge(&job->out, "postamt_accounts", "Accounts.", (double)n);
	}
	arena_free(&a);
	metrics_format_gauge(&job->out, "postamt_process_resident_memory_bytes", "Resident set size of the process.",
			     (double)metrics_rss_bytes());
	const struct webd_admin_ops *ops = job->env->admin;
	if (ops != NULL && ops->gauges != NULL)
		ops->gauges(ops->ctx, &job->out);
}

static void metrics_done(void *arg)
{
	struct metrics_job *job = arg;
	struct web_session *ws = job->ws;
	if (!conn_is_closed(ws->c))
		web_reply(ws, 200, "text/plain; version=0.0.4; charset=utf-8", "Cache-Control: no-store\r\n",
			  job->out.data, job->out.len);
	buf_free(&job->out);
	free(job);
	conn_release(ws->c);
}

void web_metrics(struct web_session *ws)
{
	if (!allowed(ws)) {
		conn_log(ws->c, LOG_INFO, "event=metrics_refused");
		web_reply_text(ws, 403,
			       "403 Forbidden: /metrics answers loopback clients, others need "
			       "Authorization: Bearer <metrics.token>\n");
		return;
	}
	if (ws->env == NULL || ws->env->pool == NULL || ws->env->store == NULL) {
		web_reply_text(ws, 503, "503 Service Unavailable\n");
		return;
	}
	struct metrics_job *job = xcalloc(1, sizeof(*job));
	job->ws = ws;
	job->env = ws->env;
	conn_hold(ws->c);
	pool_submit(ws->env->pool, metrics_work, metrics_done, conn_loop(ws->c), job);
}
