/* imap_args.c: argument parsing over a buffered command (see imap_args.h).
 *
 * RFC 9051 §9 grammar lines used here:
 *   astring = 1*ASTRING-CHAR / string;  ASTRING-CHAR = ATOM-CHAR / resp-specials
 *   string = quoted / literal;  quoted = DQUOTE *QUOTED-CHAR DQUOTE
 *   QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials / UTF8-2/3/4
 *   literal = "{" number64 ["+"] "}" CRLF *CHAR8   (the reader put CRLF after the header)
 *   sequence-set = (seq-number / seq-range) ["," sequence-set]; seq-number = nz-number / "*"
 *   date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE */
#include "imap_args.h"

#include "imap_parse.h"

#include <string.h>
#include <strings.h>

static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void imap_cur_init(struct imap_cur *cur, struct arena *a, struct bytes args)
{
	cur->p = args.p;
	cur->len = args.len;
	cur->pos = 0;
	cur->a = a;
	cur->error = NULL;
}

static int fail(struct imap_cur *cur, const char *error)
{
	if (cur->error == NULL)
		cur->error = error;
	return -1;
}

bool imap_cur_end(const struct imap_cur *cur)
{
	return cur->pos >= cur->len;
}

int imap_cur_peek(const struct imap_cur *cur)
{
	return cur->pos < cur->len ? (unsigned char)cur->p[cur->pos] : -1;
}

bool imap_cur_skip(struct imap_cur *cur, char c)
{
	if (cur->pos < cur->len && cur->p[cur->pos] == c) {
		cur->pos++;
		return true;
	}
	return false;
}

int imap_cur_sp(struct imap_cur *cur)
{
	if (imap_cur_skip(cur, ' '))
		return 1;
	return fail(cur, imap_cur_end(cur) ? "Missing argument" : "Expected a space");
}

int imap_cur_eol(struct imap_cur *cur)
{
	if (imap_cur_end(cur))
		return 1;
	return fail(cur, "Unexpected extra arguments");
}

bool imap_is_astring_char(unsigned char c)
{
	return imap_is_atom_char(c) || c == ']';
}

int imap_cur_atom(struct imap_cur *cur, struct bytes *out)
{
	size_t s = cur->pos;
	while (cur->pos < cur->len && imap_is_atom_char((unsigned char)cur->p[cur->pos]))
		cur->pos++;
	if (cur->pos == s)
		return fail(cur, "Expected an atom");
	*out = (struct bytes){ cur->p + s, cur->pos - s };
	return 1;
}

int imap_cur_fetch_att(struct imap_cur *cur, struct bytes *out)
{
	size_t s = cur->pos;
	int depth = 0;
	while (cur->pos < cur->len) {
		char c = cur->p[cur->pos];
		if (c == '[')
			depth++;
		else if (c == ']')
			depth--;
		else if (depth == 0 && (c == ' ' || c == ')' || c == '('))
			break;
		else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f || (depth == 0 && (c == '{' || c == '"')))
			return fail(cur, "Invalid character in fetch attribute");
		if (depth < 0 || depth > 1)
			return fail(cur, "Unbalanced brackets in fetch attribute");
		cur->pos++;
	}
	if (depth != 0)
		return fail(cur, "Unbalanced brackets in fetch attribute");
	if (cur->pos == s)
		return fail(cur, "Expected a fetch attribute");
	*out = (struct bytes){ cur->p + s, cur->pos - s };
	return 1;
}

bool imap_cur_keyword(struct imap_cur *cur, const char *word)
{
	size_t n = strlen(word);
	if (cur->len - cur->pos < n || strncasecmp(cur->p + cur->pos, word, n) != 0)
		return false;
	if (cur->pos + n < cur->len) {
		char c = cur->p[cur->pos + n];
		if (c != ' ' && c != ')')
			return false;
	}
	cur->pos += n;
	return true;
}

