/* mail_parse.c: the MIME structure of a message, its part table and BODYSTRUCTURE.
 *
 * The structure is found by our own scanner rather than by GMime's object tree because
 * IMAP needs exact raw byte ranges (header and body of every part) that GMime does
 * not expose per part, and because the scanner's limits are ours: nesting deeper
 * than MAIL_MAX_DEPTH or parts beyond MAIL_MAX_PARTS are described as opaque leaves,
 * and every loop advances through the input, so no input can crash or hang it.
 *
 * Header blocks are read by mail_hdr.c. Rules (RFC 2045/2046, read leniently like
 * Dovecot and GMime): the header ends at the first empty line (lines that are not
 * fields are skipped, a message without an empty line is all header); a multipart body is split at lines "--boundary" (trailing whitespace
 * allowed) up to "--boundary--", the CRLF before a delimiter belonging to the
 * delimiter; a missing close delimiter ends the last part at the end of the body; a
 * multipart without boundary or without any part gets one text/plain part covering
 * its body; message/rfc822 and message/global bodies are parsed as messages; parts of
 * multipart/digest default to message/rfc822. */
#include "mail_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ content-type */

static const char *skip_cfws(const char *s)
{
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s != '(')
			return s;
		int depth = 0;
		do {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '(')
				depth++;
			else if (*s == ')')
				depth--;
			s++;
		} while (*s != '\0' && depth > 0);
	}
}

static const char *token(struct arena *a, const char **sp, const char *stop)
{
	const char *s = skip_cfws(*sp);
	const char *b = s;
	while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '(' && strchr(stop, *s) == NULL)
		s++;
	*sp = s;
	return arena_strndup(a, b, (size_t)(s - b));
}

void mail_ctype_parse(struct arena *a, const char *v, bool with_subtype, struct ctype *ct)
{
	memset(ct, 0, sizeof(*ct));
	ct->type = "";
	ct->subtype = "";
	if (v == NULL)
		return;
	const char *s = v;
	ct->type = token(a, &s, with_subtype ? "/;" : ";");
	s = skip_cfws(s);
	if (with_subtype && *s == '/') {
		s++;
		ct->subtype = token(a, &s, ";");
	}
	size_t cap = 4;
	ct->p = arena_alloc(a, cap * sizeof(*ct->p));
	while (*s != '\0') {
		s = skip_cfws(s);
		if (*s != ';') { /* junk: skip to the next ';' */
			const char *semi = strchr(s, ';');
			if (semi == NULL)
				break;
			s = semi;
		}
		s++;
		const char *name = token(a, &s, "=;");
		s = skip_cfws(s);
		if (*s != '=' || *name == '\0')
			continue;
		s = skip_cfws(s + 1);
		const char *value;
		if (*s == '"') {
			struct buf b = { 0 };
			s++;
			while (*s != '\0' && *s != '"') {
				if (*s == '\\' && s[1] != '\0')
					s++;
				buf_putc(&b, *s++);
			}
			if (*s == '"')
				s++;
			value = arena_strdup(a, buf_str(&b));
			buf_free(&b);
		} else {
			value = token(a, &s, ";");
		}
		if (ct->np == cap) {
			struct param *np = arena_alloc(a, cap * 2 * sizeof(*np));
			memcpy(np, ct->p, ct->np * sizeof(*np));
			ct->p = np;
			cap *= 2;
		}
		ct->p[ct->np].name = name;
		ct->p[ct->np].value = value;
		ct->np++;
		if (ct->np >= 64)
			break;
	}
}

const char *mail_param_get(const struct ctype *ct, const char *name)
{
	for (size_t i = 0; i < ct->np; i++) {
		if (strcasecmp(ct->p[i].name, name) == 0)
			return ct->p[i].value;
	}
	return NULL;
}

/* ------------------------------------------------------------------ structure */

