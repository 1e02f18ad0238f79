/* dmarc_record.c: the DMARC policy record parser (dmarc.h; RFC 7489 §6.3, §6.4).
 *
 * A record is a tag list: "v=DMARC1" first (exactly, else it is not a DMARC record),
 * then "tag=value" pairs separated by ";", whitespace allowed around each part and
 * around "=". Following §6.3, unknown tags are ignored and a bad value of an
 * optional tag gives that tag's default; only p (and sp) matter enough to void the
 * record, and even then §6.6.3 keeps it as p=none when rua names a valid URI, so
 * that reports still flow. The first of duplicate tags counts. Pure: bytes in, a
 * struct out; strings are copied into the caller's arena. */
#include "dmarc.h"

#include "buf.h"

#include <string.h>

const char *dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_QUARANTINE:
		return "quarantine";
	case DMARC_POLICY_REJECT:
		return "reject";
	case DMARC_POLICY_NONE:
		break;
	}
	return "none";
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct bytes trim(struct bytes b)
{
	while (b.len > 0 && is_wsp(b.p[0])) {
		b.p++;
		b.len--;
	}
	while (b.len > 0 && is_wsp(b.p[b.len - 1]))
		b.len--;
	return b;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* none / quarantine / reject; -1 when it is none of them. */
static int parse_policy(struct bytes v)
{
	if (bytes_ieq(v, "none"))
		return DMARC_POLICY_NONE;
	if (bytes_ieq(v, "quarantine"))
		return DMARC_POLICY_QUARANTINE;
	if (bytes_ieq(v, "reject"))
		return DMARC_POLICY_REJECT;
	return -1;
}

/* dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ], URI with a scheme
 * (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":") and something after it,
 * no whitespace inside. */
static bool uri_valid(struct bytes u)
{
	u = trim(u);
	const char *bang = memchr(u.p, '!', u.len);
	if (bang != NULL) {
		struct bytes size = { bang + 1, u.len - (size_t)(bang + 1 - u.p) };
		if (size.len > 0 && strchr("kmgtKMGT", size.p[size.len - 1]) != NULL)
			size.len--;
		if (size.len == 0 || size.len > 20)
			return false;
		for (size_t i = 0; i < size.len; i++) {
			if (!is_digit(size.p[i]))
				return false;
		}
		u.len = (size_t)(bang - u.p);
	}
	if (u.len < 3 || !is_alpha(u.p[0]))
		return false;
	size_t i = 1;
	while (i < u.len && (is_alpha(u.p[i]) || is_digit(u.p[i]) || u.p[i] == '+' || u.p[i] == '-' || u.p[i] == '.'))
		i++;
	if (i >= u.len - 1 || u.p[i] != ':')
		return false;
	for (; i < u.len; i++) {
		unsigned char c = (unsigned char)u.p[i];
		if (c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

/* True when the comma-separated list holds at least one valid URI. */
static bool uri_list_valid(struct bytes v)
{
	while (v.len > 0) {
		const char *comma = memchr(v.p, ',', v.len);
		size_t n = comma ? (size_t)(comma - v.p) : v.len;
		if (uri_valid((struct bytes){ v.p, n }))
			return true;
		if (comma == NULL)
			break;
		v.p += n + 1;
		v.len -= n + 1;
	}
	return false;
}

/* fo = 0 / 1 / d / s, colon-separated. */
static bool fo_valid(struct bytes v)
{
	if (v.len == 0)
		return false;
	bool want_opt = true;
	for (size_t i = 0; i < v.len; i++) {
		char c = v.p[i];
		if (is_wsp(c))
			continue;
		if (want_opt) {
			if (c != '0' && c != '1' && c != 'd' && c != 's' && c != 'D' && c != 'S')
				return false;
			want_opt = false;
		} else if (c == ':') {
			want_opt = true;
		} else {
			return false;
		}
	}
	return !want_opt;
}

/* rf = keyword *(":" keyword), keyword = ALPHA *(ALPHA / DIGIT / "-") roughly. */
static bool rf_valid(struct bytes v)
{
	if (v.len == 0)
		return false;
	bool start = true;
	for (size_t i = 0; i < v.len; i++) {
		char c = v.p[i];
		if (c == ':') {
			if (start)
				return false;
			start = true;
		} else if (is_alpha(c) || (!start && (is_digit(c) || c == '-'))) {
			start = false;
		} else {
			return false;
		}
	}
	return !start;
}

static int parse_uint(struct bytes v, uint64_t max, uint64_t *out_r)
{
	return buf_parse_uint64(v, max, out_r);
}

enum {
	SEEN_P = 1,
	SEEN_SP = 2,
	SEEN_PCT = 4,
	SEEN_ADKIM = 8,
	SEEN_ASPF = 16,
	SEEN_RUA = 32,
	SEEN_RUF = 64,
	SEEN_FO = 128,
	SEEN_RF = 256,
	SEEN_RI = 512
};

int dmarc_record_parse(const char *text, size_t len, struct arena *a, struct dmarc_record *rec_r, const char **error_r)
{
	*rec_r = (struct dmarc_record){ .pct = 100, .fo = "0", .rf = "afrf", .ri = 86400 };
	if (len > DMARC_RECORD_MAX) {
		*error_r = "record too long";
		return -1;
	}
	struct bytes rest = { text, len };
	unsigned seen = 0;
	bool p_bad = false, sp_bad = false, first = true;
	while (rest.len > 0 || first) {
		const char *semi = memchr(rest.p, ';', rest.len);
		size_t n = semi ? (size_t)(semi - rest.p) : rest.len;
		struct bytes part = trim((struct bytes){ rest.p, n });
		rest.p += n;
		rest.len -= n;
		if (semi != NULL) {
			rest.p++;
			rest.len--;
		}
		const char *eq = part.len > 0 ? memchr(part.p, '=', part.len) : NULL;
		struct bytes tag = { part.p, eq ? (size_t)(eq - part.p) : 0 };
		struct bytes val = { eq ? eq + 1 : part.p, eq ? part.len - tag.len - 1 : 0 };
		tag = trim(tag);
		val = trim(val);
		if (first) {
			first = false;
			if (eq == NULL || !bytes_ieq(tag, "v") || !bytes_eq(val, "DMARC1"))
				return 0;
			continue;
		}
		if (eq == NULL)
			continue; /* a syntax error in the rest: discarded (§6.3) */
		if (bytes_ieq(tag, "p") && !(seen & SEEN_P)) {
			seen |= SEEN_P;
			int p = parse_policy(val);
			p_bad = p < 0;
			if (p >= 0)
				rec_r->p = (enum dmarc_policy)p;
		} else if (bytes_ieq(tag, "sp") && !(seen & SEEN_SP)) {
			seen |= SEEN_SP;
			int p = parse_policy(val);
			sp_bad = p < 0;
			if (p >= 0)
				rec_r->sp = (enum dmarc_policy)p;
		} else if (bytes_ieq(tag, "pct") && !(seen & SEEN_PCT)) {
			seen |= SEEN_PCT;
			uint64_t v;
			if (val.len <= 3 && parse_uint(val, 100, &v) > 0)
				rec_r->pct = (unsigned)v;
		} else if (bytes_ieq(tag, "adkim") && !(seen & SEEN_ADKIM)) {
			seen |= SEEN_ADKIM;
			rec_r->adkim_strict = bytes_ieq(val, "s");
		} else if (bytes_ieq(tag, "aspf") && !(seen & SEEN_ASPF)) {
			seen |= SEEN_ASPF;
			rec_r->aspf_strict = bytes_ieq(val, "s");
		} else if (bytes_ieq(tag, "rua") && !(seen & SEEN_RUA)) {
			seen |= SEEN_RUA;
			if (uri_list_valid(val))
				rec_r->rua = arena_strndup(a, val.p, val.len);
		} else if (bytes_ieq(tag, "ruf") && !(seen & SEEN_RUF)) {
			seen |= SEEN_RUF;
			if (uri_list_valid(val))
				rec_r->ruf = arena_strndup(a, val.p, val.len);
		} else if (bytes_ieq(tag, "fo") && !(seen & SEEN_FO)) {
			seen |= SEEN_FO;
			if (fo_valid(val))
				rec_r->fo = arena_strndup(a, val.p, val.len);
		} else if (bytes_ieq(tag, "rf") && !(seen & SEEN_RF)) {
			seen |= SEEN_RF;
			if (rf_valid(val))
				rec_r->rf = arena_strndup(a, val.p, val.len);
		} else if (bytes_ieq(tag, "ri") && !(seen & SEEN_RI)) {
			seen |= SEEN_RI;
			uint64_t v;
			if (parse_uint(val, UINT32_MAX, &v) > 0)
				rec_r->ri = (uint32_t)v;
		}
		/* v again, unknown tags, duplicates: ignored */
	}
	if (!(seen & SEEN_SP))
		rec_r->sp = rec_r->p;
	if (!(seen & SEEN_P) || p_bad || sp_bad) {
		if (rec_r->rua == NULL) {
			*error_r = !(seen & SEEN_P) ? "no p= tag" : p_bad ? "invalid p= tag" : "invalid sp= tag";
			return -1;
		}
		rec_r->p = rec_r->sp = DMARC_POLICY_NONE; /* §6.6.3: reports still wanted */
		rec_r->p_fallback = true;
	}
	return 1;
}
