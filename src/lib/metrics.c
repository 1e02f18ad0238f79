/* metrics.c: the counter table and its text form (metrics.h).
 *
 * Each series has a row in `defs` naming its family, type, help text and label set;
 * rows of one family are adjacent, so the formatter writes # HELP and # TYPE when the
 * family changes. The exposition follows the Prometheus text format 0.0.4: counters
 * end in _total, the histogram has cumulative `le` buckets, _sum and _count. */
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static _Atomic uint64_t table[M_COUNT_ALL];
static _Atomic uint64_t latency_buckets[METRICS_LATENCY_BUCKETS];
static _Atomic uint64_t latency_sum_ms, latency_count;
static const double latency_bounds[METRICS_LATENCY_BUCKETS] = { 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 300, 3600, 86400 };

static const char *const proto_names[MP_COUNT] = { "smtp", "pop3", "imap", "http", "sieve", "other" };
static const char *const kind_names[MK_COUNT] = { "mx", "submission", "webmail", "bounce" };
static const char *const verdict_names[MV_COUNT] = { "accepted", "junk", "refused", "tempfail" };
static const char *const reason_names[MR_COUNT] = { "policy", "dnsbl", "relay", "unknown_recipient", "sender", "quota",
						    "size",   "rate",  "other" };

void metrics_add(enum metric m, uint64_t n)
{
	atomic_fetch_add_explicit(&table[m], n, memory_order_relaxed);
}

void metrics_gauge_add(enum metric m, int64_t d)
{
	atomic_fetch_add_explicit(&table[m], (uint64_t)d, memory_order_relaxed);
}

uint64_t metrics_get(enum metric m)
{
	return atomic_load_explicit(&table[m], memory_order_relaxed);
}

enum metric_proto metrics_proto(const char *proto)
{
	for (int i = 0; i < MP_OTHER; i++)
		if (strcmp(proto, proto_names[i]) == 0)
			return (enum metric_proto)i;
	return MP_OTHER;
}

void metrics_observe_latency_ms(uint64_t ms)
{
	for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++)
		if ((double)ms <= latency_bounds[i] * 1000) {
			atomic_fetch_add_explicit(&latency_buckets[i], 1, memory_order_relaxed);
			break;
		}
	atomic_fetch_add_explicit(&latency_sum_ms, ms, memory_order_relaxed);
	atomic_fetch_add_explicit(&latency_count, 1, memory_order_relaxed);
}

static void family(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void series(struct buf *out, const char *name, const char *labels, enum metric m, bool gauge)
{
	uint64_t v = metrics_get(m);
	if (gauge)
		buf_printf(out, "%s%s %lld\n", name, labels, (long long)(int64_t)v);
	else
		buf_printf(out, "%s%s %llu\n", name, labels, (unsigned long long)v);
}

void metrics_format(struct buf *out)
{
	char l[128];
	family(out, "postamt_connections_open", "gauge", "Connections open now, by protocol.");
	for (int p = 0; p < MP_COUNT; p++) {
		snprintf(l, sizeof(l), "{protocol=\"%s\"}", proto_names[p]);
		series(out, "postamt_connections_open", l, M_CONN_OPEN + p, true);
	}
	family(out, "postamt_connections_total", "counter", "Connections accepted, by protocol.");
	for (int p = 0; p < MP_COUNT; p++) {
		snprintf(l, sizeof(l), "{protocol=\"%s\"}", proto_names[p]);
		series(out, "postamt_connections_total", l, M_CONN_TOTAL + p, false);
	}
	family(out, "postamt_logins_total", "counter", "Password checks, by protocol and result.");
	for (int p = 0; p < MP_COUNT; p++) {
		snprintf(l, sizeof(l), "{protocol=\"%s\",result=\"ok\"}", proto_names[p]);
		series(out, "postamt_logins_total", l, M_LOGIN_OK + p, false);
		snprintf(l, sizeof(l), "{protocol=\"%s\",result=\"failed\"}", proto_names[p]);
		series(out, "postamt_logins_total", l, M_LOGIN_FAILED + p, false);
	}
	family(out, "postamt_messages_received_total", "counter",
	       "Messages through the pipeline, by kind (mx: port 25) and verdict.");
	for (int k = 0; k < MK_COUNT; k++)
		for (int v = 0; v < MV_COUNT; v++) {
			snprintf(l, sizeof(l), "{kind=\"%s\",verdict=\"%s\"}", kind_names[k], verdict_names[v]);
			series(out, "postamt_messages_received_total", l, M_RECEIVED + k * MV_COUNT + v, false);
		}
	family(out, "postamt_refused_total", "counter", "Messages and recipients refused, by reason.");
	for (int r = 0; r < MR_COUNT; r++) {
		snprintf(l, sizeof(l), "{reason=\"%s\"}", reason_names[r]);
		series(out, "postamt_refused_total", l, M_REFUSED + r, false);
	}
	family(out, "postamt_delivered_local_total", "counter", "Copies stored in local mailboxes.");
	series(out, "postamt_delivered_local_total", "", M_DELIVERED_LOCAL, false);
	family(out, "postamt_outbound_total", "counter",
	       "Outbound recipients: sent, deferred (an attempt failed temporarily), bounced.");
	series(out, "postamt_outbound_total", "{result=\"sent\"}", M_OUT_SENT, false);
	series(out, "postamt_outbound_total", "{result=\"deferred\"}", M_OUT_DEFERRED, false);
	series(out, "postamt_outbound_total", "{result=\"bounced\"}", M_OUT_BOUNCED, false);
	family(out, "postamt_imap_idle_sessions", "gauge", "IMAP sessions in IDLE now.");
	series(out, "postamt_imap_idle_sessions", "", M_IMAP_IDLE, true);
	family(out, "postamt_admin_actions_total", "counter", "Changes made through the admin API.");
	series(out, "postamt_admin_actions_total", "", M_ADMIN_ACTIONS, false);
	family(out, "postamt_delivery_seconds", "histogram",
	       "Time from a message's arrival to its local copy stored or its remote delivery.");
	uint64_t cum = 0;
	for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
		cum += atomic_load_explicit(&latency_buckets[i], memory_order_relaxed);
		buf_printf(out, "postamt_delivery_seconds_bucket{le=\"%g\"} %llu\n", latency_bounds[i],
			   (unsigned long long)cum);
	}
	uint64_t count = atomic_load_explicit(&latency_count, memory_order_relaxed);
	buf_printf(out, "postamt_delivery_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)count);
	buf_printf(out, "postamt_delivery_seconds_sum %.3f\n",
		   (double)atomic_load_explicit(&latency_sum_ms, memory_order_relaxed) / 1000.0);
	buf_printf(out, "postamt_delivery_seconds_count %llu\n", (unsigned long long)count);
}

void metrics_format_gauge(struct buf *out, const char *name, const char *help, double value)
{
	family(out, name, "gauge", help);
	buf_printf(out, "%s %.17g\n", name, value);
}

uint64_t metrics_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL)
		return 0;
	unsigned long long size = 0, rss = 0;
	int n = fscanf(f, "%llu %llu", &size, &rss);
	fclose(f);
	long page = sysconf(_SC_PAGESIZE);
	return n == 2 && page > 0 ? rss * (uint64_t)page : 0;
}

