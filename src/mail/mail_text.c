/* mail_text.c: decoding: header text (mail_rfc2047.c's decoder), file names and dates
 * (GMime), part bodies to UTF-8 text (mail_charset.c), the preview, case folding for
 * search, and the part table's storage form.
 *
 * Decoding never fails: an unknown charset falls back to ISO-8859-1, invalid UTF-8
 * becomes U+FFFD, NULs become spaces, broken base64 or quoted-printable decodes as far
 * as it goes (GMime's decoders are streaming and skip garbage). */
#include "mail_int.h"

#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* GMime keeps process-wide state of its own (charset tables, the parser's
 * registries) and must be initialised once before any thread uses it. This guard is
 * the one file-level variable of the module: it holds no data of ours, only
 * pthread_once's "done" mark, and the library call it guards is not thread-safe. */
static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_init_once(void)
{
	g_mime_init();
}

void mail_init(void)
{
	pthread_once(&gmime_once, gmime_init_once);
}

/* Copies a GLib string into the arena and frees it. */
static const char *take(struct arena *a, char *g)
{
	if (g == NULL)
		return "";
	const char *r = arena_strdup(a, g);
	g_free(g);
	return r;
}


const char *mail_decode_header(struct arena *a, const char *raw)
{
	mail_init();
	if (raw == NULL || *raw == '\0')
		return "";
	struct buf b = { 0 };
	mail_rfc2047_decode(raw, strlen(raw), &b);
	const char *r = arena_strdup(a, buf_str(&b));
	buf_free(&b);
	return r;
}

const char *mail_decoded_filename(struct arena *a, const struct hblock *hb)
{
	mail_init();
	const char *v = mail_hdr_value(a, hb, "Content-Disposition", 8192);
	if (v != NULL) {
		GMimeContentDisposition *d = g_mime_content_disposition_parse(NULL, v);
		if (d != NULL) {
			const char *fn = g_mime_content_disposition_get_parameter(d, "filename");
			const char *r = fn ? take(a, mail_utf8_valid(fn, strlen(fn))) : NULL;
			g_object_unref(d);
			if (r != NULL && *r)
				return r;
		}
	}
	v = mail_hdr_value(a, hb, "Content-Type", 8192);
	if (v != NULL) {
		GMimeContentType *ct = g_mime_content_type_parse(NULL, v);
		if (ct != NULL) {
			const char *fn = g_mime_content_type_get_parameter(ct, "name");
			const char *r = fn ? take(a, mail_utf8_valid(fn, strlen(fn))) : NULL;
			g_object_unref(ct);
			if (r != NULL)
				return r;
		}
	}
	return "";
}

int mail_parse_date(const char *s, int64_t *time_r, int *tz_r)
{
	mail_init();
	if (s == NULL || *s == '\0')
		return -1;
	GDateTime *dt = g_mime_utils_header_decode_date(s);
	if (dt == NULL)
		return -1;
	*time_r = g_date_time_to_unix(dt);
	*tz_r = (int)(g_date_time_get_utc_offset(dt) / G_TIME_SPAN_MINUTE);
	g_date_time_unref(dt);
	return 1;
}

/* ------------------------------------------------------------------ bodies */

static void html_strip(const char *s, size_t n, struct buf *out)
{
	size_t i = 0;
	while (i < n) {
		if (s[i] == '<') {
			/* skip <script>/<style> content entirely */
			if (n - i > 7 && (strncasecmp(s + i, "<script", 7) == 0 ||
					  strncasecmp(s + i, "<style", 6) == 0)) {
				bool script = strncasecmp(s + i, "<script", 7) == 0;
				const char *endtag = script ? "</script" : "</style";
				size_t el = strlen(endtag), j = i + 1;
				while (j + el <= n && strncasecmp(s + j, endtag, el) != 0)
					j++;
				i = j;
			}
			const char *gt = memchr(s + i, '>', n - i);
			if (gt == NULL)
				break;
			i = (size_t)(gt - s) + 1;
			buf_putc(out, ' ');
			continue;
		}
		if (s[i] == '&') { /* a character reference (mail_entity.c) */
			char u[8];
			size_t ul, used = mail_html_entity(s + i, n - i, u, &ul);
			if (used > 0) {
				buf_append(out, u, ul);
				i += used;
				continue;
			}
		}
		buf_putc(out, s[i]);
		i++;
	}
}

