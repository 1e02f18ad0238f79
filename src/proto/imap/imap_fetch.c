/* imap_fetch.c: FETCH attributes (grammar in imap_fetch.h). */
#include "imap_fetch.h"

#include <string.h>
#include <strings.h>

static int fail(struct imap_cur *cur, const char *error)
{
	if (cur->error == NULL)
		cur->error = error;
	return -1;
}

static bool ieq(struct bytes b, const char *s)
{
	return bytes_ieq(b, s);
}

/* Parses "[...]" and "<a.b>" from the view v (which starts at "["). */
static int section(struct imap_cur *cur, struct bytes v, struct imap_fetch_body *b, bool binary)
{
	size_t i = 1; /* after "[" */
	size_t close = 0;
	while (close < v.len && v.p[close] != ']')
		close++;
	if (close == v.len)
		return fail(cur, "Missing ] in section");
	struct bytes spec = { v.p + 1, close - 1 };
	/* section-part: digits separated by dots */
	size_t k = 0;
	while (k < spec.len && spec.p[k] >= '0' && spec.p[k] <= '9') {
		size_t s = k;
		while (k < spec.len && spec.p[k] >= '0' && spec.p[k] <= '9')
			k++;
		if (spec.p[s] == '0' || k - s > 9)
			return fail(cur, "Invalid section part");
		if (k < spec.len && spec.p[k] == '.') {
			if (k + 1 < spec.len && spec.p[k + 1] >= '0' && spec.p[k + 1] <= '9') {
				k++;
				continue;
			}
			break;
		}
	}
	size_t partlen = k;
	b->part = arena_strndup(cur->a, spec.p, partlen);
	struct bytes rest = { spec.p + partlen, spec.len - partlen };
	if (partlen > 0 && rest.len > 0) {
		if (rest.p[0] != '.')
			return fail(cur, "Invalid section");
		rest.p++;
		rest.len--;
	}
	if (binary && rest.len > 0)
		return fail(cur, "BINARY takes only a part number");
	b->text = IMAP_SECTION_ALL;
	if (rest.len == 0) {
		if (partlen > 0 && spec.len != partlen)
			return fail(cur, "Invalid section");
	} else if (ieq(rest, "HEADER")) {
		b->text = IMAP_SECTION_HEADER;
	} else if (ieq(rest, "TEXT")) {
		b->text = IMAP_SECTION_TEXT;
	} else if (ieq(rest, "MIME")) {
		if (partlen == 0)
			return fail(cur, "MIME needs a part number");
		b->text = IMAP_SECTION_MIME;
	} else if (bytes_iprefix(rest, "HEADER.FIELDS")) {
		size_t off = 13;
		b->text = IMAP_SECTION_FIELDS;
		if (rest.len >= 17 && strncasecmp(rest.p + 13, ".NOT", 4) == 0) {
			b->text = IMAP_SECTION_FIELDS_NOT;
			off = 17;
		}
		if (rest.len < off + 3 || rest.p[off] != ' ' || rest.p[off + 1] != '(' || rest.p[rest.len - 1] != ')')
			return fail(cur, "Invalid header list");
		/* header-list = "(" header-fld-name *(SP header-fld-name) ")" */
		struct imap_cur sub;
		imap_cur_init(&sub, cur->a, (struct bytes){ rest.p + off + 2, rest.len - off - 3 });
		size_t cap = 8, n = 0;
		const char **f = arena_alloc(cur->a, cap * sizeof(*f));
		for (;;) {
			struct imap_str s;
			if (imap_cur_astring(&sub, &s) < 0)
				return fail(cur, "Invalid header field name");
			if (n + 1 >= cap) {
				const char **nf = arena_alloc(cur->a, cap * 2 * sizeof(*nf));
				memcpy(nf, f, n * sizeof(*f));
				f = nf;
				cap *= 2;
			}
			f[n++] = s.s;
			if (imap_cur_end(&sub))
				break;
			if (imap_cur_sp(&sub) < 0)
				return fail(cur, "Invalid header list");
		}
		f[n] = NULL;
		b->fields = f;
		b->nfields = n;
	} else {
		return fail(cur, "Invalid section");
	}
	i = close + 1;
	size_t name_end = i;
	if (i < v.len) {
		/* partial = "<" number64 "." nz-number64 ">" */
		if (v.p[i] != '<' || v.p[v.len - 1] != '>')
			return fail(cur, "Invalid partial");
		const char *dot = memchr(v.p + i, '.', v.len - i);
		if (dot == NULL)
			return fail(cur, "Invalid partial");
		struct bytes a = { v.p + i + 1, (size_t)(dot - (v.p + i + 1)) };
		struct bytes c = { dot + 1, (size_t)(v.p + v.len - 1 - (dot + 1)) };
		if (buf_parse_uint64(a, UINT32_MAX, &b->start) < 0 || buf_parse_uint64(c, UINT32_MAX, &b->count) < 0 ||
		    b->count == 0)
			return fail(cur, "Invalid partial");
		b->partial = true;
	}
	(void)name_end;
	return 1;
}

static const char *upper(struct arena *a, const char *p, size_t n)
{
	char *s = arena_strndup(a, p, n);
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'a' && s[i] <= 'z')
			s[i] = (char)(s[i] - 32);
	return s;
}

