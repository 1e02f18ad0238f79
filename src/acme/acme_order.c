/* acme_order.c: one ACME run (see acme_order.h): the directory (RFC 8555 §7.1.1),
 * a nonce (§7.2), the account (§7.3), an order (§7.4) whose authorizations are
 * answered by tls-alpn-01 (RFC 8737) or http-01 (§8.3), finalize with a CSR,
 * polling with the CA's Retry-After, download and the chain checks of acme_x509.c.
 * Every POST is a JWS (acme_jws.c); a badNonce answer is retried with the fresh
 * nonce the answer carries (§6.5). Every step logs an event=acme_* line. */
#include "acme_order.h"

#include "arena.h"
#include "log.h"
#include "tls_challenge.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define JOSE "application/jose+json"
#define NONCE_RETRIES 5
#define NONCE_MAX 256

void acme_client_begin(struct acme_client *c)
{
	c->a = arena_new();
	c->have_dir = false;
	c->kid = NULL;
	c->nonce = NULL;
	c->retry_after = -1;
}

void acme_client_end(struct acme_client *c)
{
	arena_free(&c->a);
}

static bool nonce_ok(const char *n)
{
	size_t len = strlen(n);
	return len > 0 && len <= NONCE_MAX &&
	       strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == len;
}

/* Keeps the answer's nonce and Retry-After. */
static void note_answer(struct acme_client *c, const struct acme_http_response *r)
{
	if (r->nonce != NULL && nonce_ok(r->nonce))
		c->nonce = r->nonce;
	c->retry_after = r->retry_after;
}

/* An error answer as text: the problem document's type and detail. */
static const char *problem_text(struct acme_client *c, const struct acme_http_response *r, const char **type_r)
{
	struct acme_problem p;
	const char *e;
	*type_r = "";
	if (r->body_len > 0 && acme_problem_parse(r->body, r->body_len, c->a, &p, &e) > 0) {
		*type_r = p.type;
		return arena_printf(c->a, "HTTP %d %s: %s", r->status, p.type, p.detail);
	}
	return arena_printf(c->a, "HTTP %d without a problem document", r->status);
}

static int get_directory(struct acme_client *c, const char **error_r)
{
	if (c->have_dir)
		return 1;
	struct acme_http_response r;
	if (acme_https(&c->net, "GET", c->directory_url, NULL, "application/json", NULL, c->a, &r, error_r) < 0)
		return -1;
	if (r.status != 200) {
		const char *t;
		*error_r = arena_printf(c->a, "directory: %s", problem_text(c, &r, &t));
		return -1;
	}
	const char *e;
	if (acme_directory_parse(r.body, r.body_len, c->a, &c->dir, &e) < 0) {
		*error_r = arena_printf(c->a, "directory refused: %s", e);
		return -1;
	}
	if (c->dir.eab_required) {
		*error_r = "the CA requires external account binding, which postamt does not support";
		return -1;
	}
	c->have_dir = true;
	log_info("event=acme_directory url=%s renewal_info=%s", LOG_Q(c->directory_url),
		 c->dir.renewal_info ? "yes" : "no");
	return 1;
}

static int new_nonce(struct acme_client *c, const char **error_r)
{
	struct acme_http_response r;
	if (acme_https(&c->net, "GET", c->dir.new_nonce, NULL, NULL, NULL, c->a, &r, error_r) < 0)
		return -1;
	if ((r.status != 200 && r.status != 204) || r.nonce == NULL || !nonce_ok(r.nonce)) {
		*error_r = arena_printf(c->a, "newNonce: no usable Replay-Nonce (HTTP %d)", r.status);
		return -1;
	}
	c->nonce = r.nonce;
	return 1;
}

/* POSTs payload (NULL: POST-as-GET) as a JWS; retries badNonce. Returns 1 with a
 * 2xx answer in *r, or -1 with *error_r. */
