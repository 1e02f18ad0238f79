/* store_int.h: what the store's own files share (never included outside src/store).
 *
 * The store is one struct store per process. Reads borrow a struct db (an SQLite
 * connection with a cache of prepared statements) from a small pool. Writes are
 * struct store_op values: an optional prepare step (parse the message, write and
 * fsync its blob) run by a preparer thread, and an apply step run by the single
 * committer thread inside a shared transaction (one SAVEPOINT per op, so one op's
 * failure never undoes another's). After the COMMIT, the committer publishes the
 * ops' events, unlinks freed blobs and reports completions. */
#ifndef POSTAMT_STORE_INT_H
#define POSTAMT_STORE_INT_H

#include "store.h"
#include "store_backup.h"
#include "sql.h"

#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "buf.h"
#include "log.h"

#define STMT_CACHE 256
#define STORE_PG_POOL 64 /* PostgreSQL connections kept idle at most */
#define STORE_PG_ORIGIN 17 /* a store's name in its notifications: 16 hex digits */
#define STORE_PG_CHUNK (256 * 1024) /* bytes of a message body per message_chunks row */
#define SCHEMA_STR2(x) #x
#define SCHEMA_STR(x) SCHEMA_STR2(x)

struct db {
	sqlite3 *db;
	struct {
		const char *sql; /* identity of a static SQL string */
		sqlite3_stmt *st;
	} cache[STMT_CACHE];
	size_t ncache;
	struct sql_conn *sql; /* the same handle through sql.h (code converted to it) */
	struct db *next;
};

struct store_op;
typedef int op_fn(struct store *s, struct store_op *op);
typedef void op_finish_fn(struct store *s, struct store_op *op);

struct store_op {
	op_fn *prepare;        /* preparer thread, outside the transaction; may be NULL */
	op_fn *apply;          /* committer thread, inside the transaction */
	op_finish_fn *finish;  /* committer thread after COMMIT/ROLLBACK; may be NULL */
	void *req;             /* the request struct of the public API */
	struct arena *arena;   /* the caller's arena for outputs (may be NULL) */
	struct arena *tmp;     /* scratch for prepare/apply (owned by the op) */
	int result;
	const char *error;     /* static text or in errbuf */
	char errbuf[256];
	bool committed;        /* set by the committer: the transaction committed */
	bool may_use_reserve;  /* set by apply: the op deletes (expunge, \Deleted, MOVE, mailbox
	                        * or account removal), so on a full disk the committer gives
	                        * up the reserve file and runs it again (store_space.c) */
	bool full;             /* apply or the commit failed because the disk is full */
	bool retry;            /* committer: runs again after the reserve was given up */
	bool lessons;          /* apply recorded a junk filter lesson (store_lesson.c) */
	bool sql_ready;        /* apply uses only op->q (sql.h): runs on either backend */
	struct sql_conn *q;    /* apply's connection: the committer's, or PostgreSQL's */
	int64_t *locks;        /* PostgreSQL: the accounts apply changes (store_op_lock), */
	size_t nlocks, caplocks; /* locked in id order when the batch's transaction starts */
	/* blob written by prepare */
	char *blob;            /* blob name (hex), malloc'd */
	int blob_fd;           /* written, not yet fsynced (-1: none); the committer syncs */
	char *data;            /* normalised message, malloc'd */
	size_t len;
	void *parsed;          /* struct mail_info * in tmp */
	const char *digest;    /* SHA-256 of data (hex, in tmp), set by prepare with the blob */
	const char *sender, *sender_name; /* a delivery of personal mail: who it is from, for
	                        * the contacts (mail_personal_sender; in tmp), else NULL */
	char **blobs;          /* further blobs written by prepare (multi-message ops,
	                        * malloc'd names): unlinked like `blob` unless committed */
	size_t nblobs;
	/* events and blobs to unlink after commit */
	struct store_event *events;
	size_t nevents, capevents;
	char **unlink;         /* blob names (malloc'd) */
	size_t nunlink, capunlink;
	/* completion */
	struct loop *loop;
	store_done_fn *done;
	void *done_arg;
	sem_t *sem;            /* synchronous callers wait here */
	struct store_op *next;
};

struct sub_bucket {
	struct store_sub *head;
};
#define SUB_BUCKETS 256

