/* imap_reader.h: incremental framing of IMAP commands with literals (RFC 9051 §4.3,
 * RFC 7888 LITERAL+, RFC 3516 literal8).
 *
 * A command is one or more lines: every line that ends with a literal header "{n}",
 * "{n+}" or "~{n}" is followed by n bytes of literal data and then the rest of the
 * command. The reader is fed whatever bytes arrived (one at a time in tests) and
 * copies the command into its own buffer in wire form, with CRLF after each literal
 * header and without the final CRLF, so that the argument parser (imap_args.h) sees
 * the literal data in place. It never reads a socket and never decides limits: at
 * each literal header it stops with IMAP_READ_LITERAL, and the session checks the
 * size, then either accepts (sending "+" for a synchronizing literal) or rejects the
 * command. Lines outside literals are limited to line_max bytes. */
#ifndef POSTAMT_IMAP_READER_H
#define POSTAMT_IMAP_READER_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_read_result {
	IMAP_READ_TOO_LONG = -1, /* a line passed line_max: the stream cannot be resynchronised */
	IMAP_READ_MORE = 0,      /* every byte was taken; feed more */
	IMAP_READ_COMMAND = 1,   /* a whole command is buffered: imap_reader_command() */
	IMAP_READ_LITERAL = 2,   /* a literal header was read: lit_size, lit_sync, lit8 say which;
	                          * call imap_reader_literal_accept() or imap_reader_reset() */
};

enum imap_reader_state { IMAP_RD_LINE, IMAP_RD_DECIDE, IMAP_RD_LITERAL, IMAP_RD_DONE };

struct imap_reader {
	struct buf cmd;        /* the command so far (wire form, see above) */
	size_t line_start;     /* where the current line begins in cmd */
	size_t line_max;
	enum imap_reader_state state;
	uint64_t lit_left;     /* literal bytes still to copy */
	/* the literal announced last */
	uint64_t lit_size;     /* UINT64_MAX when the number does not fit */
	bool lit_sync;         /* "{n}": the client waits for "+" */
	bool lit8;             /* "~{n}" */
	size_t literals;       /* literals announced in this command */
};

void imap_reader_init(struct imap_reader *r, size_t line_max);
void imap_reader_free(struct imap_reader *r);
/* Takes bytes from p[0..n). Returns an enum imap_read_result and in *used_r how many
 * bytes were taken (the rest belongs to what comes after the event). */
int imap_reader_feed(struct imap_reader *r, const char *p, size_t n, size_t *used_r);
/* After IMAP_READ_LITERAL: read the literal's bytes next. */
void imap_reader_literal_accept(struct imap_reader *r);
/* Forgets the current command (after it ran, or after a rejected literal) and starts
 * reading the next one. */
void imap_reader_reset(struct imap_reader *r);
/* The buffered command (valid until the next reset/feed); the command so far when
 * called after IMAP_READ_LITERAL. */
struct bytes imap_reader_command(const struct imap_reader *r);
/* Bytes buffered for the current command. */
size_t imap_reader_size(const struct imap_reader *r);

#endif
