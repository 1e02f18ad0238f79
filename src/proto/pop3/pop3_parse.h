/* pop3_parse.h: pure parsing of POP3 command lines (RFC 1939 §3, RFC 2449 §3).
 *
 * "Commands in the POP3 consist of a case-insensitive keyword, possibly followed by
 * one or more arguments ... separated by a single SPACE character." Keywords are
 * three or four characters; each argument may be up to 40 characters (RFC 2449 §4
 * raises the limit for SASL, so the session passes a larger argument limit for AUTH
 * continuation lines). */
#ifndef POSTAMT_POP3_PARSE_H
#define POSTAMT_POP3_PARSE_H

#include "buf.h"

#include <stdbool.h>

#define POP3_MAX_ARGS 4

struct pop3_command {
	char keyword[5];  /* upper case, NUL-terminated */
	struct bytes args[POP3_MAX_ARGS];
	int nargs;
	struct bytes rest; /* everything after the keyword and one space (for PASS) */
};

/* Returns 1 with *cmd_r, or -1 with *error_r (bad keyword, too many arguments, an
 * argument longer than arg_max, or a NUL byte). */
int pop3_parse_command(struct bytes line, size_t arg_max, struct pop3_command *cmd_r, const char **error_r);

/* RETR and TOP output (RFC 1939 §3 and §7): every line that begins with "." gets
 * another "." in front, and the answer ends with CRLF "." CRLF, adding a CRLF when the
 * message does not end with one. For TOP the header, the blank line and then at most
 * `body_lines` lines of the body are sent. Fed the message in any pieces. */
struct pop3_stuffer {
	bool line_start;
	bool in_body;
	bool done;          /* TOP: enough lines sent; further input is ignored */
	long body_lines;    /* lines of the body still wanted; -1 for all (RETR) */
};

void pop3_stuff_init(struct pop3_stuffer *st, long body_lines);
/* Appends the stuffed form of in to out. */
void pop3_stuff(struct pop3_stuffer *st, struct bytes in, struct buf *out);
/* Appends the final CRLF (if needed) and "." CRLF. */
void pop3_stuff_finish(struct pop3_stuffer *st, struct buf *out);

#endif
