/* test_fold.c: mail_fold_map and mail_fold_find, the folded text with its way back
 * to the original that JMAP SearchSnippet/get marks matches with: the folding is the
 * search's (mail_casefold), a match maps to whole original characters, folding that
 * grows a character (ß to ss) or shrinks it keeps the map right, invalid UTF-8 is
 * made valid as the search makes it, and every folded string equals mail_casefold's. */
#include "mail.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The original text of the first match of needle (folded here) at or after from, or
 * NULL. */
static const char *find(struct arena *a, const char *text, size_t from, const char *needle)
{
	struct mail_folded f;
	assert_int_equal(mail_fold_map(a, text, strlen(text), &f), 1);
	size_t s, e;
	if (!mail_fold_find(&f, from, mail_casefold(a, needle, strlen(needle)), &s, &e))
		return NULL;
	assert_true(s < e && e <= f.text_len);
	return arena_strndup(a, f.text + s, e - s);
}

static void test_same_folding_as_the_search(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *texts[] = { "", "Plain ASCII Text", "Größe STRASSE Straße", "ΣΊΣΥΦΟΣ ǅ ﬁ İstanbul",
				"emoji 😀 and Ǆ", "mixed\tlines\nwith ΐ" };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct mail_folded f;
		assert_int_equal(mail_fold_map(a, texts[i], strlen(texts[i]), &f), 1);
		assert_string_equal(f.s, mail_casefold(a, texts[i], strlen(texts[i])));
		assert_int_equal(f.len, strlen(f.s));
		assert_int_equal(f.map[f.len], strlen(texts[i]));
		for (size_t j = 0; j + 1 <= f.len; j++)
			assert_true(f.map[j] <= f.map[j + 1]);
	}
	arena_free(&a);
}

static void test_matches_map_to_whole_characters(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	assert_string_equal(find(a, "Die Größe ist gut", 0, "GRÖSSE"), "Größe");
	assert_string_equal(find(a, "Die GRÖSSE ist gut", 0, "größe"), "GRÖSSE");
	assert_string_equal(find(a, "Hauptstraße 5", 0, "STRASSE"), "straße");
	/* inside a character's folding: the whole character is marked */
	assert_string_equal(find(a, "Größe", 0, "se"), "ße");
	assert_string_equal(find(a, "Größe", 0, "ös"), "öß");
	assert_string_equal(find(a, "Party 😀 heute", 0, "😀"), "😀");
	assert_string_equal(find(a, "Voranschlag", 0, "ANSCH"), "ansch");
	assert_null(find(a, "Größe", 0, "grosse"));
	assert_null(find(a, "short", 0, "shorter"));
	arena_free(&a);
}

static void test_from_offset(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *t = "Maße, Maße und MASSE";
	struct mail_folded f;
	assert_int_equal(mail_fold_map(a, t, strlen(t), &f), 1);
	const char *n = mail_casefold(a, "masse", 5);
	size_t s, e, from = 0, found = 0;
	while (mail_fold_find(&f, from, n, &s, &e)) {
		found++;
		assert_true(s >= from);
		from = e;
	}
	assert_int_equal(found, 3);
	assert_false(mail_fold_find(&f, strlen(t), n, &s, &e));
	assert_false(mail_fold_find(&f, 0, "", &s, &e));
	arena_free(&a);
}

static void test_invalid_utf8_made_valid(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char t[] = "caf\xe9 Gr\xc3\xb6\xc3\x9f" "e\0x";
	struct mail_folded f;
	assert_int_equal(mail_fold_map(a, t, sizeof(t) - 1, &f), 1);
	assert_true(f.text != t); /* a valid copy */
	size_t s, e;
	assert_true(mail_fold_find(&f, 0, mail_casefold(a, "größe", strlen("größe")), &s, &e));
	assert_int_equal(e - s, strlen("Größe"));
	assert_memory_equal(f.text + s, "Größe", e - s);
	assert_true(mail_fold_find(&f, 0, "x", &s, &e));
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_folding_as_the_search),
		cmocka_unit_test(test_matches_map_to_whole_characters),
		cmocka_unit_test(test_from_offset),
		cmocka_unit_test(test_invalid_utf8_made_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
