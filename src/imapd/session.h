/* session.h: the state of one IMAP connection, shared by session.c, commands.c,
 * view.c and the cmd_<name>.c files. */
#ifndef POSTAMT_IMAPD_SESSION_H
#define POSTAMT_IMAPD_SESSION_H

#include "arena.h"
#include "imap_args.h"
#include "imap_format.h"
#include "imap_parse.h"
#include "imap_reader.h"
#include "imapd.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>

/* RFC 9051 §3: connection states, as bits so that the table can allow several */
enum imap_state {
	IMAP_NOT_AUTHENTICATED = 1 << 0,
	IMAP_AUTHENTICATED = 1 << 1,
	IMAP_SELECTED = 1 << 2,
	IMAP_LOGOUT = 1 << 3,
};
#define IMAP_ANY_STATE (IMAP_NOT_AUTHENTICATED | IMAP_AUTHENTICATED | IMAP_SELECTED)
#define IMAP_AUTH_STATES (IMAP_AUTHENTICATED | IMAP_SELECTED)

/* Command table flags (besides the states) */
enum {
	IMAP_CMD_UID = 1 << 8,        /* has a "UID" form */
	IMAP_CMD_NO_EXPUNGE = 1 << 9, /* RFC 9051 §7.5.1: no EXPUNGE while answering it
	                               * (FETCH, STORE, SEARCH; their UID forms may) */
};

/* What the session does with the next input. */
enum imap_mode {
	IMAP_MODE_COMMAND,
	IMAP_MODE_AUTH, /* AUTHENTICATE: waiting for a SASL response line */
	IMAP_MODE_IDLE, /* IDLE: waiting for DONE */
};

/* The selected mailbox as this session knows it (RFC 9051 §2.3.1): the sequence map
 * (seq n is uids[n-1]) and the MODSEQ up to which changes were reported. Flags are
 * not cached (SELECT of 100,000 messages reads only UIDs). The client knows the state
 * of message i if its MODSEQ is at most max(modseq, reported[i]): a sync reports every
 * message changed since `modseq` whose MODSEQ is above reported[i], whoever changed it,
 * so each change reaches the client exactly once (issue 16). */
struct imap_view {
	int64_t mailbox_id;
	char *name;                /* UTF-8 (heap) */
	bool readonly;             /* EXAMINE */
	uint32_t uidvalidity;
	uint32_t uidnext;          /* as last reported */
	/* IMAP4rev1 \Recent (RFC 3501 §2.3.2): the UIDs this session claimed, as ranges
	 * lo..hi-1 (SELECT claims what no session saw yet, a sync what arrived since); a
	 * message is recent in one session only. The oldest range goes when they run out. */
	struct { uint32_t lo, hi; } recent[8];
	size_t nrecent;
	uint64_t modseq;           /* changes up to this MODSEQ are reflected */
	uint32_t *uids;
	uint64_t *reported;        /* per message: the MODSEQ whose FLAGS the client got
	                            * last (STORE answer, FETCH FLAGS, sync); 0: none */
	size_t n, cap;
	uint32_t *gone;            /* expunged in the store, not yet reported (ascending) */
	size_t ngone, gonecap;
	uint64_t gone_since;       /* the pending expunges all have a MODSEQ above this */
	bool dirty;                /* a store event arrived since the last sync */
	size_t nkeywords;          /* keywords announced in FLAGS */
};

