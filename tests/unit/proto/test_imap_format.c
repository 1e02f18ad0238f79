/* test_imap_format.c: the response formatter and modified UTF-7 (RFC 3501 §5.1.3) with
 * round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "imap_format.h"

#include <stdlib.h>
#include <string.h>

static void put(void (*fn)(struct buf *, const char *, size_t), const char *in, size_t len, const char *want)
{
	struct buf b = { 0 };
	fn(&b, in, len);
	assert_string_equal(buf_str(&b), want);
	buf_free(&b);
}

static void test_strings(void **state)
{
	(void)state;
	put(imap_put_string, "abc", 3, "\"abc\"");
	put(imap_put_string, "a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	put(imap_put_string, "a\r\nb", 4, "{4}\r\na\r\nb");
	put(imap_put_string, "\xc3\xa4", 2, "{2}\r\n\xc3\xa4");
	put(imap_put_string, "", 0, "\"\"");
	put(imap_put_astring, "INBOX", 5, "INBOX");
	put(imap_put_astring, "a b", 3, "\"a b\"");
	put(imap_put_astring, "NIL", 3, "\"NIL\"");
	struct buf b = { 0 };
	imap_put_nstring(&b, NULL, 0);
	assert_string_equal(buf_str(&b), "NIL");
	buf_reset(&b);
	imap_put_datetime(&b, 837596665, -420);
	assert_string_equal(buf_str(&b), "\"17-Jul-1996 02:44:25 -0700\"");
	buf_reset(&b);
	imap_put_mailbox(&b, "R&D/Gr\xc3\xbcn");
	assert_string_equal(buf_str(&b), "\"R&-D/Gr&APw-n\"");
	buf_free(&b);
}

static void roundtrip(const char *utf8, const char *utf7)
{
	struct buf b = { 0 };
	assert_int_equal(imap_utf7_encode(&b, utf8, strlen(utf8)), 1);
	assert_string_equal(buf_str(&b), utf7);
	buf_reset(&b);
	assert_int_equal(imap_utf7_decode(&b, utf7, strlen(utf7)), 1);
	assert_string_equal(buf_str(&b), utf8);
	buf_free(&b);
}

static void test_set(void **state)
{
	(void)state;
	struct buf b = { 0 };
	const uint32_t v[] = { 1, 2, 3, 5, 7, 8, 10 };
	imap_put_set(&b, v, 7);
	assert_string_equal(buf_str(&b), "1:3,5,7:8,10");
	buf_reset(&b);
	imap_put_set(&b, v, 0);
	assert_int_equal(b.len, 0);
	const uint32_t w[] = { 4294967295u };
	imap_put_set(&b, w, 1);
	assert_string_equal(buf_str(&b), "4294967295");
	buf_free(&b);
}

static void test_utf7(void **state)
{
	(void)state;
	roundtrip("INBOX", "INBOX");
	roundtrip("&", "&-");
	roundtrip("a&b&&", "a&-b&-&-");
	roundtrip("\xe5\x8f\xb0\xe5\x8c\x97", "&U,BTFw-");                     /* RFC 3501 example 台北 */
	roundtrip("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		  "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
	roundtrip("Gr\xc3\xbc\xc3\x9f" "e", "Gr&APwA3w-e");
	roundtrip("\xf0\x9f\x98\x80", "&2D3eAA-");                              /* U+1F600, surrogates */
	roundtrip("tab\there", "tab&AAk-here");
	/* a long run crosses the encoder's internal flush */
	char longu[400] = "";
	for (int i = 0; i < 100; i++)
		strcat(longu, "\xc3\xa4");
	struct buf b = { 0 };
	assert_int_equal(imap_utf7_encode(&b, longu, strlen(longu)), 1);
	struct buf d = { 0 };
	assert_int_equal(imap_utf7_decode(&d, b.data, b.len), 1);
	assert_string_equal(buf_str(&d), longu);
	buf_free(&b);
	buf_free(&d);

	const char *bad[] = { "&", "&AGE-", "&Jjo", "&Jj!-", "&2D0-", "&3gA-", "\xc3\xa4", "a\tb", "&AOQ-&AOQ-",
			      "&AOQA-" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf x = { 0 };
		if (imap_utf7_decode(&x, bad[i], strlen(bad[i])) != -1)
			fail_msg("accepted %s", bad[i]);
		buf_free(&x);
	}
	const char *badu[] = { "\xc3", "\xff", "\xed\xa0\x80", "\xc0\xaf" };
	for (size_t i = 0; i < sizeof(badu) / sizeof(badu[0]); i++) {
		struct buf x = { 0 };
		assert_int_equal(imap_utf7_encode(&x, badu[i], strlen(badu[i])), -1);
		buf_free(&x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_utf7),
		cmocka_unit_test(test_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
