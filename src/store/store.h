/* store.h: the one mail store (the store module's only public API).
 *
 * Accounts, domains and aliases; mailboxes with UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ;
 * messages with flags, keywords, MODSEQ, stable email and thread ids; expunged UIDs;
 * quota; search; change events. Nothing outside src/store knows the backend (SQLite
 * in WAL mode for metadata, message bodies as immutable files under DIR/blobs).
 *
 * Threading. One struct store per process, shared by every thread. Reads run on the
 * calling thread with a pooled read connection (WAL readers never block the writer).
 * Every write is an operation handed to the store's committer thread, which applies
 * the queued operations of all threads in one transaction and one WAL fsync (group
 * commit); message blobs are parsed and written beforehand by the store's two
 * preparer threads and made durable by the committer for the whole batch (one
 * syncfs) before the transaction. A write returns (or calls back)
 * only once its blob and its rows are on stable storage. Each
 * write exists in two forms: store_x() blocks the calling thread until done (CLI,
 * tests, pool threads), store_x_async() returns at once and later runs
 * done(arg, result, error) on `loop` through loop_post() (or on the committer thread
 * when loop is NULL). Reads are fast indexed queries but still block: keep big ones
 * (search over 100,000 messages) off the loops or accept ~100 ms.
 *
 * Return convention (DESIGN.md §4.7): >0 done, 0 not found (lookups only), <0 error
 * with text in *error_r. Errors a protocol must tell apart have their own negative
 * codes (enum store_error), e.g. STORE_EOVERQUOTA maps to SMTP 552 5.2.2, IMAP
 * NO [OVERQUOTA], JMAP overQuota. Strings returned in arenas belong to the caller's
 * arena; error strings are static or live in the store until the next call on the
 * same thread (copy them if kept).
 *
 * Messages are stored with CRLF line endings (bare LF is converted at ingest; every
 * other byte is kept, NULs included), so sizes, part offsets and BODY[] reads are
 * exactly what IMAP and POP3 send. */
#ifndef POSTAMT_STORE_H
#define POSTAMT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "arena.h"
#include "loop.h"

struct store;

enum store_error {
	STORE_ERR = -1,         /* internal or I/O error */
	STORE_ENOTFOUND = -2,   /* no such account/mailbox/message/domain */
	STORE_EEXISTS = -3,     /* name already taken */
	STORE_EOVERQUOTA = -4,  /* the account's quota would be exceeded */
	STORE_EINVAL = -5,      /* invalid argument (bad name, address, flag...) */
	STORE_EMODIFIED = -6,   /* UNCHANGEDSINCE guard failed (see store_flags) */
	STORE_ENOTALLOWED = -7, /* e.g. deleting INBOX, a mailbox with children */
	STORE_ETOOBIG = -8,     /* message larger than the limit */
	STORE_ELIMIT = -9,      /* UID space exhausted (never in practice) */
	STORE_ENOSPACE = -10,   /* the server's disk is full, or new mail would leave less
	                         * than limits.disk_reserve free: a temporary refusal
	                         * (SMTP 452 4.3.1, IMAP NO [OVERQUOTA], JMAP overQuota) */
	STORE_EUNAVAIL = -11,   /* the database cannot be reached or gave a temporary error
	                         * (PostgreSQL restarting, a timeout): SMTP 451, IMAP NO
	                         * [UNAVAILABLE] */
};

/* Limits. */
#define STORE_MAILBOX_NAME_MAX 512   /* bytes of a full mailbox name */
#define STORE_MAILBOX_DEPTH_MAX 32   /* levels of hierarchy */
#define STORE_KEYWORD_MAX 64         /* bytes of a keyword */
#define STORE_KEYWORDS_PER_MESSAGE 64
#define STORE_ADDRESS_MAX 254
#define STORE_ALIAS_DEPTH 8          /* alias expansion depth */
#define STORE_UID_MAX 0x7fffffffu    /* UIDs stay below 2^31 */

/* Completion of an asynchronous write: result is the same value the synchronous form
 * returns; error text valid only during the call. */
typedef void store_done_fn(void *arg, int result, const char *error);

/* ---------------------------------------------------------------- opening */

struct store_options {
	bool recover;      /* run the recovery pass (delete blobs not referenced by any
	                    * row): the server does this once at start, the CLI never */
	bool create;       /* create DIR/db and DIR/blobs if missing */
	bool migrate;      /* migrate an older database forward (store_backup.h): the server
	                    * and `postamt upgrade`; without it an older one is refused */
	int read_conns;    /* read connections kept (0: 8) */
	uint64_t message_max; /* largest accepted message in bytes (0: 50 MiB) */
	bool no_fsync;     /* tests only: skip fsyncs (PRAGMA synchronous=OFF) */
	uint64_t disk_reserve; /* limits.disk_reserve: new messages are refused (STORE_ENOSPACE)
	                        * when they would leave fewer free bytes on DIR's file system
	                        * (0: never); see store_space_check */
	uint64_t reserve_file; /* limits.disk_reserve_file: bytes kept in DIR/db/reserve and
	                        * given up when a deletion finds the disk full (0: none; an
	                        * existing file is then left alone, as the CLI does) */
	size_t contacts_received_max; /* senders of received mail kept per account for the
	                        * address autocomplete (0: STORE_CONTACTS_RECEIVED_MAX) */
	uint64_t index_text_max; /* search.index_text_max: decoded text of a message above
	                          * this is not indexed (0: STORE_INDEX_TEXT_MAX) */
	/* tests only (NULL in the server): called by store_mailbox_snapshot inside its read
	 * transaction, after the UID list is read, so that a test can commit writes there */
	void (*snapshot_hook)(void *arg);
	void *snapshot_hook_arg;
	bool announce;     /* write this process's change events into the database for
	                    * a watching server (store_import.h); the CLI sets it */
	int watch_ms;      /* publish changes other processes announced, polled this often
	                    * (0: never; the server sets it) */
	const char *postgresql; /* store.backend = postgresql: store.postgresql (libpq conninfo
	                    * or URI); NULL: SQLite. Domains, accounts, aliases, passwords and
	                    * session generations then live there; message storage is not
	                    * converted yet and refuses (docs/cluster.md) */
};

