/* spf_record.c: the SPF record parser (spf_record.h).
 *
 * The record is split on single spaces (RFC 7208 §4.6.1: only SP separates terms; a
 * tab, CR or LF inside is a syntax error, as is any byte outside printable ASCII,
 * §3.1). Each term is a modifier when it starts with a name followed by '=', and a
 * mechanism otherwise. A mechanism's optional domain-spec and CIDR suffix are split
 * from the right: the CIDR lengths are the trailing "/N" and "//N", the rest after
 * ':' is the domain-spec, whose macro syntax and top label are checked here so that
 * the evaluation never meets a record it cannot expand. */
#include "spf_record.h"
#include "spf_macro.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

int spf_record_is_spf(const char *txt)
{
	if (strncasecmp(txt, "v=spf1", 6) != 0)
		return 0;
	return txt[6] == ' ' || txt[6] == '\0';
}

int spf_record_select(const char *const *txts, size_t n, const char **record_r, const char **error_r)
{
	const char *found = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!spf_record_is_spf(txts[i]))
			continue;
		if (found != NULL) {
			*error_r = "more than one v=spf1 record";
			return -1;
		}
		found = txts[i];
	}
	if (found == NULL)
		return 0;
	*record_r = found;
	return 1;
}

/* A short, printable copy of a term for error texts. */
static const char *term_quote(struct arena *a, const char *t, size_t len)
{
	size_t n = len > 60 ? 60 : len;
	char *q = arena_alloc(a, n + 4);
	for (size_t i = 0; i < n; i++)
		q[i] = t[i] >= 0x20 && t[i] < 0x7f ? t[i] : '?';
	if (n < len)
		memcpy(q + n, "...", 3);
	return q;
}

static int fail(struct arena *a, const char *why, const char *t, size_t len, const char **error_r)
{
	*error_r = arena_printf(a, "%s in '%s'", why, term_quote(a, t, len));
	return -1;
}

/* Parses a CIDR length (no leading zeros, at most max). Returns 1 or -1. */
static int parse_cidr(const char *s, size_t len, unsigned max, unsigned *out_r)
{
	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out_r = v;
	return 1;
}

static bool all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Splits a trailing dual-cidr-length off s[0..*len): "/N4", "//N6" or "/N4//N6".
 * Sets the lengths it finds; shortens *len. Returns 1, or -1 for a bad length. `v6only`:
 * only "/N" meaning IPv6 (ip6 mechanism); `v4only` likewise for ip4. */
static int split_cidr(const char *s, size_t *len, bool allow4, bool allow6, struct spf_mech *m)
{
	size_t n = *len;
	/* The last '/' and what follows. */
	const char *slash = NULL;
	for (size_t i = n; i-- > 0;) {
		if (s[i] == '/') {
			slash = s + i;
			break;
		}
	}
	if (slash == NULL)
		return 1;
	size_t pos = (size_t)(slash - s);
	size_t dlen = n - pos - 1;
	if (!all_digits(slash + 1, dlen)) {
		/* A '/' inside a domain-spec (a macro literal) that is not a CIDR. */
		return 1;
	}
	if (pos > 0 && s[pos - 1] == '/') {
		/* "//N6" */
		if (!allow6 || !allow4 || parse_cidr(slash + 1, dlen, 128, &m->cidr6) < 0)
			return -1;
		n = pos - 1;
		/* And maybe "/N4" before it. */
		for (size_t i = n; i-- > 0;) {
			if (s[i] == '/') {
				size_t l4 = n - i - 1;
				if (all_digits(s + i + 1, l4)) {
					if (parse_cidr(s + i + 1, l4, 32, &m->cidr4) < 0)
						return -1;
					n = i;
				}
				break;
			}
		}
	} else if (allow4 && allow6) {
		if (parse_cidr(slash + 1, dlen, 32, &m->cidr4) < 0)
			return -1;
		n = pos;
	} else if (allow4) {
		if (parse_cidr(slash + 1, dlen, 32, &m->cidr4) < 0)
			return -1;
		n = pos;
	} else {
		if (parse_cidr(slash + 1, dlen, 128, &m->cidr6) < 0)
			return -1;
		n = pos;
	}
	*len = n;
	return 1;
}

/* ip4-network: four qnums without leading zeros. */
static int parse_ip4(const char *s, size_t len, uint8_t *out)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
		size_t st = i;
		unsigned v = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - st < 3) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		if (i == st || v > 255 || (i - st > 1 && s[st] == '0'))
			return -1;
		out[part] = (uint8_t)v;
	}
	return i == len ? 1 : -1;
}

static int parse_ip6(const char *s, size_t len, uint8_t *out)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1 ? 1 : -1;
}

static const struct {
	const char *name;
	enum spf_mech_kind kind;
} mech_names[] = {
	{ "all", SPF_MECH_ALL }, { "include", SPF_MECH_INCLUDE }, { "a", SPF_MECH_A },
	{ "mx", SPF_MECH_MX },   { "ptr", SPF_MECH_PTR },         { "ip4", SPF_MECH_IP4 },
	{ "ip6", SPF_MECH_IP6 }, { "exists", SPF_MECH_EXISTS },
};

