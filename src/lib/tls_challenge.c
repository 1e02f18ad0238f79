/* tls_challenge.c: pending ACME challenge answers and the ClientHello hook that
 * presents tls-alpn-01 certificates (see tls_challenge.h).
 *
 * Each tls-alpn-01 entry is a small SSL_CTX of its own (the challenge certificate
 * and an ALPN callback that selects acme-tls/1 only); the hook switches a
 * handshake to it with SSL_set_SSL_CTX before the certificate is chosen, as SNI
 * callbacks do, so the server's real context never carries the challenge. */
#include "tls_challenge.h"

#include "arena.h"

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define NAME_MAX_LEN 253

struct http_entry {
	char token[TLS_CHALLENGE_TOKEN_MAX + 1];
	char keyauth[TLS_CHALLENGE_KEYAUTH_MAX + 1];
};

struct alpn_entry {
	char name[NAME_MAX_LEN + 1];
	SSL_CTX *ctx;
};

struct tls_challenges {
	pthread_mutex_t lock; /* guards everything below */
	int port;
	struct http_entry http[TLS_CHALLENGE_ENTRIES];
	size_t nhttp;
	struct alpn_entry alpn[TLS_CHALLENGE_ENTRIES];
	size_t nalpn;
};

struct tls_challenges *tls_challenges_new(void)
{
	struct tls_challenges *ch = xcalloc(1, sizeof(*ch));
	pthread_mutex_init(&ch->lock, NULL);
	return ch;
}

void tls_challenges_clear(struct tls_challenges *ch)
{
	pthread_mutex_lock(&ch->lock);
	for (size_t i = 0; i < ch->nalpn; i++)
		SSL_CTX_free(ch->alpn[i].ctx);
	ch->nalpn = 0;
	ch->nhttp = 0;
	pthread_mutex_unlock(&ch->lock);
}

void tls_challenges_free(struct tls_challenges **chp)
{
	struct tls_challenges *ch = *chp;
	if (ch == NULL)
		return;
	tls_challenges_clear(ch);
	pthread_mutex_destroy(&ch->lock);
	free(ch);
	*chp = NULL;
}

void tls_challenges_set_port(struct tls_challenges *ch, int port)
{
	pthread_mutex_lock(&ch->lock);
	ch->port = port;
	pthread_mutex_unlock(&ch->lock);
}

static bool b64url_word(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

int tls_challenges_put_http(struct tls_challenges *ch, const char *token, const char *keyauth)
{
	if (!b64url_word(token, TLS_CHALLENGE_TOKEN_MAX) || strlen(keyauth) > TLS_CHALLENGE_KEYAUTH_MAX)
		return -1;
	int r = -1;
	pthread_mutex_lock(&ch->lock);
	size_t i = 0;
	while (i < ch->nhttp && strcmp(ch->http[i].token, token) != 0)
		i++;
	if (i < TLS_CHALLENGE_ENTRIES) {
		strcpy(ch->http[i].token, token);
		strcpy(ch->http[i].keyauth, keyauth);
		if (i == ch->nhttp)
			ch->nhttp++;
		r = 1;
	}
	pthread_mutex_unlock(&ch->lock);
	return r;
}

int tls_challenges_get_http(struct tls_challenges *ch, const char *token, char *out, size_t outlen)
{
	int r = 0;
	pthread_mutex_lock(&ch->lock);
	for (size_t i = 0; i < ch->nhttp; i++) {
		if (strcmp(ch->http[i].token, token) == 0 && strlen(ch->http[i].keyauth) < outlen) {
			strcpy(out, ch->http[i].keyauth);
			r = 1;
			break;
		}
	}
	pthread_mutex_unlock(&ch->lock);
	return r;
}

/* RFC 8737 §3: a challenge handshake negotiates acme-tls/1 and nothing else */
static int alpn_acme_only(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
			  unsigned int inlen, void *arg)
{
	static const unsigned char acme[] = "\x0a" "acme-tls/1";
	unsigned char *sel;
	if (SSL_select_next_proto(&sel, outlen, acme, sizeof(acme) - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
		*out = sel;
		return SSL_TLSEXT_ERR_OK;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int tls_challenges_put_alpn(struct tls_challenges *ch, const char *name, X509 *cert, EVP_PKEY *key)
{
	if (strlen(name) > NAME_MAX_LEN || name[0] == '\0')
		return -1;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_acme_only, NULL);
	if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return -1;
	}
	int r = -1;
	pthread_mutex_lock(&ch->lock);
	size_t i = 0;
	while (i < ch->nalpn && strcasecmp(ch->alpn[i].name, name) != 0)
		i++;
	if (i < TLS_CHALLENGE_ENTRIES) {
		if (i < ch->nalpn)
			SSL_CTX_free(ch->alpn[i].ctx);
		else
			ch->nalpn++;
		strcpy(ch->alpn[i].name, name);
		ch->alpn[i].ctx = ctx;
		ctx = NULL;
		r = 1;
	}
	pthread_mutex_unlock(&ch->lock);
	SSL_CTX_free(ctx);
	return r;
}

/* True when the ALPN extension's protocol list (RFC 7301 §3.1) names acme-tls/1. */
static bool offers_acme(const unsigned char *p, size_t len)
{
	if (len < 2 || (size_t)((p[0] << 8) | p[1]) != len - 2)
		return false;
	for (size_t i = 2; i < len;) {
		size_t n = p[i];
		if (n == 0 || i + 1 + n > len)
			return false;
		if (n == 10 && memcmp(p + i + 1, "acme-tls/1", 10) == 0)
			return true;
		i += 1 + n;
	}
	return false;
}

/* The host_name of the server_name extension (RFC 6066 §3) into out. Returns 1 or
 * 0 when there is none or it is malformed. */
static int sni_name(const unsigned char *p, size_t len, char *out, size_t outlen)
{
	if (len < 5 || (size_t)((p[0] << 8) | p[1]) != len - 2 || p[2] != 0)
		return 0;
	size_t n = (size_t)((p[3] << 8) | p[4]);
	if (n == 0 || n + 5 > len || n >= outlen || memchr(p + 5, '\0', n) != NULL)
		return 0;
	memcpy(out, p + 5, n);
	out[n] = '\0';
	return 1;
}

static int local_port(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

static int client_hello(SSL *ssl, int *al, void *arg)
{
	struct tls_challenges *ch = arg;
	const unsigned char *p;
	size_t len;
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &p, &len) != 1 ||
	    !offers_acme(p, len))
		return SSL_CLIENT_HELLO_SUCCESS;
	char name[NAME_MAX_LEN + 1];
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) != 1 ||
	    sni_name(p, len, name, sizeof(name)) <= 0)
		return SSL_CLIENT_HELLO_SUCCESS;
	SSL_CTX *ctx = NULL;
	pthread_mutex_lock(&ch->lock);
	int port = ch->port;
	for (size_t i = 0; i < ch->nalpn && ctx == NULL; i++) {
		if (strcasecmp(ch->alpn[i].name, name) == 0) {
			ctx = ch->alpn[i].ctx;
			SSL_CTX_up_ref(ctx);
		}
	}
	pthread_mutex_unlock(&ch->lock);
	if (ctx != NULL && (port == 0 || local_port(ssl) == port))
		SSL_set_SSL_CTX(ssl, ctx); /* takes its own reference */
	SSL_CTX_free(ctx);
	return SSL_CLIENT_HELLO_SUCCESS;
}

void tls_server_ctx_use_challenges(SSL_CTX *ctx, struct tls_challenges *ch)
{
	SSL_CTX_set_client_hello_cb(ctx, client_hello, ch);
}
