/* queue_deliver.c: the scheduler. Every second (and when a message arrives) it walks
 * the queued messages and starts a job for each group of due recipients that share
 * a domain, as far as the per-destination and overall connection limits allow. A
 * job finds the destination (route from the configuration, else MX), tries its
 * addresses in order with queue_client.c until one runs the transaction, then sets
 * each recipient's new state: 2xx delivered, 5xx failed, anything else pending with
 * the next attempt after an exponential backoff (or failed once the message is older
 * than the lifetime). A destination is the route's host:port, or the domain.
 *
 * A route with a login (route_auth) or implicit TLS never falls back to the clear
 * after a failed handshake, and a login that cannot be done (QC_AUTH_FAILED: no TLS,
 * no AUTH PLAIN, 535 and the like) defers every recipient of the job without trying
 * the route's other addresses (they would refuse the same login, and count against
 * it): a wrong password is the admin's mistake, fixed by a reload, and must not
 * bounce all mail at once; the log says so loudly (level error). */
#include "queue_int.h"

#include "log.h"
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct qdest {
	struct qdest *next;
	char *key;
	unsigned active;
};

struct qjob {
	struct qjob *prev, *next;
	struct queue *q;
	struct qmsg *m;
	struct qdest *dest;
	const struct queue_route *route;
	char domain[256];
	size_t *idx; /* recipients of m */
	size_t n;
	struct qclient_rcpt *cr;
	struct buf data;
	struct qdns_req *dns;
	struct qclient *client;
	struct qdns_target *targets;
	size_t ntargets, cur;
	bool tls_off;
	char last_error[400];
	char last_enh[16];
};

static const struct queue_route *route_for(const struct queue *q, const char *domain)
{
	const struct queue_route *star = NULL;
	for (size_t i = 0; i < q->s.nroutes; i++) {
		if (strcasecmp(q->routes[i].domain, domain) == 0)
			return &q->routes[i];
		if (strcmp(q->routes[i].domain, "*") == 0)
			star = &q->routes[i];
	}
	return star;
}

static struct qdest *dest_get(struct queue *q, const char *key)
{
	for (struct qdest *d = q->dests; d != NULL; d = d->next)
		if (strcasecmp(d->key, key) == 0)
			return d;
	struct qdest *d = xcalloc(1, sizeof(*d));
	d->key = xstrdup(key);
	d->next = q->dests;
	q->dests = d;
	return d;
}

static void dest_release(struct queue *q, struct qdest *d)
{
	if (--d->active > 0)
		return;
	for (struct qdest **p = &q->dests; *p != NULL; p = &(*p)->next) {
		if (*p == d) {
			*p = d->next;
			free(d->key);
			free(d);
			return;
		}
	}
}

static void job_free(struct qjob *j)
{
	queue_dns_cancel(&j->dns);
	queue_client_abort(&j->client);
	for (size_t i = 0; i < j->n; i++)
		free(j->cr[i].text);
	free(j->cr);
	free(j->idx);
	free(j->targets);
	buf_free(&j->data);
	free(j);
}

void queue_jobs_free(struct queue *q)
{
	while (q->jobs != NULL) {
		struct qjob *j = q->jobs;
		q->jobs = j->next;
		job_free(j);
	}
	while (q->dests != NULL) {
		struct qdest *d = q->dests;
		q->dests = d->next;
		free(d->key);
		free(d);
	}
}

/* Sets a recipient's outcome. code 0: a failure without a reply (DNS, connection). */
static void apply(struct queue *q, struct qmsg *m, struct qrcpt *r, int code, const char *enh, const char *diag,
		  const char *mta, time_t now)
{
	r->busy = false;
	r->code = code;
	snprintf(r->enh, sizeof(r->enh), "%s", enh != NULL ? enh : "");
	free(r->diag);
	r->diag = diag != NULL ? xstrdup(diag) : NULL;
	free(r->remote_mta);
	r->remote_mta = mta != NULL ? xstrdup(mta) : NULL;
	bool permanent = code >= 500 || (code == 0 && enh != NULL && enh[0] == '5');
	if (code >= 200 && code < 300) {
		r->state = QUEUE_RCPT_DELIVERED;
		metrics_inc(M_OUT_SENT);
		metrics_observe_latency_ms(now > m->created ? (uint64_t)(now - m->created) * 1000 : 0);
		metrics_event("sent", m->sender, r->address, diag);
		log_info("event=queue_delivered id=%s to=<%s> relay=%s reply=\"%s\"", m->id, r->address,
			 mta != NULL ? mta : "-", diag != NULL ? diag : "");
	} else if (permanent) {
		r->state = QUEUE_RCPT_FAILED;
		metrics_inc(M_OUT_BOUNCED);
		metrics_event("bounced", m->sender, r->address, diag);
		log_info("event=queue_failed id=%s to=<%s> relay=%s reply=\"%s\"", m->id, r->address,
			 mta != NULL ? mta : "-", diag != NULL ? diag : "");
	} else {
		r->attempts++;
		r->next = now + (time_t)queue_backoff(r->attempts, q->s.retry_initial, q->s.retry_max);
		if (now - m->created >= (time_t)q->s.lifetime) {
			r->state = QUEUE_RCPT_FAILED;
			metrics_inc(M_OUT_BOUNCED);
			metrics_event("bounced", m->sender, r->address, diag);
			snprintf(r->enh, sizeof(r->enh), "4.4.7");
			log_info("event=queue_expired id=%s to=<%s> reply=\"%s\"", m->id, r->address,
				 diag != NULL ? diag : "");
		} else {
			metrics_inc(M_OUT_DEFERRED);
			metrics_event("deferred", m->sender, r->address, diag);
			log_info("event=queue_deferred id=%s to=<%s> relay=%s attempts=%u retry_in=%llds reply=\"%s\"",
				 m->id, r->address, mta != NULL ? mta : "-", r->attempts, (long long)(r->next - now),
				 diag != NULL ? diag : "");
		}
	}
}

