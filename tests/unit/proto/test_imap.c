/* test_imap.c: imap_parse_command_line (src/proto/imap), RFC 9051 §9. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "imap_parse.h"

#include <stdlib.h>
#include <string.h>

static void assert_view(struct bytes v, const char *expected)
{
	assert_int_equal(v.len, strlen(expected));
	assert_memory_equal(v.p, expected, v.len);
}

static void ok(struct bytes line, const char *tag, const char *name, const char *args)
{
	struct imap_command_line cmd;
	const char *error = NULL;
	assert_int_equal(imap_parse_command_line(line, &cmd, &error), 1);
	assert_view(cmd.tag, tag);
	assert_view(cmd.name, name);
	assert_view(cmd.args, args);
}

/* tag is the tag reported with the error: "*" when there is no valid tag */
static void bad(struct bytes line, const char *tag, const char *expected_error)
{
	struct imap_command_line cmd;
	const char *error = NULL;
	assert_int_equal(imap_parse_command_line(line, &cmd, &error), -1);
	assert_non_null(error);
	assert_string_equal(error, expected_error);
	assert_view(cmd.tag, tag);
}

static void test_accepted(void **state)
{
	(void)state;
	ok(BYTES("a001 LOGIN demo@example.test secret"), "a001", "LOGIN", "demo@example.test secret");
	ok(BYTES("A1 CAPABILITY"), "A1", "CAPABILITY", "");
	ok(BYTES("x select INBOX"), "x", "select", "INBOX");
	ok(BYTES("a3 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER])"), "a3", "UID", "FETCH 1:* (FLAGS BODY.PEEK[HEADER])");
	/* literals are left to the command's own argument parser */
	ok(BYTES("a4 APPEND INBOX (\\Seen) {11}"), "a4", "APPEND", "INBOX (\\Seen) {11}");
	ok(BYTES("a5 LIST \"\" \"*\""), "a5", "LIST", "\"\" \"*\"");
	/* a trailing space ends the name; the arguments are empty */
	ok(BYTES("a6 NOOP "), "a6", "NOOP", "");
	/* more than one space: only the first is the separator */
	ok(BYTES("a7 NOOP  x"), "a7", "NOOP", " x");
}

static void test_tags(void **state)
{
	(void)state;
	/* tag = 1*<any ASTRING-CHAR except "+">; ASTRING-CHAR includes "]" */
	ok(BYTES("a]b NOOP"), "a]b", "NOOP", "");
	ok(BYTES("] NOOP"), "]", "NOOP", "");
	ok(BYTES("a.b-c_d!#$&'=/?@[^`|~ NOOP"), "a.b-c_d!#$&'=/?@[^`|~", "NOOP", "");
	bad(BYTES("+ NOOP"), "*", "Invalid tag");
	bad(BYTES("a+b NOOP"), "*", "Invalid tag");
	bad(BYTES("* NOOP"), "*", "Invalid tag");
	bad(BYTES("a{1} NOOP"), "*", "Invalid tag");
	bad(BYTES("a(b NOOP"), "*", "Invalid tag");
	bad(BYTES("a%b NOOP"), "*", "Invalid tag");
	bad(BYTES("\"a\" NOOP"), "*", "Invalid tag");
	bad(BYTES("a\\b NOOP"), "*", "Invalid tag");
	bad(BYTES("a\tb NOOP"), "*", "Invalid tag");
	bad(BYTES("t\xc3\xa4g NOOP"), "*", "Invalid tag");
	bad(BYTES(" NOOP"), "*", "Missing tag");
}

static void test_rejected(void **state)
{
	(void)state;
	struct imap_command_line cmd;
	const char *error = NULL;
	assert_int_equal(imap_parse_command_line(BYTES(""), &cmd, &error), 0);
	bad(BYTES("tag"), "tag", "Missing command");
	bad(BYTES("tag "), "tag", "Missing command");
	bad(BYTES("a  NOOP"), "a", "Missing command");
	bad(BYTES("a NO(OP"), "a", "Invalid command name");
	bad(BYTES("a NOOP\r"), "a", "Invalid command name");
	bad(BYTES("a NO\"OP"), "a", "Invalid command name");
	bad(BYTES("a NOOP]"), "a", "Invalid command name");
	bad(BYTES("a {5}"), "a", "Invalid command name");
}

static void test_atom_chars(void **state)
{
	(void)state;
	const char *specials = "(){ %*\"\\]";
	for (const char *s = specials; *s; s++)
		assert_false(imap_is_atom_char((unsigned char)*s));
	for (unsigned c = 0; c < 0x20; c++)
		assert_false(imap_is_atom_char((unsigned char)c));
	assert_false(imap_is_atom_char(0x7f));
	assert_false(imap_is_atom_char(0x80));
	assert_false(imap_is_atom_char(0xff));
	assert_true(imap_is_atom_char('A'));
	assert_true(imap_is_atom_char('['));
	assert_true(imap_is_atom_char('+'));
	assert_true(imap_is_atom_char('.'));
	assert_true(imap_is_atom_char('~'));
}

static void test_nul_bytes(void **state)
{
	(void)state;
	bad(BYTES("a\0 NOOP"), "*", "Invalid tag");
	bad(BYTES("\0"), "*", "Invalid tag");
	bad(BYTES("a NO\0OP"), "a", "Invalid command name");
	/* NUL inside the arguments is for the command's parser to refuse (no NUL in
	 * IMAP text outside literal8) */
	struct imap_command_line cmd;
	const char *error = NULL;
	assert_int_equal(imap_parse_command_line(BYTES("a LOGIN x\0y"), &cmd, &error), 1);
	assert_int_equal(cmd.args.len, 3);
	assert_memory_equal(cmd.args.p, "x\0y", 3);
}

static void test_long_input(void **state)
{
	(void)state;
	static char line[1024 * 1024];
	size_t n = sizeof(line);
	memset(line, 't', n);
	struct imap_command_line cmd;
	const char *error = NULL;
	assert_int_equal(imap_parse_command_line((struct bytes){ line, n }, &cmd, &error), -1);
	assert_string_equal(error, "Missing command");
	assert_int_equal(cmd.tag.len, n);
	line[n - 5] = ' ';
	assert_int_equal(imap_parse_command_line((struct bytes){ line, n }, &cmd, &error), 1);
	assert_int_equal(cmd.tag.len, n - 5);
	assert_int_equal(cmd.name.len, 4);
}

/* An empty view may have a NULL pointer (an empty struct buf has data == NULL).
 * Passing it to memchr() or doing arithmetic on it is undefined behaviour that the
 * sanitizer build reports; the parser must answer without touching the pointer. */
static void test_empty_null_view(void **state)
{
	(void)state;
	struct imap_command_line cmd;
	const char *error = NULL;
	assert_int_equal(imap_parse_command_line((struct bytes){ NULL, 0 }, &cmd, &error), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),   cmocka_unit_test(test_tags),
		cmocka_unit_test(test_rejected),   cmocka_unit_test(test_atom_chars),
		cmocka_unit_test(test_nul_bytes),  cmocka_unit_test(test_long_input), cmocka_unit_test(test_empty_null_view),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
