/* mail_searchtext.c: the text that IMAP SEARCH TEXT and BODY look at, in one place for
 * the scan (store_search.c) and the full-text index built at ingest (store_index.c),
 * so both see exactly the same characters.
 *
 * Header text (TEXT): RFC 9051 §6.4.4 says TEXT covers "header (including MIME header
 * fields) or body". That is the message's header block, each MIME part's header, the
 * header of each attached message, and each part's decoded file name (an RFC 2231
 * name is not readable in the raw header), every block RFC 2047-decoded. Body text
 * (BODY, TEXT): every text/ leaf decoded (mail_body_text). */
#include "mail_int.h"

#include <string.h>

/* Appends msg[off..off+len) decoded as header text, if it lies within the message. */
static void put_block(const char *msg, size_t len, uint64_t off, uint64_t n, struct buf *out)
{
	if (n == 0 || off > len || n > len - off)
		return;
	mail_rfc2047_decode(msg + off, (size_t)n, out);
	buf_putc(out, '\n');
}

void mail_header_text(const char *msg, size_t len, uint64_t header_len, const struct mail_part *parts, size_t n,
		      struct buf *out)
{
	if (header_len > len)
		header_len = len;
	put_block(msg, len, 0, header_len, out);
	for (size_t i = 1; i < n; i++) {
		const struct mail_part *p = &parts[i];
		if (p->hdr_off >= header_len) /* a single part's header is the message's */
			put_block(msg, len, p->hdr_off, p->hdr_len, out);
		if (p->flags & MAIL_PART_MESSAGE)
			put_block(msg, len, p->body_off, p->msg_hdr_len, out);
		if (p->filename != NULL && *p->filename) {
			buf_puts(out, p->filename);
			buf_putc(out, '\n');
		}
	}
}
