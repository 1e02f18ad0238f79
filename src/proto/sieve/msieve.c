/* msieve.c: the ManageSieve command parser and response formatter (msieve.h). One
 * scanner over the buffered input: it starts at the beginning on every call (the
 * server calls it again when more input arrives), jumps over literals by their
 * announced size, so a large PUTSCRIPT costs one scan of its line parts per arrival. */
#include "msieve.h"

#include <string.h>

#define NUMBER_MAX 4294967295u /* RFC 5804 §4: number = 1*DIGIT, below 2^32 */
#define QUOTED_MAX 1024        /* msieve_put_string: longer values go as literals */

struct scan {
	const char *p;
	size_t len, pos;
	size_t nonlit; /* bytes outside literals so far */
	const struct msieve_limits *l;
	struct arena *a;
	const char *error;
	size_t litsize;
};

/* Results of the scanning steps: 1 ok, 0 need more, <0 enum msieve_error. */

static int over_line(struct scan *sc)
{
	if (sc->nonlit > sc->l->line_max) {
		sc->error = "Command line too long";
		return MSIEVE_ELINE;
	}
	return 0;
}

/* Moves over one byte that belongs to the line (not a literal). */
static void take(struct scan *sc, size_t n)
{
	sc->pos += n;
	sc->nonlit += n;
}

static int syntax(struct scan *sc, const char *what)
{
	sc->error = what;
	return MSIEVE_ESYNTAX;
}

static int quoted(struct scan *sc, struct msieve_arg *arg)
{
	size_t start = sc->pos + 1, i = start, escapes = 0;
	for (;; i++) {
		if (i >= sc->len) {
			sc->nonlit += i - sc->pos;
			sc->pos = i;
			int r = over_line(sc);
			return r < 0 ? r : 0;
		}
		char ch = sc->p[i];
		if (ch == '"')
			break;
		if (ch == '\r' || ch == '\n' || ch == '\0') {
			take(sc, i - sc->pos);
			return syntax(sc, "Unterminated or invalid quoted string");
		}
		if (ch == '\\') {
			if (i + 1 >= sc->len)
				continue; /* the next pass sees the escaped byte */
			if (sc->p[i + 1] != '"' && sc->p[i + 1] != '\\') {
				take(sc, i - sc->pos);
				return syntax(sc, "Invalid escape in quoted string (only \\\" and \\\\)");
			}
			escapes++;
			i++;
		}
	}
	size_t n = i - start - escapes;
	char *out = arena_alloc(sc->a, n + 1), *o = out;
	for (size_t j = start; j < i; j++) {
		if (sc->p[j] == '\\')
			j++;
		*o++ = sc->p[j];
	}
	*o = '\0';
	arg->type = MSIEVE_STRING;
	arg->str = (struct bytes){ out, n };
	arg->literal = false;
	take(sc, i + 1 - sc->pos);
	return over_line(sc) < 0 ? MSIEVE_ELINE : 1;
}

static int literal(struct scan *sc, struct msieve_arg *arg)
{
	size_t i = sc->pos + 1;
	uint64_t n = 0;
	size_t digits = 0;
	while (i < sc->len && sc->p[i] >= '0' && sc->p[i] <= '9') {
		if (++digits > 10)
			return syntax(sc, "Literal size too large");
		n = n * 10 + (uint64_t)(sc->p[i] - '0');
		i++;
	}
	if (i < sc->len && sc->p[i] == '+')
		i++;
	if (i >= sc->len)
		return 0;
	if (digits == 0 || sc->p[i] != '}' || n > NUMBER_MAX)
		return syntax(sc, "Invalid literal");
	i++;
	if (i < sc->len && sc->p[i] == '\r')
		i++;
	if (i >= sc->len)
		return 0;
	if (sc->p[i] != '\n')
		return syntax(sc, "Literal size must end its line");
	i++;
	if (n > sc->l->literal_max) {
		sc->error = "Literal too large";
		sc->litsize = (size_t)n;
		return MSIEVE_ELITERAL;
	}
	take(sc, i - sc->pos);
	if (over_line(sc) < 0)
		return MSIEVE_ELINE;
	if (sc->len - sc->pos < n)
		return 0;
	char *out = arena_alloc(sc->a, (size_t)n + 1);
	memcpy(out, sc->p + sc->pos, (size_t)n);
	out[n] = '\0';
	arg->type = MSIEVE_STRING;
	arg->str = (struct bytes){ out, (size_t)n };
	arg->literal = true;
	sc->pos += (size_t)n;
	return 1;
}

static int number(struct scan *sc, struct msieve_arg *arg)
{
	size_t i = sc->pos;
	uint64_t n = 0;
	while (i < sc->len && sc->p[i] >= '0' && sc->p[i] <= '9') {
		n = n * 10 + (uint64_t)(sc->p[i] - '0');
		if (n > NUMBER_MAX)
			return syntax(sc, "Number too large");
		i++;
	}
	if (i >= sc->len)
		return 0;
	arg->type = MSIEVE_NUMBER;
	arg->num = n;
	take(sc, i - sc->pos);
	return 1;
}

static int argument(struct scan *sc, struct msieve_arg *arg)
{
	char ch = sc->p[sc->pos];
	if (ch == '"')
		return quoted(sc, arg);
	if (ch == '{')
		return literal(sc, arg);
	if (ch >= '0' && ch <= '9')
		return number(sc, arg);
	return syntax(sc, "Expected a string or a number");
}

/* At the end of the arguments: CRLF (or a bare LF). */
static int line_end(struct scan *sc)
{
	if (sc->pos >= sc->len)
		return 0;
	if (sc->p[sc->pos] == '\r') {
		if (sc->pos + 1 >= sc->len)
			return 0;
		if (sc->p[sc->pos + 1] != '\n')
			return syntax(sc, "Expected CRLF");
		take(sc, 2);
		return 1;
	}
	if (sc->p[sc->pos] == '\n') {
		take(sc, 1);
		return 1;
	}
	return 0; /* not the end */
}

