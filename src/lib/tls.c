/* tls.c: server TLS contexts and self-signed certificates (see tls.h). */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void ssl_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];
	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, e ? buf : "unknown error");
	ERR_clear_error();
}

/* ALPN (RFC 7301): accept http/1.1 for HTTPS and the mail protocol names of RFC 8314
 * clients may send; with no overlap, continue without ALPN. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
		       unsigned int inlen, void *arg)
{
	static const unsigned char supported[] = "\x08http/1.1\x04imap\x04pop3\x04smtp";
	unsigned char *sel;
	if (SSL_select_next_proto(&sel, outlen, supported, sizeof(supported) - 1, in, inlen) ==
	    OPENSSL_NPN_NEGOTIATED) {
		*out = sel;
		return SSL_TLSEXT_ERR_OK;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

SSL_CTX *tls_server_ctx_new(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		ssl_error(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* TLS 1.2: forward-secret AEAD suites only (the "intermediate" profile of RFC
	 * 9325 §4.2); TLS 1.3 suites are all strong and stay at OpenSSL's defaults */
	SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
				     "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
				     "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"postamt", 7);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		ssl_error(err, errlen, cert_path);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		ssl_error(err, errlen, key_path);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_error(err, errlen, "certificate and key do not match");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return -1;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 1 : -1;
}

static int write_pem(const char *path, int mode, EVP_PKEY *key, X509 *cert, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	int ok = key != NULL ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
			     : PEM_write_X509(f, cert);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (ok != 1) {
		snprintf(err, errlen, "%s: write failed", path);
		return -1;
	}
	return 1;
}

int tls_write_self_signed(const char *cert_path, const char *key_path, const char *hostname, char *err,
			  size_t errlen)
{
	int r = -1;
	EVP_PKEY *key = EVP_RSA_gen(2048);
	X509 *cert = X509_new();
	if (key == NULL || cert == NULL) {
		ssl_error(err, errlen, "key generation");
		goto out;
	}
	X509_set_version(cert, 2);
	unsigned char serial[16];
	FILE *ur = fopen("/dev/urandom", "r");
	if (ur == NULL || fread(serial, 1, sizeof(serial), ur) != sizeof(serial)) {
		if (ur != NULL)
			fclose(ur);
		snprintf(err, errlen, "cannot read /dev/urandom");
		goto out;
	}
	fclose(ur);
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3650L * 24 * 3600);
	X509_set_pubkey(cert, key);
	X509_NAME *name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)hostname, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"postamt self-signed", -1, -1,
				   0);
	X509_set_issuer_name(cert, name);
	char san[600];
	if (strcmp(hostname, "localhost") == 0)
		snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1");
	else
		snprintf(san, sizeof(san), "DNS:%s,DNS:localhost,IP:127.0.0.1", hostname);
	if (add_ext(cert, NID_subject_alt_name, san) < 0 || add_ext(cert, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
	    add_ext(cert, NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign") < 0 ||
	    add_ext(cert, NID_ext_key_usage, "serverAuth") < 0 || add_ext(cert, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(cert, NID_authority_key_identifier, "keyid:always") < 0) {
		ssl_error(err, errlen, "certificate extensions");
		goto out;
	}
	if (X509_sign(cert, key, EVP_sha256()) == 0) {
		ssl_error(err, errlen, "certificate signing");
		goto out;
	}
	if (write_pem(key_path, 0600, key, NULL, err, errlen) < 0 ||
	    write_pem(cert_path, 0644, NULL, cert, err, errlen) < 0)
		goto out;
	r = 1;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return r;
}

static void name_entry(X509_NAME *n, char *out, size_t outlen)
{
	int nids[] = { NID_commonName, NID_organizationName };
	out[0] = '\0';
	for (size_t i = 0; i < 2 && out[0] == '\0'; i++)
		if (X509_NAME_get_text_by_NID(n, nids[i], out, (int)outlen) < 0)
			out[0] = '\0';
	if (out[0] == '\0')
		X509_NAME_oneline(n, out, (int)outlen);
}

static time_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

int tls_cert_file_info(const char *path, struct tls_cert_info *info, char *err, size_t errlen)
{
	memset(info, 0, sizeof(*info));
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s", path);
		return -1;
	}
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		snprintf(err, errlen, "%s holds no PEM certificate", path);
		return -1;
	}
	name_entry(X509_get_subject_name(x), info->subject, sizeof(info->subject));
	name_entry(X509_get_issuer_name(x), info->issuer, sizeof(info->issuer));
	info->not_before = asn1_time(X509_get0_notBefore(x));
	info->not_after = asn1_time(X509_get0_notAfter(x));
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t len = 0;
	for (int i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		char one[64];
		const char *s = NULL;
		if (g->type == GEN_DNS) {
			s = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
		} else if (g->type == GEN_IPADD) {
			const unsigned char *b = ASN1_STRING_get0_data(g->d.iPAddress);
			int n = ASN1_STRING_length(g->d.iPAddress);
			if (n == 4 || n == 16) {
				inet_ntop(n == 4 ? AF_INET : AF_INET6, b, one, sizeof(one));
				s = one;
			}
		}
		if (s != NULL && len + strlen(s) + 3 < sizeof(info->names))
			len += (size_t)snprintf(info->names + len, sizeof(info->names) - len, "%s%s", len > 0 ? ", " : "",
						s);
	}
	GENERAL_NAMES_free(sans);
	X509_free(x);
	return 1;
}
