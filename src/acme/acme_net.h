/* acme_net.h: one HTTPS exchange with the CA, blocking on the ACME thread, with a
 * deadline for the whole exchange (connect, handshake, request, response), so a CA
 * that hangs delays only the next ACME step, never a loop. The CA's certificate is
 * verified against the system's trust store and acme.ca_file, with its name. */
#ifndef POSTAMT_ACME_NET_H
#define POSTAMT_ACME_NET_H

#include "acme_int.h"

#include <pthread.h>

typedef struct ssl_ctx_st SSL_CTX;

struct dns;

struct acme_net {
	SSL_CTX *ctx;
	int timeout_ms;       /* acme.timeout, for one whole exchange */
	size_t response_max;  /* acme.response_max: bytes of a response body */
	pthread_mutex_t lock; /* guards fd and stopping */
	int fd;               /* the socket of the exchange under way, or -1 */
	bool stopping;        /* acme_net_cancel: no exchange starts or goes on */
	struct dns *dns;      /* the server's resolver (dns.*), or NULL: getaddrinfo */
};

/* Sets up n: the system's trust store plus the PEM certificates in ca_pem (NULL or
 * "": none). Returns 1, or -1 with a message in err. */
int acme_net_init(struct acme_net *n, const char *ca_pem, int timeout_ms, size_t response_max, char *err,
		  size_t errlen);
/* Frees what acme_net_init made. */
void acme_net_free(struct acme_net *n);
/* Any thread: ends the exchange under way and refuses further ones. */
void acme_net_cancel(struct acme_net *n);
/* Sends method to url with body (NULL: none) of type ctype and reads the answer
 * into *r (strings in a). accept names the wanted type (NULL: any). Returns 1, or -1
 * with *error_r (in a). */
int acme_https(struct acme_net *n, const char *method, const char *url, const char *ctype, const char *accept,
	       const char *body, struct arena *a, struct acme_http_response *r, const char **error_r);

#endif
