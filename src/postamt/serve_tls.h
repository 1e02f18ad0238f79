/* serve_tls.h: the one owner of the listeners' certificate: it builds the TLS
 * context every server takes (through conn_shared: SMTP, submissions, POP3, IMAP,
 * HTTPS and any server added on the same conn_shared, ManageSieve included), from
 * the ACME certificate under DIR/tls/acme when acme.directory is set and one is
 * there, else from tls.cert and tls.key; it runs the ACME client and swaps each new
 * certificate in for new handshakes (open connections keep theirs). */
#ifndef POSTAMT_SERVE_TLS_H
#define POSTAMT_SERVE_TLS_H

#include "acme.h"
#include "config.h"

typedef struct ssl_ctx_st SSL_CTX;
struct conn_shared;
struct dns;
struct tls_challenges;

struct serve_tls {
	struct conn_shared *shared;        /* where contexts are installed */
	struct dns *dns;                   /* the resolver the ACME client asks for the CA's name */
	struct tls_challenges *challenges; /* pending ACME answers (served by webd and the hook) */
	struct acme *acme;                 /* NULL when acme.directory is empty */
	bool acme_on;
	char *ca_pem;            /* acme.ca_file, read at start (as root) */
	char install_error[512]; /* the ACME thread's last install error */
};

/* Sets up t for cfg (no thread yet) and reads acme.ca_file. Returns 1, or -1 with
 * a message in err. */
int serve_tls_init(struct serve_tls *t, const struct config *cfg, char *err, size_t errlen);
/* The context for cfg as described above. Returns a new context, or NULL with a
 * message in err. */
SSL_CTX *serve_tls_ctx(struct serve_tls *t, const struct config *cfg, char *err, size_t errlen);
/* Starts the ACME client when acme.directory is set (the working directory is DIR,
 * privileges dropped, t->shared set). Returns 1, or -1 with a message in err. */
int serve_tls_start_acme(struct serve_tls *t, const struct config *cfg, char *err, size_t errlen);
/* The certificate status for the admin page: the ACME state when ACME runs, else
 * the facts of tls.cert. Returns 1, or -1 when there is no certificate to read. */
int serve_tls_status(struct serve_tls *t, const struct config *cfg, struct acme_status *st);
/* Stops the ACME thread (first, while the loops still run) and frees the rest. */
void serve_tls_stop(struct serve_tls *t);
void serve_tls_free(struct serve_tls *t);

#endif
