/* dkim_int.h: what dkim_sign.c and dkim_verify.c share inside the module: the header
 * fields of a message, the body canonicalizer feeding a digest, base64. Not for use
 * outside src/mailauth. */
#ifndef POSTAMT_DKIM_INT_H
#define POSTAMT_DKIM_INT_H

#include "buf.h"
#include "dkim.h"

#include <openssl/evp.h>

#include <stdbool.h>
#include <stddef.h>

/* One header field: the whole field with its folding, without its final line end. */
struct dkim_field {
	const char *p;
	size_t len;
	size_t name_len; /* bytes before the colon, trailing WSP excluded */
};

/* Splits the header of msg into fields (appended to *f_r, a growing arena array with
 * *n_r entries and capacity *cap_r). Lines without a colon are skipped. Returns the
 * offset of the body (after the blank line; len when there is none), and sets *has_body_r
 * to whether a blank line was found. */
size_t dkim_fields_split(const char *msg, size_t len, struct arena *a, struct dkim_field **f_r, size_t *n_r,
			 size_t *cap_r, bool *has_body_r);

/* True when field f is named name (case-insensitive). */
bool dkim_field_is(const struct dkim_field *f, const char *name, size_t name_len);

/* A sink for canonicalized bytes: a digest (md may be NULL) and/or a buf (out may be
 * NULL), with a limit (l=): bytes beyond `limit` are dropped (UINT64_MAX: none). */
struct dkim_sink {
	EVP_MD_CTX *md;
	struct buf *out;
	unsigned long long limit;
	unsigned long long written;
};
void dkim_sink_put(struct dkim_sink *s, const char *p, size_t n);

/* The body canonicalizations of RFC 6376 §3.4.3 (simple) and §3.4.4 (relaxed). */
void dkim_canon_body_to(const char *body, size_t len, bool relaxed, struct dkim_sink *s);
/* A header field, simple (line ends made CRLF) or relaxed; no final CRLF. */
void dkim_canon_header_to(const char *field, size_t len, bool relaxed, struct dkim_sink *s);

/* base64 of n bytes into the arena, NUL-terminated. */
char *dkim_base64(struct arena *a, const unsigned char *p, size_t n);
/* Decodes base64, ignoring FWS (SP, HT, CR, LF). Returns the length (>= 0) with *out_r
 * in a, or -1 on a character outside the alphabet or bad padding. */
long dkim_unbase64(struct arena *a, const char *s, size_t n, unsigned char **out_r);

/* Whether a colon-separated list (with FWS) holds word, case-insensitively. */
bool dkim_list_has(const char *list, const char *word);

#endif