/* store_window.c: a total of store_email_window, valid while the mailbox's
 * highestmodseq is unchanged (every change to its messages raises it in the same
 * transaction). */
struct window_total {
	int64_t mailbox_id;        /* 0: an empty slot */
	uint64_t highestmodseq;
	unsigned int flags_on, flags_off;
	uint64_t total;
	uint64_t used;             /* for replacing the least recently used */
};
#define WINDOW_TOTALS 32

struct store {
	char *dir;
	char *dbpath;
	char *blobdir;
	struct store_options opt;

	pthread_mutex_t rd_mu;
	pthread_cond_t rd_cond; /* a connection came back to the pool */
	struct db *rd_free;
	int rd_count;

	struct db *wc; /* the committer's connection */

	pthread_mutex_t q_mu;
	pthread_cond_t prep_cond, commit_cond;
	struct store_op *prep_head, *prep_tail;
	struct store_op *commit_head, *commit_tail;
	int in_prep; /* ops being prepared */
	bool committing;       /* the committer is running a batch */
	uint64_t batches_done; /* batches run, their completions posted */
	bool stopping;
	pthread_t committer;
	pthread_t preparers[2];
	int npreparers;

	pthread_mutex_t sub_mu;
	struct sub_bucket subs[SUB_BUCKETS];

	pthread_mutex_t wt_mu;
	struct window_total wt[WINDOW_TOTALS];
	uint64_t wt_tick;

	atomic_uint_fast64_t st_commits, st_ops, st_fsyncs, st_recovered;

	/* store_space.c: the free-space cache and the reserve file */
	pthread_mutex_t sp_mu;
	uint64_t sp_free;       /* f_bavail * f_frsize of DIR/blobs at sp_at */
	int64_t sp_at;          /* CLOCK_MONOTONIC ms of sp_free; 0: stale */
	atomic_uint_fast64_t disk_reserve;
	char *reserve_path;     /* DIR/db/reserve */
	bool reserve_missing;   /* committer only: the reserve file is wanted and absent */
	int64_t reserve_tried;  /* committer only: ms of the last attempt to re-create it */

	/* store_commit.c: told after a commit that recorded lessons (under sub_mu) */
	store_lesson_notify_fn *lesson_fn;
	void *lesson_arg;

	/* store_import.c: announced changes read so far (committer only) */
	int64_t watch_last;     /* the highest announced_events id seen */
	int64_t watch_at;       /* CLOCK_MONOTONIC ms of the last read */
	int64_t watch_cleaned;  /* ... of the last removal of old rows */

	/* store_pg.c: store.backend = postgresql (pg_conninfo NULL: SQLite) */
	char *pg_conninfo;
	pthread_mutex_t pg_mu;
	struct sql_conn *pg_free[STORE_PG_POOL];
	int pg_nfree, pg_keep;
	/* store_pg_listen.c: this store's name in its notifications, its listener */
	char pg_origin[STORE_PG_ORIGIN];
	struct pg_listener *pg_listen;
};

/* The name of store_db.c's VFS for relative database paths (registered by the first
 * store_db_open of one). */
#define STORE_CWD_VFS "postamt-cwd"

/* store.c: the schema list (CREATE ... IF NOT EXISTS statements, in order). */
extern const char *const store_schema[];
extern const size_t store_nschema;

/* store_db.c: connections and statements */
/* Opens a new connection to the database; NULL with *error_r. */
struct db *store_db_open(struct store *s, const char **error_r);
/* Closes c and its cached statements. */
void store_db_close(struct db *c);
/* Borrows a read connection (never fails; may wait for one). */
struct db *store_db_get(struct store *s);
void store_db_put(struct store *s, struct db *c);
/* Returns a reset prepared statement for a static SQL string (cached). Aborts on a
 * syntax error (a bug), returns NULL on other errors. */
sqlite3_stmt *store_db_stmt(struct db *c, const char *sql);
/* Logs the connection's last error; returns STORE_ERR with *error_r set. */
int store_db_fail(struct db *c, const char *what, const char **error_r);
/* Runs SQL with no result rows. Returns 1 or STORE_ERR. */
int store_db_exec(struct db *c, const char *sql, const char **error_r);
/* Binds text that may be NULL. */
void store_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Copies column i's text into the arena ("" for NULL). */
const char *store_col_text(struct arena *a, sqlite3_stmt *st, int i);
/* Steps a statement expected to produce no rows. 1 or STORE_ERR. */
int store_step_done(struct db *c, sqlite3_stmt *st, const char **error_r);

