/* imap_client.c: the pure parser of IMAP server responses (see imap_client.h).
 *
 * Two passes over the buffer. The first finds where the response ends: line segments
 * up to LF, each at most line_max bytes, where a segment ending in "{N}" announces N
 * bytes of literal (at most literal_max) before the next segment; until all of that is
 * in the buffer the answer is "need more" (with the byte count that would help). The
 * second pass, over a complete response only, builds the items: atoms (an atom that
 * opens "[" runs to its "]", spaces and parentheses included, as FETCH's
 * "BODY[HEADER.FIELDS (MESSAGE-ID)]" does), quoted strings, literals, NIL and
 * parenthesised lists, each list at most items_max long and depth_max deep. A status
 * response (OK, NO, BAD, BYE, PREAUTH) keeps its text whole, with the response code
 * split off. */
#include "imap_client.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

struct cur {
	struct arena *a;
	const char *p;
	size_t pos, end; /* end: the response's last byte + 1 */
	const struct imapc_limits *lim;
	const char *error;
};

static int fail(struct cur *c, const char *msg)
{
	if (c->error == NULL)
		c->error = msg;
	return -1;
}

/* First pass: the end of the response, 0 need more (need_r), -1 error. */
static int64_t response_end(const char *p, size_t len, const struct imapc_limits *lim, size_t *need_r,
			    const char **error_r)
{
	size_t seg = 0;
	for (;;) {
		const char *lf = seg < len ? memchr(p + seg, '\n', len - seg) : NULL;
		if (lf == NULL) {
			if (len - seg > lim->line_max) {
				*error_r = "response line too long";
				return -1;
			}
			*need_r = len + 1;
			return 0;
		}
		size_t eol = (size_t)(lf - p);
		if (eol - seg > lim->line_max) {
			*error_r = "response line too long";
			return -1;
		}
		/* "{N}" or "{N+}" just before CRLF announces a literal */
		size_t e = eol;
		if (e > seg && p[e - 1] == '\r')
			e--;
		if (e == seg || p[e - 1] != '}')
			return (int64_t)eol + 1;
		size_t b = e - 1;
		while (b > seg && p[b - 1] >= '0' && p[b - 1] <= '9')
			b--;
		size_t digits_end = e - 1;
		if (b < digits_end && p[digits_end - 1] == '+')
			digits_end--;
		if (b == seg || p[b - 1] != '{' || b == digits_end)
			return (int64_t)eol + 1;
		/* re-scan the digits properly (the '+' case) */
		size_t d = b;
		uint64_t n = 0;
		while (d < e - 1 && p[d] >= '0' && p[d] <= '9') {
			if (n > lim->literal_max) {
				*error_r = "literal too large";
				return -1;
			}
			n = n * 10 + (uint64_t)(p[d] - '0');
			d++;
		}
		if (d == b || (p[d] != '}' && p[d] != '+'))
			return (int64_t)eol + 1;
		if (n > lim->literal_max) {
			*error_r = "literal too large";
			return -1;
		}
		size_t after = eol + 1;
		if ((uint64_t)(len - after) < n) {
			*need_r = after + (size_t)n + 1;
			return 0;
		}
		seg = after + (size_t)n;
	}
}

static bool at_eol(const struct cur *c)
{
	return c->pos >= c->end || c->p[c->pos] == '\r' || c->p[c->pos] == '\n';
}

static char *copy(struct cur *c, size_t from, size_t n)
{
	return arena_strndup(c->a, c->p + from, n);
}

static bool atom_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && ch != '(' && ch != ')' && ch != '{' && ch != '"';
}

static int parse_atom(struct cur *c, struct imapc_item *it)
{
	size_t start = c->pos;
	int bracket = 0;
	while (c->pos < c->end) {
		unsigned char ch = (unsigned char)c->p[c->pos];
		if (bracket > 0) {
			if (ch == '\r' || ch == '\n')
				return fail(c, "unclosed [ in an atom");
			if (ch == '[')
				bracket++;
			else if (ch == ']')
				bracket--;
			c->pos++;
			continue;
		}
		if (ch == '[') {
			bracket++;
			c->pos++;
			continue;
		}
		if (!atom_char(ch) || ch == ']')
			break;
		c->pos++;
	}
	if (c->pos == start)
		return fail(c, "unexpected character");
	/* an atom directly followed by "<N>" (BODY[]<0>) keeps it: '<' is an atom char */
	it->kind = IMAPC_ATOM;
	it->len = c->pos - start;
	it->s = copy(c, start, it->len);
	if (it->len == 3 && strncasecmp(it->s, "NIL", 3) == 0)
		it->kind = IMAPC_NIL;
	return 1;
}

