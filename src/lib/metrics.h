/* metrics.h: the server's counters for GET /metrics (Prometheus text format 0.0.4)
 * and the admin dashboard.
 *
 * Every counter and gauge is one relaxed atomic in a process-wide table: the hot
 * paths (a connection opens, a login ends, a message is received or delivered) pay
 * one `lock xadd`, no lock and no allocation. Like log.c's threshold, the table is
 * the one mutable state outside a session, and it is atomic. Series with labels are
 * blocks of the enum (a protocol, a kind and a verdict, a reason) so that the label
 * is an index, never a string looked up on the hot path. metrics_format writes the
 * whole table; values that are read at scrape time (queue size, store size,
 * certificate expiry, pool queues) are added by the caller with metrics_format_gauge. */
#ifndef POSTAMT_LIB_METRICS_H
#define POSTAMT_LIB_METRICS_H

#include "buf.h"

#include <stdint.h>

/* Protocols of the per-protocol series (metrics_proto maps the handler's name). */
enum metric_proto { MP_SMTP, MP_POP3, MP_IMAP, MP_HTTP, MP_SIEVE, MP_OTHER, MP_COUNT };
/* Kinds of received messages (the pipeline's submit_kind) and their verdicts. */
enum metric_kind { MK_MX, MK_SUBMISSION, MK_WEBMAIL, MK_BOUNCE, MK_COUNT };
enum metric_verdict { MV_ACCEPTED, MV_JUNK, MV_REFUSED, MV_TEMPFAIL, MV_COUNT };
/* Why a message or recipient was refused. */
enum metric_reason {
	MR_POLICY,       /* a hook: DMARC, rspamd, Sieve reject */
	MR_DNSBL,        /* a blocklist at RCPT */
	MR_RELAY,        /* relaying denied */
	MR_UNKNOWN_RCPT, /* no such local recipient */
	MR_SENDER,       /* the sender or From: not the user's */
	MR_QUOTA,        /* a mailbox full, or the disk */
	MR_SIZE,         /* too big */
	MR_RATE,         /* hourly send limits */
	MR_OTHER,
	MR_COUNT
};

enum metric {
	M_CONN_OPEN,                                  /* gauge, + enum metric_proto */
	M_CONN_TOTAL = M_CONN_OPEN + MP_COUNT,        /* + enum metric_proto */
	M_LOGIN_OK = M_CONN_TOTAL + MP_COUNT,         /* + enum metric_proto */
	M_LOGIN_FAILED = M_LOGIN_OK + MP_COUNT,       /* + enum metric_proto */
	M_RECEIVED = M_LOGIN_FAILED + MP_COUNT,       /* + kind * MV_COUNT + verdict */
	M_REFUSED = M_RECEIVED + MK_COUNT * MV_COUNT, /* + enum metric_reason */
	M_DELIVERED_LOCAL = M_REFUSED + MR_COUNT,     /* local copies stored */
	M_OUT_SENT,                                   /* outbound recipients delivered */
	M_OUT_DEFERRED,                               /* outbound attempts that failed temporarily */
	M_OUT_BOUNCED,                                /* outbound recipients failed for good */
	M_IMAP_IDLE,                                  /* gauge: IMAP sessions in IDLE */
	M_ADMIN_ACTIONS,                              /* admin API changes */
	M_COUNT_ALL
};

/* Upper bounds (seconds) of the delivery latency histogram's buckets (+Inf added). */
#define METRICS_LATENCY_BUCKETS 10

/* Adds n (relaxed; from any thread). */
void metrics_add(enum metric m, uint64_t n);
static inline void metrics_inc(enum metric m)
{
	metrics_add(m, 1);
}
/* For gauges: adds d, which may be negative. */
void metrics_gauge_add(enum metric m, int64_t d);
/* The current value. */
uint64_t metrics_get(enum metric m);
/* The index of a protocol name ("smtp", "imap", ...; MP_OTHER for any other). */
enum metric_proto metrics_proto(const char *proto);
/* One delivery's latency (from arrival to stored or sent), milliseconds. */
void metrics_observe_latency_ms(uint64_t ms);
/* Appends every series of the table, with # HELP and # TYPE lines. */
void metrics_format(struct buf *out);
/* Appends one gauge read at scrape time: # HELP, # TYPE and `name value`. */
void metrics_format_gauge(struct buf *out, const char *name, const char *help, double value);
/* The recent-events ring for the admin pages: the last deliveries and refusals,
 * bounded (metrics_events_init; 0 entries until then, and recording is a no-op), under
 * one mutex (an event is a message's or recipient's end, not a per-byte path). */
struct metrics_ev {
	int64_t time;  /* unix seconds */
	char what[16]; /* "delivered" (local), "sent", "deferred", "bounced", "refused" */
	char from[128];
	char to[256]; /* one address, or several separated by ", " */
	char detail[192];
};
/* Sets the ring's size (admin.recent_events); keeps the newest entries that fit. */
void metrics_events_init(size_t n);
/* Records an event; strings are cut to fit, NULL is "". */
void metrics_event(const char *what, const char *from, const char *to, const char *detail);
/* Copies up to max events, newest first, whose from or to contains query
 * (case-insensitive; NULL or "" matches all). Returns how many. */
size_t metrics_events_find(const char *query, struct metrics_ev *out, size_t max);
/* Counts the events of kind what since unix time since. */
size_t metrics_events_count(const char *what, int64_t since);
/* The process's resident set size in bytes (/proc/self/statm), 0 if unknown. */
uint64_t metrics_rss_bytes(void);

#endif
