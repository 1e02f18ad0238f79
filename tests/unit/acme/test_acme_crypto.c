/* test_acme_crypto.c: the ACME client's cryptography, checked with OpenSSL and
 * jansson rather than with its own code: base64url, the JWK and its RFC 7638
 * thumbprint (RFC 7515 A.3's key), flattened JWS with ES256 (the signature verified
 * against the key rebuilt from the JWK), the CSR, the RFC 8737 tls-alpn-01
 * certificate, the checks on a chain before it is installed, and the RFC 9773
 * certificate identifier (the RFC's example). */
#include "acme_int.h"
#include "arena.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* RFC 7515 Appendix A.3's P-256 key */
static const char *A3_X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char *A3_Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

/* A P-256 public key from base64url coordinates. */
static EVP_PKEY *key_from(struct arena *a, const char *x, const char *y)
{
	unsigned char *bx, *by;
	size_t lx, ly;
	assert_int_equal(acme_b64url_decode(a, x, &bx, &lx), 1);
	assert_int_equal(acme_b64url_decode(a, y, &by, &ly), 1);
	assert_int_equal(lx, 32);
	assert_int_equal(ly, 32);
	unsigned char pub[65] = { 4 };
	memcpy(pub + 1, bx, 32);
	memcpy(pub + 33, by, 32);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
	OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *key = NULL;
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return key;
}

static void test_b64url(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	assert_string_equal(acme_b64url(a, (const unsigned char *)"", 0), "");
	assert_string_equal(acme_b64url(a, (const unsigned char *)"f", 1), "Zg");
	assert_string_equal(acme_b64url(a, (const unsigned char *)"fo", 2), "Zm8");
	assert_string_equal(acme_b64url(a, (const unsigned char *)"foo", 3), "Zm9v");
	assert_string_equal(acme_b64url(a, (const unsigned char *)"\xfb\xff\xfe", 3), "-__-");
	unsigned char *out;
	size_t len;
	assert_int_equal(acme_b64url_decode(a, "-__-", &out, &len), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "\xfb\xff\xfe", 3);
	assert_int_equal(acme_b64url_decode(a, "Zm8", &out, &len), 1);
	assert_string_equal((char *)out, "fo");
	assert_int_equal(acme_b64url_decode(a, "Zm9v+A", &out, &len), -1); /* standard alphabet */
	assert_int_equal(acme_b64url_decode(a, "Zg==", &out, &len), -1);   /* padding */
	assert_int_equal(acme_b64url_decode(a, "Z", &out, &len), -1);      /* impossible length */
	assert_int_equal(acme_b64url_decode(a, "Zh", &out, &len), -1);     /* bits left over: not canonical */
	arena_free(&a);
}

static void test_jwk_thumbprint(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	EVP_PKEY *key = key_from(a, A3_X, A3_Y);
	char *jwk = acme_jwk(a, key);
	char expect[256];
	snprintf(expect, sizeof(expect), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", A3_X, A3_Y);
	assert_string_equal(jwk, expect);
	/* SHA-256 of the line above, computed apart (Python hashlib) */
	assert_string_equal(acme_thumbprint(a, key), "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U");
	EVP_PKEY_free(key);
	/* not a P-256 key: no JWK */
	EVP_PKEY *rsa = EVP_RSA_gen(1024);
	assert_null(acme_jwk(a, rsa));
	assert_null(acme_thumbprint(a, rsa));
	const char *err = NULL;
	assert_null(acme_jws(a, rsa, NULL, "n", "https://ca/x", "{}", &err));
	assert_non_null(err);
	EVP_PKEY_free(rsa);
	arena_free(&a);
}

/* Checks jws (flattened JSON) against pub: the header's members, the payload, and
 * the ES256 signature over protected.payload. Returns the protected header. */
static json_t *verify_jws(struct arena *a, const char *jws, EVP_PKEY *pub, const char *want_payload)
{
	json_error_t je;
	json_t *j = json_loads(jws, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 3);
	const char *p64 = json_string_value(json_object_get(j, "protected"));
	const char *b64 = json_string_value(json_object_get(j, "payload"));
	const char *s64 = json_string_value(json_object_get(j, "signature"));
	assert_non_null(p64);
	assert_non_null(b64);
	assert_non_null(s64);
	unsigned char *ptext, *payload, *sig;
	size_t plen, blen, slen;
	assert_int_equal(acme_b64url_decode(a, p64, &ptext, &plen), 1);
	assert_int_equal(acme_b64url_decode(a, b64, &payload, &blen), 1);
	assert_int_equal(acme_b64url_decode(a, s64, &sig, &slen), 1);
	assert_int_equal(blen, strlen(want_payload));
	assert_memory_equal(payload, want_payload, blen);
	/* R || S to DER, then OpenSSL verifies */
	assert_int_equal(slen, 64);
	ECDSA_SIG *es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	unsigned char *der = NULL;
	int derlen = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	char *input = arena_printf(a, "%s.%s", p64, b64);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub), 1);
	assert_int_equal(EVP_DigestVerify(md, der, (size_t)derlen, (const unsigned char *)input, strlen(input)), 1);
	/* one flipped bit in the signed text fails */
	input[0] ^= 1;
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub), 1);
	assert_int_not_equal(EVP_DigestVerify(md, der, (size_t)derlen, (const unsigned char *)input, strlen(input)), 1);
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	json_t *prot = json_loadb((const char *)ptext, plen, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(prot);
	assert_string_equal(json_string_value(json_object_get(prot, "alg")), "ES256");
	json_decref(j);
	return prot;
}