struct node {
	uint64_t hdr_off, hdr_len, body_off, body_len;
	struct hblock hb;
	struct ctype ct;      /* with defaults filled in */
	bool ct_present;      /* a Content-Type field was there */
	bool multipart, message;
	struct node *child;   /* multipart: first child; message: the enclosed message */
	struct node *next;
};

/* Nodes made before the parser stops splitting: each multipart still being split when
 * the limit is reached adds one last part (at most MAIL_MAX_DEPTH of them), so the
 * part table never exceeds MAIL_MAX_PARTS + 1 entries. */
#define NODE_LIMIT (MAIL_MAX_PARTS - MAIL_MAX_DEPTH - 4)

struct pctx {
	struct arena *a;
	const char *d;
	size_t len;
	size_t nodes;
};

static struct node *parse_entity(struct pctx *c, uint64_t off, uint64_t len, int depth,
				 bool digest_child);

static bool boundary_line(const char *p, size_t n, const char *b, size_t bl, bool *close_r)
{
	if (n < bl + 2 || p[0] != '-' || p[1] != '-' || memcmp(p + 2, b, bl) != 0)
		return false;
	size_t i = bl + 2;
	*close_r = false;
	if (i + 1 < n && p[i] == '-' && p[i + 1] == '-') {
		*close_r = true;
		i += 2;
	}
	for (; i < n; i++) {
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	}
	return true;
}

static void split_multipart(struct pctx *c, struct node *n, int depth)
{
	const char *b = mail_param_get(&n->ct, "boundary");
	size_t bl = b ? strlen(b) : 0;
	struct node **tail = &n->child;
	bool digest = strcasecmp(n->ct.subtype, "digest") == 0;
	if (bl > 0 && bl <= 200) {
		const char *p = c->d;
		uint64_t end = n->body_off + n->body_len;
		uint64_t i = n->body_off;
		int64_t part_start = -1;  /* after a delimiter line */
		uint64_t prev_eol_start = 0; /* start of the EOL before the current line */
		bool have_prev = false;
		while (i < end) {
			size_t next;
			size_t e = mail_line_end(p, end, i, &next);
			bool close;
			if (p[i] == '-' && boundary_line(p + i, e - i, b, bl, &close)) {
				if (part_start >= 0 && c->nodes >= NODE_LIMIT)
					break; /* the rest becomes one opaque last part */
				if (part_start >= 0) {
					uint64_t pe = have_prev ? prev_eol_start : i;
					if (pe < (uint64_t)part_start)
						pe = (uint64_t)part_start;
					struct node *ch = parse_entity(c, (uint64_t)part_start,
								       pe - (uint64_t)part_start, depth + 1, digest);
					*tail = ch;
					tail = &ch->next;
				}
				if (close) {
					part_start = -1;
					break;
				}
				part_start = (int64_t)next;
				have_prev = false;
				i = next;
				continue;
			}
			/* remember where this line's EOL starts (the delimiter owns it) */
			if (next > e) {
				prev_eol_start = e;
				have_prev = true;
			} else {
				have_prev = false;
			}
			i = next;
		}
		if (part_start >= 0 && (uint64_t)part_start <= end) {
			struct node *ch = parse_entity(c, (uint64_t)part_start, end - (uint64_t)part_start,
						       depth + 1, digest);
			*tail = ch;
			tail = &ch->next;
		}
	}
	if (n->child == NULL) {
		/* No usable boundary or no part: one text/plain part over the body. */
		struct node *ch = arena_alloc(c->a, sizeof(*ch));
		c->nodes++;
		ch->hdr_off = n->body_off;
		ch->hdr_len = 0;
		ch->body_off = n->body_off;
		ch->body_len = n->body_len;
		ch->ct.type = "text";
		ch->ct.subtype = "plain";
		ch->hb.f = NULL;
		n->child = ch;
	}
}

