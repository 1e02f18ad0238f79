/* test_numbers.c: buf_parse_uint64 and buf_parse_size (src/lib/buf.c), the number parsers
 * under HTTP Content-Length, POP3/IMAP message numbers and every size in the
 * configuration. Kept with the parser tests because the fuzz target tests/fuzz/
 * fuzz_size.c found the case in test_regress_limit_below_digit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"

#include <string.h>

static int u64(const char *s, uint64_t max, uint64_t *v)
{
	return buf_parse_uint64((struct bytes){ s, strlen(s) }, max, v);
}

static void test_uint64(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(u64("0", UINT64_MAX, &v), 1);
	assert_int_equal(v, 0);
	assert_int_equal(u64("007", UINT64_MAX, &v), 1);
	assert_int_equal(v, 7);
	assert_int_equal(u64("18446744073709551615", UINT64_MAX, &v), 1);
	assert_true(v == UINT64_MAX);
	assert_int_equal(u64("18446744073709551616", UINT64_MAX, &v), -1);
	assert_int_equal(u64("99999999999999999999", UINT64_MAX, &v), -1);
	assert_int_equal(u64("65535", 65535, &v), 1);
	assert_int_equal(v, 65535);
	assert_int_equal(u64("65536", 65535, &v), -1);
	assert_int_equal(u64("", UINT64_MAX, &v), -1);
	assert_int_equal(u64("+1", UINT64_MAX, &v), -1);
	assert_int_equal(u64("-1", UINT64_MAX, &v), -1);
	assert_int_equal(u64(" 1", UINT64_MAX, &v), -1);
	assert_int_equal(u64("1 ", UINT64_MAX, &v), -1);
	assert_int_equal(u64("1a", UINT64_MAX, &v), -1);
	assert_int_equal(buf_parse_uint64(BYTES("1\0"), UINT64_MAX, &v), -1);
	assert_int_equal(u64("10", 10, &v), 1);
	assert_int_equal(u64("11", 10, &v), -1);
	assert_int_equal(u64("0", 0, &v), 1);
}

/* Found by tests/fuzz/fuzz_size.c (corpus/size/regress-digit-above-limit): with a
 * limit below 9, `max - digit` wraps around and a digit above the limit is accepted,
 * e.g. buf_parse_uint64("2", 0) returns 1 with 2. */
static void test_regress_limit_below_digit(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(u64("2", 0, &v), -1);
	assert_int_equal(u64("5", 3, &v), -1);
	assert_int_equal(u64("9", 8, &v), -1);
	assert_int_equal(u64("3", 3, &v), 1);
	assert_int_equal(v, 3);
}

static void test_size(void **state)
{
	(void)state;
	uint64_t v = 1;
	const char *error = NULL;
	assert_int_equal(buf_parse_size("0", &v, &error), 1);
	assert_int_equal(v, 0);
	assert_int_equal(buf_parse_size("64K", &v, &error), 1);
	assert_int_equal(v, 64 * 1024);
	assert_int_equal(buf_parse_size("50m", &v, &error), 1);
	assert_int_equal(v, 50 * 1024 * 1024);
	assert_int_equal(buf_parse_size("4G", &v, &error), 1);
	assert_true(v == 4ULL << 30);
	assert_int_equal(buf_parse_size("16777215T", &v, &error), 1);
	assert_true(v == 16777215ULL << 40);
	assert_int_equal(buf_parse_size("16777216T", &v, &error), -1);
	assert_non_null(error);
	assert_int_equal(buf_parse_size("K", &v, &error), -1);
	assert_int_equal(buf_parse_size("", &v, &error), -1);
	assert_int_equal(buf_parse_size("1KB", &v, &error), -1);
	assert_int_equal(buf_parse_size("1.5G", &v, &error), -1);
	assert_int_equal(buf_parse_size(" 1K", &v, &error), -1);
	char out[32];
	buf_format_size(64 * 1024, out, sizeof(out));
	assert_string_equal(out, "64K");
	buf_format_size(1025, out, sizeof(out));
	assert_string_equal(out, "1025");
	buf_format_size(0, out, sizeof(out));
	assert_string_equal(out, "0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint64),
		cmocka_unit_test(test_regress_limit_below_digit),
		cmocka_unit_test(test_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
