/* queue_msgs.c: the queue's list of messages, the backoff schedule and the end of a
 * message. When a delivery round of a message is over (queue_deliver.c) and no
 * recipient is pending, a bounce for the failed ones (RFC 3464, queue_dsn.c) goes to
 * the sender through the message pipeline (queue_set_bounce; without one, through the
 * queue itself), and the files are removed. This file sits below queue.c (life cycle,
 * tick) and queue_deliver.c (connections), which both use it; it calls neither.
 * Runs on the queue's loop (before start, on the thread that opened the queue). */
#include "queue_int.h"

#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- backoff */

unsigned queue_backoff(unsigned attempts, unsigned initial, unsigned max)
{
	if (attempts == 0)
		return 0;
	uint64_t d = initial;
	for (unsigned i = 1; i < attempts && d < max; i++)
		d *= 2;
	return d > max ? max : (unsigned)d;
}

/* ---------------------------------------------------------------- messages */

void queue_msg_add(struct queue *q, struct qmsg *m)
{
	m->prev = q->msgs_tail;
	m->nextm = NULL;
	if (q->msgs_tail != NULL)
		q->msgs_tail->nextm = m;
	else
		q->msgs = m;
	q->msgs_tail = m;
	q->nmsgs++;
}

void queue_msg_unlink(struct queue *q, struct qmsg *m)
{
	if (m->prev != NULL)
		m->prev->nextm = m->nextm;
	else
		q->msgs = m->nextm;
	if (m->nextm != NULL)
		m->nextm->prev = m->prev;
	else
		q->msgs_tail = m->prev;
	q->nmsgs--;
}

/* A new message from a submission (see queue_int.h). */
struct qmsg *queue_msg_new(const struct queue_msg *in)
{
	struct qmsg *m = xcalloc(1, sizeof(*m));
	queue_spool_new_id(m->id);
	m->created = time(NULL);
	m->sender = xstrdup(in->sender != NULL ? in->sender : "");
	m->envid = in->envid != NULL && in->envid[0] != '\0' ? xstrdup(in->envid) : NULL;
	m->ret = in->ret;
	m->smtputf8 = in->smtputf8;
	m->auth_user = in->auth_user != NULL && in->auth_user[0] != '\0' ? xstrdup(in->auth_user) : NULL;
	m->size = in->len;
	m->rcpts = xcalloc(in->nrcpts, sizeof(*m->rcpts));
	m->nrcpts = in->nrcpts;
	for (size_t i = 0; i < in->nrcpts; i++) {
		struct qrcpt *r = &m->rcpts[i];
		r->address = xstrdup(in->rcpts[i].address);
		const char *at = strrchr(r->address, '@');
		r->domain = at != NULL ? at + 1 : r->address + strlen(r->address);
		r->notify = in->rcpts[i].notify;
		r->orcpt = in->rcpts[i].orcpt != NULL && in->rcpts[i].orcpt[0] != '\0' ? xstrdup(in->rcpts[i].orcpt) : NULL;
	}
	return m;
}

/* ---------------------------------------------------------------- the end of a message */

/* Sends the bounce for m's failed recipients. Returns 1 (sent or nothing to send), or
 * -1 when it must be tried again later. */
