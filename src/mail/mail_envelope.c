/* mail_envelope.c: RFC 5322 address lists and the IMAP ENVELOPE (RFC 9051 §7.5.2).
 *
 * The ENVELOPE carries raw header values (unfolded, RFC 2047 words left encoded, as
 * Dovecot and Cyrus send them), so our own lenient address parser splits display
 * names, groups, routes, local parts and domains without decoding. The decoded forms
 * ("Name <a@b>") used for SEARCH and JMAP go through GMime's phrase decoder. */
#include "mail_int.h"

#include <gmime/gmime.h>
#include <string.h>

struct addr {
	const char *name;    /* raw phrase, NULL if none */
	const char *route;   /* "@a,@b" or NULL */
	const char *mailbox; /* NULL for group end */
	const char *host;    /* NULL for group start/end or missing domain */
	bool group_start, group_end;
};

struct alist {
	struct addr *v;
	size_t n, cap;
};

enum tok_kind { T_END, T_WORD, T_QUOTED, T_SPECIAL };

struct tok {
	enum tok_kind kind;
	char c;               /* T_SPECIAL */
	const char *s;        /* T_WORD, T_QUOTED: text (arena) */
};

struct lexer {
	struct arena *a;
	const char *p;
	const char *comment; /* the last comment's text (arena), for "a@b (Name)" */
};

static struct tok next_tok(struct lexer *lx)
{
	const char *p = lx->p;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '(')
			break;
		int depth = 0;
		const char *start = p + 1;
		do {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
		} while (*p != '\0' && depth > 0);
		size_t cl = (size_t)(p - start) - (depth == 0 ? 1 : 0);
		lx->comment = arena_strndup(lx->a, start, cl);
	}
	struct tok t = { T_END, 0, NULL };
	if (*p == '\0') {
		lx->p = p;
		return t;
	}
	if (*p == '"') {
		struct buf b = { 0 };
		p++;
		while (*p != '\0' && *p != '"') {
			if (*p == '\\' && p[1] != '\0')
				p++;
			buf_putc(&b, *p++);
		}
		if (*p == '"')
			p++;
		t.kind = T_QUOTED;
		t.s = arena_strdup(lx->a, buf_str(&b));
		buf_free(&b);
	} else if (strchr("<>@,;:", *p) != NULL) {
		t.kind = T_SPECIAL;
		t.c = *p++;
	} else if (*p == '[') {
		const char *b = p;
		while (*p != '\0' && *p != ']')
			p++;
		if (*p == ']')
			p++;
		t.kind = T_WORD;
		t.s = arena_strndup(lx->a, b, (size_t)(p - b));
	} else {
		const char *b = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '(' && *p != '"' &&
		       strchr("<>@,;:", *p) == NULL)
			p++;
		t.kind = T_WORD;
		t.s = arena_strndup(lx->a, b, (size_t)(p - b));
	}
	lx->p = p;
	return t;
}

static void push(struct arena *a, struct alist *l, struct addr ad)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		struct addr *nv = arena_alloc(a, ncap * sizeof(*nv));
		if (l->n)
			memcpy(nv, l->v, l->n * sizeof(*nv));
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = ad;
}

#define ALIST_MAX 1000