static int post(struct acme_client *c, const char *url, const char *payload, const char *accept,
		struct acme_http_response *r, const char **error_r)
{
	for (int attempt = 0;; attempt++) {
		if (c->nonce == NULL && new_nonce(c, error_r) < 0)
			return -1;
		const char *jws = acme_jws(c->a, c->account_key, c->kid, c->nonce, url, payload, error_r);
		if (jws == NULL)
			return -1;
		c->nonce = NULL; /* used */
		if (acme_https(&c->net, "POST", url, JOSE, accept, jws, c->a, r, error_r) < 0)
			return -1;
		note_answer(c, r);
		if (r->status >= 200 && r->status < 300)
			return 1;
		const char *type;
		const char *text = problem_text(c, r, &type);
		if (strcmp(type, "urn:ietf:params:acme:error:badNonce") == 0 && attempt < NONCE_RETRIES) {
			log_info("event=acme_bad_nonce url=%s attempt=%d", LOG_Q(url), attempt + 1);
			continue;
		}
		*error_r = text;
		return -1;
	}
}

int acme_account(struct acme_client *c, const char **error_r)
{
	if (get_directory(c, error_r) < 0)
		return -1;
	if (c->kid != NULL)
		return 1;
	json_t *p = json_object();
	json_object_set_new(p, "termsOfServiceAgreed", json_true());
	if (c->email != NULL && c->email[0] != '\0') {
		char *mailto = arena_printf(c->a, "mailto:%s", c->email);
		json_object_set_new(p, "contact", json_pack("[s]", mailto));
	}
	char *text = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	const char *payload = arena_strdup(c->a, text);
	free(text);
	struct acme_http_response r;
	if (post(c, c->dir.new_account, payload, NULL, &r, error_r) < 0) {
		*error_r = arena_printf(c->a, "account: %s", *error_r);
		return -1;
	}
	struct acme_account acct;
	const char *e;
	struct acme_url u;
	if (r.location == NULL || acme_url_parse(r.location, &u, &e) < 0) {
		*error_r = "account: the CA gave no account URL";
		return -1;
	}
	if (acme_account_parse(r.body, r.body_len, c->a, &acct, &e) < 0) {
		*error_r = arena_printf(c->a, "account refused: %s", e);
		return -1;
	}
	if (acct.status != ACME_VALID) {
		*error_r = arena_printf(c->a, "account is %s", acme_status_name(acct.status));
		return -1;
	}
	c->kid = r.location;
	log_info("event=acme_account url=%s status=%s", LOG_Q(c->kid), r.status == 201 ? "created" : "existing");
	return 1;
}

static int wait_retry(struct acme_client *c)
{
	long s = c->retry_after;
	if (s < 1)
		s = 1;
	if (s > 10)
		s = 10; /* an order waits on the CA for seconds, not hours */
	return c->sleep(c->sleep_ctx, (int)s);
}

/* Answers one authorization and polls it until it is valid. */
static int authorize(struct acme_client *c, const char *url, const char *thumb, const char **error_r)
{
	struct acme_http_response r;
	struct acme_authz az;
	const char *e;
	if (post(c, url, NULL, NULL, &r, error_r) < 0)
		return -1;
	if (acme_authz_parse(r.body, r.body_len, c->a, &az, &e) < 0) {
		*error_r = arena_printf(c->a, "authorization refused: %s", e);
		return -1;
	}
	if (az.status == ACME_VALID) {
		log_info("event=acme_authorization name=%s status=valid note=reused", LOG_Q(az.identifier));
		return 1;
	}
	if (az.status != ACME_PENDING) {
		*error_r = arena_printf(c->a, "authorization for %s is %s", az.identifier, acme_status_name(az.status));
		return -1;
	}
	const struct acme_challenge *pick = NULL;
	for (int round = 0; round < 2 && pick == NULL; round++) {
		const char *want = round == 0 ? (c->pref == ACME_CH_HTTP ? "http-01" : "tls-alpn-01")
					      : (c->pref == ACME_CH_ANY ? "http-01" : NULL);
		for (size_t i = 0; want != NULL && i < az.nchallenges && pick == NULL; i++)
			if (strcmp(az.challenges[i].type, want) == 0)
				pick = &az.challenges[i];
	}
	if (pick == NULL) {
		*error_r = arena_printf(c->a, "the CA offers no challenge postamt can answer for %s", az.identifier);
		return -1;
	}
	const char *keyauth = arena_printf(c->a, "%s.%s", pick->token, thumb);
	if (strcmp(pick->type, "http-01") == 0) {
		if (tls_challenges_put_http(c->challenges, pick->token, keyauth) < 0) {
			*error_r = "cannot hold the http-01 answer";
			return -1;
		}
	} else {
		X509 *cert;
		EVP_PKEY *key;
		if (acme_alpn_cert(az.identifier, keyauth, &cert, &key, error_r) < 0)
			return -1;
		int k = tls_challenges_put_alpn(c->challenges, az.identifier, cert, key);
		X509_free(cert);
		EVP_PKEY_free(key);
		if (k < 0) {
			*error_r = "cannot hold the tls-alpn-01 certificate";
			return -1;
		}
	}
	log_info("event=acme_challenge name=%s type=%s", LOG_Q(az.identifier), pick->type);
	if (post(c, pick->url, "{}", NULL, &r, error_r) < 0)
		return -1;
	for (int i = 0; i < c->poll_max; i++) {
		if (wait_retry(c) < 0) {
			*error_r = "stopping";
			return -1;
		}
		if (post(c, url, NULL, NULL, &r, error_r) < 0)
			return -1;
		if (acme_authz_parse(r.body, r.body_len, c->a, &az, &e) < 0) {
			*error_r = arena_printf(c->a, "authorization refused: %s", e);
			return -1;
		}
		if (az.status == ACME_VALID) {
			log_info("event=acme_authorization name=%s status=valid", LOG_Q(az.identifier));
			return 1;
		}
		if (az.status != ACME_PENDING) {
			const char *why = "";
			for (size_t k = 0; k < az.nchallenges; k++)
				if (az.challenges[k].has_error)
					why = az.challenges[k].error.detail;
			*error_r = arena_printf(c->a, "authorization for %s is %s: %s", az.identifier,
						acme_status_name(az.status), why);
			return -1;
		}
	}
	*error_r = arena_printf(c->a, "authorization for %s still pending after %d polls", az.identifier, c->poll_max);
	return -1;
}

