/* fuzz_smtp.c: libFuzzer target for smtp_parse_command (src/proto/smtp).
 *
 * The input is fed whole as one command line, and then split at LF (a CR before
 * the LF dropped) as a session would. Invariants: the result is 1 or -1; an error
 * has a text; a line with a NUL byte is refused; on success the verb is a nonempty
 * run of letters at the start of the line, the verb enum matches the name, and the
 * argument lies inside the line after the verb without trailing spaces. */
#include "fuzz.h"
#include "smtp_parse.h"

#include <string.h>
#include <strings.h>

static void one_line(const char *p, size_t len)
{
	struct bytes line = { p, len };
	struct smtp_command cmd;
	memset(&cmd, 0xa5, sizeof(cmd));
	const char *error = NULL;
	int r = smtp_parse_command(line, &cmd, &error);
	CHECK(r == 1 || r == -1);
	if (r < 0) {
		CHECK(error != NULL && error[0] != '\0');
		return;
	}
	CHECK(memchr(p, '\0', len) == NULL);
	CHECK(cmd.name.p == p && cmd.name.len > 0 && cmd.name.len <= len);
	for (size_t i = 0; i < cmd.name.len; i++)
		CHECK(is_alpha((unsigned char)cmd.name.p[i]));
	CHECK(cmd.name.len == len || p[cmd.name.len] == ' ');
	CHECK(cmd.verb >= SMTP_UNKNOWN && cmd.verb < SMTP_VERB_COUNT);
	const char *canon = smtp_verb_name(cmd.verb);
	if (cmd.verb == SMTP_UNKNOWN) {
		for (int v = 1; v < SMTP_VERB_COUNT; v++)
			CHECK(!bytes_ieq(cmd.name, smtp_verb_name((enum smtp_verb)v)));
	} else {
		CHECK(strlen(canon) == cmd.name.len && strncasecmp(canon, cmd.name.p, cmd.name.len) == 0);
	}
	CHECK(view_inside(cmd.arg, p, len));
	if (cmd.arg.len > 0) {
		CHECK(cmd.arg.p == p + cmd.name.len + 1);
		CHECK(cmd.arg.p[cmd.arg.len - 1] != ' ');
	}
	/* whatever follows the argument is spaces only */
	for (const char *q = cmd.arg.p + cmd.arg.len; q < p + len; q++) {
		if (q > p + cmd.name.len)
			CHECK(*q == ' ');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	one_line(p, size);
	size_t start = 0;
	for (size_t i = 0; i < size; i++) {
		if (p[i] != '\n')
			continue;
		size_t end = i > start && p[i - 1] == '\r' ? i - 1 : i;
		one_line(p + start, end - start);
		start = i + 1;
	}
	return 0;
}