/* The ring: the second mutable state of this file, behind its mutex. */
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_ev *ring;
static size_t ring_cap, ring_len, ring_head; /* head: where the next event goes */

void metrics_events_init(size_t n)
{
	pthread_mutex_lock(&ring_lock);
	struct metrics_ev *nr = n > 0 ? calloc(n, sizeof(*nr)) : NULL;
	size_t keep = ring_len < n ? ring_len : n;
	for (size_t i = 0; i < keep; i++) /* oldest kept first */
		nr[i] = ring[(ring_head + ring_cap - keep + i) % ring_cap];
	free(ring);
	ring = nr;
	ring_cap = nr != NULL ? n : 0;
	ring_len = keep;
	ring_head = ring_cap > 0 ? keep % ring_cap : 0;
	pthread_mutex_unlock(&ring_lock);
}

void metrics_event(const char *what, const char *from, const char *to, const char *detail)
{
	pthread_mutex_lock(&ring_lock);
	if (ring_cap > 0) {
		struct metrics_ev *e = &ring[ring_head];
		e->time = (int64_t)time(NULL);
		snprintf(e->what, sizeof(e->what), "%s", what != NULL ? what : "");
		snprintf(e->from, sizeof(e->from), "%s", from != NULL ? from : "");
		snprintf(e->to, sizeof(e->to), "%s", to != NULL ? to : "");
		snprintf(e->detail, sizeof(e->detail), "%s", detail != NULL ? detail : "");
		ring_head = (ring_head + 1) % ring_cap;
		if (ring_len < ring_cap)
			ring_len++;
	}
	pthread_mutex_unlock(&ring_lock);
}

size_t metrics_events_find(const char *query, struct metrics_ev *out, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&ring_lock);
	for (size_t i = 0; i < ring_len && n < max; i++) {
		const struct metrics_ev *e = &ring[(ring_head + ring_cap - 1 - i) % ring_cap];
		if (query == NULL || query[0] == '\0' || strcasestr(e->from, query) != NULL ||
		    strcasestr(e->to, query) != NULL)
			out[n++] = *e;
	}
	pthread_mutex_unlock(&ring_lock);
	return n;
}

size_t metrics_events_count(const char *what, int64_t since)
{
	size_t n = 0;
	pthread_mutex_lock(&ring_lock);
	for (size_t i = 0; i < ring_len; i++) {
		const struct metrics_ev *e = &ring[(ring_head + ring_cap - 1 - i) % ring_cap];
		if (e->time < since)
			break;
		n += strcmp(e->what, what) == 0;
	}
	pthread_mutex_unlock(&ring_lock);
	return n;
}
