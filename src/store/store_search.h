/* store_search.h: searching and sorting a mailbox, the part of the store API that
 * IMAP SEARCH/SORT/THREAD and JMAP Email/query use (store_search.c). Included by
 * store.h after the types it uses (struct store, struct store_uidset, the error
 * codes); include store.h, not this file. */
#ifndef POSTAMT_STORE_SEARCH_H
#define POSTAMT_STORE_SEARCH_H

/* ---------------------------------------------------------------- sort keys */

/* IMAP SORT from the keys stored at delivery (store_sortkey.c): RFC 5256 §3 keys and
 * RFC 5957's DISPLAYFROM/DISPLAYTO, each ascending or reversed; ties by UID. */
enum store_sort_key {
	STORE_SORT_ARRIVAL,
	STORE_SORT_CC,
	STORE_SORT_DATE,
	STORE_SORT_FROM,
	STORE_SORT_SIZE,
	STORE_SORT_SUBJECT,
	STORE_SORT_TO,
	STORE_SORT_DISPLAYFROM,
	STORE_SORT_DISPLAYTO,
};
struct store_sort_crit {
	enum store_sort_key key;
	bool reverse;
};
/* The UIDs of the mailbox's messages (only those in only[0..nonly) when only is not
 * NULL: for a few messages of a big mailbox) in the order of crit[0..ncrit), ties by
 * UID, in the arena. Reads only the msg_keys table (either engine) and orders its rows
 * in memory. 1, STORE_ENOTFOUND (no such mailbox), <0 error. */
int store_sort_uids(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		    const uint32_t *only, size_t nonly, const struct store_sort_crit *crit, size_t ncrit, uint32_t **uids_r,
		    size_t *n_r, const char **error_r);
/* What THREAD (RFC 5256 §4) needs of a message, as stored at delivery. */
struct store_thread_key {
	uint32_t uid;
	int64_t sent;              /* Date: header, else the internal date (UTC) */
	bool reply;                /* the subject was a reply or forward */
	const char *subject;       /* base subject, case-folded (imap_base_subject) */
	const char *msgid;         /* "<...>" or NULL */
	const char *refs;          /* space-separated parent ids, oldest first: References
	                            * (the newest 256), else the first In-Reply-To id; NULL: none */
};
/* The thread keys of the mailbox's messages (only those in only[0..nonly) when only is
 * not NULL), ascending by UID, in the arena. 1, STORE_ENOTFOUND, <0 error. */
int store_thread_keys(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		      const uint32_t *only, size_t nonly, struct store_thread_key **keys_r, size_t *n_r,
		      const char **error_r);

/* ---------------------------------------------------------------- search */

enum store_search_key {
	STORE_SK_ALL, STORE_SK_AND, STORE_SK_OR, STORE_SK_NOT,
	/* flags */
	STORE_SK_ANSWERED, STORE_SK_DELETED, STORE_SK_DRAFT, STORE_SK_FLAGGED, STORE_SK_SEEN,
	STORE_SK_UNANSWERED, STORE_SK_UNDELETED, STORE_SK_UNDRAFT, STORE_SK_UNFLAGGED,
	STORE_SK_UNSEEN, STORE_SK_NEW, STORE_SK_OLD, STORE_SK_RECENT,
	STORE_SK_KEYWORD, STORE_SK_UNKEYWORD,           /* str = keyword */
	/* strings: str, case-insensitive substring on decoded UTF-8 */
	STORE_SK_BCC, STORE_SK_CC, STORE_SK_FROM, STORE_SK_TO, STORE_SK_SUBJECT,
	STORE_SK_BODY, STORE_SK_TEXT,
	STORE_SK_HEADER,                                /* field = header name, str */
	/* dates: day = days since 1970-01-01 (store_search_day) */
	STORE_SK_BEFORE, STORE_SK_ON, STORE_SK_SINCE,   /* internal date */
	STORE_SK_SENTBEFORE, STORE_SK_SENTON, STORE_SK_SENTSINCE, /* Date: header */
	STORE_SK_SAVEDBEFORE, STORE_SK_SAVEDON, STORE_SK_SAVEDSINCE, /* save date */
	STORE_SK_OLDER, STORE_SK_YOUNGER,               /* num = seconds (RFC 5032) */
	/* numbers */
	STORE_SK_LARGER, STORE_SK_SMALLER,              /* num = bytes */
	STORE_SK_MODSEQ,                                /* num = modseq (>=) */
	/* sets */
	STORE_SK_UID,                                   /* set */
	STORE_SK_SEQ,                                   /* set of sequence numbers */
	/* ids (RFC 8474) */
	STORE_SK_EMAILID, STORE_SK_THREADID,            /* str = id as from store_id_* */
};