static int quoted(struct imap_cur *cur, struct imap_str *out)
{
	cur->pos++; /* DQUOTE */
	size_t s = cur->pos;
	/* first pass: find the end and the unescaped length */
	size_t n = 0;
	size_t i = s;
	for (;;) {
		if (i >= cur->len) {
			cur->pos = i;
			return fail(cur, "Unterminated quoted string");
		}
		char c = cur->p[i];
		if (c == '"')
			break;
		if (c == '\\') {
			if (i + 1 >= cur->len || (cur->p[i + 1] != '"' && cur->p[i + 1] != '\\')) {
				cur->pos = i;
				return fail(cur, "Invalid escape in quoted string");
			}
			i++;
		} else if (c == '\r' || c == '\n' || c == '\0') {
			cur->pos = i;
			return fail(cur, "Invalid character in quoted string");
		}
		i++;
		n++;
	}
	char *d = arena_alloc(cur->a, n + 1);
	size_t k = 0;
	for (size_t j = s; j < i; j++) {
		if (cur->p[j] == '\\')
			j++;
		d[k++] = cur->p[j];
	}
	d[k] = '\0';
	cur->pos = i + 1;
	*out = (struct imap_str){ d, n, false, false };
	return 1;
}

/* Reads a literal header and returns the view of its data. */
static int literal(struct imap_cur *cur, struct bytes *out, bool *lit8)
{
	*lit8 = false;
	if (imap_cur_skip(cur, '~'))
		*lit8 = true;
	if (!imap_cur_skip(cur, '{'))
		return fail(cur, "Expected a literal");
	uint64_t n = 0;
	size_t digits = 0;
	while (cur->pos < cur->len && cur->p[cur->pos] >= '0' && cur->p[cur->pos] <= '9') {
		unsigned d = (unsigned)(cur->p[cur->pos] - '0');
		if (n > (UINT64_MAX - d) / 10)
			return fail(cur, "Literal size out of range");
		n = n * 10 + d;
		cur->pos++;
		digits++;
	}
	if (digits == 0)
		return fail(cur, "Invalid literal size");
	(void)imap_cur_skip(cur, '+'); /* RFC 7888 §3: literal8 too may be "~{n+}" */
	if (!imap_cur_skip(cur, '}') || !imap_cur_skip(cur, '\r') || !imap_cur_skip(cur, '\n'))
		return fail(cur, "Invalid literal");
	if (n > cur->len - cur->pos)
		return fail(cur, "Literal longer than the command");
	*out = (struct bytes){ cur->p + cur->pos, (size_t)n };
	cur->pos += (size_t)n;
	return 1;
}

int imap_cur_literal_view(struct imap_cur *cur, struct bytes *out, bool *literal8_r)
{
	int c = imap_cur_peek(cur);
	if (c != '{' && c != '~')
		return fail(cur, "Expected a literal");
	return literal(cur, out, literal8_r);
}

/* RFC 3516 §4.2: "~" starts a literal8 only before "{"; elsewhere it is an ordinary
 * ATOM-CHAR ("LIST \"\" ~foo", issue 16). */
static bool at_literal(const struct imap_cur *cur)
{
	if (cur->pos >= cur->len)
		return false;
	char c = cur->p[cur->pos];
	return c == '{' || (c == '~' && cur->pos + 1 < cur->len && cur->p[cur->pos + 1] == '{');
}

int imap_cur_string(struct imap_cur *cur, struct imap_str *out)
{
	int c = imap_cur_peek(cur);
	if (c == '"')
		return quoted(cur, out);
	if (at_literal(cur)) {
		struct bytes v;
		bool lit8;
		if (literal(cur, &v, &lit8) < 0)
			return -1;
		if (lit8)
			return fail(cur, "literal8 is not allowed here");
		*out = (struct imap_str){ arena_strndup(cur->a, v.p, v.len), v.len, true, false };
		return 1;
	}
	return fail(cur, imap_cur_end(cur) ? "Missing argument" : "Expected a string");
}

int imap_cur_astring(struct imap_cur *cur, struct imap_str *out)
{
	if (imap_cur_peek(cur) == '"' || at_literal(cur))
		return imap_cur_string(cur, out);
	size_t s = cur->pos;
	while (cur->pos < cur->len && imap_is_astring_char((unsigned char)cur->p[cur->pos]))
		cur->pos++;
	if (cur->pos == s)
		return fail(cur, imap_cur_end(cur) ? "Missing argument" : "Expected an astring");
	*out = (struct imap_str){ arena_strndup(cur->a, cur->p + s, cur->pos - s), cur->pos - s, false, false };
	return 1;
}