static int send_bounce(struct queue *q, struct qmsg *m)
{
	if (m->sender[0] == '\0')
		return 1; /* never bounce a bounce (RFC 3464 §2, RFC 5321 §6.1) */
	struct buf data = { 0 }, dsn = { 0 };
	const char *err = NULL;
	if (q->be->read_data(q, m, &data, &err) < 0) {
		log_error("event=queue_bounce_failed id=%s error=\"%s\"", m->id, err);
		buf_free(&data);
		return 1; /* the message is gone: nothing to retry with */
	}
	char boundary[QUEUE_ID_MAX + 300];
	snprintf(boundary, sizeof(boundary), "%s/%s", m->id, q->hostname);
	struct dsn_input in = { .hostname = q->hostname, .boundary = boundary, .now = time(NULL), .m = m,
				.message = { data.data, data.len } };
	int n = queue_dsn_build(&in, &dsn);
	buf_free(&data);
	if (n == 0) {
		buf_free(&dsn);
		return 1;
	}
	int ret = 1;
	if (q->bounce != NULL) { /* the message pipeline: local or remote, like any message */
		int r = q->bounce(q->bounce_ctx, m->sender, dsn.data, dsn.len, &err);
		if (r < 0) {
			log_error("event=queue_bounce_failed id=%s to=<%s> error=\"%s\"", m->id, m->sender, err ? err : "-");
			ret = -1;
		} else if (r == 0) {
			log_warn("event=queue_bounce_dropped id=%s to=<%s> reason=\"%s\"", m->id, m->sender,
				 err ? err : "no such local user");
		} else {
			log_info("event=queue_bounce id=%s to=<%s> failed=%d", m->id, m->sender, n);
		}
		buf_free(&dsn);
		return ret;
	}
	struct queue_rcpt rc = { .address = m->sender, .notify = SMTP_NOTIFY_NEVER };
	struct queue_msg bm = { .sender = "", .rcpts = &rc, .nrcpts = 1, .data = dsn.data, .len = dsn.len };
	struct qmsg *b = queue_msg_new(&bm);
	if (q->be->write_msg(q, b, (struct bytes){ dsn.data, dsn.len }, &err) < 0) {
		log_error("event=queue_bounce_failed id=%s error=\"%s\"", m->id, err);
		queue_msg_free(&b);
		ret = -1;
	} else {
		log_info("event=queue_bounce id=%s to=<%s> bounce_id=%s failed=%d", m->id, m->sender, b->id, n);
		queue_msg_add(q, b);
	}
	buf_free(&dsn);
	return ret;
}

/* A shared backend: the round is over and no job runs, so the message goes back to
 * the store with its lease ended, in the transaction that writes its recipients'
 * states; it leaves memory until a node claims it when it is due. When the database
 * cannot be reached it stays here (the heartbeat keeps the lease once the database is
 * back) and the save is tried again later. */
static void release(struct queue *q, struct qmsg *m)
{
	const char *err = NULL;
	int r = q->be->save(q, m, QUEUE_SAVE_RELEASE, &err);
	if (r < 0) {
		log_error("event=queue_state_failed id=%s error=\"%s\"", m->id, err);
		if (m->next < time(NULL) + 10)
			m->next = time(NULL) + 10;
		return;
	}
	queue_msg_unlink(q, m);
	queue_msg_free(&m);
}

void queue_msg_round_done(struct queue *q, struct qmsg *m)
{
	size_t pending = queue_msg_summarize(m);
	const char *err = NULL;
	bool unreported = false;
	for (size_t i = 0; i < m->nrcpts; i++)
		unreported |= m->rcpts[i].state == QUEUE_RCPT_FAILED && !m->rcpts[i].reported;
	if (unreported) {
		/* failures are reported as soon as they are final, not when the last
		 * recipient is done; a crash between the bounce and the state write sends
		 * the bounce twice, never zero times */
		if (send_bounce(q, m) < 0) {
			if (pending == 0 && m->jobs == 0) {
				m->next = time(NULL) + 60; /* try the bounce again in a minute */
				if (q->be->shared)
					release(q, m);
				return;
			}
		} else {
			for (size_t i = 0; i < m->nrcpts; i++)
				if (m->rcpts[i].state == QUEUE_RCPT_FAILED)
					m->rcpts[i].reported = true;
		}
	}
	if (m->jobs == 0 && pending > 0 && q->be->shared) {
		release(q, m);
		return;
	}
	if (pending > 0 || m->jobs > 0) {
		int r = q->be->save(q, m, QUEUE_SAVE_KEEP, &err);
		if (r < 0)
			log_error("event=queue_state_failed id=%s error=\"%s\"", m->id, err);
		return;
	}
	size_t delivered = 0;
	for (size_t i = 0; i < m->nrcpts; i++)
		delivered += m->rcpts[i].state == QUEUE_RCPT_DELIVERED;
	log_info("event=queue_done id=%s delivered=%zu failed=%zu", m->id, delivered, m->nrcpts - delivered);
	int r = q->be->save(q, m, QUEUE_SAVE_DONE, &err);
	if (r < 0 && q->be->shared) {
		/* kept in memory (and leased, by the heartbeat): the next round saves again */
		log_error("event=queue_remove_failed id=%s error=\"%s\"", m->id, err);
		m->next = time(NULL) + 10;
		return;
	}
	if (r < 0)
		log_error("event=queue_remove_failed id=%s error=\"%s\"", m->id, err);
	queue_msg_unlink(q, m);
	queue_msg_free(&m);
}
