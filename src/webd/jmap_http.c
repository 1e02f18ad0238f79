/* jmap_http.c: the JMAP endpoints over HTTP (RFC 8620 §2, §3.1, §6): the session
 * resource, the API (run on the worker pool, the conn paused meanwhile), uploads
 * (kept in memory per account, state.c) and downloads (opened on the pool; a stored
 * message or part is then streamed from its file through the one body reader,
 * src/mail/mail_reader.h, a window at a time as the client takes it, so a 50 MiB
 * download holds a window, not the message; Content-Length is the stored range or,
 * for a decoded part, the size a streaming pass counted). */
#include "jmap.h"

#include "http_util.h"
#include "log.h"
#include "mail_reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Output queued before the next window of a download is read. */
#define WEB_DOWNLOAD_OUTPUT_HIGH (256 * 1024)

struct http_job {
	struct web_session *ws;
	const struct webd_env *env;
	const struct settings *s;
	int64_t account_id;
	char address[WEB_ADDRESS_MAX];
	char ip[64];
	struct buf body;
	/* out */
	int status;
	char *out;
	size_t outlen;
	/* download */
	char blob_id[256], name[512], type[256];
	bool inline_wanted; /* ?disposition=inline: a preview, see download_done */
	struct arena *a;
	const char *data;
	size_t len;
	const char *ctype;
	struct jmap_blob_src src;  /* src.fd >= 0: stream the blob from the file */
};

/* A download streamed from the message file, a window at a time. */
struct web_download {
	int fd;
	struct mail_reader rd;
	struct buf chunk;
};

static struct http_job *job_new(struct web_session *ws)
{
	struct http_job *job = xcalloc(1, sizeof(*job));
	job->src.fd = -1;
	job->ws = ws;
	job->env = ws->env;
	job->s = ws->s;
	job->account_id = ws->user.account_id;
	snprintf(job->address, sizeof(job->address), "%s", ws->user.address);
	snprintf(job->ip, sizeof(job->ip), "%s", conn_peer_ip(ws->c));
	return job;
}

static void job_free(struct http_job *job)
{
	buf_free(&job->body);
	if (job->src.fd >= 0)
		close(job->src.fd);
	free(job->out);
	arena_free(&job->a);
	free(job);
}

void web_jmap_session(struct web_session *ws)
{
	web_reply_json(ws, 200, jmap_session_resource(ws->env, ws->s, ws->user.account_id, ws->user.address), NULL);
}

static void api_work(void *arg)
{
	struct http_job *job = arg;
	jmap_api_run(job->env, job->s, job->account_id, job->address, job->ip, buf_str(&job->body), job->body.len,
		     &job->status, &job->out);
}

static void api_done(void *arg)
{
	struct http_job *job = arg;
	struct web_session *ws = job->ws;
	if (!conn_is_closed(ws->c)) {
		if (job->out == NULL)
			web_reply_error(ws, 500, "internal error");
		else
			web_reply(ws, job->status, job->status == 200 ? "application/json" : "application/problem+json",
				  NULL, job->out, strlen(job->out));
	}
	job_free(job);
	conn_release(ws->c);
}

void web_jmap_api(struct web_session *ws)
{
	struct http_job *job = job_new(ws);
	job->body = ws->req.body; /* moved */
	memset(&ws->req.body, 0, sizeof(ws->req.body));
	conn_hold(ws->c);
	pool_submit(ws->env->pool, api_work, api_done, conn_loop(ws->c), job);
}

