/* imap_fetch.h: FETCH attribute parsing (RFC 9051 §6.4.5, RFC 3516 BINARY).
 *
 * fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
 *         "(" fetch-att *(SP fetch-att) ")")
 * fetch-att = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822.SIZE" / "BODY" ["STRUCTURE"] /
 *         "UID" / "BODY" section [partial] / "BODY.PEEK" section [partial] /
 *         "BINARY" [".PEEK"] section-binary [partial] / "BINARY.SIZE" section-binary /
 *         RFC 3501: "RFC822" / "RFC822.HEADER" / "RFC822.TEXT"
 * section = "[" [section-spec] "]"; section-spec = section-msgtext / (section-part
 *         ["." section-text]); section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP
 *         header-list / "TEXT"; section-text = section-msgtext / "MIME";
 * partial = "<" number64 "." nz-number64 ">" */
#ifndef POSTAMT_IMAP_FETCH_H
#define POSTAMT_IMAP_FETCH_H

#include "imap_args.h"

enum imap_fetch_att {
	IMAP_FA_UID = 1 << 0,
	IMAP_FA_FLAGS = 1 << 1,
	IMAP_FA_INTERNALDATE = 1 << 2,
	IMAP_FA_RFC822_SIZE = 1 << 3,
	IMAP_FA_ENVELOPE = 1 << 4,
	IMAP_FA_BODY = 1 << 5,          /* BODY without a section: structure, no extensions */
	IMAP_FA_BODYSTRUCTURE = 1 << 6,
	IMAP_FA_MODSEQ = 1 << 7,
	IMAP_FA_EMAILID = 1 << 8,
	IMAP_FA_THREADID = 1 << 9,
	IMAP_FA_SAVEDATE = 1 << 10,
	IMAP_FA_PREVIEW = 1 << 11,
};

enum imap_section_text {
	IMAP_SECTION_ALL,      /* [] or [1.2] */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_FIELDS,
	IMAP_SECTION_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME,
};

enum imap_body_kind {
	IMAP_BODY_SECTION,     /* BODY[...] / BODY.PEEK[...] / RFC822 forms */
	IMAP_BODY_BINARY,      /* BINARY[...] / BINARY.PEEK[...] */
	IMAP_BODY_BINARY_SIZE, /* BINARY.SIZE[...] */
};

struct imap_fetch_body {
	enum imap_body_kind kind;
	bool peek;                 /* does not set \Seen */
	const char *part;          /* "" or "1.2.3" */
	enum imap_section_text text;
	const char **fields;       /* HEADER.FIELDS names, NULL-terminated */
	size_t nfields;
	bool partial;
	uint64_t start, count;
	const char *name;          /* the item name in the response, e.g. "BODY[HEADER]<0>",
	                            * "RFC822.HEADER" */
	struct imap_fetch_body *next;
};

struct imap_fetch {
	unsigned atts;             /* enum imap_fetch_att */
	struct imap_fetch_body *bodies; /* in request order */
	size_t nbodies;
	bool sets_seen;            /* some body item without PEEK */
};

/* Parses the fetch attributes (after the sequence set and its SP). Returns 1, or -1
 * with cur->error. */
int imap_fetch_parse(struct imap_cur *cur, struct imap_fetch *out);

#endif
