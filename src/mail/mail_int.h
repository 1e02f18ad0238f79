/* mail_int.h: what the mail module's files share (never included outside src/mail).
 *
 * Header blocks are parsed into fields pointing into the message (raw, folded);
 * Content-Type and Content-Disposition values into a type and a parameter list. */
#ifndef POSTAMT_MAIL_INT_H
#define POSTAMT_MAIL_INT_H

#include "mail.h"

struct hfield {
	const char *name, *val; /* point into the message */
	size_t nlen, vlen;      /* vlen: raw value up to (not including) the final EOL */
};

struct hblock {
	struct hfield *f;
	size_t n;
	uint64_t len;           /* header bytes including the blank line, if any */
};

struct param {
	const char *name, *value;
};

struct ctype {
	const char *type, *subtype; /* as written ("" if absent) */
	struct param *p;
	size_t np;
};

#define HDR_MAX_FIELDS 2000

/* mail_hdr.c (the bottom of the module: it calls no other file of it) */
/* Parses the header block at p (at most len bytes). */
void mail_hdr_parse(struct arena *a, const char *p, size_t len, struct hblock *hb);
/* The first field called name (case-insensitive), or NULL. */
const struct hfield *mail_hdr_get(const struct hblock *hb, const char *name);
/* The unfolded value (CR/LF removed, NUL -> space, trimmed, at most max bytes) of the
 * first field called name, or NULL if absent. */
const char *mail_hdr_value(struct arena *a, const struct hblock *hb, const char *name, size_t max);
/* Unfolds raw header bytes (see mail_hdr_value). */
char *mail_unfold(struct arena *a, const char *v, size_t n, size_t max);
/* The end of the line of p[0..len) starting at i (the index of its CR LF or LF, or
 * len), and the next line's start in *next_r. */
size_t mail_line_end(const char *p, size_t len, size_t i, size_t *next_r);
/* A lower-case copy of s in a. */
char *mail_lower(struct arena *a, const char *s);

/* mail_parse.c */
/* Parses a Content-Type or Content-Disposition value ("a/b; x=y" or "a; x=y"). */
void mail_ctype_parse(struct arena *a, const char *v, bool with_subtype, struct ctype *ct);
const char *mail_param_get(const struct ctype *ct, const char *name);

/* mail_envelope.c */
void mail_envelope_build(struct arena *a, const struct hblock *hb, struct buf *out);
/* Decoded "Name <a@b>, ..." of a raw address header value (NULL -> ""). */
const char *mail_addr_decoded(struct arena *a, const char *raw);

/* mail_charset.c (below mail_text.c and mail_rfc2047.c) */
/* s[0..len) in charset (NULL, "" or unknown: UTF-8, falling back to ISO-8859-1 when a
 * conversion fails) as valid UTF-8 with C0 controls other than TAB and LF as spaces;
 * free it with mail_free_utf8. */
char *mail_to_utf8(const char *s, size_t len, const char *charset);
void mail_free_utf8(char *s);
/* s[0..len) as valid UTF-8 (U+FFFD for invalid bytes), NUL and C0 controls other than
 * TAB and LF as spaces; GLib-allocated (mail_free_utf8). */
char *mail_utf8_valid(const char *s, size_t len);

/* mail_entity.c */
/* The HTML character reference at s[0..n) (named: the Latin-1 set and the typographic
 * names; numeric), as UTF-8 in out (*out_len bytes; no-break spaces as a space).
 * Returns the bytes it took (with the ';'), 0 if s does not start with one. */
size_t mail_html_entity(const char *s, size_t n, char out[8], size_t *out_len);

/* mail_rfc2047.c */
/* Appends header text s[0..n) with its RFC 2047 encoded words decoded, as valid UTF-8
 * (see the file's comment for the rules). */
void mail_rfc2047_decode(const char *s, size_t n, struct buf *out);

/* mail_text.c */
/* The decoded file name of a part (Content-Disposition filename, else Content-Type
 * name; RFC 2231 and 2047 decoded), "" if none. */
const char *mail_decoded_filename(struct arena *a, const struct hblock *hb);
const char *mail_preview_build(struct arena *a, const char *msg, size_t len,
			  const struct mail_part *parts, size_t n);

#endif
