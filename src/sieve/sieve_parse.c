/* sieve_parse.c: the Sieve lexer and grammar (RFC 5228 §8), building a program.
 *
 * Bytes in, a program or "line N: what is wrong" out; no I/O. The lexer knows
 * comments (# and bracketed), quoted strings with their two escapes, multi-line
 * "text:" strings with dot-stuffing, numbers with K/M/G, tags and identifiers.
 * The grammar collects each command's raw arguments, tests and block, and hands
 * them to sieve_bind.c, which checks them against the command's definition and
 * the script's require list. encoded-character (RFC 5228 §2.4.2.4) is decoded
 * here, as strings are stored. Depth is bounded by limits.max_nesting, size by
 * limits.max_script_bytes. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "sieve_int.h"
#include "textfmt.h"

enum tok {
	T_EOF = 0,
	T_IDENT,
	T_TAG,
	T_NUMBER,
	T_STRING,
	T_LBRACK,
	T_RBRACK,
	T_COMMA,
	T_LPAREN,
	T_RPAREN,
	T_LBRACE,
	T_RBRACE,
	T_SEMI
};

struct sieve_builder {
	struct arena *a;
	struct sieve_program *prog;
	const char *p, *end;
	unsigned line;
	const char *error; /* set on the first error */
	unsigned error_line;
	/* the current token */
	enum tok tok;
	unsigned tok_line;
	struct buf text; /* T_IDENT, T_TAG, T_STRING: its text */
	uint64_t number;
	/* capacities */
	uint32_t cap_nodes, cap_kids, cap_slists, cap_strs, cap_blob;
	uint32_t *tmp_kids; /* a stack of children being collected */
	uint32_t ntmp, cap_tmp;
};

static int fail(struct sieve_builder *b, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct sieve_builder *b, unsigned line, const char *fmt, ...)
{
	if (b->error == NULL) {
		va_list ap;
		va_start(ap, fmt);
		b->error = arena_vprintf(b->a, fmt, ap);
		va_end(ap);
		b->error_line = line;
	}
	return -1;
}

/* --- the lexer --- */

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Skips white space and comments. Returns 0, or -1 on an unterminated comment. */
static int skip_space(struct sieve_builder *b)
{
	while (b->p < b->end) {
		char c = *b->p;
		if (c == '\n') {
			b->line++;
			b->p++;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			b->p++;
		} else if (c == '#') {
			while (b->p < b->end && *b->p != '\n')
				b->p++;
		} else if (c == '/' && b->p + 1 < b->end && b->p[1] == '*') {
			unsigned start = b->line;
			b->p += 2;
			for (;;) {
				if (b->p + 1 >= b->end)
					return fail(b, start, "unterminated comment");
				if (b->p[0] == '*' && b->p[1] == '/')
					break;
				if (*b->p == '\n')
					b->line++;
				b->p++;
			}
			b->p += 2;
		} else {
			break;
		}
	}
	return 0;
}

static int lex_quoted(struct sieve_builder *b)
{
	unsigned start = b->line;
	b->p++;
	for (;;) {
		if (b->p >= b->end)
			return fail(b, start, "unterminated string");
		char c = *b->p++;
		if (c == '"')
			return 0;
		if (c == '\\') {
			if (b->p >= b->end)
				return fail(b, start, "unterminated string");
			c = *b->p++; /* \\ and \" give the character; others drop the backslash */
		}
		if (c == '\n')
			b->line++;
		buf_putc(&b->text, c);
	}
}

/* "text:" [spaces] [#comment] CRLF, then lines up to a line of ".". */
static int lex_multiline(struct sieve_builder *b)
{
	unsigned start = b->line;
	b->p += 5;
	while (b->p < b->end && (*b->p == ' ' || *b->p == '\t'))
		b->p++;
	if (b->p < b->end && *b->p == '#')
		while (b->p < b->end && *b->p != '\n')
			b->p++;
	if (b->p < b->end && *b->p == '\r')
		b->p++;
	if (b->p >= b->end || *b->p != '\n')
		return fail(b, start, "text: must be followed by a line break");
	b->p++;
	b->line++;
	for (;;) {
		if (b->p >= b->end)
			return fail(b, start, "unterminated multi-line string (no line with a single '.')");
		const char *nl = memchr(b->p, '\n', (size_t)(b->end - b->p));
		const char *le = nl != NULL ? nl : b->end;
		size_t n = (size_t)(le - b->p);
		if (n > 0 && b->p[n - 1] == '\r')
			n--;
		if (n == 1 && b->p[0] == '.') {
			b->p = nl != NULL ? nl + 1 : b->end;
			b->line++;
			return 0;
		}
		if (nl == NULL)
			return fail(b, start, "unterminated multi-line string (no line with a single '.')");
		const char *s = b->p;
		if (n > 0 && s[0] == '.') {
			s++;
			n--;
		}
		buf_append(&b->text, s, n);
		buf_append(&b->text, "\r\n", 2);
		b->p = nl + 1;
		b->line++;
	}
}

