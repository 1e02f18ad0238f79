/* fuzz_imap.c: libFuzzer target for imap_parse_command_line (src/proto/imap).
 *
 * Each CRLF/LF-terminated line of the input, and the input as one line, is parsed.
 * Invariants (RFC 9051 §9): 0 exactly for an empty line; on error a text, and a tag
 * that is either "*" or a valid tag at the start of the line; on success the tag is
 * 1*<ASTRING-CHAR except "+"> at the start, one space, the command name is 1*ATOM-CHAR,
 * and the arguments run from after one more space to the end of the line. */
#include "fuzz.h"
#include "imap_parse.h"

#include <string.h>

/* Independent reading of the grammar, not the parser's own helpers. */
static bool atom_char(unsigned char c)
{
	if (c < 0x20 || c > 0x7e)
		return false;
	return c != '(' && c != ')' && c != '{' && c != ' ' && c != '%' && c != '*' && c != '"' &&
	       c != '\\' && c != ']';
}

static bool tag_char(unsigned char c)
{
	return (atom_char(c) || c == ']') && c != '+';
}

static void one_line(const char *p, size_t len)
{
	struct imap_command_line cmd;
	memset(&cmd, 0xa5, sizeof(cmd));
	const char *error = NULL;
	int r = imap_parse_command_line((struct bytes){ p, len }, &cmd, &error);
	CHECK(r >= -1 && r <= 1);
	CHECK((r == 0) == (len == 0));
	if (r == 0)
		return;
	if (bytes_eq(cmd.tag, "*") && cmd.tag.p != p) {
		CHECK(r < 0);
	} else {
		CHECK(cmd.tag.p == p && cmd.tag.len > 0 && cmd.tag.len <= len);
		for (size_t i = 0; i < cmd.tag.len; i++)
			CHECK(tag_char((unsigned char)cmd.tag.p[i]));
		CHECK(cmd.tag.len == len || p[cmd.tag.len] == ' ');
	}
	if (r < 0) {
		CHECK(error != NULL && error[0] != '\0');
		return;
	}
	CHECK(cmd.name.p == p + cmd.tag.len + 1 && cmd.name.len > 0);
	CHECK(view_inside(cmd.name, p, len));
	for (size_t i = 0; i < cmd.name.len; i++)
		CHECK(atom_char((unsigned char)cmd.name.p[i]));
	CHECK(view_inside(cmd.args, p, len));
	CHECK(cmd.args.p + cmd.args.len == p + len);
	if (cmd.args.len > 0)
		CHECK(cmd.args.p == cmd.name.p + cmd.name.len + 1 && cmd.args.p[-1] == ' ');
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	for (unsigned c = 0; c < 256; c++)
		CHECK(imap_is_atom_char((unsigned char)c) == atom_char((unsigned char)c));
	return 0;
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
