/* store_pg_listen.c: change events between the nodes of one PostgreSQL database
 * (docs/cluster.md "Change events").
 *
 * The committer's transaction ends with one pg_notify on the channel postamt_events
 * per account and op (store_pg_notify, called by store_pg_txn before COMMIT: the
 * notifications go out only if the changes commit, in commit order). The payload
 * carries the store_events themselves, so that a node raises for another node's change
 * exactly the events its own committer raises for its own:
 *
 *     1 ORIGIN ACCOUNT KIND,MAILBOX,UID,UID_LAST,COUNT,MODSEQ [KIND,...]...
 *
 * (decimal numbers; ORIGIN is the sending store's 16 hex digits, new at each open).
 * A server's store (opt.watch_ms > 0) keeps one more connection that does LISTEN,
 * waited on by a thread of its own blocked in poll() on its socket and a wake-up
 * pipe; each notification from another store becomes store_events_publish (its own
 * were published by its committer already and are skipped). A lost connection is
 * reopened by the thread, at once and then after 0.1 s doubling up to 5 s; once it
 * listens again every account with subscribers gets STORE_EV_RESYNC, so that IDLE,
 * NOTIFY and JMAP push ask the store what changed since their MODSEQ, because what
 * other nodes committed in between was not heard. */
#include "store_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define EVENT_MIN 12 /* "0,0,0,0,0,0 ": the shortest event in a payload */

struct pg_listener {
	struct store *s;
	pthread_t thread;
	int wake[2];   /* a byte written to wake[1] stops the thread */
	PGconn *pc;    /* NULL while not connected */
	struct store_event evs[STORE_PG_PAYLOAD / EVENT_MIN + 1];
};

/* ------------------------------------------------------------------ the payload */

size_t store_pg_payload_format(char *out, size_t size, const char *origin, const struct store_event *ev, size_t n)
{
	assert(n > 0 && size >= STORE_PG_PAYLOAD);
	int len = snprintf(out, size, "1 %s %lld", origin, (long long)ev[0].account_id);
	assert(len > 0 && (size_t)len < size);
	size_t i = 0;
	for (; i < n && ev[i].account_id == ev[0].account_id; i++) {
		char one[128];
		int k = snprintf(one, sizeof(one), " %d,%lld,%u,%u,%u,%llu", (int)ev[i].kind,
				 (long long)ev[i].mailbox_id, ev[i].uid, ev[i].uid_last, ev[i].count,
				 (unsigned long long)ev[i].modseq);
		assert(k > 0 && (size_t)k < sizeof(one));
		if ((size_t)len + (size_t)k >= size)
			break;
		memcpy(out + len, one, (size_t)k + 1);
		len += k;
	}
	assert(i > 0); /* one event always fits in STORE_PG_PAYLOAD */
	return i;
}

