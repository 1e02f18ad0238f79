/* submit_data.c: the pipeline's last stages (submit.h): data, hooks, commit.
 *
 * The data stage checks what only the whole message shows: an authenticated
 * sender's From: and Sender: name addresses they own (store_header_senders_owned),
 * and the size. The size limit has one definition for every path: the bytes the
 * client handed in (SMTP after dot-unstuffing, JMAP the email as stored), before
 * any trace header, at most limits.message_size. Then the trace headers, in this
 * order on every path: Received (RFC 5321 §4.4), and on submission a Date and a
 * Message-ID when missing (RFC 6409 §8.3); the store adds Return-Path above them.
 * The hooks run in order; fields they add go above the trace headers. Last come the
 * disk reserve and the quota of every local account with the final size, all before
 * anything is written, so nothing is half-delivered.
 *
 * A message from an account on submission or the webmail is counted against its
 * hourly send limits (send_limit.h) before the trace headers: one message and its
 * recipients (the addresses of the envelope, local ones included), checked and
 * counted under one lock, so concurrent sessions of one account cannot overshoot.
 * A message refused after that (a hook, the quota, a failed commit) is given back:
 * only what was accepted counts.
 *
 * The commit is durable before the result is known: remote recipients are queued
 * first (queue_submit fsyncs), then local ones are stored by the store's group
 * commit. A failure after the remote part was queued is a temporary failure, so the
 * client retries (a duplicate is better than a loss). Everything up to the queueing
 * blocks and runs on a pool thread; submit_message_async then hands the local part
 * to store_deliver_async so no pool thread waits for the group commit. */
#include "submit_int.h"

#include "log.h"
#include "queue.h"
#include "store.h"
#include "store_web.h"
#include "mail.h"
#include "textfmt.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct submit_job {
	struct submit *sp;
	struct arena *a;              /* the job's strings and arrays */
	struct submit_origin origin;
	const char *sender;
	struct submit_rcpt *rcpts;
	size_t nrcpts;
	const char *envid;
	int ret;
	bool smtputf8;
	struct buf data;              /* as received */
	struct buf msg;               /* hook headers, trace headers, the message */
	int64_t *accounts;            /* distinct local accounts */
	int *results;
	size_t naccounts;
	struct queue_rcpt *remote;    /* distinct remote addresses */
	size_t nremote;
	const char *mailbox;          /* a hook's choice, NULL: INBOX */
	const char *const *keywords;  /* the hooks' keywords (NULL-terminated), NULL: none */
	struct submit_plan *plans;   /* per-account copies a hook chose (submit_hook_deliver) */
	size_t nplans;
	struct store_delivery d;
	struct submit_outcome out;
	struct send_limit_ticket ticket; /* what the send limits counted; given back on a refusal */
	struct loop *loop;
	submit_done_fn *done;
	void *arg;
	int64_t started_ms;           /* when the data stage began (the delivery latency) */
};

static struct submit_job *job_new(struct submit *sp, struct submit_message *m, const struct submit_rcpt *rcpts,
				  size_t nrcpts)
{
	struct submit_job *job = xcalloc(1, sizeof(*job));
	struct arena *a = arena_new();
	job->sp = sp;
	job->a = a;
	job->origin = *m->origin;
	job->origin.client_ip = arena_strdup(a, m->origin->client_ip ? m->origin->client_ip : "127.0.0.1");
	job->origin.helo = arena_strdup(a, m->origin->helo ? m->origin->helo : "unknown");
	job->origin.with = arena_strdup(a, m->origin->with ? m->origin->with : "SMTP");
	job->origin.auth_user = m->origin->auth_user ? arena_strdup(a, m->origin->auth_user) : NULL;
	job->origin.dnsbl_zones = m->origin->dnsbl_zones ? arena_strdup(a, m->origin->dnsbl_zones) : NULL;
	job->sender = arena_strdup(a, m->sender ? m->sender : "");
	job->envid = m->envid ? arena_strdup(a, m->envid) : NULL;
	job->ret = m->ret;
	job->smtputf8 = m->smtputf8;
	job->data = m->data;
	m->data = (struct buf){ 0 };
	job->rcpts = arena_alloc(a, (nrcpts + 1) * sizeof(*job->rcpts));
	size_t nacc = 0, nrem = 0;
	for (size_t i = 0; i < nrcpts; i++) {
		job->rcpts[i] = rcpts[i]; /* the pointed-to arrays stay the caller's until done */
		nacc += rcpts[i].naccounts;
		nrem += rcpts[i].nremote;
	}
	job->nrcpts = nrcpts;
	job->accounts = arena_alloc(a, (nacc + 1) * sizeof(*job->accounts));
	job->results = arena_alloc(a, (nacc + 1) * sizeof(*job->results));
	job->remote = arena_alloc(a, (nrem + 1) * sizeof(*job->remote));
	textfmt_random_hex(job->out.id, sizeof(job->out.id), 8);
	job->started_ms = submit_now_ms();
	return job;
}

