/* smtp_cmd_rcpt.c: RCPT TO (RFC 5321 §4.1.1.3).
 *   rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path )
 *          [SP Rcpt-parameters] CRLF
 * Check: a transaction is open (503), the recipient limit (452 4.5.3, RFC 5321
 * §4.5.3.1.10), the syntax, then the pipeline's recipient stage (submit_rcpt) on the
 * worker pool, since it reads the store: a local address that does not exist is
 * 550 5.1.1; postmaster@ every local domain is accepted; a non-local domain is
 * relaying, allowed only to authenticated users (554 5.7.1 otherwise); a local
 * account over its quota (with the SIZE the client declared) is smtp_quota_full's
 * 452 4.2.2 on port 25, 552 5.2.2 on submission (the table in submit_reply.c); on
 * submission, an account past limits.recipients_per_hour with the recipients
 * already accepted is 451 4.7.1.
 * Before the recipient stage, a port-25 client that a refusing DNS blocklist lists
 * gets 554 5.7.1 naming the list (client_check.c); while the blocklist answers are
 * still out the RCPT waits for them (the job is parked, the connection held).
 * Lookups go to the command's arena; the recipient kept is copied into the
 * transaction's. Proceed: add the recipient. */
#include "session.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

/* A recipient being resolved on the pool (the store's lookups are SQL). */
struct rcpt_job {
	struct smtp_session *ss;
	struct submit_origin origin;
	const char *address;     /* cmd_arena, which stays put while the job holds the conn */
	bool remote_only;
	uint64_t size;
	size_t accepted; /* recipients the transaction holds (the hourly limits) */
	struct smtp_rcpt_args args;
	struct submit_rcpt r;
	int result;
	const char *error;
};

static void add_rcpt(struct smtp_session *ss, const struct submit_rcpt *r, const struct smtp_rcpt_args *args)
{
	struct smtp_txn *t = &ss->txn;
	if (t->nrcpts == t->rcpts_cap) {
		size_t cap = t->rcpts_cap ? t->rcpts_cap * 2 : 8;
		struct submit_rcpt *n = arena_alloc(ss->txn_arena, cap * sizeof(*n));
		if (t->nrcpts > 0)
			memcpy(n, t->rcpts, t->nrcpts * sizeof(*n));
		t->rcpts = n;
		t->rcpts_cap = cap;
	}
	/* the lookup was in the command's arena: copy what the transaction keeps */
	struct submit_rcpt *rc = &t->rcpts[t->nrcpts++];
	memset(rc, 0, sizeof(*rc));
	rc->address = arena_strdup(ss->txn_arena, r->address);
	int64_t *accounts = arena_alloc(ss->txn_arena, (r->naccounts + 1) * sizeof(*accounts));
	if (r->naccounts > 0)
		memcpy(accounts, r->accounts, r->naccounts * sizeof(*accounts));
	const char **remote = arena_alloc(ss->txn_arena, (r->nremote + 1) * sizeof(*remote));
	for (size_t i = 0; i < r->nremote; i++)
		remote[i] = arena_strdup(ss->txn_arena, r->remote[i]);
	rc->accounts = accounts;
	rc->naccounts = r->naccounts;
	rc->remote = remote;
	rc->nremote = r->nremote;
	if (rc->nremote > 0)
		t->any_remote = true;
	rc->notify = args->notify;
	if (args->orcpt.len > 0)
		rc->orcpt = arena_strndup(ss->txn_arena, args->orcpt.p, args->orcpt.len);
}

static void rcpt_work(void *arg)
{
	struct rcpt_job *j = arg;
	j->result = submit_rcpt(j->ss->env->submit, &j->origin, j->ss->cmd_arena, j->address, j->remote_only, j->size,
				j->accepted, &j->r, &j->error);
}

static void rcpt_done(void *arg)
{
	struct rcpt_job *j = arg;
	struct smtp_session *ss = j->ss;
	struct conn *c = ss->c;
	if (!conn_is_closed(c)) {
		if (j->result == SUBMIT_OK) {
			add_rcpt(ss, &j->r, &j->args);
			smtp_reply(ss, 250, "2.1.5", "Ok");
		} else {
			if (j->result == SUBMIT_TEMPFAIL)
				conn_log(ss->c, LOG_ERROR, "event=store_error op=resolve error=%s",
					 LOG_Q(j->error ? j->error : "-"));
			smtp_reply_submit(ss, j->result,
					  j->result == SUBMIT_RATE_LIMITED ? j->error
					  : j->r.address                   ? j->r.address
									   : j->address);
		}
	}
	free(j);
	conn_release(c);
}

static void rcpt_resume(struct smtp_session *ss);

void smtp_cmd_rcpt(struct smtp_session *ss, const struct smtp_command *cmd)
{
	struct smtp_txn *t = &ss->txn;
	if (!t->active) {
		smtp_reply(ss, 503, "5.5.1", "Need MAIL before RCPT");
		smtp_error(ss);
		return;
	}
	if (t->nrcpts >= ss->s->recipients_max) {
		smtp_reply_submit(ss, SUBMIT_TOO_MANY_RCPTS, NULL);
		return;
	}
	struct smtp_rcpt_args args;
	struct smtp_error err;
	if (smtp_parse_rcpt(cmd->arg, t->mail.smtputf8, &args, &err) < 0) {
		smtp_reply(ss, err.code, err.enh, "%s", err.text);
		smtp_error(ss);
		return;
	}
	struct rcpt_job *j = xcalloc(1, sizeof(*j));
	j->ss = ss;
	j->origin = *smtp_origin(ss);
	j->origin.client_ip = NULL; /* the connection may go while the job runs */
	j->address = args.postmaster ? "postmaster" : arena_strdup(ss->cmd_arena, args.to.mailbox);
	j->remote_only = args.to.domain_literal;
	j->size = t->mail.has_size ? t->mail.size : 0;
	j->accepted = t->nrcpts;
	j->args = args;
	if (args.orcpt.len > 0)
		j->args.orcpt = (struct bytes){ arena_strndup(ss->cmd_arena, args.orcpt.p, args.orcpt.len), args.orcpt.len };
	conn_hold(ss->c);
	if (ss->check != NULL) { /* the blocklists have not answered: wait, without blocking the loop */
		ss->rcpt_waiting = j;
		ss->rcpt_resume = rcpt_resume;
		return;
	}
	if (smtp_client_refused(ss)) {
		free(j);
		conn_release(ss->c);
		return;
	}
	pool_submit(ss->env->pool, rcpt_work, rcpt_done, conn_loop(ss->c), j);
}

/* Goes on with the RCPT in ss->rcpt_waiting once the check answered (called through
 * ss->rcpt_resume by client_check.c). */
static void rcpt_resume(struct smtp_session *ss)
{
	struct rcpt_job *j = ss->rcpt_waiting;
	struct conn *c = ss->c;
	ss->rcpt_waiting = NULL;
	if (conn_is_closed(c) || smtp_client_refused(ss)) {
		free(j);
		conn_release(c); /* may free the session */
		return;
	}
	pool_submit(ss->env->pool, rcpt_work, rcpt_done, conn_loop(c), j);
}