/* Polls the order at url while it is in one of the states waiting lists. */
static int poll_order(struct acme_client *c, const char *url, struct acme_order *o, enum acme_obj_status waiting,
		      const char **error_r)
{
	struct acme_http_response r;
	const char *e;
	for (int i = 0; o->status == waiting || o->status == ACME_PROCESSING; i++) {
		if (i >= c->poll_max) {
			*error_r = arena_printf(c->a, "order still %s after %d polls", acme_status_name(o->status),
						c->poll_max);
			return -1;
		}
		if (wait_retry(c) < 0) {
			*error_r = "stopping";
			return -1;
		}
		if (post(c, url, NULL, NULL, &r, error_r) < 0)
			return -1;
		if (acme_order_parse(r.body, r.body_len, c->a, o, &e) < 0) {
			*error_r = arena_printf(c->a, "order refused: %s", e);
			return -1;
		}
	}
	return 1;
}

static int do_order(struct acme_client *c, const char *const *names, size_t n, bool rsa, const char *replaces,
		    char **pem_r, size_t *len_r, EVP_PKEY **key_r, const char **error_r)
{
	json_t *ids = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(ids, json_pack("{s:s,s:s}", "type", "dns", "value", names[i]));
	json_t *p = json_pack("{s:o}", "identifiers", ids);
	if (replaces != NULL)
		json_object_set_new(p, "replaces", json_string(replaces));
	char *text = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	const char *payload = arena_strdup(c->a, text);
	free(text);
	struct acme_http_response r;
	struct acme_order o;
	const char *e;
	if (post(c, c->dir.new_order, payload, NULL, &r, error_r) < 0) {
		*error_r = arena_printf(c->a, "new order: %s", *error_r);
		return -1;
	}
	struct acme_url u;
	if (r.location == NULL || acme_url_parse(r.location, &u, &e) < 0) {
		*error_r = "new order: the CA gave no order URL";
		return -1;
	}
	const char *order_url = r.location;
	if (acme_order_parse(r.body, r.body_len, c->a, &o, &e) < 0) {
		*error_r = arena_printf(c->a, "order refused: %s", e);
		return -1;
	}
	log_info("event=acme_order url=%s status=%s authorizations=%zu", LOG_Q(order_url),
		 acme_status_name(o.status), o.nauthorizations);
	const char *thumb = acme_thumbprint(c->a, c->account_key);
	if (o.status == ACME_PENDING) {
		for (size_t i = 0; i < o.nauthorizations; i++)
			if (authorize(c, o.authorizations[i], thumb, error_r) < 0)
				return -1;
		if (post(c, order_url, NULL, NULL, &r, error_r) < 0)
			return -1;
		if (acme_order_parse(r.body, r.body_len, c->a, &o, &e) < 0) {
			*error_r = arena_printf(c->a, "order refused: %s", e);
			return -1;
		}
		if (poll_order(c, order_url, &o, ACME_PENDING, error_r) < 0)
			return -1;
	}
	if (o.status != ACME_READY) {
		*error_r = arena_printf(c->a, "order is %s, not ready%s%s", acme_status_name(o.status),
					o.has_error ? ": " : "", o.has_error ? o.error.detail : "");
		return -1;
	}
	EVP_PKEY *key = rsa ? EVP_RSA_gen(2048) : acme_key_new_ec();
	if (key == NULL)
		abort();
	unsigned char *der;
	size_t dlen;
	if (acme_csr(c->a, key, names, n, &der, &dlen, error_r) < 0) {
		EVP_PKEY_free(key);
		return -1;
	}
	payload = arena_printf(c->a, "{\"csr\":\"%s\"}", acme_b64url(c->a, der, dlen));
	log_info("event=acme_finalize url=%s key=%s", LOG_Q(order_url), rsa ? "rsa2048" : "p256");
	if (post(c, o.finalize, payload, NULL, &r, error_r) < 0) {
		EVP_PKEY_free(key);
		return -1;
	}
	if (acme_order_parse(r.body, r.body_len, c->a, &o, &e) < 0) {
		*error_r = arena_printf(c->a, "order refused: %s", e);
		EVP_PKEY_free(key);
		return -1;
	}
	if (poll_order(c, order_url, &o, ACME_READY, error_r) < 0) {
		EVP_PKEY_free(key);
		return -1;
	}
	if (o.status != ACME_VALID) {
		*error_r = arena_printf(c->a, "order is %s after finalize%s%s", acme_status_name(o.status),
					o.has_error ? ": " : "", o.has_error ? o.error.detail : "");
		EVP_PKEY_free(key);
		return -1;
	}
	log_info("event=acme_finalized url=%s", LOG_Q(order_url));
	if (post(c, o.certificate, NULL, "application/pem-certificate-chain", &r, error_r) < 0) {
		*error_r = arena_printf(c->a, "certificate download: %s", *error_r);
		EVP_PKEY_free(key);
		return -1;
	}
	if (acme_chain_check(r.body, r.body_len, key, names, n, time(NULL), NULL, error_r) < 0) {
		*error_r = arena_printf(c->a, "certificate refused: %s", *error_r);
		EVP_PKEY_free(key);
		return -1;
	}
	log_info("event=acme_downloaded url=%s bytes=%zu", LOG_Q(o.certificate), r.body_len);
	*pem_r = (char *)r.body;
	*len_r = r.body_len;
	*key_r = key;
	return 1;
}

