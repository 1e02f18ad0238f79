/* test_textfmt.c: the shared RFC 5322 date, hex and header-field helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "textfmt.h"

static void date_is_rfc5322(void **state)
{
	char d[TEXTFMT_DATE_MAX];
	textfmt_date(0, d, sizeof(d));
	assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 +0000");
	textfmt_date(1700086400, d, sizeof(d));
	assert_string_equal(d, "Wed, 15 Nov 2023 22:13:20 +0000");
}

static void hex(void **state)
{
	char out[9];
	textfmt_hex("\x00\x1f\xab\xff", 4, out, sizeof(out));
	assert_string_equal(out, "001fabff");
	textfmt_hex("\x00\x1f\xab\xff", 4, out, 6); /* cut at a whole byte */
	assert_string_equal(out, "001f");
	char a[17], b[17];
	textfmt_random_hex(a, sizeof(a), 8);
	textfmt_random_hex(b, sizeof(b), 8);
	assert_int_equal(strlen(a), 16);
	assert_string_not_equal(a, b);
}

/* RFC 4648 §10 test vectors, and bytes of every value */
static void base64(void **state)
{
	static const char *const vec[][2] = { { "", "" },
					      { "f", "Zg==" },
					      { "fo", "Zm8=" },
					      { "foo", "Zm9v" },
					      { "foob", "Zm9vYg==" },
					      { "fooba", "Zm9vYmE=" },
					      { "foobar", "Zm9vYmFy" } };
	char out[TEXTFMT_BASE64_LEN(8)];
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		textfmt_base64(vec[i][0], strlen(vec[i][0]), out, sizeof(out));
		assert_string_equal(out, vec[i][1]);
	}
	textfmt_base64("\x00\xff\xfe\x80", 4, out, sizeof(out));
	assert_string_equal(out, "AP/+gA==");
}

static void has_header(void **state)
{
	const char m[] = "Subject: x\r\nmessage-id: <a@b>\r\n\r\nDate: in the body\r\n";
	assert_true(textfmt_has_header(m, sizeof(m) - 1, "Message-ID"));
	assert_true(textfmt_has_header(m, sizeof(m) - 1, "subject"));
	assert_false(textfmt_has_header(m, sizeof(m) - 1, "Date")); /* only the header counts */
	assert_false(textfmt_has_header(m, sizeof(m) - 1, "Subj"));
	assert_false(textfmt_has_header("", 0, "Date"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(date_is_rfc5322),
		cmocka_unit_test(hex),
		cmocka_unit_test(has_header),
		cmocka_unit_test(base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