static void job_free(struct submit_job **jp)
{
	struct submit_job *job = *jp;
	submit_count_message(&job->origin, job->sender, job->rcpts, job->nrcpts, job->out.result, job->out.detail,
			     job->out.result == SUBMIT_OK ? job->naccounts : 0,
			     job->mailbox != NULL && strcmp(job->mailbox, "Junk") == 0, job->started_ms,
			     submit_now_ms());
	if (job->out.result != SUBMIT_OK) /* a refused message does not count */
		send_limit_release(job->sp->limits, &job->ticket, submit_limit_now());
	buf_free(&job->data);
	buf_free(&job->msg);
	arena_free(&job->a);
	free(job);
	*jp = NULL;
}

/* Distinct local accounts and remote addresses of all recipients. */
static void collect(struct submit_job *job)
{
	for (size_t i = 0; i < job->nrcpts; i++) {
		const struct submit_rcpt *rc = &job->rcpts[i];
		for (size_t k = 0; k < rc->naccounts; k++) {
			size_t j = 0;
			while (j < job->naccounts && job->accounts[j] != rc->accounts[k])
				j++;
			if (j == job->naccounts)
				job->accounts[job->naccounts++] = rc->accounts[k];
		}
		for (size_t k = 0; k < rc->nremote; k++) {
			size_t j = 0;
			while (j < job->nremote && strcasecmp(job->remote[j].address, rc->remote[k]) != 0)
				j++;
			if (j == job->nremote)
				job->remote[job->nremote++] =
					(struct queue_rcpt){ rc->remote[k],
							     job->origin.kind == SUBMIT_KIND_BOUNCE ? SMTP_NOTIFY_NEVER
												    : rc->notify,
					rc->orcpt };
		}
	}
	job->out.nlocal = job->naccounts;
	job->out.nremote = job->nremote;
}

/* Received; on submission Date and Message-ID when missing. The same on every path. */
static void add_trace(struct submit_job *job, const struct settings *s)
{
	const struct submit_origin *o = &job->origin;
	char date[TEXTFMT_DATE_MAX];
	textfmt_date((int64_t)time(NULL), date, sizeof(date));
	struct buf *m = &job->msg;
	buf_reserve(m, job->data.len + 512);
	if (o->kind == SUBMIT_KIND_BOUNCE || o->kind == SUBMIT_KIND_SIEVE) /* made here: no client to name */
		buf_printf(m, "Received: by %s (postamt) id %s", s->hostname, job->out.id);
	else
		buf_printf(m, "Received: from %s ([%s])\r\n\tby %s (postamt) with %s id %s", o->helo, o->client_ip,
			   s->hostname, o->with, job->out.id);
	if (job->nrcpts == 1)
		buf_printf(m, "\r\n\tfor <%s>", job->rcpts[0].address);
	buf_printf(m, ";\r\n\t%s\r\n", date);
	if (o->kind == SUBMIT_KIND_SUBMISSION || o->kind == SUBMIT_KIND_WEBMAIL) {
		if (!textfmt_has_header(job->data.data, job->data.len, "Date"))
			buf_printf(m, "Date: %s\r\n", date);
		if (!textfmt_has_header(job->data.data, job->data.len, "Message-ID")) {
			char mid[24];
			textfmt_random_hex(mid, sizeof(mid), 8);
			buf_printf(m, "Message-ID: <%s.%s@%s>\r\n", mid, job->out.id, s->hostname);
		}
	}
	if (job->data.len > 0)
		buf_append(m, job->data.data, job->data.len);
	buf_free(&job->data); /* never two copies for long */
}

