/* test_auth.c: password hashing and verification for every scheme, and the SASL
 * PLAIN / LOGIN decoders, including malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

static void hash_verify(enum auth_scheme scheme, const char *prefix)
{
	char *hash = NULL;
	const char *err = NULL;
	assert_int_equal(auth_password_hash(scheme, "correct horse", &hash, &err), 1);
	assert_non_null(hash);
	assert_memory_equal(hash, prefix, strlen(prefix));
	assert_int_equal(auth_password_verify(hash, "correct horse", &err), 1);
	assert_int_equal(auth_password_verify(hash, "correct hors", &err), 0);
	assert_int_equal(auth_password_verify(hash, "correct horsE", &err), 0);
	assert_int_equal(auth_password_verify(hash, "", &err), 0);
	/* two hashes of the same password differ (random salt) */
	char *hash2 = NULL;
	assert_int_equal(auth_password_hash(scheme, "correct horse", &hash2, &err), 1);
	assert_string_not_equal(hash, hash2);
	assert_true(auth_hash_supported(hash));
	free(hash);
	free(hash2);
}

static void test_yescrypt(void **state)
{
	(void)state;
	hash_verify(AUTH_SCHEME_DEFAULT, "$y$");
	hash_verify(AUTH_SCHEME_YESCRYPT, "$y$");
}

static void test_argon2id(void **state)
{
	(void)state;
	hash_verify(AUTH_SCHEME_ARGON2ID, "$argon2id$");
}

static void test_sha512_bcrypt(void **state)
{
	(void)state;
	hash_verify(AUTH_SCHEME_SHA512_CRYPT, "$6$");
	hash_verify(AUTH_SCHEME_BCRYPT, "$2b$");
}

static void test_known_hashes(void **state)
{
	(void)state;
	const char *err;
	/* Made outside postamt: python3 crypt.crypt('secret', '$6$saltsalt$') */
	const char *sha = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";
	char *mine = NULL;
	assert_int_equal(auth_password_verify(sha, "secret", &err), 1);
	assert_int_equal(auth_password_verify(sha, "Secret", &err), 0);
	/* Dovecot-style prefix */
	assert_int_equal(auth_password_hash(AUTH_SCHEME_SHA512_CRYPT, "pw1", &mine, &err), 1);
	char buf[512];
	snprintf(buf, sizeof(buf), "{CRYPT}%s", mine);
	assert_int_equal(auth_password_verify(buf, "pw1", &err), 1);
	assert_int_equal(auth_password_verify(buf, "pw2", &err), 0);
	free(mine);
	/* unknown or corrupt hashes are errors, not matches */
	assert_int_equal(auth_password_verify("plaintext", "plaintext", &err), -1);
	assert_int_equal(auth_password_verify("$1$abc$def", "x", &err), -1);
	assert_int_equal(auth_password_verify("", "", &err), -1);
	assert_int_not_equal(auth_password_verify("$y$garbage", "x", &err), 1);
	assert_int_not_equal(auth_password_verify("$argon2id$garbage", "x", &err), 1);
}

