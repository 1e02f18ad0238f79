/* fetch_body.c: the value of one FETCH body item (RFC 9051 §6.4.5, §7.5.2).
 *
 *   BODY[section]<partial>: section-part selects a MIME part by number (the part table
 *   from mail_parse gives its raw byte ranges); HEADER, HEADER.FIELDS [.NOT] and TEXT
 *   apply to the message or to an encapsulated message/rfc822 part; MIME is a part's
 *   own MIME header. A section that does not exist yields an empty string. The
 *   partial <start.count> cuts the result; the response name then shows <start>.
 *   BINARY[part] (RFC 3516 §4.2) is the part with its Content-Transfer-Encoding
 *   undone, sent as literal8 (~{n}) when it contains NUL; BINARY.SIZE is its length.
 *   A BODY section with NUL octets has them as 0x80 (put_literal).
 *   The bytes are not read here: each literal is written as its prefix ({n} CRLF) and
 *   a splice (file range, transform, cut) that cmd_fetch.c streams through a
 *   mail_reader when the output drains, so a FETCH holds one window of a message, not
 *   the message; only HEADER.FIELDS reads its header block into the scratch arena.
 *   The literal length is known up front: for BODY it is the stored byte range (NUL
 *   as 0x80 keeps the length), for BINARY of base64/QP a first streaming pass counts
 *   the decoded bytes (and looks for NUL to choose literal8). */
#include "session.h"

#include "imap_fetch.h"
#include "mail.h"
#include "mail_reader.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Copies the fields of header block h that are (or, with not, are not) in names. */
static void header_fields(struct buf *out, const char *h, size_t len, const char **names, size_t n, bool not)
{
	size_t i = 0;
	while (i < len) {
		/* the end of the header block: an empty line */
		if (h[i] == '\r' || h[i] == '\n')
			break;
		size_t start = i;
		/* field end: a line end not followed by whitespace */
		for (;;) {
			const char *nl = memchr(h + i, '\n', len - i);
			i = nl ? (size_t)(nl - h) + 1 : len;
			if (i >= len || (h[i] != ' ' && h[i] != '\t'))
				break;
		}
		const char *colon = memchr(h + start, ':', i - start);
		size_t nlen = colon ? (size_t)(colon - (h + start)) : 0;
		while (nlen > 0 && (h[start + nlen - 1] == ' ' || h[start + nlen - 1] == '\t'))
			nlen--;
		bool listed = false;
		for (size_t k = 0; colon && k < n && !listed; k++)
			listed = strlen(names[k]) == nlen && strncasecmp(names[k], h + start, nlen) == 0;
		if (colon && listed != not)
			buf_append(out, h + start, i - start);
	}
	buf_append(out, "\r\n", 2);
}

/* Appends a literal prefix and the item's bytes (a string held in memory). A literal
 * never carries NUL (RFC 9051 §4.3): BINARY sends NUL in a literal8; BODY sends each
 * NUL as 0x80, as Dovecot does (the exact bytes stay available through BINARY; the
 * length, and so RFC822.SIZE, stays the same). */
static void put_literal(struct buf *out, const char *p, size_t n, bool allow8)
{
	const char *z = memchr(p, '\0', n);
	buf_printf(out, "%s{%zu}\r\n", z != NULL && allow8 ? "~" : "", n);
	size_t mark = out->len;
	buf_append(out, p, n);
	if (z != NULL && !allow8) {
		for (size_t i = (size_t)(z - p); i < n; i++)
			if (out->data[mark + i] == '\0')
				out->data[mark + i] = (char)0x80;
	}
}

