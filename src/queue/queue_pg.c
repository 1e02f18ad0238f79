/* queue_pg.c: the queue's backend on the store's rows (store.backend = postgresql;
 * store_queue.h, docs/cluster.md), shared by every node on the database.
 *
 * A node holds in memory only the messages it leased: the ones submitted through it
 * (inserted already leased to it, so they go out at once) and the ones its tick
 * claims (due, and nobody's lease or an expired one). While it holds them, the tick
 * extends its leases every third of queue.lease (the heartbeat), so a delivery that
 * takes long is not taken over; the round's outcome is written in the transaction
 * that ends the lease (QUEUE_SAVE_RELEASE) or removes the message (QUEUE_SAVE_DONE),
 * and the message leaves memory until it is due again, when any node may claim it.
 * A node that dies stops beating: its leases expire and the others claim them.
 *
 * The owner name is host:pid:random, new at each start, so a restarted node does
 * not mistake its former self's leases for its own: they expire like any dead
 * node's. The calls into the store block the queue's loop for a round trip each
 * (the spool's fsyncs do the same on the files backend). */
#include "queue_int.h"

#include "log.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define PG_CLAIM_MAX 64 /* messages one claim takes at most */

static enum store_qstate state_to_store(const struct qrcpt *r)
{
	switch (r->state) {
	case QUEUE_RCPT_PENDING: return STORE_Q_PENDING;
	case QUEUE_RCPT_DELIVERED: return STORE_Q_DELIVERED;
	case QUEUE_RCPT_FAILED: return r->reported ? STORE_Q_REPORTED : STORE_Q_FAILED;
	}
	return STORE_Q_PENDING;
}

/* m as a row (pointers into m; rcpts allocated in a). */
static void to_store(const struct qmsg *m, struct arena *a, struct store_qmsg *out)
{
	*out = (struct store_qmsg){ .id = m->id, .created = m->created, .sender = m->sender, .envid = m->envid,
				    .ret = (int)m->ret, .smtputf8 = m->smtputf8, .auth_user = m->auth_user,
				    .size = (int64_t)m->size, .next = m->next, .nrcpts = m->nrcpts };
	out->rcpts = arena_alloc(a, (m->nrcpts + 1) * sizeof(*out->rcpts));
	for (size_t i = 0; i < m->nrcpts; i++) {
		const struct qrcpt *r = &m->rcpts[i];
		out->rcpts[i] = (struct store_qrcpt){ .address = r->address, .notify = r->notify, .orcpt = r->orcpt,
						      .state = state_to_store(r), .attempts = r->attempts, .next = r->next,
						      .code = r->code, .enh = r->enh, .diag = r->diag,
						      .remote_mta = r->remote_mta };
	}
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* A claimed or listed row as a message of the queue's own (malloc'd). */
static struct qmsg *from_store(const struct store_qmsg *sm)
{
	struct qmsg *m = xcalloc(1, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", sm->id);
	m->created = (time_t)sm->created;
	m->sender = xstrdup(sm->sender);
	m->envid = dup_or_null(sm->envid);
	m->ret = (enum smtp_ret)sm->ret;
	m->smtputf8 = sm->smtputf8;
	m->auth_user = dup_or_null(sm->auth_user);
	m->size = (uint64_t)sm->size;
	m->rcpts = xcalloc(sm->nrcpts + 1, sizeof(*m->rcpts));
	m->nrcpts = sm->nrcpts;
	for (size_t i = 0; i < sm->nrcpts; i++) {
		const struct store_qrcpt *sr = &sm->rcpts[i];
		struct qrcpt *r = &m->rcpts[i];
		r->address = xstrdup(sr->address);
		const char *at = strrchr(r->address, '@');
		r->domain = at != NULL ? at + 1 : r->address + strlen(r->address);
		r->notify = sr->notify;
		r->orcpt = dup_or_null(sr->orcpt);
		r->state = sr->state == STORE_Q_PENDING ? QUEUE_RCPT_PENDING
			   : sr->state == STORE_Q_DELIVERED ? QUEUE_RCPT_DELIVERED : QUEUE_RCPT_FAILED;
		r->reported = sr->state == STORE_Q_REPORTED;
		r->attempts = sr->attempts;
		r->next = (time_t)sr->next;
		r->code = sr->code;
		snprintf(r->enh, sizeof(r->enh), "%s", sr->enh != NULL ? sr->enh : "");
		r->diag = dup_or_null(sr->diag);
		r->remote_mta = dup_or_null(sr->remote_mta);
	}
	queue_msg_summarize(m);
	return m;
}

static int pg_open(struct queue *q, const char **error_r)
{
	char host[64] = "localhost";
	gethostname(host, sizeof(host) - 1);
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)time(NULL);
	snprintf(q->owner, sizeof(q->owner), "%s:%d:%08" PRIx32, host, (int)getpid(), rnd);
	log_info("event=queue_shared backend=postgresql owner=%s lease=%us", q->owner, q->s.lease);
	(void)error_r;
	return 0; /* the tick claims what is due */
}

