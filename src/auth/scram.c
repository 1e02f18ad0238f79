/* scram.c: SCRAM-SHA-256 secrets (see scram.h).
 *
 * Pure functions apart from the random salt: the secret is derived with OpenSSL's
 * PKCS5_PBKDF2_HMAC and HMAC, and read back by a strict parser (every field present,
 * base64 canonical, keys exactly 32 bytes), so a corrupt row makes SCRAM fail rather
 * than check against garbage. */
#include "scram.h"

#include "auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_PREFIX "SCRAM-SHA-256$"

void auth_scram_hmac(const void *key, size_t key_len, const void *data, size_t len,
		     unsigned char out[AUTH_SCRAM_KEY_LEN])
{
	unsigned int n = AUTH_SCRAM_KEY_LEN;
	HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n);
}

int auth_scram_secret_make_salt(const char *password, const void *salt, size_t salt_len, unsigned iterations,
				char **secret_r, const char **error_r)
{
	size_t plen = strlen(password);
	if (plen == 0 || plen > AUTH_PASSWORD_MAX) {
		*error_r = plen == 0 ? "empty password" : "password too long";
		return -1;
	}
	if (iterations < AUTH_SCRAM_ITERATIONS_MIN || iterations > AUTH_SCRAM_ITERATIONS_MAX) {
		*error_r = "SCRAM iteration count out of range";
		return -1;
	}
	if (salt_len == 0 || salt_len > AUTH_SCRAM_SALT_MAX) {
		*error_r = "bad SCRAM salt length";
		return -1;
	}
	unsigned char salted[AUTH_SCRAM_KEY_LEN], client_key[AUTH_SCRAM_KEY_LEN];
	unsigned char stored_key[AUTH_SCRAM_KEY_LEN], server_key[AUTH_SCRAM_KEY_LEN];
	if (PKCS5_PBKDF2_HMAC(password, (int)plen, salt, (int)salt_len, (int)iterations, EVP_sha256(),
			      sizeof(salted), salted) != 1) {
		*error_r = "PBKDF2 failed";
		return -1;
	}
	auth_scram_hmac(salted, sizeof(salted), "Client Key", 10, client_key);
	SHA256(client_key, sizeof(client_key), stored_key);
	auth_scram_hmac(salted, sizeof(salted), "Server Key", 10, server_key);
	struct arena *a = arena_new();
	char *s = arena_printf(a, SECRET_PREFIX "%u:%s$%s:%s", iterations, auth_base64_encode(a, salt, salt_len),
			       auth_base64_encode(a, stored_key, sizeof(stored_key)),
			       auth_base64_encode(a, server_key, sizeof(server_key)));
	*secret_r = xstrdup(s);
	arena_free(&a);
	sodium_memzero(salted, sizeof(salted));
	sodium_memzero(client_key, sizeof(client_key));
	return 1;
}

int auth_scram_secret_make(const char *password, unsigned iterations, char **secret_r, const char **error_r)
{
	unsigned char salt[AUTH_SCRAM_SALT_LEN];
	randombytes_buf(salt, sizeof(salt));
	return auth_scram_secret_make_salt(password, salt, sizeof(salt), iterations, secret_r, error_r);
}

/* Decodes the base64 field [p, end) into out (exactly want bytes, or 1..want when
 * *len_r is given). */
static int field(struct arena *a, const char *p, const char *end, unsigned char *out, size_t want,
		 size_t *len_r)
{
	char *dec;
	size_t n;
	const char *error;
	if (end <= p || auth_base64_decode(a, (struct bytes){ p, (size_t)(end - p) }, &dec, &n, &error) < 0)
		return -1;
	if (len_r != NULL ? n == 0 || n > want : n != want)
		return -1;
	memcpy(out, dec, n);
	if (len_r != NULL)
		*len_r = n;
	return 1;
}

int auth_scram_secret_parse(const char *s, struct auth_scram_secret *out_r, const char **error_r)
{
	*error_r = "malformed SCRAM secret";
	if (s == NULL || strncmp(s, SECRET_PREFIX, strlen(SECRET_PREFIX)) != 0)
		return -1;
	const char *p = s + strlen(SECRET_PREFIX);
	char *colon1;
	unsigned long it = strtoul(p, &colon1, 10);
	if (colon1 == p || *colon1 != ':' || it < AUTH_SCRAM_ITERATIONS_MIN || it > AUTH_SCRAM_ITERATIONS_MAX)
		return -1;
	const char *salt = colon1 + 1;
	const char *dollar = strchr(salt, '$');
	if (dollar == NULL)
		return -1;
	const char *stored = dollar + 1;
	const char *colon2 = strchr(stored, ':');
	if (colon2 == NULL)
		return -1;
	const char *server = colon2 + 1;
	const char *end = server + strlen(server);
	struct arena *a = arena_new();
	int r = -1;
	if (field(a, salt, dollar, out_r->salt, sizeof(out_r->salt), &out_r->salt_len) > 0 &&
	    field(a, stored, colon2, out_r->stored_key, AUTH_SCRAM_KEY_LEN, NULL) > 0 &&
	    field(a, server, end, out_r->server_key, AUTH_SCRAM_KEY_LEN, NULL) > 0) {
		out_r->iterations = (unsigned)it;
		r = 1;
	}
	arena_free(&a);
	return r;
}