/* A hook's mailbox must exist in every local account; otherwise INBOX. Junk is
 * the exception: every account is made with one, and a hook that files mail there
 * (DMARC quarantine, the junk filter) means the folder users expect, so an account
 * that lost it gets it back (with the \Junk special use when it is free). */
static void check_mailbox(struct submit_job *job)
{
	for (size_t i = 0; job->mailbox != NULL && i < job->naccounts; i++) {
		struct store_mailbox mb;
		const char *error;
		if (strcmp(job->mailbox, "Junk") == 0 &&
		    store_mailbox_get(job->sp->store, job->a, job->accounts[i], job->mailbox, &mb, &error) <= 0 &&
		    (store_mailbox_create(job->sp->store, job->accounts[i], "Junk", STORE_SU_JUNK, NULL, &error) >= 0 ||
		     store_mailbox_create(job->sp->store, job->accounts[i], "Junk", 0, NULL, &error) >= 0))
			log_info("event=junk_created id=%s account=%lld", job->out.id, (long long)job->accounts[i]);
		if (store_mailbox_get(job->sp->store, job->a, job->accounts[i], job->mailbox, &mb, &error) <= 0) {
			log_warn("event=hook_mailbox_missing id=%s mailbox=%s account=%lld", job->out.id,
				 LOG_Q(job->mailbox), (long long)job->accounts[i]);
			job->mailbox = NULL;
		}
	}
}

/* The end of the header block of m: the offset of its empty line, or len. */
static size_t header_end(const char *p, size_t len)
{
	for (size_t i = 0; i < len;) {
		if (p[i] == '\n')
			return i;
		if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
			return i;
		const char *nl = memchr(p + i, '\n', len - i);
		if (nl == NULL)
			return len;
		i = (size_t)(nl - p) + 1;
	}
	return len;
}

int submit_hook_drop(struct submit_hook_msg *m, size_t off, size_t len)
{
	const char *p = m->message.p;
	size_t n = m->message.len;
	if (len == 0 || off > n || len > n - off)
		return -1;
	size_t end = off + len, hend = header_end(p, n);
	if (end > hend || (off > 0 && p[off - 1] != '\n') || p[off] == ' ' || p[off] == '\t' || p[off] == '\r' ||
	    p[off] == '\n' || p[end - 1] != '\n' || (end < hend && (p[end] == ' ' || p[end] == '\t')))
		return -1;
	if (m->ndrop == m->drop_cap) {
		size_t cap = m->drop_cap ? 2 * m->drop_cap : 4;
		struct submit_span *d = arena_alloc(m->arena, cap * sizeof(*d));
		if (m->ndrop > 0)
			memcpy(d, m->drop, m->ndrop * sizeof(*d));
		m->drop = d;
		m->drop_cap = cap;
	}
	m->drop[m->ndrop++] = (struct submit_span){ off, len };
	return 1;
}

