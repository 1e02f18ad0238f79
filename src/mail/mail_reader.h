/* mail_reader.h: the one way to read a stored message body (issue 15 item 4).
 *
 * A reader takes a byte range of an open message file (fd, offset, length), reads
 * it with pread in windows of at most MAIL_READER_WINDOW bytes and hands it out
 * transformed, one window per call, so that what a session holds at once is bounded
 * by the window whatever the size of the message. The caller asks for the next
 * window when its connection's output has drained (CONN_DRAINED), so a client that
 * reads slowly never makes the server buffer the message. Transforms:
 *   MAIL_X_NONE     the bytes as stored (CRLF as stored)
 *   MAIL_X_NUL80    the bytes as stored, NUL sent as 0x80 (an IMAP literal, RFC 9051 §4.3)
 *   MAIL_X_BASE64   base64 decoded (BINARY, RFC 3516; JMAP part downloads)
 *   MAIL_X_QP       quoted-printable decoded (the same)
 * The base64 and quoted-printable decoders are the server's only ones for transfer
 * encodings (the search text decodes with GMime at ingest). They are incremental and
 * give the same bytes for any split of the input; base64 skips bytes outside its
 * alphabet and stops at "="; quoted-printable drops soft line breaks and the
 * whitespace before a line end, and keeps invalid escapes as they are. One bound: a run
 * of more than MAIL_READER_QP_WS spaces/tabs inside a QP line is passed on rather than
 * held to see whether a line end follows (RFC 2045 lines are <= 76). mail_decode is
 * the one-shot form for bytes already in memory.
 * mail_reader_range() cuts the transformed output to <start.count> (IMAP partial
 * fetches); for the byte-preserving transforms it is a cut of the file range, for the
 * decoders the skipped output is decoded and dropped. POP3 byte stuffing is the POP3
 * codec's (proto/pop3 pop3_stuff), applied to the windows of a MAIL_X_NONE reader. */
#ifndef POSTAMT_MAIL_READER_H
#define POSTAMT_MAIL_READER_H

#include "buf.h"

#include <stdbool.h>
#include <stdint.h>

#define MAIL_READER_WINDOW (64 * 1024)
#define MAIL_READER_QP_WS 1024

enum mail_xform { MAIL_X_NONE, MAIL_X_NUL80, MAIL_X_BASE64, MAIL_X_QP };

struct mail_reader {
	int fd;                  /* not owned */
	uint64_t off, end;       /* the raw range still to read */
	enum mail_xform x;
	size_t window;           /* raw bytes per read */
	uint64_t skip, left;     /* output: drop the first skip bytes, then give at most left */
	char *raw;               /* decoders: the window (malloc, freed by mail_reader_free) */
	/* decoder state */
	uint32_t acc;
	int bits;
	int qstate;
	char h1;
	bool stopped;            /* base64: after '=' */
	bool ended;              /* the decoder input has ended */
	size_t nws;
	char ws[MAIL_READER_QP_WS];
};

/* Transfer encoding name (lower or any case) to a transform: MAIL_X_NONE for 7bit,
 * 8bit, binary; -1 for an encoding nobody can undo (IMAP NO [UNKNOWN-CTE]). */
int mail_xform_for_encoding(const char *encoding);

/* Starts a reader over [off, off+len) of fd with transform x; window 0 means
 * MAIL_READER_WINDOW (a smaller one is for tests). */
void mail_reader_init(struct mail_reader *r, int fd, uint64_t off, uint64_t len, enum mail_xform x,
		      size_t window);
/* Cuts the output to the count bytes from start (call before the first read). */
void mail_reader_range(struct mail_reader *r, uint64_t start, uint64_t count);
/* Appends the next piece of output (at most one window) to out. Returns 1 when there
 * may be more, 0 at the end (nothing appended), -1 on a read error or a file shorter
 * than the range (errno kept). */
int mail_reader_next(struct mail_reader *r, struct buf *out);
void mail_reader_free(struct mail_reader *r);

/* Output size of [off, off+len) of fd under x, cut to <start.count> (0, UINT64_MAX
 * for all), and whether it has a NUL byte: one streaming pass with a window, for
 * BINARY.SIZE and the literal(8) length. Returns 1, or -1 on a read error. */
int mail_reader_measure(int fd, uint64_t off, uint64_t len, enum mail_xform x, uint64_t start, uint64_t count,
			uint64_t *size_r, bool *has_nul_r);

/* The incremental decoders on memory, for tests and callers that hold the input:
 * appends decode(in) to out with the reader's state (mail_reader_init with fd -1). */
void mail_reader_decode(struct mail_reader *r, const char *in, size_t n, struct buf *out);
/* Ends the decoder input: flushes what the state holds. */
void mail_reader_decode_end(struct mail_reader *r, struct buf *out);
/* Appends in[0..n) under transform x to out in one go (the same decoders; MAIL_X_NONE
 * and MAIL_X_NUL80 append the bytes as they are): BINARY of a message in memory
 * (CATENATE's URLs). */
void mail_decode(enum mail_xform x, const char *in, size_t n, struct buf *out);

#endif
