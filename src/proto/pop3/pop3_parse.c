/* pop3_parse.c: POP3 command line splitting (see pop3_parse.h). */
#include "pop3_parse.h"

#include <string.h>

int pop3_parse_command(struct bytes line, size_t arg_max, struct pop3_command *cmd_r, const char **error_r)
{
	memset(cmd_r, 0, sizeof(*cmd_r));
	if (memchr(line.p, '\0', line.len) != NULL) {
		*error_r = "NUL byte in command";
		return -1;
	}
	size_t i = 0;
	while (i < line.len && line.p[i] != ' ') {
		char c = line.p[i];
		if (i >= 4 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
			*error_r = "Unknown command";
			return -1;
		}
		cmd_r->keyword[i] = (char)(c & ~0x20);
		i++;
	}
	if (i < 3) {
		*error_r = "Unknown command";
		return -1;
	}
	if (i < line.len)
		i++; /* the space after the keyword */
	cmd_r->rest = (struct bytes){ line.p + i, line.len - i };
	while (i < line.len) {
		size_t start = i;
		while (i < line.len && line.p[i] != ' ')
			i++;
		if (i > start) {
			if (cmd_r->nargs == POP3_MAX_ARGS) {
				*error_r = "Too many arguments";
				return -1;
			}
			if (i - start > arg_max) {
				*error_r = "Argument too long";
				return -1;
			}
			cmd_r->args[cmd_r->nargs++] = (struct bytes){ line.p + start, i - start };
		}
		while (i < line.len && line.p[i] == ' ')
			i++;
	}
	return 1;
}