static void decode_body(const char *raw, size_t len, const char *encoding, struct buf *out)
{
	if (strcmp(encoding, "base64") == 0) {
		unsigned char *o = xmalloc(len / 4 * 3 + 8);
		int state = 0;
		guint32 save = 0;
		size_t n = g_mime_encoding_base64_decode_step((const unsigned char *)raw, len, o, &state, &save);
		buf_append(out, o, n);
		free(o);
	} else if (strcmp(encoding, "quoted-printable") == 0) {
		unsigned char *o = xmalloc(len + 8);
		int state = 0;
		guint32 save = 0;
		size_t n = g_mime_encoding_quoted_decode_step((const unsigned char *)raw, len, o, &state, &save);
		buf_append(out, o, n);
		free(o);
	} else {
		buf_append(out, raw, len);
	}
}



static void part_text_limited(const char *msg, size_t len, const struct mail_part *p,
			      bool html_to_text, size_t limit, struct buf *out)
{
	mail_init();
	if (p->body_off > len)
		return;
	size_t blen = p->body_len;
	if (blen > len - p->body_off)
		blen = len - p->body_off;
	if (limit > 0 && blen > limit)
		blen = limit;
	struct buf raw = { 0 };
	decode_body(msg + p->body_off, blen, p->encoding, &raw);
	char *u = mail_to_utf8(raw.data ? raw.data : "", raw.len, p->charset);
	buf_free(&raw);
	if (html_to_text && strcmp(p->subtype, "html") == 0)
		html_strip(u, strlen(u), out);
	else
		buf_puts(out, u);
	g_free(u);
}

void mail_part_binary(const char *msg, size_t len, const struct mail_part *p, struct buf *out)
{
	mail_init();
	if (p->body_off > len)
		return;
	size_t blen = p->body_len;
	if (blen > len - p->body_off)
		blen = len - p->body_off;
	decode_body(msg + p->body_off, blen, p->encoding, out);
}

static bool b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static bool hex_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

uint64_t mail_part_decoded_size(const char *msg, size_t len, const struct mail_part *p)
{
	bool b64 = strcmp(p->encoding, "base64") == 0, qp = strcmp(p->encoding, "quoted-printable") == 0;
	if (!b64 && !qp)
		return p->body_len;
	if (p->body_off > len || p->body_len > len - p->body_off) {
		/* Only the header is at hand: every body line ends in a line break that
		 * is not data. The stored message's line ending is the header's. */
		uint64_t eol = memchr(msg, '\r', len) != NULL ? 2 : 1;
		uint64_t data = p->body_len > p->lines * eol ? p->body_len - p->lines * eol : 0;
		return b64 ? data / 4 * 3 : data;
	}
	const unsigned char *s = (const unsigned char *)msg + p->body_off;
	size_t n = (size_t)p->body_len;
	uint64_t count = 0;
	if (b64) {
		/* What the decoder keeps: alphabet characters, 6 bits each; line breaks,
		 * padding and stray bytes carry none. */
		for (size_t i = 0; i < n; i++)
			count += b64_char(s[i]);
		return count * 3 / 4;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '=') {
			count++;
		} else if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2; /* soft line break */
		} else if (i + 1 < n && s[i + 1] == '\n') {
			i += 1;
		} else if (i + 2 < n && hex_char(s[i + 1]) && hex_char(s[i + 2])) {
			count++;
			i += 2;
		} else {
			count++; /* a bare "=" decodes as itself */
		}
	}
	return count;
}

