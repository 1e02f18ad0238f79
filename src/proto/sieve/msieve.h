/* msieve.h: pure parsing and formatting of ManageSieve (RFC 5804) without sockets.
 *
 * A command (RFC 5804 §4) is a case-insensitive atom, then arguments separated by a
 * space: strings (quoted with the escapes \" and \\, or literals "{n}" / "{n+}" CRLF
 * followed by n octets) and numbers, then CRLF. A literal may be followed by more
 * arguments on the same line. The parser works on whatever input is buffered: it says
 * "need more" until the whole command, literals included, is there, so the server
 * never acts on half a command; both literal forms are read without a continuation
 * (RFC 5804 §4 allows only "{n+}" from clients; some send "{n}"). Limits: the bytes
 * of the command outside literals (line_max) and of each literal (literal_max), both
 * checked as soon as the bytes or the literal's announced size are seen, so a client
 * cannot make the server buffer more than line_max + literal_max per argument. */
#ifndef POSTAMT_MSIEVE_H
#define POSTAMT_MSIEVE_H

#include "arena.h"
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSIEVE_ARGS_MAX 4
#define MSIEVE_NAME_MAX 16

enum msieve_error {
	MSIEVE_ESYNTAX = -1,  /* a malformed command: *used_r covers the rest of its line, skip it and answer NO */
	MSIEVE_ELINE = -2,    /* over line_max without the end of the command: answer BYE and close */
	MSIEVE_ELITERAL = -3, /* a literal announced over literal_max: answer and close (its bytes follow) */
};

struct msieve_limits {
	size_t line_max;    /* bytes of a command outside its literals, CRLF included */
	size_t literal_max; /* bytes of one literal */
};

enum msieve_arg_type { MSIEVE_STRING = 1, MSIEVE_NUMBER = 2 };

struct msieve_arg {
	enum msieve_arg_type type;
	struct bytes str; /* STRING: the value (unescaped; NUL-terminated in the arena or the input) */
	uint64_t num;     /* NUMBER */
	bool literal;     /* STRING: came as a literal */
};

struct msieve_command {
	char name[MSIEVE_NAME_MAX + 1]; /* upper case */
	struct msieve_arg args[MSIEVE_ARGS_MAX];
	size_t nargs;
};

/* Parses one command from the start of in. Returns 1 with *cmd_r and *used_r (the
 * bytes it took, CRLF included; strings point into the arena), 0 when more input is
 * needed, or an enum msieve_error with *error_r (static text) and, for
 * MSIEVE_ESYNTAX, *used_r. The literal size of a refused literal is in *used_r for
 * MSIEVE_ELITERAL (for the log). Strings are copied into a (cleared by the caller
 * per command). */
int msieve_parse_command(struct bytes in, const struct msieve_limits *limits, struct arena *a,
			 struct msieve_command *cmd_r, size_t *used_r, const char **error_r);

/* Parses a client's SASL response line (RFC 5804 §2.1: one string, then CRLF). Same
 * returns as msieve_parse_command, with the string in *s_r. */
int msieve_parse_response(struct bytes in, const struct msieve_limits *limits, struct arena *a, struct bytes *s_r,
			  size_t *used_r, const char **error_r);

/* Appends s as a ManageSieve string: quoted when it is short and holds no CR, LF or
 * NUL (with \ and " escaped), else a literal "{n}" CRLF s. */
void msieve_put_string(struct buf *out, const char *s, size_t len);

/* Appends a response line (RFC 5804 §4: "OK" / "NO" / "BYE", an optional response
 * code in parentheses, e.g. "QUOTA/MAXSIZE" or `TAG "x"` written by the caller as
 * code, an optional human-readable text as a string) and CRLF. code and text may be
 * NULL. */
void msieve_put_response(struct buf *out, const char *kind, const char *code, const char *text);

#endif
