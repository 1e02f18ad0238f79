/* smtp_data.h: the DATA stream decoder (RFC 5321 §4.1.1.4, §4.5.2).
 *
 * Fed the bytes after "354" in any pieces, it removes dot-stuffing, stops exactly
 * after CRLF "." CRLF and reports what makes a message unacceptable: bare CR or LF
 * (§2.3.8; also the way SMTP smuggling works, so "\n.\r\n" never ends the data),
 * NUL bytes, and a size over the limit. It keeps decoding to the end of the data in
 * every case, so the session stays in step with the client. */
#ifndef POSTAMT_SMTP_DATA_H
#define POSTAMT_SMTP_DATA_H

#include "buf.h"

#include <stdbool.h>
#include <stdint.h>

struct smtp_data {
	int state;
	uint64_t max;   /* bytes kept at most */
	uint64_t size;  /* decoded size so far (counted past max too) */
	bool bare_eol;  /* a CR or LF not part of CRLF */
	bool nul;       /* a NUL byte */
	bool too_big;   /* size passed max; out stops growing */
};

/* Starts decoding a message of at most max bytes. */
void smtp_data_init(struct smtp_data *d, uint64_t max);
/* Decodes from in, appending message bytes to out (not past max). Sets *used_r to
 * the bytes consumed. Returns 1 when the terminating line was consumed (input after
 * it is left alone), 0 when all of in was consumed and more is needed. */
int smtp_data_feed(struct smtp_data *d, struct bytes in, struct buf *out, size_t *used_r);

/* BDAT (RFC 3030): the chunks carry the message as it is, with no stuffing and no
 * terminator, and the same policy applies as to DATA. Scans a chunk (any piece of
 * it, after smtp_data_init) and sets bare_eol and nul as smtp_data_feed would; a CR
 * at the end of a piece waits for the next. smtp_data_scan_end, after the LAST
 * chunk, counts a final CR as bare. Neither copies nor counts the size. */
void smtp_data_scan(struct smtp_data *d, struct bytes in);
void smtp_data_scan_end(struct smtp_data *d);

#endif
