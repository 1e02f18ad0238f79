/* test_msieve.c: the ManageSieve parser and formatter (src/proto/sieve/msieve.c):
 * commands with quoted strings, both literal forms and numbers, every input fed one
 * byte at a time (need more until the end, then the same result), syntax errors
 * skipped to the line end, the line and literal limits, SASL response lines, and
 * the formatter's quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "msieve.h"

static const struct msieve_limits lim = { .line_max = 64, .literal_max = 100 };

/* the arena of the parsed strings, emptied after each test */
static struct arena *A;

static int setup(void **state)
{
	A = arena_new();
	return 0;
}

static int teardown(void **state)
{
	arena_free(&A);
	return 0;
}

/* Parses s whole, then every prefix must say "need more" (or the same error). */
static int parse(const char *s, struct msieve_command *cmd, size_t *used, const char **err)
{
	struct arena *a = A;
	size_t len = strlen(s);
	int r = msieve_parse_command((struct bytes){ s, len }, &lim, a, cmd, used, err);
	for (size_t i = 0; i < len; i++) {
		struct msieve_command c2;
		size_t u2 = 0;
		const char *e2;
		int r2 = msieve_parse_command((struct bytes){ s, i }, &lim, a, &c2, &u2, &e2);
		if (r > 0 && i >= *used) {
			/* a prefix that holds the whole command (pipelined input after it) */
			assert_int_equal(r2, 1);
			assert_int_equal(u2, *used);
		} else if (r2 != 0) {
			/* a prefix may fail only the way the whole does */
			assert_true(r < 0);
			assert_int_equal(r2, r);
		}
	}
	return r;
}

static void test_commands(void **state)
{
	(void)state;
	struct msieve_command c;
	size_t used;
	const char *err;
	assert_int_equal(parse("capability\r\n", &c, &used, &err), 1);
	assert_string_equal(c.name, "CAPABILITY");
	assert_int_equal(c.nargs, 0);
	assert_int_equal(used, 12);
	const char *put = "PUTSCRIPT \"my \\\"s\\\\\" {12+}\r\nkeep;\r\nstop;\r\nNOOP\r\n";
	assert_int_equal(parse(put, &c, &used, &err), 1);
	assert_string_equal(c.name, "PUTSCRIPT");
	assert_int_equal(c.nargs, 2);
	assert_int_equal(c.args[0].type, MSIEVE_STRING);
	assert_string_equal(c.args[0].str.p, "my \"s\\");
	assert_true(c.args[1].literal);
	assert_int_equal(c.args[1].str.len, 12);
	assert_memory_equal(c.args[1].str.p, "keep;\r\nstop;", 12);
	assert_int_equal(used, strlen(put) - 6);
	/* synchronizing form, a literal followed by more arguments, a number */
	assert_int_equal(parse("renamescript {1}\r\na \"b\"\r\n", &c, &used, &err), 1);
	assert_int_equal(c.nargs, 2);
	assert_string_equal(c.args[0].str.p, "a");
	assert_string_equal(c.args[1].str.p, "b");
	assert_int_equal(parse("HAVESPACE \"x\" 12345\r\n", &c, &used, &err), 1);
	assert_int_equal(c.args[1].type, MSIEVE_NUMBER);
	assert_int_equal(c.args[1].num, 12345);
	/* an empty literal, an empty quoted string, a bare LF */
	assert_int_equal(parse("SETACTIVE \"\"\n", &c, &used, &err), 1);
	assert_int_equal(c.args[0].str.len, 0);
	assert_int_equal(parse("CHECKSCRIPT {0+}\r\n\r\n", &c, &used, &err), 1);
	assert_int_equal(c.args[0].str.len, 0);
	/* NUL inside a literal is kept */
	assert_int_equal(msieve_parse_command((struct bytes){ "X {3+}\r\na\0b\r\n", 13 }, &lim, A, &c, &used, &err), 1);
	assert_int_equal(c.args[0].str.len, 3);
}