void mail_part_text(const char *msg, size_t len, const struct mail_part *p, bool html_to_text,
		    struct buf *out)
{
	part_text_limited(msg, len, p, html_to_text, 0, out);
}

void mail_body_text(const char *msg, size_t len, const struct mail_part *parts, size_t n,
		    struct buf *out)
{
	const struct mail_part *last = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!(parts[i].flags & MAIL_PART_TEXT))
			continue;
		/* a single-part message is listed twice, as the message ("") and as its
		 * part "1": its text once (twice doubled the index of most mail) */
		if (last != NULL && last->body_off == parts[i].body_off && last->body_len == parts[i].body_len)
			continue;
		mail_part_text(msg, len, &parts[i], true, out);
		buf_putc(out, '\n');
		last = &parts[i];
	}
}

const char *mail_preview_build(struct arena *a, const char *msg, size_t len,
			  const struct mail_part *parts, size_t n)
{
	const struct mail_part *best = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct mail_part *p = &parts[i];
		if (!(p->flags & MAIL_PART_TEXT) || (p->flags & MAIL_PART_ATTACHMENT))
			continue;
		if (strcmp(p->subtype, "plain") == 0) {
			best = p;
			break;
		}
		if (best == NULL && strcmp(p->subtype, "html") == 0)
			best = p;
	}
	if (best == NULL)
		return "";
	struct buf t = { 0 };
	part_text_limited(msg, len, best, true, 16384, &t);
	/* collapse whitespace, cut at MAIL_PREVIEW_CHARS characters */
	struct buf o = { 0 };
	size_t chars = 0;
	bool space = false;
	const char *s = t.data ? t.data : "";
	while (*s && chars < MAIL_PREVIEW_CHARS) {
		gunichar c = g_utf8_get_char(s);
		const char *next = g_utf8_next_char(s);
		if (g_unichar_isspace(c) || c == 0xa0) {
			space = o.len > 0;
		} else {
			if (space) {
				buf_putc(&o, ' ');
				chars++;
				space = false;
				if (chars >= MAIL_PREVIEW_CHARS)
					break;
			}
			buf_append(&o, s, (size_t)(next - s));
			chars++;
		}
		s = next;
	}
	const char *r = arena_strdup(a, buf_str(&o));
	buf_free(&t);
	buf_free(&o);
	return r;
}

/* ------------------------------------------------------------------ headers, search */

static int header_values(const char *hdr, size_t len, const char *name, bool decode,
			 struct buf *out)
{
	struct arena *a = arena_new();
	struct hblock hb;
	mail_hdr_parse(a, hdr, len, &hb);
	size_t nl = strlen(name);
	int found = 0;
	for (size_t i = 0; i < hb.n; i++) {
		if (hb.f[i].nlen != nl || strncasecmp(hb.f[i].name, name, nl) != 0)
			continue;
		const char *v = mail_unfold(a, hb.f[i].val, hb.f[i].vlen, MAIL_MAX_FIELD);
		buf_puts(out, decode ? mail_decode_header(a, v) : v);
		buf_putc(out, '\n');
		found++;
	}
	arena_free(&a);
	return found;
}

int mail_header_values(const char *hdr, size_t len, const char *name, struct buf *out)
{
	return header_values(hdr, len, name, true, out);
}

int mail_header_values_raw(const char *hdr, size_t len, const char *name, struct buf *out)
{
	return header_values(hdr, len, name, false, out);
}

const char *mail_casefold(struct arena *a, const char *s, size_t len)
{
	char *v = mail_utf8_valid(s, len);
	char *f = g_utf8_casefold(v, -1);
	g_free(v);
	return take(a, f);
}

static bool all_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80 || s[i] == '\0')
			return false;
	}
	return true;
}

