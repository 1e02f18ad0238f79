/* smtp_parse.c: SMTP command line splitting (see smtp_parse.h).
 *
 * RFC 5321 §4.1.1: "verb SP argument CRLF"; verbs are case-insensitive letters.
 * A few clients send "MAIL FROM: <a@b>" with a space after the colon; the argument
 * is passed on as sent and the MAIL/RCPT parsers deal with that. */
#include "smtp_parse.h"

#include <string.h>

static const char *const verb_names[SMTP_VERB_COUNT] = {
	[SMTP_UNKNOWN] = "", [SMTP_HELO] = "HELO", [SMTP_EHLO] = "EHLO", [SMTP_MAIL] = "MAIL",
	[SMTP_RCPT] = "RCPT", [SMTP_DATA] = "DATA", [SMTP_BDAT] = "BDAT", [SMTP_RSET] = "RSET",
	[SMTP_NOOP] = "NOOP", [SMTP_QUIT] = "QUIT", [SMTP_VRFY] = "VRFY", [SMTP_EXPN] = "EXPN",
	[SMTP_HELP] = "HELP", [SMTP_STARTTLS] = "STARTTLS", [SMTP_AUTH] = "AUTH",
};

const char *smtp_verb_name(enum smtp_verb verb)
{
	return verb < SMTP_VERB_COUNT ? verb_names[verb] : "";
}

int smtp_parse_command(struct bytes line, struct smtp_command *cmd_r, const char **error_r)
{
	if (line.len == 0) {
		*error_r = "empty command";
		return -1;
	}
	if (memchr(line.p, '\0', line.len) != NULL) {
		*error_r = "NUL byte in command";
		return -1;
	}
	size_t i = 0;
	while (i < line.len && line.p[i] != ' ') {
		char c = line.p[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
			*error_r = "syntax error in command verb";
			return -1;
		}
		i++;
	}
	if (i == 0) {
		*error_r = "empty command";
		return -1;
	}
	cmd_r->name = (struct bytes){ line.p, i };
	cmd_r->verb = SMTP_UNKNOWN;
	for (int v = 1; v < SMTP_VERB_COUNT; v++) {
		if (bytes_ieq(cmd_r->name, verb_names[v])) {
			cmd_r->verb = (enum smtp_verb)v;
			break;
		}
	}
	struct bytes arg = { line.p + i, line.len - i };
	if (arg.len > 0) { /* skip the one separating space */
		arg.p++;
		arg.len--;
	}
	while (arg.len > 0 && arg.p[arg.len - 1] == ' ')
		arg.len--;
	cmd_r->arg = arg;
	return 1;
}
