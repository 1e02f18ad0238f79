/* deliver.c: the end of a message: the SMTP framing checks, then the pipeline.
 *
 * What only SMTP can get wrong is checked here: a message over limits.message_size
 * while it was read (552 5.3.4; the pipeline's size rule, counted as it arrives so
 * the rest is not kept), limits.message_memory reached (452 4.3.1), bare CR, bare LF
 * or NUL (554 5.6.0, RFC 5321 §2.3.8). Everything else is the message pipeline's
 * (src/submit: From:/Sender: ownership, trace headers, hooks, disk reserve, quota,
 * the durable commit), run with submit_message_async so the loop never waits for
 * the store; the reply comes from the one table in submit_reply.c, and the 250 is
 * sent only once every copy is on stable storage. */
#include "session.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

const struct submit_origin *smtp_origin(struct smtp_session *ss)
{
	bool tls = conn_is_tls(ss->c), auth = ss->auth_user != NULL;
	bool ext = ss->esmtp || ss->txn.mail.smtputf8;
	/* RFC 3848: ESMTP, ESMTPS, ESMTPA, ESMTPSA (UTF8SMTP* for SMTPUTF8, RFC 6531) */
	snprintf(ss->origin_with, sizeof(ss->origin_with), "%s%s%s",
		 ss->txn.mail.smtputf8 ? "UTF8SMTP" : ss->esmtp ? "ESMTP" : "SMTP", tls && ext ? "S" : "",
		 auth && ext ? "A" : "");
	ss->origin = (struct submit_origin){
		.kind = ss->l->role == SMTPD_MX ? SUBMIT_KIND_MX : SUBMIT_KIND_SUBMISSION,
		.client_ip = conn_peer_ip(ss->c),
		.helo = ss->helo,
		.with = ss->origin_with,
		.tls = tls,
		.auth_user = ss->auth_user,
		.auth_account = ss->auth_account,
		.dnsbl_score = ss->check_score,
		.dnsbl_zones = ss->check_weighted,
	};
	return &ss->origin;
}

static void delivered(void *arg, const struct submit_outcome *out)
{
	struct smtp_session *ss = arg;
	struct conn *c = ss->c;
	if (!conn_is_closed(c)) {
		if (out->result == SUBMIT_OK) {
			conn_log(ss->c, LOG_INFO, "event=accepted id=%s from=<%s> rcpts=%zu local=%zu remote=%zu size=%zu",
				 out->id, ss->txn.mail.from.mailbox, ss->txn.nrcpts, out->nlocal, out->nremote, out->size);
			smtp_reply(ss, 250, "2.0.0", "Ok: queued as %s", out->id);
		} else {
			smtp_reply_submit(ss, out->result, out->detail);
		}
	}
	smtp_txn_reset(ss);
	conn_release(c);
}

void smtp_deliver(struct smtp_session *ss)
{
	struct smtp_txn *t = &ss->txn;
	if (t->dec.too_big) {
		smtp_reply_submit(ss, SUBMIT_TOO_BIG, NULL);
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
	struct submit_message m = {
		.origin = smtp_origin(ss),
		.sender = t->mail.null_path ? "" : t->mail.from.mailbox,
		.rcpts = t->rcpts,
		.nrcpts = t->nrcpts,
		.envid = t->mail.envid.len > 0 ? t->mail.envid.p : NULL,
		.ret = (int)t->mail.ret,
		.smtputf8 = t->mail.smtputf8,
		.data = t->data, /* the pipeline holds the message now: never two copies for long */
	};
	t->data = (struct buf){ 0 };
	conn_hold(ss->c);
	submit_message_async(ss->env->submit, &m, conn_loop(ss->c), delivered, ss);
}