/* A search program: a tree the IMAP parser (or JMAP filter) builds, e.g. in its command
 * arena. AND nodes hold a list of children linked by `next` (an IMAP search program is
 * an AND of its keys); OR holds exactly two children (sub, sub->next); NOT one. */
struct store_search {
	enum store_search_key key;
	const char *str;          /* string keys, KEYWORD, EMAILID/THREADID */
	const char *field;        /* HEADER field name */
	int64_t num;              /* LARGER/SMALLER/MODSEQ/OLDER/YOUNGER */
	int32_t day;              /* date keys */
	struct store_uidset set;  /* UID/SEQ */
	struct store_search *sub; /* children of AND/OR/NOT */
	struct store_search *next;/* next sibling */
};

/* Days since 1970-01-01 for a calendar date (for the date keys). */
int32_t store_search_day(int year, int month, int day);

struct store_search_ctx {
	int64_t account_id;
	int64_t mailbox_id;
	/* the session's sequence map for SEQ keys: seq n is uids[n-1]; NULL if unused */
	const uint32_t *seq_uids;
	size_t nseq;
	uint32_t first_recent_uid; /* for RECENT/NEW/OLD: the session's view (0: none) */
	time_t now;               /* for OLDER/YOUNGER; 0: time(NULL) */
	/* only the messages with these UIDs need evaluating (ranges ascending, not
	 * overlapping; NULL: all): the rows of other messages are not read. A caller
	 * intersects the answer with its own set; messages outside it may or may not be
	 * in the answer. */
	const struct store_uidset *only;
};
/* Evaluates the program over the mailbox. Returns 1 and the matching UIDs ascending
 * (arena), or <0 (STORE_EINVAL for a malformed tree). *highest_modseq_r (may be NULL)
 * gets the highest MODSEQ among the matches (for the SEARCH MODSEQ response). Strings
 * are compared case-insensitively after decoding (RFC 2047 headers, base64/QP bodies,
 * charsets to UTF-8). */
int store_search(struct store *s, struct arena *a, const struct store_search_ctx *ctx,
		 const struct store_search *prog, uint32_t **uids_r, size_t *n_r,
		 uint64_t *highest_modseq_r, const char **error_r);

/* ---------------------------------------------------------------- full-text index */

/* The decoded text of a message above this many bytes is not indexed (searched by
 * reading the file); search.index_text_max. */
#define STORE_INDEX_TEXT_MAX (4 * 1024 * 1024)

struct store_index_counts {
	uint64_t indexed;    /* entries written */
	uint64_t too_big;    /* messages whose text is over the limit (left to the scan) */
	uint64_t unreadable; /* message files that could not be read (left pending) */
	int64_t last_id;     /* the last email id looked at */
};
/* Called after each batch; returns 0 to go on, <0 to stop. */
typedef int store_index_progress_fn(void *arg, const struct store_index_counts *so_far);

/* Indexes messages that are not in the full-text index yet (all == false), or
 * rebuilds every entry (all == true), of one account (account_id > 0) or of all, in
 * the order of their email ids after after_id. Works in batches of 200 messages, one
 * transaction each, while the server runs; progress (may be NULL) is called after each
 * batch and may stop it. Returns 1 when every message was looked at, 0 when progress
 * stopped it (counts_r->last_id says where), or <0 with *error_r. */
int store_index_rebuild(struct store *s, int64_t account_id, bool all, int64_t after_id,
			store_index_progress_fn *progress, void *arg, struct store_index_counts *counts_r,
			const char **error_r);
/* Messages waiting to be indexed, and messages too big for the index. 1 or <0. */
int store_index_pending(struct store *s, int64_t *pending_r, int64_t *too_big_r, const char **error_r);

/* Whether the indexed body text (what SEARCH BODY looks at) of email_id contains the
 * folded needle: 1 or 0 from the index; STORE_INDEX_UNKNOWN when the index cannot
 * say (the message is not in it, or the needle is shorter than 3 characters: read the
 * file); <0 on a database error. For JMAP SearchSnippet/get. */
#define STORE_INDEX_UNKNOWN 2
int store_index_body_has(struct store *s, int64_t email_id, const char *folded, const char **error_r);

#endif