static void job_end(struct qjob *j)
{
	struct queue *q = j->q;
	struct qmsg *m = j->m;
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		q->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	q->active--;
	dest_release(q, j->dest);
	m->jobs--;
	job_free(j);
	queue_msg_round_done(q, m);
	queue_schedule(q);
}

/* Every recipient of the job gets the same outcome. */
static void job_fail_all(struct qjob *j, int code, const char *enh, const char *diag)
{
	time_t now = time(NULL);
	for (size_t i = 0; i < j->n; i++)
		apply(j->q, j->m, &j->m->rcpts[j->idx[i]], code, enh, diag, NULL, now);
	job_end(j);
}

static void try_next(struct qjob *j);

static void client_done(void *arg, enum qclient_outcome out, int code, const char *enh, const char *error)
{
	struct qjob *j = arg;
	j->client = NULL; /* it says QUIT and frees itself */
	const struct qdns_target *t = &j->targets[j->cur];
	if (out == QC_DONE) {
		time_t now = time(NULL);
		for (size_t i = 0; i < j->n; i++) {
			struct qclient_rcpt *c = &j->cr[i];
			apply(j->q, j->m, &j->m->rcpts[j->idx[i]], c->code, c->enh, c->text, t->host, now);
		}
		job_end(j);
		return;
	}
	snprintf(j->last_error, sizeof(j->last_error), "%s", error != NULL ? error : "failed");
	snprintf(j->last_enh, sizeof(j->last_enh), "%s", enh != NULL && enh[0] == '4' ? enh : "4.4.1");
	bool tls_only = j->route != NULL && (j->route->implicit_tls || j->route->auth_user != NULL);
	if (out == QC_AUTH_FAILED) {
		log_error("event=queue_auth_failed id=%s host=%s user=%s error=\"%s\" note=\"mail for this route stays "
			  "queued; check route_auth and route_tls, then reload\"",
			  j->m->id, t->host,
			  j->route != NULL && j->route->auth_user != NULL ? j->route->auth_user : "-", j->last_error);
		job_fail_all(j, 0, j->last_enh, j->last_error);
		return;
	}
	if (out == QC_TLS_FAILED && !j->tls_off && !tls_only) {
		log_warn("event=queue_tls_failed id=%s host=%s error=\"%s\" retry=plain", j->m->id, t->host, j->last_error);
		j->tls_off = true;
	} else {
		log_info("event=queue_host_failed id=%s host=%s error=\"%s\"", j->m->id, t->host, j->last_error);
		j->cur++;
		j->tls_off = false;
	}
	try_next(j);
}

static void try_next(struct qjob *j)
{
	if (j->cur >= j->ntargets) {
		job_fail_all(j, 0, j->last_enh[0] != '\0' ? j->last_enh : "4.4.1", j->last_error);
		return;
	}
	const struct qdns_target *t = &j->targets[j->cur];
	for (size_t i = 0; i < j->n; i++) {
		free(j->cr[i].text);
		j->cr[i].text = NULL;
		j->cr[i].code = 0;
		j->cr[i].enh[0] = '\0';
	}
	struct qclient_params p = {
		.s = &j->q->s,
		.helo = j->q->hostname,
		.host = t->host,
		.addr = (const struct sockaddr *)&t->addr,
		.addrlen = t->addrlen,
		.try_tls = !j->q->s.no_starttls && !j->tls_off,
		.implicit_tls = j->route != NULL && j->route->implicit_tls,
		.auth_user = j->route != NULL ? j->route->auth_user : NULL,
		.auth_password = j->route != NULL ? j->route->auth_password : NULL,
		.sender = j->m->sender,
		.envid = j->m->envid,
		.ret = j->m->ret,
		.smtputf8 = j->m->smtputf8,
		.id = j->m->id,
		.rcpts = j->cr,
		.nrcpts = j->n,
		.data = { j->data.data, j->data.len },
	};
	j->client = queue_client_start(j->q->clients, &p, client_done, j);
}

