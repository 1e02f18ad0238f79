/* imap_parse.h: pure parsing of the start of an IMAP command (RFC 9051 §9:
 * command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF).
 *
 * This first layer reads the tag and the command name; the arguments are parsed by
 * each command. */
#ifndef POSTAMT_IMAP_PARSE_H
#define POSTAMT_IMAP_PARSE_H

#include "buf.h"

#include <stdbool.h>

struct imap_command_line {
	struct bytes tag;
	struct bytes name; /* e.g. "UID" for "UID FETCH": the first atom only */
	struct bytes args; /* after the name and one space; may be empty */
};

/* True for a byte allowed in an atom (RFC 9051 ATOM-CHAR). */
bool imap_is_atom_char(unsigned char c);
/* Returns 1 with *cmd_r; 0 when line is empty; -1 with *error_r when there is no
 * valid tag (then *cmd_r->tag is "*"), or the name is missing or malformed (tag is
 * set). */
int imap_parse_command_line(struct bytes line, struct imap_command_line *cmd_r, const char **error_r);

#endif
