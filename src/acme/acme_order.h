/* acme_order.h: the ACME protocol (RFC 8555 §7) over acme_net: directory, nonces,
 * account, order, authorizations and their challenges, finalize, download, and
 * renewalInfo (RFC 9773). Runs on the ACME thread; every step logs a line. */
#ifndef POSTAMT_ACME_ORDER_H
#define POSTAMT_ACME_ORDER_H

#include "acme_net.h"

struct tls_challenges;

enum acme_challenge_pref { ACME_CH_ANY, ACME_CH_TLS_ALPN, ACME_CH_HTTP };

struct acme_client {
	struct acme_net net;
	EVP_PKEY *account_key;
	const char *directory_url;
	const char *email;      /* or "" */
	enum acme_challenge_pref pref;
	struct tls_challenges *challenges;
	int poll_max;           /* polls of an authorization or order before giving up */
	/* waits seconds unless stopping; returns -1 when stopping */
	int (*sleep)(void *ctx, int seconds);
	void *sleep_ctx;
	/* per run (reset by acme_client_begin) */
	struct arena *a;
	struct acme_directory dir;
	bool have_dir;
	const char *kid;
	const char *nonce;
	long retry_after; /* the last answer's Retry-After, or -1 */
};

/* Starts a run: a fresh arena, directory and nonce. */
void acme_client_begin(struct acme_client *c);
/* Ends the run: frees the arena. */
void acme_client_end(struct acme_client *c);
/* Fetches the directory (if not yet) and registers or finds the account. Returns
 * 1, or -1 with *error_r. */
int acme_account(struct acme_client *c, const char **error_r);
/* Orders a certificate for names[0..n) with a new key (P-256, or RSA-2048 when
 * rsa), answering challenges through c->challenges; replaces is the ARI
 * identifier of the certificate it renews, or NULL. Returns 1 with the checked PEM
 * chain (*pem_r, in c->a) and its key (*key_r, new reference), or -1 with
 * *error_r. */
int acme_order_certificate(struct acme_client *c, const char *const *names, size_t n, bool rsa,
			   const char *replaces, char **pem_r, size_t *len_r, EVP_PKEY **key_r,
			   const char **error_r);
/* Asks the CA's renewalInfo about certificate cert_id. Returns 1 with *ri, 0 when
 * the CA has no renewalInfo, or -1 with *error_r. */
int acme_renewal_info(struct acme_client *c, const char *cert_id, struct acme_renewal_info *ri,
		      const char **error_r);

#endif