int imap_cur_nstring(struct imap_cur *cur, struct imap_str *out)
{
	if (imap_cur_keyword(cur, "NIL")) {
		*out = (struct imap_str){ NULL, 0, false, false };
		return 1;
	}
	return imap_cur_string(cur, out);
}

int imap_cur_list_mailbox(struct imap_cur *cur, struct imap_str *out)
{
	if (imap_cur_peek(cur) == '"' || at_literal(cur))
		return imap_cur_string(cur, out);
	size_t s = cur->pos;
	while (cur->pos < cur->len) {
		unsigned char ch = (unsigned char)cur->p[cur->pos];
		if (!imap_is_astring_char(ch) && ch != '%' && ch != '*')
			break;
		cur->pos++;
	}
	if (cur->pos == s)
		return fail(cur, "Expected a mailbox pattern");
	*out = (struct imap_str){ arena_strndup(cur->a, cur->p + s, cur->pos - s), cur->pos - s, false, false };
	return 1;
}

int imap_cur_number(struct imap_cur *cur, uint64_t min, uint64_t max, uint64_t *out)
{
	size_t s = cur->pos;
	while (cur->pos < cur->len && cur->p[cur->pos] >= '0' && cur->p[cur->pos] <= '9')
		cur->pos++;
	uint64_t v;
	if (cur->pos == s || buf_parse_uint64((struct bytes){ cur->p + s, cur->pos - s }, max, &v) < 0 || v < min) {
		cur->pos = s;
		return fail(cur, "Invalid number");
	}
	*out = v;
	return 1;
}

static int seq_number(struct imap_cur *cur, uint32_t *out)
{
	if (imap_cur_skip(cur, '*')) {
		*out = 0;
		return 1;
	}
	uint64_t v;
	if (imap_cur_number(cur, 1, UINT32_MAX, &v) < 0) {
		cur->error = NULL;
		return fail(cur, "Invalid sequence set");
	}
	*out = (uint32_t)v;
	return 1;
}

int imap_cur_seqset(struct imap_cur *cur, bool allow_saved, size_t max_ranges, struct imap_seqset *out)
{
	memset(out, 0, sizeof(*out));
	if (allow_saved && imap_cur_peek(cur) == '$') {
		cur->pos++;
		out->saved = true;
		return 1;
	}
	size_t cap = 0;
	for (;;) {
		struct imap_range r;
		if (seq_number(cur, &r.lo) < 0)
			return -1;
		r.hi = r.lo;
		if (imap_cur_skip(cur, ':') && seq_number(cur, &r.hi) < 0)
			return -1;
		if (out->n == max_ranges)
			return fail(cur, "Too many ranges in the sequence set");
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct imap_range *nr = arena_alloc(cur->a, ncap * sizeof(*nr));
			if (out->n)
				memcpy(nr, out->r, out->n * sizeof(*nr));
			out->r = nr;
			cap = ncap;
		}
		out->r[out->n++] = r;
		if (!imap_cur_skip(cur, ','))
			return 1;
	}
}

