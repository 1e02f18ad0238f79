/* fetch_body.c: the value of one FETCH body item (RFC 9051 §6.4.5, §7.5.2).
 *
 *   BODY[section]<partial>: section-part selects a MIME part by number (the part table
 *   from mail_parse gives its raw byte ranges); HEADER, HEADER.FIELDS [.NOT] and TEXT
 *   apply to the message or to an encapsulated message/rfc822 part; MIME is a part's
 *   own MIME header. A section that does not exist yields an empty string. The
 *   partial <start.count> cuts the result; the response name then shows <start>.
 *   BINARY[part] (RFC 3516 §4.2) is the part with its Content-Transfer-Encoding
 *   undone, sent as literal8 (~{n}) when it contains NUL; BINARY.SIZE is its length.
 *   A BODY section with NUL octets has them as 0x80 (put_literal). */
#include "session.h"

#include "imap_fetch.h"
#include "mail.h"

#include <string.h>
#include <strings.h>

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

/* A literal never carries NUL (RFC 9051 §4.3): BINARY sends NUL in a literal8; BODY
 * sends each NUL as 0x80, as Dovecot does (the exact bytes stay available through
 * BINARY; the length, and so RFC822.SIZE, stays the same). */
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

int fetch_body_bytes(const struct imap_fetch_body *fb, const char *msg, size_t len, uint64_t header_size,
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
		if (strcasecmp(enc, "base64") == 0) {
			imap_decode_base64(tmp, src, slen);
			p = tmp->data ? tmp->data : "";
			n = tmp->len;
		} else if (strcasecmp(enc, "quoted-printable") == 0) {
			imap_decode_qp(tmp, src, slen);
			p = tmp->data ? tmp->data : "";
			n = tmp->len;
		} else if (strcasecmp(enc, "7bit") == 0 || strcasecmp(enc, "8bit") == 0 || strcasecmp(enc, "binary") == 0) {
			p = src;
			n = slen;
		} else {
			*error_r = "Unknown Content-Transfer-Encoding";
			return -1;
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

int fetch_body_item(struct buf *out, const struct imap_fetch_body *fb, const char *msg, size_t len,
		    uint64_t header_size, const struct mail_part *parts, size_t nparts, const char **error_r)
{
	struct buf tmp = { 0 };
	const char *p;
	size_t n;
	bool exists;
	if (fetch_body_bytes(fb, msg, len, header_size, parts, nparts, &tmp, &p, &n, &exists, error_r) < 0) {
		buf_free(&tmp);
		return -1;
	}
	if (fb->kind == IMAP_BODY_BINARY_SIZE) {
		buf_printf(out, "%s %zu", fb->name, n);
		buf_free(&tmp);
		return 1;
	}
	if (fb->partial) {
		if (fb->start >= n) {
			p = "";
			n = 0;
		} else {
			p += fb->start;
			n -= (size_t)fb->start;
			if (fb->count < n)
				n = (size_t)fb->count;
		}
	}
	buf_puts(out, fb->name);
	buf_putc(out, ' ');
	if (n == 0)
		buf_puts(out, "\"\"");
	else
		put_literal(out, p, n, fb->kind == IMAP_BODY_BINARY);
	buf_free(&tmp);
	return 1;
}