/* Reads the next token into b->tok. Returns 0, or -1 on a lexical error. */
static int next(struct sieve_builder *b)
{
	if (skip_space(b) < 0)
		return -1;
	buf_reset(&b->text);
	b->tok_line = b->line;
	if (b->p >= b->end) {
		b->tok = T_EOF;
		return 0;
	}
	char c = *b->p;
	static const char punct[] = "[],(){};";
	static const enum tok ptok[] = { T_LBRACK, T_RBRACK, T_COMMA, T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_SEMI };
	const char *pc = c != '\0' ? strchr(punct, c) : NULL;
	if (pc != NULL) {
		b->tok = ptok[pc - punct];
		b->p++;
		return 0;
	}
	if (c == '"') {
		b->tok = T_STRING;
		return lex_quoted(b);
	}
	if (c == ':' || is_alpha(c)) {
		bool tag = c == ':';
		if (tag)
			b->p++;
		if (b->p >= b->end || !is_alpha(*b->p))
			return fail(b, b->line, "':' must be followed by a tag name");
		const char *s = b->p;
		while (b->p < b->end && (is_alpha(*b->p) || is_digit(*b->p)))
			b->p++;
		size_t n = (size_t)(b->p - s);
		if (n > 128)
			return fail(b, b->line, "identifier longer than 128 characters");
		if (!tag && n == 4 && strncmp(s, "text", 4) == 0 && b->p < b->end && *b->p == ':') {
			b->p = s;
			b->tok = T_STRING;
			return lex_multiline(b);
		}
		buf_append(&b->text, s, n);
		b->tok = tag ? T_TAG : T_IDENT;
		return 0;
	}
	if (is_digit(c)) {
		uint64_t v = 0;
		while (b->p < b->end && is_digit(*b->p)) {
			if (v > (UINT64_MAX - 9) / 10)
				return fail(b, b->line, "number too large");
			v = v * 10 + (uint64_t)(*b->p - '0');
			b->p++;
		}
		uint64_t mul = 1;
		if (b->p < b->end) {
			switch (*b->p) {
			case 'K':
			case 'k':
				mul = 1024;
				break;
			case 'M':
			case 'm':
				mul = 1024 * 1024;
				break;
			case 'G':
			case 'g':
				mul = 1024 * 1024 * 1024;
				break;
			}
			if (mul > 1)
				b->p++;
		}
		if (v > INT64_MAX / mul)
			return fail(b, b->line, "number too large");
		b->number = v * mul;
		b->tok = T_NUMBER;
		return 0;
	}
	if (c >= 0x20 && c < 0x7f)
		return fail(b, b->line, "unexpected character '%c'", c);
	return fail(b, b->line, "unexpected byte 0x%02x", (unsigned char)c);
}

/* --- building the program --- */

#define GROW(arr, n, cap, extra)                                               \
	do {                                                                   \
		if ((uint64_t)(n) + (extra) > (cap)) {                         \
			uint64_t nc_ = (cap) ? (uint64_t)(cap)*2 : 16;         \
			while (nc_ < (uint64_t)(n) + (extra))                  \
				nc_ *= 2;                                      \
			assert(nc_ <= UINT32_MAX);                             \
			(arr) = xrealloc((arr), (size_t)nc_ * sizeof(*(arr))); \
			(cap) = (uint32_t)nc_;                                 \
		}                                                              \
	} while (0)

/* Decodes one "${hex:..}" or "${unicode:..}" at s (which starts with "${").
 * Returns the bytes consumed and appends the result, or 0 when it is not a valid
 * encoding (then it stays as it is). */