/* Parses an address list leniently. */
static void parse_addresses(struct arena *a, const char *value, struct alist *l)
{
	memset(l, 0, sizeof(*l));
	if (value == NULL)
		return;
	struct lexer lx = { a, value, NULL };
	struct buf phrase = { 0 }, local = { 0 }, domain = { 0 }, route = { 0 };
	bool at_seen = false, angle = false, in_group = false, any = false;
	for (;;) {
		struct tok t = next_tok(&lx);
		bool flush = t.kind == T_END || (t.kind == T_SPECIAL && (t.c == ',' || t.c == ';'));
		if (!flush) {
			if (t.kind == T_SPECIAL && t.c == ':' && !in_group && !at_seen) {
				push(a, l, (struct addr){ .name = NULL, .mailbox = arena_strdup(a, buf_str(&phrase)),
							  .group_start = true });
				in_group = true;
				any = false;
				buf_reset(&phrase);
				continue;
			}
			if (t.kind == T_SPECIAL && t.c == '<') {
				angle = true;
				at_seen = false;
				buf_reset(&local);
				buf_reset(&domain);
				/* angle-addr: [route ":"] local "@" domain ">" */
				for (;;) {
					struct tok u = next_tok(&lx);
					if (u.kind == T_END || (u.kind == T_SPECIAL && u.c == '>'))
						break;
					if (u.kind == T_SPECIAL && u.c == ':' && at_seen && local.len == 0) {
						/* what we took for local@domain was a route */
						buf_printf(&route, "@%s", buf_str(&domain));
						buf_reset(&domain);
						at_seen = false;
						continue;
					}
					if (u.kind == T_SPECIAL && u.c == ',' && at_seen && local.len == 0) {
						buf_printf(&route, "@%s,", buf_str(&domain));
						buf_reset(&domain);
						at_seen = false;
						continue;
					}
					if (u.kind == T_SPECIAL && u.c == '@') {
						at_seen = true;
						continue;
					}
					if (u.kind == T_SPECIAL)
						continue;
					buf_puts(at_seen ? &domain : &local, u.s);
				}
				any = true;
				continue;
			}
			if (angle)
				continue; /* junk after the angle-addr */
			if (t.kind == T_SPECIAL && t.c == '@') {
				if (!at_seen) {
					buf_reset(&local);
					buf_append(&local, phrase.data ? phrase.data : "", phrase.len);
					buf_reset(&phrase);
				}
				at_seen = true;
				any = true;
				continue;
			}
			if (t.kind == T_SPECIAL)
				continue;
			if (at_seen) {
				buf_puts(&domain, t.s);
			} else {
				/* phrase words (atoms keep their dots): single spaces between */
				if (phrase.len > 0)
					buf_putc(&phrase, ' ');
				buf_puts(&phrase, t.s);
				any = true;
			}
			continue;
		}
		/* flush one mailbox */
		if (any && l->n < ALIST_MAX) {
			struct addr ad = { 0 };
			if (angle) {
				ad.name = phrase.len ? arena_strdup(a, buf_str(&phrase)) : NULL;
				ad.mailbox = arena_strdup(a, buf_str(&local));
				ad.host = domain.len ? arena_strdup(a, buf_str(&domain)) : NULL;
				ad.route = route.len ? arena_strdup(a, buf_str(&route)) : NULL;
				if (ad.route && ad.route[route.len - 1] == ',')
					ad.route = arena_strndup(a, ad.route, route.len - 1);
			} else if (at_seen) {
				ad.mailbox = arena_strdup(a, buf_str(&local));
				ad.host = domain.len ? arena_strdup(a, buf_str(&domain)) : NULL;
				ad.name = lx.comment; /* "user@host (Real Name)", as Dovecot */
			} else {
				ad.mailbox = arena_strdup(a, buf_str(&phrase));
			}
			/* A NIL host would read as a group start: fill in, as Dovecot does. */
			if (ad.mailbox == NULL || *ad.mailbox == '\0')
				ad.mailbox = "MISSING_MAILBOX";
			if (ad.host == NULL)
				ad.host = "MISSING_DOMAIN";
			push(a, l, ad);
		}
		buf_reset(&phrase);
		buf_reset(&local);
		buf_reset(&domain);
		buf_reset(&route);
		lx.comment = NULL;
		at_seen = angle = any = false;
		if (t.kind == T_SPECIAL && t.c == ';' && in_group) {
			push(a, l, (struct addr){ .group_end = true });
			in_group = false;
		}
		if (t.kind == T_END)
			break;
	}
	if (in_group)
		push(a, l, (struct addr){ .group_end = true });
	buf_free(&phrase);
	buf_free(&local);
	buf_free(&domain);
	buf_free(&route);
}

void mail_imap_string(struct buf *out, const char *s, size_t len)
{
	if (s == NULL) {
		buf_puts(out, "NIL");
		return;
	}
	bool quoted = len <= 1024;
	for (size_t i = 0; i < len && quoted; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80 || c == '"' || c == '\\')
			quoted = false;
	}
	if (quoted) {
		buf_putc(out, '"');
		for (size_t i = 0; i < len; i++) {
			char c = s[i];
			if (c == '\r' || c == '\n' || c == '\0')
				c = ' ';
			if (c == '"' || c == '\\')
				buf_putc(out, '\\');
			buf_putc(out, c);
		}
		buf_putc(out, '"');
		return;
	}
	buf_printf(out, "{%zu}\r\n", len);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		buf_putc(out, c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
	}
}

