/* imap_client.h: a pure parser of IMAP server responses (RFC 9051 §7), for the client
 * side of `postamt import imap://...`.
 *
 * imapc_parse reads one whole response (its line and every literal it announces) from
 * a buffer and returns its parts as a small tree in an arena. It never trusts the
 * server: every line segment, literal, list and nesting depth is bounded by the
 * caller's limits, so a hostile server can make it fail but not make it allocate
 * without bound. It never reads a socket. */
#ifndef POSTAMT_PROTO_IMAP_CLIENT_H
#define POSTAMT_PROTO_IMAP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

enum imapc_kind {
	IMAPC_ATOM,   /* an atom or number; "BODY[HEADER.FIELDS (X)]" is one atom */
	IMAPC_STRING, /* a quoted string or a literal (may hold NULs: use len) */
	IMAPC_NIL,
	IMAPC_LIST,
};

struct imapc_item {
	enum imapc_kind kind;
	const char *s; /* ATOM, STRING: the bytes, NUL-terminated copy in the arena */
	size_t len;
	struct imapc_item *items; /* LIST */
	size_t n;
};

struct imapc_response {
	const char *tag;    /* "*", "+", or the command's tag */
	const char *status; /* "OK", "NO", "BAD", "BYE", "PREAUTH" (upper case), or NULL
	                     * for data responses and continuations */
	const char *code;   /* a status's response code without the brackets ("UIDVALIDITY
	                    * 3857529045"), NULL if none */
	const char *text;   /* a status's or continuation's human text */
	uint32_t number;    /* "* 5 FETCH ...": 5 (has_number) */
	int has_number;
	struct imapc_item *items; /* the data items after the tag (and number) */
	size_t n;
};

struct imapc_limits {
	size_t line_max;      /* bytes of one line segment (between literals) */
	uint64_t literal_max; /* bytes of one literal */
	size_t items_max;     /* items in one list (and at the top level) */
	int depth_max;        /* nesting of lists */
};

/* Parses one response from data[0..len). Returns the number of bytes it took (>0) with
 * *resp_r filled (strings in a), 0 when the response is not complete yet (*need_r: the
 * buffer must hold at least that many bytes before a retry helps), or -1 with
 * *error_r (static text) when the response is malformed or over a limit: the
 * connection cannot be trusted after that. */
int imapc_parse(struct arena *a, const char *data, size_t len, const struct imapc_limits *lim,
		struct imapc_response *resp_r, size_t *need_r, const char **error_r);

/* Case-insensitive comparison of an ATOM item with word: 1 if equal, else 0. */
int imapc_is(const struct imapc_item *it, const char *word);

/* Parses an ATOM item as a number in 1..max (0 is refused): 1 with *out_r, or -1. */
int imapc_number(const struct imapc_item *it, uint64_t max, uint64_t *out_r);

#endif
