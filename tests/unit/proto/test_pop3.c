/* test_pop3.c: pop3_parse_command (src/proto/pop3), RFC 1939 §3, RFC 2449 §4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pop3_parse.h"

#include <stdlib.h>
#include <string.h>

#define ARG_MAX 40 /* RFC 1939 §3 */

static void assert_view(struct bytes v, const char *expected)
{
	assert_int_equal(v.len, strlen(expected));
	assert_memory_equal(v.p, expected, v.len);
}

/* Parses line and checks keyword, rest and up to four arguments (NULL ends them). */
static void ok(struct bytes line, const char *keyword, const char *rest, const char *a0, const char *a1,
	       const char *a2, const char *a3)
{
	struct pop3_command cmd;
	const char *error = NULL;
	assert_int_equal(pop3_parse_command(line, ARG_MAX, &cmd, &error), 1);
	assert_string_equal(cmd.keyword, keyword);
	assert_view(cmd.rest, rest);
	const char *args[] = { a0, a1, a2, a3 };
	int n = 0;
	while (n < 4 && args[n] != NULL) {
		assert_view(cmd.args[n], args[n]);
		n++;
	}
	assert_int_equal(cmd.nargs, n);
}

static void bad(struct bytes line, size_t arg_max, const char *expected_error)
{
	struct pop3_command cmd;
	const char *error = NULL;
	assert_int_equal(pop3_parse_command(line, arg_max, &cmd, &error), -1);
	assert_non_null(error);
	assert_string_equal(error, expected_error);
}

static void test_accepted(void **state)
{
	(void)state;
	ok(BYTES("USER demo@example.test"), "USER", "demo@example.test", "demo@example.test", NULL, NULL, NULL);
	ok(BYTES("STAT"), "STAT", "", NULL, NULL, NULL, NULL);
	ok(BYTES("LIST 1"), "LIST", "1", "1", NULL, NULL, NULL);
	ok(BYTES("TOP 1 10"), "TOP", "1 10", "1", "10", NULL, NULL);
	ok(BYTES("APOP mrose c4c9334bac560ecc979e58001b3e22fb"), "APOP", "mrose c4c9334bac560ecc979e58001b3e22fb",
	   "mrose", "c4c9334bac560ecc979e58001b3e22fb", NULL, NULL);
	ok(BYTES("CAPA"), "CAPA", "", NULL, NULL, NULL, NULL);
	ok(BYTES("STLS"), "STLS", "", NULL, NULL, NULL, NULL);
	ok(BYTES("QUIT"), "QUIT", "", NULL, NULL, NULL, NULL);
	/* four arguments is the most */
	ok(BYTES("XTND a b c d"), "XTND", "a b c d", "a", "b", "c", "d");
}

static void test_case_and_spaces(void **state)
{
	(void)state;
	ok(BYTES("user x"), "USER", "x", "x", NULL, NULL, NULL);
	ok(BYTES("Retr 2"), "RETR", "2", "2", NULL, NULL, NULL);
	/* PASS takes the rest of the line, spaces included (RFC 1939 §7) */
	ok(BYTES("PASS secret with spaces"), "PASS", "secret with spaces", "secret", "with", "spaces", NULL);
	ok(BYTES("PASS  lead"), "PASS", " lead", "lead", NULL, NULL, NULL);
	ok(BYTES("LIST   "), "LIST", "  ", NULL, NULL, NULL, NULL);
	ok(BYTES("TOP 1   10 "), "TOP", "1   10 ", "1", "10", NULL, NULL);
}

static void test_rejected(void **state)
{
	(void)state;
	bad(BYTES(""), ARG_MAX, "Unknown command");
	bad(BYTES("QU"), ARG_MAX, "Unknown command");
	bad(BYTES("QUITS"), ARG_MAX, "Unknown command");
	bad(BYTES("QU1T"), ARG_MAX, "Unknown command");
	bad(BYTES(" QUIT"), ARG_MAX, "Unknown command");
	bad(BYTES("QUIT\r"), ARG_MAX, "Unknown command");
	bad(BYTES("US\xc3\x89R x"), ARG_MAX, "Unknown command");
	bad(BYTES("TOP 1 2 3 4 5"), ARG_MAX, "Too many arguments");
	bad(BYTES("USER 12345678901234567890123456789012345678901"), ARG_MAX, "Argument too long");
	ok(BYTES("USER 1234567890123456789012345678901234567890"), "USER", "1234567890123456789012345678901234567890",
	   "1234567890123456789012345678901234567890", NULL, NULL, NULL);
}

static void test_sasl_arg_max(void **state)
{
	(void)state;
	/* a SASL response line is longer than 40; the session passes a larger limit */
	char line[300];
	memcpy(line, "AUTH PLAIN ", 11);
	memset(line + 11, 'Q', 200);
	struct pop3_command cmd;
	const char *error;
	assert_int_equal(pop3_parse_command((struct bytes){ line, 211 }, 255, &cmd, &error), 1);
	assert_int_equal(cmd.nargs, 2);
	assert_int_equal(cmd.args[1].len, 200);
	bad((struct bytes){ line, 211 }, ARG_MAX, "Argument too long");
}

static void test_nul_bytes(void **state)
{
	(void)state;
	bad(BYTES("USER a\0b"), ARG_MAX, "NUL byte in command");
	bad(BYTES("\0USER"), ARG_MAX, "NUL byte in command");
	bad(BYTES("PASS x\0"), 1000, "NUL byte in command");
}

static void test_long_input(void **state)
{
	(void)state;
	static char line[1024 * 1024];
	size_t n = sizeof(line);
	memset(line, ' ', n);
	memcpy(line, "NOOP", 4);
	struct pop3_command cmd;
	const char *error;
	assert_int_equal(pop3_parse_command((struct bytes){ line, n }, ARG_MAX, &cmd, &error), 1);
	assert_int_equal(cmd.nargs, 0);
	assert_int_equal(cmd.rest.len, n - 5);
	memset(line + 5, 'x', n - 5);
	bad((struct bytes){ line, n }, ARG_MAX, "Argument too long");
	memset(line, 'U', n);
	bad((struct bytes){ line, n }, ARG_MAX, "Unknown command");
}

/* An empty view may have a NULL pointer (an empty struct buf has data == NULL).
 * Passing it to memchr() or doing arithmetic on it is undefined behaviour that the
 * sanitizer build reports; the parser must answer without touching the pointer. */
static void test_empty_null_view(void **state)
{
	(void)state;
	bad((struct bytes){ NULL, 0 }, ARG_MAX, "Unknown command");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted), cmocka_unit_test(test_case_and_spaces),
		cmocka_unit_test(test_rejected), cmocka_unit_test(test_sasl_arg_max),
		cmocka_unit_test(test_nul_bytes), cmocka_unit_test(test_long_input), cmocka_unit_test(test_empty_null_view),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