/* With store.backend = postgresql, what is not converted yet answers this with
 * STORE_EUNAVAIL (a temporary refusal: SMTP 451, IMAP NO [UNAVAILABLE]; nothing is
 * acknowledged, senders retry). */
#define STORE_PG_MISSING "postgresql backend: not implemented yet for this operation"
/* True when the store is shared with other nodes (store.backend = postgresql): rows
 * this process caches may be changed by another (store_pg.c). */
bool store_shared(const struct store *s);

/* Opens the store in data_dir (DIR/db/store.sqlite, DIR/blobs). Starts the committer
 * and preparer threads. Returns 1 and *store_r, or <0 with *error_r (static or
 * store-owned text valid until the process ends). */
int store_open(const char *data_dir, const struct store_options *opt, struct store **store_r,
	       const char **error_r);
/* Finishes queued writes, stops the threads, closes everything; *sp = NULL. Subscribers
 * must have been removed (store_unsubscribe) before; events still in flight to loops
 * are delivered or dropped safely. */
void store_close(struct store **sp);
/* Waits until no write is queued, being prepared or being committed (its completion
 * posted); returns how many batches the committer has run so far, so that a caller
 * can tell whether anything ran between two calls. For the server's stop sequence;
 * not from a store thread. */
uint64_t store_wait_idle(struct store *s);

/* ---------------------------------------------------------------- accounts */

struct store_account {
	int64_t id;
	const char *address;   /* local@domain, domain lower case */
	const char *password_hash;
	const char *scram;     /* SCRAM-SHA-256 secret (auth/scram.h), NULL if none yet */
	uint64_t quota;        /* bytes, 0 = no limit */
	uint64_t usage;        /* bytes of all messages in all mailboxes (exact) */
	uint64_t messages;     /* number of messages in all mailboxes */
	uint64_t modseq;       /* highest MODSEQ of the account (JMAP state) */
};

/* Normalises an address: trims, checks syntax (local@domain, no spaces or controls,
 * at most STORE_ADDRESS_MAX bytes), lower-cases the domain. Returns 1 and the result in
 * the arena, or STORE_EINVAL with *error_r. */
int store_address_normalize(struct arena *a, const char *address, const char **out_r,
			    const char **error_r);

int store_domain_add(struct store *s, const char *domain, const char **error_r);
/* Domains in alphabetical order, a NULL-terminated array in the arena. */
int store_domain_list(struct store *s, struct arena *a, const char ***domains_r,
		      const char **error_r);
/* 1 if domain is local, 0 if not, <0 on error. */
int store_domain_exists(struct store *s, const char *domain, const char **error_r);

/* Creates the account and its default mailboxes (INBOX, Drafts, Sent, Trash, Junk,
 * Archive, all subscribed). The domain must exist (STORE_ENOTFOUND) and the address
 * must be free (STORE_EEXISTS, also when it is an alias). password_hash is stored as
 * given (make it with auth_password_hash). *id_r may be NULL. */
int store_account_add(struct store *s, const char *address, const char *password_hash,
		      uint64_t quota, int64_t *id_r, const char **error_r);
/* Deletes the account, its mailboxes and messages (blobs are freed when unreferenced). */
int store_account_del(struct store *s, const char *address, const char **error_r);
int store_account_set_password(struct store *s, const char *address, const char *password_hash,
			       const char **error_r);
/* Stores the account's SCRAM secret (made with auth_scram_secret_make), provided its
 * password hash is still password_hash: a password changed in the meantime keeps
 * its own (or no) secret. Returns 1 when stored, 0 when the account or its hash
 * changed, <0 on error. store_account_set_password forgets the secret of the old
 * password (set the new one after it); store_account_del removes it. */
int store_account_set_scram(struct store *s, int64_t account_id, const char *password_hash, const char *secret,
			    const char **error_r);
int store_account_set_quota(struct store *s, const char *address, uint64_t quota,
			    const char **error_r);
/* Looks up an account by address (case-insensitive). Returns 1 and *acct_r (strings in
 * the arena), 0 if there is none, <0 on error. */
int store_account_get(struct store *s, struct arena *a, const char *address,
		      struct store_account *acct_r, const char **error_r);
int store_account_get_by_id(struct store *s, struct arena *a, int64_t id,
			    struct store_account *acct_r, const char **error_r);
/* The account's session generation: a counter that store_account_set_password and
 * store_account_end_sessions raise, so that servers can end the sessions and
 * remembered credentials made before (the webmail's). Returns 1 and *gen_r, 0 when
 * there is no such account, <0 on error. */
int store_account_session_gen(struct store *s, int64_t id, uint64_t *gen_r, const char **error_r);
/* Raises the account's session generation ("sign out everywhere"). STORE_ENOTFOUND
 * when there is no such account. */
int store_account_end_sessions(struct store *s, const char *address, const char **error_r);
/* All accounts ordered by address: an array in the arena. */
int store_account_list(struct store *s, struct arena *a, struct store_account **accts_r,
		       size_t *n_r, const char **error_r);

