/* catenate.c: RFC 4469 CATENATE: APPEND (and REPLACE) of a message put together from
 * literals and parts of messages already on the server.
 *   append-data =/ "CATENATE" SP "(" cat-part *(SP cat-part) ")"
 *   cat-part = text-literal / url
 *   text-literal = "TEXT" SP literal        (literal8 too, RFC 3516 BINARY)
 *   url = "URL" SP astring
 * URLs (RFC 5092, the forms a client of this server sends):
 *   ["imap://" [user "@"] host [":" port]] "/" mailbox [";UIDVALIDITY=" n] "/;UID=" n
 *   ["/;SECTION=" section] ["/;PARTIAL=" offset ["." length]]
 * with the mailbox and section percent-encoded UTF-8 and the parameter names in any
 * case. The URL names one of the user's own messages (a user in the authority must be
 * the logged-in one; the host is not checked: this server is the one asked). SECTION is
 * what BODY[section] gives (HEADER, TEXT, 1.2, 1.MIME, HEADER.FIELDS (...) decoded
 * from the URL), PARTIAL a byte range of it. A URL that does not resolve (no such
 * mailbox or UID, another UIDVALIDITY, a section the message does not have, URLAUTH
 * forms) makes the whole APPEND fail with NO [BADURL "url"]; a result above
 * limits.message_size, or all CATENATE results of one MULTIAPPEND above twice that plus
 * limits.imap_command (what its literals may be together), NO [TOOBIG]. The parts are joined in the command's arena; the
 * result is raw (bare LFs kept) only when every TEXT part is a literal8 and there is no
 * URL part, else line ends are made CRLF as for a literal. */
#include "session.h"
#include "textfmt.h"

#include "imap_fetch.h"
#include "mail.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Percent-decodes s[0..n) into the arena; NULL for a bad escape or a NUL. */
static char *pct_decode(struct arena *a, const char *s, size_t n)
{
	char *o = arena_alloc(a, n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			o[k++] = s[i];
			continue;
		}
		if (i + 2 >= n)
			return NULL;
		int h = textfmt_hex_digit(s[i + 1]), l = textfmt_hex_digit(s[i + 2]);
		if (h < 0 || l < 0 || (h == 0 && l == 0))
			return NULL;
		o[k++] = (char)(h * 16 + l);
		i += 2;
	}
	o[k] = '\0';
	return o;
}

static bool param(const char **p, const char *end, const char *name, const char **val_r, size_t *len_r)
{
	size_t nl = strlen(name);
	if ((size_t)(end - *p) < nl || strncasecmp(*p, name, nl) != 0)
		return false;
	const char *v = *p + nl;
	const char *e = v;
	while (e < end && *e != '/' && *e != ';')
		e++;
	*val_r = v;
	*len_r = (size_t)(e - v);
	*p = e;
	return true;
}

