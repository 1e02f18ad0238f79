/* acme_jws.c: the account key's side of ACME: base64url, the JWK and its
 * thumbprint (RFC 7638), and JWS signatures with ES256 (RFC 7518 §3.4: the ECDSA
 * signature as the 64 bytes R || S, not DER) in the flattened form RFC 8555 §6.2
 * requires (protected header with alg, nonce, url and jwk or kid). Pure: no I/O. */
#include "acme_int.h"

#include "arena.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

static const char b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *acme_b64url(struct arena *a, const unsigned char *data, size_t len)
{
	char *out = arena_alloc(a, (len + 2) / 3 * 4 + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = b64url_alphabet[(v >> 6) & 63];
		if (i + 2 < len)
			out[o++] = b64url_alphabet[v & 63];
	}
	out[o] = '\0';
	return out;
}

int acme_b64url_decode(struct arena *a, const char *s, unsigned char **out_r, size_t *len_r)
{
	size_t n = strlen(s);
	if (n % 4 == 1)
		return -1;
	unsigned char *out = arena_alloc(a, n * 3 / 4 + 1);
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		const char *p = memchr(b64url_alphabet, s[i], 64);
		if (p == NULL || s[i] == '\0')
			return -1;
		acc = (acc << 6) | (uint32_t)(p - b64url_alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1; /* bits left over that no encoder writes: not canonical */
	out[o] = '\0';
	*out_r = out;
	*len_r = o;
	return 1;
}

EVP_PKEY *acme_key_new_ec(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	if (key == NULL)
		abort(); /* out of memory or a broken OpenSSL: nothing to do */
	return key;
}

/* The public point's coordinates, 32 bytes each. Returns 1, or -1 when key is not
 * a P-256 key. */
static int ec_point(EVP_PKEY *key, unsigned char x[32], unsigned char y[32])
{
	char group[32];
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) != 1 ||
	    strcmp(group, "prime256v1") != 0)
		return -1;
	BIGNUM *bx = NULL, *by = NULL;
	int r = -1;
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 && BN_bn2binpad(bx, x, 32) == 32 &&
	    BN_bn2binpad(by, y, 32) == 32)
		r = 1;
	BN_free(bx);
	BN_free(by);
	return r;
}

char *acme_jwk(struct arena *a, EVP_PKEY *key)
{
	unsigned char x[32], y[32];
	if (ec_point(key, x, y) < 0)
		return NULL;
	return arena_printf(a, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", acme_b64url(a, x, 32),
			    acme_b64url(a, y, 32));
}

char *acme_thumbprint(struct arena *a, EVP_PKEY *key)
{
	char *jwk = acme_jwk(a, key);
	if (jwk == NULL)
		return NULL;
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)jwk, strlen(jwk), md);
	return acme_b64url(a, md, sizeof(md));
}

/* ES256 over input: R || S in sig[64]. Returns 1 or -1. */
static int es256(EVP_PKEY *key, const char *input, unsigned char sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[80];
	size_t derlen = sizeof(der);
	int r = -1;
	if (md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, der, &derlen, (const unsigned char *)input, strlen(input)) == 1) {
		const unsigned char *p = der;
		ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
		if (s != NULL) {
			const BIGNUM *br, *bs;
			ECDSA_SIG_get0(s, &br, &bs);
			if (BN_bn2binpad(br, sig, 32) == 32 && BN_bn2binpad(bs, sig + 32, 32) == 32)
				r = 1;
			ECDSA_SIG_free(s);
		}
	}
	EVP_MD_CTX_free(md);
	return r;
}

char *acme_jws(struct arena *a, EVP_PKEY *key, const char *kid, const char *nonce, const char *url, const char *payload,
	       const char **error_r)
{
	json_t *prot = json_object();
	json_object_set_new(prot, "alg", json_string("ES256"));
	if (kid != NULL) {
		json_object_set_new(prot, "kid", json_string(kid));
	} else {
		char *jwk = acme_jwk(a, key);
		json_t *j = jwk != NULL ? json_loads(jwk, 0, NULL) : NULL;
		if (j == NULL) {
			json_decref(prot);
			*error_r = "the account key is not a P-256 key";
			return NULL;
		}
		json_object_set_new(prot, "jwk", j);
	}
	json_object_set_new(prot, "nonce", json_string(nonce));
	json_object_set_new(prot, "url", json_string(url));
	char *ptext = json_dumps(prot, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(prot);
	if (ptext == NULL) {
		*error_r = "cannot encode the JWS header (bad nonce or URL)";
		return NULL;
	}
	char *p64 = acme_b64url(a, (const unsigned char *)ptext, strlen(ptext));
	free(ptext);
	const char *body = payload != NULL ? payload : "";
	char *b64 = acme_b64url(a, (const unsigned char *)body, strlen(body));
	char *input = arena_printf(a, "%s.%s", p64, b64);
	unsigned char sig[64];
	if (es256(key, input, sig) < 0) {
		*error_r = "signing failed";
		return NULL;
	}
	return arena_printf(a, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", p64, b64,
			    acme_b64url(a, sig, sizeof(sig)));
}
