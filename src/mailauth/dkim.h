/* dkim.h: DKIM signatures (RFC 6376, RFC 8463, RFC 8301): signing and verifying.
 *
 * Both are pure: bytes in, a header field or verdicts out; the only outside world is
 * the caller's struct mailauth_dns (verify asks TXT SELECTOR._domainkey.DOMAIN). A
 * message is the raw RFC 5322 text with CRLF line ends (a lone LF is accepted as a
 * line end as well), without SMTP dot-stuffing.
 *
 * Verification gives one verdict per DKIM-Signature field (the first
 * DKIM_VERIFY_MAX_SIGNATURES, top down; more are ignored), with the result words of
 * RFC 8601 (mailauth.h): pass; fail (the body hash or the signature does not match,
 * or the body is shorter than l=); neutral (a signature that cannot be read: a
 * syntax error, a missing or malformed tag); policy (a valid-looking signature the
 * verifier's time policy refuses: x= passed, t= too far in the future); temperror
 * (DNS); permerror (a signature that can never verify: rsa-sha1 or an unknown
 * algorithm (RFC 8301), h= without From, i= outside d=, no or a broken key record,
 * a revoked key, a key that does not allow the algorithm or service, t=s with a
 * subdomain i=, an RSA key below 1024 bits (RFC 8301)). The parsers inside
 * (tag lists, key records, canonicalization) are exported for tests and fuzzing. */
#ifndef POSTAMT_DKIM_H
#define POSTAMT_DKIM_H

#include "arena.h"
#include "dkim_key.h"
#include "mailauth.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Defaults of struct dkim_verify_opts. */
#define DKIM_VERIFY_MAX_SIGNATURES 8
#define DKIM_VERIFY_CLOCK_SKEW 300 /* seconds a t= may lie in the future */

/* The verdict on one DKIM-Signature. Strings are in the caller's arena; those not
 * known (a tag missing or unparseable) are NULL. */
struct dkim_verdict {
	enum mailauth_result result;
	const char *domain;    /* d= (for header.d) */
	const char *selector;  /* s= (for header.s) */
	const char *algorithm; /* a= (for header.a) */
	const char *identity;  /* i=, or "@" d= when absent (for header.i) */
	const char *b_prefix;  /* the first 16 characters of b= without FWS (header.b) */
	const char *reason;    /* a short text for the log and the A-R comment */
};

/* The limits of verification; the server takes them from the configuration keys
 * dkim.max_signatures and dkim.clock_skew (docs/configuration.md). */
struct dkim_verify_opts {
	unsigned max_signatures; /* 0: DKIM_VERIFY_MAX_SIGNATURES */
	unsigned clock_skew;     /* seconds; 0: DKIM_VERIFY_CLOCK_SKEW */
};

/* Verifies every DKIM-Signature of msg (len bytes) at time now, with the defaults.
 * *verdicts_r is an array of *n_r verdicts in arena a, in the order of the fields
 * (top down). Returns *n_r (0: the message has no DKIM-Signature: dkim=none). Never
 * fails as a whole: every problem is a verdict. Blocks while dns does. Thread-safe. */
int dkim_verify(const struct mailauth_dns *dns, const char *msg, size_t len, time_t now, struct arena *a,
		struct dkim_verdict **verdicts_r, size_t *n_r);
/* The same with explicit limits (opts may be NULL: defaults). */
int dkim_verify_opts(const struct mailauth_dns *dns, const struct dkim_verify_opts *opts, const char *msg, size_t len,
		     time_t now, struct arena *a, struct dkim_verdict **verdicts_r, size_t *n_r);

/* Signs a message with one key: prefix (plen bytes, may be 0) is complete header
 * fields that will stand above msg (fields other hooks add), msg the message as it
 * will leave. Relaxed/relaxed, t=now, no l=; the headers listed in dkim_sign.c
 * (From over-signed). Returns 1 with *field_r, the complete field
 * "DKIM-Signature: ...\r\n" (folded, in a), or -1 with *error_r (static) when the
 * message has no header part or OpenSSL fails. Thread-safe (the key is only read). */
int dkim_sign(const struct dkim_signer *key, const char *prefix, size_t plen, const char *msg, size_t len, time_t now,
	      struct arena *a, char **field_r, const char **error_r);

/* The same with several keys over the same bytes: the canonical body and the signed
 * header fields are hashed once; fields_r[k] is key k's field. Returns 1, or -1 with
 * *error_r (static) and no field valid. */
int dkim_sign_many(const struct dkim_signer *const *keys, size_t nkeys, const char *prefix, size_t plen,
		   const char *msg, size_t len, time_t now, struct arena *a, char **fields_r, const char **error_r);

/* ---- the parsers inside, for tests and fuzzing ---- */

/* One tag=value of a tag list (RFC 6376 §3.2); value has its surrounding FWS removed
 * (inner FWS kept as is). Both point into the parsed text. */
struct dkim_tag {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
	const char *raw; /* everything between "=" and ";" (or the end), FWS included */
	size_t raw_len;
};

/* Parses a tag list. Returns the number of tags (>= 0) with *tags_r in a, or -1 with
 * *error_r (static) on a syntax error or a duplicate tag name. */
int dkim_tag_list_parse(const char *s, size_t len, struct arena *a, struct dkim_tag **tags_r, const char **error_r);

/* A parsed key record (RFC 6376 §3.6.1). */
struct dkim_key_record {
	const char *key_type;  /* k=, "rsa" when absent */
	unsigned char *pubkey; /* p= decoded (NULL, 0 when revoked: empty p=) */
	size_t pubkey_len;
	bool revoked;
	bool testing;         /* t=y */
	bool strict;          /* t=s: i= domain must equal d= */
	const char *hashes;   /* h= as written, NULL when absent (all allowed) */
	const char *services; /* s= as written, NULL when absent (all) */
};
/* Parses a key record. Returns 1, or -1 with *error_r (static). */
int dkim_key_record_parse(const char *s, size_t len, struct arena *a, struct dkim_key_record *rec_r,
			  const char **error_r);

/* Canonicalization (RFC 6376 §3.4). A header field is given whole ("Name: value"
 * with its folding, without the final CRLF); the result is "name:value" without CRLF.
 * The body result includes its CRLFs. Both in a. */
char *dkim_canon_header_relaxed(const char *field, size_t len, struct arena *a, size_t *out_len_r);
/* body: the bytes after the blank line. relaxed selects §3.4.4 over §3.4.3. */
char *dkim_canon_body(const char *body, size_t len, bool relaxed, struct arena *a, size_t *out_len_r);

#endif