/* Parses one mechanism term t[0..len) (qualifier included) into *m. */
static int parse_mech(const char *t, size_t len, struct arena *a, struct spf_mech *m, const char **error_r)
{
	const char *term = t;
	size_t term_len = len;
	m->qualifier = SPF_QUAL_PASS;
	if (len > 0 && strchr("+-~?", t[0]) != NULL) {
		m->qualifier = (enum spf_qualifier)t[0];
		t++;
		len--;
	}
	size_t nlen = 0;
	while (nlen < len && t[nlen] != ':' && t[nlen] != '/')
		nlen++;
	bool known = false;
	for (size_t i = 0; i < sizeof(mech_names) / sizeof(mech_names[0]); i++) {
		if (strlen(mech_names[i].name) == nlen && strncasecmp(t, mech_names[i].name, nlen) == 0) {
			m->kind = mech_names[i].kind;
			known = true;
			break;
		}
	}
	if (!known)
		return fail(a, "unknown mechanism", term, term_len, error_r);
	m->text = arena_strndup(a, term, term_len);
	m->cidr4 = 32;
	m->cidr6 = 128;
	const char *rest = t + nlen;
	size_t rlen = len - nlen;
	switch (m->kind) {
	case SPF_MECH_ALL:
		if (rlen != 0)
			return fail(a, "'all' takes no argument", term, term_len, error_r);
		return 1;
	case SPF_MECH_IP4:
	case SPF_MECH_IP6: {
		bool v4 = m->kind == SPF_MECH_IP4;
		if (rlen < 2 || rest[0] != ':')
			return fail(a, "missing address", term, term_len, error_r);
		rest++;
		rlen--;
		if (split_cidr(rest, &rlen, v4, !v4, m) < 0)
			return fail(a, "bad CIDR length", term, term_len, error_r);
		int r = v4 ? parse_ip4(rest, rlen, m->net) : parse_ip6(rest, rlen, m->net);
		if (r < 0)
			return fail(a, "bad address", term, term_len, error_r);
		return 1;
	}
	default:
		break;
	}
	bool cidr = m->kind == SPF_MECH_A || m->kind == SPF_MECH_MX;
	if (cidr && split_cidr(rest, &rlen, true, true, m) < 0)
		return fail(a, "bad CIDR length", term, term_len, error_r);
	if (rlen == 0) {
		if (m->kind == SPF_MECH_INCLUDE || m->kind == SPF_MECH_EXISTS)
			return fail(a, "missing domain", term, term_len, error_r);
		return 1;
	}
	if (rest[0] != ':')
		return fail(a, "bad mechanism", term, term_len, error_r);
	rest++;
	rlen--;
	const char *why;
	if (spf_domain_spec_check(rest, rlen, &why) < 0)
		return fail(a, why, term, term_len, error_r);
	m->domain = arena_strndup(a, rest, rlen);
	return 1;
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

int spf_record_parse(const char *text, struct arena *a, const struct spf_record **rec_r, const char **error_r)
{
	if (!spf_record_is_spf(text)) {
		*error_r = "not a v=spf1 record";
		return -1;
	}
	size_t len = strlen(text);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c > 0x7e) {
			*error_r = c >= 0x80 ? "non-ASCII byte in record" : "control character in record";
			return -1;
		}
	}
	/* Upper bound on terms: one per space-separated word. */
	size_t max_terms = 0;
	for (size_t i = 6; i < len; i++)
		max_terms += text[i] != ' ' && text[i - 1] == ' ';
	struct spf_mech *mechs = arena_alloc(a, (max_terms + 1) * sizeof(*mechs));
	struct spf_record *rec = arena_alloc(a, sizeof(*rec));
	size_t n = 0;
	size_t i = 6;
	while (i < len) {
		while (i < len && text[i] == ' ')
			i++;
		if (i >= len)
			break;
		size_t st = i;
		while (i < len && text[i] != ' ')
			i++;
		const char *t = text + st;
		size_t tlen = i - st;
		size_t nl = 0;
		if (is_name_start(t[0])) {
			while (nl < tlen && is_name_char(t[nl]))
				nl++;
		}
		if (nl > 0 && nl < tlen && t[nl] == '=') {
			const char *v = t + nl + 1;
			size_t vlen = tlen - nl - 1;
			const char *why;
			bool redirect = nl == 8 && strncasecmp(t, "redirect", 8) == 0;
			bool exp = nl == 3 && strncasecmp(t, "exp", 3) == 0;
			if (redirect || exp) {
				const char **slot = redirect ? &rec->redirect : &rec->exp;
				if (*slot != NULL)
					return fail(a, "modifier given twice", t, tlen, error_r);
				if (spf_domain_spec_check(v, vlen, &why) < 0)
					return fail(a, why, t, tlen, error_r);
				*slot = arena_strndup(a, v, vlen);
				if (redirect)
					rec->dns_terms++;
			} else if (spf_macro_check(v, vlen, true, &why) < 0) {
				return fail(a, why, t, tlen, error_r);
			}
			continue;
		}
		assert(n < max_terms);
		if (parse_mech(t, tlen, a, &mechs[n], error_r) < 0)
			return -1;
		switch (mechs[n].kind) {
		case SPF_MECH_INCLUDE:
		case SPF_MECH_A:
		case SPF_MECH_MX:
		case SPF_MECH_PTR:
		case SPF_MECH_EXISTS:
			rec->dns_terms++;
			break;
		default:
			break;
		}
		n++;
	}
	rec->mechs = mechs;
	rec->n_mechs = n;
	*rec_r = rec;
	return 1;
}
