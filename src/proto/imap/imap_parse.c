/* imap_parse.c: tag and command name (see imap_parse.h).
 *
 * RFC 9051 §9: tag = 1*<any ASTRING-CHAR except "+">; ASTRING-CHAR = ATOM-CHAR /
 * resp-specials; ATOM-CHAR = <any CHAR except atom-specials>; atom-specials = "(" /
 * ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials. */
#include "imap_parse.h"

#include <string.h>

bool imap_is_atom_char(unsigned char c)
{
	if (c <= 0x1f || c >= 0x7f)
		return false;
	return strchr("(){ %*\"\\]", c) == NULL;
}

static bool is_tag_char(unsigned char c)
{
	return (imap_is_atom_char(c) || c == ']') && c != '+';
}

int imap_parse_command_line(struct bytes line, struct imap_command_line *cmd_r, const char **error_r)
{
	memset(cmd_r, 0, sizeof(*cmd_r));
	cmd_r->tag = BYTES("*");
	if (line.len == 0)
		return 0;
	size_t i = 0;
	while (i < line.len && line.p[i] != ' ') {
		if (!is_tag_char((unsigned char)line.p[i])) {
			*error_r = "Invalid tag";
			return -1;
		}
		i++;
	}
	if (i == 0) {
		*error_r = "Missing tag";
		return -1;
	}
	cmd_r->tag = (struct bytes){ line.p, i };
	if (i == line.len) {
		*error_r = "Missing command";
		return -1;
	}
	i++;
	size_t start = i;
	while (i < line.len && line.p[i] != ' ') {
		if (!imap_is_atom_char((unsigned char)line.p[i])) {
			*error_r = "Invalid command name";
			return -1;
		}
		i++;
	}
	if (i == start) {
		*error_r = "Missing command";
		return -1;
	}
	cmd_r->name = (struct bytes){ line.p + start, i - start };
	if (i < line.len)
		i++;
	cmd_r->args = (struct bytes){ line.p + i, line.len - i };
	return 1;
}