/* The admin flag (store_admin.c): admins get /admin and its API in the webmail.
 * store_account_set_admin: 1, STORE_ENOTFOUND when there is no such account.
 * store_account_is_admin: 1 admin, 0 not (or no such account), <0 on error; a
 * primary-key read, so servers ask on every admin request. store_admin_list: the
 * admins' account ids in ascending order (array in a). */
int store_account_set_admin(struct store *s, const char *address, bool on, const char **error_r);
int store_account_is_admin(struct store *s, int64_t account_id, const char **error_r);
int store_admin_list(struct store *s, struct arena *a, int64_t **ids_r, size_t *n_r, const char **error_r);
/* An account's last login (store_admin.c), for the admin pages. set: records it (a
 * write; callers throttle); 1, or <0 (an account deleted meanwhile is no error).
 * list: every recorded one, in a. 1, or <0. */
struct store_last_login {
	int64_t account_id;
	int64_t at; /* unix seconds */
	const char *proto, *ip;
};
int store_last_login_set(struct store *s, int64_t account_id, int64_t at, const char *proto, const char *ip,
			 const char **error_r);
int store_last_login_list(struct store *s, struct arena *a, struct store_last_login **v_r, size_t *n_r,
			  const char **error_r);
/* Removes a local domain that nothing uses any more. 1; STORE_ENOTFOUND; STORE_EINVAL
 * for a malformed name; STORE_ENOTALLOWED (with counts in *error_r) while an account
 * or an alias (the catch-all included) of the domain exists. The domain's DKIM key
 * files are the caller's business. */
int store_domain_del(struct store *s, const char *domain, const char **error_r);

/* Adds targets to the alias address (a local domain's address that is not an
 * account). A target is any address, local or remote. "@domain" as the alias address
 * is a catch-all for that domain. */
int store_alias_add(struct store *s, const char *address, const char *const *targets,
		    size_t ntargets, const char **error_r);
int store_alias_del(struct store *s, const char *address, const char **error_r);

struct store_alias {
	const char *address;
	const char *target;
};
int store_alias_list(struct store *s, struct arena *a, struct store_alias **aliases_r,
		     size_t *n_r, const char **error_r);

/* The result of resolving a recipient address for SMTP. */
struct store_rcpt {
	int64_t *accounts;      /* distinct local account ids */
	size_t naccounts;
	const char **remote;    /* addresses outside the local domains (forwarding) */
	size_t nremote;
};
/* Resolves address: an account, or an alias expanded recursively (at most
 * STORE_ALIAS_DEPTH levels; loops are cut). Returns 1 with *rcpt_r (arena) when the
 * address is deliverable (at least one account or remote target), 0 when the domain is
 * local but nothing matches (SMTP 550 5.1.1), STORE_ENOTFOUND when the domain is not
 * local, <0 on other errors. */
int store_resolve(struct store *s, struct arena *a, const char *address,
		  struct store_rcpt *rcpt_r, const char **error_r);

/* The sending policy (store_sender.c), one rule for SMTP and JMAP: true when the
 * user (login address `user`, account account_id) owns `address`: it is their
 * address, or a local address that delivers to their account. Lookups use a. */
bool store_sender_owned(struct store *s, struct arena *a, int64_t account_id, const char *user,
			const char *address);
/* Every mailbox in msg's From: and Sender: fields must be owned (store_sender_owned).
 * Returns 1 when they are (or there are no such fields), 0 with the first address
 * that is not (or a description of an unreadable field) in *bad_r (arena a). */
int store_header_senders_owned(struct store *s, struct arena *a, int64_t account_id, const char *user,
			       const char *msg, size_t len, const char **bad_r);

/* Quota check for SMTP RCPT time: 1 if `size` more bytes fit in the account (or size
 * is unknown, pass 0: then 1 unless already over), STORE_EOVERQUOTA if not. */
int store_quota_check(struct store *s, int64_t account_id, uint64_t size, const char **error_r);
int store_quota_get(struct store *s, int64_t account_id, uint64_t *usage_r, uint64_t *limit_r,
		    uint64_t *messages_r, const char **error_r);

/* ---------------------------------------------------------------- mailboxes */

enum store_special_use {
	STORE_SU_NONE = 0,
	STORE_SU_DRAFTS = 1 << 0,
	STORE_SU_SENT = 1 << 1,
	STORE_SU_TRASH = 1 << 2,
	STORE_SU_JUNK = 1 << 3,
	STORE_SU_ARCHIVE = 1 << 4,
	STORE_SU_ALL = 1 << 5,
	STORE_SU_FLAGGED = 1 << 6,
};
/* "\\Drafts" etc. for one bit; NULL for none or several. */
const char *store_special_use_name(unsigned int su);
/* Parses "\\Drafts" (case-insensitive). Returns the bit, or 0 if unknown. */
unsigned int store_special_use_parse(const char *name);

#define STORE_SEP '/'

struct store_mailbox {
	int64_t id;            /* stable; also the JMAP/OBJECTID mailbox id (see store_id_*) */
	int64_t account_id;
	const char *name;      /* full UTF-8 name, "/" separated; "INBOX" exactly */
	unsigned int special_use;
	bool subscribed;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t messages;     /* counts, kept exact in the same transactions */
	uint32_t unseen;
	uint32_t deleted;      /* messages with \Deleted */
	uint32_t recent;       /* UIDs >= first_recent_uid (IMAP4rev1 \Recent) */
	uint32_t first_recent_uid;
	uint64_t size;         /* sum of message sizes (STATUS SIZE) */
	uint64_t modseq;       /* MODSEQ of the last change to the mailbox itself (JMAP) */
	bool has_children;     /* another mailbox is below this one */
};

