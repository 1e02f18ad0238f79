/* queue_admin.c: the admin's actions on a running queue (queue.h, "for the admin"):
 * retry one message now, delete it, bounce it, and the queue's size and oldest age.
 *
 * The message list belongs to the queue's loop, so each action is posted there and
 * the caller (a pool thread of the admin API) waits for the answer, at most
 * QUEUE_ADMIN_WAIT_MS; a request whose caller stopped waiting is freed by the loop. A
 * message that a connection is delivering right now is left alone (the caller is
 * told to try again), so an action never races a delivery's result. */
#include "queue_int.h"

#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "store.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_ADMIN_WAIT_MS 5000

struct act_req {
	struct queue *q;
	char id[QUEUE_ID_MAX];
	enum queue_action act;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done, abandoned;
	int result;
	const char *error; /* static text */
	size_t nmsgs;
	time_t oldest;
};

static struct qmsg *find(struct queue *q, const char *id)
{
	for (struct qmsg *m = q->msgs; m != NULL; m = m->nextm)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

static void act(struct act_req *r)
{
	struct queue *q = r->q;
	queue_take_incoming(q);
	if (r->act == QUEUE_ACT_STATS) {
		r->nmsgs = 0;
		r->oldest = 0;
		for (struct qmsg *m = q->msgs; m != NULL; m = m->nextm) {
			r->nmsgs++;
			if (r->oldest == 0 || m->created < r->oldest)
				r->oldest = m->created;
		}
		r->result = 1;
		return;
	}
	struct qmsg *m = find(q, r->id);
	if (m == NULL && q->be->shared) {
		/* a shared queue: a message this node does not hold is acted on in the
		 * database, unless another node is delivering it */
		static const enum store_qaction sa[] = { [QUEUE_ACT_RETRY] = STORE_QACT_RETRY,
							 [QUEUE_ACT_DELETE] = STORE_QACT_DELETE,
							 [QUEUE_ACT_BOUNCE] = STORE_QACT_BOUNCE };
		const char *err = NULL;
		int x = store_queue_act(q->store, r->id, sa[r->act], &err);
		r->result = x >= 0 ? x : -1;
		r->error = x == STORE_ENOTALLOWED ? "the message is being delivered right now; try again in a moment"
						  : "the database is unavailable";
		if (x > 0)
			log_info("event=queue_admin id=%s act=%d by=admin", r->id, (int)r->act);
		return;
	}
	if (m == NULL) {
		r->result = 0;
		return;
	}
	if (m->jobs > 0) {
		r->result = -1;
		r->error = "the message is being delivered right now; try again in a moment";
		return;
	}
	const char *err = NULL;
	switch (r->act) {
	case QUEUE_ACT_RETRY:
		for (size_t i = 0; i < m->nrcpts; i++)
			if (m->rcpts[i].state == QUEUE_RCPT_PENDING)
				m->rcpts[i].next = 0;
		m->next = 0;
		log_info("event=queue_retry id=%s by=admin", m->id);
		queue_schedule(q);
		break;
	case QUEUE_ACT_DELETE:
		log_info("event=queue_deleted id=%s by=admin rcpts=%zu", m->id, m->nrcpts);
		if (q->be->save(q, m, QUEUE_SAVE_DONE, &err) < 0)
			log_error("event=queue_remove_failed id=%s error=\"%s\"", m->id, err);
		queue_msg_unlink(q, m);
		queue_msg_free(&m);
		break;
	case QUEUE_ACT_BOUNCE:
		for (size_t i = 0; i < m->nrcpts; i++) {
			struct qrcpt *rc = &m->rcpts[i];
			if (rc->state != QUEUE_RCPT_PENDING)
				continue;
			rc->state = QUEUE_RCPT_FAILED;
			rc->code = 550;
			snprintf(rc->enh, sizeof(rc->enh), "5.0.0");
			free(rc->diag);
			rc->diag = xstrdup("delivery cancelled by the administrator");
			metrics_inc(M_OUT_BOUNCED);
			metrics_event("bounced", m->sender, rc->address, rc->diag);
		}
		log_info("event=queue_bounced id=%s by=admin", m->id);
		queue_msg_round_done(q, m); /* sends the bounce, removes m when nothing is left */
		break;
	case QUEUE_ACT_STATS:
		break;
	}
	r->result = 1;
}

static void act_cb(void *arg)
{
	struct act_req *r = arg;
	act(r);
	pthread_mutex_lock(&r->lock);
	r->done = true;
	bool gone = r->abandoned;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (gone) {
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->cond);
		free(r);
	}
}

static int run(struct queue *q, struct act_req *r, const char **error_r)
{
	pthread_mutex_lock(&q->lock);
	struct loop *l = q->loop;
	pthread_mutex_unlock(&q->lock);
	if (l == NULL) {
		*error_r = "the queue is not running";
		free(r);
		return -1;
	}
	r->q = q;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	loop_post(l, act_cb, r);
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += QUEUE_ADMIN_WAIT_MS / 1000;
	pthread_mutex_lock(&r->lock);
	int rc = 0;
	while (!r->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&r->cond, &r->lock, &until);
	if (!r->done) {
		r->abandoned = true; /* act_cb frees it */
		pthread_mutex_unlock(&r->lock);
		*error_r = "the queue did not answer in time";
		return -1;
	}
	pthread_mutex_unlock(&r->lock);
	return 1;
}

static void req_free(struct act_req *r)
{
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

int queue_act(struct queue *q, const char *id, enum queue_action a, const char **error_r)
{
	assert(a != QUEUE_ACT_STATS);
	if (id == NULL || strlen(id) >= QUEUE_ID_MAX) {
		return 0;
	}
	struct act_req *r = xcalloc(1, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->act = a;
	if (run(q, r, error_r) < 0)
		return -1;
	int ret = r->result;
	if (ret < 0)
		*error_r = r->error;
	req_free(r);
	return ret;
}

int queue_stats(struct queue *q, size_t *nmsgs_r, time_t *oldest_r, const char **error_r)
{
	if (q->be->shared) { /* every node's messages: the database's rows */
		struct arena *a = arena_new();
		struct queue_entry *e = NULL;
		size_t n = 0;
		int r = queue_pg_list(q->store, a, &e, &n, error_r);
		*nmsgs_r = n;
		*oldest_r = n > 0 ? e[0].created : 0;
		arena_free(&a);
		return r;
	}
	struct act_req *r = xcalloc(1, sizeof(*r));
	r->act = QUEUE_ACT_STATS;
	if (run(q, r, error_r) < 0)
		return -1;
	*nmsgs_r = r->nmsgs;
	*oldest_r = r->oldest;
	req_free(r);
	return 1;
}
