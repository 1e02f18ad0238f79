/* test_pop3_stuff.c: RETR/TOP output: byte-stuffing, the final CRLF, TOP line counts,
 * fed whole and one byte at a time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pop3_parse.h"

#include <string.h>

static void check(const char *msg, long lines, const char *want)
{
	for (int pass = 0; pass < 2; pass++) {
		struct pop3_stuffer st;
		struct buf out = { 0 };
		pop3_stuff_init(&st, lines);
		size_t n = strlen(msg);
		if (pass == 0) {
			pop3_stuff(&st, (struct bytes){ msg, n }, &out);
		} else {
			for (size_t i = 0; i < n; i++)
				pop3_stuff(&st, (struct bytes){ msg + i, 1 }, &out);
		}
		pop3_stuff_finish(&st, &out);
		if (out.len != strlen(want) || memcmp(buf_str(&out), want, out.len) != 0)
			fail_msg("pass %d lines %ld: got [%s] want [%s]", pass, lines, buf_str(&out), want);
		buf_free(&out);
	}
}

static void test_retr(void **state)
{
	check("Subject: a\r\n\r\nbody\r\n", -1, "Subject: a\r\n\r\nbody\r\n.\r\n");
	check("Subject: a\r\n\r\n.hidden\r\n..two\r\n.\r\n", -1, "Subject: a\r\n\r\n..hidden\r\n...two\r\n..\r\n.\r\n");
	check("Subject: a\r\n\r\nno final newline", -1, "Subject: a\r\n\r\nno final newline\r\n.\r\n");
	check(".starts with dot\r\n", -1, "..starts with dot\r\n.\r\n");
	check("", -1, ".\r\n");
	check("a.b\r\n", -1, "a.b\r\n.\r\n");
}

static void test_top(void **state)
{
	const char *m = "From: x\r\nSubject: y\r\n\r\nline1\r\n.line2\r\nline3\r\n";
	check(m, 0, "From: x\r\nSubject: y\r\n\r\n.\r\n");
	check(m, 1, "From: x\r\nSubject: y\r\n\r\nline1\r\n.\r\n");
	check(m, 2, "From: x\r\nSubject: y\r\n\r\nline1\r\n..line2\r\n.\r\n");
	check(m, 99, "From: x\r\nSubject: y\r\n\r\nline1\r\n..line2\r\nline3\r\n.\r\n");
	/* no body at all: the header alone, and the missing final CRLF added */
	check("From: x", 5, "From: x\r\n.\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retr),
		cmocka_unit_test(test_top),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