static void dns_done(void *arg, const struct qdns_result *r)
{
	struct qjob *j = arg;
	j->dns = NULL;
	if (r->status <= 0) {
		log_info("event=queue_dns_failed id=%s domain=%s error=\"%s\"", j->m->id, j->domain, r->error);
		job_fail_all(j, 0, r->enh != NULL ? r->enh : (r->status < 0 ? "5.1.2" : "4.4.3"), r->error);
		return;
	}
	j->targets = xcalloc(r->n, sizeof(*j->targets));
	memcpy(j->targets, r->t, r->n * sizeof(*j->targets));
	j->ntargets = r->n;
	const char *err = NULL;
	if (j->q->be->read_data(j->q, j->m, &j->data, &err) < 0) {
		log_error("event=queue_read_failed id=%s error=\"%s\"", j->m->id, err);
		job_fail_all(j, 0, "4.3.0", err);
		return;
	}
	try_next(j);
}

static void job_start(struct queue *q, struct qmsg *m, const char *domain, struct qdest *dest,
		      const struct queue_route *route)
{
	struct qjob *j = xcalloc(1, sizeof(*j));
	j->q = q;
	j->m = m;
	j->dest = dest;
	j->route = route;
	snprintf(j->domain, sizeof(j->domain), "%s", domain);
	j->idx = xcalloc(m->nrcpts, sizeof(*j->idx));
	j->cr = xcalloc(m->nrcpts, sizeof(*j->cr));
	for (size_t i = 0; i < m->nrcpts; i++) {
		struct qrcpt *r = &m->rcpts[i];
		if (r->state != QUEUE_RCPT_PENDING || r->busy || strcasecmp(r->domain, domain) != 0)
			continue;
		r->busy = true;
		j->cr[j->n] = (struct qclient_rcpt){ .address = r->address, .notify = r->notify, .orcpt = r->orcpt };
		j->idx[j->n++] = i;
	}
	dest->active++;
	q->active++;
	m->jobs++;
	j->next = q->jobs;
	if (q->jobs != NULL)
		q->jobs->prev = j;
	q->jobs = j;
	log_debug("event=queue_job id=%s domain=%s rcpts=%zu via=%s", m->id, domain, j->n, dest->key);
	if (route != NULL)
		j->dns = queue_dns_resolve_host(q->dns, route->host, route->port, dns_done, j);
	else
		j->dns = queue_dns_resolve_mx(q->dns, domain, q->s.smtp_port, dns_done, j);
}

void queue_schedule(struct queue *q)
{
	if (q->stopping || q->dns == NULL)
		return;
	time_t now = time(NULL);
	for (struct qmsg *m = q->msgs, *next; m != NULL; m = next) {
		next = m->nextm;
		if (m->next > now)
			continue;
		bool expired_any = false;
		for (size_t i = 0; i < m->nrcpts; i++) {
			struct qrcpt *r = &m->rcpts[i];
			if (r->state != QUEUE_RCPT_PENDING || r->busy || r->next > now)
				continue;
			if (now - m->created >= (time_t)q->s.lifetime) {
				r->state = QUEUE_RCPT_FAILED;
				snprintf(r->enh, sizeof(r->enh), "4.4.7");
				if (r->diag == NULL)
					r->diag = xstrdup("delivery time expired");
				log_info("event=queue_expired id=%s to=<%s>", m->id, r->address);
				expired_any = true;
				continue;
			}
			if (q->active >= q->s.concurrency_total)
				continue;
			const struct queue_route *route = route_for(q, r->domain);
			char key[300];
			if (route != NULL)
				snprintf(key, sizeof(key), "%s:%u", route->host, route->port);
			else
				snprintf(key, sizeof(key), "%s", r->domain);
			struct qdest *d = dest_get(q, key);
			if (d->active >= q->s.concurrency_per_dest)
				continue; /* d->active > 0: d stays listed */
			job_start(q, m, r->domain, d, route);
		}
		size_t pending = queue_msg_summarize(m);
		/* an expiry, or a message whose recipients are all final (its bounce failed
		 * before, or a crash came before its removal): finish it */
		if (expired_any || (pending == 0 && m->jobs == 0))
			queue_msg_round_done(q, m); /* may free m */
	}
}
