/* fake_smtp.c: the scripted SMTP server of the queue's delivery tests and their
 * shared helpers (fake_smtp.h). One thread accepts and serves one connection at a
 * time; what it received is kept under f->lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "fake_smtp.h"
#include "queue_int.h"

/* The server side of one connection: a socket, TLS after STARTTLS, a read buffer. */
struct io {
	int fd;
	SSL *ssl;
	char buf[8192];
	size_t len;
};

static void say(struct io *io, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = io->ssl != NULL ? SSL_write(io->ssl, s, (int)n) : write(io->fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* One line with its CRLF into line (NUL-terminated); false at EOF. */
static bool get_line(struct io *io, char *line, size_t size)
{
	for (;;) {
		char *nl = memchr(io->buf, '\n', io->len);
		if (nl != NULL || io->len == sizeof(io->buf)) {
			size_t n = nl != NULL ? (size_t)(nl - io->buf) + 1 : io->len;
			if (n >= size)
				n = size - 1;
			memcpy(line, io->buf, n);
			line[n] = '\0';
			memmove(io->buf, io->buf + n, io->len - n);
			io->len -= n;
			return true;
		}
		ssize_t r = io->ssl != NULL ? SSL_read(io->ssl, io->buf + io->len, (int)(sizeof(io->buf) - io->len))
					    : read(io->fd, io->buf + io->len, sizeof(io->buf) - io->len);
		if (r <= 0)
			return false;
		io->len += (size_t)r;
	}
}

static void session(struct fake *f, int fd)
{
	struct io io_ = { .fd = fd }, *io = &io_;
	char line[2048];
	struct received cur = { 0 };
	int accepted = 0;
	bool authed = false;
	if (f->implicit) {
		io->ssl = SSL_new(f->tls);
		SSL_set_fd(io->ssl, fd);
		if (SSL_accept(io->ssl) != 1) {
			SSL_free(io->ssl);
			close(fd);
			return;
		}
	}
	say(io, "220 fake.test ESMTP\r\n");
	while (get_line(io, line, sizeof(line))) {
		if (strncasecmp(line, "EHLO", 4) == 0) {
			char auth[128] = "";
			if (f->auth_mechs != NULL)
				snprintf(auth, sizeof(auth), "250-AUTH %s\r\n", f->auth_mechs);
			char reply[512];
			if (f->no_ehlo)
				snprintf(reply, sizeof(reply), "502 5.5.1 EHLO not here\r\n");
			else if (f->no_pipelining)
				snprintf(reply, sizeof(reply),
					 "250-fake.test\r\n%s250-8BITMIME\r\n250 SIZE 1000000\r\n", auth);
			else if (f->tls != NULL && io->ssl == NULL)
				snprintf(reply, sizeof(reply),
					 "250-fake.test\r\n%s250-STARTTLS\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n",
					 auth);
			else
				snprintf(
					reply, sizeof(reply),
					"250-fake.test\r\n%s250-PIPELINING\r\n250-8BITMIME\r\n250-DSN\r\n250 SIZE 1000000\r\n",
					auth);
			say(io, reply);
		} else if (strncasecmp(line, "AUTH ", 5) == 0) {
			pthread_mutex_lock(&f->lock);
			f->auth_lines++;
			f->auth_in_clear += io->ssl == NULL;
			pthread_mutex_unlock(&f->lock);
			line[strcspn(line, "\r\n")] = '\0';
			if (f->auth_expect != NULL && strncasecmp(line + 5, "PLAIN ", 6) == 0 &&
			    strcmp(line + 11, f->auth_expect) == 0) {
				authed = true;
				say(io, "235 2.7.0 Authentication successful\r\n");
			} else {
				say(io, "535 5.7.8 Authentication credentials invalid\r\n");
			}
		} else if (strncasecmp(line, "STARTTLS", 8) == 0 && f->tls != NULL && io->ssl == NULL) {
			say(io, "220 2.0.0 go ahead\r\n");
			if (f->break_tls) {
				say(io, "this is not TLS\r\n");
				break;
			}
			io->ssl = SSL_new(f->tls);
			SSL_set_fd(io->ssl, fd);
			if (SSL_accept(io->ssl) != 1)
				break;
			io->len = 0;
			pthread_mutex_lock(&f->lock);
			snprintf(f->tls_version, sizeof(f->tls_version), "%s", SSL_get_version(io->ssl));
			pthread_mutex_unlock(&f->lock);
		} else if (strncasecmp(line, "HELO", 4) == 0) {
			say(io, "250 fake.test\r\n");
		} else if (strncasecmp(line, "MAIL FROM:<", 11) == 0 && f->auth_expect != NULL && !authed) {
			say(io, "530 5.7.0 Authentication required\r\n");
		} else if (strncasecmp(line, "MAIL FROM:<", 11) == 0) {
			memset(&cur, 0, sizeof(cur));
			cur.authed = authed;
			accepted = 0;
			char *end = strchr(line + 11, '>');
			snprintf(cur.sender, sizeof(cur.sender), "%.*s", end != NULL ? (int)(end - line - 11) : 0,
				 line + 11);
			cur.tls = io->ssl != NULL;
			say(io, "250 2.1.0 ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:<", 9) == 0) {
			char *a = line + 9, *end = strchr(a, '>');
			if (end != NULL)
				*end = '\0';
			if (strncmp(a, "bad", 3) == 0) {
				say(io, "550 5.1.1 no such user here\r\n");
			} else if (strncmp(a, "later", 5) == 0) {
				say(io, "451 4.3.0 try again later\r\n");
			} else {
				accepted++;
				if (cur.rcpts[0] != '\0')
					strncat(cur.rcpts, " ", sizeof(cur.rcpts) - strlen(cur.rcpts) - 1);
				strncat(cur.rcpts, a, sizeof(cur.rcpts) - strlen(cur.rcpts) - 1);
				say(io, "250 2.1.5 ok\r\n");
			}
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			if (accepted == 0) {
				say(io, "554 5.5.1 no valid recipients\r\n");
				continue;
			}
			say(io, "354 go on\r\n");
			struct buf data = { 0 };
			while (get_line(io, line, sizeof(line))) {
				if (strcmp(line, ".\r\n") == 0)
					break;
				buf_puts(&data, line[0] == '.' ? line + 1 : line);
			}
			pthread_mutex_lock(&f->lock);
			if (f->nmsgs < 32) {
				cur.data = strdup(buf_str(&data));
				f->msgs[f->nmsgs++] = cur;
			}
			pthread_mutex_unlock(&f->lock);
			buf_free(&data);
			say(io, "250 2.0.0 queued\r\n");
		} else if (strncasecmp(line, "RSET", 4) == 0 || strncasecmp(line, "NOOP", 4) == 0) {
			say(io, "250 ok\r\n");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			say(io, "221 bye\r\n");
			break;
		} else {
			say(io, "500 5.5.2 what\r\n");
		}
	}
	if (io->ssl != NULL) {
		SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
	}
	close(fd);
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	while (!atomic_load(&f->stop)) {
		struct pollfd p = { .fd = f->lfd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&f->lock);
		f->sessions++;
		pthread_mutex_unlock(&f->lock);
		session(f, fd);
	}
	return NULL;
}

struct fake *fake_start(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	socklen_t len = sizeof(sin);
	getsockname(f->lfd, (struct sockaddr *)&sin, &len);
	f->port = ntohs(sin.sin_port);
	pthread_create(&f->thread, NULL, fake_main, f);
	return f;
}

void fake_stop(struct fake **fp)
{
	struct fake *f = *fp;
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	close(f->lfd);
	for (int i = 0; i < f->nmsgs; i++)
		free(f->msgs[i].data);
	pthread_mutex_destroy(&f->lock);
	SSL_CTX_free(f->tls);
	free(f);
	*fp = NULL;
}

int fake_count(struct fake *f)
{
	pthread_mutex_lock(&f->lock);
	int n = f->nmsgs;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* A received message with this recipient list, or NULL. */
struct received *fake_find(struct fake *f, const char *rcpts)
{
	pthread_mutex_lock(&f->lock);
	struct received *r = NULL;
	for (int i = 0; i < f->nmsgs; i++)
		if (strcmp(f->msgs[i].rcpts, rcpts) == 0)
			r = &f->msgs[i];
	pthread_mutex_unlock(&f->lock);
	return r;
}

/* Whether any message received for rcpts contains every one of the strings. */
bool fake_has(struct fake *f, const char *rcpts, const char *s)
{
	pthread_mutex_lock(&f->lock);
	bool found = false;
	for (int i = 0; i < f->nmsgs && !found; i++)
		found = strcmp(f->msgs[i].rcpts, rcpts) == 0 && strstr(f->msgs[i].data, s) != NULL;
	pthread_mutex_unlock(&f->lock);
	return found;
}

/* ---------------------------------------------------------------- helpers */

int fake_get(struct fake *f, const int *field)
{
	pthread_mutex_lock(&f->lock);
	int v = *field;
	pthread_mutex_unlock(&f->lock);
	return v;
}

int queued(const char *dir)
{
	struct arena *a = arena_new();
	struct queue_entry *e;
	size_t n = 0;
	const char *err;
	if (queue_list(dir, NULL, a, &e, &n, &err) < 0)
		n = 999;
	arena_free(&a);
	return (int)n;
}

void submit(struct queue *q, const char *sender, const char *const *rcpts, size_t n, const char *data)
{
	struct queue_rcpt r[8];
	for (size_t i = 0; i < n; i++)
		r[i] = (struct queue_rcpt){ .address = rcpts[i] };
	struct queue_msg m = { .sender = sender, .rcpts = r, .nrcpts = n, .data = data, .len = strlen(data) };
	const char *err = NULL;
	assert_int_equal(queue_submit(q, &m, NULL, &err), 1);
}

static const char *const test_zone[] = { "local-zone: test. static", NULL };

struct queue_settings settings(struct queue_route *routes, size_t nroutes)
{
	return (struct queue_settings){ .hostname = "mx.example.test",
					.retry_initial = 1,
					.retry_max = 2,
					.lifetime = 3600,
					.timeout_command = 5,
					.timeout_connect = 5,
					.routes = routes,
					.nroutes = nroutes,
					.no_fsync = true,
					.dns_data = test_zone };
}