/* Checks a mailbox name: valid UTF-8, no control characters, no empty level or
 * leading/trailing "/", no "." or ".." level, at most STORE_MAILBOX_NAME_MAX bytes and
 * STORE_MAILBOX_DEPTH_MAX levels. "inbox" in any case is returned as "INBOX" (also as
 * the first level: "inbox/x" -> "INBOX/x"). Returns 1 and the canonical name (arena),
 * or STORE_EINVAL with a clear *error_r. Protocols decode modified UTF-7 first. */
int store_mailbox_name_check(struct arena *a, const char *name, const char **out_r,
			     const char **error_r);

/* Creates a mailbox (parents are created as needed, RFC 9051 §6.3.4). Returns 1 and
 * *id_r (may be NULL), STORE_EEXISTS, STORE_EINVAL. special_use may be 0. */
int store_mailbox_create(struct store *s, int64_t account_id, const char *name,
			 unsigned int special_use, int64_t *id_r, const char **error_r);
/* Deletes a mailbox and its messages. INBOX: STORE_ENOTALLOWED. A mailbox with
 * children: STORE_ENOTALLOWED (IMAP leaves \Noselect parents; we refuse, as RFC 9051
 * permits). */
int store_mailbox_delete(struct store *s, int64_t account_id, const char *name,
			 const char **error_r);
/* Renames a mailbox and everything below it; keeps ids and UIDVALIDITY. Renaming
 * INBOX (RFC 9051 §6.3.6) moves all its messages to a new mailbox `newname` and
 * leaves INBOX empty (the new mailbox gets a new UIDVALIDITY and new UIDs). */
int store_mailbox_rename(struct store *s, int64_t account_id, const char *oldname,
			 const char *newname, const char **error_r);
/* SUBSCRIBE needs an existing mailbox (STORE_ENOTFOUND otherwise). A subscription
 * outlives its mailbox: DELETE keeps the name subscribed (RFC 9051 §6.3.7, see
 * store_lost_subscriptions), a mailbox created again under it is subscribed, and
 * UNSUBSCRIBE of such a name removes it (1). */
int store_mailbox_subscribe(struct store *s, int64_t account_id, const char *name, bool on,
			    const char **error_r);
/* The subscribed names that have no mailbox (deleted since), sorted, NULL-terminated
 * (arena). 1, or <0. */
int store_lost_subscriptions(struct store *s, struct arena *a, int64_t account_id, const char ***names_r,
			     size_t *n_r, const char **error_r);
int store_mailbox_set_special_use(struct store *s, int64_t account_id, const char *name,
				  unsigned int special_use, const char **error_r);
/* Async forms of the mailbox writes, for callers on a loop (same results as the
 * synchronous calls; *id_r / *first_recent_uid_r are written before done runs and
 * must stay valid until then; the name strings are copied at once). */
void store_mailbox_create_async(struct store *s, int64_t account_id, const char *name,
				unsigned int special_use, int64_t *id_r, struct loop *loop,
				store_done_fn *done, void *arg);
void store_mailbox_delete_async(struct store *s, int64_t account_id, const char *name,
				struct loop *loop, store_done_fn *done, void *arg);
void store_mailbox_rename_async(struct store *s, int64_t account_id, const char *oldname,
				const char *newname, struct loop *loop, store_done_fn *done,
				void *arg);
void store_mailbox_subscribe_async(struct store *s, int64_t account_id, const char *name, bool on,
				   struct loop *loop, store_done_fn *done, void *arg);
void store_mailbox_claim_recent_async(struct store *s, int64_t account_id, int64_t mailbox_id,
				      uint32_t *first_recent_uid_r, struct loop *loop,
				      store_done_fn *done, void *arg);
/* Lookups. Return 1 and *mb_r, 0 if there is no such mailbox (or it belongs to another
 * account), <0 on error. */
int store_mailbox_get(struct store *s, struct arena *a, int64_t account_id, const char *name,
		      struct store_mailbox *mb_r, const char **error_r);
int store_mailbox_get_by_id(struct store *s, struct arena *a, int64_t account_id,
			    int64_t mailbox_id, struct store_mailbox *mb_r, const char **error_r);
/* All mailboxes of the account ordered by name (INBOX first). */
int store_mailbox_list(struct store *s, struct arena *a, int64_t account_id,
		       struct store_mailbox **mbs_r, size_t *n_r, const char **error_r);
/* IMAP4rev1 \Recent: returns the mailbox's first recent UID and makes every current
 * message non-recent for later sessions (a SELECT, not an EXAMINE, calls this). */
int store_mailbox_claim_recent(struct store *s, int64_t account_id, int64_t mailbox_id,
			       uint32_t *first_recent_uid_r, const char **error_r);
/* Keywords ever used in the mailbox (for FLAGS / PERMANENTFLAGS), NULL-terminated.
 * 1, 0 if the account has no such mailbox. */
int store_mailbox_keywords(struct store *s, struct arena *a, int64_t account_id,
			   int64_t mailbox_id, const char ***keywords_r, const char **error_r);
/* Mailboxes destroyed after modseq (JMAP Mailbox/changes): ids in the arena. */
int store_mailbox_destroyed_since(struct store *s, struct arena *a, int64_t account_id,
				  uint64_t modseq, int64_t **ids_r, size_t *n_r,
				  const char **error_r);

/* ---------------------------------------------------------------- messages */

enum store_flag {
	STORE_F_SEEN = 1 << 0,
	STORE_F_ANSWERED = 1 << 1,
	STORE_F_FLAGGED = 1 << 2,
	STORE_F_DELETED = 1 << 3,
	STORE_F_DRAFT = 1 << 4,
	STORE_F_ALL = 0x1f,
};
/* "\\Seen" ... for one flag bit. */
const char *store_flag_name(unsigned int flag);
/* Parses a system flag name (case-insensitive): the bit, or 0. "\\Recent" is not a
 * stored flag and returns 0. */
