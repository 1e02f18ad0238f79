/* spf_macro.c: SPF macro strings (RFC 7208 §7), checked and expanded (spf_macro.h).
 *
 * One scanner serves both the syntax check and the expansion, so that what the
 * parser accepts is exactly what the evaluation can expand. Output goes into a
 * fixed-size writer (SPF_MACRO_MAX_OUTPUT bytes, then an error), never past it: the
 * critical bugs of older SPF libraries were in this code, on lengths computed apart
 * from the copy. */
#include "spf_macro.h"

#include <arpa/inet.h>
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* A bounded writer. `ok` turns false when something did not fit. */
struct out {
	char *p;
	size_t len, cap;
	bool ok;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	if (!o->ok || o->p == NULL)
		return;
	if (n > o->cap - o->len) {
		o->ok = false;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static bool is_delim(char c)
{
	return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_' || c == '~';
}

size_t spf_macro_ip_dotted(const struct mailauth_addr *ip, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	if (ip->family == AF_INET)
		return (size_t)sprintf(out, "%u.%u.%u.%u", ip->bytes[0], ip->bytes[1], ip->bytes[2], ip->bytes[3]);
	size_t n = 0;
	for (int i = 0; i < 16; i++) {
		out[n++] = hex[ip->bytes[i] >> 4];
		out[n++] = '.';
		out[n++] = hex[ip->bytes[i] & 15];
		out[n++] = i == 15 ? '\0' : '.';
	}
	return n - 1;
}

/* The value of a letter (lower case), or NULL if the letter is unknown in this
 * context. `tmp` (at least 64 bytes) holds values made here. */
static const char *letter_value(char l, const struct spf_macro_ctx *ctx, bool exp, char *tmp)
{
	switch (l) {
	case 's':
		return ctx->sender;
	case 'l':
		return ctx->local;
	case 'o':
		return ctx->sender_domain;
	case 'd':
		return ctx->domain;
	case 'h':
		return ctx->helo;
	case 'i':
		spf_macro_ip_dotted(ctx->ip, tmp);
		return tmp;
	case 'v':
		return ctx->ip->family == AF_INET ? "in-addr" : "ip6";
	case 'p':
		return ctx->validated_name != NULL ? ctx->validated_name(ctx->cb_ctx, ctx->domain) : "unknown";
	case 'c':
		if (!exp)
			return NULL;
		if (inet_ntop(ctx->ip->family, ctx->ip->bytes, tmp, 64) == NULL)
			return "unknown";
		return tmp;
	case 'r':
		if (!exp)
			return NULL;
		return ctx->receiver != NULL && ctx->receiver[0] != '\0' ? ctx->receiver : "unknown";
	case 't':
		if (!exp)
			return NULL;
		snprintf(tmp, 64, "%" PRId64, ctx->now);
		return tmp;
	default:
		return NULL;
	}
}

/* Splits value on the delimiters, keeps the `keep` right-hand parts after an optional
 * reversal, joins them with '.', URL-escapes if asked; writes to o. */
static void transform(struct out *o, const char *value, unsigned keep, bool reverse, const char *delims,
		      size_t n_delims, bool escape)
{
	/* Parts as (start, length); at most as many as the value has bytes + 1. */
	size_t vlen = strlen(value);
	size_t max_parts = vlen + 1, n = 0;
	struct part {
		size_t start, len;
	} parts_small[64], *parts = parts_small;
	char *heap = NULL;
	if (max_parts > 64) {
		heap = malloc(max_parts * sizeof(*parts));
		if (heap == NULL)
			abort();
		parts = (struct part *)(void *)heap;
	}
	size_t start = 0;
	for (size_t i = 0; i <= vlen; i++) {
		bool split = i == vlen;
		if (!split) {
			if (n_delims == 0)
				split = value[i] == '.';
			else
				split = memchr(delims, value[i], n_delims) != NULL;
		}
		if (split) {
			assert(n < max_parts);
			parts[n].start = start;
			parts[n].len = i - start;
			n++;
			start = i + 1;
		}
	}
	if (reverse) {
		for (size_t i = 0; i < n / 2; i++) {
			struct part t = parts[i];
			parts[i] = parts[n - 1 - i];
			parts[n - 1 - i] = t;
		}
	}
	size_t first = keep != 0 && keep < n ? n - keep : 0;
	for (size_t i = first; i < n; i++) {
		if (i > first)
			out_put(o, ".", 1);
		const char *s = value + parts[i].start;
		if (!escape) {
			out_put(o, s, parts[i].len);
			continue;
		}
		for (size_t j = 0; j < parts[i].len; j++) {
			unsigned char c = (unsigned char)s[j];
			if (is_unreserved(c)) {
				out_put(o, (const char *)&c, 1);
			} else {
				char e[4];
				snprintf(e, sizeof(e), "%%%02X", c);
				out_put(o, e, 3);
			}
		}
	}
	free(heap);
}

/* The one scanner: checks s[0..len) and, when o has a buffer, expands into it.
 * Returns 1 or -1 with *error_r. */
static int scan(const char *s, size_t len, const struct spf_macro_ctx *ctx, bool exp, struct out *o,
		const char **error_r)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c != '%') {
			/* macro-literal = %x21-24 / %x26-7E; exp text also has spaces (§6.2). */
			if (c < 0x21 || c > 0x7e) {
				if (!(exp && c == ' ')) {
					*error_r = "invalid character in macro string";
					return -1;
				}
			}
			out_put(o, s + i, 1);
			i++;
			continue;
		}
		if (i + 1 >= len) {
			*error_r = "'%' at the end of a macro string";
			return -1;
		}
		char n = s[i + 1];
		if (n == '%') {
			out_put(o, "%", 1);
			i += 2;
			continue;
		}
		if (n == '_') {
			out_put(o, " ", 1);
			i += 2;
			continue;
		}
		if (n == '-') {
			out_put(o, "%20", 3);
			i += 2;
			continue;
		}
		if (n != '{') {
			*error_r = "'%' not followed by '{', '%', '_' or '-'";
			return -1;
		}
		i += 2;
		if (i >= len) {
			*error_r = "unterminated macro";
			return -1;
		}
		char letter = s[i++];
		bool upper = letter >= 'A' && letter <= 'Z';
		char lower = upper ? (char)(letter - 'A' + 'a') : letter;
		if (strchr("slodipvhcrt", lower) == NULL || lower == '\0') {
			*error_r = "unknown macro letter";
			return -1;
		}
		if (!exp && (lower == 'c' || lower == 'r' || lower == 't')) {
			*error_r = "macro letters c, r and t are allowed in exp= text only";
			return -1;
		}
		/* transformers = *DIGIT [ "r" ]; the count saturates (anything at or above
		 * the number of parts keeps them all). */
		unsigned keep = 0;
		bool have_digits = false;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			have_digits = true;
			if (keep < 1000)
				keep = keep * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		if (have_digits && keep == 0) {
			*error_r = "macro transformer 0";
			return -1;
		}
		bool reverse = false;
		if (i < len && (s[i] == 'r' || s[i] == 'R')) {
			reverse = true;
			i++;
		}
		size_t dstart = i;
		while (i < len && is_delim(s[i]))
			i++;
		size_t n_delims = i - dstart;
		if (i >= len || s[i] != '}') {
			*error_r = "bad macro: expected '}'";
			return -1;
		}
		i++;
		if (o->p == NULL)
			continue;
		char tmp[64];
		const char *value = letter_value(lower, ctx, exp, tmp);
		if (value == NULL)
			value = "";
		transform(o, value, keep, reverse, s + dstart, n_delims, upper);
	}
	return 1;
}