int submit_hook_keyword(struct submit_hook_msg *m, const char *kw)
{
	size_t n = strlen(kw);
	if (n == 0 || n > 64)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)kw[i];
		/* atom-char minus list-wildcards, quoted-specials and "]" (RFC 9051 §9): no "\" either */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return -1;
	}
	for (size_t i = 0; i < m->nkeywords; i++) {
		if (strcasecmp(m->keywords[i], kw) == 0)
			return 1;
	}
	if (m->nkeywords + 1 >= m->keywords_cap) {
		size_t cap = m->keywords_cap ? 2 * m->keywords_cap : 4;
		const char **k = arena_alloc(m->arena, cap * sizeof(*k));
		if (m->nkeywords > 0)
			memcpy(k, m->keywords, m->nkeywords * sizeof(*k));
		m->keywords = k;
		m->keywords_cap = cap;
	}
	m->keywords[m->nkeywords++] = kw;
	m->keywords[m->nkeywords] = NULL;
	return 1;
}

/* Appends msg to out without the spans (in any order, overlapping or repeated). */
static void append_without(struct buf *out, const struct buf *msg, struct submit_span *drop, size_t n)
{
	for (size_t i = 1; i < n; i++) { /* insertion sort by offset: a few spans */
		struct submit_span x = drop[i];
		size_t j = i;
		for (; j > 0 && drop[j - 1].off > x.off; j--)
			drop[j] = drop[j - 1];
		drop[j] = x;
	}
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		if (drop[i].off > pos)
			buf_append(out, msg->data + pos, drop[i].off - pos);
		if (drop[i].off + drop[i].len > pos)
			pos = drop[i].off + drop[i].len;
	}
	buf_append(out, msg->data + pos, msg->len - pos);
}

static int run_hooks(struct submit_job *job)
{
	struct submit *sp = job->sp;
	if (sp->nhooks == 0)
		return SUBMIT_OK;
	struct buf headers = { 0 };
	struct submit_hook_msg hm = { .origin = &job->origin,
				      .sender = job->sender,
				      .rcpts = job->rcpts,
				      .nrcpts = job->nrcpts,
				      .message = { job->msg.data, job->msg.len },
				      .headers = &headers,
				      .arena = job->a,
				      .id = job->out.id };
	int r = SUBMIT_OK;
	for (size_t i = 0; i < sp->nhooks && r == SUBMIT_OK; i++) {
		const char *reason = NULL;
		r = sp->hooks[i].run(sp->hooks[i].ctx, &hm, &reason);
		if (r != SUBMIT_OK) {
			if (r != SUBMIT_TEMPFAIL && r != SUBMIT_POLICY_TEMP)
				r = SUBMIT_POLICY; /* the contract: nothing else */
			job->out.detail = reason != NULL ? reason : "refused by policy";
			log_warn("event=message_refused id=%s hook=%s result=%s reason=%s", job->out.id,
				 sp->hooks[i].name, submit_result_name(r), LOG_Q(job->out.detail));
		}
	}
	job->mailbox = hm.mailbox;
	job->keywords = hm.keywords;
	job->plans = hm.plans;
	job->nplans = hm.nplans;
	if (r == SUBMIT_OK && (headers.len > 0 || hm.ndrop > 0)) {
		append_without(&headers, &job->msg, hm.drop, hm.ndrop);
		buf_free(&job->msg);
		job->msg = headers;
	} else {
		buf_free(&headers);
	}
	return r;
}

static int check_space_and_quota(struct submit_job *job)
{
	const char *error;
	if (store_space_check(job->sp->store, job->msg.len, &error) < 0) {
		job->out.detail = "disk_reserve";
		return SUBMIT_DISK_FULL;
	}
	for (size_t i = 0; i < job->naccounts; i++) {
		int q = store_quota_check(job->sp->store, job->accounts[i], job->msg.len, &error);
		if (q == STORE_EOVERQUOTA)
			return SUBMIT_OVER_QUOTA;
		if (q < 0) {
			job->out.detail = error;
			return SUBMIT_TEMPFAIL;
		}
	}
	return SUBMIT_OK;
}

