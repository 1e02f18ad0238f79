/* password.c: hashing and verifying passwords (see auth.h).
 *
 * yescrypt, SHA-512-crypt and bcrypt go through libxcrypt's crypt_r() with a salt
 * from crypt_gensalt_rn() (which reads the kernel's random source); argon2id goes
 * through libsodium's crypto_pwhash_str() with the "interactive" limits (64 MiB).
 * struct crypt_data is 32 KiB, so it lives on the heap, one per call: these
 * functions are re-entrant and run on pool threads. */
#include "auth.h"

#include <crypt.h>
#include <sodium.h>
#include <string.h>
#include <stdlib.h>

static int check_password(const char *password, const char **error_r)
{
	size_t n = strlen(password);
	if (n == 0) {
		*error_r = "empty password";
		return -1;
	}
	if (n > AUTH_PASSWORD_MAX) {
		*error_r = "password too long";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)password[i];
		if (c < 0x20 || c == 0x7f) {
			*error_r = "password contains a control character";
			return -1;
		}
	}
	return 1;
}

static const char *strip_prefix(const char *hash)
{
	if (strncmp(hash, "{CRYPT}", 7) == 0)
		return hash + 7;
	if (strncmp(hash, "{ARGON2ID}", 10) == 0)
		return hash + 10;
	return hash;
}

static int sodium_ready(void)
{
	/* sodium_init() is thread-safe and idempotent (returns 1 when already done). */
	return sodium_init() >= 0 ? 1 : -1;
}

int auth_scheme_parse(const char *name, enum auth_scheme *scheme_r)
{
	static const struct { const char *name; enum auth_scheme s; } names[] = {
		{ "yescrypt", AUTH_SCHEME_YESCRYPT }, { "argon2id", AUTH_SCHEME_ARGON2ID },
		{ "sha512-crypt", AUTH_SCHEME_SHA512_CRYPT }, { "bcrypt", AUTH_SCHEME_BCRYPT },
		{ "default", AUTH_SCHEME_DEFAULT },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i].name) == 0) {
			*scheme_r = names[i].s;
			return 1;
		}
	}
	return -1;
}

static int crypt_hash(const char *prefix, unsigned long count, const char *password,
		      char **hash_r, const char **error_r)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (crypt_gensalt_rn(prefix, count, NULL, 0, salt, sizeof(salt)) == NULL) {
		*error_r = "cannot generate a salt";
		return -1;
	}
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *h = crypt_r(password, salt, cd);
	int ret = -1;
	if (h == NULL || h[0] == '*') {
		*error_r = "crypt failed";
	} else {
		*hash_r = xstrdup(h);
		ret = 1;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ret;
}

int auth_password_hash(enum auth_scheme scheme, const char *password, char **hash_r,
		       const char **error_r)
{
	if (check_password(password, error_r) < 0)
		return -1;
	switch (scheme) {
	case AUTH_SCHEME_DEFAULT:
	case AUTH_SCHEME_YESCRYPT:
		return crypt_hash("$y$", 0, password, hash_r, error_r);
	case AUTH_SCHEME_SHA512_CRYPT:
		return crypt_hash("$6$", 0, password, hash_r, error_r);
	case AUTH_SCHEME_BCRYPT:
		return crypt_hash("$2b$", 0, password, hash_r, error_r);
	case AUTH_SCHEME_ARGON2ID: {
		if (sodium_ready() < 0) {
			*error_r = "libsodium initialisation failed";
			return -1;
		}
		char out[crypto_pwhash_STRBYTES];
		if (crypto_pwhash_str_alg(out, password, strlen(password),
					  crypto_pwhash_OPSLIMIT_INTERACTIVE,
					  crypto_pwhash_MEMLIMIT_INTERACTIVE,
					  crypto_pwhash_ALG_ARGON2ID13) != 0) {
			*error_r = "argon2id hashing failed (out of memory?)";
			return -1;
		}
		*hash_r = xstrdup(out);
		return 1;
	}
	}
	*error_r = "unknown password scheme";
	return -1;
}

bool auth_hash_supported(const char *hash)
{
	hash = strip_prefix(hash);
	return strncmp(hash, "$y$", 3) == 0 || strncmp(hash, "$6$", 3) == 0 ||
	       strncmp(hash, "$2b$", 4) == 0 || strncmp(hash, "$2y$", 4) == 0 ||
	       strncmp(hash, "$argon2id$", 10) == 0;
}

/* Constant-time comparison of two NUL-terminated strings (time depends only on
 * the length of a, the stored hash). */
static bool ct_streq(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned char diff = (unsigned char)(na != nb);
	for (size_t i = 0; i < na; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)(i < nb ? b[i] : 0);
	return diff == 0;
}

int auth_password_verify(const char *hash, const char *password, const char **error_r)
{
	hash = strip_prefix(hash);
	if (!auth_hash_supported(hash)) {
		*error_r = "unsupported password hash scheme";
		return -1;
	}
	size_t plen = strlen(password);
	if (plen == 0 || plen > AUTH_PASSWORD_MAX)
		return 0;
	if (strncmp(hash, "$argon2id$", 10) == 0) {
		if (sodium_ready() < 0) {
			*error_r = "libsodium initialisation failed";
			return -1;
		}
		if (strlen(hash) >= crypto_pwhash_STRBYTES) {
			*error_r = "corrupt argon2id hash";
			return -1;
		}
		return crypto_pwhash_str_verify(hash, password, plen) == 0 ? 1 : 0;
	}
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *h = crypt_r(password, hash, cd);
	int ret;
	if (h == NULL || h[0] == '*') {
		*error_r = "corrupt password hash";
		ret = -1;
	} else {
		ret = ct_streq(hash, h) ? 1 : 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ret;
}
