/* sieve_reply.c: automatic replies, the vacation fragment, the redirect loop header,
 * SRS and spamtest's percent for the Sieve delivery hook (sieve_reply.h). Pure: the
 * header block is scanned line by line here (field names at the start of a line,
 * continuation lines skipped, up to the blank line), values through mail.h. */
#include "sieve_reply.h"

#include "mail.h"
#include "textfmt.h"

#include <openssl/hmac.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Calls fn for every field of the header block (name, its length, the whole field);
 * stops when fn returns true and returns true then. */
static bool each_field(const char *hdr, size_t len,
		       bool (*fn)(void *arg, const char *name, size_t nlen, const char *field, size_t flen), void *arg)
{
	size_t pos = 0;
	while (pos < len) {
		const char *line = hdr + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - hdr) + 1 : len;
		if (line[0] == '\r' || line[0] == '\n')
			return false; /* the blank line */
		size_t fend = end;
		while (fend < len && (hdr[fend] == ' ' || hdr[fend] == '\t')) {
			const char *n2 = memchr(hdr + fend, '\n', len - fend);
			fend = n2 != NULL ? (size_t)(n2 - hdr) + 1 : len;
		}
		const char *colon = memchr(line, ':', end - pos);
		if (colon != NULL && fn(arg, line, (size_t)(colon - line), line, fend - pos))
			return true;
		pos = fend;
	}
	return false;
}

static bool is_list_field(void *arg, const char *name, size_t nlen, const char *field, size_t flen)
{
	return nlen > 5 && strncasecmp(name, "List-", 5) == 0;
}

/* The first value of field `name`, unfolded, trimmed, in the arena; NULL when none. */
static const char *first_value(struct arena *a, const char *hdr, size_t len, const char *name)
{
	struct buf b = { 0 };
	if (mail_header_values_raw(hdr, len, name, &b) <= 0) {
		buf_free(&b);
		return NULL;
	}
	const char *s = buf_str(&b);
	size_t n = strcspn(s, "\n");
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	const char *v = arena_strndup(a, s, n);
	buf_free(&b);
	return v;
}

bool sieve_reply_allowed(const char *sender, const char *hdr, size_t len, const char **why_r)
{
	const char *at = strrchr(sender, '@');
	size_t local = at != NULL ? (size_t)(at - sender) : strlen(sender);
	if (sender[0] == '\0') {
		*why_r = "null_sender";
		return false;
	}
	if ((local == 13 && strncasecmp(sender, "MAILER-DAEMON", 13) == 0) || strncasecmp(sender, "owner-", 6) == 0 ||
	    (local >= 8 && strncasecmp(sender + local - 8, "-request", 8) == 0)) {
		*why_r = "list_or_daemon_sender";
		return false;
	}
	struct arena *a = arena_new();
	bool ok = true;
	const char *v = first_value(a, hdr, len, "Auto-Submitted");
	if (v != NULL && strncasecmp(v, "no", 2) != 0) {
		*why_r = "auto_submitted";
		ok = false;
	}
	v = ok ? first_value(a, hdr, len, "Precedence") : NULL;
	if (v != NULL && (strcasecmp(v, "bulk") == 0 || strcasecmp(v, "list") == 0 || strcasecmp(v, "junk") == 0)) {
		*why_r = "precedence";
		ok = false;
	}
	if (ok && each_field(hdr, len, is_list_field, NULL)) {
		*why_r = "list";
		ok = false;
	}
	arena_free(&a);
	return ok;
}

bool sieve_reply_addressed(struct arena *a, const char *msg, size_t len, const char *const *addrs, size_t n)
{
	static const char *const fields[] = { "To", "Cc", "Bcc", "Resent-To", "Resent-Cc" };
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		const char **got;
		size_t ngot = 0;
		mail_header_mailboxes(a, msg, len, fields[f], &got, &ngot);
		for (size_t i = 0; i < ngot; i++) {
			for (size_t k = 0; k < n; k++) {
				if (addrs[k] != NULL && strcasecmp(got[i], addrs[k]) == 0)
					return true;
			}
		}
	}
	return false;
}