static struct node *parse_entity(struct pctx *c, uint64_t off, uint64_t len, int depth,
				 bool digest_child)
{
	struct node *n = arena_alloc(c->a, sizeof(*n));
	c->nodes++;
	n->hdr_off = off;
	mail_hdr_parse(c->a, c->d + off, len, &n->hb);
	n->hdr_len = n->hb.len;
	n->body_off = off + n->hdr_len;
	n->body_len = len - n->hdr_len;
	const char *ctv = mail_hdr_value(c->a, &n->hb, "Content-Type", 8192);
	mail_ctype_parse(c->a, ctv, true, &n->ct);
	n->ct_present = ctv != NULL && n->ct.type[0] != '\0' && n->ct.subtype[0] != '\0';
	if (!n->ct_present) {
		struct param *keep = n->ct.p;
		size_t np = n->ct.np;
		n->ct.type = digest_child ? "message" : "text";
		n->ct.subtype = digest_child ? "rfc822" : "plain";
		n->ct.p = keep;
		n->ct.np = ctv != NULL ? np : 0;
	}
	bool limit = depth >= MAIL_MAX_DEPTH || c->nodes >= NODE_LIMIT;
	if (strcasecmp(n->ct.type, "multipart") == 0) {
		if (limit) {
			/* too deep or too many parts: describe it as an opaque leaf */
			n->ct.type = "application";
			n->ct.subtype = "octet-stream";
			n->ct.np = 0;
		} else {
			n->multipart = true;
			split_multipart(c, n, depth);
		}
	} else if (strcasecmp(n->ct.type, "message") == 0 &&
		   (strcasecmp(n->ct.subtype, "rfc822") == 0 || strcasecmp(n->ct.subtype, "global") == 0)) {
		if (!limit) {
			n->message = true;
			n->child = parse_entity(c, n->body_off, n->body_len, depth + 1, false);
		} else {
			n->ct.type = "application";
			n->ct.subtype = "octet-stream";
			n->ct.np = 0;
		}
	}
	return n;
}

/* ------------------------------------------------------------------ bodystructure */

