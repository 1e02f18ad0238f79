/* queue_int.h: what the files of the queue module share and nobody else sees.
 *
 * queue_spool.c  the files under DIR/queue: encoding, atomic writes, recovery
 * queue_files.c  the backend on those files (the default)
 * queue_pg.c     the backend on the store's rows (PostgreSQL: shared by nodes, leases)
 * queue_dsn.c    RFC 3464 delivery status notifications (pure)
 * queue_dns.c    MX and address lookups through src/dns, answered on the queue's loop
 * queue_client.c the SMTP client for one connection attempt
 * queue_deliver.c the scheduler: jobs per destination, limits, results
 * queue_msgs.c   the message list, backoff, the end of a message and its bounce
 * queue.c        open/start/close/submit, the tick, the CLI views */
#ifndef POSTAMT_QUEUE_INT_H
#define POSTAMT_QUEUE_INT_H

#include "queue.h"

#include "buf.h"

#include <pthread.h>
#include <sys/socket.h>

struct event_base;
struct event;
struct loop;

/* ---------------------------------------------------------------- messages */

struct qrcpt {
	char *address;
	const char *domain; /* into address, after the last '@' */
	unsigned notify;
	char *orcpt;       /* NULL if none */
	enum queue_rcpt_state state;
	int code;          /* last reply code, 0 if none */
	char enh[16];      /* last enhanced status, "" if none */
	char *diag;        /* last reply text or failure, NULL if none */
	char *remote_mta;  /* host that gave the last reply, NULL if none */
	unsigned attempts; /* attempts that ended in a temporary failure */
	time_t next;       /* next attempt, 0: due */
	bool reported;     /* FAILED and its bounce has been sent (state "bounced") */
	bool busy;         /* a job is delivering to it now */
};

struct qmsg {
	char id[QUEUE_ID_MAX];
	time_t created;
	char *sender;
	char *envid;       /* NULL if none */
	enum smtp_ret ret;
	bool smtputf8;
	char *auth_user;   /* NULL if none */
	uint64_t size;     /* message bytes */
	uint64_t offset;   /* where the message starts in the data file */
	struct qrcpt *rcpts;
	size_t nrcpts;
	unsigned attempts; /* the most attempts of a recipient (for listings) */
	time_t next;       /* earliest next attempt of a pending recipient */
	int jobs;          /* jobs running for it */
	struct qmsg *prev, *nextm;
};

void queue_msg_free(struct qmsg **mp);
/* Recomputes m->attempts and m->next from the recipients. Returns the number of
 * pending recipients. */
size_t queue_msg_summarize(struct qmsg *m);

/* ---------------------------------------------------------------- spool */

/* Encodes the immutable header of the data file (everything before the message). */
void queue_spool_header_encode(const struct qmsg *m, struct buf *out);
/* Parses a data file's header from data (the whole file or its start). Returns 1 with
 * a new message (its offset and size set), 0 when more bytes are needed, -1 with
 * *error_r if it is not a queue file. */
int queue_spool_header_decode(const char *id, struct bytes data, struct qmsg **m_r, const char **error_r);
/* Encodes / applies the mutable state (per recipient: state, attempts, next attempt,
 * last reply). Decoding also sets m->attempts and m->next (queue_msg_summarize). */
void queue_spool_state_encode(const struct qmsg *m, struct buf *out);
int queue_spool_state_decode(struct qmsg *m, struct bytes data, const char **error_r);

/* Writes header + message as DIR/queue/ID (temp file, fsync, rename, dir fsync);
 * sets m->offset. */
int queue_spool_write_msg(const char *qdir, struct qmsg *m, struct bytes data, bool fsync_on,
		    const char **error_r);
/* Writes DIR/queue/ID.st atomically. */
int queue_spool_write_state(const char *qdir, const struct qmsg *m, bool fsync_on, const char **error_r);
/* Removes ID.st and ID (then fsyncs the directory). */
int queue_spool_remove(const char *qdir, const char *id, bool fsync_on, const char **error_r);
/* Loads every message of qdir, oldest first (recover: remove temp files and orphan
 * state files first). Messages that cannot be read are logged and skipped. Returns
 * the count, -1 on error. Each message is passed to fn. */
typedef void spool_load_fn(void *arg, struct qmsg *m);
int queue_spool_load(const char *qdir, bool recover, spool_load_fn *fn, void *arg, const char **error_r);
/* Reads the message bytes of m into out. */
int queue_spool_read_data(const char *qdir, const struct qmsg *m, struct buf *out, const char **error_r);
/* Makes a new unique id. */
void queue_spool_new_id(char id[QUEUE_ID_MAX]);