/* A decimal number up to max, then the character end ('\0' not consumed). */
static bool take(const char **pp, uint64_t max, char end, uint64_t *v_r)
{
	const char *p = *pp;
	uint64_t v = 0;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (d > max || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (*p != end)
		return false;
	*pp = end != '\0' ? p + 1 : p;
	*v_r = v;
	return true;
}

int store_pg_payload_parse(const char *p, char origin_r[STORE_PG_ORIGIN], struct store_event *ev_r, size_t max)
{
	if (strncmp(p, "1 ", 2) != 0)
		return -1;
	p += 2;
	size_t k = 0;
	for (; k < STORE_PG_ORIGIN - 1 && ((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' && p[k] <= 'f')); k++)
		origin_r[k] = p[k];
	if (k != STORE_PG_ORIGIN - 1 || p[k] != ' ')
		return -1;
	origin_r[k] = '\0';
	p += k + 1;
	uint64_t account;
	if (!take(&p, INT64_MAX, ' ', &account) || account == 0)
		return -1;
	size_t n = 0;
	while (*p != '\0') {
		uint64_t kind, mailbox, uid, uid_last, count, modseq;
		const char *sp = strchr(p, ' ');
		char end = sp != NULL ? ' ' : '\0';
		if (n == max || !take(&p, STORE_EV_MAILBOX_CHANGED, ',', &kind) || !take(&p, INT64_MAX, ',', &mailbox) ||
		    !take(&p, UINT32_MAX, ',', &uid) || !take(&p, UINT32_MAX, ',', &uid_last) ||
		    !take(&p, UINT32_MAX, ',', &count) || !take(&p, UINT64_MAX, end, &modseq))
			return -1;
		if (end == ' ' && *p == '\0')
			return -1; /* a trailing space */
		ev_r[n++] = (struct store_event){
			.kind = (enum store_event_kind)kind, .account_id = (int64_t)account,
			.mailbox_id = (int64_t)mailbox, .uid = (uint32_t)uid, .uid_last = (uint32_t)uid_last,
			.count = (uint32_t)count, .modseq = modseq,
		};
	}
	return n > 0 ? (int)n : -1;
}

/* ------------------------------------------------------------------ sending */

int store_pg_notify(struct store *s, struct sql_conn *q, const struct store_op *batch)
{
	assert(sql_engine(q) == SQL_PG);
	char *all = NULL; /* the payloads, one a line */
	size_t len = 0, cap = 0;
	char one[STORE_PG_PAYLOAD];
	for (const struct store_op *op = batch; op != NULL; op = op->next) {
		if (op->result < 0)
			continue; /* rolled back to its savepoint: nothing happened */
		for (size_t i = 0; i < op->nevents;) {
			i += store_pg_payload_format(one, sizeof(one), s->pg_origin, op->events + i, op->nevents - i);
			size_t k = strlen(one);
			if (len + k + 2 > cap) {
				cap = (len + k + 2) * 2;
				all = xrealloc(all, cap);
			}
			if (len > 0)
				all[len++] = '\n';
			memcpy(all + len, one, k + 1);
			len += k;
		}
	}
	if (len == 0)
		return SQL_DONE;
	struct sql_stmt *st = sql_prepare(q, "SELECT pg_notify('" STORE_PG_CHANNEL "', p)"
					     " FROM unnest(string_to_array(?, chr(10))) AS p");
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_text(st, 1, all);
		rc = sql_step_done(st);
	}
	free(all);
	return rc;
}

/* ------------------------------------------------------------------ the listener */

/* The first line of PQerrorMessage, into out (a log line has one line). */
static void pq_error(PGconn *pc, char *out, size_t size)
{
	const char *m = pc != NULL ? PQerrorMessage(pc) : "out of memory";
	snprintf(out, size, "%.*s", (int)strcspn(m, "\n"), m);
}

static void pq_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* the server's FATAL before it closes: the failure that follows is logged */
}

/* Connects and LISTENs; NULL with the reason in err. The store's conninfo may set any
 * of the defaults before it (a dead server is noticed by the keepalives within ~25 s
 * even when no packet says so). */
static PGconn *listen_connect(const char *conninfo, char *err, size_t size)
{
	static const char *const keys[] = { "connect_timeout", "keepalives_idle", "keepalives_interval",
					    "keepalives_count", "application_name", "dbname", NULL };
	const char *const vals[] = { "5", "10", "5", "3", "postamt listen", conninfo, NULL };
	PGconn *pc = PQconnectdbParams(keys, vals, 1);
	if (pc != NULL)
		PQsetNoticeProcessor(pc, pq_notice, NULL);
	PGresult *r = NULL;
	if (pc != NULL && PQstatus(pc) == CONNECTION_OK)
		r = PQexec(pc, "LISTEN " STORE_PG_CHANNEL);
	if (r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK && PQsetnonblocking(pc, 1) == 0) {
		PQclear(r);
		return pc;
	}
	pq_error(pc, err, size);
	PQclear(r);
	PQfinish(pc);
	return NULL;
}

/* Waits up to ms for the stop byte: true when the thread is to stop. */
static bool stop_wait(struct pg_listener *l, int ms)
{
	struct pollfd pf = { .fd = l->wake[0], .events = POLLIN };
	return poll(&pf, 1, ms) > 0;
}

static void dispatch(struct pg_listener *l, const char *payload)
{
	char origin[STORE_PG_ORIGIN];
	int n = store_pg_payload_parse(payload, origin, l->evs, sizeof(l->evs) / sizeof(l->evs[0]));
	if (n < 0) {
		log_warn("event=store_pg_listen_bad_payload length=%zu", strlen(payload));
		return;
	}
	if (strcmp(origin, l->s->pg_origin) == 0)
		return; /* this store's committer published these */
	store_events_publish(l->s, l->evs, (size_t)n);
}

static void *listen_main(void *arg)
{
	struct pg_listener *l = arg;
	int backoff = 0; /* ms before the next connection attempt */
	for (;;) {
		if (l->pc == NULL) {
			if (backoff > 0 && stop_wait(l, backoff))
				break;
			char err[512];
			l->pc = listen_connect(l->s->pg_conninfo, err, sizeof(err));
			if (l->pc == NULL) {
				backoff = backoff == 0 ? BACKOFF_FIRST_MS
							: backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
				log_warn("event=store_pg_listen_unavailable retry_ms=%d error=\"%s\"", backoff, err);
				continue;
			}
			backoff = 0;
			/* listening again: what the others committed meanwhile was not heard */
			size_t n = store_events_resync(l->s);
			log_info("event=store_pg_listen_resync accounts=%zu", n);
		}
		struct pollfd pf[2] = {
			{ .fd = PQsocket(l->pc), .events = POLLIN },
			{ .fd = l->wake[0], .events = POLLIN },
		};
		if (poll(pf, 2, -1) < 0) {
			if (errno != EINTR) { /* ENOMEM: try again a little later */
				log_error("event=store_pg_listen_poll errno=%d", errno);
				if (stop_wait(l, BACKOFF_FIRST_MS))
					break;
			}
			continue;
		}
		if (pf[1].revents != 0)
			break;
		if (PQconsumeInput(l->pc) == 0 || PQstatus(l->pc) != CONNECTION_OK) {
			char err[512];
			pq_error(l->pc, err, sizeof(err));
			log_warn("event=store_pg_listen_lost error=\"%s\"", err);
			PQfinish(l->pc);
			l->pc = NULL;
			continue; /* at once: a killed backend comes back in a few ms */
		}
		PGnotify *nf;
		while ((nf = PQnotifies(l->pc)) != NULL) {
			dispatch(l, nf->extra);
			PQfreemem(nf);
		}
	}
	return NULL;
}

void store_pg_listen_start(struct store *s)
{
	unsigned char rnd[(STORE_PG_ORIGIN - 1) / 2];
	size_t got = 0;
	while (got < sizeof(rnd)) {
		ssize_t r = getrandom(rnd + got, sizeof(rnd) - got, 0);
		assert(r > 0 || errno == EINTR); /* the kernel has had entropy since boot */
		if (r > 0)
			got += (size_t)r;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(s->pg_origin + 2 * i, 3, "%02x", rnd[i]);
	if (s->opt.watch_ms <= 0)
		return; /* a command: its changes are sent, nobody here waits for others' */
	struct pg_listener *l = xcalloc(1, sizeof(*l));
	l->s = s;
	if (pipe2(l->wake, O_CLOEXEC) < 0) {
		log_error("event=store_pg_listen_failed errno=%d", errno);
		free(l);
		return;
	}
	char err[512];
	l->pc = listen_connect(s->pg_conninfo, err, sizeof(err));
	if (l->pc == NULL)
		log_warn("event=store_pg_listen_unavailable error=\"%s\"", err);
	else
		log_info("event=store_pg_listen channel=" STORE_PG_CHANNEL " origin=%s", s->pg_origin);
	s->pg_listen = l;
	pthread_create(&l->thread, NULL, listen_main, l);
}

void store_pg_listen_stop(struct store *s)
{
	struct pg_listener *l = s->pg_listen;
	if (l == NULL)
		return;
	s->pg_listen = NULL;
	char c = 1;
	while (write(l->wake[1], &c, 1) < 0 && errno == EINTR)
		;
	pthread_join(l->thread, NULL);
	PQfinish(l->pc);
	close(l->wake[0]);
	close(l->wake[1]);
	free(l);
}
