/* test_arena.c: the arena allocator and the aborting heap helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_alloc_zeroed_aligned(void **state)
{
	struct arena *a = arena_new();
	for (size_t n = 1; n < 300; n += 7) {
		unsigned char *p = arena_alloc(a, n);
		assert_true(((uintptr_t)p % 16) == 0);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(p[i], 0);
		memset(p, 0xab, n);
	}
	arena_free(&a);
	assert_null(a);
}

static void test_big_and_many(void **state)
{
	struct arena *a = arena_new();
	char *big = arena_alloc(a, 1 << 20);
	memset(big, 1, 1 << 20);
	char *small[1000];
	for (int i = 0; i < 1000; i++) {
		small[i] = arena_printf(a, "item-%d", i);
	}
	for (int i = 0; i < 1000; i++) {
		char want[32];
		snprintf(want, sizeof(want), "item-%d", i);
		assert_string_equal(small[i], want);
	}
	assert_true(arena_used(a) >= (1 << 20));
	arena_clear(a);
	assert_int_equal(arena_used(a), 0);
	/* usable again after clear, and big blocks behind the first chunk are freed */
	char *s = arena_strdup(a, "again");
	assert_string_equal(s, "again");
	big = arena_alloc(a, 100000);
	big[99999] = 'x';
	arena_clear(a);
	arena_clear(a);
	arena_free(&a);
	arena_free(&a); /* NULL-safe */
}

/* A small first chunk: allocations beyond it go to new chunks, clear keeps only the
 * first, and what was handed out stays intact until then. */
static void test_sized(void **state)
{
	struct arena *a = arena_new_sized(64);
	char *small = arena_strdup(a, "fits");
	char *more[100];
	for (int i = 0; i < 100; i++)
		more[i] = arena_printf(a, "line %d", i);
	char *big = arena_alloc(a, 10000);
	big[9999] = 'x';
	assert_string_equal(small, "fits");
	for (int i = 0; i < 100; i++) {
		char want[16];
		snprintf(want, sizeof(want), "line %d", i);
		assert_string_equal(more[i], want);
	}
	assert_true(arena_used(a) >= 10000 + 100 * 7);
	arena_clear(a);
	assert_int_equal(arena_used(a), 0);
	assert_string_equal(arena_strdup(a, "again"), "again");
	arena_free(&a);
	assert_null(a);
}

static void test_strndup(void **state)
{
	struct arena *a = arena_new();
	char *s = arena_strndup(a, "hello world", 5);
	assert_string_equal(s, "hello");
	char *x = xasprintf("%s-%d", "a", 42);
	assert_string_equal(x, "a-42");
	free(x);
	char *y = xstrndup("abc\0def", 7);
	assert_memory_equal(y, "abc\0def", 8);
	free(y);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_zeroed_aligned),
		cmocka_unit_test(test_big_and_many),
		cmocka_unit_test(test_strndup),
		cmocka_unit_test(test_sized),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