int spf_macro_check(const char *s, size_t len, bool exp, const char **error_r)
{
	struct out o = { .ok = true };
	return scan(s, len, NULL, exp, &o, error_r);
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int spf_domain_spec_check(const char *s, size_t len, const char **error_r)
{
	if (spf_macro_check(s, len, false, error_r) < 0)
		return -1;
	if (len == 0) {
		*error_r = "empty domain";
		return -1;
	}
	/* domain-end = ( "." toplabel [ "." ] ) / macro-expand */
	if (s[len - 1] == '}') {
		/* Ends in a macro-expand if the '%{' that opens it is a real one, not an
		 * escaped "%%{": find the last "%{" and count the '%' before it. */
		for (size_t j = len - 1; j-- > 0;) {
			if (s[j] == '%' && s[j + 1] == '{') {
				size_t pct = 0;
				while (pct < j && s[j - 1 - pct] == '%')
					pct++;
				if (pct % 2 == 0 && memchr(s + j, '}', len - j) == s + len - 1)
					return 1;
				break;
			}
		}
	}
	size_t end = len;
	if (s[end - 1] == '.')
		end--;
	size_t start = end;
	while (start > 0 && s[start - 1] != '.')
		start--;
	if (start == 0 || start == end) {
		*error_r = "domain must end in a top label";
		return -1;
	}
	/* toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
	bool alpha = false;
	for (size_t j = start; j < end; j++) {
		char c = s[j];
		if (c == '-') {
			if (j == start || j == end - 1) {
				*error_r = "bad top label";
				return -1;
			}
			alpha = true;
		} else if (!is_alnum(c)) {
			*error_r = "bad top label";
			return -1;
		} else if (!(c >= '0' && c <= '9')) {
			alpha = true;
		}
	}
	if (!alpha) {
		*error_r = "numeric top label";
		return -1;
	}
	return 1;
}

int spf_macro_expand(const char *s, size_t len, const struct spf_macro_ctx *ctx, bool exp, struct arena *a,
		     char **out_r, const char **error_r)
{
	assert(ctx != NULL && ctx->ip != NULL);
	char buf[SPF_MACRO_MAX_OUTPUT];
	struct out o = { .p = buf, .cap = sizeof(buf), .ok = true };
	if (scan(s, len, ctx, exp, &o, error_r) < 0)
		return -1;
	if (!o.ok) {
		*error_r = "macro expansion too long";
		return -1;
	}
	*out_r = arena_strndup(a, buf, o.len);
	return 1;
}

int spf_macro_expand_domain(const char *s, size_t len, const struct spf_macro_ctx *ctx, struct arena *a, char **out_r,
			    const char **error_r)
{
	char *d;
	if (spf_macro_expand(s, len, ctx, false, a, &d, error_r) < 0)
		return -1;
	size_t n = strlen(d);
	if (n > 0 && d[n - 1] == '.')
		d[--n] = '\0';
	/* §7.3: drop labels from the left until it fits. */
	while (n > SPF_DOMAIN_MAX) {
		char *dot = memchr(d, '.', n);
		if (dot == NULL) {
			/* One label longer than a name: nothing left to ask. */
			d[0] = '\0';
			n = 0;
			break;
		}
		n -= (size_t)(dot + 1 - d);
		d = dot + 1;
	}
	*out_r = d;
	return 1;
}