struct imap_session {
	struct conn *c;            /* valid until the session is freed; conn_is_closed() once gone */
	const struct imapd_listener *l;
	const struct imapd_env *env;
	const struct settings *s;
	struct arena *arena;       /* the connection's lifetime */
	struct arena *cmd_arena;   /* cleared after every command */
	enum imap_state state;
	enum imap_mode mode;
	struct imap_reader rd;
	/* the command running */
	const char *tag;           /* in cmd_arena */
	unsigned cmd_flags;        /* its table flags */
	bool cmd_uid;              /* UID form */
	/* authentication */
	char *user;                /* canonical address once authenticated (arena) */
	int64_t account_id;
	bool user_counted;         /* counted in env->users */
	struct auth_sasl *sasl;    /* AUTHENTICATE's SASL exchange, in cmd_arena (auth/sasl.h) */
	struct store_sub *sub;
	/* ENABLE */
	bool rev2;
	bool condstore;            /* RFC 7162 §3.1: MODSEQ in unsolicited FETCH */
	bool qresync;              /* RFC 7162 §3.2: VANISHED instead of EXPUNGE */
	bool utf8;                 /* RFC 6855 UTF8=ACCEPT */
	/* SELECTED */
	struct imap_view view;
	bool selected;
	uint32_t *saved;           /* SEARCHRES "$": UIDs (heap) */
	size_t nsaved;
	bool saved_valid;
	struct search_update *updates; /* RFC 5267 contexts (search_update.c; heap) */
	bool updates_stale;        /* own change: evaluate the contexts at the next sync */
	struct imap_notify *notify; /* RFC 5465 NOTIFY SET (notify.c; heap) or NULL */
	uint64_t catenated;        /* bytes CATENATE joined in the running APPEND/REPLACE */
	/* IDLE */
	struct imapd_idlers *idlers; /* the loop's IDLE list while we are on it */
	struct imap_session *idle_prev, *idle_next;
	int64_t idle_notified;     /* monotonic seconds of the last "still here" */
	char *idle_tag;            /* the IDLE command's tag (heap: cmd_arena is cleared
	                            * after each live update) */
	/* FETCH whose responses are being streamed (cmd_fetch.c; it holds the conn) */
	struct fetch_job *fetch;
};

/* One command as the dispatcher hands it to its handler. */
struct imap_cmd {
	const char *tag;
	const char *name;          /* upper case, e.g. "FETCH" (also for UID FETCH) */
	bool uid;
	struct imap_cur args;      /* positioned after the name and its SP */
};

struct imap_cmd_def {
	const char *name;
	void (*run)(struct imap_session *is, struct imap_cmd *cmd);
	unsigned flags; /* enum imap_state bits | IMAP_CMD_* */
};

const struct imap_cmd_def *imap_cmd_lookup(struct bytes name);

/* ---- replies (reply.c; the tagged completions in tagged.c) */

/* A CONDSTORE-enabling command (RFC 7162 §3.1) ran: turns CONDSTORE on and, when a
 * mailbox is selected, reports its HIGHESTMODSEQ (§3.1.2.1). */
void imap_condstore_enable(struct imap_session *is);

/* Completes the running command (tagged.c): first the pending untagged updates of the
 * selected mailbox (imap_view_sync, with EXPUNGE unless the command forbids it), then
 * "TAG STATUS text". status is "OK", "NO" or "BAD"; text may start with a response
 * code "[...]". BAD and NO count as client errors where appropriate. */