static uint64_t count_lines(const char *p, uint64_t len)
{
	uint64_t n = 0;
	for (const char *q = p, *end = p + len; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
		n++;
	return n;
}

static void put_str(struct buf *out, const char *s)
{
	mail_imap_string(out, s, s ? strlen(s) : 0);
}

/* RFC 2231 continuations ("name*0", "name*1*"...) merged into one parameter, as
 * Dovecot does: "name" when no segment is extended, else "name*" whose value keeps the
 * charset'language' prefix and %-escapes (clients decode it). */
static void merge_params(struct arena *a, const struct ctype *in, struct ctype *out)
{
	*out = *in;
	out->p = arena_alloc(a, (in->np + 1) * sizeof(*out->p));
	out->np = 0;
	bool *used = arena_alloc(a, in->np + 1);
	for (size_t i = 0; i < in->np; i++) {
		if (used[i])
			continue;
		const char *name = in->p[i].name;
		const char *star = strchr(name, '*');
		if (star == NULL || !(star[1] >= '0' && star[1] <= '9')) {
			out->p[out->np++] = in->p[i];
			continue;
		}
		size_t base = (size_t)(star - name);
		struct buf v = { 0 };
		bool extended = false;
		for (int seg = 0; seg < 100; seg++) {
			size_t k;
			for (k = 0; k < in->np; k++) {
				const char *n = in->p[k].name;
				if (used[k] || strncasecmp(n, name, base) != 0 || n[base] != '*')
					continue;
				char *end;
				long idx = strtol(n + base + 1, &end, 10);
				if (end == n + base + 1 || idx != seg || (*end != '\0' && strcmp(end, "*") != 0))
					continue;
				extended |= *end == '*';
				buf_puts(&v, in->p[k].value);
				used[k] = true;
				break;
			}
			if (k == in->np)
				break;
		}
		out->p[out->np].name = extended ? arena_printf(a, "%.*s*", (int)base, name)
						 : arena_strndup(a, name, base);
		out->p[out->np].value = arena_strdup(a, buf_str(&v));
		out->np++;
		buf_free(&v);
	}
}

static void put_params(struct arena *a, struct buf *out, const struct ctype *raw, bool text)
{
	struct ctype ct;
	merge_params(a, raw, &ct);
	bool charset = mail_param_get(&ct, "charset") != NULL;
	if (ct.np == 0 && !text) {
		buf_puts(out, "NIL");
		return;
	}
	buf_putc(out, '(');
	for (size_t i = 0; i < ct.np; i++) {
		if (i > 0)
			buf_putc(out, ' ');
		put_str(out, ct.p[i].name);
		buf_putc(out, ' ');
		put_str(out, ct.p[i].value);
	}
	if (text && !charset) /* RFC 2045 default, written out as Dovecot does */
		buf_puts(out, ct.np > 0 ? " \"charset\" \"us-ascii\"" : "\"charset\" \"us-ascii\"");
	buf_putc(out, ')');
}

static void put_nstring_field(struct arena *a, struct buf *out, const struct hblock *hb,
			      const char *name)
{
	const char *v = mail_hdr_value(a, hb, name, 4096);
	put_str(out, v);
}

static void put_disposition(struct arena *a, struct buf *out, const struct hblock *hb)
{
	const char *v = mail_hdr_value(a, hb, "Content-Disposition", 8192);
	struct ctype d;
	mail_ctype_parse(a, v, false, &d);
	if (v == NULL || d.type[0] == '\0') {
		buf_puts(out, "NIL");
		return;
	}
	buf_putc(out, '(');
	put_str(out, d.type);
	buf_putc(out, ' ');
	put_params(a, out, &d, false);
	buf_putc(out, ')');
}

static void put_language(struct arena *a, struct buf *out, const struct hblock *hb)
{
	const char *v = mail_hdr_value(a, hb, "Content-Language", 1024);
	if (v == NULL) {
		buf_puts(out, "NIL");
		return;
	}
	const char *langs[32];
	size_t n = 0;
	const char *s = v;
	while (*s != '\0' && n < 32) {
		const char *t = token(a, &s, ",");
		if (*t != '\0')
			langs[n++] = t;
		s = skip_cfws(s);
		if (*s == ',')
			s++;
		else if (*s != '\0' && *t == '\0')
			s++;
	}
	if (n == 0) {
		buf_puts(out, "NIL");
	} else {
		buf_putc(out, '(');
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				buf_putc(out, ' ');
			put_str(out, langs[i]);
		}
		buf_putc(out, ')');
	}
}

static void bodystructure(struct pctx *c, const struct node *n, bool ext, struct buf *out)
{
	struct arena *a = c->a;
	buf_putc(out, '(');
	if (n->multipart) {
		for (const struct node *ch = n->child; ch != NULL; ch = ch->next)
			bodystructure(c, ch, ext, out);
		buf_putc(out, ' ');
		put_str(out, n->ct.subtype);
		if (ext) {
			buf_putc(out, ' ');
			put_params(a, out, &n->ct, false);
			buf_putc(out, ' ');
			put_disposition(a, out, &n->hb);
			buf_putc(out, ' ');
			put_language(a, out, &n->hb);
			buf_putc(out, ' ');
			put_nstring_field(a, out, &n->hb, "Content-Location");
		}
		buf_putc(out, ')');
		return;
	}
	if (n->message) {
		buf_puts(out, "\"message\" ");
		put_str(out, mail_lower(a, n->ct.subtype));
	} else {
		put_str(out, n->ct.type);
		buf_putc(out, ' ');
		put_str(out, n->ct.subtype);
	}
	buf_putc(out, ' ');
	bool is_text = strcasecmp(n->ct.type, "text") == 0 && !n->message;
	put_params(a, out, &n->ct, is_text);
	buf_putc(out, ' ');
	put_nstring_field(a, out, &n->hb, "Content-ID");
	buf_putc(out, ' ');
	put_nstring_field(a, out, &n->hb, "Content-Description");
	buf_putc(out, ' ');
	const char *enc = mail_hdr_value(a, &n->hb, "Content-Transfer-Encoding", 256);
	put_str(out, enc && *enc ? enc : "7bit");
	buf_printf(out, " %llu", (unsigned long long)n->body_len);
	if (n->message) {
		buf_putc(out, ' ');
		mail_envelope_build(a, &n->child->hb, out);
		buf_putc(out, ' ');
		bodystructure(c, n->child, ext, out);
		buf_printf(out, " %llu", (unsigned long long)count_lines(c->d + n->body_off, n->body_len));
	} else if (is_text) {
		buf_printf(out, " %llu", (unsigned long long)count_lines(c->d + n->body_off, n->body_len));
	}
	if (ext) {
		buf_putc(out, ' ');
		put_nstring_field(a, out, &n->hb, "Content-MD5");
		buf_putc(out, ' ');
		put_disposition(a, out, &n->hb);
		buf_putc(out, ' ');
		put_language(a, out, &n->hb);
		buf_putc(out, ' ');
		put_nstring_field(a, out, &n->hb, "Content-Location");
	}
	buf_putc(out, ')');
}