static void test_jws(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	EVP_PKEY *key = acme_key_new_ec();
	const char *err = NULL;
	/* newAccount: identified by the JWK, which rebuilds a key that verifies */
	char *jws = acme_jws(a, key, NULL, "nonce-1", "https://ca/new-acct", "{\"termsOfServiceAgreed\":true}", &err);
	assert_non_null(jws);
	char *jwk = acme_jwk(a, key);
	json_t *jj = json_loads(jwk, 0, NULL);
	EVP_PKEY *pub =
		key_from(a, json_string_value(json_object_get(jj, "x")), json_string_value(json_object_get(jj, "y")));
	json_decref(jj);
	json_t *prot = verify_jws(a, jws, pub, "{\"termsOfServiceAgreed\":true}");
	assert_string_equal(json_string_value(json_object_get(prot, "nonce")), "nonce-1");
	assert_string_equal(json_string_value(json_object_get(prot, "url")), "https://ca/new-acct");
	assert_null(json_object_get(prot, "kid"));
	json_t *hj = json_object_get(prot, "jwk");
	assert_true(json_is_object(hj));
	assert_string_equal(json_string_value(json_object_get(hj, "kty")), "EC");
	assert_string_equal(json_string_value(json_object_get(hj, "crv")), "P-256");
	json_decref(prot);

	/* POST-as-GET with kid: the empty payload, no jwk */
	jws = acme_jws(a, key, "https://ca/acct/7", "nonce-2", "https://ca/order/1", NULL, &err);
	assert_non_null(jws);
	prot = verify_jws(a, jws, pub, "");
	assert_string_equal(json_string_value(json_object_get(prot, "kid")), "https://ca/acct/7");
	assert_null(json_object_get(prot, "jwk"));
	json_decref(prot);

	/* a nonce with a quote cannot break out of the header */
	jws = acme_jws(a, key, "k", "n\",\"alg\":\"none", "https://ca/x", "{}", &err);
	assert_non_null(jws);
	prot = verify_jws(a, jws, pub, "{}");
	assert_string_equal(json_string_value(json_object_get(prot, "nonce")), "n\",\"alg\":\"none");
	json_decref(prot);

	/* another key does not verify */
	EVP_PKEY *other = acme_key_new_ec();
	jws = acme_jws(a, other, "k", "n", "https://ca/x", "{}", &err);
	json_t *j = json_loads(jws, 0, NULL);
	unsigned char *sig;
	size_t slen;
	assert_int_equal(acme_b64url_decode(a, json_string_value(json_object_get(j, "signature")), &sig, &slen), 1);
	ECDSA_SIG *es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	unsigned char *der = NULL;
	int derlen = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	char *input = arena_printf(a, "%s.%s", json_string_value(json_object_get(j, "protected")),
				   json_string_value(json_object_get(j, "payload")));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub), 1);
	assert_int_not_equal(EVP_DigestVerify(md, der, (size_t)derlen, (const unsigned char *)input, strlen(input)), 1);
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	json_decref(j);
	EVP_PKEY_free(other);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(key);
	arena_free(&a);
}