void imap_tagged(struct imap_session *is, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A syntax error in the arguments: "TAG BAD <cur.error>". */
void imap_bad_args(struct imap_session *is, struct imap_cmd *cmd);
/* Maps a store error to a tagged NO with the right response code. */
void imap_store_error(struct imap_session *is, int r, const char *error);
/* Writes the capability list, space-separated, without a prefix. */
void imap_write_capabilities(struct imap_session *is);
/* Writes s to the connection (nothing when it is gone). */
void imap_write(struct imap_session *is, const char *s, size_t len);
void imap_printf(struct imap_session *is, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Counts a client error; past the limit the session ends with BYE. */
void imap_client_error(struct imap_session *is);

/* Asynchronous steps (async.c) hold the connection (conn_hold: input waits, the session
 * outlives the close); the completion replies unless conn_is_closed() and ends with
 * conn_release() (the command then ends at CONN_RELEASED), after which it must not
 * touch the session. Runs work(is, ctx) on the worker pool, then done(is, ctx) on the
 * session's loop (not called when the connection closed meanwhile), holding the
 * connection in between. */
typedef void imap_work_fn(struct imap_session *is, void *ctx);
void imap_run_async(struct imap_session *is, imap_work_fn *work, imap_work_fn *done, void *ctx);

/* The connection closed (events.c): no more store events, IDLE list, user count. */
void imap_session_detach(struct imap_session *is);
/* The session is freed (events.c): the view and the NOTIFY state go. */
void imap_session_state_free(struct imap_session *is);
/* Logged in: state, timeout, event subscription. */
void imap_logged_in(struct imap_session *is, int64_t account_id, const char *address);
/* Enters IDLE mode and the loop's list for "* OK Still here"; imap_idle_stop leaves
 * it (events.c). */
void imap_idle_start(struct imap_session *is);
void imap_idle_stop(struct imap_session *is);

/* For a continuation k reading lines (IDLE, AUTHENTICATE): 1 with *line_r, 0 when
 * no full line is buffered or k may not read now, -1 when the line is over
 * limits.line_length (BYE sent, closing). */
int imap_continuation_line(struct imap_session *is, const struct conn_continuation *k, struct bytes *line_r);

/* ---- mailbox names (reply.c) */

/* Decodes a mailbox argument (modified UTF-7 for IMAP4rev1 clients, UTF-8 after
 * ENABLE IMAP4rev2) and canonicalises it with the store. Returns 1 with the UTF-8
 * name in cmd_arena, or -1 with *error_r. */
int imap_mailbox_arg(struct imap_session *is, const struct imap_str *in, const char **name_r,
		     const char **error_r);
/* Appends a mailbox name as the client expects it. */
void imap_put_mailbox_name(struct imap_session *is, struct buf *b, const char *utf8);

/* ---- the selected mailbox (view.c) */

/* Opens the view of the mailbox as the snapshot shows it (SELECT/EXAMINE): its UIDs,
 * UIDNEXT and HIGHESTMODSEQ, so that the first sync reports exactly what changed after
 * the snapshot. Copies what it keeps (the snapshot may live in the command arena). */
void imap_view_open(struct imap_session *is, const struct store_mailbox_snapshot *snap, bool readonly);
/* Ends the selection: the view, its update contexts and the saved result (view_sync.c). */
void imap_view_close(struct imap_session *is);
/* Appends uid (the highest so far) to the view, its flags known up to modseq. */
void imap_view_add(struct imap_view *v, uint32_t uid, uint64_t modseq);
/* Sends (view_sync.c) the pending untagged EXISTS/EXPUNGE/FETCH for changes made by others (and
 * by this session's own store operations) since the last sync. With allow_expunge
 * false, expunged messages stay in the sequence map until a later sync. */
void imap_view_sync(struct imap_session *is, bool allow_expunge);
/* Position (0-based) of uid in the view, or -1. */
long imap_view_index(const struct imap_view *v, uint32_t uid);
/* Resolves a sequence set (uid false: sequence numbers; true: UIDs) to ascending
 * view indices (cmd_arena). Sequence numbers beyond the mailbox are an error
 * (returns -1 with *error_r); unknown UIDs are skipped. */
int imap_view_resolve(struct imap_session *is, const struct imap_seqset *set, bool uid, size_t **idx_r, size_t *n_r,
		 const char **error_r);
/* The UID set (ranges) of the given view indices, for store calls (cmd_arena). */
struct store_uidset imap_view_uidset(struct imap_session *is, const size_t *idx, size_t n);
/* Appends "(\Seen \Answered kw ...)" for flags and keywords, with \Recent when recent. */
void imap_put_flags(struct buf *b, unsigned flags, const char *keywords, bool recent);
/* Notes that the client got the FLAGS of view index i as of modseq (keeps the highest). */
void imap_view_reported(struct imap_view *v, size_t i, uint64_t modseq);
/* After this session's own STORE fc (done): sends "* n FETCH (FLAGS (...))" (with UID
 * when uid_too; with MODSEQ under CONDSTORE) for the given UIDs and notes them as
 * reported. For .SILENT a message is sent (with FLAGS) only when the client cannot
 * compute its flags itself (another session changed it before us, unreported, or
 * after us: fc->changed_prev and fc->modseq tell), and under CONDSTORE the others get
 * a FETCH with MODSEQ only (RFC 7162 §3.1.3). */
void imap_view_refresh_flags(struct imap_session *is, const struct store_uidset *set, bool silent, bool uid_too,
			const struct store_flag_change *fc);
/* If the mailbox has keywords the client was not told of, appends the untagged FLAGS
 * and PERMANENTFLAGS with all of them (RFC 9051 §7.3.5: before a FETCH that carries
 * one). */
void imap_view_put_keywords(struct imap_session *is, struct buf *b);
/* Appends "* n FETCH (UID u FLAGS (...) MODSEQ (m))" for view index i: UID when uid,
 * FLAGS when flags, MODSEQ when CONDSTORE is enabled. */
void imap_view_put_fetch_flags(struct imap_session *is, struct buf *b, size_t i, const struct store_msg *m, bool uid,
			  bool flags);
/* Notes uid as expunged, to be reported at the next sync that may (EXPUNGE/VANISHED). */
void imap_view_gone(struct imap_view *v, uint32_t uid);
/* True if the view's message at index i is recent for this session. */
bool imap_view_is_recent(const struct imap_session *is, size_t i);
/* Notes UIDs lo..hi-1 as recent for this session (claimed from the store). */
void imap_view_recent_add(struct imap_view *v, uint32_t lo, uint32_t hi);

/* ---- FETCH helpers (fetch_body.c) */
struct imap_fetch_body;
struct mail_part;
/* The bytes of body item fb (its section, not its <partial>): *p_r, *n_r point into msg
 * or into tmp (decoded BINARY, HEADER.FIELDS; the caller frees tmp); *exists_r false
 * for a section the message does not have (then empty). Returns 1, or -1 with *error_r
 * for BINARY of an unknown Content-Transfer-Encoding. */
int imap_fetch_body_bytes(const struct imap_fetch_body *fb, const char *msg, size_t len, uint64_t header_size,
		     const struct mail_part *parts, size_t nparts, struct buf *tmp, const char **p_r, size_t *n_r,
		     bool *exists_r, const char **error_r);
/* The message a FETCH response is cut from: its open file and part table. */
struct fetch_src {
	int fd;
	uint64_t size, header_size;
	const struct mail_part *parts;
	size_t nparts;
	struct arena *tmp;         /* the message's scratch */
};
/* A literal's bytes, streamed into the response text at offset at: [off, off+len)
 * of the file under transform x, cut to <start.count>. */
struct fetch_splice {
	size_t at;
	uint64_t off, len;
	int x;                     /* enum mail_xform */
	uint64_t start, count;
	struct fetch_splice *next;
};
/* Appends body item fb of the message src as the item's value: a string, or a
 * literal prefix ({n} CRLF, ~{n} for BINARY with NULs) whose bytes are appended to
 * the splice list, or the number for BINARY.SIZE. Returns 1; -1 with *error_r for
 * BINARY of a part with an unknown Content-Transfer-Encoding (NO [UNKNOWN-CTE]); -2
 * when the file cannot be read. */
int imap_fetch_body_item(struct buf *out, const struct imap_fetch_body *fb, const struct fetch_src *src,
		    struct fetch_splice **list, const char **error_r);

/* ---- FETCH responses (fetch_put.c) */

struct imap_fetch;
/* Appends the FETCH response of f for view index i (metadata m; tmp for scratch). Body
 * sections read the file it opens into src->fd (the caller closes it; -1 when none)
 * and add their literals to *sp_r; *unknown_cte is set when a BINARY item met an
 * unknown Content-Transfer-Encoding (the item is then NIL). Returns 1, or 0 when the
 * message's metadata or bytes are gone (the caller drops what was appended). */
int imap_fetch_msg(struct imap_session *is, const struct imap_fetch *f, struct fetch_src *src,
		   struct fetch_splice **sp_r, struct buf *b, size_t i, const struct store_msg *m, struct arena *tmp,
		   bool *unknown_cte);
/* imap_fetch_msg for f without body sections (RFC 5465 MessageNew fetch attributes).
 * Returns 1, or 0 when the message is gone (nothing useful was appended). */
int imap_fetch_put(struct imap_session *is, const struct imap_fetch *f, struct buf *b, size_t i,
		   const struct store_msg *m, struct arena *tmp);

/* ---- APPEND and REPLACE (cmd_append.c) */

/* Messages in one MULTIAPPEND command (RFC 3502), and the bytes of all its literals:
 * each literal is at most limits.message_size (APPENDLIMIT), all of them together at
 * most twice that (plus the command limit for the rest). */
#define IMAP_APPEND_MESSAGES_MAX 1000
static inline uint64_t imap_append_total_max(const struct settings *s)
{
	return 2 * (uint64_t)s->message_max + s->imap_command_max;
}
/* Parses one append-message after its leading SP ("[flag-list SP] [date-time SP]
 * append-data", RFC 4466 §2.3) into *ap (data viewed in the command buffer, keywords in
 * cmd_arena) and checks it. Returns 1; -1 for a syntax error (cur->error); 0 when the
 * message was refused and the tagged reply sent (BAD flag, NO [TOOBIG], NUL...). */
int imap_append_message_parse(struct imap_session *is, struct imap_cur *c, struct store_append *ap);
/* RFC 4469 CATENATE (catenate.c), after the keyword: joins the TEXT literals and URL
 * parts into *data_r (cmd_arena), *raw_r when every part was a literal8. Returns 1;
 * -1 for a syntax error (cur->error); 0 when the tagged NO was sent ([BADURL "url"],
 * [TOOBIG]). */
int imap_catenate_parse(struct imap_session *is, struct imap_cur *c, struct bytes *data_r, bool *raw_r);
/* Appends "first" or "first:last" (an APPENDUID uid-set of consecutive UIDs). */
void imap_put_uid_range(struct buf *b, uint32_t first, uint32_t last);

/* ---- handlers, one per cmd_<name>.c */
void imap_cmd_capability(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_noop(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_logout(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_starttls(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_login(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_authenticate(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_enable(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_id(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_namespace(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_select(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_create(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_delete(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_rename(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_subscribe(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_list(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_status(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_append(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_replace(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_idle(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_close(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_expunge(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_search(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_fetch(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_store(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_copy(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_quota(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_sort(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_compress(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_thread(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_cancelupdate(struct imap_session *is, struct imap_cmd *cmd);
void imap_cmd_notify(struct imap_session *is, struct imap_cmd *cmd);

/* ---- RFC 5465 NOTIFY (notify.c; the command in cmd_notify.c) */
struct store_event;
/* A store event of the account, for a session with NOTIFY: queues STATUS/LIST
 * responses and writes them at once when no command is in progress. */
void imap_notify_event(struct imap_session *is, const struct store_event *ev);
/* Writes the queued NOTIFY responses (before a tagged reply, or between commands). */
void imap_notify_flush(struct imap_session *is);
/* Ends NOTIFY (NOTIFY NONE, session end). */
void imap_notify_end(struct imap_session *is);
/* No command in progress: untagged responses may be written now. */
bool imap_notify_may_write(const struct imap_session *is);
/* True when a "selected"/"selected-delayed" group wants the selected mailbox's message
 * events pushed at once; *delayed_r for selected-delayed (no EXPUNGE outside commands). */
bool imap_notify_selected(const struct imap_session *is, bool *delayed_r);
/* The fetch attributes of MessageNew in the selected group ("(UID FLAGS ...)", what
 * imap_fetch_parse reads), or NULL: a FETCH with them follows the EXISTS of each new
 * message. */
const char *imap_notify_new_fetch(const struct imap_session *is);

/* ---- RFC 5267 CONTEXT=SEARCH/SORT updates (search_update.c) */
struct imap_search;
struct imap_sort_crit;
/* Before registering: NO [CANNOT] (tagged reply sent, returns -1) when the program
 * uses message sequence numbers or "$"; else 0. */
int imap_search_update_check(struct imap_session *is, const struct imap_search *prog);
/* Registers a context for the running command's tag: criteria is the search program's
 * text (what imap_search_parse reads), crit/ncrit the sort keys (NULL for SEARCH),
 * uids the result (ascending, or in sort order). False when the session has
 * limits.imap_search_updates contexts already (the caller answers NOUPDATE). */
bool imap_search_update_add(struct imap_session *is, bool uid, struct bytes criteria, const struct imap_sort_crit *crit,
		       size_t ncrit, const uint32_t *uids, size_t n);
/* Contexts of the session. */
size_t imap_search_update_count(const struct imap_session *is);
/* Frees every context (the selection ends). */
void imap_search_update_free_all(struct imap_session *is);
/* Ends the newest context with this tag (CANCELUPDATE). Returns false when there is none. */
bool imap_search_update_cancel(struct imap_session *is, const char *tag);
/* Before the EXPUNGEs of the given UIDs are sent: REMOVEFROM for the members among
 * them, while their numbers are valid. */
void imap_search_update_expunged(struct imap_session *is, struct buf *b, const uint32_t *gone, size_t ngone);
/* After a sync's EXISTS: evaluates every context again and appends ADDTO/REMOVEFROM. */
void imap_search_update_sync(struct imap_session *is, struct buf *b);
/* RFC 5267 §4.4: parses "n:m" after PARTIAL SP (either order; returned low first). */
int imap_cur_partial(struct imap_cur *c, uint32_t *lo_r, uint32_t *hi_r);
/* Appends " PARTIAL (lo:hi set)" for positions lo..hi of the result nums (in result
 * order), "NIL" for the set when none falls in the range. */
void imap_put_partial(struct buf *b, uint32_t lo, uint32_t hi, const uint32_t *nums, size_t n);

/* ---- search programs (search_job.c) */
struct imap_search;
/* A search evaluated for SEARCH, SORT or THREAD: r is 1, or a store error with error;
 * uids are the matching UIDs this session knows, ascending (cmd_arena), highest the
 * highest MODSEQ among them. A pool step may replace r and error. */
struct imap_search_job {
	int r;
	const char *error;
	uint32_t *uids;
	size_t n;
	uint64_t highest;
	/* the program matches every message and was not run (imap_search_async_keys):
	 * uids are the view's, of which one may be gone from the store; a step that
	 * finds a message of them without stored keys runs it (imap_search_job_run) */
	bool all;
};
typedef void imap_search_step_fn(struct imap_session *is, struct imap_search_job *job, void *arg);
/* Runs the parsed program prog over the selected mailbox: converts it on the loop,
 * evaluates it on the worker pool, then then(is, job, arg) on the pool as well when
 * the search succeeded (then may be NULL; it may read the view and use cmd_arena, it
 * may not write to the connection), then reply(is, job, arg) on the session's loop,
 * which writes the answer and the tagged reply (not called when the connection closed
 * meanwhile). The session is busy in between, so pipelined commands wait. */
void imap_search_async(struct imap_session *is, const struct imap_search *prog, imap_search_step_fn *then,
		       imap_search_step_fn *reply, void *arg);
/* The same for SORT and THREAD, which read the stored keys of the whole mailbox
 * anyway: a program that matches every message (ALL) is not run on the pool, the job
 * gets the view's UIDs with all set instead (see struct imap_search_job). */
void imap_search_async_keys(struct imap_session *is, const struct imap_search *prog, imap_search_step_fn *then,
			    imap_search_step_fn *reply, void *arg);
/* Runs the search of a job that has all set (on the pool, from its then step): the
 * job's r, uids and n as if it had run; all is cleared. */
int imap_search_job_run(struct imap_session *is, struct imap_search_job *job);
/* The same search done at once, on the calling thread (RFC 5267 contexts at a sync):
 * returns 1 with the UIDs and highest MODSEQ as above, or a store error with *error_r. */
int imap_search_uids(struct imap_session *is, const struct imap_search *prog, uint32_t **uids_r, size_t *n_r,
		     uint64_t *highest_r, const char **error_r);
/* Of the given UIDs, those in the view, ascending and once each, into *set_r (a);
 * returns how many. *few_r: they are few enough against the mailbox (under a
 * sixteenth) to look their stored keys up one by one rather than walk the whole
 * mailbox's key index (sort_uids.c; SORT and THREAD). */
size_t imap_sort_set(struct imap_session *is, struct arena *a, const uint32_t *uids, size_t n, uint32_t **set_r,
		     bool *few_r);
/* Sorts the given UIDs by the criteria (sort_uids.c): the UIDs in sort order
 * (cmd_arena). Returns 1, or a store error with *error_r. */
int imap_sort_uids(struct imap_session *is, const struct imap_sort_crit *crit, size_t ncrit, const uint32_t *uids,
		   size_t n, uint32_t **out_r, size_t *n_r, const char **error_r);
/* The view's every message sorted by the criteria from the stored keys alone, with no
 * search (SORT ... ALL): 1 with the UIDs in sort order (cmd_arena), 0 when a message
 * of the view has no keys or is gone from the store (search, then imap_sort_uids),
 * or a store error with *error_r. */
int imap_sort_view(struct imap_session *is, const struct imap_sort_crit *crit, size_t ncrit, uint32_t **out_r,
		   size_t *n_r, const char **error_r);
/* True when charset (NULL: none given) is one this server searches in: UTF-8,
 * US-ASCII. */
bool imap_charset_ok(const char *charset);

/* STATUS items (bits), for imap_status_items and imap_status_write */
enum {
	ST_MESSAGES = 1 << 0,
	ST_UIDNEXT = 1 << 1,
	ST_UIDVALIDITY = 1 << 2,
	ST_UNSEEN = 1 << 3,
	ST_DELETED = 1 << 4,
	ST_SIZE = 1 << 5,
	ST_RECENT = 1 << 6,
	ST_APPENDLIMIT = 1 << 7,
	ST_HIGHESTMODSEQ = 1 << 8,
	ST_MAILBOXID = 1 << 9,
};
/* STATUS items for one mailbox, shared by STATUS and LIST RETURN (STATUS ...)
 * (status_put.c): parses "(" status-att *(SP status-att) ")" into a bit mask. */
int imap_status_items(struct imap_cur *cur, unsigned *items_r);
/* Writes "* STATUS name (...)" for mb. */
void imap_status_write(struct imap_session *is, const struct store_mailbox *mb, unsigned items);

#endif
