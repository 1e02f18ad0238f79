/* queue.h: the outbound mail queue (the queue module's only public API).
 *
 * The message pipeline (src/submit) hands every message with remote recipients to
 * queue_submit(), which returns
 * only when the message and its envelope are on stable storage under DIR/queue, so
 * the 250 after DATA can be sent. The queue then delivers on its own thread (one
 * event loop, started by queue_start): per destination domain it takes the route
 * from the configuration or looks up MX (libunbound, asynchronously), talks SMTP
 * to the destination (opportunistic STARTTLS, PIPELINING, SIZE, 8BITMIME, DSN),
 * retries temporary failures with exponential backoff and, on permanent failure or
 * expiry, sends an RFC 3464 delivery status notification to the envelope sender
 * (through the pipeline, queue_set_bounce: into the store when the sender is local,
 * through the queue otherwise). A message
 * leaves DIR/queue only when every recipient is delivered or bounced. The on-disk
 * format is described in docs/queue.md.
 *
 * queue_list() and queue_flush() work on the directory alone (the CLI uses them
 * while a server may be running); flush leaves a trigger file that a running queue
 * notices within a second.
 *
 * Return convention (DESIGN.md §4.7): >0 done, <0 error with *error_r (static text
 * or text owned by the queue, valid until the next call on the same thread). */
#ifndef POSTAMT_QUEUE_H
#define POSTAMT_QUEUE_H

#include "arena.h"
#include "smtp_args.h" /* SMTP_NOTIFY_*, enum smtp_ret */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct queue;
struct dns;
struct store;

#define QUEUE_ID_MAX 32 /* bytes of a queue id including the NUL */

/* A configured route: mail for domain ("*": every domain) goes to host:port. With
 * auth_user the queue logs in to that host (a smarthost) with AUTH PLAIN, only ever
 * inside TLS: after STARTTLS, or on implicit TLS (port-465 relays). */
struct queue_route {
	const char *domain;
	const char *host; /* a name or an IP address */
	uint16_t port;
	const char *auth_user;     /* NULL: no login */
	const char *auth_password; /* never logged */
	bool implicit_tls;         /* TLS from the first byte (RFC 8314), never in the clear */
};

/* Settings. Zero means the default in brackets. Strings and arrays are copied by
 * queue_open. */
struct queue_settings {
	const char *hostname;         /* EHLO name, MAILER-DAEMON@hostname [gethostname] */
	unsigned retry_initial;       /* seconds before the first retry [300] */
	unsigned retry_max;           /* backoff doubles up to this [14400] */
	unsigned lifetime;            /* give up (bounce) after this many seconds [432000] */
	unsigned concurrency_per_dest;/* connections per destination [4] */
	unsigned concurrency_total;   /* connections overall [20] */
	/* RFC 5321 §4.5.3.2 timeouts, seconds */
	unsigned timeout_connect;     /* TCP connect [30] */
	unsigned timeout_command;     /* greeting, EHLO, MAIL, RCPT, QUIT [300] */
	unsigned timeout_data_init;   /* reply to DATA [120] */
	unsigned timeout_data_block;  /* sending each block of data [180] */
	unsigned timeout_data_end;    /* reply after the final dot [600] */
	uint16_t smtp_port;           /* port of MX hosts [25] */
	const struct queue_route *routes;
	size_t nroutes;
	struct dns *dns;              /* the server's resolver (not owned; outlives the queue);
	                               * NULL: the queue makes its own from the two below */
	const char *dns_server;       /* dns.server for the queue's own resolver [recursion] */
	const char *const *dns_data;  /* tests: local records for the resolver, NULL-ended,
	                               * e.g. "remote.test. MX 10 mx.remote.test." */
	bool no_starttls;             /* never try STARTTLS */
	struct store *store;          /* with store_queue_shared(store) (PostgreSQL) the
	                               * messages live in the store, shared by every node
	                               * (docs/cluster.md); else in DIR/queue. Not owned. */
	unsigned lease;               /* shared: seconds a node holds a message it
	                               * delivers, extended while it runs [60] */
	bool no_fsync;                /* tests only */
};

/* One recipient of a submitted message. */
struct queue_rcpt {
	const char *address; /* canonical mailbox, local@domain */
	unsigned notify;     /* SMTP_NOTIFY_* bits, 0: not given (failures are reported) */
	const char *orcpt;   /* ORCPT as received ("rfc822;xtext"), NULL or "" if none */
};

/* A message to queue. */
struct queue_msg {
	const char *sender;            /* envelope sender; "" for the null path (bounces) */
	const struct queue_rcpt *rcpts;
	size_t nrcpts;                 /* at least 1 */
	const char *envid;             /* ENVID xtext, NULL or "" if none */
	enum smtp_ret ret;             /* RET=, SMTP_RET_NONE: headers only */
	bool smtputf8;                 /* the transaction declared SMTPUTF8 */
	const char *auth_user;         /* authenticated user, NULL if none (logged) */
	const char *data;              /* the message, CRLF, Received header included */
	size_t len;
};

