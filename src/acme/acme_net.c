/* acme_net.c: one HTTPS request and its response, on non-blocking sockets driven by
 * poll() against one deadline (see acme_net.h). The response is parsed by the pure
 * acme_http_response_parse as bytes arrive. */
#include "acme_net.h"

#include "arena.h"
#include "dns.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int acme_net_init(struct acme_net *n, const char *ca_pem, int timeout_ms, size_t response_max, char *err, size_t errlen)
{
	*n = (struct acme_net){ .timeout_ms = timeout_ms, .response_max = response_max, .fd = -1 };
	pthread_mutex_init(&n->lock, NULL);
	n->ctx = SSL_CTX_new(TLS_client_method());
	if (n->ctx == NULL) {
		snprintf(err, errlen, "cannot make a TLS client context");
		return -1;
	}
	SSL_CTX_set_min_proto_version(n->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(n->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_default_verify_paths(n->ctx);
	if (ca_pem != NULL && ca_pem[0] != '\0') {
		X509_STORE *store = SSL_CTX_get_cert_store(n->ctx);
		BIO *b = BIO_new_mem_buf(ca_pem, -1);
		int added = 0;
		X509 *x;
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			if (X509_STORE_add_cert(store, x) == 1)
				added++;
			X509_free(x);
		}
		BIO_free(b);
		ERR_clear_error();
		if (added == 0) {
			snprintf(err, errlen, "acme.ca_file holds no certificate");
			return -1;
		}
	}
	ERR_clear_error();
	return 1;
}

void acme_net_free(struct acme_net *n)
{
	SSL_CTX_free(n->ctx);
	n->ctx = NULL;
	pthread_mutex_destroy(&n->lock);
}

void acme_net_cancel(struct acme_net *n)
{
	pthread_mutex_lock(&n->lock);
	n->stopping = true;
	if (n->fd >= 0)
		shutdown(n->fd, SHUT_RDWR);
	pthread_mutex_unlock(&n->lock);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline. Returns 1, or -1 on timeout. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = { .fd = fd, .events = events };
		int k = poll(&p, 1, (int)left);
		if (k > 0)
			return 1;
		if (k < 0 && errno != EINTR)
			return -1;
	}
}

#define ADDRS_MAX 8 /* addresses of the CA tried at most */

/* The CA's addresses: an IP literal as it is, else the AAAA and A records asked of
 * the server's resolver (dns.server when set, like every DNS question of postamt),
 * or of getaddrinfo without one (commands, tests). Returns how many are in out. */
