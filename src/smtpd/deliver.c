/* deliver.c: the end of a message: check it, add trace headers, deliver.
 *
 * An authenticated user's From: and Sender: must name addresses they own (553 5.7.1,
 * store_header_senders_owned). RFC 5321 §4.4: every message gets a Received header
 * (and, stored locally, a Return-Path: the store adds it); RFC 6409 §8.3: submission
 * adds a missing Date and Message-ID. The 250 is sent only when every copy is on
 * stable storage: remote recipients are first queued durably (on the worker pool,
 * the queue fsyncs), then local recipients are delivered by the store's group commit
 * (store_deliver_async). A local account over its quota rejects the whole message
 * (552 5.2.2, or 452 4.2.2 on port 25: smtp_quota_full) before anything is written,
 * so nothing is half-delivered; a failure after the remote part was queued is
 * answered 451, so the client retries (a duplicate is better than a loss). */
#include "session.h"

#include "log.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

struct smtp_job {
	struct smtp_session *ss;
	struct loop *loop;            /* the session's loop: completions come back here */
	struct buf msg;               /* Received + the message */
	struct store_delivery d;
	int64_t *accounts;
	int *results;
	size_t naccounts;
	struct smtpd_outbound out;
	const char **remote;
	size_t nremote;
	int remote_result;
	const char *remote_error;
	char id[64];
};

