/* acme_int.h: the ACME client's parts, for its own files, the unit tests and the
 * fuzz targets.
 *
 * Pure parts (bytes in, no sockets): acme_http.c (URLs, the HTTP/1.1 response of a
 * CA), acme_json.c (the JSON objects of RFC 8555 §7.1 and RFC 9773's renewalInfo),
 * acme_jws.c (JWK, thumbprint, JWS with ES256), acme_x509.c (CSR, tls-alpn-01
 * certificate, chain checks, certificate facts). I/O: acme_net.c (one HTTPS
 * exchange with a deadline), acme_order.c (the protocol), acme.c (the thread that
 * schedules orders and installs what they bring). Strings the parsers return live
 * in the caller's arena. */
#ifndef POSTAMT_ACME_INT_H
#define POSTAMT_ACME_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct arena;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

/* ---- acme_http.c ---- */

#define ACME_HOST_MAX 253
#define ACME_URL_MAX 2048
#define ACME_HTTP_HEAD_MAX (16 * 1024) /* bytes of a response's status line and fields */

struct acme_url {
	char host[ACME_HOST_MAX + 1]; /* without brackets for IPv6 */
	char port[6];
	char path[ACME_URL_MAX + 1]; /* with the query, at least "/" */
};

/* Parses an https:// URL (RFC 8555 §6.1: ACME is HTTPS only). Returns 1, or -1 with
 * *error_r. */
int acme_url_parse(const char *url, struct acme_url *u, const char **error_r);

struct acme_http_response {
	int status;
	const char *nonce;         /* Replay-Nonce or NULL */
	const char *location;      /* Location or NULL */
	const char *ctype;         /* Content-Type without parameters, lower case, or NULL */
	long retry_after;          /* Retry-After in seconds, -1 when absent or not a number */
	const unsigned char *body; /* NUL-terminated after len bytes */
	size_t body_len;
};

/* Parses the HTTP/1.1 response in data[0..len) (everything read so far; eof: the
 * peer closed). The body is framed by Content-Length, chunked transfer coding or
 * the end of the connection; it may have at most body_max bytes. Returns 1 with
 * *r filled (strings in a), 0 when more bytes are needed, -1 with *error_r. */
int acme_http_response_parse(const unsigned char *data, size_t len, bool eof, size_t body_max, struct arena *a,
			     struct acme_http_response *r, const char **error_r);

/* ---- acme_json.c ---- */

enum acme_obj_status {
	ACME_PENDING,
	ACME_READY,
	ACME_PROCESSING,
	ACME_VALID,
	ACME_INVALID,
	ACME_EXPIRED,
	ACME_DEACTIVATED,
	ACME_REVOKED
};
/* The status word's name ("valid"). */
const char *acme_status_name(enum acme_obj_status s);

#define ACME_JSON_MAX (256 * 1024) /* bytes of one JSON answer */
#define ACME_LIST_MAX 100          /* identifiers, authorizations, challenges of one object */

struct acme_directory {
	const char *new_nonce, *new_account, *new_order; /* required */
	const char *renewal_info;                        /* RFC 9773 §4, or NULL */
	const char *terms;                               /* meta.termsOfService, or NULL */
	bool eab_required;                               /* meta.externalAccountRequired */
};

struct acme_problem {
	const char *type;   /* "urn:ietf:params:acme:error:badNonce", or "" */
	const char *detail; /* or "" */
	int status;         /* or 0 */
};

struct acme_account {
	enum acme_obj_status status;
};

struct acme_order {
	enum acme_obj_status status;
	const char **authorizations; /* URLs */
	size_t nauthorizations;
	const char *finalize;
	const char *certificate; /* or NULL before the order is valid */
	bool has_error;
	struct acme_problem error;
};

struct acme_challenge {
	const char *type; /* "http-01", "tls-alpn-01", ... */
	const char *url;
	const char *token; /* a base64url word, or NULL for types that have none */
	enum acme_obj_status status;
	bool has_error;
	struct acme_problem error;
};

struct acme_authz {
	const char *identifier; /* the DNS name */
	enum acme_obj_status status;
	bool wildcard;
	struct acme_challenge *challenges;
	size_t nchallenges;
};

struct acme_renewal_info {
	time_t start, end;       /* suggestedWindow */
	const char *explanation; /* explanationURL or NULL */
};

/* Each parses one JSON answer of at most ACME_JSON_MAX bytes strictly (an object,
 * no duplicate keys, the required members of the right type, every URL https).
 * Returns 1 with the result (strings in a), or -1 with *error_r. */
int acme_directory_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_directory *d,
			 const char **error_r);
