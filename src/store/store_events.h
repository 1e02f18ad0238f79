/* store_events.h: the store's change events and subscriptions, the id encoding of
 * JMAP/OBJECTID, and maintenance (statistics, idle waits, checks): the part of the
 * store API that servers use to hear of changes. Included by store.h after the types
 * it uses; include store.h, not this file. */
#ifndef POSTAMT_STORE_EVENTS_H
#define POSTAMT_STORE_EVENTS_H

/* ---------------------------------------------------------------- events */

enum store_event_kind {
	STORE_EV_NEW,              /* messages appended: uid..uid_last */
	STORE_EV_FLAGS,            /* flags changed: uids in uid..uid_last (not all) */
	STORE_EV_EXPUNGE,          /* messages expunged: uids in uid..uid_last */
	STORE_EV_MAILBOX_CREATED,
	STORE_EV_MAILBOX_RENAMED,
	STORE_EV_MAILBOX_DELETED,
	STORE_EV_MAILBOX_CHANGED,  /* subscribed, special-use */
	STORE_EV_RESYNC,           /* changes may have been missed (mailbox_id 0, modseq 0:
	                            * the node lost its link to the other nodes' events):
	                            * ask the store what changed in every mailbox */
};

/* One change. Events are notifications: a session reacts by asking the store what
 * changed since its last known MODSEQ (store_msg_list with changed_since,
 * store_vanished). One operation yields one event per mailbox and kind; uid..uid_last
 * bound the affected UIDs; count is how many messages changed. */
struct store_event {
	enum store_event_kind kind;
	int64_t account_id;
	int64_t mailbox_id;
	uint32_t uid, uid_last;
	uint32_t count;
	uint64_t modseq;           /* the MODSEQ the change got */
};

typedef void store_event_fn(void *arg, const struct store_event *ev);
struct store_sub;

/* Subscribes to changes of an account (mailbox_id 0: every mailbox) or of one mailbox.
 * fn(arg, ev) runs on `loop` through loop_post() (on the committer thread when loop is
 * NULL: then fn must be quick and must not call a synchronous store write, which would
 * wait for the committer itself), after the change is committed, in commit order per
 * subscriber. Changes made by another process (the CLI) are not seen, except on the
 * PostgreSQL backend, where every node's committed changes reach every node's
 * subscribers (store_pg_listen.c; fn then runs on that thread when loop is NULL), and
 * a subscription to one mailbox gets STORE_EV_RESYNC too. Never fails. */
struct store_sub *store_subscribe(struct store *s, int64_t account_id, int64_t mailbox_id,
				  struct loop *loop, store_event_fn *fn, void *arg);
/* Removes the subscription; *subp = NULL. After it returns, fn is never called again,
 * so arg may be freed at once. Call it on the subscriber's loop thread (where fn runs);
 * it is also safe from inside fn. Events already posted to the loop are dropped
 * (each holds a reference, the subscription is freed by the last one). */
void store_unsubscribe(struct store_sub **subp);

/* ---------------------------------------------------------------- ids */

/* Stable ids as strings usable as IMAP OBJECTID and JMAP ids ("M" + base-32 of the
 * mailbox id, "E..." for emails, "T..." for threads). Written into out (>= 24 bytes).
 * The parse functions return 1 and the number, or 0 for a malformed string. */
void store_id_mailbox(int64_t id, char out[24]);
void store_id_email(int64_t id, char out[24]);
void store_id_thread(int64_t id, char out[24]);
int store_id_parse(const char *s, char kind, int64_t *id_r);

/* ---------------------------------------------------------------- maintenance */

struct store_stats {
	uint64_t commits;          /* write transactions committed */
	uint64_t ops;              /* operations applied */
	uint64_t fsyncs;           /* fsync calls made by the store (blobs, dirs) */
	uint64_t blobs_recovered;  /* orphan blobs removed by the recovery pass */
};
void store_get_stats(struct store *s, struct store_stats *st_r);

/* Free space (store_space.c). Returns 1 when `size` more bytes (0: unknown) still
 * leave at least the disk reserve (store_options.disk_reserve) free on the file system
 * of DIR/blobs, STORE_ENOSPACE with *error_r when not. The free space is read with
 * statvfs at most once a second (and again after deletions freed message files), so
 * protocols may call this per command. Deletions never consult it. A failing statvfs
 * counts as enough space (logged). */
int store_space_check(struct store *s, uint64_t size, const char **error_r);
/* Changes the disk reserve of a running store (SIGHUP reload). */
void store_set_disk_reserve(struct store *s, uint64_t bytes);
/* Runs PRAGMA integrity_check and checks every account's usage against its messages.
 * Returns 1 if all is well, -1 with *error_r describing the first problem. */
int store_check(struct store *s, const char **error_r);

#endif
