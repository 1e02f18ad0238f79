/* test_buf.c: buffers, byte views, numbers and sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"

#include <string.h>

static void test_buf_grow(void **state)
{
	struct buf b = { 0 };
	assert_string_equal(buf_str(&b), "");
	for (int i = 0; i < 10000; i++)
		buf_putc(&b, (char)('a' + i % 26));
	assert_int_equal(b.len, 10000);
	assert_int_equal(b.data[10000], '\0');
	buf_consume(&b, 9990);
	assert_string_equal(buf_str(&b), "ghijklmnop");
	buf_reset(&b);
	buf_printf(&b, "%d:%s", 7, "x");
	buf_append(&b, "\0y", 2);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "7:x\0y", 5);
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	assert_null(b.data);
}

static void test_bytes(void **state)
{
	assert_true(bytes_eq(BYTES("EHLO"), "EHLO"));
	assert_false(bytes_eq(BYTES("EHLO"), "ehlo"));
	assert_true(bytes_ieq(BYTES("EHLO"), "ehlo"));
	assert_false(bytes_ieq(BYTES("EHL"), "ehlo"));
	assert_true(bytes_iprefix(BYTES("Content-Type: x"), "content-type:"));
	struct bytes t = bytes_trim(BYTES(" \t a b \t"));
	assert_int_equal(t.len, 3);
	assert_memory_equal(t.p, "a b", 3);
	size_t eol;
	assert_int_equal(bytes_find_eol(BYTES("abc\r\ndef"), &eol), 3);
	assert_int_equal(eol, 2);
	assert_int_equal(bytes_find_eol(BYTES("abc\ndef"), &eol), 3);
	assert_int_equal(eol, 1);
	assert_int_equal(bytes_find_eol(BYTES("\n"), &eol), 0);
	assert_int_equal(bytes_find_eol(BYTES("abc"), &eol), -1);
	assert_int_equal(bytes_find_eol((struct bytes){ NULL, 0 }, &eol), -1);
}

static void test_numbers(void **state)
{
	uint64_t v;
	assert_int_equal(buf_parse_uint64(BYTES("0"), 10, &v), 1);
	assert_int_equal(v, 0);
	assert_int_equal(buf_parse_uint64(BYTES("18446744073709551615"), UINT64_MAX, &v), 1);
	assert_true(v == UINT64_MAX);
	assert_int_equal(buf_parse_uint64(BYTES("18446744073709551616"), UINT64_MAX, &v), -1);
	assert_int_equal(buf_parse_uint64(BYTES("11"), 10, &v), -1);
	assert_int_equal(buf_parse_uint64(BYTES("10"), 10, &v), 1);
	assert_int_equal(buf_parse_uint64(BYTES(""), 10, &v), -1);
	assert_int_equal(buf_parse_uint64(BYTES("-1"), 10, &v), -1);
	assert_int_equal(buf_parse_uint64(BYTES("1 "), 10, &v), -1);
	assert_int_equal(buf_parse_uint64(BYTES("+1"), 10, &v), -1);
}

static void test_sizes(void **state)
{
	uint64_t v;
	const char *err;
	assert_int_equal(buf_parse_size("0", &v, &err), 1);
	assert_int_equal(v, 0);
	assert_int_equal(buf_parse_size("512", &v, &err), 1);
	assert_int_equal(v, 512);
	assert_int_equal(buf_parse_size("8K", &v, &err), 1);
	assert_int_equal(v, 8192);
	assert_int_equal(buf_parse_size("50m", &v, &err), 1);
	assert_int_equal(v, 50ULL << 20);
	assert_int_equal(buf_parse_size("2G", &v, &err), 1);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(buf_parse_size("G", &v, &err), -1);
	assert_int_equal(buf_parse_size("1.5G", &v, &err), -1);
	assert_int_equal(buf_parse_size("", &v, &err), -1);
	assert_int_equal(buf_parse_size("99999999999999999999K", &v, &err), -1);
	assert_int_equal(buf_parse_size("17179869184G", &v, &err), -1); /* 2^34 G overflows */
	char out[32];
	buf_format_size(50ULL << 20, out, sizeof(out));
	assert_string_equal(out, "50M");
	buf_format_size(1000, out, sizeof(out));
	assert_string_equal(out, "1000");
	buf_format_size(0, out, sizeof(out));
	assert_string_equal(out, "0");
	buf_format_size(3ULL << 30, out, sizeof(out));
	assert_string_equal(out, "3G");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grow),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