int imap_fetch_body_bytes(const struct imap_fetch_body *fb, const char *msg, size_t len, uint64_t header_size,
		     const struct mail_part *parts, size_t nparts, struct buf *tmp, const char **p_r, size_t *n_r,
		     bool *exists_r, const char **error_r)
{
	const char *p = "";
	size_t n = 0;
	bool exists = true;
	const struct mail_part *part = NULL;
	if (fb->part[0] != '\0') {
		part = mail_part_find(parts, nparts, fb->part);
		exists = part != NULL && part->body_off + part->body_len <= len && part->hdr_off + part->hdr_len <= len;
	}
	if (header_size > len)
		header_size = len;
	if (exists && fb->kind != IMAP_BODY_SECTION) {
		/* BINARY[] / BINARY[part] */
		const char *enc = part ? part->encoding : "7bit";
		const char *src = part ? msg + part->body_off : msg;
		size_t slen = part ? (size_t)part->body_len : len;
		if (part && (part->flags & (MAIL_PART_MULTIPART | MAIL_PART_MESSAGE)))
			enc = "7bit";
		int x = mail_xform_for_encoding(enc);
		if (x < 0) {
			*error_r = "Unknown Content-Transfer-Encoding";
			return -1;
		}
		if (x == MAIL_X_NONE) {
			p = src;
			n = slen;
		} else {
			mail_decode(x, src, slen, tmp);
			p = tmp->data ? tmp->data : "";
			n = tmp->len;
		}
	} else if (exists) {
		/* where the header and text of the selected message are */
		uint64_t hoff = 0, hlen = header_size, toff = header_size, tlen = len - header_size;
		if (part != NULL) {
			if (part->flags & MAIL_PART_MESSAGE) {
				hoff = part->body_off;
				hlen = part->msg_hdr_len <= part->body_len ? part->msg_hdr_len : part->body_len;
				toff = hoff + hlen;
				tlen = part->body_len - hlen;
			} else if (fb->text == IMAP_SECTION_HEADER || fb->text == IMAP_SECTION_FIELDS ||
				   fb->text == IMAP_SECTION_FIELDS_NOT || fb->text == IMAP_SECTION_TEXT) {
				exists = false; /* HEADER/TEXT only for message parts */
			}
		}
		if (exists) {
			switch (fb->text) {
			case IMAP_SECTION_ALL:
				p = part ? msg + part->body_off : msg;
				n = part ? (size_t)part->body_len : len;
				break;
			case IMAP_SECTION_HEADER:
				p = msg + hoff;
				n = (size_t)hlen;
				break;
			case IMAP_SECTION_FIELDS:
			case IMAP_SECTION_FIELDS_NOT:
				header_fields(tmp, msg + hoff, (size_t)hlen, fb->fields, fb->nfields,
					      fb->text == IMAP_SECTION_FIELDS_NOT);
				p = tmp->data;
				n = tmp->len;
				break;
			case IMAP_SECTION_TEXT:
				p = msg + toff;
				n = (size_t)tlen;
				break;
			case IMAP_SECTION_MIME:
				p = msg + part->hdr_off;
				n = (size_t)part->hdr_len;
				break;
			}
		}
	}
	if (!exists) {
		p = "";
		n = 0;
	}
	*p_r = p;
	*n_r = n;
	*exists_r = exists;
	return 1;
}