static void test_hash_refuses(void **state)
{
	(void)state;
	char *hash = NULL;
	const char *err = NULL;
	assert_int_equal(auth_password_hash(AUTH_SCHEME_DEFAULT, "", &hash, &err), -1);
	assert_non_null(err);
	assert_int_equal(auth_password_hash(AUTH_SCHEME_DEFAULT, "a\nb", &hash, &err), -1);
	char *big = malloc(AUTH_PASSWORD_MAX + 2);
	memset(big, 'x', AUTH_PASSWORD_MAX + 1);
	big[AUTH_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(auth_password_hash(AUTH_SCHEME_DEFAULT, big, &hash, &err), -1);
	free(big);
	enum auth_scheme s;
	assert_int_equal(auth_scheme_parse("argon2id", &s), 1);
	assert_int_equal(s, AUTH_SCHEME_ARGON2ID);
	assert_int_equal(auth_scheme_parse("md5", &s), -1);
}

static void test_base64(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	char *out;
	size_t n;
	const char *err;
	assert_int_equal(auth_base64_decode(a, BYTES("aGVsbG8="), &out, &n, &err), 1);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(auth_base64_decode(a, BYTES("aGVsbG8"), &out, &n, &err), 1);
	assert_int_equal(n, 5);
	assert_int_equal(auth_base64_decode(a, BYTES("="), &out, &n, &err), 1);
	assert_int_equal(n, 0);
	assert_int_equal(auth_base64_decode(a, BYTES(""), &out, &n, &err), 1);
	assert_int_equal(n, 0);
	assert_int_equal(auth_base64_decode(a, BYTES("a"), &out, &n, &err), -1);
	assert_int_equal(auth_base64_decode(a, BYTES("aGVs bG8="), &out, &n, &err), -1);
	assert_int_equal(auth_base64_decode(a, BYTES("aGVsbG8=="), &out, &n, &err), -1);
	assert_int_equal(auth_base64_decode(a, BYTES("====="), &out, &n, &err), -1);
	assert_int_equal(auth_base64_decode(a, BYTES("aGVsbG9="), &out, &n, &err), -1); /* bits */
	for (size_t len = 0; len < 40; len++) {
		char raw[40];
		for (size_t i = 0; i < len; i++)
			raw[i] = (char)(i * 37 + 1);
		const char *enc = auth_base64_encode(a, raw, len);
		assert_int_equal(auth_base64_decode(a, (struct bytes){ enc, strlen(enc) }, &out, &n, &err), 1);
		assert_int_equal(n, len);
		assert_memory_equal(out, raw, len);
	}
	arena_free(&a);
}

static void test_sasl_plain(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct auth_sasl_plain p;
	const char *err;
	/* "\0user@example.test\0secret" */
	const char *enc = auth_base64_encode(a, "\0user@example.test\0secret", 25);
	assert_int_equal(auth_sasl_plain_decode(a, (struct bytes){ enc, strlen(enc) }, &p, &err), 1);
	assert_string_equal(p.authzid, "");
	assert_string_equal(p.authcid, "user@example.test");
	assert_string_equal(p.password, "secret");
	/* with authzid */
	assert_int_equal(auth_sasl_plain_parse(a, (struct bytes){ "admin\0bob\0pw", 12 }, &p, &err), 1);
	assert_string_equal(p.authzid, "admin");
	assert_string_equal(p.authcid, "bob");
	assert_string_equal(p.password, "pw");
	/* malformed */
	assert_int_equal(auth_sasl_plain_parse(a, (struct bytes){ "bobpw", 5 }, &p, &err), -1);
	assert_int_equal(auth_sasl_plain_parse(a, (struct bytes){ "\0bobpw", 6 }, &p, &err), -1);
	assert_int_equal(auth_sasl_plain_parse(a, (struct bytes){ "\0\0pw", 4 }, &p, &err), -1);
	assert_int_equal(auth_sasl_plain_parse(a, (struct bytes){ "\0bob\0", 5 }, &p, &err), -1);
	assert_int_equal(auth_sasl_plain_parse(a, (struct bytes){ "\0bob\0pw\0x", 9 }, &p, &err), -1);
	assert_int_equal(auth_sasl_plain_parse(a, (struct bytes){ "\0b\nob\0pw", 8 }, &p, &err), -1);
	assert_int_equal(auth_sasl_plain_parse(a, (struct bytes){ "", 0 }, &p, &err), -1);
	assert_int_equal(auth_sasl_plain_decode(a, BYTES("!!!"), &p, &err), -1);
	assert_int_equal(auth_sasl_plain_decode(a, BYTES("="), &p, &err), -1);
	char big[300];
	memset(big, 'u', sizeof(big));
	big[0] = '\0';
	big[290] = '\0';
	memcpy(big + 291, "pw", 2);
	assert_int_equal(auth_sasl_plain_parse(a, (struct bytes){ big, 293 }, &p, &err), -1);
	/* every truncation of a valid message fails or decodes consistently, never crashes */
	const char *msg = "\0u@x\0pw";
	for (size_t i = 0; i <= 7; i++) {
		int r = auth_sasl_plain_parse(a, (struct bytes){ msg, i }, &p, &err);
		assert_true(r == -1 || (r == 1 && i >= 6));
	}
	arena_free(&a);
}

static void test_sasl_login(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *out, *err;
	assert_int_equal(auth_sasl_login_decode(a, BYTES("dXNlckBleGFtcGxlLnRlc3Q="), &out, &err), 1);
	assert_string_equal(out, "user@example.test");
	assert_int_equal(auth_sasl_login_decode(a, BYTES("="), &out, &err), -1);
	assert_int_equal(auth_sasl_login_decode(a, BYTES("AA=="), &out, &err), -1); /* NUL */
	assert_int_equal(auth_sasl_login_decode(a, BYTES("%%%"), &out, &err), -1);
	assert_true(auth_sasl_is_cancel(BYTES("*")));
	assert_false(auth_sasl_is_cancel(BYTES("**")));
	char *dec;
	size_t n;
	assert_int_equal(auth_base64_decode(a, BYTES(AUTH_SASL_LOGIN_USER_CHALLENGE), &dec, &n, &err), 1);
	assert_string_equal(dec, "Username:");
	assert_int_equal(auth_base64_decode(a, BYTES(AUTH_SASL_LOGIN_PASS_CHALLENGE), &dec, &n, &err), 1);
	assert_string_equal(dec, "Password:");
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yescrypt),
		cmocka_unit_test(test_argon2id),
		cmocka_unit_test(test_sha512_bcrypt),
		cmocka_unit_test(test_known_hashes),
		cmocka_unit_test(test_hash_refuses),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_sasl_plain),
		cmocka_unit_test(test_sasl_login),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