bool mail_text_contains(struct arena *a, const char *text, size_t len, const char *folded_needle)
{
	if (*folded_needle == '\0')
		return true;
	size_t nl = strlen(folded_needle);
	if (all_ascii(folded_needle, nl) && all_ascii(text, len)) {
		/* ASCII fast path: folding is lower-casing, no allocation */
		if (nl > len)
			return false;
		for (size_t i = 0; i + nl <= len; i++) {
			size_t k = 0;
			while (k < nl && g_ascii_tolower(text[i + k]) == folded_needle[k])
				k++;
			if (k == nl)
				return true;
		}
		return false;
	}
	char *v = mail_utf8_valid(text, len);
	char *f = g_utf8_casefold(v, -1);
	g_free(v);
	bool r = strstr(f, folded_needle) != NULL;
	g_free(f);
	(void)a;
	return r;
}

const char **mail_msgids(struct arena *a, const char *value, size_t max)
{
	if (value == NULL)
		value = "";
	/* room for what the value can hold, not for max: callers pass generous maxima
	 * (THREAD asks for up to 100,000 per message) */
	size_t cap = 1; /* the bare-id fallback below takes one */
	for (const char *p = value; *p; p++)
		cap += *p == '<';
	if (cap < max)
		max = cap;
	const char **v = arena_alloc(a, (max + 1) * sizeof(*v));
	size_t n = 0;
	for (const char *p = value; *p && n < max;) {
		const char *lt = strchr(p, '<');
		if (lt == NULL)
			break;
		const char *gt = strchr(lt, '>');
		if (gt == NULL)
			break;
		if (gt - lt > 1 && gt - lt < 1000)
			v[n++] = arena_strndup(a, lt, (size_t)(gt - lt + 1));
		p = gt + 1;
	}
	if (n == 0 && max > 0) {
		while (*value == ' ' || *value == '\t')
			value++;
		size_t l = strcspn(value, " \t");
		if (l > 0 && l < 1000)
			v[n++] = arena_strndup(a, value, l);
	}
	v[n] = NULL;
	return v;
}

/* ------------------------------------------------------------------ part table */