/* Reads [off, off+len) of the message into the arena (a header block). */
static int read_range(const struct fetch_src *src, uint64_t off, uint64_t len, const char **data_r)
{
	char *p = arena_alloc(src->tmp, len + 1);
	uint64_t got = 0;
	while (got < len) {
		ssize_t k = pread(src->fd, p + got, len - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (uint64_t)k;
	}
	p[len] = '\0';
	*data_r = p;
	return 1;
}

/* Appends the literal prefix and notes where the streamed bytes go. */
static void put_splice(struct buf *out, const struct fetch_src *src, struct fetch_splice **list, uint64_t off,
		       uint64_t len, enum mail_xform x, uint64_t start, uint64_t count, uint64_t n, bool literal8)
{
	buf_printf(out, "%s{%llu}\r\n", literal8 ? "~" : "", (unsigned long long)n);
	struct fetch_splice *sp = arena_alloc(src->tmp, sizeof(*sp));
	*sp = (struct fetch_splice){ .at = out->len, .off = off, .len = len, .x = x, .start = start, .count = count };
	while (*list != NULL)
		list = &(*list)->next;
	*list = sp;
}

/* BINARY[part], BINARY.SIZE[part] (RFC 3516): the decoded size and whether a NUL is in
 * the (cut) output come from a streaming pass before the literal. */
static int binary_item(struct buf *out, const struct imap_fetch_body *fb, const struct fetch_src *src,
		       const struct mail_part *part, bool exists, struct fetch_splice **list, const char **error_r)
{
	uint64_t off = 0, len = 0;
	int x = MAIL_X_NONE;
	if (exists) {
		off = part ? part->body_off : 0;
		len = part ? part->body_len : src->size;
		if (part && !(part->flags & (MAIL_PART_MULTIPART | MAIL_PART_MESSAGE)))
			x = mail_xform_for_encoding(part->encoding);
		if (x < 0) {
			*error_r = "Unknown Content-Transfer-Encoding";
			return -1;
		}
	}
	uint64_t start = fb->partial ? fb->start : 0, count = fb->partial ? fb->count : UINT64_MAX;
	if (fb->kind == IMAP_BODY_BINARY_SIZE) {
		start = 0;
		count = UINT64_MAX;
	}
	uint64_t n = 0;
	bool nul = false;
	if (len > 0 &&
	    (fb->kind == IMAP_BODY_BINARY || x != MAIL_X_NONE) &&
	    mail_reader_measure(src->fd, off, len, (enum mail_xform)x, start, count, &n, &nul) < 0) {
		*error_r = "Cannot read the message";
		return -2;
	}
	if (len > 0 && fb->kind == IMAP_BODY_BINARY_SIZE && x == MAIL_X_NONE)
		n = len;
	if (fb->kind == IMAP_BODY_BINARY_SIZE) {
		buf_printf(out, "%s %llu", fb->name, (unsigned long long)n);
		return 1;
	}
	buf_puts(out, fb->name);
	buf_putc(out, ' ');
	if (n == 0)
		buf_puts(out, "\"\"");
	else
		put_splice(out, src, list, off, len, (enum mail_xform)x, start, count, n, nul);
	return 1;
}

int imap_fetch_body_item(struct buf *out, const struct imap_fetch_body *fb, const struct fetch_src *src,
		    struct fetch_splice **list, const char **error_r)
{
	bool exists = true;
	const struct mail_part *part = NULL;
	uint64_t size = src->size, header_size = src->header_size;
	if (fb->part[0] != '\0') {
		part = mail_part_find(src->parts, src->nparts, fb->part);
		exists = part != NULL && part->body_off + part->body_len <= size && part->hdr_off + part->hdr_len <= size;
	}
	if (header_size > size)
		header_size = size;
	if (fb->kind != IMAP_BODY_SECTION)
		return binary_item(out, fb, src, part, exists, list, error_r);
	/* where the header and text of the selected message are */
	uint64_t hoff = 0, hlen = header_size, toff = header_size, tlen = size - header_size;
	uint64_t off = 0, n = 0;
	if (exists && part != NULL) {
		if (part->flags & MAIL_PART_MESSAGE) {
			hoff = part->body_off;
			hlen = part->msg_hdr_len <= part->body_len ? part->msg_hdr_len : part->body_len;
			toff = hoff + hlen;
			tlen = part->body_len - hlen;
		} else if (fb->text == IMAP_SECTION_HEADER || fb->text == IMAP_SECTION_FIELDS ||
			   fb->text == IMAP_SECTION_FIELDS_NOT || fb->text == IMAP_SECTION_TEXT) {
			exists = false; /* HEADER/TEXT only for message parts */
		}
	}
	if (exists && (fb->text == IMAP_SECTION_FIELDS || fb->text == IMAP_SECTION_FIELDS_NOT)) {
		/* a header block, read into the scratch arena (it is small; the header of a
		 * message is bounded by the message size limits at ingest) */
		const char *h;
		if (read_range(src, hoff, hlen, &h) < 0) {
			*error_r = "Cannot read the message";
			return -2;
		}
		struct buf tmp = { 0 };
		header_fields(&tmp, h, (size_t)hlen, fb->fields, fb->nfields, fb->text == IMAP_SECTION_FIELDS_NOT);
		const char *p = tmp.data;
		size_t tn = tmp.len;
		if (fb->partial) {
			if (fb->start >= tn) {
				tn = 0;
			} else {
				p += fb->start;
				tn -= (size_t)fb->start;
				if (fb->count < tn)
					tn = (size_t)fb->count;
			}
		}
		buf_puts(out, fb->name);
		buf_putc(out, ' ');
		if (tn == 0)
			buf_puts(out, "\"\"");
		else
			put_literal(out, p, tn, false);
		buf_free(&tmp);
		return 1;
	}
	if (exists) {
		switch (fb->text) {
		case IMAP_SECTION_ALL:
			off = part ? part->body_off : 0;
			n = part ? part->body_len : size;
			break;
		case IMAP_SECTION_HEADER:
			off = hoff;
			n = hlen;
			break;
		case IMAP_SECTION_TEXT:
			off = toff;
			n = tlen;
			break;
		case IMAP_SECTION_MIME:
			off = part->hdr_off;
			n = part->hdr_len;
			break;
		default:
			break;
		}
	}
	if (fb->partial) {
		if (fb->start >= n) {
			n = 0;
		} else {
			off += fb->start;
			n -= fb->start;
			if (fb->count < n)
				n = fb->count;
		}
	}
	buf_puts(out, fb->name);
	buf_putc(out, ' ');
	if (n == 0)
		buf_puts(out, "\"\"");
	else
		put_splice(out, src, list, off, n, MAIL_X_NUL80, 0, UINT64_MAX, n, false);
	return 1;
}