/* A header value of ours in UTF-8: RFC 2047 is not needed for SMTPUTF8-less hops
 * in practice only when the text is ASCII; otherwise one encoded word per chunk. */
static void put_text_header(struct buf *out, const char *name, const char *value)
{
	bool ascii = true;
	for (const char *p = value; *p != '\0'; p++)
		ascii &= (unsigned char)*p < 0x80 && *p != '\r' && *p != '\n';
	buf_printf(out, "%s: ", name);
	if (ascii) {
		buf_printf(out, "%s\r\n", value);
		return;
	}
	size_t len = strlen(value);
	for (size_t off = 0; off < len;) {
		size_t chunk = len - off > 45 ? 45 : len - off;
		while (off + chunk < len && ((unsigned char)value[off + chunk] & 0xc0) == 0x80)
			chunk--; /* never split a UTF-8 sequence */
		char enc[80];
		textfmt_base64(value + off, chunk, enc, sizeof(enc));
		buf_printf(out, "%s=?UTF-8?B?%s?=", off > 0 ? "\r\n " : "", enc);
		off += chunk;
	}
	buf_puts(out, "\r\n");
}

/* The body with bare LF made CRLF. */
static void put_crlf(struct buf *out, const char *s)
{
	char prev = '\0';
	for (; *s != '\0'; s++) {
		if (*s == '\n' && prev != '\r')
			buf_putc(out, '\r');
		buf_putc(out, *s);
		prev = *s;
	}
}