static bool has_dns(GENERAL_NAMES *gens, const char *name)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS && (size_t)ASN1_STRING_length(g->d.dNSName) == strlen(name) &&
		    memcmp(ASN1_STRING_get0_data(g->d.dNSName), name, strlen(name)) == 0)
			return true;
	}
	return false;
}

static void test_csr(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	EVP_PKEY *key = acme_key_new_ec();
	const char *names[] = { "mail.example.test", "imap.example.test" };
	unsigned char *der;
	size_t len;
	const char *err = NULL;
	assert_int_equal(acme_csr(a, key, names, 2, &der, &len, &err), 1);
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
	assert_non_null(req);
	assert_int_equal(X509_REQ_verify(req, key), 1);
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	GENERAL_NAMES *gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 2);
	assert_true(has_dns(gens, names[0]));
	assert_true(has_dns(gens, names[1]));
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	char cn[256];
	X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, names[0]);
	X509_REQ_free(req);
	assert_int_equal(acme_csr(a, key, names, 0, &der, &len, &err), -1);
	assert_string_equal(err, "no names for the certificate");
	EVP_PKEY_free(key);
	arena_free(&a);
}

static void test_alpn_cert(void **state)
{
	(void)state;
	X509 *cert;
	EVP_PKEY *key;
	const char *err = NULL;
	const char *keyauth = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.5m0k0UfGOVEv5ELZ7_RuQVI-Ajgq8ohzgrvqVBFw0AQ";
	assert_int_equal(acme_alpn_cert("mail.example.test", keyauth, &cert, &key, &err), 1);
	assert_int_equal(X509_check_private_key(cert, key), 1);
	assert_int_equal(X509_verify(cert, key), 1); /* self-signed */
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
	assert_true(has_dns(gens, "mail.example.test"));
	GENERAL_NAMES_free(gens);
	/* id-pe-acmeIdentifier (1.3.6.1.5.5.7.1.31), critical, an OCTET STRING of the
	 * SHA-256 of the key authorization (RFC 8737 §3) */
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	int idx = X509_get_ext_by_OBJ(cert, oid, -1);
	ASN1_OBJECT_free(oid);
	assert_true(idx >= 0);
	X509_EXTENSION *ext = X509_get_ext(cert, idx);
	assert_int_equal(X509_EXTENSION_get_critical(ext), 1);
	ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(ext);
	unsigned char want[34] = { 0x04, 32 };
	unsigned int mdlen = 32;
	EVP_Digest(keyauth, strlen(keyauth), want + 2, &mdlen, EVP_sha256(), NULL);
	assert_int_equal(ASN1_STRING_length(data), 34);
	assert_memory_equal(ASN1_STRING_get0_data(data), want, 34);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/* A certificate for names signed by issuer_key (self-signed when issuer is NULL),
 * valid from now+from to now+to. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *const *names, size_t n, X509 *issuer,
		       EVP_PKEY *issuer_key, long from, long to, bool ca)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier, "hash");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (ca) {
		e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (issuer != NULL) {
		e = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier, "keyid:always");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (n > 0) {
		char san[512] = "";
		for (size_t i = 0; i < n; i++)
			snprintf(san + strlen(san), sizeof(san) - strlen(san), "%sDNS:%s", i ? "," : "", names[i]);
		e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	return x;
}

static char *pem_of(X509 *const *certs, size_t n, size_t *len_r)
{
	BIO *b = BIO_new(BIO_s_mem());
	for (size_t i = 0; i < n; i++)
		PEM_write_bio_X509(b, certs[i]);
	char *data;
	long len = BIO_get_mem_data(b, &data);
	char *out = malloc((size_t)len + 1);
	memcpy(out, data, (size_t)len);
	out[len] = '\0';
	BIO_free(b);
	*len_r = (size_t)len;
	return out;
}

static void test_chain_check(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	EVP_PKEY *ca_key = acme_key_new_ec(), *key = acme_key_new_ec(), *other = acme_key_new_ec();
	const char *names[] = { "mail.example.test", "imap.example.test" };
	time_t now = time(NULL);
	X509 *ca = make_cert(ca_key, "Test CA", NULL, 0, NULL, ca_key, -3600, 86400, true);
	X509 *leaf = make_cert(key, "mail.example.test", names, 2, ca, ca_key, -60, 3600, false);
	X509 *chain[] = { leaf, ca };
	size_t len;
	char *pem = pem_of(chain, 2, &len);
	const char *err = NULL;
	X509 *got = NULL;
	assert_int_equal(acme_chain_check((unsigned char *)pem, len, key, names, 2, now, &got, &err), 1);
	assert_non_null(got);
	assert_int_equal(X509_cmp(got, leaf), 0);
	struct acme_cert_info info;
	acme_cert_info(got, &info);
	assert_string_equal(info.names, "mail.example.test, imap.example.test");
	assert_non_null(strstr(info.issuer, "Test CA"));
	assert_true(info.not_after - info.not_before == 3660);
	X509_free(got);

	assert_int_equal(acme_chain_check((unsigned char *)pem, len, other, names, 2, now, NULL, &err), -1);
	assert_string_equal(err, "certificate does not match the key");
	const char *more[] = { "mail.example.test", "pop.example.test" };
	assert_int_equal(acme_chain_check((unsigned char *)pem, len, key, more, 2, now, NULL, &err), -1);
	assert_string_equal(err, "certificate does not name every name of the order");
	assert_int_equal(acme_chain_check((unsigned char *)pem, len, key, names, 2, now + 7200, NULL, &err), -1);
	assert_string_equal(err, "certificate is not valid now");
	assert_int_equal(acme_chain_check((unsigned char *)"junk", 4, key, names, 2, now, NULL, &err), -1);
	assert_string_equal(err, "no certificate in the answer");
	free(pem);

	/* the intermediate that follows did not sign the leaf */
	X509 *stranger = make_cert(other, "Other CA", NULL, 0, NULL, other, -3600, 86400, true);
	X509 *wrong[] = { leaf, stranger };
	pem = pem_of(wrong, 2, &len);
	assert_int_equal(acme_chain_check((unsigned char *)pem, len, key, names, 2, now, NULL, &err), -1);
	assert_string_equal(err, "chain does not verify: a certificate is not signed by the next");
	free(pem);

	/* too many certificates */
	X509 *long_chain[ACME_CHAIN_MAX + 1];
	for (size_t i = 0; i < ACME_CHAIN_MAX + 1; i++)
		long_chain[i] = i == 0 ? leaf : ca;
	pem = pem_of(long_chain, ACME_CHAIN_MAX + 1, &len);
	assert_int_equal(acme_chain_check((unsigned char *)pem, len, key, names, 2, now, NULL, &err), -1);
	assert_string_equal(err, "chain has too many certificates");
	free(pem);

	X509_free(stranger);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	arena_free(&a);
}

