/* tls_challenge.h: the answers to ACME challenges that the listeners give while an
 * order is pending, shared by the ACME client (which puts them here) and the servers
 * (which serve them).
 *
 * http-01 (RFC 8555 §8.3): a token and its key authorization, served by webd at
 * /.well-known/acme-challenge/TOKEN on the HTTP port. tls-alpn-01 (RFC 8737): a
 * self-signed certificate with the acmeIdentifier extension per name, presented on
 * the HTTPS port to a client that offers only the ALPN protocol "acme-tls/1" for
 * that name (SNI). The table is behind one mutex (tls_challenges.lock); any thread. */
#ifndef POSTAMT_LIB_TLS_CHALLENGE_H
#define POSTAMT_LIB_TLS_CHALLENGE_H

#include <stddef.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;

struct tls_challenges;

/* Limits of what the table holds (the ACME client refuses larger values). */
#define TLS_CHALLENGE_TOKEN_MAX 128   /* bytes of an http-01 token */
#define TLS_CHALLENGE_KEYAUTH_MAX 256 /* bytes of a key authorization */
#define TLS_CHALLENGE_ENTRIES 64      /* pending challenges of each kind */

/* A new, empty table. Never NULL. */
struct tls_challenges *tls_challenges_new(void);
/* Frees the table and what it holds; only when no context uses it any more. */
void tls_challenges_free(struct tls_challenges **chp);
/* The local port tls-alpn-01 is answered on (the HTTPS listener); 0: any port. */
void tls_challenges_set_port(struct tls_challenges *ch, int port);

/* Adds or replaces the http-01 answer for token. Returns 1, or -1 when the token
 * is not a base64url word, a value is too long or the table is full. */
int tls_challenges_put_http(struct tls_challenges *ch, const char *token, const char *keyauth);
/* Copies the key authorization for token into out (NUL-terminated). Returns 1, or
 * 0 when there is none (or it does not fit). */
int tls_challenges_get_http(struct tls_challenges *ch, const char *token, char *out, size_t outlen);
/* Adds or replaces the tls-alpn-01 certificate for name (a DNS name, compared
 * without case); takes its own references to cert and key. Returns 1, or -1. */
int tls_challenges_put_alpn(struct tls_challenges *ch, const char *name, X509 *cert, EVP_PKEY *key);
/* Removes every answer of both kinds (an order ended). */
void tls_challenges_clear(struct tls_challenges *ch);

/* Makes ctx answer tls-alpn-01 from ch: a ClientHello that offers "acme-tls/1" for
 * a name with a pending challenge on ch's port gets that name's challenge
 * certificate and the ALPN protocol acme-tls/1; every other handshake is untouched.
 * ch must outlive ctx. */
void tls_server_ctx_use_challenges(SSL_CTX *ctx, struct tls_challenges *ch);

#endif