/* The arguments after the name (or from the start for a response line). */
static int arguments(struct scan *sc, struct msieve_arg *args, size_t max, size_t *n_r, bool need_space)
{
	size_t n = 0;
	for (;;) {
		int r = line_end(sc);
		if (r != 0)
			return r < 0 ? r : 1;
		if (sc->pos >= sc->len)
			return 0;
		if (need_space) {
			if (sc->p[sc->pos] != ' ')
				return syntax(sc, "Expected a space between arguments");
			while (sc->pos < sc->len && sc->p[sc->pos] == ' ')
				take(sc, 1);
			if (over_line(sc) < 0)
				return MSIEVE_ELINE;
			if (sc->pos >= sc->len)
				return 0;
			r = line_end(sc);
			if (r != 0)
				return r < 0 ? r : 1;
			if (sc->pos >= sc->len)
				return 0;
		}
		if (n == max)
			return syntax(sc, "Too many arguments");
		r = argument(sc, &args[n]);
		if (r <= 0)
			return r;
		*n_r = ++n;
		need_space = true;
	}
}

/* After a syntax error: the command ends at the next line end outside literals; we do
 * not know the literal structure past the error, so the next LF it is. Returns 1 with
 * *used_r, 0 when the line end is not in yet, or MSIEVE_ELINE. */
static int skip_line(struct scan *sc, size_t *used_r)
{
	const char *lf = memchr(sc->p + sc->pos, '\n', sc->len - sc->pos);
	if (lf == NULL) {
		sc->nonlit += sc->len - sc->pos;
		if (over_line(sc) < 0)
			return MSIEVE_ELINE;
		return 0;
	}
	*used_r = (size_t)(lf - sc->p) + 1;
	return 1;
}

static int finish(struct scan *sc, int r, size_t *used_r, const char **error_r)
{
	if (r > 0) {
		*used_r = sc->pos;
		return 1;
	}
	if (r == 0) {
		/* need more: but not past the line limit */
		return 0;
	}
	*error_r = sc->error;
	if (r == MSIEVE_ELITERAL) {
		*used_r = sc->litsize;
		return r;
	}
	if (r == MSIEVE_ESYNTAX) {
		const char *err = sc->error;
		int s = skip_line(sc, used_r);
		if (s == 0)
			return 0;
		if (s < 0) {
			*error_r = sc->error;
			return s;
		}
		*error_r = err;
	}
	return r;
}

int msieve_parse_command(struct bytes in, const struct msieve_limits *limits, struct arena *a,
			 struct msieve_command *cmd_r, size_t *used_r, const char **error_r)
{
	struct scan sc = { .p = in.p, .len = in.len, .l = limits, .a = a };
	memset(cmd_r, 0, sizeof(*cmd_r));
	size_t i = 0;
	while (i < in.len && ((in.p[i] >= 'A' && in.p[i] <= 'Z') || (in.p[i] >= 'a' && in.p[i] <= 'z'))) {
		if (i == MSIEVE_NAME_MAX) {
			sc.error = "Unknown command";
			return finish(&sc, MSIEVE_ESYNTAX, used_r, error_r);
		}
		cmd_r->name[i] = (char)(in.p[i] & ~0x20);
		i++;
	}
	if (i == in.len) {
		if (i > limits->line_max) {
			*error_r = "Command line too long";
			return MSIEVE_ELINE;
		}
		return 0;
	}
	cmd_r->name[i] = '\0';
	take(&sc, i);
	if (i == 0) {
		/* an empty line is a syntax error like any other */
		sc.error = "Expected a command";
		return finish(&sc, MSIEVE_ESYNTAX, used_r, error_r);
	}
	int r = arguments(&sc, cmd_r->args, MSIEVE_ARGS_MAX, &cmd_r->nargs, true);
	return finish(&sc, r, used_r, error_r);
}

int msieve_parse_response(struct bytes in, const struct msieve_limits *limits, struct arena *a, struct bytes *s_r,
			  size_t *used_r, const char **error_r)
{
	struct scan sc = { .p = in.p, .len = in.len, .l = limits, .a = a };
	struct msieve_arg args[1];
	size_t n = 0;
	int r = arguments(&sc, args, 1, &n, false);
	if (r > 0 && (n != 1 || args[0].type != MSIEVE_STRING)) {
		*error_r = "Expected a string";
		*used_r = sc.pos;
		return MSIEVE_ESYNTAX;
	}
	r = finish(&sc, r, used_r, error_r);
	if (r > 0)
		*s_r = args[0].str;
	return r;
}

void msieve_put_string(struct buf *out, const char *s, size_t len)
{
	bool quote = len <= QUOTED_MAX && memchr(s, '\r', len) == NULL && memchr(s, '\n', len) == NULL &&
		     memchr(s, '\0', len) == NULL;
	if (!quote) {
		buf_printf(out, "{%zu}\r\n", len);
		buf_append(out, s, len);
		return;
	}
	buf_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_putc(out, '\\');
		buf_putc(out, s[i]);
	}
	buf_putc(out, '"');
}

void msieve_put_response(struct buf *out, const char *kind, const char *code, const char *text)
{
	buf_puts(out, kind);
	if (code != NULL) {
		buf_puts(out, " (");
		buf_puts(out, code);
		buf_putc(out, ')');
	}
	if (text != NULL) {
		buf_putc(out, ' ');
		msieve_put_string(out, text, strlen(text));
	}
	buf_puts(out, "\r\n");
}
