/* imap_format.c: strings, mailbox names and dates (see
 * imap_format.h).
 *
 * RFC 9051 §9: quoted = DQUOTE *QUOTED-CHAR DQUOTE; literal = "{" number64 "}" CRLF
 * *CHAR8; RFC 3501 §5.1.3: "&" starts modified BASE64 of UTF-16 ended by "-", "&-"
 * is "&", printable US-ASCII (0x20-0x7e) other than "&" is never encoded. */
#include "imap_format.h"
#include "textfmt.h"

#include "imap_parse.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#define QUOTED_MAX 1024

void imap_put_string(struct buf *b, const char *s, size_t len)
{
	bool quotable = len <= QUOTED_MAX;
	for (size_t i = 0; quotable && i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80)
			quotable = false;
	}
	if (!quotable) {
		buf_printf(b, "{%zu}\r\n", len);
		buf_append(b, s, len);
		return;
	}
	buf_putc(b, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_putc(b, '\\');
		buf_putc(b, s[i]);
	}
	buf_putc(b, '"');
}

void imap_put_nstring(struct buf *b, const char *s, size_t len)
{
	if (s == NULL)
		buf_puts(b, "NIL");
	else
		imap_put_string(b, s, len);
}

void imap_put_astring(struct buf *b, const char *s, size_t len)
{
	bool atom = len > 0 && !(len == 3 && strncasecmp(s, "NIL", 3) == 0);
	for (size_t i = 0; atom && i < len; i++)
		if (!imap_is_atom_char((unsigned char)s[i]) && s[i] != ']')
			atom = false;
	if (atom)
		buf_append(b, s, len);
	else
		imap_put_string(b, s, len);
}

void imap_put_set(struct buf *b, const uint32_t *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && v[j + 1] == v[j] + 1)
			j++;
		if (i > 0)
			buf_putc(b, ',');
		if (j > i)
			buf_printf(b, "%u:%u", v[i], v[j]);
		else
			buf_printf(b, "%u", v[i]);
		i = j + 1;
	}
}

void imap_put_mailbox(struct buf *b, const char *utf8)
{
	struct buf tmp = { 0 };
	if (imap_utf7_encode(&tmp, utf8, strlen(utf8)) < 0) {
		buf_reset(&tmp);
		/* never happens for names the store accepted; keep the bytes */
		buf_puts(&tmp, utf8);
	}
	imap_put_string(b, buf_str(&tmp), tmp.len);
	buf_free(&tmp);
}

void imap_put_datetime(struct buf *b, int64_t t, int tz)
{
	static const char *const mon[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t local = (time_t)(t + (int64_t)tz * 60);
	struct tm tm;
	gmtime_r(&local, &tm);
	int a = tz < 0 ? -tz : tz;
	buf_printf(b, "\"%02d-%s-%04d %02d:%02d:%02d %c%02d%02d\"", tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
		   tm.tm_hour, tm.tm_min, tm.tm_sec, tz < 0 ? '-' : '+', a / 60, a % 60);
}

/* ------------------------------------------------------------ modified UTF-7 */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* Next code point of UTF-8 at s[*i]; -1 on invalid input. */
static long utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	long cp;
	int n;
	if (c < 0x80) {
		(*i)++;
		return c;
	} else if ((c & 0xe0) == 0xc0) {
		cp = c & 0x1f;
		n = 1;
	} else if ((c & 0xf0) == 0xe0) {
		cp = c & 0x0f;
		n = 2;
	} else if ((c & 0xf8) == 0xf0) {
		cp = c & 0x07;
		n = 3;
	} else {
		return -1;
	}
	for (int k = 1; k <= n; k++) {
		if (*i + (size_t)k >= len || (s[*i + (size_t)k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[*i + (size_t)k] & 0x3f);
	}
	static const long minv[4] = { 0, 0x80, 0x800, 0x10000 };
	if (cp < minv[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += (size_t)n + 1;
	return cp;
}

static void flush_b64(struct buf *out, const uint16_t *u, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 16) | u[i];
		bits += 16;
		while (bits >= 6) {
			bits -= 6;
			buf_putc(out, b64[(acc >> bits) & 0x3f]);
		}
	}
	if (bits > 0)
		buf_putc(out, b64[(acc << (6 - bits)) & 0x3f]);
}

int imap_utf7_encode(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		if (p[i] >= 0x20 && p[i] <= 0x7e) {
			if (p[i] == '&')
				buf_puts(out, "&-");
			else
				buf_putc(out, (char)p[i]);
			i++;
			continue;
		}
		/* a run of characters to encode */
		uint16_t u[64];
		size_t n = 0;
		buf_putc(out, '&');
		while (i < len && !(p[i] >= 0x20 && p[i] <= 0x7e)) {
			long cp = utf8_next(p, len, &i);
			if (cp < 0)
				return -1;
			if (n + 2 > sizeof(u) / sizeof(u[0])) {
				/* keep the bit stream continuous: only flush at multiples of 3 units */
				size_t whole = n - n % 3;
				flush_b64(out, u, whole);
				memmove(u, u + whole, (n - whole) * sizeof(u[0]));
				n -= whole;
			}
			if (cp >= 0x10000) {
				cp -= 0x10000;
				u[n++] = (uint16_t)(0xd800 + (cp >> 10));
				u[n++] = (uint16_t)(0xdc00 + (cp & 0x3ff));
			} else {
				u[n++] = (uint16_t)cp;
			}
		}
		flush_b64(out, u, n);
		buf_putc(out, '-');
	}
	return 1;
}

static int b64val(unsigned char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

int imap_utf7_decode(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		if (c < 0x20 || c > 0x7e)
			return -1;
		if (c != '&') {
			buf_putc(out, (char)c);
			i++;
			continue;
		}
		i++;
		if (i < len && p[i] == '-') {
			buf_putc(out, '&');
			i++;
			continue;
		}
		uint32_t acc = 0;
		int bits = 0;
		uint32_t high = 0; /* pending high surrogate */
		size_t units = 0;
		for (;;) {
			if (i >= len)
				return -1; /* "&" not closed */
			if (p[i] == '-') {
				i++;
				break;
			}
			int v = b64val(p[i]);
			if (v < 0)
				return -1;
			i++;
			acc = (acc << 6) | (uint32_t)v;
			bits += 6;
			if (bits >= 16) {
				bits -= 16;
				uint32_t u = (acc >> bits) & 0xffff;
				acc &= (1u << bits) - 1;
				units++;
				if (high) {
					if (u < 0xdc00 || u > 0xdfff)
						return -1;
					buf_put_utf8(out, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
					high = 0;
				} else if (u >= 0xd800 && u <= 0xdbff) {
					high = u;
				} else if (u >= 0xdc00 && u <= 0xdfff) {
					return -1;
				} else {
					if (u >= 0x20 && u <= 0x7e)
						return -1; /* printable ASCII must not be encoded */
					buf_put_utf8(out, u);
				}
			}
		}
		if (units == 0 || high || bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
			return -1;
		/* "&...-&...-" with nothing between is not canonical either */
		if (i < len && p[i] == '&' && !(i + 1 < len && p[i + 1] == '-'))
			return -1;
	}
	return 1;
}