static void put_field(struct buf *b, const char *s)
{
	buf_putc(b, '\t');
	for (; *s; s++)
		buf_putc(b, (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s);
}

const char *mail_parts_encode(struct arena *a, const struct mail_part *parts, size_t n)
{
	struct buf b = { 0 };
	for (size_t i = 0; i < n; i++) {
		const struct mail_part *p = &parts[i];
		buf_printf(&b, "%s\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%u\t%d", p->section,
			   (unsigned long long)p->hdr_off, (unsigned long long)p->hdr_len,
			   (unsigned long long)p->body_off, (unsigned long long)p->body_len,
			   (unsigned long long)p->lines, (unsigned long long)p->msg_hdr_len,
			   (unsigned)p->flags, p->depth);
		put_field(&b, p->type);
		put_field(&b, p->subtype);
		put_field(&b, p->encoding);
		put_field(&b, p->charset);
		put_field(&b, p->disposition);
		put_field(&b, p->filename);
		put_field(&b, p->content_id);
		buf_putc(&b, '\n');
	}
	const char *r = arena_strdup(a, buf_str(&b));
	buf_free(&b);
	return r;
}

int mail_parts_decode(struct arena *a, const char *s, struct mail_part **parts_r, size_t *n_r)
{
	size_t lines = 0;
	for (const char *p = s; *p; p++)
		lines += *p == '\n';
	struct mail_part *v = arena_alloc(a, (lines + 1) * sizeof(*v));
	size_t n = 0;
	const char *p = s;
	while (*p) {
		const char *eol = strchr(p, '\n');
		if (eol == NULL)
			return -1;
		char *line = arena_strndup(a, p, (size_t)(eol - p));
		char *f[16];
		size_t nf = 0;
		f[nf++] = line;
		for (char *q = line; *q && nf < 16; q++) {
			if (*q == '\t') {
				*q = '\0';
				f[nf++] = q + 1;
			}
		}
		if (nf != 16)
			return -1;
		struct mail_part *mp = &v[n++];
		mp->section = f[0];
		mp->hdr_off = strtoull(f[1], NULL, 10);
		mp->hdr_len = strtoull(f[2], NULL, 10);
		mp->body_off = strtoull(f[3], NULL, 10);
		mp->body_len = strtoull(f[4], NULL, 10);
		mp->lines = strtoull(f[5], NULL, 10);
		mp->msg_hdr_len = strtoull(f[6], NULL, 10);
		mp->flags = (uint32_t)strtoul(f[7], NULL, 10);
		mp->depth = atoi(f[8]);
		mp->type = f[9];
		mp->subtype = f[10];
		mp->encoding = f[11];
		mp->charset = f[12];
		mp->disposition = f[13];
		mp->filename = f[14];
		mp->content_id = f[15];
		p = eol + 1;
	}
	*parts_r = v;
	*n_r = n;
	return 1;
}

int mail_section_range(const struct mail_part *parts, size_t n, const char *spec,
		       uint64_t *off_r, uint64_t *len_r)
{
	if (n == 0 || spec == NULL)
		return -1;
	/* the numeric prefix: 1*("N" ".") with N > 0 */
	char num[256];
	size_t k = 0;
	const char *p = spec;
	while (*p >= '0' && *p <= '9') {
		if (*p == '0')
			return -1; /* no leading zeros, no part 0 */
		while (*p >= '0' && *p <= '9') {
			if (k + 2 >= sizeof(num))
				return -1;
			num[k++] = *p++;
		}
		if (*p != '.')
			break;
		p++;
		if (!(*p >= '0' && *p <= '9')) {
			if (*p == '\0')
				return -1; /* trailing dot */
			break;     /* ".MIME" etc. follows */
		}
		num[k++] = '.';
	}
	num[k] = '\0';
	const char *suffix = p;
	if (k > 0 && suffix > spec && suffix[-1] != '.' && *suffix != '\0')
		return -1;
	const struct mail_part *part = mail_part_find(parts, n, num);
	if (part == NULL)
		return k == 0 ? -1 : 0;
	bool message = k == 0 || (part->flags & MAIL_PART_MESSAGE);
	/* header and text of the message that this part is (or the whole message) */
	uint64_t hoff = k == 0 ? part->hdr_off : part->body_off;
	uint64_t hlen = k == 0 ? part->hdr_len : part->msg_hdr_len;
	uint64_t toff = k == 0 ? part->body_off : part->body_off + part->msg_hdr_len;
	uint64_t tlen = k == 0 ? part->body_len : part->body_len - part->msg_hdr_len;
	if (*suffix == '\0') {
		if (k == 0) {
			*off_r = 0;
			*len_r = part->hdr_len + part->body_len;
		} else {
			*off_r = part->body_off;
			*len_r = part->body_len;
		}
		return 1;
	}
	if (strcasecmp(suffix, "MIME") == 0) {
		if (k == 0)
			return -1;
		*off_r = part->hdr_off;
		*len_r = part->hdr_len;
		return 1;
	}
	if (strcasecmp(suffix, "HEADER") == 0 || strcasecmp(suffix, "HEADER.FIELDS") == 0 ||
	    strcasecmp(suffix, "HEADER.FIELDS.NOT") == 0) {
		if (!message)
			return 0;
		*off_r = hoff;
		*len_r = hlen;
		return 1;
	}
	if (strcasecmp(suffix, "TEXT") == 0) {
		if (!message)
			return 0;
		*off_r = toff;
		*len_r = tlen;
		return 1;
	}
	return -1;
}

const struct mail_part *mail_part_find(const struct mail_part *parts, size_t n,
				       const char *section)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(parts[i].section, section) == 0)
			return &parts[i];
	}
	return NULL;
}
