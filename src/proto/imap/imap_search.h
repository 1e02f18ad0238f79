/* imap_search.h: SEARCH program parsing (RFC 9051 §6.4.4, grammar "search-key").
 *
 * The parser turns the search keys of a command into a tree that mirrors the store's
 * search program (store.h struct store_search), which imapd converts node by node:
 * the protocol layer may not include the store (DESIGN.md §3). Nesting is limited so
 * that 10,000 parentheses are refused instead of exhausting the stack. */
#ifndef POSTAMT_IMAP_SEARCH_H
#define POSTAMT_IMAP_SEARCH_H

#include "imap_args.h"

#define IMAP_SEARCH_DEPTH_MAX 64

enum imap_sk {
	IMAP_SK_ALL, IMAP_SK_AND, IMAP_SK_OR, IMAP_SK_NOT,
	IMAP_SK_ANSWERED, IMAP_SK_DELETED, IMAP_SK_DRAFT, IMAP_SK_FLAGGED, IMAP_SK_SEEN,
	IMAP_SK_UNANSWERED, IMAP_SK_UNDELETED, IMAP_SK_UNDRAFT, IMAP_SK_UNFLAGGED,
	IMAP_SK_UNSEEN, IMAP_SK_NEW, IMAP_SK_OLD, IMAP_SK_RECENT,
	IMAP_SK_KEYWORD, IMAP_SK_UNKEYWORD,
	IMAP_SK_BCC, IMAP_SK_CC, IMAP_SK_FROM, IMAP_SK_TO, IMAP_SK_SUBJECT,
	IMAP_SK_BODY, IMAP_SK_TEXT,
	IMAP_SK_HEADER,
	IMAP_SK_BEFORE, IMAP_SK_ON, IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE, IMAP_SK_SENTON, IMAP_SK_SENTSINCE,
	IMAP_SK_SAVEDBEFORE, IMAP_SK_SAVEDON, IMAP_SK_SAVEDSINCE,
	IMAP_SK_OLDER, IMAP_SK_YOUNGER,
	IMAP_SK_LARGER, IMAP_SK_SMALLER,
	IMAP_SK_MODSEQ,
	IMAP_SK_UID,
	IMAP_SK_SEQ,
	IMAP_SK_EMAILID, IMAP_SK_THREADID,
};

struct imap_search {
	enum imap_sk key;
	const char *str;          /* strings, keywords, ids */
	const char *field;        /* HEADER field */
	int64_t num;              /* sizes, seconds, modseq */
	int32_t day;              /* dates: days since 1970-01-01 */
	struct imap_seqset set;   /* UID / SEQ (may be "$") */
	struct imap_search *sub;  /* AND children, OR (two), NOT (one) */
	struct imap_search *next;
};

/* Parses "[CHARSET astring SP] search-key *(SP search-key)" up to the end of the
 * command. Returns 1 with an AND node in *prog_r and the charset (NULL when none) in
 * *charset_r, or -1 with cur->error. */
int imap_search_parse(struct imap_cur *cur, struct imap_search **prog_r, const char **charset_r);

#endif
