/* test_auth_cache.c: the verified-password cache (src/auth/cache.h): hits within the
 * lifetime only, misses for another password or another stored hash (a changed
 * password), nothing kept when disabled, a reload to 0 forgets everything, and a
 * full table only evicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"

#define H1 "$y$j9T$saltsaltsalt$hashhashhashhashhashhashhashhashhashhashhash"
#define H2 "$y$j9T$othersaltsal$hashhashhashhashhashhashhashhashhashhashhash"

static void test_hit_within_ttl(void **state)
{
	(void)state;
	struct auth_cache *c = auth_cache_new(60);
	assert_false(auth_cache_hit(c, H1, "secret", 1000));
	auth_cache_add(c, H1, "secret", 1000);
	assert_true(auth_cache_hit(c, H1, "secret", 1000));
	assert_true(auth_cache_hit(c, H1, "secret", 1059));
	assert_false(auth_cache_hit(c, H1, "secret", 1060)); /* expired */
	assert_false(auth_cache_hit(c, H1, "secret", 999));  /* clock before the entry */
	auth_cache_free(&c);
	assert_null(c);
}

static void test_other_password_or_hash(void **state)
{
	(void)state;
	struct auth_cache *c = auth_cache_new(3600);
	auth_cache_add(c, H1, "secret", 10);
	assert_false(auth_cache_hit(c, H1, "secreT", 11));
	assert_false(auth_cache_hit(c, H1, "secre", 11));
	assert_false(auth_cache_hit(c, H1, "secret ", 11));
	assert_false(auth_cache_hit(c, H1, "", 11));
	/* a new stored hash (the password was changed) misses with the old password */
	assert_false(auth_cache_hit(c, H2, "secret", 11));
	/* the separator keeps hash and password apart */
	assert_false(auth_cache_hit(c, "$y$a", "bsecret", 11));
	auth_cache_add(c, "$y$a", "b", 11);
	assert_false(auth_cache_hit(c, "$y$ab", "", 11));
	assert_true(auth_cache_hit(c, H1, "secret", 11));
	auth_cache_free(&c);
}

static void test_disabled_and_reload(void **state)
{
	(void)state;
	struct auth_cache *c = auth_cache_new(0);
	auth_cache_add(c, H1, "secret", 10);
	assert_false(auth_cache_hit(c, H1, "secret", 10));
	auth_cache_set_ttl(c, 100);
	auth_cache_add(c, H1, "secret", 10);
	assert_true(auth_cache_hit(c, H1, "secret", 10));
	auth_cache_set_ttl(c, 5); /* a shorter lifetime applies to old entries too */
	assert_false(auth_cache_hit(c, H1, "secret", 16));
	auth_cache_set_ttl(c, 100);
	assert_true(auth_cache_hit(c, H1, "secret", 16));
	auth_cache_set_ttl(c, 0); /* forgets */
	auth_cache_set_ttl(c, 100);
	assert_false(auth_cache_hit(c, H1, "secret", 16));
	auth_cache_free(&c);
}

static void test_two_caches_differ(void **state)
{
	(void)state;
	/* each cache has its own random key: an entry means nothing to another cache */
	struct auth_cache *a = auth_cache_new(100), *b = auth_cache_new(100);
	auth_cache_add(a, H1, "secret", 10);
	assert_true(auth_cache_hit(a, H1, "secret", 10));
	assert_false(auth_cache_hit(b, H1, "secret", 10));
	auth_cache_free(&a);
	auth_cache_free(&b);
}

static void test_full_table_evicts(void **state)
{
	(void)state;
	struct auth_cache *c = auth_cache_new(100);
	char pw[32];
	for (int i = 0; i < 4 * AUTH_CACHE_SLOTS; i++) {
		snprintf(pw, sizeof(pw), "pw%d", i);
		auth_cache_add(c, H1, pw, 10);
	}
	/* the newest entry is always there; some older ones were evicted, never confused */
	assert_true(auth_cache_hit(c, H1, pw, 10));
	int hits = 0;
	for (int i = 0; i < 4 * AUTH_CACHE_SLOTS; i++) {
		snprintf(pw, sizeof(pw), "pw%d", i);
		hits += auth_cache_hit(c, H1, pw, 10);
	}
	assert_true(hits <= AUTH_CACHE_SLOTS);
	assert_true(hits > AUTH_CACHE_SLOTS / 2);
	assert_false(auth_cache_hit(c, H1, "pw-never-added", 10));
	auth_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_within_ttl),
		cmocka_unit_test(test_other_password_or_hash),
		cmocka_unit_test(test_disabled_and_reload),
		cmocka_unit_test(test_two_caches_differ),
		cmocka_unit_test(test_full_table_evicts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