static void test_errors(void **state)
{
	(void)state;
	struct msieve_command c;
	size_t used;
	const char *err;
	assert_int_equal(parse("PUTSCRIPT foo\r\nNOOP\r\n", &c, &used, &err), MSIEVE_ESYNTAX);
	assert_int_equal(used, 15);
	assert_int_equal(parse("\r\n", &c, &used, &err), MSIEVE_ESYNTAX);
	assert_int_equal(used, 2);
	assert_int_equal(parse("X \"a\\n\"\r\n", &c, &used, &err), MSIEVE_ESYNTAX);
	assert_int_equal(parse("X \"a\r\n", &c, &used, &err), MSIEVE_ESYNTAX);
	assert_int_equal(parse("X \"a\"\"b\"\r\n", &c, &used, &err), MSIEVE_ESYNTAX);
	assert_int_equal(parse("X {1x}\r\n", &c, &used, &err), MSIEVE_ESYNTAX);
	assert_int_equal(parse("X {}\r\n", &c, &used, &err), MSIEVE_ESYNTAX);
	assert_int_equal(parse("X 99999999999\r\n", &c, &used, &err), MSIEVE_ESYNTAX);
	assert_int_equal(parse("X \"1\" \"2\" \"3\" \"4\" \"5\"\r\n", &c, &used, &err), MSIEVE_ESYNTAX);
	assert_int_equal(parse("ABCDEFGHIJKLMNOPQ\r\n", &c, &used, &err), MSIEVE_ESYNTAX);
	/* the literal limit is seen from the announcement alone */
	assert_int_equal(parse("PUTSCRIPT \"a\" {101+}\r\n", &c, &used, &err), MSIEVE_ELITERAL);
	assert_int_equal(used, 101);
	assert_int_equal(parse("PUTSCRIPT \"a\" {100+}\r\n", &c, &used, &err), 0);
	/* the line limit, with and without a line end in sight */
	char line[200];
	memset(line, 'A', sizeof(line));
	assert_int_equal(msieve_parse_command((struct bytes){ line, sizeof(line) }, &lim, A, &c, &used, &err),
			 MSIEVE_ELINE);
	char q[120] = "X \"";
	memset(q + 3, 'a', 100);
	q[103] = '\0';
	assert_int_equal(msieve_parse_command((struct bytes){ q, strlen(q) }, &lim, A, &c, &used, &err), MSIEVE_ELINE);
	/* literals do not count against the line */
	char big[200];
	snprintf(big, sizeof(big), "PUTSCRIPT \"name\" {90+}\r\n%090d\r\n", 0);
	assert_int_equal(parse(big, &c, &used, &err), 1);
	assert_int_equal(c.args[1].str.len, 90);
}

static void test_response(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct bytes s;
	size_t used;
	const char *err;
	assert_int_equal(msieve_parse_response(BYTES("\"AGFAYgBj\"\r\n"), &lim, a, &s, &used, &err), 1);
	assert_string_equal(s.p, "AGFAYgBj");
	assert_int_equal(msieve_parse_response(BYTES("{4+}\r\nabcd\r\n"), &lim, a, &s, &used, &err), 1);
	assert_string_equal(s.p, "abcd");
	assert_int_equal(used, 12);
	assert_int_equal(msieve_parse_response(BYTES("\"*\""), &lim, a, &s, &used, &err), 0);
	assert_int_equal(msieve_parse_response(BYTES("abc\r\n"), &lim, a, &s, &used, &err), MSIEVE_ESYNTAX);
	assert_int_equal(msieve_parse_response(BYTES("\r\n"), &lim, a, &s, &used, &err), MSIEVE_ESYNTAX);
	arena_free(&a);
}

static void test_format(void **state)
{
	(void)state;
	struct buf b = { 0 };
	msieve_put_response(&b, "NO", "QUOTA/MAXSIZE", "Too \"big\"");
	assert_string_equal(buf_str(&b), "NO (QUOTA/MAXSIZE) \"Too \\\"big\\\"\"\r\n");
	buf_reset(&b);
	msieve_put_response(&b, "OK", NULL, NULL);
	assert_string_equal(buf_str(&b), "OK\r\n");
	buf_reset(&b);
	msieve_put_response(&b, "NO", NULL, "line 1: error\r\nline 2: another");
	assert_string_equal(buf_str(&b), "NO {30}\r\nline 1: error\r\nline 2: another\r\n");
	buf_reset(&b);
	msieve_put_string(&b, "a\\b", 3);
	assert_string_equal(buf_str(&b), "\"a\\\\b\"");
	/* what the formatter writes, the parser reads back */
	buf_reset(&b);
	buf_puts(&b, "X ");
	msieve_put_string(&b, "q\"\\", 3);
	buf_puts(&b, " ");
	msieve_put_string(&b, "l\r\nx", 4);
	buf_puts(&b, "\r\n");
	struct msieve_command c;
	size_t used;
	const char *err;
	struct arena *a = arena_new();
	assert_int_equal(msieve_parse_command((struct bytes){ b.data, b.len }, &lim, a, &c, &used, &err), 1);
	assert_string_equal(c.args[0].str.p, "q\"\\");
	assert_string_equal(c.args[1].str.p, "l\r\nx");
	arena_free(&a);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