/* /jmap/upload/{accountId}/ */
void web_jmap_upload(struct web_session *ws)
{
	const char *rest = ws->req.path + strlen("/jmap/upload/");
	char acct[64];
	size_t n = strcspn(rest, "/");
	if (n == 0 || n >= sizeof(acct) || (rest[n] == '/' && rest[n + 1] != '\0')) {
		web_reply_error(ws, 404, "no such upload URL");
		return;
	}
	memcpy(acct, rest, n);
	acct[n] = '\0';
	if (strcmp(acct, ws->user.account_id_str) != 0) {
		web_reply_error(ws, 404, "no such account");
		return;
	}
	char type[128];
	const char *ct = ws->req.content_type[0] ? ws->req.content_type : "application/octet-stream";
	snprintf(type, sizeof(type), "%s", ct);
	for (char *p = type; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
			*p = ' ';
	}
	size_t len = ws->req.body.len;
	const char *space_error; /* limits.disk_reserve: 507 is temporary (RFC 4918 §11.5) */
	if (store_space_check(ws->env->store, len, &space_error) < 0) {
		conn_log(ws->c, LOG_WARN, "event=upload_refused reason=disk_reserve size=%zu", len);
		web_reply_error(ws, 507, "the server's disk is full, try again later");
		return;
	}
	char *data = ws->req.body.data ? ws->req.body.data : xcalloc(1, 1);
	memset(&ws->req.body, 0, sizeof(ws->req.body));
	char id[40];
	web_upload_put(ws->env->state, ws->user.account_id, type, data, len, 2 * ws->s->message_max, id);
	conn_log(ws->c, LOG_INFO, "event=jmap_upload user=%s blob=%s size=%zu", ws->user.address, id, len);
	web_reply_json(ws, 201,
		       json_pack("{sssssssI}", "accountId", ws->user.account_id_str, "blobId", id, "type", type, "size",
				 (json_int_t)len),
		       NULL);
}

static void download_work(void *arg)
{
	struct http_job *job = arg;
	job->a = arena_new();
	struct jmap_ctx ctx = {
		.env = job->env,
		.s = job->s,
		.store = job->env->store,
		.a = job->a,
		.account_id = job->account_id,
		.address = job->address,
	};
	web_account_id_str(job->account_id, ctx.account_id_str);
	const char *type = NULL, *name = NULL;
	int r = jmap_blob_open(&ctx, job->blob_id, &job->src, &type, &name);
	if (r == 2) {
		job->src.fd = -1;
		r = jmap_blob_read(&ctx, job->blob_id, &job->data, &job->len, &type, &name);
	} else if (r <= 0) {
		job->src.fd = -1;
	}
	(void)name; /* the URL names the file */
	job->status = r > 0 ? 200 : r == 0 ? 404 : 500;
	job->ctype = type;
}

/* A media type we are willing to echo: type/subtype of token characters. */
static bool media_type_ok(const char *t)
{
	const char *slash = strchr(t, '/');
	if (slash == NULL || slash == t || slash[1] == '\0')
		return false;
	for (const char *p = t; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  strchr("!#$&^_.+-", c) != NULL || (c == '/' && p == slash);
		if (!ok)
			return false;
	}
	return strlen(t) < 128;
}

static void download_more(void *arg);
static void download_stop(struct web_session *ws);

/* The conn closed mid-download: the download and its hold end here. */
static void download_closed(void *arg)
{
	struct web_session *ws = arg;
	download_stop(ws);
	conn_release(ws->c);
}

/* A download streams as the output drains, holding the conn (no request is read). */
static const struct conn_continuation download_k = { .drained = download_more, .closed = download_closed };