/* store_db.c: the thread-local error text (copies msg; returns it). */
const char *store_set_error(const char *msg);
/* The same with a format (store_db.c). */
const char *store_set_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fsync of a directory by path; 0 or -1. */
int store_fsync_path(const char *path);

/* store_pg.c: the PostgreSQL backend. store_pg_open: connects, creates or migrates
 * the schema (1, or <0 with *error_r); store_pg_close: closes the pool.
 * store_sql_get/put: a connection for a read through sql.h, on either backend (db_r
 * is the SQLite pool's struct db, NULL on PostgreSQL; NULL with *error_r when the
 * database cannot be reached). store_sql_write: runs a write op whose apply uses only
 * op->q: the committer's transaction on SQLite, a transaction of its own on
 * PostgreSQL; returns as store_op_run. store_sql_fail: logs the connection's error
 * and returns STORE_EUNAVAIL for SQL_ETEMP, STORE_ERR otherwise. */
int store_pg_open(struct store *s, const char *conninfo, const char **error_r);
void store_pg_close(struct store *s);
struct sql_conn *store_sql_get(struct store *s, struct db **db_r, const char **error_r);
void store_sql_put(struct store *s, struct sql_conn *q, struct db *db);
int store_sql_write(struct store *s, struct store_op *op, const char **error_r);
/* store_pg.c: a connection of the pool (NULL with *error_r), and its return. */
struct sql_conn *store_pg_get(struct store *s, const char **error_r);
void store_pg_put(struct store *s, struct sql_conn *q);
/* store_pg_txn.c: one op in a transaction of its own (store_sql_write on PostgreSQL;
 * the caller frees op); returns as store_op_run. */
int store_pg_write(struct store *s, struct store_op *op, const char **error_r);
/* The committer's transaction on PostgreSQL: runs the ops of batch (each with a
 * result >= 0) in one transaction on a borrowed connection, a SAVEPOINT per op, as
 * store_commit.c's run_txn does on SQLite; sets each op's result and committed. */
void store_pg_txn(struct store *s, struct store_op *batch);
int store_sql_fail(struct sql_conn *q, int rc, const char *what, const char **error_r);
/* store_pg_body.c: an email's body from its message_chunks rows. store_pg_body_read:
 * the bytes [off, off + len) into dst, reading only the chunks that hold them
 * (*got_r: how many there were); store_pg_body_open: a new anonymous file (memfd,
 * the caller closes it) of the body's size bytes for the readers that take an fd,
 * holding the bytes [off, off + len) (at least; the rest reads as zeros): only the
 * chunks that hold them are read. 1 or <0 with *error_r. */
int store_pg_body_read(struct sql_conn *q, int64_t email_id, uint64_t off, uint64_t len, char *dst, uint64_t *got_r,
		       const char **error_r);
int store_pg_body_open(struct sql_conn *q, int64_t email_id, uint64_t size, uint64_t off, uint64_t len, int *fd_r,
		       const char **error_r);
/* In an op's apply (sql.h): store_op_sql_fail fails op with store_sql_fail's code and
 * text for rc (a negative sql_rc) and returns the code; store_op_step steps a write
 * statement (st may be NULL: a failed prepare) and returns 1 or that failure. */
int store_op_sql_fail(struct store_op *op, int rc, const char *what);
int store_op_step(struct store_op *op, struct sql_stmt *st, const char *what);
/* store_pg_txn.c: serializes writers of one account's part `what` across nodes: on
 * PostgreSQL a transaction-scoped advisory lock on (what, account), held until the
 * commit; on SQLite nothing (the committer is the only writer). SQL_DONE or a
 * negative sql_rc. */
enum store_lock { STORE_LOCK_WEBPREFS = 1, STORE_LOCK_SIEVE = 2 };
int store_sql_lock_account(struct sql_conn *q, enum store_lock what, int64_t account_id);
/* store_sieve.c, in a Sieve write's apply (sql.h): store_sieve_begin_write takes the
 * account's Sieve lock and checks that the account exists (1, or the op's failure);
 * store_sieve_next_state bumps its Sieve state (the new value, or a negative sql_rc). */
