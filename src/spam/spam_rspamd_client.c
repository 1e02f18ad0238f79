/* spam_rspamd_client.c: the blocking half of the rspamd client (spam_rspamd_check,
 * spam_rspamd.h): one HTTP/1.1 request over a new TCP connection, non-blocking
 * sockets driven by poll() against one deadline for the whole exchange, so a
 * silent or slow rspamd holds the calling pool thread for at most the timeout. The
 * host name (if it is not an address) is resolved with getaddrinfo, which has no
 * deadline of its own: give an address in spam.rspamd. */
#include "spam_rspamd.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline: 1 ready, -1 timeout or error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = { fd, events, 0 };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int connect_any(const struct spam_rspamd_url *u, int64_t deadline, const char **error_r)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	if (getaddrinfo(u->host, u->port, &hints, &res) != 0) {
		*error_r = "cannot resolve the rspamd host";
		return -1;
	}
	int fd = -1;
	*error_r = "cannot connect to rspamd";
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		int err = 0;
		socklen_t elen = sizeof(err);
		if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) > 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0)
			break;
		if (now_ms() >= deadline)
			*error_r = "timeout connecting to rspamd";
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 1;
}

int spam_rspamd_check(const struct spam_rspamd_url *u, unsigned timeout_ms, size_t response_max,
		      const struct spam_rspamd_req *r, const struct bytes *body, size_t nbody, struct arena *a,
		      struct spam_rspamd_result *result_r, const char **error_r)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t body_len = 0;
	for (size_t i = 0; i < nbody; i++)
		body_len += body[i].len;
	int fd = connect_any(u, deadline, error_r);
	if (fd < 0)
		return -1;
	struct buf out = { 0 };
	spam_rspamd_request(&out, u, r, body_len);
	int ret = send_all(fd, out.data, out.len, deadline);
	for (size_t i = 0; i < nbody && ret > 0; i++)
		ret = send_all(fd, body[i].p, body[i].len, deadline);
	buf_free(&out);
	if (ret < 0) {
		*error_r = now_ms() >= deadline ? "timeout sending to rspamd" : "cannot send to rspamd";
		close(fd);
		return -1;
	}
	struct buf in = { 0 };
	ret = 0;
	while (ret == 0) {
		buf_reserve(&in, 16384);
		ssize_t n = recv(fd, in.data + in.len, 16384, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLIN, deadline) < 0) {
				*error_r = "timeout waiting for rspamd's answer";
				ret = -1;
			}
			continue;
		}
		if (n < 0) {
			*error_r = arena_printf(a, "reading rspamd's answer: %s", strerror(errno));
			ret = -1;
			break;
		}
		in.len += (size_t)n;
		in.data[in.len] = '\0'; /* buf keeps its NUL */
		ret = spam_rspamd_response(in.data, in.len, n == 0, response_max, result_r, error_r);
	}
	buf_free(&in);
	close(fd);
	return ret > 0 ? 1 : -1;
}
