/* auth.h: password hashes and SASL decoding (the auth module's public API).
 *
 * Password hashing is deliberately slow (~100 ms, up to 64 MiB for argon2id), so
 * callers on an event loop run auth_password_hash() and auth_password_verify() on the
 * worker pool (pool.h), never on the loop. Hashes are crypt(3) strings interchangeable
 * with Dovecot's {CRYPT} and {ARGON2ID} schemes: yescrypt "$y$" (the default),
 * SHA-512-crypt "$6$", bcrypt "$2b$" through libxcrypt, and "$argon2id$" through
 * libsodium. The SASL functions are pure decoders of client responses (RFC 4616
 * PLAIN, the LOGIN mechanism) with no I/O, so they are unit- and fuzz-testable;
 * protocols use them through the one SASL exchange (sasl.h), which adds
 * SCRAM-SHA-256 (scram.h). */
#ifndef POSTAMT_AUTH_H
#define POSTAMT_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"

enum auth_scheme {
	AUTH_SCHEME_DEFAULT = 0, /* yescrypt */
	AUTH_SCHEME_YESCRYPT,
	AUTH_SCHEME_ARGON2ID,
	AUTH_SCHEME_SHA512_CRYPT, /* for tests and imports; not recommended */
	AUTH_SCHEME_BCRYPT,
};

/* Longest password accepted by hash and verify (bytes). */
#define AUTH_PASSWORD_MAX 1024

/* Hashes password with scheme and a fresh random salt. Returns 1 and a malloc'd hash
 * string in *hash_r (caller frees), or -1 with *error_r (static text). Slow: call
 * off the event loop. Empty passwords and passwords with control bytes are refused. */
int auth_password_hash(enum auth_scheme scheme, const char *password, char **hash_r,
		       const char **error_r);

/* Checks password against a stored hash ("$y$...", "$6$...", "$2b$...",
 * "$argon2id$...", optionally prefixed "{CRYPT}" or "{ARGON2ID}" as Dovecot writes
 * them). Returns 1 on match, 0 on mismatch, -1 with *error_r for an unknown or
 * corrupt hash. Runs in constant time with respect to the password. Slow. */
int auth_password_verify(const char *hash, const char *password, const char **error_r);

/* True if hash is in a scheme we can verify. */
bool auth_hash_supported(const char *hash);

/* Parses a scheme name ("yescrypt", "argon2id", "sha512-crypt", "bcrypt").
 * Returns 1, or -1 if unknown. */
int auth_scheme_parse(const char *name, enum auth_scheme *scheme_r);

/* Decodes standard base64 (RFC 4648, padding optional, no whitespace). A lone "="
 * decodes to the empty string (SASL's empty initial response). Returns 1 with the
 * bytes in *out_r (arena memory, NUL-terminated, may contain NULs) and *len_r, or -1
 * with *error_r on invalid input. */
int auth_base64_decode(struct arena *a, struct bytes in, char **out_r, size_t *len_r,
		       const char **error_r);
/* Encodes bytes as base64 into the arena (NUL-terminated). */
char *auth_base64_encode(struct arena *a, const void *data, size_t len);

struct auth_sasl_plain {
	const char *authzid; /* "" when absent */
	const char *authcid; /* the login name (an address); never empty */
	const char *password; /* never empty */
};

/* Decodes a SASL PLAIN response (RFC 4616): base64 of authzid NUL authcid NUL passwd.
 * b64 is the client's line without CRLF. Returns 1 and *out_r (strings in the
 * arena), or -1 with *error_r: bad base64, wrong number of NUL separators, empty
 * authcid or password, a field over 255 bytes (AUTH_PASSWORD_MAX for the password),
 * or a control byte in a field. The caller decides whether a non-empty authzid
 * different from authcid is acceptable. */
int auth_sasl_plain_decode(struct arena *a, struct bytes b64, struct auth_sasl_plain *out_r,
			   const char **error_r);
/* Same on an already-decoded message (no base64). */
int auth_sasl_plain_parse(struct arena *a, struct bytes msg, struct auth_sasl_plain *out_r,
			  const char **error_r);

/* The LOGIN mechanism's two base64 challenges. */
#define AUTH_SASL_LOGIN_USER_CHALLENGE "VXNlcm5hbWU6" /* "Username:" */
#define AUTH_SASL_LOGIN_PASS_CHALLENGE "UGFzc3dvcmQ6" /* "Password:" */

/* Decodes one LOGIN step (base64 of the user name or the password). Returns 1 with
 * a NUL-terminated string in *out_r (arena), or -1 with *error_r on bad base64, an
 * empty value, a NUL or control byte, or a value over AUTH_PASSWORD_MAX bytes. */
int auth_sasl_login_decode(struct arena *a, struct bytes b64, const char **out_r,
			   const char **error_r);

/* True if the client response is "*" (the client cancels the exchange, RFC 4954). */
bool auth_sasl_is_cancel(struct bytes line);

#endif