static int parse_quoted(struct cur *c, struct imapc_item *it)
{
	c->pos++; /* the quote */
	char *out;
	size_t start = c->pos, n = 0;
	/* first find the end to size the copy */
	size_t q = start;
	while (q < c->end && c->p[q] != '"') {
		if (c->p[q] == '\r' || c->p[q] == '\n')
			return fail(c, "unterminated quoted string");
		if (c->p[q] == '\\')
			q++;
		q++;
	}
	if (q >= c->end)
		return fail(c, "unterminated quoted string");
	out = arena_alloc(c->a, q - start + 1);
	for (size_t i = start; i < q; i++) {
		if (c->p[i] == '\\')
			i++;
		out[n++] = c->p[i];
	}
	out[n] = '\0';
	c->pos = q + 1;
	it->kind = IMAPC_STRING;
	it->s = out;
	it->len = n;
	return 1;
}

static int parse_literal(struct cur *c, struct imapc_item *it)
{
	c->pos++; /* { */
	uint64_t n = 0;
	size_t d = c->pos;
	while (c->pos < c->end && c->p[c->pos] >= '0' && c->p[c->pos] <= '9') {
		n = n * 10 + (uint64_t)(c->p[c->pos] - '0');
		if (n > c->lim->literal_max)
			return fail(c, "literal too large");
		c->pos++;
	}
	if (c->pos == d)
		return fail(c, "bad literal");
	if (c->pos < c->end && c->p[c->pos] == '+')
		c->pos++;
	if (c->pos >= c->end || c->p[c->pos] != '}')
		return fail(c, "bad literal");
	c->pos++;
	if (c->pos < c->end && c->p[c->pos] == '\r')
		c->pos++;
	if (c->pos >= c->end || c->p[c->pos] != '\n')
		return fail(c, "literal not at the end of a line");
	c->pos++;
	if ((uint64_t)(c->end - c->pos) < n)
		return fail(c, "literal beyond the response");
	it->kind = IMAPC_STRING;
	it->len = (size_t)n;
	it->s = copy(c, c->pos, (size_t)n);
	c->pos += (size_t)n;
	return 1;
}

static int parse_list(struct cur *c, int depth, bool top, struct imapc_item **items_r, size_t *n_r);

static int parse_item(struct cur *c, int depth, struct imapc_item *it)
{
	memset(it, 0, sizeof(*it));
	char ch = c->p[c->pos];
	if (ch == '(') {
		if (depth >= c->lim->depth_max)
			return fail(c, "lists nested too deep");
		c->pos++;
		it->kind = IMAPC_LIST;
		return parse_list(c, depth + 1, false, &it->items, &it->n);
	}
	if (ch == '"')
		return parse_quoted(c, it);
	if (ch == '{')
		return parse_literal(c, it);
	if (ch == '~' && c->pos + 1 < c->end && c->p[c->pos + 1] == '{') {
		c->pos++; /* literal8 (RFC 3516) */
		return parse_literal(c, it);
	}
	return parse_atom(c, it);
}

/* Items up to ')' (a list) or the end of the line (top). */
static int parse_list(struct cur *c, int depth, bool top, struct imapc_item **items_r, size_t *n_r)
{
	size_t cap = 0, n = 0;
	struct imapc_item *items = NULL;
	for (;;) {
		while (c->pos < c->end && c->p[c->pos] == ' ')
			c->pos++;
		if (at_eol(c)) {
			if (!top)
				return fail(c, "unclosed list");
			break;
		}
		if (c->p[c->pos] == ')') {
			if (top)
				return fail(c, "unbalanced )");
			c->pos++;
			break;
		}
		if (n == c->lim->items_max)
			return fail(c, "too many items in a list");
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct imapc_item *grown = arena_alloc(c->a, ncap * sizeof(*grown));
			if (n > 0)
				memcpy(grown, items, n * sizeof(*grown));
			items = grown;
			cap = ncap;
		}
		if (parse_item(c, depth, &items[n]) < 0)
			return -1;
		n++;
	}
	*items_r = items;
	*n_r = n;
	return 1;
}

