/* dkim_parse.c: the pure parsers of DKIM: the tag list of RFC 6376 §3.2 (used by the
 * DKIM-Signature field and the key record), the key record of §3.6.1, and base64
 * with folding whitespace.
 *
 * Tag list grammar (RFC 6376 §3.2), FWS being SP, HT and line ends:
 *   tag-list = tag-spec *( ";" tag-spec ) [ ";" ]
 *   tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
 *   tag-name = ALPHA *( ALPHA / DIGIT / "_" )
 *   tag-value = [ tval *( 1*(WSP / FWS) tval ) ] ; tval = 1*( %x21-3A / %x3C-7E )
 * A tag name given twice is an error (§3.2: "MUST be treated as an error"). */
#include "dkim_int.h"
#include "textfmt.h"

#include <string.h>
#include <strings.h>

static bool fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

int dkim_tag_list_parse(const char *s, size_t len, struct arena *a, struct dkim_tag **tags_r, const char **error_r)
{
	size_t n = 0, cap = 0;
	struct dkim_tag *tags = NULL;
	size_t i = 0;
	*tags_r = NULL;
	while (i < len) {
		while (i < len && fws(s[i]))
			i++;
		if (i == len)
			break; /* trailing ";" and FWS */
		if (!alpha(s[i])) {
			*error_r = "a tag name must start with a letter";
			return -1;
		}
		size_t ns = i;
		while (i < len && (alpha(s[i]) || digit(s[i]) || s[i] == '_'))
			i++;
		size_t nlen = i - ns;
		while (i < len && fws(s[i]))
			i++;
		if (i == len || s[i] != '=') {
			*error_r = "a tag without \"=\"";
			return -1;
		}
		i++;
		size_t raw = i;
		while (i < len && fws(s[i]))
			i++;
		size_t vs = i, ve = i;
		while (i < len && s[i] != ';') {
			unsigned char c = (unsigned char)s[i];
			if (fws(s[i])) {
				i++;
				continue;
			}
			if (c < 0x21 || c > 0x7e) {
				*error_r = "a character not allowed in a tag value";
				return -1;
			}
			i++;
			ve = i;
		}
		for (size_t k = 0; k < n; k++) {
			if (tags[k].name_len == nlen && memcmp(tags[k].name, s + ns, nlen) == 0) {
				*error_r = "a tag given twice";
				return -1;
			}
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct dkim_tag *t = arena_alloc(a, cap * sizeof(*t));
			if (n > 0)
				memcpy(t, tags, n * sizeof(*t));
			tags = t;
		}
		tags[n++] = (struct dkim_tag){ s + ns, nlen, s + vs, ve - vs, s + raw, i - raw };
		if (i < len)
			i++; /* the ";" */
	}
	*tags_r = tags;
	return (int)n;
}

char *dkim_base64(struct arena *a, const unsigned char *p, size_t n)
{
	char *out = arena_alloc(a, 4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

long dkim_unbase64(struct arena *a, const char *s, size_t n, unsigned char **out_r)
{
	unsigned char *out = arena_alloc(a, n / 4 * 3 + 3);
	size_t o = 0, pad = 0, digits = 0;
	unsigned acc = 0;
	for (size_t i = 0; i < n; i++) {
		if (fws(s[i]))
			continue;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		int v = textfmt_base64_digit((unsigned char)s[i]);
		if (v < 0 || pad > 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		if (++digits % 4 == 0) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	switch (digits % 4) {
	case 0:
		if (pad != 0)
			return -1;
		break;
	case 2:
		if (pad != 0 && pad != 2)
			return -1;
		out[o++] = (unsigned char)(acc >> 4);
		break;
	case 3:
		if (pad != 0 && pad != 1)
			return -1;
		out[o++] = (unsigned char)(acc >> 10);
		out[o++] = (unsigned char)(acc >> 2);
		break;
	default:
		return -1;
	}
	*out_r = out;
	return (long)o;
}

bool dkim_list_has(const char *list, const char *word)
{
	size_t wl = strlen(word);
	const char *p = list;
	while (*p) {
		while (*p && (fws(*p) || *p == ':'))
			p++;
		const char *e = p;
		while (*e && *e != ':' && !fws(*e))
			e++;
		if ((size_t)(e - p) == wl && strncasecmp(p, word, wl) == 0)
			return true;
		p = e;
	}
	return false;
}

static bool tag_is(const struct dkim_tag *t, const char *name)
{
	return t->name_len == strlen(name) && memcmp(t->name, name, t->name_len) == 0;
}

int dkim_key_record_parse(const char *s, size_t len, struct arena *a, struct dkim_key_record *rec_r,
			  const char **error_r)
{
	memset(rec_r, 0, sizeof(*rec_r));
	rec_r->key_type = "rsa";
	struct dkim_tag *tags;
	int n = dkim_tag_list_parse(s, len, a, &tags, error_r);
	if (n < 0)
		return -1;
	bool have_p = false;
	for (int i = 0; i < n; i++) {
		const struct dkim_tag *t = &tags[i];
		char *v = arena_strndup(a, t->value, t->value_len);
		if (tag_is(t, "v")) {
			if (i != 0 || strcmp(v, "DKIM1") != 0) {
				*error_r = "the key record's v= is not DKIM1 or not first";
				return -1;
			}
		} else if (tag_is(t, "k")) {
			rec_r->key_type = v;
		} else if (tag_is(t, "h")) {
			rec_r->hashes = v;
		} else if (tag_is(t, "s")) {
			rec_r->services = v;
		} else if (tag_is(t, "t")) {
			rec_r->testing = dkim_list_has(v, "y");
			rec_r->strict = dkim_list_has(v, "s");
		} else if (tag_is(t, "p")) {
			have_p = true;
			long k = dkim_unbase64(a, t->value, t->value_len, &rec_r->pubkey);
			if (k < 0) {
				*error_r = "the key record's p= is not base64";
				return -1;
			}
			rec_r->pubkey_len = (size_t)k;
			rec_r->revoked = k == 0;
			if (k == 0)
				rec_r->pubkey = NULL;
		}
		/* n= and unknown tags are ignored (§3.6.1) */
	}
	if (!have_p) {
		*error_r = "the key record has no p=";
		return -1;
	}
	return 1;
}
