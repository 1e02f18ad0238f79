/* smtp_client.c: client-side SMTP codecs: reply parser, EHLO reader, dot-stuffing
 * (see smtp_client.h). Pure: no sockets, no allocation beyond the caller's buffers. */
#include "smtp_client.h"

#include "arena.h"
#include "textfmt.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void smtp_reply_init(struct smtp_reply_parser *p)
{
	memset(p, 0, sizeof(*p));
}

void smtp_reply_free(struct smtp_reply_parser *p)
{
	buf_free(&p->line);
	buf_free(&p->reply.text);
}

int smtp_enhanced_code(const char *text, size_t len, char enh[16])
{
	/* class "." subject "." detail: 2/4/5 . 1-3 digits . 1-3 digits */
	size_t i = 0;
	if (len < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t start = i;
		while (i < len && isdigit((unsigned char)text[i]) && i - start < 3)
			i++;
		if (i == start)
			return 0;
		if (part == 0) {
			if (i >= len || text[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < len && text[i] != ' ' && text[i] != '\t')
		return 0;
	memcpy(enh, text, i);
	enh[i] = '\0';
	return 1;
}

/* Takes one complete line (no line end) into the reply. Returns 1 if it was the last
 * line, 0 if more lines follow, -1 on error. */
static int reply_line(struct smtp_reply_parser *p, const char *l, size_t n, const char **error_r)
{
	if (n < 3 || !isdigit((unsigned char)l[0]) || !isdigit((unsigned char)l[1]) ||
	    !isdigit((unsigned char)l[2]) || l[0] < '2' || l[0] > '5' || (n > 3 && l[3] != ' ' && l[3] != '-')) {
		*error_r = "malformed SMTP reply line";
		return -1;
	}
	int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	if (p->reply.nlines == 0) {
		p->reply.code = code;
	} else if (code != p->reply.code) {
		*error_r = "reply code changes between lines";
		return -1;
	}
	if (++p->reply.nlines > SMTP_REPLY_LINES_MAX) {
		*error_r = "SMTP reply has too many lines";
		return -1;
	}
	const char *t = n > 4 ? l + 4 : "";
	size_t tn = n > 4 ? n - 4 : 0;
	if (p->reply.nlines == 1) {
		buf_append(&p->reply.text, t, tn);
		if (smtp_enhanced_code(t, tn, p->reply.enh) == 0)
			p->reply.enh[0] = '\0';
	} else {
		buf_putc(&p->reply.text, '\n');
		buf_append(&p->reply.text, t, tn);
	}
	return n == 3 || l[3] == ' ' ? 1 : 0;
}

int smtp_reply_feed(struct smtp_reply_parser *p, struct bytes in, size_t *used_r, const char **error_r)
{
	if (p->complete) {
		p->complete = false;
		p->reply.code = 0;
		p->reply.enh[0] = '\0';
		p->reply.nlines = 0;
		buf_reset(&p->reply.text);
	}
	size_t i = 0;
	while (i < in.len) {
		const char *nl = memchr(in.p + i, '\n', in.len - i);
		size_t take = nl != NULL ? (size_t)(nl - (in.p + i)) : in.len - i;
		if (p->line.len + take > SMTP_REPLY_LINE_MAX) {
			*error_r = "SMTP reply line too long";
			return -1;
		}
		buf_append(&p->line, in.p + i, take);
		i += take;
		if (nl == NULL)
			break;
		i++; /* the LF */
		size_t n = p->line.len;
		if (n > 0 && p->line.data[n - 1] == '\r')
			n--;
		int r = reply_line(p, p->line.data, n, error_r);
		buf_reset(&p->line);
		if (r < 0)
			return -1;
		if (r > 0) {
			p->complete = true;
			*used_r = i;
			return 1;
		}
	}
	*used_r = i;
	return 0;
}

/* Whether the space-separated mechanism list p (n bytes) names PLAIN. */
static bool lists_plain(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (p[i] == ' ' || p[i] == '\r'))
			i++;
		size_t start = i;
		while (i < n && p[i] != ' ' && p[i] != '\r')
			i++;
		if (bytes_ieq((struct bytes){ p + start, i - start }, "PLAIN"))
			return true;
	}
	return false;
}

void smtp_ehlo_parse(const char *text, struct smtp_ehlo *r)
{
	memset(r, 0, sizeof(*r));
	const char *line = strchr(text, '\n'); /* skip the greeting line */
	while (line != NULL) {
		line++;
		const char *end = strchr(line, '\n');
		size_t n = end != NULL ? (size_t)(end - line) : strlen(line);
		struct bytes kw = { line, n };
		const char *sp = memchr(line, ' ', n);
		if (sp != NULL)
			kw.len = (size_t)(sp - line);
		if (bytes_ieq(kw, "STARTTLS"))
			r->starttls = true;
		else if (bytes_ieq(kw, "PIPELINING"))
			r->pipelining = true;
		else if (bytes_ieq(kw, "8BITMIME"))
			r->eightbitmime = true;
		else if (bytes_ieq(kw, "DSN"))
			r->dsn = true;
		else if (bytes_ieq(kw, "SMTPUTF8"))
			r->smtputf8 = true;
		else if (bytes_ieq(kw, "ENHANCEDSTATUSCODES"))
			r->enhancedstatuscodes = true;
		else if (bytes_ieq(kw, "CHUNKING"))
			r->chunking = true;
		else if (bytes_ieq(kw, "AUTH") || (kw.len > 5 && strncasecmp(line, "AUTH=", 5) == 0))
			r->auth_plain |= n > 5 && lists_plain(line + 5, n - 5);
		else if (bytes_ieq(kw, "SIZE")) {
			r->has_size = true;
			if (sp != NULL) {
				struct bytes v = bytes_trim((struct bytes){ sp + 1, n - kw.len - 1 });
				uint64_t sz;
				if (buf_parse_uint64(v, UINT64_MAX, &sz) > 0)
					r->size = sz;
			}
		}
		line = end;
	}
}

int smtp_auth_plain(const char *user, const char *password, struct buf *out)
{
	size_t ul = strlen(user), pl = strlen(password);
	if (ul == 0 || pl == 0)
		return -1;
	struct buf raw = { 0 };
	buf_putc(&raw, '\0'); /* no authzid: act as the user who logs in */
	buf_append(&raw, user, ul);
	buf_putc(&raw, '\0');
	buf_append(&raw, password, pl);
	char *b64 = xmalloc(TEXTFMT_BASE64_LEN(raw.len));
	textfmt_base64(raw.data, raw.len, b64, TEXTFMT_BASE64_LEN(raw.len));
	buf_puts(out, b64);
	explicit_bzero(raw.data, raw.len); /* the password does not linger in freed memory */
	explicit_bzero(b64, strlen(b64));
	free(b64);
	buf_free(&raw);
	return 1;
}

void smtp_dot_stuff(struct bytes msg, struct buf *out)
{
	buf_reserve(out, msg.len + msg.len / 64 + 8);
	bool bol = true;  /* at the start of a line */
	size_t start = 0; /* start of the run of bytes still to copy */
	for (size_t i = 0; i < msg.len; i++) {
		char c = msg.p[i];
		if (c == '\r' || c == '\n') {
			/* CRLF, a bare CR and a bare LF each end a line and go out as CRLF: a
			 * receiver that ends lines on a bare CR must see the same lines (and the
			 * same stuffing) as one that does not (SMTP smuggling) */
			buf_append(out, msg.p + start, i - start);
			buf_append(out, "\r\n", 2);
			if (c == '\r' && i + 1 < msg.len && msg.p[i + 1] == '\n')
				i++;
			start = i + 1;
			bol = true;
			continue;
		}
		if (bol && c == '.') {
			buf_append(out, msg.p + start, i - start);
			buf_putc(out, '.');
			start = i;
		}
		bol = false;
	}
	buf_append(out, msg.p + start, msg.len - start);
	if (!bol)
		buf_append(out, "\r\n", 2);
	buf_append(out, ".\r\n", 3);
}