static int queue_remote(struct submit_job *job)
{
	if (job->nremote == 0)
		return SUBMIT_OK;
	if (job->sp->queue == NULL)
		return SUBMIT_NO_OUTBOUND;
	struct queue_msg qm = { .sender = job->sender,
				.rcpts = job->remote,
				.nrcpts = job->nremote,
				.envid = job->envid,
				.ret = (enum smtp_ret)job->ret,
				.smtputf8 = job->smtputf8,
				.auth_user = job->origin.auth_user,
				.data = job->msg.data,
				.len = job->msg.len };
	char qid[QUEUE_ID_MAX];
	const char *error;
	if (queue_submit(job->sp->queue, &qm, qid, &error) < 0) {
		log_error("event=queue_failed id=%s error=%s", job->out.id, LOG_Q(error ? error : "-"));
		job->out.detail = "queueing failed";
		return SUBMIT_TEMPFAIL;
	}
	snprintf(job->out.id, sizeof(job->out.id), "%s", qid);
	return SUBMIT_OK;
}

int submit_hook_deliver(struct submit_hook_msg *m, int64_t account, const struct submit_copy *copies, size_t n)
{
	bool found = false;
	for (size_t i = 0; i < m->nrcpts && !found; i++) {
		for (size_t k = 0; k < m->rcpts[i].naccounts && !found; k++)
			found = m->rcpts[i].accounts[k] == account;
	}
	if (!found)
		return -1;
	struct submit_copy *c = arena_alloc(m->arena, (n + 1) * sizeof(*c));
	if (n > 0)
		memcpy(c, copies, n * sizeof(*c));
	for (size_t i = 0; i < m->nplans; i++) {
		if (m->plans[i].account == account) {
			m->plans[i] = (struct submit_plan){ account, c, n };
			return 1;
		}
	}
	if (m->nplans == m->plans_cap) {
		size_t cap = m->plans_cap ? 2 * m->plans_cap : 4;
		struct submit_plan *p = arena_alloc(m->arena, cap * sizeof(*p));
		if (m->nplans > 0)
			memcpy(p, m->plans, m->nplans * sizeof(*p));
		m->plans = p;
		m->plans_cap = cap;
	}
	m->plans[m->nplans++] = (struct submit_plan){ account, c, n };
	return 1;
}

/* A copy's keywords and the hooks' ones, NULL-terminated (or NULL when none). */
static const char *const *merge_keywords(struct arena *a, const char *const *k1, const char *const *k2)
{
	size_t n = 0;
	for (size_t i = 0; k1 != NULL && k1[i] != NULL; i++)
		n++;
	for (size_t i = 0; k2 != NULL && k2[i] != NULL; i++)
		n++;
	if (n == 0)
		return NULL;
	const char **out = arena_alloc(a, (n + 1) * sizeof(*out));
	size_t j = 0;
	for (size_t i = 0; k1 != NULL && k1[i] != NULL; i++)
		out[j++] = k1[i];
	for (size_t i = 0; k2 != NULL && k2[i] != NULL; i++)
		out[j++] = k2[i];
	out[j] = NULL;
	return out;
}

/* The mailbox one copy goes to: its own when it exists (or is created with
 * :create), else INBOX with a log line. */
static const char *copy_mailbox(struct submit_job *job, int64_t account, const struct submit_copy *c)
{
	if (c->mailbox == NULL || strcasecmp(c->mailbox, "INBOX") == 0)
		return NULL;
	struct store_mailbox mb;
	const char *error;
	if (store_mailbox_get(job->sp->store, job->a, account, c->mailbox, &mb, &error) > 0)
		return c->mailbox;
	if (c->create) {
		const char *name;
		int r = store_mailbox_name_check(job->a, c->mailbox, &name, &error);
		if (r > 0)
			r = store_mailbox_create(job->sp->store, account, name, 0, NULL, &error);
		if (r > 0 || r == STORE_EEXISTS) {
			log_info("event=hook_mailbox_created id=%s mailbox=%s account=%lld", job->out.id,
				 LOG_Q(c->mailbox), (long long)account);
			return r > 0 ? name : c->mailbox;
		}
		log_warn("event=hook_mailbox_create_failed id=%s mailbox=%s account=%lld error=%s", job->out.id,
			 LOG_Q(c->mailbox), (long long)account, LOG_Q(error));
		return NULL;
	}
	log_warn("event=hook_mailbox_missing id=%s mailbox=%s account=%lld", job->out.id, LOG_Q(c->mailbox),
		 (long long)account);
	return NULL;
}