/* Opens the queue in data_dir (creates DIR/queue), removes half-written files and
 * loads every queued message. Returns the queue, or NULL with *error_r. Does not
 * deliver until queue_start. */
struct queue *queue_open(const char *data_dir, const struct queue_settings *s, const char **error_r);

/* Where bounces go: the message pipeline (serve.c wires submit_bounce, so a bounce
 * is resolved, traced, hooked and committed like any message). to is the failed
 * message's sender, data the DSN (RFC 3464). Returns 1 when the bounce is stored or
 * queued, 0 when it is dropped for good (no such local address), <0 with *error_r to
 * try again later. Runs on the queue's thread and may block. */
typedef int queue_bounce_fn(void *ctx, const char *to, const char *data, size_t len, const char **error_r);
/* Sets the bounce path before queue_start. Without one (tests), a bounce is queued
 * for `to` like any outbound message. */
void queue_set_bounce(struct queue *q, queue_bounce_fn *fn, void *ctx);
/* Starts delivery on a thread of the queue's own (one event loop; it also does the
 * queue's fsyncs, so they never stall the worker loops). Returns 1, or -1. */
int queue_start(struct queue *q, const char **error_r);
/* Stops delivery (connections in progress are dropped, their recipients stay
 * queued), frees everything; *qp = NULL. Everything queued stays on disk. */
void queue_close(struct queue **qp);

/* Queues one message. Returns 1 once the message file and its directory entry are
 * fsynced, with the queue id in id_r (QUEUE_ID_MAX bytes, may be NULL); -1 with
 * *error_r on an I/O error (answer 451 4.3.0). Safe from any thread; it blocks for
 * about one fsync, so call it from the worker pool. Delivery starts at once. */
int queue_submit(struct queue *q, const struct queue_msg *m, char *id_r, const char **error_r);

/* Replaces the host name and the routes (copied) for deliveries that start from
 * now on; connections in progress keep their route. Safe from any thread; the
 * queue's thread takes them before it next looks at its messages. */
void queue_reload(struct queue *q, const char *hostname, const struct queue_route *routes, size_t nroutes);
/* Makes every queued message due now (same as `postamt queue flush`). Any thread. */
void queue_flush_now(struct queue *q);

/* ---------------------------------------------------------------- for the admin */

enum queue_action {
	QUEUE_ACT_RETRY,  /* every pending recipient is due now */
	QUEUE_ACT_DELETE, /* removed without a bounce */
	QUEUE_ACT_BOUNCE, /* pending recipients fail now (5.0.0); the sender gets the DSN */
	QUEUE_ACT_STATS,  /* internal: queue_stats */
};
/* Acts on message id of the running queue (queue_admin.c). Blocks until the queue's
 * loop did it (at most a few seconds; never call it on the queue's thread). Returns 1,
 * 0 when there is no such message, -1 with *error_r (static text: not running, no
 * answer, or the message is being delivered right now). */
int queue_act(struct queue *q, const char *id, enum queue_action act, const char **error_r);
/* The number of queued messages and the creation time of the oldest (0 if none), as
 * the running queue sees them. Same blocking and returns as queue_act. */
int queue_stats(struct queue *q, size_t *nmsgs_r, time_t *oldest_r, const char **error_r);

/* ---------------------------------------------------------------- for the CLI */

enum queue_rcpt_state { QUEUE_RCPT_PENDING, QUEUE_RCPT_DELIVERED, QUEUE_RCPT_FAILED };

struct queue_entry_rcpt {
	const char *address;
	enum queue_rcpt_state state;  /* FAILED: its bounce is sent or being sent */
	unsigned attempts;            /* attempts that failed temporarily */
	time_t next_attempt;          /* PENDING: 0 or a past time means due now */
	const char *last_error;       /* last reply or failure, "" if none */
};
struct queue_entry {
	char id[QUEUE_ID_MAX];
	time_t created;
	time_t next_attempt; /* 0: due now */
	unsigned attempts;
	const char *sender;
	uint64_t size;
	struct queue_entry_rcpt *rcpts;
	size_t nrcpts;
};
/* Reads DIR/queue without opening a queue (safe while a server runs); with a store
 * whose queue is shared (PostgreSQL), its rows instead (store NULL: the files).
 * Entries are in order of creation, in the arena. Returns 1 (also when empty), -1
 * with *error_r. */
int queue_list(const char *data_dir, struct store *store, struct arena *a, struct queue_entry **entries_r,
	       size_t *n_r, const char **error_r);
/* Asks a running (or the next started) queue to retry every message now, by creating
 * DIR/queue/flush; on a shared queue it makes every pending recipient due in the
 * database, which the nodes' next claims (within a second) see. Returns 1, or -1
 * with *error_r. */
int queue_flush(const char *data_dir, struct store *store, const char **error_r);

#endif
