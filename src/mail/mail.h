/* mail.h: message ingest (the mail module's public API).
 *
 * mail_parse() reads a message once and derives everything IMAP, POP3 and JMAP need,
 * so that no protocol re-parses a message: the IMAP ENVELOPE, BODY and BODYSTRUCTURE
 * strings (precomputed, with all extension data), the part table (IMAP section number
 * -> raw byte ranges of the part's MIME header and body, so BODY[1.2], [1.2.MIME],
 * [1.2.HEADER], [TEXT] and partial fetches are a pread), decoded header fields, the
 * Date, and a preview. The MIME structure (header/body split, boundaries, nesting) is
 * parsed here, with limits, so the byte offsets are exact and any input, however
 * broken (no headers, NULs, bare LF, 8-bit headers, missing or wrong boundaries,
 * 100 levels of nesting, 10,000 parts), yields a result and never a crash. GMime 3
 * does the decoding: RFC 2047 words, RFC 2231 parameters, dates, transfer encodings
 * and charset conversion to UTF-8.
 *
 * All results live in the caller's arena. The functions are thread-safe. */
#ifndef POSTAMT_MAIL_H
#define POSTAMT_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"

/* Limits applied while parsing (the message itself is always kept whole). */
#define MAIL_MAX_DEPTH 100         /* nesting of multipart and message/rfc822 */
#define MAIL_MAX_PARTS 10000       /* parts described in the part table */
#define MAIL_MAX_FIELD 65536       /* bytes kept of one header value */
#define MAIL_PREVIEW_CHARS 256     /* RFC 8970 */

enum mail_part_flags {
	MAIL_PART_MULTIPART = 1 << 0,  /* multipart/x: children follow */
	MAIL_PART_MESSAGE = 1 << 1,    /* message/rfc822 or message/global: body is a message */
	MAIL_PART_ATTACHMENT = 1 << 2, /* disposition attachment, or a named non-text leaf */
	MAIL_PART_TEXT = 1 << 3,       /* text/x leaf */
};

/* One entry of the part table. Offsets are bytes from the start of the message. */
struct mail_part {
	const char *section;      /* "" for the whole message, then "1", "1.2", ... (IMAP) */
	uint64_t hdr_off, hdr_len;   /* MIME header including its blank line ([n.MIME]) */
	uint64_t body_off, body_len; /* body ([n]) */
	uint64_t lines;           /* LF count of the body */
	uint64_t msg_hdr_len;     /* MESSAGE parts: header length of the enclosed message;
	                           * its [n.HEADER] is body_off..+msg_hdr_len, [n.TEXT] the rest */
	uint32_t flags;           /* enum mail_part_flags */
	int depth;
	const char *type, *subtype; /* lower case ("text", "plain" by default) */
	const char *encoding;     /* lower case Content-Transfer-Encoding, "7bit" by default */
	const char *charset;      /* lower case charset parameter, "" if none */
	const char *disposition;  /* lower case, "" if none */
	const char *filename;     /* decoded UTF-8 (RFC 2231, 2047), "" if none */
	const char *content_id;   /* raw, "" if none */
};

struct mail_info {
	uint64_t size;            /* bytes of the message */
	uint64_t header_len;      /* bytes of the top header including the blank line */
	const char *envelope;     /* IMAP ENVELOPE */
	const char *bodystructure;/* IMAP BODYSTRUCTURE */
	const char *body;         /* IMAP BODY */
	const char *subject;      /* decoded UTF-8, "" if absent */
	const char *from, *to, *cc, *bcc, *reply_to, *sender; /* decoded "Name <a@b>, ..." */
	const char *message_id, *in_reply_to, *references;   /* raw, unfolded, trimmed */
	int64_t date;             /* Date: as unix time, 0 if absent or unparsable */
	int date_tz;              /* its zone, minutes east of UTC */
	const char *preview;      /* plain-text preview, whitespace collapsed */
	bool has_attachment;
	struct mail_part *parts;  /* parts[0] is the whole message (section "") */
	size_t nparts;
	/* the full-text index's input, filled at ingest by the store (NULL otherwise):
	 * mail_header_text and mail_body_text, case-folded (mail_casefold) */
	const char *index_hdr, *index_body;
};