static bool number(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	if (n == 0 || n > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* Appends the bytes the URL names to out. Returns 1, or 0 when it does not resolve.
 * a holds the message while it is read (freed by the caller after each URL, so that
 * many small PARTIALs of a large message do not pile up). */
static int url_bytes(struct imap_session *is, struct arena *a, const char *url, struct buf *out)
{
	const char *p = url, *end = url + strlen(url);
	if (end - p >= 7 && strncasecmp(p, "imap://", 7) == 0) {
		p += 7;
		const char *slash = memchr(p, '/', (size_t)(end - p));
		if (slash == NULL)
			return 0;
		const char *at = memchr(p, '@', (size_t)(slash - p));
		if (at != NULL) {
			const char *semi = memchr(p, ';', (size_t)(at - p)); /* ;AUTH=... */
			char *user = pct_decode(a, p, (size_t)((semi ? semi : at) - p));
			if (user == NULL || strcasecmp(user, is->user) != 0)
				return 0;
		}
		p = slash;
	}
	if (p == end || *p != '/')
		return 0;
	p++;
	const char *mstart = p;
	while (p < end && *p != ';' && !(*p == '/' && p + 1 < end && p[1] == ';'))
		p++;
	char *mbox = pct_decode(a, mstart, (size_t)(p - mstart));
	if (mbox == NULL || mbox[0] == '\0')
		return 0;
	const char *v;
	size_t vl;
	uint64_t uidvalidity = 0, uid = 0, off = 0, cnt = UINT64_MAX;
	bool has_uv = false;
	if (param(&p, end, ";UIDVALIDITY=", &v, &vl)) {
		if (!number(v, vl, UINT32_MAX, &uidvalidity))
			return 0;
		has_uv = true;
	}
	if (!param(&p, end, "/;UID=", &v, &vl) || !number(v, vl, UINT32_MAX, &uid) || uid == 0)
		return 0;
	char *section = "";
	if (param(&p, end, "/;SECTION=", &v, &vl)) {
		section = pct_decode(a, v, vl);
		if (section == NULL)
			return 0;
	}
	bool partial = false;
	if (param(&p, end, "/;PARTIAL=", &v, &vl)) {
		const char *dot = memchr(v, '.', vl);
		if (!number(v, dot ? (size_t)(dot - v) : vl, UINT32_MAX, &off))
			return 0;
		if (dot != NULL && !number(dot + 1, vl - (size_t)(dot + 1 - v), UINT32_MAX, &cnt))
			return 0;
		partial = true;
	}
	if (p != end)
		return 0; /* ;EXPIRE=, ;URLAUTH= and anything else */
	const char *name, *error;
	if (store_mailbox_name_check(a, mbox, &name, &error) < 0)
		return 0;
	struct store_mailbox mb;
	if (store_mailbox_get(is->env->store, a, is->account_id, name, &mb, &error) <= 0)
		return 0;
	if (has_uv && mb.uidvalidity != uidvalidity)
		return 0;
	struct store_msg_meta meta;
	const char *data;
	size_t len;
	if (store_msg_meta(is->env->store, a, is->account_id, mb.id, (uint32_t)uid, &meta, &error) <= 0 ||
	    store_msg_read(is->env->store, a, is->account_id, mb.id, (uint32_t)uid, &data, &len, &error) <= 0)
		return 0;
	/* the section as BODY.PEEK[section] parses it */
	const char *att = arena_printf(a, "BODY.PEEK[%s]", section);
	struct imap_cur cur;
	imap_cur_init(&cur, a, (struct bytes){ att, strlen(att) });
	struct imap_fetch f = { 0 };
	if (imap_fetch_parse(&cur, &f) < 0 || f.nbodies != 1 || f.bodies->kind != IMAP_BODY_SECTION)
		return 0;
	struct mail_part *parts = NULL;
	size_t nparts = 0;
	if (meta.parts != NULL && mail_parts_decode(a, meta.parts, &parts, &nparts) < 0)
		nparts = 0;
	struct buf tmp = { 0 };
	const char *bp;
	size_t bn;
	bool exists;
	if (imap_fetch_body_bytes(f.bodies, data, len, meta.header_size, parts, nparts, &tmp, &bp, &bn, &exists, &error) < 0 ||
	    !exists) {
		buf_free(&tmp);
		return 0;
	}
	if (partial) {
		if (off >= bn) {
			bn = 0;
		} else {
			bp += off;
			bn -= (size_t)off;
			if (cnt < bn)
				bn = (size_t)cnt;
		}
	}
	buf_append(out, bp, bn);
	buf_free(&tmp);
	return 1;
}

int imap_catenate_parse(struct imap_session *is, struct imap_cur *c, struct bytes *data_r, bool *raw_r)
{
	if (imap_cur_sp(c) < 0 || !imap_cur_skip(c, '(')) {
		c->error = "Expected CATENATE (...)";
		return -1;
	}
	struct buf out = { 0 };
	bool all8 = true, any_url = false, bad = false, toobig = false;
	const char *badurl = NULL;
	for (bool first = true; first || !imap_cur_skip(c, ')'); first = false) {
		if (!first && imap_cur_sp(c) < 0)
			goto syntax;
		if (imap_cur_keyword(c, "TEXT")) {
			struct bytes lit;
			bool lit8;
			if (imap_cur_sp(c) < 0 || imap_cur_literal_view(c, &lit, &lit8) < 0)
				goto syntax;
			all8 = all8 && lit8;
			if (!bad && !toobig)
				buf_append(&out, lit.p, lit.len);
		} else if (imap_cur_keyword(c, "URL")) {
			struct imap_str u;
			if (imap_cur_sp(c) < 0 || imap_cur_astring(c, &u) < 0)
				goto syntax;
			any_url = true;
			/* every part is read (the literals are on the wire); the first bad URL is
			 * the one reported */
			if (!bad && !toobig) {
				struct arena *a = arena_new();
				if (url_bytes(is, a, u.s, &out) <= 0) {
					bad = true;
					badurl = u.s;
				}
				arena_free(&a);
			}
		} else {
			c->error = "Expected TEXT or URL in CATENATE";
			goto syntax;
		}
		/* each message at most APPENDLIMIT, all of one MULTIAPPEND at most what its
		 * literals may be together (URL parts are not on the wire) */
		if (out.len > is->s->message_max || is->catenated + out.len > imap_append_total_max(is->s))
			toobig = true;
	}
	if (bad) {
		buf_free(&out);
		struct buf b = { 0 };
		buf_puts(&b, "[BADURL ");
		imap_put_string(&b, badurl, strlen(badurl));
		buf_puts(&b, "] The URL does not name a message part of this user");
		imap_tagged(is, "NO", "%s", buf_str(&b));
		buf_free(&b);
		return 0;
	}
	if (toobig) {
		buf_free(&out);
		imap_tagged(is, "NO", "[TOOBIG] Message larger than APPENDLIMIT");
		return 0;
	}
	is->catenated += out.len;
	char *data = arena_alloc(is->cmd_arena, out.len + 1);
	if (out.len > 0)
		memcpy(data, out.data, out.len);
	*data_r = (struct bytes){ data, out.len };
	*raw_r = all8 && !any_url;
	buf_free(&out);
	return 1;
syntax:
	buf_free(&out);
	return -1;
}