static void put_common(struct buf *out, const char *from, const char *to, const char *hostname, int64_t now)
{
	char date[TEXTFMT_DATE_MAX], mid[40];
	textfmt_date(now, date, sizeof(date));
	textfmt_random_hex(mid, sizeof(mid), 12);
	/* a :from may come with a display name */
	buf_printf(out, strchr(from, '<') != NULL ? "Date: %s\r\nFrom: %s\r\n" : "Date: %s\r\nFrom: <%s>\r\n", date,
		   from);
	buf_printf(out, "To: <%s>\r\nMessage-ID: <%s@%s>\r\n", to, mid, hostname);
	buf_puts(out, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
}

void sieve_reply_vacation(struct buf *out, struct arena *a, const struct sieve_vacation_reply *r, const char *orig,
			  size_t orig_len)
{
	put_common(out, r->from, r->to, r->hostname, r->now);
	const char *subject = r->subject;
	if (subject == NULL) {
		struct buf s = { 0 };
		mail_header_values(orig, orig_len, "Subject", &s);
		const char *os = buf_str(&s);
		subject = arena_printf(a, "Auto: %.*s", (int)strcspn(os, "\n"), os);
		buf_free(&s);
	}
	put_text_header(out, "Subject", subject);
	const char *mid = first_value(a, orig, orig_len, "Message-ID");
	if (mid != NULL && mid[0] == '<') {
		const char *refs = first_value(a, orig, orig_len, "References");
		if (refs == NULL)
			refs = first_value(a, orig, orig_len, "In-Reply-To");
		buf_printf(out, "In-Reply-To: %s\r\nReferences: %s%s%s\r\n", mid, refs ? refs : "", refs ? "\r\n " : "",
			   mid);
	}
	if (r->mime) {
		put_crlf(out, r->body);
		return;
	}
	buf_puts(out, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
	put_crlf(out, r->body);
	if (out->len < 2 || out->data[out->len - 1] != '\n')
		buf_puts(out, "\r\n");
}

void sieve_reply_reject(struct buf *out, struct arena *a, const char *from, const char *to, const char *reason,
			const char *hostname, int64_t now, const char *orig, size_t orig_len)
{
	put_common(out, from, to, hostname, now);
	char boundary[40];
	textfmt_random_hex(boundary, sizeof(boundary), 12);
	struct buf s = { 0 };
	mail_header_values(orig, orig_len, "Subject", &s);
	const char *os = buf_str(&s);
	put_text_header(out, "Subject", arena_printf(a, "Rejected: %.*s", (int)strcspn(os, "\n"), os));
	buf_free(&s);
	buf_printf(out,
		   "Content-Type: multipart/report; report-type=disposition-notification;\r\n"
		   "\tboundary=\"%s\"\r\n\r\n"
		   "--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
		   boundary, boundary);
	buf_printf(out, "Your message to <%s> was rejected by the recipient's mail filter:\r\n\r\n", from);
	put_crlf(out, reason);
	buf_printf(out,
		   "\r\n--%s\r\nContent-Type: message/disposition-notification\r\n\r\n"
		   "Reporting-UA: %s; postamt\r\nFinal-Recipient: rfc822; %s\r\n",
		   boundary, hostname, from);
	const char *mid = first_value(a, orig, orig_len, "Message-ID");
	if (mid != NULL)
		buf_printf(out, "Original-Message-ID: %s\r\n", mid);
	buf_printf(out,
		   "Disposition: automatic-action/MDN-sent-automatically; deleted\r\n"
		   "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n",
		   boundary);
	const char *end = NULL;
	for (size_t i = 0; i + 1 < orig_len && end == NULL; i++) {
		if (orig[i] == '\n' &&
		    (orig[i + 1] == '\n' || (orig[i + 1] == '\r' && i + 2 < orig_len && orig[i + 2] == '\n')))
			end = orig + i + 1;
	}
	buf_append(out, orig, end != NULL ? (size_t)(end - orig) : orig_len);
	buf_printf(out, "\r\n--%s--\r\n", boundary);
}

/* A Sieve quoted string (RFC 5228 §2.4.2: \ and " escaped). */
static void put_sieve_string(struct buf *out, const char *s)
{
	buf_putc(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(out, '\\');
		buf_putc(out, *s);
	}
	buf_putc(out, '"');
}

void sieve_reply_vacation_script(struct buf *out, const char *subject, const char *text_body, const char *html_body,
				 uint64_t seconds)
{
	buf_printf(out, "require [\"vacation\", \"vacation-seconds\"];\r\nvacation :seconds %llu",
		   (unsigned long long)seconds);
	if (subject != NULL && subject[0] != '\0') {
		buf_puts(out, " :subject ");
		put_sieve_string(out, subject);
	}
	struct buf body = { 0 };
	if (html_body != NULL && html_body[0] != '\0') {
		char boundary[40];
		textfmt_random_hex(boundary, sizeof(boundary), 12);
		buf_puts(out, " :mime");
		buf_printf(&body, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
		buf_printf(&body,
			   "--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
			   boundary);
		put_crlf(&body, text_body != NULL ? text_body : "");
		buf_printf(
			&body,
			"\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
			boundary);
		put_crlf(&body, html_body);
		buf_printf(&body, "\r\n--%s--\r\n", boundary);
	} else {
		buf_puts(&body, text_body != NULL ? text_body : "");
	}
	buf_putc(out, ' ');
	put_sieve_string(out, buf_str(&body));
	buf_puts(out, ";\r\n");
	buf_free(&body);
}

int sieve_reply_srs(struct arena *a, const void *secret, size_t secret_len, const char *sender, const char *domain,
		    int64_t now, const char **out_r)
{
	const char *at = strrchr(sender, '@');
	if (at == NULL || at == sender)
		return 0;
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned day = (unsigned)((now / 86400) % 1024);
	char tt[3] = { b32[(day >> 5) & 31], b32[day & 31], 0 };
	const char *sdom = at + 1;
	size_t slocal = (size_t)(at - sender);
	char *data = arena_printf(a, "%s%s%.*s", tt, sdom, (int)slocal, sender);
	for (char *p = data; *p != '\0'; p++) /* hops may change the case of an address */
		*p = (char)tolower((unsigned char)*p);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)data, strlen(data), mac, &maclen);
	char b64[64];
	textfmt_base64(mac, 3, b64, sizeof(b64)); /* 3 bytes: 4 characters */
	for (char *p = b64; *p != '\0'; p++) {
		*p = (char)tolower((unsigned char)*p);
		if (*p == '/' || *p == '+')
			*p = '_';
	}
	*out_r = arena_printf(a, "SRS0=%.4s=%s=%s=%.*s@%s", b64, tt, sdom, (int)slocal, sender, domain);
	return 1;
}

int sieve_reply_srs_reverse(struct arena *a, const void *secret, size_t secret_len, const char *address, int64_t now,
			    const char **orig_r)
{
	const char *at = strrchr(address, '@');
	if (at == NULL || strncasecmp(address, "SRS0=", 5) != 0)
		return 0;
	/* SRS0=HHHH=TT=domain=local@ours: the local part may hold "=" itself */
	const char *h = address + 5, *tt = strchr(h, '=');
	if (tt == NULL || tt - h != 4 || tt[1] == '\0' || tt[3] != '=')
		return 0;
	const char *dom = tt + 4, *eq = strchr(dom, '=');
	if (eq == NULL || eq >= at || eq == dom || eq + 1 >= at)
		return 0;
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	const char *d1 = strchr(b32, tolower((unsigned char)tt[1])), *d2 = strchr(b32, tolower((unsigned char)tt[2]));
	if (d1 == NULL || d2 == NULL || tt[1] == '\0' || tt[2] == '\0')
		return 0;
	unsigned stamp = (unsigned)((d1 - b32) << 5 | (d2 - b32));
	unsigned today = (unsigned)((now / 86400) % 1024);
	if ((today + 1024 - stamp) % 1024 > SIEVE_REPLY_SRS_MAX_AGE)
		return 0;
	const char *orig = arena_printf(a, "%.*s@%.*s", (int)(at - eq - 1), eq + 1, (int)(eq - dom), dom);
	const char *again;
	if (sieve_reply_srs(a, secret, secret_len, orig, "x", now - (int64_t)((today + 1024 - stamp) % 1024) * 86400,
			    &again) <= 0 ||
	    strncasecmp(again + 5, h, 4) != 0)
		return 0;
	*orig_r = orig;
	return 1;
}

struct hops {
	const char *address;
	size_t n;
	bool seen;
};

static bool count_hop(void *arg, const char *name, size_t nlen, const char *field, size_t flen)
{
	struct hops *h = arg;
	size_t hl = strlen(SIEVE_REPLY_LOOP_HEADER);
	if (nlen != hl || strncasecmp(name, SIEVE_REPLY_LOOP_HEADER, hl) != 0)
		return false;
	h->n++;
	const char *v = field + nlen + 1;
	const char *end = field + flen;
	while (v < end && isspace((unsigned char)*v))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	size_t al = strlen(h->address);
	if ((size_t)(end - v) == al && strncasecmp(v, h->address, al) == 0)
		h->seen = true;
	return false;
}

size_t sieve_reply_hops(const char *hdr, size_t len, const char *address, bool *seen_r)
{
	struct hops h = { address, 0, false };
	each_field(hdr, len, count_hop, &h);
	*seen_r = h.seen;
	return h.n;
}

int sieve_reply_spam_percent(const char *hdr, size_t len, const char *name)
{
	struct arena *a = arena_new();
	const char *v = first_value(a, hdr, len, name);
	const char *sc = v != NULL ? strstr(v, "score=") : NULL;
	int pct = -1;
	if (sc != NULL) {
		char *end;
		double d = strtod(sc + 6, &end);
		if (end != sc + 6 && d >= 0.0 && d <= 1.0)
			pct = (int)(d * 100.0 + 0.5);
	}
	arena_free(&a);
	return pct;
}
