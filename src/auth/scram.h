/* scram.h: SCRAM-SHA-256 secrets (RFC 5802, RFC 7677): what the server stores so that
 * it can check a SCRAM login without knowing the password.
 *
 * A secret is made from the password when it is set (user add, user passwd) or when
 * the password is next seen in a PLAIN/LOGIN/USER login (login.c), and kept next to
 * the crypt(3) hash. Its text form is the one PostgreSQL uses:
 *   SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
 * with SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations),
 * StoredKey = SHA-256(HMAC(SaltedPassword, "Client Key")) and
 * ServerKey = HMAC(SaltedPassword, "Server Key"). The password is used as the UTF-8
 * bytes it arrives in: SASLprep (RFC 4013) is not applied, which changes nothing for
 * ASCII passwords (see docs/security.md). OpenSSL does the PBKDF2 and HMACs,
 * libsodium the salt. */
#ifndef POSTAMT_AUTH_SCRAM_H
#define POSTAMT_AUTH_SCRAM_H

#include <stddef.h>

#define AUTH_SCRAM_ITERATIONS_MIN 4096      /* RFC 7677 §4 */
#define AUTH_SCRAM_ITERATIONS_MAX 10000000
#define AUTH_SCRAM_ITERATIONS_DEFAULT 10000 /* auth.scram_iterations */
#define AUTH_SCRAM_SALT_LEN 16
#define AUTH_SCRAM_SALT_MAX 64
#define AUTH_SCRAM_KEY_LEN 32 /* SHA-256 */

struct auth_scram_secret {
	unsigned iterations;
	unsigned char salt[AUTH_SCRAM_SALT_MAX];
	size_t salt_len;
	unsigned char stored_key[AUTH_SCRAM_KEY_LEN];
	unsigned char server_key[AUTH_SCRAM_KEY_LEN];
};

/* Makes the secret of password with a fresh random salt. Returns 1 and a malloc'd
 * string in *secret_r (caller frees), or -1 with *error_r (static text): empty
 * password, iterations out of range. Costs `iterations` HMACs (~4 ms for 10000):
 * call off the event loop. */
int auth_scram_secret_make(const char *password, unsigned iterations, char **secret_r, const char **error_r);
/* Same with the given salt (1..AUTH_SCRAM_SALT_MAX bytes), for tests. */
int auth_scram_secret_make_salt(const char *password, const void *salt, size_t salt_len, unsigned iterations,
				char **secret_r, const char **error_r);
/* Parses a secret string. Returns 1 and *out_r, or -1 with *error_r. */
int auth_scram_secret_parse(const char *s, struct auth_scram_secret *out_r, const char **error_r);

/* HMAC-SHA-256 of data under key into out (32 bytes). */
void auth_scram_hmac(const void *key, size_t key_len, const void *data, size_t len,
		     unsigned char out[AUTH_SCRAM_KEY_LEN]);

#endif
