/* http_util.c: see http_util.h. */
#include "http_util.h"
#include "textfmt.h"

#include <string.h>
#include <strings.h>

/* Decodes in into out (NUL-terminated). plus: '+' means space. Returns the length or -1. */
static int pct_decode(struct bytes in, bool plus, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < in.len; i++) {
		unsigned char c = (unsigned char)in.p[i];
		if (c == '%') {
			if (i + 2 >= in.len)
				return -1;
			int h = textfmt_hex_digit(in.p[i + 1]), l = textfmt_hex_digit(in.p[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = (unsigned char)(h * 16 + l);
			i += 2;
		} else if (plus && c == '+') {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int http_target_split(struct bytes target, char *out, size_t outlen, struct bytes *query_r)
{
	if (target.len == 0 || target.p[0] != '/')
		return -1;
	const char *q = memchr(target.p, '?', target.len);
	struct bytes path = { target.p, q ? (size_t)(q - target.p) : target.len };
	*query_r = q ? (struct bytes){ q + 1, target.len - path.len - 1 } : (struct bytes){ "", 0 };
	const char *hash = memchr(query_r->p, '#', query_r->len);
	if (hash != NULL)
		query_r->len = (size_t)(hash - query_r->p);
	if (pct_decode(path, false, out, outlen) < 0)
		return -1;
	/* no dot segments, decoded or not; no backslashes (some clients treat them as /) */
	for (const char *s = out; *s;) {
		const char *e = strchr(s + 1, '/');
		size_t n = e ? (size_t)(e - s - 1) : strlen(s + 1);
		if ((n == 1 && s[1] == '.') || (n == 2 && s[1] == '.' && s[2] == '.'))
			return -1;
		if (!e)
			break;
		s = e;
	}
	if (strchr(out, '\\') != NULL)
		return -1;
	return 1;
}

int http_query_get(struct bytes query, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	size_t i = 0;
	while (i <= query.len && query.len > 0) {
		const char *amp = memchr(query.p + i, '&', query.len - i);
		size_t end = amp ? (size_t)(amp - query.p) : query.len;
		struct bytes kv = { query.p + i, end - i };
		const char *eq = memchr(kv.p, '=', kv.len);
		size_t klen = eq ? (size_t)(eq - kv.p) : kv.len;
		if (klen == nlen && memcmp(kv.p, name, nlen) == 0) {
			struct bytes v = eq ? (struct bytes){ eq + 1, kv.len - klen - 1 } : (struct bytes){ "", 0 };
			return pct_decode(v, true, out, outlen) < 0 ? -1 : 1;
		}
		if (!amp)
			break;
		i = end + 1;
	}
	return 0;
}

struct bytes http_cookie_get(struct bytes h, const char *name)
{
	size_t nlen = strlen(name);
	size_t i = 0;
	while (i < h.len) {
		while (i < h.len && (h.p[i] == ' ' || h.p[i] == '\t'))
			i++;
		const char *semi = memchr(h.p + i, ';', h.len - i);
		size_t end = semi ? (size_t)(semi - h.p) : h.len;
		struct bytes kv = { h.p + i, end - i };
		const char *eq = memchr(kv.p, '=', kv.len);
		if (eq != NULL && (size_t)(eq - kv.p) == nlen && memcmp(kv.p, name, nlen) == 0) {
			struct bytes v = bytes_trim((struct bytes){ eq + 1, kv.len - nlen - 1 });
			if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"')
				v = (struct bytes){ v.p + 1, v.len - 2 };
			return v;
		}
		i = end + 1;
	}
	return (struct bytes){ "", 0 };
}

/* Calls back each comma-separated element, trimmed. */
static bool list_any(struct bytes v, bool (*fn)(struct bytes el, const void *arg), const void *arg)
{
	size_t i = 0;
	while (i < v.len) {
		const char *comma = memchr(v.p + i, ',', v.len - i);
		size_t end = comma ? (size_t)(comma - v.p) : v.len;
		struct bytes el = bytes_trim((struct bytes){ v.p + i, end - i });
		if (el.len > 0 && fn(el, arg))
			return true;
		i = end + 1;
	}
	return false;
}

static bool gzip_el(struct bytes el, const void *arg)
{
	const char *semi = memchr(el.p, ';', el.len);
	struct bytes coding = bytes_trim((struct bytes){ el.p, semi ? (size_t)(semi - el.p) : el.len });
	if (!bytes_ieq(coding, "gzip") && !bytes_ieq(coding, "x-gzip") && !bytes_eq(coding, "*"))
		return false;
	if (semi != NULL) {
		struct bytes params = bytes_trim((struct bytes){ semi + 1, el.len - (size_t)(semi - el.p) - 1 });
		if (bytes_iprefix(params, "q=")) {
			struct bytes q = { params.p + 2, params.len - 2 };
			bool zero = true;
			for (size_t k = 0; k < q.len; k++) {
				if (q.p[k] != '0' && q.p[k] != '.')
					zero = false;
			}
			if (zero)
				return false;
		}
	}
	return true;
}

bool http_accepts_gzip(struct bytes ae)
{
	return list_any(ae, gzip_el, NULL);
}

static bool etag_el(struct bytes el, const void *arg)
{
	const char *etag = arg;
	if (bytes_eq(el, "*"))
		return true;
	if (bytes_iprefix(el, "W/"))
		el = (struct bytes){ el.p + 2, el.len - 2 };
	if (el.len >= 2 && el.p[0] == '"' && el.p[el.len - 1] == '"')
		el = (struct bytes){ el.p + 1, el.len - 2 };
	return el.len == strlen(etag) && memcmp(el.p, etag, el.len) == 0;
}

bool http_etag_matches(struct bytes inm, const char *etag)
{
	return list_any(inm, etag_el, etag);
}

bool http_origin_matches(struct bytes origin, struct bytes host)
{
	origin = bytes_trim(origin);
	host = bytes_trim(host);
	if (!bytes_iprefix(origin, "https://") || host.len == 0)
		return false;
	struct bytes o = { origin.p + 8, origin.len - 8 };
	if (o.len > 0 && o.p[o.len - 1] == '/')
		o.len--;
	if (o.len != host.len)
		return false;
	return strncasecmp(o.p, host.p, o.len) == 0;
}

int http_pct_encode(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			     strchr("-._~", *p) != NULL;
		size_t need = plain ? 1 : 3;
		if (o + need >= outlen)
			return -1;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

/* The length of the bidi control at p (UTF-8), or 0. */
static size_t bidi_control_len(const unsigned char *p)
{
	if (p[0] == 0xd8 && p[1] == 0x9c)
		return 2; /* U+061C ARABIC LETTER MARK */
	if (p[0] != 0xe2)
		return 0;
	if (p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xaa && p[2] <= 0xae)))
		return 3; /* U+200E, U+200F, U+202A..U+202E */
	if (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 3; /* U+2066..U+2069 */
	return 0;
}

int http_filename_clean(char *s)
{
	int n = 0;
	unsigned char *w = (unsigned char *)s;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t len = bidi_control_len(p);
		if (len > 0) {
			*w++ = '_';
			p += len;
			n++;
		} else {
			*w++ = *p++;
		}
	}
	*w = '\0';
	return n;
}

bool http_inline_type_ok(const char *type)
{
	static const char *const ok[] = { "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcasecmp(type, ok[i]) == 0)
			return true;
	return false;
}