unsigned int store_flag_parse(const char *name);
/* True if kw is a valid keyword (IMAP atom without "\\", 1..STORE_KEYWORD_MAX bytes). */
bool store_keyword_valid(const char *kw);

/* One message as listed: everything needed for SELECT, FETCH FLAGS/UID/RFC822.SIZE/
 * INTERNALDATE/MODSEQ/EMAILID/THREADID. */
struct store_msg {
	uint32_t uid;
	unsigned int flags;        /* enum store_flag bits */
	const char *keywords;      /* space-separated, sorted, "" when none */
	uint64_t modseq;
	uint64_t size;
	int64_t internal_date;     /* unix seconds */
	int internal_tz;           /* minutes east of UTC */
	int64_t save_date;         /* unix seconds */
	int64_t email_id;
	int64_t thread_id;
};

/* Message metadata with the precomputed IMAP strings and parsed header fields. */
struct store_msg_meta {
	struct store_msg m;
	const char *envelope;      /* IMAP ENVELOPE, a parenthesised list */
	const char *bodystructure; /* IMAP BODYSTRUCTURE (with extension data) */
	const char *body;          /* IMAP BODY (no extension data) */
	const char *subject;       /* decoded UTF-8, "" when absent */
	const char *from, *to, *cc, *bcc, *reply_to, *sender; /* decoded, "Name <a@b>, ..." */
	const char *message_id, *in_reply_to, *references;   /* raw, unfolded */
	int64_t date;              /* Date: header, unix seconds, 0 if absent/bad */
	int date_tz;
	const char *preview;       /* RFC 8970 preview, up to 256 characters */
	uint64_t header_size;      /* bytes of the header including the blank line */
	bool has_attachment;
	const char *parts;         /* serialised part table: see mail.h mail_parts_decode */
};

/* A UID set: ranges [lo, hi], hi >= lo. Sessions turn sequence numbers and "*" into
 * UIDs themselves (only they know their view); store_search resolves SEQ keys with the
 * session's map. */
struct store_range {
	uint32_t lo, hi;
};
struct store_uidset {
	const struct store_range *r;
	size_t n;                  /* r may be NULL only when n is 0 (an empty set) */
};

/* Lists the messages of a mailbox with UID in set (set NULL: all), ordered by UID, in
 * one indexed range scan (100,000 messages in well under 100 ms). changed_since > 0
 * returns only messages with MODSEQ > changed_since (CONDSTORE/QRESYNC, JMAP); with
 * set NULL that is a range of the MODSEQ index, so its cost follows the number of
 * changes, not the size of the mailbox.
 * The array and strings are in the arena. */
int store_msg_list(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		   const struct store_uidset *set, uint64_t changed_since,
		   struct store_msg **msgs_r, size_t *n_r, const char **error_r);
/* Only UIDs (ascending) of a mailbox: the cheapest way to build a session's seq map. */
int store_uid_list(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		   uint32_t **uids_r, size_t *n_r, const char **error_r);
/* The lowest UID without \Seen (IMAP4rev1 SELECT [UNSEEN n]): 1 with *uid_r, 0 when
 * every message is seen, <0 error. */
int store_first_unseen(struct store *s, int64_t account_id, int64_t mailbox_id, uint32_t *uid_r,
		       const char **error_r);
/* Full metadata of one message. 1, 0 if no such UID, <0 error. */
int store_msg_meta(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		   uint32_t uid, struct store_msg_meta *meta_r, const char **error_r);
/* Full metadata of the messages with UID in set (NULL: all), ascending (FETCH
 * ENVELOPE/BODYSTRUCTURE over a range in one query). */
int store_msg_meta_list(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
			const struct store_uidset *set, struct store_msg_meta **metas_r, size_t *n_r,
			const char **error_r);
/* The fields a message list is sorted or filtered by, without the rest of the
 * metadata (JMAP Email/query's general path: a few dozen bytes a message instead of
 * the several KiB of store_msg_meta_list). */
struct store_msg_sortkey {
	uint32_t uid;
	bool has_attachment;
	int64_t date;              /* Date: header, unix seconds, 0 if absent/bad */
	/* RFC 8621 §4.4.2's sort keys, as stored for IMAP SORT (msg_keys): the base
	 * subject (RFC 5256 §2.1), the first From/To address's display name, else its
	 * address, ASCII letters upper-cased; the decoded fields as they are (as in
	 * store_msg_meta, "" when absent) for a message without stored keys */
	const char *subject;
	const char *from, *to;
};
/* The sort keys of the messages of the mailbox with UID in set (NULL: all; ranges
 * ascending), ascending by UID (array and strings in the arena). 1, STORE_ENOTFOUND
 * when the account has no such mailbox, <0 error. */
int store_msg_sortkeys(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		       const struct store_uidset *set, struct store_msg_sortkey **keys_r, size_t *n_r,
		       const char **error_r);
/* Email ids of a thread in the account, oldest first (JMAP Thread/get). */
int store_thread_emails(struct store *s, struct arena *a, int64_t account_id, int64_t thread_id,
			int64_t **email_ids_r, size_t *n_r, const char **error_r);
/* Same by email id (JMAP): any one message row carrying it in the account. */
int store_email_meta(struct store *s, struct arena *a, int64_t account_id, int64_t email_id,
		     struct store_msg_meta *meta_r, int64_t *mailbox_id_r, const char **error_r);