/* ------------------------------------------------------------------ part table */

struct ptab {
	struct mail_part *v;
	size_t n, cap;
};

static void add_part(struct pctx *c, struct ptab *t, const struct node *n, const char *section,
		     int depth)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct mail_part *nv = arena_alloc(c->a, ncap * sizeof(*nv));
		if (t->n > 0)
			memcpy(nv, t->v, t->n * sizeof(*nv));
		t->v = nv;
		t->cap = ncap;
	}
	struct mail_part *p = &t->v[t->n++];
	struct arena *a = c->a;
	p->section = section;
	p->hdr_off = n->hdr_off;
	p->hdr_len = n->hdr_len;
	p->body_off = n->body_off;
	p->body_len = n->body_len;
	p->lines = count_lines(c->d + n->body_off, n->body_len);
	p->depth = depth;
	p->type = mail_lower(a, n->ct.type);
	p->subtype = mail_lower(a, n->ct.subtype);
	const char *enc = mail_hdr_value(a, &n->hb, "Content-Transfer-Encoding", 256);
	p->encoding = enc && *enc ? mail_lower(a, enc) : "7bit";
	const char *cs = mail_param_get(&n->ct, "charset");
	p->charset = cs ? mail_lower(a, cs) : "";
	struct ctype d;
	mail_ctype_parse(a, mail_hdr_value(a, &n->hb, "Content-Disposition", 8192), false, &d);
	p->disposition = mail_lower(a, d.type);
	p->filename = mail_decoded_filename(a, &n->hb);
	const char *cid = mail_hdr_value(a, &n->hb, "Content-ID", 1024);
	p->content_id = cid ? cid : "";
	if (n->multipart)
		p->flags |= MAIL_PART_MULTIPART;
	if (n->message) {
		p->flags |= MAIL_PART_MESSAGE;
		p->msg_hdr_len = n->child->hdr_len;
	}
	if (!n->multipart && !n->message && strcmp(p->type, "text") == 0)
		p->flags |= MAIL_PART_TEXT;
	if (!n->multipart && (strcmp(p->disposition, "attachment") == 0 ||
			      (p->filename[0] != '\0' && strcmp(p->disposition, "inline") != 0 &&
			       !(p->flags & MAIL_PART_TEXT)) ||
			      (p->filename[0] != '\0' && strcmp(p->type, "text") != 0)))
		p->flags |= MAIL_PART_ATTACHMENT;
}

static void number_message(struct pctx *c, struct ptab *t, const struct node *m,
			   const char *prefix, int depth);

/* Adds the part n at `section`, then what is inside it. */
static void number_part(struct pctx *c, struct ptab *t, const struct node *n, const char *section,
			int depth)
{
	add_part(c, t, n, section, depth);
	if (n->multipart) {
		int i = 1;
		for (const struct node *ch = n->child; ch != NULL; ch = ch->next, i++)
			number_part(c, t, ch, arena_printf(c->a, "%s.%d", section, i), depth + 1);
	} else if (n->message) {
		number_message(c, t, n->child, section, depth + 1);
	}
}