static void put_s(struct buf *out, const char *s)
{
	mail_imap_string(out, s, s ? strlen(s) : 0);
}

static void put_addresses(struct arena *a, const char *raw, struct buf *out)
{
	struct alist l;
	parse_addresses(a, raw, &l);
	if (l.n == 0) {
		buf_puts(out, "NIL");
		return;
	}
	buf_putc(out, '(');
	for (size_t i = 0; i < l.n; i++) {
		const struct addr *ad = &l.v[i];
		buf_putc(out, '(');
		if (ad->group_end) {
			buf_puts(out, "NIL NIL NIL NIL");
		} else if (ad->group_start) {
			buf_puts(out, "NIL NIL ");
			put_s(out, ad->mailbox);
			buf_puts(out, " NIL");
		} else {
			put_s(out, ad->name);
			buf_putc(out, ' ');
			put_s(out, ad->route);
			buf_putc(out, ' ');
			put_s(out, ad->mailbox);
			buf_putc(out, ' ');
			put_s(out, ad->host);
		}
		buf_putc(out, ')');
	}
	buf_putc(out, ')');
}

void mail_envelope_build(struct arena *a, const struct hblock *hb, struct buf *out)
{
	const char *from = mail_hdr_value(a, hb, "From", MAIL_MAX_FIELD);
	const char *sender = mail_hdr_value(a, hb, "Sender", MAIL_MAX_FIELD);
	const char *reply_to = mail_hdr_value(a, hb, "Reply-To", MAIL_MAX_FIELD);
	buf_putc(out, '(');
	put_s(out, mail_hdr_value(a, hb, "Date", 1024));
	buf_putc(out, ' ');
	put_s(out, mail_hdr_value(a, hb, "Subject", MAIL_MAX_FIELD));
	buf_putc(out, ' ');
	put_addresses(a, from, out);
	buf_putc(out, ' ');
	/* RFC 9051: Sender and Reply-To default to From when absent (or empty). */
	put_addresses(a, sender && *sender ? sender : from, out);
	buf_putc(out, ' ');
	put_addresses(a, reply_to && *reply_to ? reply_to : from, out);
	static const char *const rest[] = { "To", "Cc", "Bcc" };
	for (size_t i = 0; i < 3; i++) {
		buf_putc(out, ' ');
		put_addresses(a, mail_hdr_value(a, hb, rest[i], MAIL_MAX_FIELD), out);
	}
	buf_putc(out, ' ');
	put_s(out, mail_hdr_value(a, hb, "In-Reply-To", 8192));
	buf_putc(out, ' ');
	put_s(out, mail_hdr_value(a, hb, "Message-ID", 2048));
	buf_putc(out, ')');
}

const char *mail_addr_decoded(struct arena *a, const char *raw)
{
	if (raw == NULL)
		return "";
	struct alist l;
	parse_addresses(a, raw, &l);
	struct buf b = { 0 };
	bool first = true;
	for (size_t i = 0; i < l.n; i++) {
		const struct addr *ad = &l.v[i];
		if (ad->group_end)
			continue;
		if (!first)
			buf_puts(&b, ", ");
		first = false;
		if (ad->group_start) {
			buf_puts(&b, mail_decode_header(a, ad->mailbox));
			buf_putc(&b, ':');
			first = true;
			continue;
		}
		if (ad->name != NULL) {
			buf_puts(&b, mail_decode_header(a, ad->name));
			buf_puts(&b, " <");
		}
		if (strcmp(ad->mailbox, "MISSING_MAILBOX") != 0)
			buf_puts(&b, ad->mailbox);
		if (strcmp(ad->host, "MISSING_DOMAIN") != 0) {
			buf_putc(&b, '@');
			buf_puts(&b, ad->host);
		}
		if (ad->name != NULL)
			buf_putc(&b, '>');
	}
	/* raw 8-bit bytes in an address (not encoded words) are not promised to be
	 * UTF-8: make the decoded form valid, as for subjects (JMAP and search need it) */
	char *valid = g_utf8_make_valid(buf_str(&b), (gssize)b.len);
	const char *r = arena_strdup(a, valid);
	g_free(valid);
	buf_free(&b);
	return r;
}
