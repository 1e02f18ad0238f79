/* acme_x509.c: the certificates of ACME: the CSR that finalizes an order (RFC
 * 8555 §7.4), the tls-alpn-01 challenge certificate (RFC 8737 §3), the checks a
 * downloaded chain must pass before it is installed, the facts the status shows,
 * and the ARI certificate identifier (RFC 9773 §4.1). Pure: no I/O. */
#include "acme_int.h"

#include "arena.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

/* subjectAltName with a dNSName per name. */
static GENERAL_NAMES *san_of(const char *const *names, size_t n)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();
		ASN1_STRING_set(s, names[i], (int)strlen(names[i]));
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
		sk_GENERAL_NAME_push(gens, g);
	}
	return gens;
}

int acme_csr(struct arena *a, EVP_PKEY *key, const char *const *names, size_t n, unsigned char **der_r,
	     size_t *len_r, const char **error_r)
{
	if (n == 0) {
		*error_r = "no names for the certificate";
		return -1;
	}
	X509_REQ *req = X509_REQ_new();
	int r = -1;
	X509_REQ_set_version(req, 0);
	X509_NAME *subj = X509_REQ_get_subject_name(req);
	if (strlen(names[0]) <= 64)
		X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)names[0], -1, -1, 0);
	X509_REQ_set_pubkey(req, key);
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	GENERAL_NAMES *gens = san_of(names, n);
	X509_EXTENSION *ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
	GENERAL_NAMES_free(gens);
	if (ext == NULL) {
		*error_r = "cannot encode subjectAltName";
		goto out;
	}
	sk_X509_EXTENSION_push(exts, ext);
	X509_REQ_add_extensions(req, exts);
	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0) {
		*error_r = "cannot sign the CSR";
		goto out;
	}
	int len = i2d_X509_REQ(req, NULL);
	if (len <= 0) {
		*error_r = "cannot encode the CSR";
		goto out;
	}
	unsigned char *der = arena_alloc(a, (size_t)len), *p = der;
	i2d_X509_REQ(req, &p);
	*der_r = der;
	*len_r = (size_t)len;
	r = 1;
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	ERR_clear_error();
	return r;
}

int acme_alpn_cert(const char *name, const char *keyauth, X509 **cert_r, EVP_PKEY **key_r, const char **error_r)
{
	EVP_PKEY *key = acme_key_new_ec();
	X509 *cert = X509_new();
	int r = -1;
	X509_set_version(cert, 2);
	unsigned char serial[16];
	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 86400);
	X509_set_pubkey(cert, key);
	X509_NAME *subj = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)"acme-tls-alpn-01", -1, -1, 0);
	X509_set_issuer_name(cert, subj);
	const char *names[] = { name };
	GENERAL_NAMES *gens = san_of(names, 1);
	X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT);
	GENERAL_NAMES_free(gens);
	/* id-pe-acmeIdentifier (1.3.6.1.5.5.7.1.31), critical; its extnValue is the DER
	 * of an OCTET STRING holding SHA-256(keyauth) (RFC 8737 §3) */
	unsigned char der[2 + SHA256_DIGEST_LENGTH] = { 0x04, SHA256_DIGEST_LENGTH };
	SHA256((const unsigned char *)keyauth, strlen(keyauth), der + 2);
	ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(val, der, sizeof(der));
	X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, val);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(val);
	if (ext == NULL || X509_add_ext(cert, ext, -1) != 1 || X509_sign(cert, key, EVP_sha256()) == 0) {
		*error_r = "cannot make the tls-alpn-01 certificate";
		X509_EXTENSION_free(ext);
		X509_free(cert);
		EVP_PKEY_free(key);
		ERR_clear_error();
		return -1;
	}
	X509_EXTENSION_free(ext);
	*cert_r = cert;
	*key_r = key;
	r = 1;
	return r;
}

int acme_chain_check(const unsigned char *pem, size_t len, EVP_PKEY *key, const char *const *names, size_t n,
		     time_t now, X509 **leaf_r, const char **error_r)
{
	X509 *chain[ACME_CHAIN_MAX + 1];
	size_t nchain = 0;
	int r = -1;
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	for (;;) {
		X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (x == NULL)
			break;
		if (nchain == ACME_CHAIN_MAX) {
			X509_free(x);
			*error_r = "chain has too many certificates";
			goto out;
		}
		chain[nchain++] = x;
	}
	ERR_clear_error();
	if (nchain == 0) {
		*error_r = "no certificate in the answer";
		goto out;
	}
	if (X509_check_private_key(chain[0], key) != 1) {
		*error_r = "certificate does not match the key";
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (X509_check_host(chain[0], names[i], 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) != 1) {
			*error_r = "certificate does not name every name of the order";
			goto out;
		}
	}
	if (X509_cmp_time(X509_get0_notBefore(chain[0]), &(time_t){ now + 300 }) > 0 ||
	    X509_cmp_time(X509_get0_notAfter(chain[0]), &now) < 0) {
		*error_r = "certificate is not valid now";
		goto out;
	}
	for (size_t i = 0; i + 1 < nchain; i++) {
		EVP_PKEY *pk = X509_get0_pubkey(chain[i + 1]);
		if (pk == NULL || X509_verify(chain[i], pk) != 1) {
			*error_r = "chain does not verify: a certificate is not signed by the next";
			goto out;
		}
	}
	if (leaf_r != NULL) {
		X509_up_ref(chain[0]);
		*leaf_r = chain[0];
	}
	r = 1;
out:
	for (size_t i = 0; i < nchain; i++)
		X509_free(chain[i]);
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

static time_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

void acme_cert_info(X509 *cert, struct acme_cert_info *info)
{
	*info = (struct acme_cert_info){ 0 };
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	size_t at = 0;
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		const ASN1_IA5STRING *s = g->d.dNSName;
		int w = snprintf(info->names + at, sizeof(info->names) - at, "%s%.*s", at ? ", " : "",
				 ASN1_STRING_length(s), (const char *)ASN1_STRING_get0_data(s));
		if (w < 0 || (size_t)w >= sizeof(info->names) - at)
			break;
		at += (size_t)w;
	}
	GENERAL_NAMES_free(gens);
	X509_NAME_oneline(X509_get_issuer_name(cert), info->issuer, sizeof(info->issuer));
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	snprintf(info->serial, sizeof(info->serial), "%s", hex != NULL ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
	/* names and issuer may come from anyone's certificate: no control characters */
	for (char *c = info->names; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	for (char *c = info->issuer; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	info->not_before = asn1_time(X509_get0_notBefore(cert));
	info->not_after = asn1_time(X509_get0_notAfter(cert));
	ERR_clear_error();
}

char *acme_ari_cert_id(struct arena *a, X509 *cert)
{
	const ASN1_OCTET_STRING *kid = X509_get0_authority_key_id(cert);
	const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
	if (kid == NULL || serial == NULL)
		return NULL;
	/* the serial's DER content octets: i2d gives tag, length, content */
	int len = i2d_ASN1_INTEGER(serial, NULL);
	if (len <= 2)
		return NULL;
	unsigned char *der = arena_alloc(a, (size_t)len), *p = der;
	i2d_ASN1_INTEGER(serial, &p);
	size_t hdr = (der[1] & 0x80) ? 2 + (size_t)(der[1] & 0x7f) : 2;
	if (hdr >= (size_t)len)
		return NULL;
	return arena_printf(a, "%s.%s", acme_b64url(a, ASN1_STRING_get0_data(kid), (size_t)ASN1_STRING_length(kid)),
			    acme_b64url(a, der + hdr, (size_t)len - hdr));
}