/* The parts of a message m: its children if multipart, else its body as part 1. */
static void number_message(struct pctx *c, struct ptab *t, const struct node *m,
			   const char *prefix, int depth)
{
	const char *dot = *prefix ? "." : "";
	if (m->multipart) {
		int i = 1;
		for (const struct node *ch = m->child; ch != NULL; ch = ch->next, i++)
			number_part(c, t, ch, arena_printf(c->a, "%s%s%d", prefix, dot, i), depth);
	} else {
		number_part(c, t, m, arena_printf(c->a, "%s%s1", prefix, dot), depth);
	}
}

/* ------------------------------------------------------------------ entry point */

struct mail_info *mail_parse(struct arena *a, const char *data, size_t len)
{
	mail_init();
	struct pctx c = { .a = a, .d = data, .len = len };
	struct mail_info *mi = arena_alloc(a, sizeof(*mi));
	struct node *root = parse_entity(&c, 0, len, 0, false);
	mi->size = len;
	mi->header_len = root->hdr_len;

	struct buf b = { 0 };
	mail_envelope_build(a, &root->hb, &b);
	mi->envelope = arena_strdup(a, buf_str(&b));
	buf_reset(&b);
	bodystructure(&c, root, true, &b);
	mi->bodystructure = arena_strdup(a, buf_str(&b));
	buf_reset(&b);
	bodystructure(&c, root, false, &b);
	mi->body = arena_strdup(a, buf_str(&b));
	buf_free(&b);

	struct ptab t = { 0 };
	add_part(&c, &t, root, "", 0);
	number_message(&c, &t, root, "", 1);
	mi->parts = t.v;
	mi->nparts = t.n;
	for (size_t i = 0; i < t.n; i++)
		mi->has_attachment |= (t.v[i].flags & MAIL_PART_ATTACHMENT) != 0;

	const char *subj = mail_hdr_value(a, &root->hb, "Subject", MAIL_MAX_FIELD);
	mi->subject = subj ? mail_decode_header(a, subj) : "";
	static const struct { const char *name; size_t off; } addrs[] = {
		{ "From", offsetof(struct mail_info, from) },
		{ "To", offsetof(struct mail_info, to) },
		{ "Cc", offsetof(struct mail_info, cc) },
		{ "Bcc", offsetof(struct mail_info, bcc) },
		{ "Reply-To", offsetof(struct mail_info, reply_to) },
		{ "Sender", offsetof(struct mail_info, sender) },
	};
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		const char *raw = mail_hdr_value(a, &root->hb, addrs[i].name, MAIL_MAX_FIELD);
		*(const char **)((char *)mi + addrs[i].off) = mail_addr_decoded(a, raw);
	}
	const char *v;
	v = mail_hdr_value(a, &root->hb, "Message-ID", 2048);
	mi->message_id = v ? v : "";
	v = mail_hdr_value(a, &root->hb, "In-Reply-To", 8192);
	mi->in_reply_to = v ? v : "";
	v = mail_hdr_value(a, &root->hb, "References", MAIL_MAX_FIELD);
	mi->references = v ? v : "";
	v = mail_hdr_value(a, &root->hb, "Date", 1024);
	if (v == NULL || mail_parse_date(v, &mi->date, &mi->date_tz) < 0) {
		mi->date = 0;
		mi->date_tz = 0;
	}
	mi->preview = mail_preview_build(a, data, len, mi->parts, mi->nparts);
	return mi;
}

size_t mail_normalize_crlf(const char *data, size_t len, char **out_r)
{
	size_t extra = 0;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			extra++;
	}
	if (len > 0 && data[len - 1] == '\r')
		extra++;
	char *o = xmalloc(len + extra + 1);
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			o[k++] = '\r';
		o[k++] = data[i];
	}
	if (len > 0 && data[len - 1] == '\r')
		o[k++] = '\n';
	o[k] = '\0';
	*out_r = o;
	return k;
}
