/* acme.h: certificates that renew themselves (RFC 8555 ACME, RFC 8737
 * tls-alpn-01, http-01, RFC 9773 renewal information).
 *
 * acme_start runs a thread of its own that keeps a certificate for the configured
 * names under DIR/tls/acme/ (files 0600: account.key, key.pem, cert.pem, status):
 * it orders one when there is none (or it lacks a name), renews it at two thirds of
 * its lifetime or earlier when the CA's renewalInfo window says so, retries a failed
 * order with exponential backoff (and the CA's Retry-After), and hands every new
 * certificate to the caller's install function, which swaps it onto every TLS
 * listener. Until then, and whenever an order fails, the previous certificate stays
 * in use. The thread blocks only itself (every exchange has acme.timeout), and
 * acme_status gives the admin page and `postamt tls status` the current state. The
 * working directory must be DIR. */
#ifndef POSTAMT_ACME_H
#define POSTAMT_ACME_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct dns;
struct tls_challenges;

#define ACME_DIR "tls/acme"
#define ACME_ACCOUNT_FILE "tls/acme/account.key"
#define ACME_KEY_FILE "tls/acme/key.pem"
#define ACME_CERT_FILE "tls/acme/cert.pem"
#define ACME_STATUS_FILE "tls/acme/status"

enum acme_challenge_mode { ACME_CHALLENGE_ANY, ACME_CHALLENGE_TLS_ALPN, ACME_CHALLENGE_HTTP };

struct acme_settings {
	const char *directory;    /* acme.directory: the CA's directory URL (https) */
	const char *email;        /* acme.email: the account's contact, or "" */
	const char *ca_pem;       /* acme.ca_file's PEM text (read before privileges drop), or NULL */
	struct dns *dns;          /* the resolver for the CA's name (dns.*), or NULL: getaddrinfo */
	const char *const *names; /* hostname, then acme.names; copied */
	size_t nnames;
	enum acme_challenge_mode challenge; /* acme.challenge */
	bool rsa;                           /* acme.key_type = rsa: RSA-2048 instead of P-256 */
	int timeout_ms;                     /* acme.timeout: one HTTPS exchange */
	size_t response_max;                /* acme.response_max: bytes of one answer's body */
	int retry_initial;                  /* acme.retry_initial: seconds before the first retry */
	int retry_max;                      /* acme.retry_max: the longest wait between retries */
	int poll_max;                       /* acme.poll_max: polls of an authorization or order */
};

/* Installs the certificate chain and key at the two paths (relative to DIR) on
 * every listener; called on the ACME thread. Returns 1, or -1 with *error_r. */
typedef int acme_install_fn(void *ctx, const char *cert_path, const char *key_path, const char **error_r);

struct acme;

/* Starts the ACME thread. ch is where challenge answers go (the listeners serve
 * them); it must outlive the thread. Returns the client, or NULL with a message in
 * err (account key unreadable, acme.ca_file unusable, ...). */
struct acme *acme_start(const struct acme_settings *s, struct tls_challenges *ch, acme_install_fn *install, void *ctx,
			char *err, size_t errlen);
/* Stops the thread (ending an exchange under way) and frees the client. *ap = NULL. */
void acme_stop(struct acme **ap);

/* Held while the thread replaces key.pem and cert.pem and installs them: a reader
 * of the two files (a reload) takes it so as never to see a new key with an old
 * chain. Any thread but the ACME thread; never inside the install function. */
void acme_files_lock(struct acme *acme);
void acme_files_unlock(struct acme *acme);

struct acme_status {
	bool have_cert;
	char names[1024]; /* the certificate's DNS names, ", " between */
	char issuer[256];
	char serial[80]; /* hex */
	time_t not_before, not_after;
	char state[16];       /* "starting", "ordering", "valid", "failing" */
	time_t next_renewal;  /* when the next order starts (0: unknown) */
	time_t last_success;  /* when the last certificate was installed (0: not yet) */
	char last_error[512]; /* the last failed order's reason, or "" */
};

/* Copies the current state into *st (any thread). Returns 1. */
int acme_status(struct acme *acme, struct acme_status *st);
/* Writes st as "key: value" lines (the format of ACME_STATUS_FILE and of `postamt
 * tls status`) into buf. Returns the length snprintf would give. */
int acme_status_format(const struct acme_status *st, char *buf, size_t len);
/* Fills the certificate part of *st from the first certificate of the PEM file at
 * path. Returns 1, 0 when the file does not exist, -1 when it holds no certificate. */
int acme_status_from_file(const char *path, struct acme_status *st);

#endif