int store_sieve_begin_write(struct store_op *op, int64_t account, const char *what);
int64_t store_sieve_next_state(struct sql_conn *q, int64_t account);
/* At the top of a read entry point not converted yet: on PostgreSQL it answers
 * STORE_EUNAVAIL with STORE_PG_MISSING instead of reading the empty local database
 * (writes are refused in one place, op_submit). */
#define STORE_PG_REFUSE(s, error_r)                           \
	do {                                                  \
		if ((s)->pg_conninfo != NULL) {               \
			*(error_r) = STORE_PG_MISSING;        \
			return STORE_EUNAVAIL;                \
		}                                             \
	} while (0)

/* store_commit.c: running ops */
/* Frees an op that was never submitted or has completed. */
void store_op_free(struct store_op *op);
struct store_op *store_op_new(op_fn *prepare, op_fn *apply, op_finish_fn *finish, void *req,
			struct arena *arena);
/* Queues op; with loop/done for async. Returns immediately. */
void store_op_submit_async(struct store *s, struct store_op *op, struct loop *loop, store_done_fn *done,
		     void *arg);
/* Queues op and waits; returns its result and frees it. */
int store_op_run(struct store *s, struct store_op *op, const char **error_r);
/* Sets op->result and an error message (printf into errbuf); returns code. */
int store_op_fail(struct store_op *op, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An op whose apply failed (r < 0) inside the committer's transaction: its result
 * and error ("store error" when apply set none); its events and the files it would
 * have unlinked are dropped, since its savepoint is rolled back. Both backends'
 * committers (store_commit.c, store_pg_txn.c). */
void store_op_rolled_back(struct store_op *op, int r);
void store_op_event(struct store_op *op, enum store_event_kind kind, int64_t account_id,
	      int64_t mailbox_id, uint32_t uid, uint32_t uid_last, uint32_t count, uint64_t modseq);
/* Says that op's apply will change rows of the account (before the op is queued). On
 * PostgreSQL the committer locks the accounts of a whole batch in id order before any
 * apply runs, so that two nodes' batches, each changing several accounts, wait for
 * each other instead of deadlocking. Rows of an account (its mailboxes, messages,
 * counters) are changed only by ops that name it. Nothing on SQLite (one writer). */
void store_op_lock(struct store_op *op, int64_t account_id);
/* store_message.c: inside an account's removal, its mailboxes and messages (and the
 * emails only they used), and on SQLite (c, the committer's connection; NULL on
 * PostgreSQL, whose rows go with the account by ON DELETE CASCADE) the rows of the
 * tables keyed by account. 1, or op's failure. */
int store_account_remove_mail(struct store_op *op, struct db *c, int64_t id);
void store_op_unlink_blob(struct store_op *op, const char *blob);
/* Path of a blob file (malloc'd). */
char *store_blob_path(struct store *s, const char *blob);
void store_stat_fsync(struct store *s);

struct mail_info;
/* store_index.c: the full-text index (see the file's comment) */
/* A sorted set of email ids (arena). */
struct store_idset {
	int64_t *ids;
	size_t n;
};
bool store_idset_has(const struct store_idset *set, int64_t id);
/* Outside the transaction (store_index_rebuild): fills mi->index_hdr and
 * mi->index_body (NULL when the text is over the limit). */
void store_index_prepare(struct store *s, struct arena *a, const char *msg, size_t len,
			 struct mail_info *mi);
/* Apply: lists a new emails row as waiting for the indexer. 1 or <0. */
int store_index_defer(struct store_op *op, struct db *c, int64_t email_id);
/* SORT/THREAD keys (store_sortkey.c): writes those of the message (mailbox_id, uid)
 * from its email's stored header fields, in the caller's transaction (either engine). 1 or <0. */
int store_sortkey_add(struct sql_conn *q, struct arena *a, int64_t mailbox_id, uint32_t uid, int64_t email_id,
		      uint64_t size, int64_t internal_date, const char **error_r);
/* Migration 3: writes the keys of every message that has none; *changed_r counts them. */
int store_sortkey_fill(struct db *c, uint64_t *changed_r, const char **error_r);
/* Apply: the index entry of an emails row (or its email_unindexed row). 1 or <0. */
int store_index_add(struct store_op *op, struct db *c, int64_t email_id, const struct mail_info *mi);
/* Apply: removes what the index holds of an emails row being deleted. In an op the
 * entry is only listed as stale (cheap, works on a full disk) and removed by later
 * deliveries or the next start; op NULL removes it at once. 1 or STORE_ERR. */
int store_index_remove(struct store_op *op, struct db *c, int64_t email_id, const char **error_r);
/* At open, on the writer: a store made before the index lists its messages as
 * pending, once. 1 or STORE_ERR. */
int store_index_setup(struct db *c, const char **error_r);
/* UTF-8 characters in s (the trigram index answers needles of 3 or more). */
size_t store_index_chars(const char *folded);
/* The emails with ids in [lo, hi] whose body (or, headers_too, header text or body)
 * contains the folded needle (3 or more characters). 1 or <0. */
int store_index_match(struct db *c, struct arena *a, bool headers_too, const char *folded, int64_t lo, int64_t hi,
		      struct store_idset *out, const char **error_r);
/* The emails in the mailbox that are not in the index. 1 or <0. */
int store_index_unindexed(struct db *c, struct arena *a, int64_t mailbox_id, struct store_idset *out,
			  const char **error_r);

/* store_account.c */
/* Allocates the account's next MODSEQ (inside a write). Returns it, or 0 on error. */
uint64_t store_acct_next_modseq(struct sql_conn *q, int64_t account_id);
/* 1 if the account exists, 0 if not, STORE_ERR. */
int store_acct_exists(struct sql_conn *q, int64_t account_id);

/* store_mailbox.c */
int store_mbox_create_in(struct store_op *op, struct sql_conn *q, int64_t account_id, const char *name,
		   unsigned int special_use, bool subscribed, int64_t *id_r);
/* Adjusts the counters of a mailbox. */
int store_mbox_adjust(struct sql_conn *q, int64_t mailbox_id, int64_t dmessages, int64_t dunseen,
		int64_t ddeleted, int64_t dsize, uint64_t modseq);
/* Checks the mailbox belongs to the account; returns 1, 0, <0. */
int store_mbox_owned(struct sql_conn *q, int64_t account_id, int64_t mailbox_id);

/* store_mailbox_read.c: the reads on a connection the caller holds (so that several
 * can share one read transaction, store_mailbox_snapshot) */
/* The mailbox row by name (canonical) or, with name NULL, by id: 1, 0 if the account
 * has no such mailbox, <0 error. */
int store_mbox_read(struct sql_conn *q, struct arena *a, int64_t account_id, const char *name, int64_t id,
		    struct store_mailbox *mb_r, const char **error_r);
/* Its keywords in use, NULL-terminated (as store_mailbox_keywords). */
int store_mbox_keywords_read(struct sql_conn *q, struct arena *a, int64_t account_id, int64_t mailbox_id,
			     const char ***keywords_r, const char **error_r);

/* store_message.c */
struct msg_row {
	uint32_t uid;
	int64_t email_id, thread_id;
	unsigned int flags;
	const char *keywords;
	uint64_t size;
	int64_t internal_date;
	int internal_tz;
};
/* Inserts a message row with the mailbox's next UID (set in row->uid) and the given
 * MODSEQ on op->q; updates the mailbox counters and keyword list, not the account.
 * c: the SQLite committer's connection (its sort keys), NULL on PostgreSQL. */
int store_msg_insert(struct store_op *op, struct db *c, int64_t account_id, int64_t mailbox_id,
	       struct msg_row *row, uint64_t modseq);
/* Adds dsize bytes and dmessages messages to the account's usage (op->q). With check, fails
 * with STORE_EOVERQUOTA when dsize > 0 and the limit would be exceeded. */
int store_acct_charge(struct store_op *op, int64_t account_id, int64_t dsize, int64_t dmessages, bool check);
/* Normalises a keyword list (validate, dedupe case-insensitively, sort) into the
 * stored form. Returns 1, or STORE_EINVAL. */
int store_keywords_join(struct arena *a, const char *const *kws, const char **out_r,
		  const char **error_r);
/* Removes every message of a mailbox (delete, account removal); frees quota. */
int store_msg_remove_all(struct store_op *op, struct db *c, int64_t account_id, int64_t mailbox_id,
		   uint64_t modseq);
/* Expunges one message (REPLACE) with the given MODSEQ; frees its quota. Returns 1,
 * 0 when the mailbox has no such UID, <0 error. */
int store_msg_expunge_uid(struct store_op *op, struct db *c, int64_t account_id, int64_t mailbox_id,
		    uint32_t uid, uint64_t modseq);
/* Deletes an email row and queues its blob if no message references it any more. */
int store_email_release(struct store_op *op, struct db *c, int64_t email_id);
/* Rows of a mailbox selected by a UID set (NULL: all) and an optional \Deleted filter,
 * ascending by UID (malloc'd array, keyword strings in a; the caller frees it). */
struct msg_row *store_msg_select_rows(struct sql_conn *q, struct arena *a, int64_t mailbox_id,
				const struct store_uidset *set, bool only_deleted, size_t *n_r);
/* Deletes rows (already selected) from a mailbox, records them as expunged with
 * modseq and emits one STORE_EV_EXPUNGE; with release, frees their quota and emails. */
int store_msg_remove_rows(struct store_op *op, struct db *c, int64_t account_id, int64_t mailbox_id,
		    const struct msg_row *rows, size_t n, uint64_t modseq, bool release);
/* Inserts copies of rows into dst_mailbox_id with modseq (no quota check: the caller
 * charges copies), their new UIDs into dst_uids (n entries); one STORE_EV_NEW. */
int store_msg_copy_rows(struct store_op *op, struct db *c, int64_t account_id, int64_t dst_mailbox_id,
		  const struct msg_row *rows, size_t n, uint64_t modseq, uint32_t *dst_uids);
/* Applies op with the stored keyword string change to the stored string cur. */
const char *store_keywords_apply(struct arena *a, const char *cur, enum store_flag_op op,
			   const char *change);
/* The number of keywords in a stored keyword string. */
size_t store_keywords_count(const char *s);
/* Adds keywords (stored form) to a mailbox's keyword list (PERMANENTFLAGS). */
void store_mbox_add_keywords(struct sql_conn *q, struct arena *a, int64_t mailbox_id, const char *kws);

/* store_event.c. store_events_resync: one STORE_EV_RESYNC to the subscribers of each
 * account that has any; returns the number of accounts. */
void store_events_publish(struct store *s, const struct store_event *ev, size_t n);
size_t store_events_resync(struct store *s);

/* store_pg_listen.c: change events between nodes (LISTEN/NOTIFY on one channel).
 * store_pg_notify: in the committer's transaction on q, before its COMMIT, one
 * pg_notify per account and op for the events of batch's applied ops (1, or a
 * negative sql_rc). store_pg_listen_start: names this store (pg_origin) and, when it
 * wants other processes' changes (opt.watch_ms), starts its listener thread; never
 * fails (a listener without a connection retries by itself). store_pg_listen_stop:
 * stops it (idempotent). store_pg_payload_format / _parse: the payload, pure (for the
 * unit test): format writes up to `size` bytes (NUL included) of events of one account
 * and returns how many of ev it took (at least 1 when size >= STORE_PG_PAYLOAD);
 * parse returns the number of events (<= max) or -1 for a malformed payload. */
#define STORE_PG_CHANNEL "postamt_events"
#define STORE_PG_PAYLOAD 7900 /* below PostgreSQL's 8000-byte limit */
int store_pg_notify(struct store *s, struct sql_conn *q, const struct store_op *batch);
void store_pg_listen_start(struct store *s);
void store_pg_listen_stop(struct store *s);
size_t store_pg_payload_format(char *out, size_t size, const char *origin, const struct store_event *ev, size_t n);
int store_pg_payload_parse(const char *payload, char origin_r[STORE_PG_ORIGIN], struct store_event *ev_r, size_t max);

/* store_space.c */
void store_space_init(struct store *s);
void store_space_destroy(struct store *s);
/* True when the connection's last error means the disk is full (SQLITE_FULL, or an
 * I/O error with ENOSPC, EDQUOT or EFBIG). */
bool store_db_full(struct db *c);
/* True for errno values that mean "no space": ENOSPC, EDQUOT, EFBIG. */
bool store_errno_full(int e);
/* Forgets the cached free space (after blobs were unlinked). */
void store_space_invalidate(struct store *s);
/* Creates DIR/db/reserve when wanted and missing (at open and from the committer):
 * 1 made or present, 0 not wanted or not enough room now, <0 error (logged). */
int store_reserve_make(struct store *s);
/* Gives the reserve file up (committer only). true if there was one. */
bool store_reserve_release(struct store *s);
/* Called by the committer after each batch and once a second while the reserve is
 * missing: re-creates it once twice its size is free again. */
void store_reserve_maintain(struct store *s);

/* store_lesson.c: junk filter lessons, recorded inside the change's transaction.
 * store_lesson_copy: rows copied or moved from src to dst (IMAP COPY/MOVE);
 * store_lesson_mailboxes: an email's set of mailboxes changed (JMAP mailboxIds);
 * store_lesson_keywords: a row's keywords changed from old_kws to new_kws (stored form);
 * store_lesson_append: a message appended to a mailbox with keywords kws;
 * store_lesson_forget_account: the account's lessons and marks go (before its
 * messages, so that pending lessons no longer pin them; c: the SQLite committer's
 * connection that frees those messages, NULL where there are none). Each works on
 * op->q (sql.h, either backend) and returns 1 or store_op_fail's code. The committer
 * tells the learner (store_commit.c). */
int store_lesson_copy(struct store_op *op, int64_t account_id, int64_t src_mailbox_id, int64_t dst_mailbox_id,
		      const struct msg_row *rows, size_t n);
int store_lesson_mailboxes(struct store_op *op, int64_t account_id, int64_t email_id, const int64_t *before,
			   size_t nbefore, const int64_t *after, size_t nafter);
int store_lesson_keywords(struct store_op *op, int64_t account_id, int64_t email_id, const char *old_kws,
			  const char *new_kws);
int store_lesson_append(struct store_op *op, int64_t account_id, int64_t mailbox_id, int64_t email_id,
			const char *kws);
int store_lesson_forget_account(struct store_op *op, struct db *c, int64_t account_id);

/* store_backup.c: the SHA-256 of bytes as lower-case hex. */
void store_sha256_hex(const void *data, size_t len, char hex[65]);

/* store_migrate.c: the schema version. store_schema_read: 1 with *version_r (0: a
 * new database without tables), <0 with *error_r. store_migrate_in: the automatic
 * copy of the database, then the schema list (schema, nschema) and every migration
 * after `from` in one transaction on c; fn (may be NULL) gets a line per migration.
 * Returns 1 or <0 with *error_r. */
int store_schema_read(struct db *c, int64_t *version_r, const char **error_r);
int store_migrate_in(struct store *s, struct db *c, int64_t from, const char *const *schema, size_t nschema, bool copy,
		     store_report_fn *fn, void *arg, const char **error_r);
/* store_import.c. store_import_record: inserts the import keys (NULL-terminated) of one
 * message under scope (1, or store_op_fail's code). store_announce_events: writes op's
 * events into announced_events (1 or STORE_ERR). store_watch_init: the watch starts
 * after the newest announced row (at open). store_watch_due: ms until the next read of
 * announced rows (0: now, -1: never). store_watch_run: reads them, publishes them,
 * removes old rows (committer only, outside a batch). */
int store_import_record(struct store_op *op, struct db *c, int64_t account_id, const char *scope,
			const char *const *keys);
int store_announce_events(struct store_op *op, struct db *c);
void store_watch_init(struct store *s);
int64_t store_watch_due(struct store *s);
void store_watch_run(struct store *s);

/* store_commit.c: thread bodies started by store_open */
void *store_preparer_main(void *arg);
void *store_committer_main(void *arg);

/* store_address.c: address syntax. store_addr_normalize checks address (a catch-all
 * "@domain" too when allow_catchall) and writes its canonical form (domain in lower
 * case, in a) to *out_r: 1, or STORE_EINVAL with *error_r. store_domain_of: the part
 * after the last '@' of a canonical address. */
int store_addr_normalize(struct arena *a, const char *address, bool allow_catchall, const char **out_r,
			 const char **error_r);
const char *store_domain_of(const char *addr);

/* store_web.c: the sender of personal mail delivered to account_id (into
 * mailbox_id) as a contact, inside the delivery's transaction; at most max rows
 * per account (0: no limit). 1 (also when the copy or the sender does not count:
 * Junk, Trash, Sent, Drafts, the account itself), 0 for an address too long, -1 on
 * a database error (on PostgreSQL under a savepoint of its own, so that the
 * delivery's transaction goes on). */
int store_contact_received(struct sql_conn *q, int64_t account_id, int64_t mailbox_id, const char *address,
			   const char *name, int64_t now, size_t max);

#endif