static size_t decode_encoded(const char *s, size_t n, struct buf *out)
{
	const char *close = memchr(s, '}', n);
	if (close == NULL)
		return 0;
	size_t len = (size_t)(close - s) + 1;
	const char *q = s + 2, *e = close;
	bool unicode;
	if (e - q >= 4 && strncasecmp(q, "hex:", 4) == 0) {
		unicode = false;
		q += 4;
	} else if (e - q >= 8 && strncasecmp(q, "unicode:", 8) == 0) {
		unicode = true;
		q += 8;
	} else {
		return 0;
	}
	struct buf tmp = { 0 };
	bool any = false;
	for (;;) {
		while (q < e && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
			q++;
		if (q == e)
			break;
		uint32_t v = 0;
		int nd = 0;
		while (q < e && textfmt_hex_digit((unsigned char)*q) >= 0) {
			if (nd >= 8) {
				buf_free(&tmp);
				return 0;
			}
			v = v * 16 + (uint32_t)textfmt_hex_digit((unsigned char)*q);
			q++;
			nd++;
		}
		if (nd == 0 || (q < e && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')) {
			buf_free(&tmp);
			return 0;
		}
		if (unicode) {
			if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
				buf_free(&tmp);
				return 0;
			}
			buf_put_utf8(&tmp, v);
		} else {
			if (v > 0xff) {
				buf_free(&tmp);
				return 0;
			}
			buf_putc(&tmp, (char)v);
		}
		any = true;
	}
	(void)any; /* "${hex:}" is valid and empty */
	if (tmp.len > 0)
		buf_append(out, tmp.data, tmp.len);
	buf_free(&tmp);
	return len;
}

/* Stores the current token's text as a string; returns its index. */
static uint32_t add_string(struct sieve_builder *b, const char *s, size_t n)
{
	struct sieve_program *pr = b->prog;
	struct buf dec = { 0 };
	if (pr->exts & EXT_ENCODED) {
		for (size_t i = 0; i < n;) {
			if (s[i] == '$' && i + 1 < n && s[i + 1] == '{') {
				size_t used = decode_encoded(s + i, n - i, &dec);
				if (used > 0) {
					i += used;
					continue;
				}
			}
			buf_putc(&dec, s[i]);
			i++;
		}
		s = dec.len > 0 ? dec.data : "";
		n = dec.len;
	}
	GROW(pr->strs, pr->nstrs, b->cap_strs, 1);
	GROW(pr->blob, pr->blob_len, b->cap_blob, n + 1);
	struct sieve_str *st = &pr->strs[pr->nstrs];
	st->off = pr->blob_len;
	st->len = (uint32_t)n;
	st->vars = (pr->exts & EXT_VARIABLES) && n >= 2 && memmem(s, n, "${", 2) != NULL;
	if (n > 0)
		memcpy(pr->blob + pr->blob_len, s, n);
	pr->blob[pr->blob_len + n] = '\0';
	pr->blob_len += (uint32_t)n + 1;
	buf_free(&dec);
	return pr->nstrs++;
}

static uint32_t add_slist(struct sieve_builder *b, uint32_t first, uint32_t n)
{
	struct sieve_program *pr = b->prog;
	GROW(pr->slists, pr->nslists, b->cap_slists, 1);
	pr->slists[pr->nslists] = (struct sieve_slist){ first, n };
	return pr->nslists++;
}

/* Parses a string or a [ ] list at the current token; the token after it is read. */
static int parse_strlist(struct sieve_builder *b, uint32_t *sl_r, bool *single_r)
{
	uint32_t first = b->prog->nstrs, n = 0;
	if (b->tok == T_STRING) {
		add_string(b, b->text.len ? b->text.data : "", b->text.len);
		*single_r = true;
		*sl_r = add_slist(b, first, 1);
		return next(b);
	}
	assert(b->tok == T_LBRACK);
	*single_r = false;
	for (;;) {
		if (next(b) < 0)
			return -1;
		if (b->tok != T_STRING)
			return fail(b, b->tok_line, "expected a string in the string list");
		add_string(b, b->text.len ? b->text.data : "", b->text.len);
		n++;
		if (next(b) < 0)
			return -1;
		if (b->tok == T_RBRACK)
			break;
		if (b->tok != T_COMMA)
			return fail(b, b->tok_line, "expected ',' or ']' in the string list");
	}
	*sl_r = add_slist(b, first, n);
	return next(b);
}

static void push_tmp(struct sieve_builder *b, uint32_t v)
{
	GROW(b->tmp_kids, b->ntmp, b->cap_tmp, 1);
	b->tmp_kids[b->ntmp++] = v;
}

/* Moves tmp_kids[from..] to the program's kid list; returns the first index. */
static uint32_t commit_kids(struct sieve_builder *b, uint32_t from)
{
	struct sieve_program *pr = b->prog;
	uint32_t n = b->ntmp - from;
	GROW(pr->kids, pr->nkids, b->cap_kids, n);
	uint32_t k0 = pr->nkids;
	if (n > 0)
		memcpy(pr->kids + k0, b->tmp_kids + from, n * sizeof(uint32_t));
	pr->nkids += n;
	b->ntmp = from;
	return k0;
}

static uint32_t add_node(struct sieve_builder *b, const struct sieve_node *n)
{
	struct sieve_program *pr = b->prog;
	GROW(pr->nodes, pr->nnodes, b->cap_nodes, 1);
	pr->nodes[pr->nnodes] = *n;
	return pr->nnodes++;
}

static int parse_test(struct sieve_builder *b, unsigned depth, uint32_t *idx_r);
static int parse_commands(struct sieve_builder *b, unsigned depth, bool top);

/* Parses "identifier arguments" for a command (is_test false) or test. */
static int parse_item(struct sieve_builder *b, unsigned depth, bool is_test, uint32_t *idx_r, enum sieve_op prev)
{
	if (depth > b->prog->limits.max_nesting)
		return fail(b, b->tok_line, "nesting deeper than %u", b->prog->limits.max_nesting);
	unsigned line = b->tok_line;
	const char *name = arena_strndup(b->a, b->text.data, b->text.len);
	size_t cap = 8, nargs = 0;
	struct sieve_rawarg *args = arena_alloc(b->a, cap * sizeof(*args));
	if (next(b) < 0)
		return -1;
	for (;;) {
		struct sieve_rawarg ra = { 0 };
		if (b->tok == T_TAG) {
			ra.type = ARG_TAG;
			ra.tag = arena_strndup(b->a, b->text.data, b->text.len);
			if (next(b) < 0)
				return -1;
		} else if (b->tok == T_NUMBER) {
			ra.type = ARG_NUMBER;
			ra.number = b->number;
			if (next(b) < 0)
				return -1;
		} else if (b->tok == T_STRING || b->tok == T_LBRACK) {
			ra.type = ARG_STRLIST;
			if (parse_strlist(b, &ra.sl, &ra.single) < 0)
				return -1;
		} else {
			break;
		}
		if (nargs == cap) {
			struct sieve_rawarg *na = arena_alloc(b->a, cap * 2 * sizeof(*args));
			memcpy(na, args, nargs * sizeof(*args));
			args = na;
			cap *= 2;
		}
		args[nargs++] = ra;
	}
	uint32_t mark = b->ntmp;
	size_t ntests = 0;
	if (b->tok == T_IDENT) {
		uint32_t t;
		if (parse_test(b, depth + 1, &t) < 0)
			return -1;
		push_tmp(b, t);
		ntests = 1;
	} else if (b->tok == T_LPAREN) {
		for (;;) {
			if (next(b) < 0)
				return -1;
			if (b->tok != T_IDENT)
				return fail(b, b->tok_line, "expected a test in the test list");
			uint32_t t;
			if (parse_test(b, depth + 1, &t) < 0)
				return -1;
			push_tmp(b, t);
			ntests++;
			if (b->tok == T_RPAREN)
				break;
			if (b->tok != T_COMMA)
				return fail(b, b->tok_line, "expected ',' or ')' in the test list");
		}
		if (next(b) < 0)
			return -1;
	}
	bool has_block = false;
	if (!is_test) {
		if (b->tok == T_LBRACE) {
			has_block = true;
			if (next(b) < 0)
				return -1;
			if (parse_commands(b, depth + 1, false) < 0)
				return -1;
			if (b->tok != T_RBRACE)
				return fail(b, b->tok_line, "expected '}' to close the block");
			if (next(b) < 0)
				return -1;
		} else if (b->tok == T_SEMI) {
			if (next(b) < 0)
				return -1;
		} else {
			return fail(b, b->tok_line, "expected ';' after command '%s'", name);
		}
	}
	struct sieve_node node = { .line = line };
	const char *err;
	if (sieve_bind(b->a, b->prog, name, is_test, args, nargs, ntests, has_block, &node, &err) < 0)
		return fail(b, line, "%s", err);
	if ((node.op == OP_ELSIF || node.op == OP_ELSE) && prev != OP_IF && prev != OP_ELSIF)
		return fail(b, line, "'%s' must follow 'if' or 'elsif'", name);
	node.kid0 = commit_kids(b, mark);
	node.nkids = b->prog->nkids - node.kid0;
	*idx_r = add_node(b, &node);
	return 0;
}

static int parse_test(struct sieve_builder *b, unsigned depth, uint32_t *idx_r)
{
	return parse_item(b, depth, true, idx_r, 0);
}

/* require: at the start of the script only (RFC 5228 §3.2). */
static int parse_require(struct sieve_builder *b)
{
	unsigned line = b->tok_line;
	if (next(b) < 0)
		return -1;
	if (b->tok != T_STRING && b->tok != T_LBRACK)
		return fail(b, line, "require needs a string list of extensions");
	uint32_t first = b->prog->nstrs, sl;
	bool single;
	uint32_t save_exts = b->prog->exts;
	b->prog->exts &= ~(uint32_t)(EXT_ENCODED | EXT_VARIABLES); /* capability names are plain */
	if (parse_strlist(b, &sl, &single) < 0)
		return -1;
	b->prog->exts = save_exts;
	for (uint32_t i = first; i < b->prog->nstrs; i++) {
		const struct sieve_str *s = &b->prog->strs[i];
		const char *name = b->prog->blob + s->off;
		uint32_t bit = sieve_ext_bit(name, s->len);
		if (bit == 0)
			return fail(b, line, "unsupported extension \"%s\"", name);
		b->prog->exts |= bit;
	}
	if (b->tok != T_SEMI)
		return fail(b, b->tok_line, "expected ';' after require");
	return next(b);
}

static int parse_commands(struct sieve_builder *b, unsigned depth, bool top)
{
	bool at_start = top;
	enum sieve_op prev = 0;
	while (b->tok == T_IDENT) {
		if (b->text.len == 7 && memcmp(b->text.data, "require", 7) == 0) {
			if (!at_start)
				return fail(b, b->tok_line, "require must come before any other command");
			if (parse_require(b) < 0)
				return -1;
			continue;
		}
		at_start = false;
		uint32_t idx;
		if (parse_item(b, depth, false, &idx, prev) < 0)
			return -1;
		prev = b->prog->nodes[idx].op;
		push_tmp(b, idx);
	}
	return 0;
}

int sieve_compile(const char *text, size_t len, const struct sieve_limits *limits, struct arena *a,
		  struct sieve_program **prog_r, const char **error_r)
{
	struct sieve_program *pr = xcalloc(1, sizeof(*pr));
	sieve_limits_copy(&pr->limits, limits);
	if (len > pr->limits.max_script_bytes || len > UINT32_MAX / 2) {
		*error_r = arena_printf(a, "line 1: script is larger than %zu bytes", pr->limits.max_script_bytes);
		sieve_program_free(&pr);
		return -1;
	}
	struct sieve_builder b = { .a = a, .prog = pr, .p = text, .end = text + len, .line = 1 };
	int ret = next(&b);
	if (ret == 0)
		ret = parse_commands(&b, 0, true);
	if (ret == 0 && b.tok != T_EOF)
		ret = fail(&b, b.tok_line, b.tok == T_RBRACE ? "unexpected '}'" : "expected a command");
	if (ret == 0) {
		pr->root0 = commit_kids(&b, 0);
		pr->nroot = pr->nkids - pr->root0;
	}
	buf_free(&b.text);
	free(b.tmp_kids);
	if (ret < 0) {
		*error_r = arena_printf(a, "line %u: %s", b.error_line, b.error);
		sieve_program_free(&pr);
		return -1;
	}
	*prog_r = pr;
	return 1;
}