static size_t resolve(struct acme_net *n, const struct acme_url *u, int64_t deadline,
		      struct sockaddr_storage out[ADDRS_MAX], socklen_t lens[ADDRS_MAX], const char **error_r)
{
	int port = atoi(u->port);
	size_t k = 0;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&out[0];
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out[0];
	memset(&out[0], 0, sizeof(out[0]));
	if (inet_pton(AF_INET, u->host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		lens[0] = sizeof(*s4);
		return 1;
	}
	memset(&out[0], 0, sizeof(out[0]));
	if (inet_pton(AF_INET6, u->host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		lens[0] = sizeof(*s6);
		return 1;
	}
	*error_r = "cannot resolve the CA's host name";
	if (n->dns == NULL) {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *res;
		if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
			return 0;
		for (struct addrinfo *ai = res; ai != NULL && k < ADDRS_MAX; ai = ai->ai_next) {
			if (ai->ai_addrlen > sizeof(out[k]))
				continue;
			memcpy(&out[k], ai->ai_addr, ai->ai_addrlen);
			lens[k++] = ai->ai_addrlen;
		}
		freeaddrinfo(res);
		return k;
	}
	static const int types[] = { DNS_AAAA, DNS_A };
	struct arena *a = arena_new();
	for (size_t t = 0; t < 2; t++) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			break;
		struct dns_answer ans;
		const char *error;
		if (dns_query_wait(n->dns, u->host, types[t], (unsigned)left, a, &ans, &error) != DNS_FOUND)
			continue;
		for (size_t i = 0; i < ans.n && k < ADDRS_MAX; i++) {
			memset(&out[k], 0, sizeof(out[k]));
			if (ans.addrs[i].family == AF_INET6) {
				struct sockaddr_in6 *x = (struct sockaddr_in6 *)&out[k];
				x->sin6_family = AF_INET6;
				x->sin6_port = htons((uint16_t)port);
				memcpy(&x->sin6_addr, ans.addrs[i].bytes, 16);
				lens[k++] = sizeof(*x);
			} else {
				struct sockaddr_in *x = (struct sockaddr_in *)&out[k];
				x->sin_family = AF_INET;
				x->sin_port = htons((uint16_t)port);
				memcpy(&x->sin_addr, ans.addrs[i].bytes, 4);
				lens[k++] = sizeof(*x);
			}
		}
	}
	arena_free(&a);
	return k;
}

static int connect_to(struct acme_net *n, const struct acme_url *u, int64_t deadline, const char **error_r)
{
	struct sockaddr_storage addrs[ADDRS_MAX];
	socklen_t lens[ADDRS_MAX];
	size_t naddrs = resolve(n, u, deadline, addrs, lens, error_r);
	if (naddrs == 0)
		return -1;
	int fd = -1;
	*error_r = "cannot connect to the CA";
	for (size_t i = 0; i < naddrs && fd < 0; i++) {
		fd = socket(addrs[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&n->lock);
		bool stop = n->stopping;
		if (!stop)
			n->fd = fd;
		pthread_mutex_unlock(&n->lock);
		int err = 0;
		socklen_t el = sizeof(err);
		if (!stop && (connect(fd, (struct sockaddr *)&addrs[i], lens[i]) == 0 ||
			      (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) > 0 &&
			       getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0)))
			break;
		pthread_mutex_lock(&n->lock);
		n->fd = -1;
		pthread_mutex_unlock(&n->lock);
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Drives one SSL call to completion against the deadline. */
static int ssl_step(SSL *ssl, int fd, int k, int64_t deadline)
{
	int e = SSL_get_error(ssl, k);
	if (e == SSL_ERROR_WANT_READ)
		return wait_fd(fd, POLLIN, deadline);
	if (e == SSL_ERROR_WANT_WRITE)
		return wait_fd(fd, POLLOUT, deadline);
	return -1;
}

int acme_https(struct acme_net *n, const char *method, const char *url, const char *ctype, const char *accept,
	       const char *body, struct arena *a, struct acme_http_response *r, const char **error_r)
{
	struct acme_url u;
	if (acme_url_parse(url, &u, error_r) < 0)
		return -1;
	int64_t deadline = now_ms() + n->timeout_ms;
	int fd = connect_to(n, &u, deadline, error_r);
	if (fd < 0)
		return -1;
	int ret = -1;
	SSL *ssl = SSL_new(n->ctx);
	SSL_set_fd(ssl, fd);
	bool ip = strchr(u.host, ':') != NULL || strspn(u.host, "0123456789.") == strlen(u.host);
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	if (ip) {
		X509_VERIFY_PARAM_set1_ip_asc(vp, u.host);
	} else {
		SSL_set_tlsext_host_name(ssl, u.host);
		X509_VERIFY_PARAM_set1_host(vp, u.host, 0);
	}
	int k;
	while ((k = SSL_connect(ssl)) != 1) {
		if (ssl_step(ssl, fd, k, deadline) < 0) {
			long v = SSL_get_verify_result(ssl);
			*error_r = v != X509_V_OK ? arena_printf(a, "the CA's certificate does not verify: %s",
								 X509_verify_cert_error_string(v))
						  : "TLS handshake with the CA failed or timed out";
			goto out;
		}
	}
	size_t blen = body != NULL ? strlen(body) : 0;
	char *req = arena_printf(a,
				 "%s %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: postamt/" POSTAMT_VERSION
				 "\r\nConnection: close\r\n%s%s%s%s%s%s",
				 method, u.path, strchr(u.host, ':') ? "[" : "", u.host, strchr(u.host, ':') ? "]" : "",
				 strcmp(u.port, "443") ? ":" : "", strcmp(u.port, "443") ? u.port : "",
				 accept ? "Accept: " : "", accept ? accept : "", accept ? "\r\n" : "",
				 body ? "Content-Type: " : "", body ? ctype : "", body ? "\r\n" : "");
	req = arena_printf(a, "%sContent-Length: %zu\r\n\r\n%s", req, blen, body ? body : "");
	size_t rlen = strlen(req), sent = 0;
	while (sent < rlen) {
		k = SSL_write(ssl, req + sent, (int)(rlen - sent));
		if (k > 0) {
			sent += (size_t)k;
		} else if (ssl_step(ssl, fd, k, deadline) < 0) {
			*error_r = "cannot send the request to the CA (or it timed out)";
			goto out;
		}
	}
	size_t cap = 16384, have = 0, limit = n->response_max + ACME_HTTP_HEAD_MAX + 4096;
	unsigned char *in = malloc(cap);
	bool eof = false;
	for (;;) {
		k = acme_http_response_parse(in, have, eof, n->response_max, a, r, error_r);
		if (k != 0) {
			ret = k > 0 ? 1 : -1;
			break;
		}
		if (have == cap) {
			if (cap >= limit) {
				*error_r = "response too large";
				break;
			}
			cap *= 2;
			in = realloc(in, cap);
			if (in == NULL)
				abort();
		}
		k = SSL_read(ssl, in + have, (int)(cap - have));
		if (k > 0) {
			have += (size_t)k;
		} else if (SSL_get_error(ssl, k) == SSL_ERROR_ZERO_RETURN ||
			   (SSL_get_error(ssl, k) == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
			eof = true;
		} else if (ssl_step(ssl, fd, k, deadline) < 0) {
			*error_r = "no complete answer from the CA in time";
			break;
		}
	}
	free(in);
out:
	pthread_mutex_lock(&n->lock);
	n->fd = -1;
	pthread_mutex_unlock(&n->lock);
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return ret;
}
