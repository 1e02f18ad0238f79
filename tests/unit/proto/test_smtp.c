/* test_smtp.c: smtp_parse_command (src/proto/smtp), RFC 5321 §4.1.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "smtp_parse.h"

#include <stdlib.h>
#include <string.h>

static void assert_view(struct bytes v, const char *expected)
{
	assert_int_equal(v.len, strlen(expected));
	assert_memory_equal(v.p, expected, v.len);
}

static void ok(struct bytes line, enum smtp_verb verb, const char *name, const char *arg)
{
	struct smtp_command cmd;
	const char *error = NULL;
	assert_int_equal(smtp_parse_command(line, &cmd, &error), 1);
	assert_int_equal(cmd.verb, verb);
	assert_view(cmd.name, name);
	assert_view(cmd.arg, arg);
	assert_ptr_equal(cmd.name.p, line.p);
}

static void bad(struct bytes line, const char *expected_error)
{
	struct smtp_command cmd;
	const char *error = NULL;
	assert_int_equal(smtp_parse_command(line, &cmd, &error), -1);
	assert_non_null(error);
	assert_string_equal(error, expected_error);
}

static void test_accepted(void **state)
{
	(void)state;
	ok(BYTES("EHLO client.example.org"), SMTP_EHLO, "EHLO", "client.example.org");
	ok(BYTES("HELO [192.0.2.1]"), SMTP_HELO, "HELO", "[192.0.2.1]");
	ok(BYTES("MAIL FROM:<alice@example.test> SIZE=1024 BODY=8BITMIME"), SMTP_MAIL, "MAIL",
	   "FROM:<alice@example.test> SIZE=1024 BODY=8BITMIME");
	ok(BYTES("MAIL FROM: <alice@example.test>"), SMTP_MAIL, "MAIL", "FROM: <alice@example.test>");
	ok(BYTES("MAIL FROM:<>"), SMTP_MAIL, "MAIL", "FROM:<>");
	ok(BYTES("RCPT TO:<bob@example.test>"), SMTP_RCPT, "RCPT", "TO:<bob@example.test>");
	ok(BYTES("DATA"), SMTP_DATA, "DATA", "");
	ok(BYTES("BDAT 1000 LAST"), SMTP_BDAT, "BDAT", "1000 LAST");
	ok(BYTES("AUTH PLAIN AGRlbW8Ac2VjcmV0"), SMTP_AUTH, "AUTH", "PLAIN AGRlbW8Ac2VjcmV0");
	ok(BYTES("STARTTLS"), SMTP_STARTTLS, "STARTTLS", "");
	ok(BYTES("VRFY postmaster"), SMTP_VRFY, "VRFY", "postmaster");
	ok(BYTES("EXPN list"), SMTP_EXPN, "EXPN", "list");
	ok(BYTES("HELP"), SMTP_HELP, "HELP", "");
	ok(BYTES("RSET"), SMTP_RSET, "RSET", "");
	ok(BYTES("QUIT"), SMTP_QUIT, "QUIT", "");
}

static void test_case_and_spaces(void **state)
{
	(void)state;
	ok(BYTES("ehlo x"), SMTP_EHLO, "ehlo", "x");
	ok(BYTES("StartTls"), SMTP_STARTTLS, "StartTls", "");
	/* trailing spaces are trimmed, one separating space is skipped, the rest kept */
	ok(BYTES("NOOP   "), SMTP_NOOP, "NOOP", "");
	ok(BYTES("QUIT "), SMTP_QUIT, "QUIT", "");
	ok(BYTES("HELO x  "), SMTP_HELO, "HELO", "x");
	ok(BYTES("RCPT  TO:<a@b>"), SMTP_RCPT, "RCPT", " TO:<a@b>");
	/* a tab is part of the argument, not a separator */
	ok(BYTES("HELO x\t"), SMTP_HELO, "HELO", "x\t");
}

static void test_unknown_verbs(void **state)
{
	(void)state;
	ok(BYTES("XCLIENT ADDR=192.0.2.1"), SMTP_UNKNOWN, "XCLIENT", "ADDR=192.0.2.1");
	ok(BYTES("HELOX"), SMTP_UNKNOWN, "HELOX", "");
	ok(BYTES("HEL"), SMTP_UNKNOWN, "HEL", "");
	ok(BYTES("TURN"), SMTP_UNKNOWN, "TURN", "");
}

static void test_verb_names(void **state)
{
	(void)state;
	for (int v = 1; v < SMTP_VERB_COUNT; v++) {
		const char *name = smtp_verb_name((enum smtp_verb)v);
		assert_true(name[0] != '\0');
		struct smtp_command cmd;
		const char *error;
		assert_int_equal(smtp_parse_command((struct bytes){ name, strlen(name) }, &cmd, &error), 1);
		assert_int_equal(cmd.verb, v);
	}
	assert_string_equal(smtp_verb_name(SMTP_UNKNOWN), "");
	assert_string_equal(smtp_verb_name(SMTP_VERB_COUNT), "");
	assert_string_equal(smtp_verb_name(SMTP_STARTTLS), "STARTTLS");
}

static void test_rejected(void **state)
{
	(void)state;
	bad(BYTES(""), "empty command");
	bad(BYTES(" HELO x"), "empty command");
	bad(BYTES(" "), "empty command");
	bad(BYTES("MA1L FROM:<a@b>"), "syntax error in command verb");
	bad(BYTES("HELO\tx"), "syntax error in command verb");
	bad(BYTES("MAIL:FROM"), "syntax error in command verb");
	bad(BYTES("H\xc3\x89LO x"), "syntax error in command verb");
	/* the session strips CRLF; a CR left in the verb is not a letter */
	bad(BYTES("NOOP\r"), "syntax error in command verb");
}

static void test_nul_bytes(void **state)
{
	(void)state;
	bad(BYTES("MAIL FROM:<a\0b@example.test>"), "NUL byte in command");
	bad(BYTES("\0"), "NUL byte in command");
	bad(BYTES("QUIT\0"), "NUL byte in command");
	bad(BYTES("RCPT TO:<a@b> \0"), "NUL byte in command");
}

static void test_long_input(void **state)
{
	(void)state;
	static char line[1024 * 1024];
	size_t n = sizeof(line);
	memset(line, 'a', n);
	memcpy(line, "HELO ", 5);
	struct smtp_command cmd;
	const char *error;
	assert_int_equal(smtp_parse_command((struct bytes){ line, n }, &cmd, &error), 1);
	assert_int_equal(cmd.verb, SMTP_HELO);
	assert_int_equal(cmd.arg.len, n - 5);
	assert_ptr_equal(cmd.arg.p, line + 5);
	/* a 1 MiB verb of letters is well-formed and unknown */
	memset(line, 'X', n);
	assert_int_equal(smtp_parse_command((struct bytes){ line, n }, &cmd, &error), 1);
	assert_int_equal(cmd.verb, SMTP_UNKNOWN);
	assert_int_equal(cmd.name.len, n);
}

/* An empty view may have a NULL pointer (an empty struct buf has data == NULL).
 * Passing it to memchr() or doing arithmetic on it is undefined behaviour that the
 * sanitizer build reports; the parser must answer without touching the pointer. */
static void test_empty_null_view(void **state)
{
	(void)state;
	bad((struct bytes){ NULL, 0 }, "empty command");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),     cmocka_unit_test(test_case_and_spaces),
		cmocka_unit_test(test_unknown_verbs), cmocka_unit_test(test_verb_names),
		cmocka_unit_test(test_rejected),     cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_long_input), cmocka_unit_test(test_empty_null_view),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