static int pg_write_msg(struct queue *q, struct qmsg *m, struct bytes data, const char **error_r)
{
	struct arena *a = arena_new();
	struct store_qmsg sm;
	to_store(m, a, &sm);
	int r = store_queue_insert(q->store, &sm, data.p, data.len, q->owner, q->s.lease, error_r);
	arena_free(&a);
	return r < 0 ? -1 : 1;
}

static int pg_read_data(struct queue *q, const struct qmsg *m, struct buf *out, const char **error_r)
{
	char *d = NULL;
	size_t n = 0;
	int r = store_queue_body(q->store, m->id, &d, &n, error_r);
	if (r == 0)
		*error_r = "the message is no longer in the queue";
	if (r <= 0)
		return -1;
	buf_append(out, d, n);
	free(d);
	return 1;
}

static int pg_save(struct queue *q, struct qmsg *m, enum queue_save how, const char **error_r)
{
	struct arena *a = arena_new();
	struct store_qmsg sm;
	to_store(m, a, &sm);
	int r = store_queue_save(q->store, q->owner, &sm, how == QUEUE_SAVE_RELEASE, how == QUEUE_SAVE_DONE, error_r);
	arena_free(&a);
	if (r == 0)
		log_warn("event=queue_lease_lost id=%s owner=%s note=\"another node took the message over\"", m->id,
			 q->owner);
	return r < 0 ? -1 : r;
}

static bool pg_tick(struct queue *q)
{
	time_t now = time(NULL);
	unsigned every = q->s.lease / 3 > 0 ? q->s.lease / 3 : 1;
	const char *err = NULL;
	if (now - q->beat_at >= (time_t)every) {
		int n = store_queue_heartbeat(q->store, q->owner, q->s.lease, &err);
		if (n < 0)
			log_warn("event=queue_heartbeat_failed owner=%s error=\"%s\"", q->owner, err);
		else
			q->beat_at = now;
	}
	size_t limit = 2 * (size_t)q->s.concurrency_total;
	if (q->nmsgs >= limit)
		return false;
	size_t max = limit - q->nmsgs < PG_CLAIM_MAX ? limit - q->nmsgs : PG_CLAIM_MAX;
	struct arena *a = arena_new();
	struct store_qmsg *v = NULL;
	size_t n = 0;
	if (store_queue_claim(q->store, q->owner, q->s.lease, max, (int64_t)now, a, &v, &n, &err) < 0)
		log_warn("event=queue_claim_failed owner=%s error=\"%s\"", q->owner, err);
	for (size_t i = 0; i < n; i++) {
		struct qmsg *m = from_store(&v[i]);
		log_info("event=queue_claimed id=%s owner=%s rcpts=%zu", m->id, q->owner, m->nrcpts);
		queue_msg_add(q, m);
	}
	arena_free(&a);
	return false;
}

const struct queue_backend queue_backend_pg = {
	.name = "postgresql",
	.open = pg_open,
	.write_msg = pg_write_msg,
	.read_data = pg_read_data,
	.save = pg_save,
	.tick = pg_tick,
	.shared = true,
};

/* ---------------------------------------------------------------- for the CLI */

int queue_pg_list(struct store *s, struct arena *a, struct queue_entry **entries_r, size_t *n_r,
		  const char **error_r)
{
	struct store_qmsg *v = NULL;
	size_t n = 0;
	if (store_queue_list(s, a, &v, &n, error_r) < 0)
		return -1;
	struct queue_entry *e = arena_alloc(a, (n + 1) * sizeof(*e));
	for (size_t i = 0; i < n; i++) {
		struct qmsg *m = from_store(&v[i]);
		struct queue_entry *x = &e[i];
		memset(x, 0, sizeof(*x));
		snprintf(x->id, sizeof(x->id), "%s", m->id);
		x->created = m->created;
		x->next_attempt = m->next;
		x->attempts = m->attempts;
		x->sender = arena_strdup(a, m->sender);
		x->size = m->size;
		x->nrcpts = m->nrcpts;
		x->rcpts = arena_alloc(a, (m->nrcpts + 1) * sizeof(*x->rcpts));
		for (size_t k = 0; k < m->nrcpts; k++) {
			const struct qrcpt *r = &m->rcpts[k];
			x->rcpts[k] = (struct queue_entry_rcpt){ .address = arena_strdup(a, r->address),
								 .state = r->state, .attempts = r->attempts,
								 .next_attempt = r->next,
								 .last_error = arena_strdup(a, r->diag ? r->diag : "") };
		}
		queue_msg_free(&m);
	}
	*entries_r = e;
	*n_r = n;
	return 1;
}