/* The mailboxes that hold email_id (JMAP mailboxIds), with their UIDs. */
int store_email_mailboxes(struct store *s, struct arena *a, int64_t account_id,
			  int64_t email_id, int64_t **mailbox_ids_r, uint32_t **uids_r,
			  size_t *n_r, const char **error_r);

/* Opens the message body for pread/sendfile: a new read-only fd (caller closes) and
 * the size in bytes (CRLF-normalised message as stored). 1, 0 if no such UID. */
int store_msg_open(struct store *s, int64_t account_id, int64_t mailbox_id, uint32_t uid,
		   int *fd_r, uint64_t *size_r, const char **error_r);
/* As store_msg_open, for a reader of only the bytes [off, off + len): the file has
 * the message's size and those bytes (others may read as zeros). On PostgreSQL only
 * the chunks that hold them are read; on SQLite it is store_msg_open. */
int store_msg_open_range(struct store *s, int64_t account_id, int64_t mailbox_id, uint32_t uid, uint64_t off,
			 uint64_t len, int *fd_r, uint64_t *size_r, const char **error_r);
/* Reads the whole message into the arena (small messages, tests, POP3 TOP). */
int store_msg_read(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		   uint32_t uid, const char **data_r, size_t *len_r, const char **error_r);
int store_email_open(struct store *s, int64_t account_id, int64_t email_id, int *fd_r,
		     uint64_t *size_r, const char **error_r);

/* UIDs expunged from a mailbox with MODSEQ > modseq (QRESYNC VANISHED, JMAP changes),
 * ascending, in the arena. */
int store_vanished(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		   uint64_t modseq, uint32_t **uids_r, size_t *n_r, const char **error_r);

/* What IMAP SELECT/EXAMINE reports about a mailbox, read from one snapshot of the store
 * (one read transaction): the counters with UIDNEXT and HIGHESTMODSEQ, every UID, the
 * keywords in use, the first unseen UID and, when asked, the changes since a MODSEQ
 * (QRESYNC, RFC 7162 §3.2.5). Because it is one snapshot, nothing committed meanwhile
 * shows in one part and not in another: every UID is below mb.uidnext, nuids equals
 * mb.messages, every changed message is in uids with a MODSEQ <= mb.highestmodseq, no
 * vanished UID is in uids, and every change after the snapshot has a MODSEQ above
 * mb.highestmodseq (so a session that syncs from there misses nothing and reports
 * nothing twice). Separate calls (store_mailbox_get, store_uid_list, store_msg_list,
 * store_vanished) may each see a later state than the one before. */
struct store_mailbox_snapshot {
	struct store_mailbox mb;   /* name, counters, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ */
	uint32_t *uids;            /* every message, ascending (NULL when nuids is 0) */
	size_t nuids;
	const char **keywords;     /* in use, NULL-terminated */
	uint32_t first_unseen;     /* the lowest UID without \Seen, 0 if none */
	bool changes;              /* asked for: changed and vanished below are filled */
	struct store_msg *changed; /* MODSEQ > changed_since, ascending UID */
	size_t nchanged;
	uint32_t *vanished;        /* expunged with MODSEQ > changed_since, ascending */
	size_t nvanished;
};
/* Reads *snap_r (arrays and strings in the arena) for the account's mailbox; with
 * changes, also the messages changed and the UIDs expunged since changed_since (0:
 * every message and every expunged UID). Returns 1, 0 if the account has no such
 * mailbox, <0 error (*snap_r zeroed unless 1). */
int store_mailbox_snapshot(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
			   bool changes, uint64_t changed_since, struct store_mailbox_snapshot *snap_r,
			   const char **error_r);
/* Email ids of the account expunged (from some mailbox) after modseq: for JMAP
 * Email/changes (an id may still exist in another mailbox: check store_email_meta). */
int store_email_changes(struct store *s, struct arena *a, int64_t account_id, uint64_t modseq,
			int64_t **changed_r, size_t *nchanged_r, int64_t **removed_r,
			size_t *nremoved_r, const char **error_r);

/* One page of the emails of a mailbox in receivedAt order: JMAP Email/query's common
 * case (inMailbox, keyword conditions, sort by receivedAt; RFC 8620 §5.5 windowing),
 * answered from the (mailbox_id, internal_date, email_id, flags) index with OFFSET/
 * LIMIT and COUNT instead of reading and sorting the whole mailbox.
 *
 * The list is the distinct email ids of the mailbox's messages that pass the
 * conditions (an email in the mailbox twice, after an IMAP COPY into the same
 * mailbox, is listed once, and passes when one of its messages does), ordered by
 * internal date and then email id, both ascending or both descending (so that a
 * newest-first list shows the later of two emails of the same second first). This
 * relies on the messages of one email in one mailbox sharing their internal date,
 * which holds: only a COPY puts an email into a mailbox twice, and it keeps the date.
 *
 * position: without anchor, the index of the first id (< 0: counted from the end,
 * clamped to 0); with anchor, the offset from the anchor's index (the result is
 * clamped to 0). Everything is read in one read transaction (one snapshot). */
#define STORE_WINDOW_KEYWORDS 3
struct store_window {
	int64_t account_id;
	int64_t mailbox_id;
	bool ascending;            /* oldest first; else newest first */
	unsigned int flags_on;     /* enum store_flag bits a listed message has */
	unsigned int flags_off;    /* bits it has none of */
	/* keywords (case-insensitive) a listed message has, has not; NULL: unused slot */
	const char *keywords_on[STORE_WINDOW_KEYWORDS];
	const char *keywords_off[STORE_WINDOW_KEYWORDS];
	int64_t anchor;            /* an email id, 0 for none */
	int64_t position;
	uint64_t limit;            /* at most this many ids */
	bool want_total;
	/* out */
	int64_t *ids;              /* in the arena */
	size_t n;
	uint64_t start;            /* the index of ids[0] (the position resolved) */
	uint64_t total;            /* the length of the list, when want_total */
};
/* Returns 1 with the outputs, 0 when the anchor is not in the list, STORE_ENOTFOUND
 * when the account has no such mailbox, STORE_EINVAL for a bad keyword, <0 on error. */
