/* authres.h: the Authentication-Results header field (RFC 8601): the writer of our
 * own and the reader that finds incoming ones claiming our authserv-id.
 *
 * Both are pure. The writer quotes every value that is not a plain token (hostile
 * addresses and domains come from the client) and folds one method per line. The
 * reader understands comments (nested, with quoted pairs), quoted strings and
 * folding, since a field that arrives is written by whoever sent the message. */
#ifndef POSTAMT_MAILAUTH_AUTHRES_H
#define POSTAMT_MAILAUTH_AUTHRES_H

#include "buf.h"
#include "mailauth.h"

#include <stddef.h>

/* One DKIM signature's result. */
struct authres_dkim {
	enum mailauth_result result;
	const char *domain;   /* header.d, NULL when the signature had none */
	const char *selector; /* header.s, NULL: left out */
	const char *b;        /* the signature's b= (its first 8 characters are written, RFC 6008); NULL: left out */
	const char *reason;   /* NULL: none */
};

/* Everything one field says. A NULL string leaves its part out. */
struct authres {
	const char *authserv_id; /* the hostname key */
	enum mailauth_result spf;
	const char *spf_mailfrom; /* smtp.mailfrom: MAIL FROM's address (or postmaster@helo) */
	const char *spf_helo;     /* smtp.helo: used instead when mailfrom is NULL (the null sender) */
	const char *spf_reason;
	const struct authres_dkim *dkim; /* ndkim == 0: "dkim=none" */
	size_t ndkim;
	enum mailauth_result dmarc;
	const char *dmarc_from;   /* header.from: the From: domain */
	const char *dmarc_policy; /* a comment such as "p=reject dis=quarantine" */
	const char *dmarc_reason;
	enum mailauth_result iprev;
	const char *iprev_ip;   /* policy.iprev: the client's address */
	const char *iprev_name; /* a comment: the name that resolved back */
};

/* Values longer than this are cut (with "...") so a folded line stays far below
 * RFC 5322's 998 bytes whatever the client sent. */
#define AUTHRES_VALUE_MAX 256

/* Appends the whole field to out: "Authentication-Results: ID;" and one method per
 * folded line (spf, dkim..., dmarc, iprev), ending in CRLF. */
void authres_write(const struct authres *ar, struct buf *out);

/* The authserv-id that begins an Authentication-Results field value (after the
 * colon; folding and comments allowed). Returns 1 with *id_r (in a, unquoted), or
 * -1 when the value does not begin with one (empty, an unterminated comment or
 * quoted string, or something else after it than a version, a comment, ";" or
 * the end). */
int authres_parse_id(const char *value, size_t len, struct arena *a, const char **id_r);

/* One header field, as bytes of the message: the name through its last line end. */
struct authres_span {
	size_t off, len;
};

/* The Authentication-Results fields in the header block of msg (up to the first
 * empty line) whose authserv-id equals id, ASCII case-insensitively (RFC 8601 §5:
 * those a border MTA removes). Returns how many; *spans_r (in a) lists them in
 * message order. */
size_t authres_find(const char *msg, size_t len, const char *id, struct arena *a, struct authres_span **spans_r);

#endif
