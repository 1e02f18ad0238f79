/* pop3_parse.c: POP3 command line splitting (see pop3_parse.h). */
#include "pop3_parse.h"

#include <string.h>

int pop3_parse_command(struct bytes line, size_t arg_max, struct pop3_command *cmd_r, const char **error_r)
{
	memset(cmd_r, 0, sizeof(*cmd_r));
	if (line.len == 0) {
		*error_r = "Unknown command";
		return -1;
	}
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

void pop3_stuff_init(struct pop3_stuffer *st, long body_lines)
{
	*st = (struct pop3_stuffer){ .line_start = true, .body_lines = body_lines };
}

void pop3_stuff(struct pop3_stuffer *st, struct bytes in, struct buf *out)
{
	size_t run = 0; /* start of bytes not yet copied */
	if (st->done)
		return;
	size_t i = 0;
	while (i < in.len) {
		if (!st->line_start) {
			/* inside a line: only its end matters (memchr, not a byte loop) */
			const char *nl = memchr(in.p + i, '\n', in.len - i);
			if (nl == NULL)
				break;
			i = (size_t)(nl - in.p) + 1;
			st->line_start = true;
			continue;
		}
		char c = in.p[i];
		if (!st->in_body) {
			if (c == '\r' || c == '\n')
				st->in_body = true; /* the blank line after the header */
		} else if (st->body_lines == 0) {
			st->done = true; /* TOP: enough body lines */
			buf_append(out, in.p + run, i - run);
			return;
		} else if (st->body_lines > 0) {
			st->body_lines--;
		}
		if (c == '.') {
			buf_append(out, in.p + run, i - run);
			buf_putc(out, '.');
			run = i;
		}
		st->line_start = c == '\n';
		i++;
	}
	buf_append(out, in.p + run, in.len - run);
}

void pop3_stuff_finish(struct pop3_stuffer *st, struct buf *out)
{
	if (!st->line_start)
		buf_append(out, "\r\n", 2);
	buf_append(out, ".\r\n", 3);
}