int acme_account_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_account *acct,
		       const char **error_r);
int acme_order_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_order *o,
		     const char **error_r);
int acme_authz_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_authz *az,
		     const char **error_r);
int acme_challenge_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_challenge *c,
			 const char **error_r);
int acme_problem_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_problem *p,
		       const char **error_r);
int acme_renewal_info_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_renewal_info *ri,
			    const char **error_r);
/* The moment to renew in ri's window (RFC 9773 §4.2): start plus rnd modulo its
 * length; start for an empty window. */
time_t acme_renewal_pick(const struct acme_renewal_info *ri, uint32_t rnd);

#define ACME_RETRY_AFTER_MAX (7 * 86400) /* seconds a failed order waits at most */

/* Seconds to wait after the failures-th failed order in a row: initial doubled per
 * failure up to max, or the CA's retry_after (seconds, -1: none) when longer, never
 * more than ACME_RETRY_AFTER_MAX. */
long acme_retry_delay(int failures, long initial, long max, long retry_after);
/* An RFC 3339 date-time ("2025-01-02T03:04:05.678Z", "...+01:00") as seconds since
 * the epoch. Returns 1, or -1. */
int acme_time_parse(const char *s, time_t *t_r);

/* ---- acme_jws.c ---- */

/* base64url without padding (RFC 7515 §2) of data, in a. */
char *acme_b64url(struct arena *a, const unsigned char *data, size_t len);
/* Decodes base64url without padding into a (NUL-terminated after *len_r bytes).
 * Returns 1, or -1 on a character outside the alphabet or a bad length. */
int acme_b64url_decode(struct arena *a, const char *s, unsigned char **out_r, size_t *len_r);
/* A new ECDSA P-256 key. Never NULL (aborts when OpenSSL cannot make one). */
EVP_PKEY *acme_key_new_ec(void);
/* The public key as a JWK with its members in lexicographic order (RFC 7638 §3).
 * Returns the JSON text in a, or NULL when key is not a P-256 key. */
char *acme_jwk(struct arena *a, EVP_PKEY *key);
/* The JWK thumbprint (RFC 7638, SHA-256) in base64url, or NULL. */
char *acme_thumbprint(struct arena *a, EVP_PKEY *key);
/* The flattened JWS (RFC 8555 §6.2) of payload (NULL: POST-as-GET, the empty
 * payload) for url with nonce, identified by kid (the account URL) or, when kid is
 * NULL, by the JWK. Returns the JSON text in a, or NULL with *error_r. */
char *acme_jws(struct arena *a, EVP_PKEY *key, const char *kid, const char *nonce, const char *url, const char *payload,
	       const char **error_r);

/* ---- acme_x509.c ---- */

/* A DER CSR (PKCS #10) for names[0..n) (subjectAltName dNSName each, CN names[0])
 * signed by key. Returns 1 with *der_r in a, or -1 with *error_r. */
int acme_csr(struct arena *a, EVP_PKEY *key, const char *const *names, size_t n, unsigned char **der_r, size_t *len_r,
	     const char **error_r);
/* The tls-alpn-01 certificate for name (RFC 8737 §3): self-signed, a new P-256
 * key, subjectAltName dNSName name, the critical acmeIdentifier extension with the
 * SHA-256 of keyauth. Returns 1 with new *cert_r and *key_r, or -1. */
int acme_alpn_cert(const char *name, const char *keyauth, X509 **cert_r, EVP_PKEY **key_r, const char **error_r);

#define ACME_CHAIN_MAX 8 /* certificates in a chain */

struct acme_cert_info {
	char names[1024]; /* subjectAltName DNS names, ", " between */
	char issuer[256]; /* the issuer's name, one line */
	char serial[80];  /* hex */
	time_t not_before, not_after;
};

/* Checks a PEM chain before it may be installed: at most ACME_CHAIN_MAX
 * certificates, the first matches key and every one of names[0..n), is valid at
 * now, and each is signed by the next. Returns 1 with a new reference to the leaf
 * in *leaf_r (may be NULL), or -1 with *error_r. */
int acme_chain_check(const unsigned char *pem, size_t len, EVP_PKEY *key, const char *const *names, size_t n,
		     time_t now, X509 **leaf_r, const char **error_r);
/* The facts the status shows about cert. */
void acme_cert_info(X509 *cert, struct acme_cert_info *info);
/* The ARI certificate identifier (RFC 9773 §4.1): base64url(authority key
 * identifier) "." base64url(serial), in a; NULL when cert has no key identifier. */
char *acme_ari_cert_id(struct arena *a, X509 *cert);

#endif