static void make_id(char *out, size_t outlen)
{
	unsigned char r[8];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		memset(r, 0, sizeof(r));
	snprintf(out, outlen, "%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

/* RFC 5322 §3.3 date-time in UTC */
static void rfc5322_date(char *out, size_t outlen)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* True when the header block of msg has a field called name (case-insensitive). */
static bool has_header(struct bytes msg, const char *name)
{
	size_t n = strlen(name);
	size_t i = 0;
	while (i < msg.len) {
		const char *nl = memchr(msg.p + i, '\n', msg.len - i);
		size_t end = nl ? (size_t)(nl - msg.p) : msg.len;
		size_t linelen = end - i;
		if (linelen == 0 || (linelen == 1 && msg.p[i] == '\r'))
			return false; /* end of the header */
		if (linelen > n && strncasecmp(msg.p + i, name, n) == 0 && msg.p[i + n] == ':')
			return true;
		i = end + 1;
	}
	return false;
}

static void build_message(struct smtp_session *ss, struct smtp_job *job)
{
	struct smtp_txn *t = &ss->txn;
	char date[64];
	rfc5322_date(date, sizeof(date));
	bool tls = conn_is_tls(ss->c), auth = ss->auth_user != NULL;
	char proto[16];
	snprintf(proto, sizeof(proto), "%s%s%s%s", t->mail.smtputf8 ? "UTF8SMTP" : ss->esmtp ? "ESMTP" : "SMTP",
		 tls && (ss->esmtp || t->mail.smtputf8) ? "S" : "", auth && (ss->esmtp || t->mail.smtputf8) ? "A" : "",
		 "");
	struct buf *m = &job->msg;
	buf_reserve(m, t->data.len + 512);
	buf_printf(m, "Received: from %s ([%s])\r\n\tby %s (postamt) with %s id %s", ss->helo,
		   conn_peer_ip(ss->c), ss->s->hostname, proto, job->id);
	if (t->nrcpts == 1)
		buf_printf(m, "\r\n\tfor <%s>", t->rcpts[0].address);
	buf_printf(m, ";\r\n\t%s\r\n", date);
	struct bytes data = { buf_str(&t->data), t->data.len };
	if (ss->l->role != SMTPD_MX) {
		if (!has_header(data, "Date"))
			buf_printf(m, "Date: %s\r\n", date);
		if (!has_header(data, "Message-ID")) {
			char id[32];
			make_id(id, sizeof(id));
			buf_printf(m, "Message-ID: <%s.%s@%s>\r\n", id, job->id, ss->s->hostname);
		}
	}
	buf_append(m, data.p, data.len);
}

/* Distinct local accounts and remote addresses of all recipients. */
static void collect(struct smtp_session *ss, struct smtp_job *job)
{
	struct smtp_txn *t = &ss->txn;
	size_t nacc = 0, nrem = 0;
	for (size_t i = 0; i < t->nrcpts; i++) {
		nacc += t->rcpts[i].naccounts;
		nrem += t->rcpts[i].nremote;
	}
	job->accounts = xcalloc(nacc + 1, sizeof(*job->accounts));
	job->results = xcalloc(nacc + 1, sizeof(*job->results));
	job->remote = xcalloc(nrem + 1, sizeof(*job->remote));
	unsigned *notify = xcalloc(nrem + 1, sizeof(*notify));
	const char **orcpt = xcalloc(nrem + 1, sizeof(*orcpt));
	for (size_t i = 0; i < t->nrcpts; i++) {
		const struct smtp_rcpt *rc = &t->rcpts[i];
		for (size_t k = 0; k < rc->naccounts; k++) {
			size_t j = 0;
			while (j < job->naccounts && job->accounts[j] != rc->accounts[k])
				j++;
			if (j == job->naccounts)
				job->accounts[job->naccounts++] = rc->accounts[k];
		}
		for (size_t k = 0; k < rc->nremote; k++) {
			size_t j = 0;
			while (j < job->nremote && strcasecmp(job->remote[j], rc->remote[k]) != 0)
				j++;
			if (j == job->nremote) {
				notify[job->nremote] = rc->notify;
				orcpt[job->nremote] = rc->orcpt;
				job->remote[job->nremote++] = rc->remote[k];
			}
		}
	}
	job->out = (struct smtpd_outbound){
		.sender = t->mail.null_path ? "" : t->mail.from.mailbox,
		.rcpts = job->remote,
		.notify = notify,
		.orcpt = orcpt,
		.nrcpts = job->nremote,
		.envid = t->mail.envid.len > 0 ? t->mail.envid.p : NULL,
		.ret = (int)t->mail.ret,
		.smtputf8 = t->mail.smtputf8,
		.auth_user = ss->auth_user,
	};
}

static void job_free(struct smtp_job *job)
{
	buf_free(&job->msg);
	free(job->accounts);
	free(job->results);
	free(job->remote);
	free((void *)job->out.notify);
	free((void *)job->out.orcpt);
	free(job);
}

static void finish(struct smtp_job *job, int code, const char *enh, const char *text)
{
	struct smtp_session *ss = job->ss;
	if (ss->c != NULL && code != 0) { /* 0: already answered */
		if (code == 250)
			conn_log(ss->c, LOG_INFO, "event=accepted id=%s from=<%s> rcpts=%zu local=%zu remote=%zu size=%zu",
				 job->id, ss->txn.mail.from.mailbox, ss->txn.nrcpts, job->naccounts, job->nremote,
				 job->msg.len);
		smtp_reply(ss, code, enh, "%s", text);
	}
	smtp_txn_reset(ss);
	job_free(job);
	smtp_busy_end(ss);
}

static void local_done(void *arg, int result, const char *error)
{
	struct smtp_job *job = arg;
	if (result == 1) {
		char text[128];
		snprintf(text, sizeof(text), "Ok: queued as %s", job->id);
		finish(job, 250, "2.0.0", text);
		return;
	}
	bool quota = false;
	for (size_t i = 0; i < job->naccounts; i++)
		quota |= job->results[i] == STORE_EOVERQUOTA;
	log_error("event=delivery_failed id=%s result=%d error=%s", job->id, result, LOG_Q(error ? error : "-"));
	if (quota && result < 0 && job->nremote == 0) {
		if (job->ss->c != NULL)
			smtp_quota_full(job->ss, NULL, "Mailbox full");
		finish(job, 0, NULL, NULL);
	} else if (result == STORE_ENOSPACE) {
		finish(job, 452, "4.3.1", "Insufficient system storage, try again later");
	} else {
		finish(job, 451, "4.3.0", "Local delivery failed, try again later");
	}
}

static void deliver_local(struct smtp_job *job)
{
	struct smtp_session *ss = job->ss;
	if (job->naccounts == 0) {
		local_done(job, 1, NULL);
		return;
	}
	job->d = (struct store_delivery){
		.data = job->msg.data,
		.len = job->msg.len,
		.accounts = job->accounts,
		.naccounts = job->naccounts,
		.return_path = job->out.sender,
		.results = job->results,
	};
	store_deliver_async(ss->env->store, &job->d, job->loop, local_done, job);
}

static void remote_work(void *arg)
{
	struct smtp_job *job = arg;
	char id[64];
	job->remote_result = job->ss->env->submit(job->ss->env->submit_ctx, &job->out, id, sizeof(id),
						  &job->remote_error);
	if (job->remote_result > 0)
		snprintf(job->id, sizeof(job->id), "%s", id);
	else if (job->remote_error != NULL)
		job->remote_error = strdup(job->remote_error); /* may be thread-local text */
}

static void remote_done(void *arg)
{
	struct smtp_job *job = arg;
	if (job->remote_result <= 0) {
		log_error("event=queue_failed id=%s error=%s", job->id, LOG_Q(job->remote_error ? job->remote_error : "-"));
		free((void *)job->remote_error);
		finish(job, 451, "4.3.0", "Queueing failed, try again later");
		return;
	}
	/* even when the client is gone by now: the remote part is queued, finish it */
	deliver_local(job);
}

void smtp_deliver(struct smtp_session *ss)
{
	struct smtp_txn *t = &ss->txn;
	if (t->dec.too_big) {
		smtp_reply(ss, 552, "5.3.4", "Message size exceeds fixed maximum message size (%" PRIu64 ")",
			   ss->s->message_max);
		smtp_txn_reset(ss);
		return;
	}
	if (t->no_memory) {
		smtp_reply(ss, 452, "4.3.1", "Insufficient system storage: too many messages arriving at once, "
			   "try again later");
		smtp_txn_reset(ss);
		return;
	}
	if (t->dec.bare_eol || t->dec.nul) { /* DATA and BDAT alike */
		conn_log(ss->c, LOG_WARN, "event=message_rejected reason=%s", t->dec.nul ? "nul" : "bare-cr-or-lf");
		smtp_reply(ss, 554, "5.6.0", "Message contains %s (RFC 5321 section 2.3.8)",
			   t->dec.nul ? "NUL bytes" : "bare CR or LF characters");
		smtp_txn_reset(ss);
		return;
	}
	if (ss->auth_user != NULL) {
		/* DESIGN.md §1: the From: and Sender: of an authenticated user's message name
		 * only addresses they own, as the envelope sender does (store_sender.c) */
		const char *bad;
		if (store_header_senders_owned(ss->env->store, ss->cmd_arena, ss->auth_account, ss->auth_user,
					       buf_str(&t->data), t->data.len, &bad) <= 0) {
			conn_log(ss->c, LOG_WARN, "event=sender_rejected reason=header user=%s header_from=%s", ss->auth_user,
				 LOG_Q(bad));
			smtp_reply(ss, 553, "5.7.1", "From/Sender header address rejected: %s is not owned by %s", bad,
				   ss->auth_user);
			smtp_txn_reset(ss);
			return;
		}
	}
	struct smtp_job *job = xcalloc(1, sizeof(*job));
	job->ss = ss;
	job->loop = conn_loop(ss->c);
	make_id(job->id, sizeof(job->id));
	build_message(ss, job);
	buf_free(&t->data); /* the job holds the message now: never two copies for long */
	collect(ss, job);
	const char *space_error; /* limits.disk_reserve: the message must fit above it */
	if (store_space_check(ss->env->store, job->msg.len, &space_error) < 0) {
		conn_log(ss->c, LOG_WARN, "event=message_refused reason=disk_reserve size=%zu", job->msg.len);
		smtp_reply(ss, 452, "4.3.1", "Insufficient system storage, try again later");
		job_free(job);
		smtp_txn_reset(ss);
		return;
	}
	for (size_t i = 0; i < job->naccounts; i++) {
		const char *error;
		int q = store_quota_check(ss->env->store, job->accounts[i], job->msg.len, &error);
		if (q < 0) {
			if (q == STORE_EOVERQUOTA)
				smtp_quota_full(ss, NULL, "Mailbox full: a recipient's quota would be exceeded");
			else
				smtp_reply(ss, 451, "4.3.0", "Temporary lookup failure");
			job_free(job);
			smtp_txn_reset(ss);
			return;
		}
	}
	job->out.data = job->msg.data;
	job->out.len = job->msg.len;
	smtp_busy_begin(ss);
	if (job->nremote > 0)
		pool_submit(ss->env->pool, remote_work, remote_done, job->loop, job);
	else
		deliver_local(job);
}