/* The accounts with a plan leave the default delivery and get their copies here,
 * one store delivery each. Blocks. */
static int deliver_plans(struct submit_job *job)
{
	for (size_t p = 0; p < job->nplans; p++) {
		const struct submit_plan *pl = &job->plans[p];
		size_t j = 0;
		for (size_t i = 0; i < job->naccounts; i++) {
			if (job->accounts[i] != pl->account)
				job->accounts[j++] = job->accounts[i];
		}
		job->naccounts = j;
		for (size_t i = 0; i < pl->ncopies; i++) {
			const struct submit_copy *c = &pl->copies[i];
			int64_t account = pl->account;
			struct store_delivery d = { .data = job->msg.data,
						    .len = job->msg.len,
						    .accounts = &account,
						    .naccounts = 1,
						    .mailbox = copy_mailbox(job, account, c),
						    .keywords = merge_keywords(job->a, c->keywords, job->keywords),
						    .flags = c->flags,
						    .return_path = job->sender };
			const char *error = NULL;
			int r = store_deliver(job->sp->store, &d, &error);
			if (r != 1) {
				log_error("event=delivery_failed id=%s account=%lld error=%s", job->out.id,
					  (long long)account, LOG_Q(error ? error : "-"));
				if (r == STORE_EOVERQUOTA && job->nremote == 0 && job->naccounts == 0)
					return SUBMIT_OVER_QUOTA;
				job->out.detail = "local delivery failed";
				return r == STORE_ENOSPACE ? SUBMIT_DISK_FULL : SUBMIT_TEMPFAIL;
			}
		}
	}
	return SUBMIT_OK;
}

/* Stages 4 and 5 and the remote half of 6. Blocks. */
static int prepare(struct submit_job *job)
{
	const struct settings *s = settings_get(job->sp->settings);
	if (job->nrcpts == 0)
		return SUBMIT_NO_RCPTS;
	if (job->data.len > s->message_max && job->origin.kind != SUBMIT_KIND_BOUNCE)
		return SUBMIT_TOO_BIG; /* first, as SMTP's framing finds it first */
	if (job->origin.auth_user != NULL) {
		const char *bad;
		if (store_header_senders_owned(job->sp->store, job->a, job->origin.auth_account, job->origin.auth_user,
					       job->data.data ? job->data.data : "", job->data.len, &bad) <= 0) {
			log_warn("event=sender_rejected reason=header user=%s header_from=%s id=%s",
				 job->origin.auth_user, LOG_Q(bad), job->out.id);
			job->out.detail = bad;
			return SUBMIT_FORBIDDEN_FROM;
		}
	}
	if (submit_limited(&job->origin)) {
		struct send_limit_caps caps = submit_limit_caps(job->sp);
		struct send_limit_refusal lr;
		if (send_limit_take(job->sp->limits, job->origin.auth_account, &caps, job->nrcpts, submit_limit_now(),
				    &job->ticket, &lr) <= 0) {
			job->out.detail = submit_limit_refused(&job->origin, &lr, "data", job->a);
			return SUBMIT_RATE_LIMITED;
		}
	}
	collect(job);
	add_trace(job, s);
	job->out.size = job->msg.len;
	int r = run_hooks(job);
	if (r == SUBMIT_OK)
		r = check_space_and_quota(job);
	if (r == SUBMIT_OK)
		check_mailbox(job);
	if (r == SUBMIT_OK)
		r = queue_remote(job);
	if (r == SUBMIT_OK && job->nplans > 0)
		r = deliver_plans(job);
	return r;
}

