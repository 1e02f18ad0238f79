/* test_rfc2047.c: RFC 2047 encoded words through mail_decode_header: adjacent words
 * joined (§6.2), padded base64 words followed by more words, multi-byte characters
 * split across words, charsets, Q encoding, malformed words left as written, 8-bit
 * text outside words, and the output always valid UTF-8. */
#include "mail.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

static const char *dec(struct arena *a, const char *s)
{
	return mail_decode_header(a, s);
}

/* The bug found by an outside search test: GMime gave "Grö" here. */
static void test_padded_b_word_then_another(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	assert_string_equal(dec(a, "=?UTF-8?B?R3LDtg==?= =?UTF-8?B?w59l?="), "Größe");
	assert_string_equal(dec(a, "=?UTF-8?B?R3LDtg==?=\r\n =?UTF-8?B?w59l?= Liste"), "Größe Liste");
	assert_string_equal(dec(a, "=?utf-8?b?R3LDtg=?= =?utf-8?b?w59l?="), "Größe"); /* short padding */
	assert_string_equal(dec(a, "=?utf-8?b?R3LDtg?= =?utf-8?b?w59l?="), "Größe");  /* none */
	arena_free(&a);
}

static void test_adjacent_words_and_white_space(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	/* RFC 2047 §8's examples */
	assert_string_equal(dec(a, "(=?ISO-8859-1?Q?a?=)"), "(a)");
	assert_string_equal(dec(a, "(=?ISO-8859-1?Q?a?= b)"), "(a b)");
	assert_string_equal(dec(a, "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)"), "(ab)");
	assert_string_equal(dec(a, "(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)"), "(ab)");
	assert_string_equal(dec(a, "(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)"), "(ab)");
	assert_string_equal(dec(a, "(=?ISO-8859-1?Q?a_b?=)"), "(a b)");
	assert_string_equal(dec(a, "(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)"), "(a b)");
	/* plain text around words keeps its spaces */
	assert_string_equal(dec(a, "Re: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus Berlin"), "Re: Grüße aus Berlin");
	assert_string_equal(dec(a, "a  b"), "a  b");
	/* words glued to text are decoded too */
	assert_string_equal(dec(a, "abc=?utf-8?q?d?=ef"), "abcdef");
	arena_free(&a);
}

static void test_split_characters_and_charsets(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	/* "ß" (C3 9F) split between two words of one charset */
	assert_string_equal(dec(a, "=?utf-8?q?Gr=C3=B6=C3?= =?utf-8?q?=9Fe?="), "Größe");
	assert_string_equal(dec(a, "=?UTF-8?B?8J+Y?= =?UTF-8?B?gA==?="), "\xf0\x9f\x98\x80"); /* emoji */
	assert_string_equal(dec(a, "=?iso-8859-1?q?Gr=F6=DFe?="), "Größe");
	assert_string_equal(dec(a, "=?windows-1252?q?=80_5?="), "€ 5");
	assert_string_equal(dec(a, "=?utf-8*de?q?=C3=A4?="), "ä"); /* RFC 2231 language */
	assert_string_equal(dec(a, "=?UTF-8?Q?a?= =?ISO-8859-1?Q?=E4?="), "aä");
	/* an unknown charset: taken as ISO-8859-1 */
	assert_string_equal(dec(a, "=?x-unknown?q?=E4?="), "ä");
	arena_free(&a);
}

static void test_malformed_and_8bit(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	assert_string_equal(dec(a, "=?utf-8?x?abc?="), "=?utf-8?x?abc?="); /* no such encoding */
	assert_string_equal(dec(a, "=?utf-8?q?abc"), "=?utf-8?q?abc");     /* unterminated */
	assert_string_equal(dec(a, "=?\?q?abc?="), "=?\?q?abc?=");         /* no charset */
	assert_string_equal(dec(a, "=?utf-8?q?a b?="), "=?utf-8?q?a b?="); /* space inside */
	assert_string_equal(dec(a, "=?utf-8?q?\?="), "");
	assert_string_equal(dec(a, "=?utf-8?q?=ZZ?="), "=ZZ"); /* bad escape kept */
	assert_string_equal(dec(a, "Gr\xc3\xb6\xc3\x9f"
				   "e"),
			    "Größe"); /* raw UTF-8 */
	assert_string_equal(dec(a, "Gr\xf6\xdf"
				   "e"),
			    "Größe");                                    /* raw Latin-1 */
	/* each line on its own: a Latin-1 line does not make the UTF-8 one Latin-1 */
	assert_string_equal(dec(a, "From: J\xfcrgen\nCc: J\xc3\xbcrgen\n"), "From: Jürgen\nCc: Jürgen\n");
	assert_string_equal(dec(a, "Cc: J\xc3\xbcrgen =?utf-8?q?x?= M\xfcller\n"), "Cc: Jürgen x Müller\n");
	assert_string_equal(dec(a, "=?utf-8?q?a=00b=07c?="), "a b c");   /* controls */
	assert_string_equal(dec(a, "=?utf-8?b?/w==?="), "\xef\xbf\xbd"); /* invalid UTF-8 */
	arena_free(&a);
}

/* Every byte string decodes to valid UTF-8 without NUL (they go into IMAP strings). */
static void test_always_valid(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	uint32_t x = 12345;
	const char alphabet[] = "=?uUtTfF-8bBqQ_ \t\r\n\xc3\xa4\xff\x80"
				"ABC/+=?";
	for (int round = 0; round < 20000; round++) {
		char s[48];
		size_t n = 1 + round % 46;
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			s[i] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
		}
		s[n] = '\0';
		const char *d = dec(a, s);
		assert_true(g_utf8_validate(d, -1, NULL));
		if (round % 1000 == 999)
			arena_clear(a);
	}
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_padded_b_word_then_another),
		cmocka_unit_test(test_adjacent_words_and_white_space),
		cmocka_unit_test(test_split_characters_and_charsets),
		cmocka_unit_test(test_malformed_and_8bit),
		cmocka_unit_test(test_always_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
