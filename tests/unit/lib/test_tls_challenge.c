/* test_tls_challenge.c: the table of pending ACME answers (src/lib/tls_challenge.c):
 * http-01 tokens (only base64url words, bounded sizes and entries, cleared when an
 * order ends) and tls-alpn-01 (RFC 8737) answered from a ClientHello, checked with
 * real OpenSSL handshakes over a BIO pair: a client that offers only "acme-tls/1"
 * for a pending name gets the challenge certificate and that protocol; a client
 * without it, for another name, or on another port gets the ordinary one. */
#include "tls_challenge.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_http(void **state)
{
	(void)state;
	struct tls_challenges *ch = tls_challenges_new();
	char out[TLS_CHALLENGE_KEYAUTH_MAX + 1];
	assert_int_equal(tls_challenges_get_http(ch, "tok", out, sizeof(out)), 0);
	assert_int_equal(tls_challenges_put_http(ch, "tok_EN-1", "tok_EN-1.thumb"), 1);
	assert_int_equal(tls_challenges_get_http(ch, "tok_EN-1", out, sizeof(out)), 1);
	assert_string_equal(out, "tok_EN-1.thumb");
	assert_int_equal(tls_challenges_put_http(ch, "tok_EN-1", "tok_EN-1.other"), 1); /* replaced */
	assert_int_equal(tls_challenges_get_http(ch, "tok_EN-1", out, sizeof(out)), 1);
	assert_string_equal(out, "tok_EN-1.other");
	assert_int_equal(tls_challenges_get_http(ch, "tok_EN-1", out, 4), 0); /* does not fit */
	assert_int_equal(tls_challenges_get_http(ch, "TOK_EN-1", out, sizeof(out)), 0);
	/* tokens are base64url words; values are bounded */
	assert_int_equal(tls_challenges_put_http(ch, "../etc/passwd", "x"), -1);
	assert_int_equal(tls_challenges_put_http(ch, "", "x"), -1);
	char big[TLS_CHALLENGE_KEYAUTH_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(tls_challenges_put_http(ch, "t", big), -1);
	char longtok[TLS_CHALLENGE_TOKEN_MAX + 2];
	memset(longtok, 'a', sizeof(longtok) - 1);
	longtok[sizeof(longtok) - 1] = '\0';
	assert_int_equal(tls_challenges_put_http(ch, longtok, "x"), -1);
	/* at most TLS_CHALLENGE_ENTRIES */
	tls_challenges_clear(ch);
	assert_int_equal(tls_challenges_get_http(ch, "tok_EN-1", out, sizeof(out)), 0);
	char tok[16];
	for (int i = 0; i < TLS_CHALLENGE_ENTRIES; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		assert_int_equal(tls_challenges_put_http(ch, tok, "v"), 1);
	}
	assert_int_equal(tls_challenges_put_http(ch, "one-more", "v"), -1);
	assert_int_equal(tls_challenges_put_http(ch, "t0", "w"), 1); /* replacing still works */
	tls_challenges_free(&ch);
	assert_null(ch);
}

static X509 *self_signed(const char *cn, EVP_PKEY **key_r)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	*key_r = key;
	return x;
}

struct result {
	char cn[64];   /* of the certificate the server presented */
	char alpn[32]; /* the protocol chosen, or "" */
};

/* One handshake of a client (sni, alpn: a protocol list in wire form or NULL) with
 * a server on ctx, over a BIO pair. */
static void handshake(SSL_CTX *sctx, const char *sni, const unsigned char *alpn, size_t alpn_len, struct result *r)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
	BIO *cb, *sb;
	assert_int_equal(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
	SSL_set_bio(c, cb, cb);
	SSL_set_bio(s, sb, sb);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	if (sni != NULL)
		SSL_set_tlsext_host_name(c, sni);
	if (alpn != NULL)
		SSL_set_alpn_protos(c, alpn, (unsigned)alpn_len);
	int cdone = 0, sdone = 0;
	for (int i = 0; i < 100 && !(cdone && sdone); i++) {
		if (!cdone) {
			int k = SSL_do_handshake(c);
			if (k == 1)
				cdone = 1;
			else
				assert_int_equal(SSL_get_error(c, k), SSL_ERROR_WANT_READ);
		}
		if (!sdone) {
			int k = SSL_do_handshake(s);
			if (k == 1)
				sdone = 1;
			else
				assert_int_equal(SSL_get_error(s, k), SSL_ERROR_WANT_READ);
		}
	}
	assert_true(cdone && sdone);
	X509 *peer = SSL_get1_peer_certificate(c);
	assert_non_null(peer);
	X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, r->cn, sizeof(r->cn));
	X509_free(peer);
	const unsigned char *p;
	unsigned plen;
	SSL_get0_alpn_selected(c, &p, &plen);
	snprintf(r->alpn, sizeof(r->alpn), "%.*s", (int)plen, (const char *)p);
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
}

static void test_alpn(void **state)
{
	(void)state;
	EVP_PKEY *key, *ckey;
	X509 *cert = self_signed("ordinary", &key);
	X509 *chcert = self_signed("challenge", &ckey);
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	struct tls_challenges *ch = tls_challenges_new();
	tls_server_ctx_use_challenges(ctx, ch);
	assert_int_equal(tls_challenges_put_alpn(ch, "mail.example.test", chcert, ckey), 1);
	static const unsigned char acme[] = "\x0a"
					    "acme-tls/1";
	static const unsigned char h2[] = "\x02h2\x08http/1.1";
	struct result r;

	handshake(ctx, "MAIL.example.test", acme, sizeof(acme) - 1, &r);
	assert_string_equal(r.cn, "challenge");
	assert_string_equal(r.alpn, "acme-tls/1");
	handshake(ctx, "mail.example.test", h2, sizeof(h2) - 1, &r); /* an ordinary client */
	assert_string_equal(r.cn, "ordinary");
	assert_string_not_equal(r.alpn, "acme-tls/1");
	handshake(ctx, "mail.example.test", NULL, 0, &r);
	assert_string_equal(r.cn, "ordinary");
	handshake(ctx, "other.example.test", acme, sizeof(acme) - 1, &r); /* no challenge for it */
	assert_string_equal(r.cn, "ordinary");
	handshake(ctx, NULL, acme, sizeof(acme) - 1, &r); /* no SNI */
	assert_string_equal(r.cn, "ordinary");
	/* only on the HTTPS port: this connection has none (a BIO pair) */
	tls_challenges_set_port(ch, 443);
	handshake(ctx, "mail.example.test", acme, sizeof(acme) - 1, &r);
	assert_string_equal(r.cn, "ordinary");
	tls_challenges_set_port(ch, 0);
	/* an order that ended leaves nothing behind */
	tls_challenges_clear(ch);
	handshake(ctx, "mail.example.test", acme, sizeof(acme) - 1, &r);
	assert_string_equal(r.cn, "ordinary");
	assert_int_equal(tls_challenges_put_alpn(ch, "", chcert, ckey), -1);
	SSL_CTX_free(ctx);
	tls_challenges_free(&ch);
	X509_free(cert);
	X509_free(chcert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ckey);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_alpn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
