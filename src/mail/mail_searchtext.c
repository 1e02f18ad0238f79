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

/* Appends msg[off..off+len) decoded as header text, if it lies within the message:
 * unfolded first (RFC 5322 §2.2.3: a line break before white space is no character),
 * so that TEXT finds "Angebot 12 zum Projekt" in a Subject folded after "12", as
 * SUBJECT does. */
static void put_block(const char *msg, size_t len, uint64_t off, uint64_t n, struct buf *out)
{
	if (n == 0 || off > len || n > len - off)
		return;
	const char *s = msg + off;
	struct buf u = { 0 };
	for (size_t i = 0; i < n; i++) {
		size_t brk = s[i] == '\n' ? 1 : s[i] == '\r' && i + 1 < n && s[i + 1] == '\n' ? 2 : 0;
		if (brk > 0 && i + brk < n && (s[i + brk] == ' ' || s[i + brk] == '\t')) {
			i += brk - 1; /* the break goes, the white space stays */
			continue;
		}
		buf_putc(&u, s[i]);
	}
	mail_rfc2047_decode(u.data ? u.data : "", u.len, out);
	buf_free(&u);
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
