/* imap_format.h: IMAP response formatting (RFC 9051 §4.3, §5.1.3, §9) and modified
 * UTF-7 mailbox names (RFC 3501 §5.1.3).
 *
 * Strings go out quoted when that is possible (short, no CR/LF/NUL, 7-bit unless the
 * client enabled UTF-8) and as literals otherwise; mailbox names are UTF-8 inside the
 * server and modified UTF-7 on the wire. Pure functions over struct buf. */
#ifndef POSTAMT_IMAP_FORMAT_H
#define POSTAMT_IMAP_FORMAT_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* string: quoted when possible, else a literal {n}. */
void imap_put_string(struct buf *b, const char *s, size_t len);
/* nstring: NIL for NULL. */
void imap_put_nstring(struct buf *b, const char *s, size_t len);
/* astring: an atom when every byte is ASTRING-CHAR, else a string. */
void imap_put_astring(struct buf *b, const char *s, size_t len);
/* A set of ascending numbers as a sequence-set, runs compressed: "1:3,5,9:10".
 * Appends nothing for n == 0. */
void imap_put_set(struct buf *b, const uint32_t *v, size_t n);
/* A mailbox name (UTF-8) as modified UTF-7 in a quoted string (or a literal).
 * "INBOX" stays an atom-like quoted "INBOX". */
void imap_put_mailbox(struct buf *b, const char *utf8);
/* date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (quoted) for unix time t in zone tz
 * (minutes east of UTC). */
void imap_put_datetime(struct buf *b, int64_t t, int tz);

/* Modified UTF-7 (RFC 3501 §5.1.3). encode: UTF-8 in, mUTF-7 appended to out;
 * returns 1, or -1 when s is not valid UTF-8 (out then holds partial output).
 * decode: mUTF-7 in, UTF-8 appended; returns 1, or -1 on anything that is not the
 * canonical encoding (bad base64, non-zero padding bits, an encoded printable ASCII
 * character, "&" not closed by "-", 8-bit bytes, an empty "&-" pair except as "&",
 * unpaired surrogates). */
int imap_utf7_encode(struct buf *out, const char *s, size_t len);
int imap_utf7_decode(struct buf *out, const char *s, size_t len);


#endif