/* The store's answer for the local part, as a result. */
static int local_result(struct submit_job *job, int r, const char *error)
{
	if (r == 1)
		return SUBMIT_OK;
	bool quota = false;
	for (size_t i = 0; i < job->naccounts; i++)
		quota |= job->results[i] == STORE_EOVERQUOTA;
	log_error("event=delivery_failed id=%s result=%d error=%s", job->out.id, r, LOG_Q(error ? error : "-"));
	if (quota && r < 0 && job->nremote == 0)
		return SUBMIT_OVER_QUOTA;
	if (r == STORE_ENOSPACE)
		return SUBMIT_DISK_FULL;
	job->out.detail = "local delivery failed";
	return SUBMIT_TEMPFAIL;
}

static void set_delivery(struct submit_job *job)
{
	job->d = (struct store_delivery){ .data = job->msg.data,
					  .len = job->msg.len,
					  .accounts = job->accounts,
					  .naccounts = job->naccounts,
					  .mailbox = job->mailbox,
					  .keywords = job->keywords,
					  .return_path = job->sender,
					  .results = job->results };
}

/* ------------------------------------------------------------------ asynchronous */

static void finish(struct submit_job *job)
{
	job->done(job->arg, &job->out);
	job_free(&job);
}

static void local_done(void *arg, int result, const char *error)
{
	struct submit_job *job = arg;
	job->out.result = local_result(job, result, error);
	finish(job);
}

static void finish_on_loop(void *arg)
{
	finish(arg);
}

/* An account that sent through SMTP submission wrote to its envelope recipients:
 * counted in its address suggestions (the webmail counts its own sends, with the
 * names of its form, in jmap_contacts_use), with the names the To/Cc/Bcc fields
 * give. On the pool; a failure costs a suggestion, nothing more. */
static void record_contacts(struct submit_job *job)
{
	if (job->origin.kind != SUBMIT_KIND_SUBMISSION || job->origin.auth_account <= 0 || job->nrcpts == 0)
		return;
	const char **addrs = arena_alloc(job->a, job->nrcpts * sizeof(*addrs));
	const char **names = arena_alloc(job->a, job->nrcpts * sizeof(*names));
	for (size_t i = 0; i < job->nrcpts; i++)
		addrs[i] = job->rcpts[i].address;
	mail_recipient_names(job->a, job->msg.data, job->msg.len, addrs, job->nrcpts, names);
	struct store_contact *c = arena_alloc(job->a, job->nrcpts * sizeof(*c));
	for (size_t i = 0; i < job->nrcpts; i++)
		c[i] = (struct store_contact){ .address = addrs[i], .name = names[i] };
	const char *error;
	int r = store_contact_use(job->sp->store, job->origin.auth_account, c, job->nrcpts, (int64_t)time(NULL),
				  settings_get(job->sp->settings)->webmail_contacts, &error);
	/* STORE_EUNAVAIL: a backend without them (PostgreSQL for now), not worth a line per message */
	if (r < 0 && r != STORE_EUNAVAIL)
		log_warn("event=store_error op=contact_use user=%s error=%s", LOG_Q(job->origin.auth_user), LOG_Q(error));
}

/* On the pool: stages 4 and 5 and the remote part; then the local part goes to the
 * store from here (it posts its completion to the caller's loop), which saves the
 * caller's loop one wake-up per message. */
static void prepare_work(void *arg)
{
	struct submit_job *job = arg;
	job->out.result = prepare(job);
	if (job->out.result == SUBMIT_OK)
		record_contacts(job);
	if (job->out.result != SUBMIT_OK || job->naccounts == 0) {
		loop_post(job->loop, finish_on_loop, job);
		return;
	}
	set_delivery(job);
	store_deliver_async(job->sp->store, &job->d, job->loop, local_done, job);
}

void submit_message_async(struct submit *sp, struct submit_message *m, struct loop *loop, submit_done_fn *done,
			  void *arg)
{
	assert(sp->pool != NULL); /* submit_new without a pool: only the blocking calls */
	struct submit_job *job = job_new(sp, m, m->rcpts, m->nrcpts);
	job->loop = loop;
	job->done = done;
	job->arg = arg;
	pool_submit(sp->pool, prepare_work, NULL, NULL, job);
}