static int two_digits(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

static int month_of(const char *p)
{
	for (int i = 0; i < 12; i++)
		if (strncasecmp(p, months[i], 3) == 0)
			return i + 1;
	return -1;
}

static int days_in_month(int y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* date-day "-" date-month "-" date-year at p with n bytes left; day may be 1 or 2
 * digits (or " d" when fixed). Returns bytes used or -1. */
static int date_text(const char *p, size_t n, bool fixed, int *y, int *m, int *d)
{
	size_t i = 0;
	int day;
	if (fixed && n >= 1 && p[0] == ' ') {
		if (n < 2 || p[1] < '0' || p[1] > '9')
			return -1;
		day = p[1] - '0';
		i = 2;
	} else if (n >= 2 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9') {
		day = (p[0] - '0') * 10 + (p[1] - '0');
		i = 2;
	} else if (n >= 1 && p[0] >= '0' && p[0] <= '9' && !fixed) {
		day = p[0] - '0';
		i = 1;
	} else {
		return -1;
	}
	if (n < i + 9 || p[i] != '-' || p[i + 4] != '-')
		return -1;
	int mon = month_of(p + i + 1);
	int y1 = two_digits(p + i + 5), y2 = two_digits(p + i + 7);
	if (mon < 0 || y1 < 0 || y2 < 0)
		return -1;
	int year = y1 * 100 + y2;
	if (day < 1 || day > days_in_month(year, mon))
		return -1;
	*y = year;
	*m = mon;
	*d = day;
	return (int)(i + 9);
}

int imap_cur_date(struct imap_cur *cur, int *year_r, int *month_r, int *day_r)
{
	bool q = imap_cur_skip(cur, '"');
	int used = date_text(cur->p + cur->pos, cur->len - cur->pos, false, year_r, month_r, day_r);
	if (used < 0)
		return fail(cur, "Invalid date");
	cur->pos += (size_t)used;
	if (q && !imap_cur_skip(cur, '"'))
		return fail(cur, "Invalid date");
	return 1;
}

int64_t imap_days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int imap_cur_datetime(struct imap_cur *cur, int64_t *time_r, int *tz_r)
{
	if (!imap_cur_skip(cur, '"'))
		return fail(cur, "Invalid date-time");
	const char *p = cur->p + cur->pos;
	size_t n = cur->len - cur->pos;
	int y, m, d;
	int used = date_text(p, n, true, &y, &m, &d);
	/* "dd-Mon-yyyy hh:mm:ss +zzzz" */
	if (used < 0 || n < (size_t)used + 16)
		return fail(cur, "Invalid date-time");
	p += used;
	int hh = two_digits(p + 1), mm = two_digits(p + 4), ss = two_digits(p + 7);
	int zh = two_digits(p + 11), zm = two_digits(p + 13);
	if (p[0] != ' ' || p[3] != ':' || p[6] != ':' || p[9] != ' ' || (p[10] != '+' && p[10] != '-') ||
	    p[15] != '"' || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 || zh < 0 || zh > 23 ||
	    zm < 0 || zm > 59) /* a zone is hours (at most 23) and minutes; found by fuzz_imap_stream */
		return fail(cur, "Invalid date-time");
	int tz = (zh * 60 + zm) * (p[10] == '-' ? -1 : 1);
	*time_r = imap_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss - (int64_t)tz * 60;
	*tz_r = tz;
	cur->pos += (size_t)used + 16;
	return 1;
}

/* flag = "\Answered" / ... / keyword / flag-extension; we take "\"? atom */
static int flag(struct imap_cur *cur, const char **out)
{
	size_t s = cur->pos;
	(void)imap_cur_skip(cur, '\\');
	struct bytes a;
	if (imap_cur_atom(cur, &a) < 0) {
		cur->error = NULL;
		return fail(cur, "Invalid flag");
	}
	*out = arena_strndup(cur->a, cur->p + s, cur->pos - s);
	return 1;
}

static int flags_until(struct imap_cur *cur, bool paren, const char ***flags_r, size_t *n_r)
{
	const char **v = NULL;
	size_t n = 0, cap = 0;
	if (!(paren && imap_cur_peek(cur) == ')')) {
		for (;;) {
			const char *f;
			if (flag(cur, &f) < 0)
				return -1;
			if (n + 1 >= cap) {
				size_t ncap = cap ? cap * 2 : 8;
				const char **nv = arena_alloc(cur->a, ncap * sizeof(*nv));
				if (n)
					memcpy(nv, v, n * sizeof(*nv));
				v = nv;
				cap = ncap;
			}
			v[n++] = f;
			if (!imap_cur_skip(cur, ' '))
				break;
		}
	}
	if (paren && !imap_cur_skip(cur, ')'))
		return fail(cur, "Expected ) after the flags");
	if (v == NULL)
		v = arena_alloc(cur->a, sizeof(*v));
	v[n] = NULL;
	*flags_r = v;
	*n_r = n;
	return 1;
}

int imap_cur_flag_list(struct imap_cur *cur, const char ***flags_r, size_t *n_r)
{
	if (!imap_cur_skip(cur, '('))
		return fail(cur, "Expected a flag list");
	return flags_until(cur, true, flags_r, n_r);
}

int imap_cur_store_flags(struct imap_cur *cur, const char ***flags_r, size_t *n_r)
{
	if (imap_cur_skip(cur, '('))
		return flags_until(cur, true, flags_r, n_r);
	return flags_until(cur, false, flags_r, n_r);
}