int store_email_window(struct store *s, struct arena *a, struct store_window *w,
		       const char **error_r);

/* ---------------------------------------------------------------- writes */

/* Delivery of one message to one or more accounts' INBOX (or `mailbox` when not NULL,
 * falling back to INBOX when it does not exist): one blob, one row per account.
 * Atomic per account: each account is delivered or not; results[i] gets the outcome
 * for accounts[i] (1 ok, STORE_EOVERQUOTA, STORE_ENOTFOUND...). The call returns 1 if
 * every account got the message, <0 if none did, 0 if some did (see results). */
struct store_delivery {
	const char *data;          /* the message (async: valid until done runs) */
	size_t len;
	const int64_t *accounts;
	size_t naccounts;
	const char *mailbox;       /* NULL: INBOX */
	const char *const *keywords; /* NULL-terminated keywords of the stored copies
				      * ("$Junk"), NULL: none; a bad one fails the delivery */
	unsigned int flags;        /* enum store_flag bits of the stored copies (Sieve's
				    * imap4flags: \Seen, \Flagged...), 0: none */
	int64_t internal_date;     /* 0: now */
	const char *return_path;   /* envelope sender ("" for the null sender): the stored copy
				    * begins "Return-Path: <return_path>" (RFC 5321 §4.4) and
				    * Return-Path fields that came with the message are removed.
				    * Every mail path sets it; NULL (the store's own tests, tools)
				    * stores the message as it is */
	int *results;              /* naccounts entries, filled in; may be NULL */
	uint32_t *uids;            /* naccounts entries, filled in; may be NULL */
};
int store_deliver(struct store *s, struct store_delivery *d, const char **error_r);
/* Whether this store can hold delivered messages now: 0, or STORE_EUNAVAIL with
 * *error_r (a backend whose message storage is not converted yet: STORE_PG_MISSING).
 * Asked when a recipient is accepted, so that a message for local and remote
 * recipients is never queued for the remote ones and then refused. */
int store_deliver_ready(const struct store *s, const char **error_r);
/* Async form: d, its data and its arrays must stay valid until done runs (the outputs
 * are filled in before). The same holds for every *_async below: the request struct,
 * its inputs, and the arena given to it belong to the store until done runs (the
 * arena is written to from the committer thread; do not touch it meanwhile). */
void store_deliver_async(struct store *s, struct store_delivery *d, struct loop *loop,
			 store_done_fn *done, void *arg);

/* APPEND (RFC 9051 §6.3.12) of one message into a mailbox of the account. Returns 1
 * with *uid_r (and *uidvalidity_r, may be NULL) for APPENDUID; STORE_ENOTFOUND (no
 * mailbox: IMAP [TRYCREATE]), STORE_EOVERQUOTA, STORE_ETOOBIG, STORE_EINVAL (bad
 * keyword). */
struct store_append {
	int64_t account_id;
	int64_t mailbox_id;
	const char *data;          /* the message (async: valid until done runs) */
	size_t len;
	unsigned int flags;        /* enum store_flag */
	const char *const *keywords; /* NULL-terminated or NULL */
	int64_t internal_date;     /* 0: now */
	int internal_tz;           /* minutes east of UTC */
	bool raw;                  /* keep line ends as they are (IMAP BINARY literal8);
	                            * false: bare CR/LF become CRLF */
	uint32_t uid;              /* out */
	uint32_t uidvalidity;      /* out */
	int64_t email_id;          /* out */
};
int store_append(struct store *s, struct store_append *ap, const char **error_r);
void store_append_async(struct store *s, struct store_append *ap, struct loop *loop,
			store_done_fn *done, void *arg);

/* MULTIAPPEND (RFC 3502) and REPLACE (RFC 8508): n messages appended to one mailbox in
 * one transaction, all or none: when one message fails (too big, over quota, bad
 * keyword) nothing is appended and the result is that message's error. They get
 * consecutive UIDs (msgs[i].uid, in order) and one STORE_EV_NEW event. With
 * expunge_uid set, the message expunge_uid of expunge_mailbox_id (of the same account)
 * is expunged in the same transaction, before the appends (so that its quota counts
 * for them; its own, lower MODSEQ and a STORE_EV_EXPUNGE event); when it no longer
 * exists, nothing is done and the result is STORE_ENOTFOUND with the error text "no
 * such message". The account_id and
 * mailbox_id fields of msgs[] are ignored. Returns 1, or the errors of store_append. */
struct store_append_many {
	int64_t account_id;
	int64_t mailbox_id;
	struct store_append *msgs; /* n entries; each one's uid, uidvalidity, email_id are out */
	size_t n;
	int64_t expunge_mailbox_id; /* REPLACE: the message replaced (expunge_uid 0: none) */
	uint32_t expunge_uid;
	/* out */
	uint32_t uidvalidity;
	uint64_t modseq;           /* the highest MODSEQ the operation gave */
	/* import (store_import.h): import_keys[i] are msgs[i]'s keys (NULL-terminated, or
	 * NULL for none), recorded under the scope import_scope in the same transaction;
	 * import_keys NULL: none */
	const char *import_scope;
	const char *const *const *import_keys;
};
int store_append_many(struct store *s, struct store_append_many *am, const char **error_r);
void store_append_many_async(struct store *s, struct store_append_many *am, struct loop *loop,
			     store_done_fn *done, void *arg);