/* Initialises GMime once per process (thread-safe; every function calls it). */
void mail_init(void);

/* Parses a message. Never fails: any bytes give a (possibly minimal) result.
 * data need not be NUL-terminated; it must outlive nothing (all results are copies). */
struct mail_info *mail_parse(struct arena *a, const char *data, size_t len);

/* Converts bare LF (and a final bare CR) to CRLF, keeping every other byte. Returns a
 * malloc'd copy in *out_r and its length. */
size_t mail_normalize_crlf(const char *data, size_t len, char **out_r);

/* Part table serialisation, for storage: one line per part, tab-separated fields. */
const char *mail_parts_encode(struct arena *a, const struct mail_part *parts, size_t n);
/* Returns 1 with the table in the arena, or -1 if s is malformed. */
int mail_parts_decode(struct arena *a, const char *s, struct mail_part **parts_r, size_t *n_r);
/* The part with the given section ("" for the message), or NULL. */
const struct mail_part *mail_part_find(const struct mail_part *parts, size_t n,
				       const char *section);

/* The byte range of an IMAP BODY[] section (RFC 9051 §6.4.5) in the stored message:
 * spec is "" (the whole message), "HEADER", "TEXT", "HEADER.FIELDS",
 * "HEADER.FIELDS.NOT", or a part number "1.2" optionally followed by ".MIME",
 * ".HEADER", ".TEXT", ".HEADER.FIELDS" or ".HEADER.FIELDS.NOT" (case-insensitive; the
 * caller strips the field list and filters the header range itself). Returns 1 with
 * the range, 0 when the part does not exist or has no such sub-section (IMAP then
 * returns an empty string), -1 when spec is malformed. */
int mail_section_range(const struct mail_part *parts, size_t n, const char *spec,
		       uint64_t *off_r, uint64_t *len_r);

/* Appends the decoded UTF-8 text of a leaf part (transfer encoding undone, charset
 * converted, invalid bytes replaced; HTML tags stripped when html_to_text) to out. */
void mail_part_text(const char *msg, size_t len, const struct mail_part *p, bool html_to_text,
		    struct buf *out);
/* Appends the part's body with its Content-Transfer-Encoding undone (base64,
 * quoted-printable; others as they are) and nothing else changed: IMAP BINARY[n]
 * (RFC 3516) and JMAP blob downloads of attachments. */
void mail_part_binary(const char *msg, size_t len, const struct mail_part *p, struct buf *out);
/* The bytes mail_part_binary would append, counted without decoding: base64
 * line breaks and padding do not count (JMAP EmailBodyPart size, RFC 8621 §4.1.4).
 * When msg holds only the header (len ends before the body), an estimate from
 * the part's line count. */
uint64_t mail_part_decoded_size(const char *msg, size_t len, const struct mail_part *p);
/* Appends the decoded text of every text/ leaf of the message (what SEARCH BODY
 * looks at), separated by newlines. */
void mail_body_text(const char *msg, size_t len, const struct mail_part *parts, size_t n,
		    struct buf *out);
/* Appends the header text SEARCH TEXT looks at (RFC 9051 §6.4.4: the message's
 * header, every MIME part's header, attached messages' headers, decoded file names),
 * RFC 2047-decoded, blocks separated by newlines. header_len: the top header's bytes. */
void mail_header_text(const char *msg, size_t len, uint64_t header_len, const struct mail_part *parts,
		      size_t n, struct buf *out);
/* Appends to out every value of header field `name` in the header block hdr, unfolded
 * and RFC 2047-decoded, one per line. Returns the number of fields found. */
