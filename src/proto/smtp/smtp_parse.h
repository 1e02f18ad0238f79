/* smtp_parse.h: pure parsing of SMTP command lines (RFC 5321 §4.1).
 *
 * No sockets, no store: a line (without CRLF) goes in, a verb and its argument come
 * out. The SMTP server looks the verb up in its command table. */
#ifndef POSTAMT_SMTP_PARSE_H
#define POSTAMT_SMTP_PARSE_H

#include "buf.h"

enum smtp_verb {
	SMTP_UNKNOWN, SMTP_HELO, SMTP_EHLO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_BDAT, SMTP_RSET,
	SMTP_NOOP, SMTP_QUIT, SMTP_VRFY, SMTP_EXPN, SMTP_HELP, SMTP_STARTTLS, SMTP_AUTH,
	SMTP_VERB_COUNT
};

struct smtp_command {
	enum smtp_verb verb;
	struct bytes name; /* the verb as sent */
	struct bytes arg;  /* after the first space, trailing spaces trimmed; may be empty */
};

/* Splits a command line. Returns 1 with *cmd_r (views into line), or -1 with *error_r
 * for a line that is not a command at all (empty, a verb with bytes other than
 * letters, or a NUL byte anywhere). An unknown but well-formed verb returns 1 with
 * SMTP_UNKNOWN. */
int smtp_parse_command(struct bytes line, struct smtp_command *cmd_r, const char **error_r);
/* The canonical upper-case name of a verb. */
const char *smtp_verb_name(enum smtp_verb verb);

#endif