static void download_done(void *arg)
{
	struct http_job *job = arg;
	struct web_session *ws = job->ws;
	if (conn_is_closed(ws->c)) {
		job_free(job);
		conn_release(ws->c);
		return;
	}
	if (job->status != 200) {
		web_reply_error(ws, job->status, job->status == 404 ? "no such blob" : "cannot read the blob");
	} else {
		char type[128] = "application/octet-stream";
		if (job->type[0]) {
			char t[256];
			snprintf(t, sizeof(t), "%s", job->type);
			t[strcspn(t, "; ")] = '\0';
			if (media_type_ok(t))
				snprintf(type, sizeof(type), "%.127s", t);
		} else if (job->ctype != NULL && media_type_ok(job->ctype)) {
			snprintf(type, sizeof(type), "%s", job->ctype);
		}
		char ascii[256], enc[1024];
		size_t o = 0;
		http_filename_clean(job->name); /* no bidi controls in a saved file name */
		for (const char *p = job->name; *p && o + 1 < sizeof(ascii); p++) {
			unsigned char c = (unsigned char)*p;
			ascii[o++] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '/') ? '_' : (char)c;
		}
		ascii[o] = '\0';
		if (http_pct_encode(job->name, enc, sizeof(enc)) < 0)
			snprintf(enc, sizeof(enc), "download");
		/* Previews (the webmail's image viewer, a PDF in the browser's viewer) are
		 * inline only for types that cannot run script in our origin; images keep
		 * the sandboxed download policy, a PDF gets one without "sandbox", which
		 * Chromium's viewer refuses, but with nothing else allowed. */
		bool show = job->inline_wanted && http_inline_type_ok(type);
		char *extra = xasprintf("Content-Disposition: %s; filename=\"%s\"; filename*=UTF-8''%s\r\n"
					"Cache-Control: private, max-age=3600\r\n",
					show ? "inline" : "attachment", ascii[0] ? ascii : "download", enc);
		ws->csp = show && strcasecmp(type, "application/pdf") == 0 ? WEB_CSP_PDF : WEB_CSP_DOWNLOAD;
		if (job->src.fd < 0) {
			web_reply(ws, 200, type, extra, job->data, job->len);
		} else if (web_reply_sized_head(ws, 200, type, extra, job->src.size)) {
			/* the job's hold stays until the last window is out (download_more) */
			struct web_download *d = xcalloc(1, sizeof(*d));
			d->fd = job->src.fd;
			job->src.fd = -1;
			mail_reader_init(&d->rd, d->fd, job->src.off, job->src.len, (enum mail_xform)job->src.x, 0);
			ws->download = d;
			free(extra);
			job_free(job);
			conn_continue(ws->c, &download_k, ws);
			download_more(ws);
			return;
		} else if (!ws->keep_alive) {
			conn_close(ws->c); /* HEAD */
		}
		free(extra);
	}
	job_free(job);
	conn_release(ws->c);
}

static void download_stop(struct web_session *ws)
{
	struct web_download *d = ws->download;
	mail_reader_free(&d->rd);
	close(d->fd);
	buf_free(&d->chunk);
	free(d);
	ws->download = NULL;
}

static void download_more(void *arg)
{
	struct web_session *ws = arg;
	struct web_download *d = ws->download;
	while (conn_output_len(ws->c) < WEB_DOWNLOAD_OUTPUT_HIGH) {
		buf_reset(&d->chunk);
		int r = mail_reader_next(&d->rd, &d->chunk);
		if (r > 0) {
			conn_write(ws->c, d->chunk.data, d->chunk.len);
			continue;
		}
		if (r < 0) {
			/* the client has part of the body: the only honest end */
			conn_log(ws->c, LOG_ERROR, "event=read_error op=download error=%s", LOG_Q(strerror(errno)));
			ws->keep_alive = false;
		}
		conn_want_drained(ws->c, false);
		download_stop(ws);
		conn_continue_end(ws->c);
		if (!ws->keep_alive)
			conn_close(ws->c);
		conn_release(ws->c);
		return;
	}
	conn_want_drained(ws->c, true);
}

/* /jmap/download/{accountId}/{blobId}/{name}?type={type}[&disposition=inline] */
void web_jmap_download(struct web_session *ws)
{
	const char *rest = ws->req.path + strlen("/jmap/download/");
	const char *s1 = strchr(rest, '/');
	const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	if (s1 == NULL || s2 == NULL || (size_t)(s1 - rest) >= 64 || (size_t)(s2 - s1 - 1) >= 256 || s2 == s1 + 1) {
		web_reply_error(ws, 404, "no such download URL");
		return;
	}
	char acct[64];
	memcpy(acct, rest, (size_t)(s1 - rest));
	acct[s1 - rest] = '\0';
	if (strcmp(acct, ws->user.account_id_str) != 0) {
		web_reply_error(ws, 404, "no such account");
		return;
	}
	struct http_job *job = job_new(ws);
	memcpy(job->blob_id, s1 + 1, (size_t)(s2 - s1 - 1));
	job->blob_id[s2 - s1 - 1] = '\0';
	snprintf(job->name, sizeof(job->name), "%s", s2 + 1);
	if (http_query_get(ws->req.query, "type", job->type, sizeof(job->type)) <= 0)
		job->type[0] = '\0';
	char disp[16];
	job->inline_wanted = http_query_get(ws->req.query, "disposition", disp, sizeof(disp)) > 0 &&
			     strcmp(disp, "inline") == 0;
	conn_hold(ws->c);
	pool_submit(ws->env->pool, download_work, download_done, conn_loop(ws->c), job);
}