static int one_att(struct imap_cur *cur, struct imap_fetch *f, struct imap_fetch_body ***tail)
{
	struct bytes v;
	if (imap_cur_fetch_att(cur, &v) < 0)
		return -1;
	static const struct {
		const char *name;
		unsigned bits;
	} simple[] = {
		{ "UID", IMAP_FA_UID },
		{ "FLAGS", IMAP_FA_FLAGS },
		{ "INTERNALDATE", IMAP_FA_INTERNALDATE },
		{ "RFC822.SIZE", IMAP_FA_RFC822_SIZE },
		{ "ENVELOPE", IMAP_FA_ENVELOPE },
		{ "BODY", IMAP_FA_BODY },
		{ "BODYSTRUCTURE", IMAP_FA_BODYSTRUCTURE },
		{ "MODSEQ", IMAP_FA_MODSEQ },
		{ "EMAILID", IMAP_FA_EMAILID },
		{ "THREADID", IMAP_FA_THREADID },
		{ "SAVEDATE", IMAP_FA_SAVEDATE },
		{ "ALL", IMAP_FA_FLAGS | IMAP_FA_INTERNALDATE | IMAP_FA_RFC822_SIZE | IMAP_FA_ENVELOPE },
		{ "FAST", IMAP_FA_FLAGS | IMAP_FA_INTERNALDATE | IMAP_FA_RFC822_SIZE },
		{ "FULL", IMAP_FA_FLAGS | IMAP_FA_INTERNALDATE | IMAP_FA_RFC822_SIZE | IMAP_FA_ENVELOPE |
				  IMAP_FA_BODY },
	};
	/* RFC 8970 §3: "PREVIEW" [SP "(" "LAZY" ")"]; this server always has the preview */
	if (ieq(v, "PREVIEW")) {
		f->atts |= IMAP_FA_PREVIEW;
		if (cur->len - cur->pos >= 7 && strncasecmp(cur->p + cur->pos, " (LAZY)", 7) == 0)
			cur->pos += 7;
		return 1;
	}
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (ieq(v, simple[i].name)) {
			f->atts |= simple[i].bits;
			return 1;
		}
	}
	struct imap_fetch_body *b = arena_alloc(cur->a, sizeof(*b));
	b->part = "";
	if (ieq(v, "RFC822") || ieq(v, "RFC822.HEADER") || ieq(v, "RFC822.TEXT")) {
		b->kind = IMAP_BODY_SECTION;
		b->text = v.len == 6 ? IMAP_SECTION_ALL : ieq(v, "RFC822.HEADER") ? IMAP_SECTION_HEADER
										   : IMAP_SECTION_TEXT;
		b->peek = b->text == IMAP_SECTION_HEADER; /* RFC822.HEADER is BODY.PEEK[HEADER] */
		b->name = upper(cur->a, v.p, v.len);
	} else {
		const char *br = memchr(v.p, '[', v.len);
		if (br == NULL)
			return fail(cur, "Unknown fetch attribute");
		struct bytes head = { v.p, (size_t)(br - v.p) };
		struct bytes rest = { br, v.len - head.len };
		bool binary = false;
		if (ieq(head, "BODY")) {
			b->kind = IMAP_BODY_SECTION;
		} else if (ieq(head, "BODY.PEEK")) {
			b->kind = IMAP_BODY_SECTION;
			b->peek = true;
		} else if (ieq(head, "BINARY")) {
			b->kind = IMAP_BODY_BINARY;
			binary = true;
		} else if (ieq(head, "BINARY.PEEK")) {
			b->kind = IMAP_BODY_BINARY;
			b->peek = true;
			binary = true;
		} else if (ieq(head, "BINARY.SIZE")) {
			b->kind = IMAP_BODY_BINARY_SIZE;
			b->peek = true;
			binary = true;
		} else {
			return fail(cur, "Unknown fetch attribute");
		}
		if (section(cur, rest, b, binary) < 0)
			return -1;
		if (b->kind == IMAP_BODY_BINARY_SIZE && b->partial)
			return fail(cur, "BINARY.SIZE takes no partial");
		/* response name: without ".PEEK", the section as sent, partial as "<start>" */
		const char *kw = b->kind == IMAP_BODY_SECTION ? "BODY" : b->kind == IMAP_BODY_BINARY ? "BINARY"
												: "BINARY.SIZE";
		const char *close = memchr(rest.p, ']', rest.len);
		size_t seclen = (size_t)(close - rest.p) + 1;
		const char *sec = upper(cur->a, rest.p, seclen);
		if (b->partial)
			b->name = arena_printf(cur->a, "%s%s<%llu>", kw, sec, (unsigned long long)b->start);
		else
			b->name = arena_printf(cur->a, "%s%s", kw, sec);
	}
	if (!b->peek)
		f->sets_seen = true;
	**tail = b;
	*tail = &b->next;
	f->nbodies++;
	return 1;
}

int imap_fetch_parse(struct imap_cur *cur, struct imap_fetch *out)
{
	memset(out, 0, sizeof(*out));
	struct imap_fetch_body **tail = &out->bodies;
	if (imap_cur_skip(cur, '(')) {
		for (;;) {
			if (one_att(cur, out, &tail) < 0)
				return -1;
			if (imap_cur_skip(cur, ')'))
				break;
			if (imap_cur_sp(cur) < 0)
				return -1;
		}
	} else if (one_att(cur, out, &tail) < 0) {
		return -1;
	}
	if (out->atts == 0 && out->nbodies == 0)
		return fail(cur, "No fetch attributes");
	return 1;
}