int acme_order_certificate(struct acme_client *c, const char *const *names, size_t n, bool rsa,
			   const char *replaces, char **pem_r, size_t *len_r, EVP_PKEY **key_r,
			   const char **error_r)
{
	*error_r = NULL;
	if (acme_account(c, error_r) < 0)
		return -1;
	int r = do_order(c, names, n, rsa, replaces, pem_r, len_r, key_r, error_r);
	tls_challenges_clear(c->challenges); /* answered or failed: nothing stays served */
	if (r < 0 && *error_r == NULL)
		*error_r = "order failed";
	return r;
}

int acme_renewal_info(struct acme_client *c, const char *cert_id, struct acme_renewal_info *ri,
		      const char **error_r)
{
	if (get_directory(c, error_r) < 0)
		return -1;
	if (c->dir.renewal_info == NULL)
		return 0;
	const char *base = c->dir.renewal_info;
	const char *url = arena_printf(c->a, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", cert_id);
	struct acme_http_response r;
	if (acme_https(&c->net, "GET", url, NULL, "application/json", NULL, c->a, &r, error_r) < 0)
		return -1;
	c->retry_after = r.retry_after;
	if (r.status != 200) {
		const char *t;
		*error_r = arena_printf(c->a, "renewalInfo: %s", problem_text(c, &r, &t));
		return -1;
	}
	const char *e;
	if (acme_renewal_info_parse(r.body, r.body_len, c->a, ri, &e) < 0) {
		*error_r = arena_printf(c->a, "renewalInfo refused: %s", e);
		return -1;
	}
	return 1;
}