/* Escaping of values in the text files: bytes <= 0x20, '%' and 0x7f become %XX. */
void queue_spool_escape(const char *s, struct buf *out);
char *queue_spool_unescape(struct bytes s); /* malloc'd */

/* ---------------------------------------------------------------- backends */

/* Where the queue keeps its messages: DIR/queue (queue_files.c) or the store's rows
 * on PostgreSQL (queue_pg.c), chosen by queue_open. Everything above (submission,
 * scheduling, delivery, bounces, the admin's actions) goes through these. */
enum queue_save { QUEUE_SAVE_KEEP,    /* jobs still run for the message */
		  QUEUE_SAVE_RELEASE, /* the round is over, recipients are pending */
		  QUEUE_SAVE_DONE };  /* every recipient is final: remove the message */
struct queue_backend {
	const char *name;
	/* Loads what this node delivers first (files: every message; PostgreSQL: none,
	 * the tick claims). 1 or -1 with *error_r. */
	int (*open)(struct queue *q, const char **error_r);
	/* Stores a new message for good (any thread); m->id is set. 1 or -1. */
	int (*write_msg)(struct queue *q, struct qmsg *m, struct bytes data, const char **error_r);
	int (*read_data)(struct queue *q, const struct qmsg *m, struct buf *out, const char **error_r);
	/* Writes m's recipients' states. Returns 1; 0 when the message is no longer this
	 * node's (PostgreSQL: its lease was taken over; the caller drops it); -1. */
	int (*save)(struct queue *q, struct qmsg *m, enum queue_save how, const char **error_r);
	/* Once a second on the queue's loop: true when every message should be due now
	 * (files: the flush trigger); PostgreSQL: heartbeat and claims. */
	bool (*tick)(struct queue *q);
	/* After a round with pending recipients the message goes back to the backend
	 * (and leaves memory) instead of waiting in memory for its next attempt. */
	bool shared;
};
extern const struct queue_backend queue_backend_files, queue_backend_pg;
/* queue_pg.c: queue_list on a shared queue. */
int queue_pg_list(struct store *s, struct arena *a, struct queue_entry **entries_r, size_t *n_r,
		  const char **error_r);

/* ---------------------------------------------------------------- backoff */

/* Delay after `attempts` failed rounds (1: initial, then doubling, capped). */
unsigned queue_backoff(unsigned attempts, unsigned initial, unsigned max);

/* ---------------------------------------------------------------- DSN */

struct dsn_input {
	const char *hostname;    /* reporting MTA */
	const char *boundary;    /* MIME boundary (the tests fix it) */
	time_t now;
	const struct qmsg *m;    /* recipients with state FAILED, not yet reported, and
	                          * NOTIFY allowing it are reported */
	struct bytes message;    /* the original message */
};
/* Builds the bounce into out. Returns the number of recipients reported (0: none,
 * out is empty and nothing should be sent). */
int queue_dsn_build(const struct dsn_input *in, struct buf *out);
/* True if r failed, is not reported yet and its NOTIFY is absent or has FAILURE. */
bool queue_dsn_wanted(const struct qrcpt *r);

/* ---------------------------------------------------------------- DNS */

struct qdns;
struct qdns_req;

struct qdns_target {
	char host[256];
	struct sockaddr_storage addr;
	socklen_t addrlen;
};
struct qdns_result {
	int status;        /* 1 found, 0 temporary failure, -1 permanent failure */
	char error[256];   /* why, when status <= 0 */
	const char *enh;   /* enhanced status for failures */
	struct qdns_target *t;
	size_t n;
};
/* r and its targets are valid during the call only. The request is freed after. */
typedef void qdns_fn(void *arg, const struct qdns_result *r);

/* The queue's view of the resolver, answering on loop: s->dns when set (not owned),
 * else one made from s->dns_server and s->dns_data. NULL with *error_r on failure. */
struct qdns *queue_dns_new(struct loop *loop, const struct queue_settings *s, const char **error_r);
void queue_dns_free(struct qdns **dp);
/* Looks up where mail for domain goes: MX in preference order (RFC 5321 §5.1), else
 * the domain's own addresses; a domain literal ([192.0.2.1]) is used as is. */
struct qdns_req *queue_dns_resolve_mx(struct qdns *d, const char *domain, uint16_t port, qdns_fn *fn, void *arg);
/* The addresses of one host (a name or an IP address). */
struct qdns_req *queue_dns_resolve_host(struct qdns *d, const char *host, uint16_t port, qdns_fn *fn, void *arg);
/* Cancels a request; fn is not called. */
void queue_dns_cancel(struct qdns_req **rp);

/* ---------------------------------------------------------------- client */

struct qclient;
struct qclient_set; /* every live client, so that close can free them */