/* Flag changes (STORE, JMAP Email/set keywords). */
enum store_flag_op { STORE_FLAGS_ADD, STORE_FLAGS_REMOVE, STORE_FLAGS_REPLACE };
struct store_flag_change {
	int64_t account_id;
	int64_t mailbox_id;
	struct store_uidset uids;
	enum store_flag_op op;
	unsigned int flags;
	const char *const *keywords; /* NULL-terminated or NULL */
	uint64_t unchanged_since;  /* 0: no guard; else CONDSTORE UNCHANGEDSINCE */
	/* out (arena given to the call; may be NULL when not wanted): */
	uint32_t *changed;         /* UIDs whose flags changed, ascending */
	uint64_t *changed_prev;    /* the MODSEQ each of them had before (parallel) */
	size_t nchanged;
	uint32_t *modified;        /* UIDs that failed the UNCHANGEDSINCE guard */
	size_t nmodified;
	uint64_t modseq;           /* the new MODSEQ of the changed messages */
};
/* Returns 1 (even if nothing changed), or <0. UIDs in the set that do not exist are
 * ignored. Messages failing the guard are left unchanged and listed in `modified`. */
int store_flags(struct store *s, struct arena *a, struct store_flag_change *fc,
		const char **error_r);
void store_flags_async(struct store *s, struct arena *a, struct store_flag_change *fc,
		       struct loop *loop, store_done_fn *done, void *arg);

/* Expunges messages with UID in uids (NULL: every message with \Deleted;
 * only_deleted: of the set, only those with \Deleted, as IMAP EXPUNGE / UID EXPUNGE do).
 * Frees quota at once. *expunged_r (arena, may be NULL) gets the UIDs removed. */
int store_expunge(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		  const struct store_uidset *uids, bool only_deleted, uint32_t **expunged_r,
		  size_t *n_r, const char **error_r);
void store_expunge_async(struct store *s, struct arena *a, int64_t account_id,
			 int64_t mailbox_id, const struct store_uidset *uids, bool only_deleted,
			 uint32_t **expunged_r, size_t *n_r, struct loop *loop, store_done_fn *done,
			 void *arg);

/* COPY / MOVE (RFC 6851) from one mailbox to another of the same account. Flags and
 * keywords are kept; the email id is kept; quota is charged for copies (not moves).
 * src_uids_r/dst_uids_r (arena, may be NULL) give the COPYUID pairs, in source UID
 * order. Returns 1, STORE_ENOTFOUND (no target: [TRYCREATE]), STORE_EOVERQUOTA. */
struct store_copy {
	int64_t account_id;
	int64_t src_mailbox_id;
	int64_t dst_mailbox_id;
	struct store_uidset uids;
	bool move;
	/* out */
	uint32_t *src_uids, *dst_uids;
	size_t n;
	uint32_t dst_uidvalidity;
};
int store_copy(struct store *s, struct arena *a, struct store_copy *c, const char **error_r);
void store_copy_async(struct store *s, struct arena *a, struct store_copy *c, struct loop *loop,
		      store_done_fn *done, void *arg);

/* One email's change in store_email_update_batch (JMAP Email/set update). Keywords
 * apply to every message row of the email: first the replacement (when replace: flags
 * and keywords become set_flags/set_keywords, \Deleted is kept as it is), then
 * add_*, then del_*. Keyword lists are NULL-terminated or NULL. mailbox_ids (NULL:
 * unchanged) is the email's set of mailboxes afterwards (at least one): rows in
 * mailboxes no longer wanted are moved to the new ones (IMAP sees a MOVE), further new
 * mailboxes get copies (quota is charged), the rest are expunged. */
struct store_email_update {
	int64_t email_id;
	bool replace;
	unsigned int set_flags, add_flags, del_flags;
	const char *const *set_keywords, *const *add_keywords, *const *del_keywords;
	const int64_t *mailbox_ids;
	size_t nmailboxes;
	/* out */
	int result;            /* 1, or STORE_ENOTFOUND (no such email or mailbox),
	                        * STORE_EOVERQUOTA, STORE_EINVAL (keywords), STORE_ERR */
	const char *error;     /* when result < 0 (the call's arena) */
};
struct store_email_update_batch {
	int64_t account_id;
	struct store_email_update *items;
	size_t n;
	/* out */
	uint64_t modseq;       /* the one MODSEQ every change got; 0 when nothing changed */
};
/* Applies every item in one store operation (one transaction, one commit, one new
 * MODSEQ, one event per mailbox and kind). Each item is all or nothing on its own: an
 * item that fails (item->result < 0) leaves no change behind and the others still
 * apply. Returns 1 when the batch ran (see each item's result), or <0 when it could
 * not run at all (a full disk, a database error): then nothing was changed. */
int store_email_update_batch(struct store *s, struct arena *a, struct store_email_update_batch *b,
			     const char **error_r);

/* Parts of this API kept in headers of their own: change events, ids and maintenance
 * (store_events.h), searching and sorting a mailbox (store_search.h), the junk
 * filter's lessons and models (store_junk.h), Sieve (store_sieve.h), imports
 * (store_import.h), the webmail's sessions, preferences and contacts (store_web.h),
 * the outbound queue's rows on PostgreSQL (store_queue.h). */
#include "store_events.h"
#include "store_search.h"
#include "store_junk.h"
#include "store_sieve.h"
#include "store_import.h"
#include "store_web.h"
#include "store_queue.h"
#include "store_dkim.h" /* DKIM keys on PostgreSQL */

#endif