/* ------------------------------------------------------------------ blocking */

static int resolve_all(struct submit *sp, struct submit_message *m, const char *const *addresses, size_t n,
		       struct arena *a, struct submit_rcpt *rcpts, const char **detail_r)
{
	const struct settings *s = settings_get(sp->settings);
	if (n == 0)
		return SUBMIT_NO_RCPTS;
	if (n > s->recipients_max) {
		*detail_r = addresses[s->recipients_max];
		return SUBMIT_TOO_MANY_RCPTS;
	}
	for (size_t i = 0; i < n; i++) {
		const char *error;
		int r = submit_rcpt(sp, m->origin, a, addresses[i], false, 0, i, &rcpts[i], &error);
		if (r != SUBMIT_OK) {
			*detail_r = r == SUBMIT_RATE_LIMITED ? error : addresses[i];
			return r;
		}
	}
	return SUBMIT_OK;
}

int submit_send(struct submit *sp, struct submit_message *m, const char *const *addresses, size_t naddresses,
		struct arena *a, struct submit_outcome *out)
{
	memset(out, 0, sizeof(*out));
	const char *detail = NULL;
	int r = submit_sender(sp, m->origin, a, m->sender, 0, &detail);
	struct submit_rcpt *rcpts = arena_alloc(a, (naddresses + 1) * sizeof(*rcpts));
	if (r == SUBMIT_OK)
		r = resolve_all(sp, m, addresses, naddresses, a, rcpts, &detail);
	if (r != SUBMIT_OK) {
		buf_free(&m->data);
		out->result = r;
		out->detail = detail;
		return r;
	}
	struct submit_job *job = job_new(sp, m, rcpts, naddresses);
	r = prepare(job);
	if (r == SUBMIT_OK && job->naccounts > 0) {
		const char *error = NULL;
		set_delivery(job);
		r = local_result(job, store_deliver(sp->store, &job->d, &error), error);
	}
	job->out.result = r; /* job_free gives the count back unless r is SUBMIT_OK */
	*out = job->out;
	out->detail = job->out.detail ? arena_strdup(a, job->out.detail) : NULL;
	job_free(&job);
	return r;
}

/* ------------------------------------------------------------------ bounces */

int submit_resend(struct submit *sp, const char *sender, const char *to, const char *data, size_t len,
		  const char **error_r)
{
	static const struct submit_origin origin = { .kind = SUBMIT_KIND_SIEVE, .helo = "localhost", .with = "local" };
	struct arena *a = arena_new();
	struct submit_message m = { .origin = &origin, .sender = sender };
	buf_append(&m.data, data, len);
	struct submit_outcome out;
	int r = submit_send(sp, &m, &to, 1, a, &out);
	arena_free(&a);
	*error_r = submit_result_name(r);
	if (r == SUBMIT_OK)
		return 1;
	if (r == SUBMIT_TEMPFAIL || r == SUBMIT_POLICY_TEMP || r == SUBMIT_DISK_FULL || r == SUBMIT_NO_OUTBOUND)
		return -1;
	return 0;
}

int submit_bounce(void *ctx, const char *to, const char *data, size_t len, const char **error_r)
{
	struct submit *sp = ctx;
	static const struct submit_origin origin = { .kind = SUBMIT_KIND_BOUNCE, .helo = "localhost", .with = "local" };
	struct arena *a = arena_new();
	struct submit_message m = { .origin = &origin, .sender = "" };
	buf_append(&m.data, data, len);
	struct submit_outcome out;
	int r = submit_send(sp, &m, &to, 1, a, &out);
	arena_free(&a);
	*error_r = submit_result_name(r);
	if (r == SUBMIT_OK)
		return 1;
	if (r == SUBMIT_UNKNOWN_RCPT || r == SUBMIT_INVALID_RCPT || r == SUBMIT_POLICY)
		return 0;
	return -1;
}