static void test_ari_cert_id(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	/* RFC 9773 §4.1's example: keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4,
	 * serial 00:87:65:43:21 */
	EVP_PKEY *key = acme_key_new_ec();
	X509 *x = X509_new();
	X509_set_version(x, 2);
	BIGNUM *bn = NULL;
	BN_hex2bn(&bn, "87654321");
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	akid->keyid = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(akid->keyid,
			      (const unsigned char *)"\x69\x88\x5B\x6B\x87\x46\x40\x41\xE1\xB3\x7B\x84\x7B\xA0\xAE\x2C"
						     "\xDE\x01\xC8\xD4",
			      20);
	X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0);
	AUTHORITY_KEYID_free(akid);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	assert_string_equal(acme_ari_cert_id(a, x), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	X509_free(x);
	/* no authority key identifier: no ARI */
	const char *names[] = { "a.test" };
	x = make_cert(key, "a.test", names, 1, NULL, key, 0, 3600, false);
	assert_null(acme_ari_cert_id(a, x));
	X509_free(x);
	EVP_PKEY_free(key);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),      cmocka_unit_test(test_jwk_thumbprint),
		cmocka_unit_test(test_jws),         cmocka_unit_test(test_csr),
		cmocka_unit_test(test_alpn_cert),   cmocka_unit_test(test_chain_check),
		cmocka_unit_test(test_ari_cert_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