static const char *const statuses[] = { "OK", "NO", "BAD", "BYE", "PREAUTH", NULL };

/* The rest of the line as a status's text, with "[CODE]" split off. */
static void parse_status_text(struct cur *c, struct imapc_response *r)
{
	while (c->pos < c->end && c->p[c->pos] == ' ')
		c->pos++;
	size_t e = c->pos;
	while (e < c->end && c->p[e] != '\r' && c->p[e] != '\n')
		e++;
	if (c->pos < e && c->p[c->pos] == '[') {
		size_t close = c->pos + 1;
		while (close < e && c->p[close] != ']')
			close++;
		if (close < e) {
			r->code = copy(c, c->pos + 1, close - c->pos - 1);
			c->pos = close + 1;
			while (c->pos < e && c->p[c->pos] == ' ')
				c->pos++;
		}
	}
	r->text = copy(c, c->pos, e - c->pos);
}

int imapc_parse(struct arena *a, const char *data, size_t len, const struct imapc_limits *lim,
		struct imapc_response *resp_r, size_t *need_r, const char **error_r)
{
	memset(resp_r, 0, sizeof(*resp_r));
	*need_r = 0;
	int64_t end = response_end(data, len, lim, need_r, error_r);
	if (end <= 0)
		return (int)end;
	struct cur c = { .a = a, .p = data, .pos = 0, .end = (size_t)end, .lim = lim };
	/* the tag */
	size_t t = 0;
	while (t < c.end && data[t] != ' ' && data[t] != '\r' && data[t] != '\n')
		t++;
	if (t == 0) {
		*error_r = "response without a tag";
		return -1;
	}
	resp_r->tag = copy(&c, 0, t);
	c.pos = t;
	if (strcmp(resp_r->tag, "+") == 0) {
		parse_status_text(&c, resp_r);
		return (int)end;
	}
	for (size_t i = 0; resp_r->tag[i] != '\0'; i++) {
		if (!atom_char((unsigned char)resp_r->tag[i])) {
			*error_r = "bad tag";
			return -1;
		}
	}
	while (c.pos < c.end && data[c.pos] == ' ')
		c.pos++;
	/* "* 5 FETCH": a number first */
	if (strcmp(resp_r->tag, "*") == 0 && c.pos < c.end && data[c.pos] >= '0' && data[c.pos] <= '9') {
		uint64_t n = 0;
		while (c.pos < c.end && data[c.pos] >= '0' && data[c.pos] <= '9') {
			n = n * 10 + (uint64_t)(data[c.pos] - '0');
			if (n > UINT32_MAX) {
				*error_r = "number out of range";
				return -1;
			}
			c.pos++;
		}
		resp_r->number = (uint32_t)n;
		resp_r->has_number = 1;
	} else {
		size_t w = c.pos;
		while (w < c.end && data[w] >= 'A' && (data[w] | 0x20) <= 'z')
			w++;
		for (size_t i = 0; statuses[i] != NULL; i++) {
			if (w - c.pos == strlen(statuses[i]) &&
			    strncasecmp(data + c.pos, statuses[i], w - c.pos) == 0 &&
			    (w == c.end || data[w] == ' ' || data[w] == '\r' || data[w] == '\n')) {
				resp_r->status = statuses[i];
				c.pos = w;
				parse_status_text(&c, resp_r);
				return (int)end;
			}
		}
		if (strcmp(resp_r->tag, "*") != 0) {
			*error_r = "tagged response without a status";
			return -1;
		}
	}
	if (parse_list(&c, 0, true, &resp_r->items, &resp_r->n) < 0) {
		*error_r = c.error;
		return -1;
	}
	return (int)end;
}

int imapc_is(const struct imapc_item *it, const char *word)
{
	return it != NULL && it->kind == IMAPC_ATOM && strcasecmp(it->s, word) == 0;
}

int imapc_number(const struct imapc_item *it, uint64_t max, uint64_t *out_r)
{
	if (it == NULL || it->kind != IMAPC_ATOM || it->len == 0 || it->len > 20)
		return -1;
	uint64_t n = 0;
	for (size_t i = 0; i < it->len; i++) {
		if (it->s[i] < '0' || it->s[i] > '9')
			return -1;
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(it->s[i] - '0');
	}
	if (n == 0 || n > max)
		return -1;
	*out_r = n;
	return 1;
}