int mail_header_values(const char *hdr, size_t len, const char *name, struct buf *out);
/* Same, raw (unfolded, not decoded). */
int mail_header_values_raw(const char *hdr, size_t len, const char *name, struct buf *out);
/* The addr-specs of every mailbox in every `name` field (e.g. "From", "Sender") of
 * msg's header: a NULL-terminated array in the arena and its length, groups
 * flattened. Returns the number of such fields (0: none), or -1 when a field holds
 * something that is not a mailbox GMime can parse (the addresses found are still
 * returned): a sending policy must refuse what it cannot read. */
int mail_header_mailboxes(struct arena *a, const char *msg, size_t len, const char *name, const char ***addrs_r,
			  size_t *n_r);
/* The one person a received message comes from, for the address book: 1 with the
 * addr-spec (*addr_r) and the decoded display name (*name_r, NULL when none) of the
 * single mailbox in the single From field of msg's header; 0 when the message is not
 * personal mail: from a mailing list (List-Id, List-Unsubscribe, List-Post), bulk
 * (Precedence bulk, list or junk), sent by a machine (Auto-Submitted other than "no",
 * RFC 3834; a MAILER-DAEMON, postmaster or noreply sender), or with no or several
 * From mailboxes. Results in the arena. */
int mail_personal_sender(struct arena *a, const char *msg, size_t len, const char **addr_r, const char **name_r);
/* The display name the message's To, Cc or Bcc gives each of the n envelope addresses
 * (compared without case), into names[i], or NULL; names has n entries. */
void mail_recipient_names(struct arena *a, const char *msg, size_t len, const char *const *addrs, size_t n,
			  const char **names);
/* RFC 5321 §4.4: final delivery adds "Return-Path: <sender>" ("" for the null
 * sender) as the first line; Return-Path fields already in the header (with their
 * continuation lines) are removed, since only the delivering MTA may write one.
 * Writes a new NUL-terminated malloc'd copy to *out_r and returns its length. */
size_t mail_set_return_path(const char *sender, const char *data, size_t len, char **out_r);
/* Decodes RFC 2047 encoded words and 8-bit text into UTF-8 (arena). */
const char *mail_decode_header(struct arena *a, const char *raw);

/* Case-folds UTF-8 text for case-insensitive matching (arena). */
const char *mail_casefold(struct arena *a, const char *s, size_t len);
/* True if the folded needle occurs in text (which is folded here). */
bool mail_text_contains(struct arena *a, const char *text, size_t len, const char *folded_needle);

/* Text case-folded as mail_casefold folds it, with the way back: map[j] is the offset
 * in text of the character whose folding gave byte j of s (map[len] = text_len). */
struct mail_folded {
	const char *text; /* the original (not copied: keep it alive), or its valid UTF-8 copy */
	size_t text_len;
	char *s;          /* folded, NUL-terminated (arena) */
	size_t len;
	uint32_t *map;    /* len + 1 entries (arena) */
};
/* Folds text[0..len) (below 4 GB). Text that is not valid UTF-8 (or holds NULs) is
 * first made valid as the search makes it (copied into the arena; use out->text).
 * 1, or -1 when it is too long. */
int mail_fold_map(struct arena *a, const char *text, size_t len, struct mail_folded *out);
/* The first match of folded_needle that starts at or after offset `from` of the
 * original: true with the original span [*start_r, *end_r) of whole characters. */
bool mail_fold_find(const struct mail_folded *f, size_t from, const char *folded_needle, size_t *start_r,
		    size_t *end_r);

/* Parses an RFC 5322 date (lenient, via GMime). Returns 1 with unix time and zone
 * (minutes east), or -1. */
int mail_parse_date(const char *s, int64_t *time_r, int *tz_r);

/* Extracts "<...>" message ids from a header value (References, In-Reply-To,
 * Message-ID) into a NULL-terminated array (arena), at most max. */
const char **mail_msgids(struct arena *a, const char *value, size_t max);

/* Appends s (len bytes) as an IMAP string: NIL for NULL, quoted when possible, a
 * literal for 8-bit text or text with '"' or '\\' (as Dovecot does); CR, LF and NUL
 * are replaced by spaces. */
void mail_imap_string(struct buf *out, const char *s, size_t len);

#endif