struct qclient_rcpt {
	const char *address;
	unsigned notify;
	const char *orcpt;
	/* out */
	int code;
	char enh[16];
	char *text; /* malloc'd; the reply, one line */
};

struct qclient_params {
	const struct queue_settings *s;
	const char *helo;
	const char *host; /* for logs and Remote-MTA */
	const struct sockaddr *addr;
	socklen_t addrlen;
	bool try_tls;
	bool implicit_tls;     /* TLS from the first byte; a failure is not retried in the clear */
	const char *auth_user; /* log in with AUTH PLAIN (only inside TLS); NULL: no login */
	const char *auth_password;
	const char *sender;
	const char *envid;
	enum smtp_ret ret;
	bool smtputf8;
	const char *id; /* queue id for logs */
	struct qclient_rcpt *rcpts;
	size_t nrcpts;
	struct bytes data; /* the message (valid until done runs) */
};

enum qclient_outcome {
	QC_DONE,       /* the transaction ran: every rcpt has a code */
	QC_TRY_NEXT,   /* no transaction (connect, greeting, EHLO...): try another host */
	QC_TLS_FAILED, /* the TLS handshake failed: try again without TLS */
	QC_AUTH_FAILED /* the route's login could not be done (no TLS, no AUTH PLAIN, refused):
	                * every recipient waits for a later attempt (never a bounce) */
};
/* error: why (QC_TRY_NEXT / QC_TLS_FAILED), code/enh: a reply that caused it or 0. */
typedef void qclient_fn(void *arg, enum qclient_outcome out, int code, const char *enh, const char *error);

struct qclient_set *queue_client_set_new(struct event_base *base, const char **error_r);
void queue_client_set_free(struct qclient_set **sp); /* frees live clients without callbacks */
/* Starts one connection. done runs exactly once (never from inside this call),
 * unless queue_client_abort comes first. After done the client may still say QUIT. */
struct qclient *queue_client_start(struct qclient_set *set, const struct qclient_params *p, qclient_fn *done, void *arg);
void queue_client_abort(struct qclient **cp);

/* ---------------------------------------------------------------- the queue */

struct qdest; /* a destination with its running connections */
struct qjob;

/* Host name and routes as loaded at one time; kept until queue_close, since a job
 * may still point at a route of an older one. */
struct queue_gen {
	struct queue_gen *prev;
	char *hostname;
	struct queue_route *routes;
	size_t nroutes;
};

struct queue {
	char *data_dir;
	char *qdir; /* DIR/queue */
	const struct queue_backend *be;
	struct store *store;   /* the shared backend's store (s.store), NULL for files */
	char owner[160];       /* the shared backend's lease owner: host:pid:random */
	time_t beat_at;        /* the shared backend's last heartbeat */
	queue_bounce_fn *bounce;     /* queue_set_bounce; NULL: bounces are queued */
	void *bounce_ctx;
	struct queue_settings s; /* strings below are owned copies */
	char *hostname;              /* of the current generation (queue thread) */
	struct queue_route *routes;  /* of the current generation (queue thread) */
	struct queue_gen *gens;      /* current first, then older ones */
	char **dns_data;

	/* submitted from other threads, picked up on the loop */
	pthread_mutex_t lock;
	struct qmsg *incoming;
	bool flush_requested;
	struct queue_gen *pending; /* from queue_reload, taken by the queue thread */

	/* loop state: only the queue's thread touches these once started */
	struct loop *loop;
	struct event *tick;
	struct qdns *dns;
	struct qclient_set *clients;
	struct qmsg *msgs, *msgs_tail;
	size_t nmsgs;
	struct qdest *dests;
	struct qjob *jobs;
	unsigned active; /* connections (jobs) running */
	bool stopping;
};

/* queue.c: moves submitted messages onto the list, applies a pending reload and the
 * flush trigger (on the queue's loop). */
void queue_take_incoming(struct queue *q);
/* queue_deliver.c */
void queue_schedule(struct queue *q); /* starts what is due and allowed */
void queue_jobs_free(struct queue *q);
/* queue_msgs.c: a job ended; m's recipients have their new states. Sends the bounce
 * for newly failed recipients, writes the state, or removes and frees m when nothing
 * is pending (m may be freed on return). */
void queue_msg_round_done(struct queue *q, struct qmsg *m);
/* queue_msgs.c: appends m to q's list (q takes ownership). */
void queue_msg_add(struct queue *q, struct qmsg *m);
/* queue_msgs.c: takes m off q's list (the caller frees it). */
void queue_msg_unlink(struct queue *q, struct qmsg *m);
/* queue_msgs.c: a new message from a submission, with a fresh id, not yet written nor
 * listed; the caller owns it (queue_msg_free). */
struct qmsg *queue_msg_new(const struct queue_msg *in);

#endif
