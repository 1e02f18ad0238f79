/* tls.h: OpenSSL 3 contexts for the server side, and self-signed certificates.
 *
 * A server context enforces TLS 1.2 as the minimum (RFC 8996), keeps a session cache
 * and tickets for resumption, releases idle buffers (SSL_MODE_RELEASE_BUFFERS) and
 * answers ALPN for HTTPS. Contexts are reference counted by OpenSSL: a reload builds
 * a new one and connections keep the one they started with. */
#ifndef POSTAMT_LIB_TLS_H
#define POSTAMT_LIB_TLS_H

#include <stddef.h>
#include <time.h>

typedef struct ssl_ctx_st SSL_CTX;

/* Loads cert (PEM chain) and key. Returns a new context, or NULL with a message in
 * err. */
SSL_CTX *tls_server_ctx_new(const char *cert_path, const char *key_path, char *err, size_t errlen);
/* Writes a new RSA-2048 key (mode 0600) and a self-signed certificate valid for ten
 * years for hostname with subjectAltName hostname, localhost and 127.0.0.1. Returns
 * 1, or -1 with a message in err. */
int tls_write_self_signed(const char *cert_path, const char *key_path, const char *hostname, char *err,
			  size_t errlen);

/* What the admin pages show of a certificate. */
struct tls_cert_info {
	char subject[256];  /* the subject's CN, or the whole subject line */
	char issuer[256];   /* the issuer's CN (or O), or the whole issuer line */
	char names[1024];   /* the DNS and IP subjectAltNames, separated by ", " */
	time_t not_before, not_after;
};
/* Reads the first certificate of the PEM file at path. Returns 1, or -1 with a
 * message in err. */
int tls_cert_file_info(const char *path, struct tls_cert_info *info, char *err, size_t errlen);

#endif
