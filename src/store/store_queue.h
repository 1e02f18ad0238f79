/* store_queue.h: the outbound queue's rows in PostgreSQL (part of store.h).
 *
 * With store.backend = postgresql the queue (src/queue, queue_pg.c) keeps its messages
 * here instead of DIR/queue, so that every node delivers any queued message: one row
 * per message (envelope, body as bytea, the earliest next attempt, the lease) and one
 * per recipient (state, attempts, next attempt, last reply). A node takes due
 * messages with store_queue_claim (SELECT ... FOR UPDATE SKIP LOCKED) into a lease
 * (owner, expiry on the database's clock), extends the lease of what it holds with
 * store_queue_heartbeat while it delivers, and writes each round's outcome with
 * store_queue_save, whose `release` ends the lease in the same transaction: so a
 * recipient is marked delivered exactly when the node gives the message up, and a
 * node that dies leaves its messages to whoever claims them after the lease expired
 * (docs/cluster.md). On SQLite these return STORE_ERR (the queue uses its files).
 *
 * Return convention as store.h: >= 0 done, <0 with *error_r (STORE_EUNAVAIL when the
 * database cannot be reached or gave a temporary error). */
#ifndef POSTAMT_STORE_QUEUE_H
#define POSTAMT_STORE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct arena;

enum store_qstate { STORE_Q_PENDING = 0, STORE_Q_DELIVERED = 1, STORE_Q_FAILED = 2, STORE_Q_REPORTED = 3 };

struct store_qrcpt {
	const char *address;
	unsigned notify;         /* SMTP_NOTIFY_* bits */
	const char *orcpt;       /* NULL: none */
	enum store_qstate state; /* REPORTED: failed and its bounce is sent */
	unsigned attempts;
	int64_t next;            /* next attempt (unix time), 0: due */
	int code;                /* last reply code, 0: none */
	const char *enh;         /* last enhanced status, "" if none */
	const char *diag;        /* last reply or failure, NULL if none */
	const char *remote_mta;  /* NULL if none */
};

struct store_qmsg {
	const char *id;
	int64_t created;
	const char *sender;      /* "" for the null path */
	const char *envid;       /* NULL if none */
	int ret;                 /* enum smtp_ret */
	bool smtputf8;
	const char *auth_user;   /* NULL if none */
	int64_t size;
	int64_t next;            /* earliest next attempt of the message (claims look at it) */
	const char *lease_owner; /* lists only: the node holding it, NULL if none */
	int64_t lease_until;     /* lists only */
	struct store_qrcpt *rcpts;
	size_t nrcpts;
};

/* True when the queue's rows live in the store (the PostgreSQL backend). */
bool store_queue_shared(const struct store *s);
/* Inserts a message with its body and recipients, leased to owner for lease seconds
 * (so the submitting node delivers it at once; another node after the lease expired).
 * Committed when it returns 1. */
int store_queue_insert(struct store *s, const struct store_qmsg *m, const void *body, size_t len,
		       const char *owner, unsigned lease, const char **error_r);
/* Leases to owner up to max messages that are due (next <= now, node clock) and not
 * leased (or whose lease expired), oldest due first, skipping rows another node is
 * claiming right now. The messages (without bodies) are in a, *n_r may be 0. */
int store_queue_claim(struct store *s, const char *owner, unsigned lease, size_t max, int64_t now,
		      struct arena *a, struct store_qmsg **v_r, size_t *n_r, const char **error_r);
/* Extends owner's leases to now + lease (database clock). Returns how many it holds.
 * lease 0 gives them up (a node's clean stop): others may claim them a second later. */
int store_queue_heartbeat(struct store *s, const char *owner, unsigned lease, const char **error_r);
/* Writes every recipient's state and the message's next attempt, in one transaction
 * that also ends the lease when release is set, or removes the message when done is
 * set. Only while owner holds the lease: returns 1, or 0 when it does not (the lease
 * expired and another node took the message; nothing is written). */
int store_queue_save(struct store *s, const char *owner, const struct store_qmsg *m, bool release, bool done,
		     const char **error_r);
/* The body of message id (malloc'd into *data_r). 1, 0 when there is no such message. */
int store_queue_body(struct store *s, const char *id, char **data_r, size_t *len_r, const char **error_r);
/* Every queued message with its recipients, oldest first (into a). */
int store_queue_list(struct store *s, struct arena *a, struct store_qmsg **v_r, size_t *n_r,
		     const char **error_r);
/* Makes every pending recipient due now. Returns the number of messages. */
int store_queue_flush(struct store *s, const char **error_r);

enum store_qaction { STORE_QACT_RETRY, STORE_QACT_DELETE, STORE_QACT_BOUNCE };
/* An admin's action on a message no node is delivering (not leased, or its lease
 * expired): RETRY makes it due now, DELETE removes it, BOUNCE fails its pending
 * recipients (5.0.0; the node that claims it next sends the bounce). Returns 1, 0
 * when there is no such message, STORE_ENOTALLOWED when a node holds its lease (it
 * is being delivered right now). */
int store_queue_act(struct store *s, const char *id, enum store_qaction act, const char **error_r);

#endif
