/* import_parse.h: pure parsers of foreign mail stores for `postamt import`: Maildir
 * folder and file names (Dovecot and Courier), Dovecot's dovecot-keywords file, the
 * special-use role a folder's name implies (English and German), and mbox files
 * (mboxrd and mboxo, Status:/X-Status:/X-Keywords:). Bytes in, results out: no file is
 * opened here (cli_import.c does the I/O). */
#ifndef POSTAMT_IMPORT_PARSE_H
#define POSTAMT_IMPORT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"

#define IMPORT_KEYWORD_SLOTS 26 /* Maildir keyword letters a..z */

/* The same bits as enum store_flag and enum store_special_use (store.h; cli_import.c
 * asserts that they agree), so that this file needs no store. */
enum import_flag {
	IMPORT_F_SEEN = 1 << 0,
	IMPORT_F_ANSWERED = 1 << 1,
	IMPORT_F_FLAGGED = 1 << 2,
	IMPORT_F_DELETED = 1 << 3,
	IMPORT_F_DRAFT = 1 << 4,
};
enum import_special_use {
	IMPORT_SU_DRAFTS = 1 << 0,
	IMPORT_SU_SENT = 1 << 1,
	IMPORT_SU_TRASH = 1 << 2,
	IMPORT_SU_JUNK = 1 << 3,
	IMPORT_SU_ARCHIVE = 1 << 4,
};

/* A folder's path in a Maildir tree as a "/"-separated UTF-8 name. path is the
 * directory name below the root without the leading "." of Maildir++ (".Sub.Folder"
 * gives "Sub.Folder" with sep '.'), or a relative path of the fs layout ("Sub/Folder",
 * sep '/'). Each level is decoded from modified UTF-7 (Dovecot's default), or taken as
 * it is when it is not mUTF-7 but valid UTF-8. Returns 1 with *name_r (arena), or -1
 * with *error_r (static) for an empty level, a level that is neither, or a control
 * character. The caller still checks the result with store_mailbox_name_check. */
int import_folder_name(struct arena *a, const char *path, char sep, const char **name_r, const char **error_r);

/* What a Maildir file name says ("UNIQ,S=123,W=130:2,FRSab"). */
struct import_maildir_file {
	unsigned int flags; /* enum import_flag bits (D F R S T) */
	bool passed;        /* P: forwarded ($Forwarded) */
	uint32_t keywords;  /* bit i: keyword letter 'a' + i */
	uint64_t size;      /* from ",S=" when has_size */
	bool has_size;
	size_t uniq_len; /* the unique part: name[0..uniq_len), before ":" or ";" */
};
/* Parses a file name. Returns 1, 0 for names that are no message (dot files), or -1
 * for a name with a bad ",S=" or an info part other than "2," (counted as a report
 * line by the caller, the message is still imported without flags). */
int import_maildir_filename(const char *name, struct import_maildir_file *r);

/* Parses the dovecot-keywords file ("0 $Junk\n1 work\n"): slots[i] gets the keyword
 * of letter 'a' + i (arena), NULL where none. Bad lines are skipped. Returns the
 * number of keywords found. */
int import_dovecot_keywords(struct arena *a, const char *data, size_t len, const char *slots[IMPORT_KEYWORD_SLOTS]);

/* The special-use role (enum import_special_use bit) that a folder's name implies:
 * "Sent", "Gesendet", "Sent Items", "Papierkorb", "Spam"... compared
 * case-insensitively with its last level; 0 for none. */
unsigned int import_special_use_of(const char *name);

/* One message of an mbox file: data[start..end) is the message after its "From " line
 * (still escaped), from_line the "From " line without its line end. */
struct import_mbox_msg {
	size_t start, end;
	const char *from_line;
	size_t from_len;
};
/* Finds the message at *pos (0 at first) and moves *pos past it. A message starts at
 * a line beginning "From "; it ends before the next such line (or the end of the
 * data), less one blank line when there is one (the line that separates messages,
 * also written after the last). The last message needs no final newline.
 * Returns 1 with *m, 0 when no message is left, -1 when the data does not start with
 * "From " (not an mbox file). */
int import_mbox_next(const char *data, size_t len, size_t *pos, struct import_mbox_msg *m);
/* Appends data[0..len) to out with one ">" removed from every line that matches
 * ">+From " (mboxrd; for mboxo this also restores its escaped lines). */
void import_mbox_unescape(struct buf *out, const char *data, size_t len);
/* The date of a "From sender Tue Dec  1 10:00:00 2026" line as unix seconds (UTC),
 * 0 when there is none that parses. */
int64_t import_mbox_date(const char *line, size_t len);
/* The flags and keywords a message's Status:, X-Status: and X-Keywords: fields give
 * (R: \Seen; A: \Answered, F: \Flagged, T: \Draft, D: \Deleted). *keywords_r is a
 * NULL-terminated array in a (not yet validated). */
void import_mbox_flags(struct arena *a, const char *msg, size_t len, unsigned int *flags_r, const char ***keywords_r);

/* The unfolded value of the first header field `name` in msg's header (arena), NULL
 * when there is none; at most 998 bytes are kept. */
const char *import_header_value(struct arena *a, const char *msg, size_t len, const char *name);

#endif
