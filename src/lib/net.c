/* net.c: listening sockets and address helpers (see net.h).
 *
 * Our own worker sockets share each port through SO_REUSEPORT; net_port_free
 * binds once without it first, so that a port some other process holds (another
 * postamt included) is refused instead of silently shared. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int net_local_port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return -1;
}

/* Binds a TCP socket to sa. shared: SO_REUSEPORT (our own worker sockets on one
 * port); listening: also listen(). Returns the fd, or -1 with errno kept and a
 * message in err. */
static int bind_one(const struct sockaddr *sa, socklen_t salen, bool v6only_off, bool shared, bool listening,
		    char *err, size_t errlen)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		int e = errno;
		snprintf(err, errlen, "SO_REUSEPORT: %s", strerror(errno));
		close(fd);
		errno = e;
		return -1;
	}
	if (v6only_off)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, sa, salen) < 0 || (listening && listen(fd, 511) < 0)) {
		int e = errno;
		if (e == EADDRINUSE)
			snprintf(err, errlen, "port %d is already in use by another process",
				 net_local_port_of(sa));
		else
			snprintf(err, errlen, "%s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* bind_one on addr:port; addr "" is all addresses (IPv6 with IPv4 mapped, else IPv4). */
static int bind_addr(const char *addr, int port, bool shared, bool listening, char *err, size_t errlen)
{
	if (addr[0] == '\0') {
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
					   .sin6_addr = in6addr_any };
		int fd = bind_one((struct sockaddr *)&s6, sizeof(s6), true, shared, listening, err, errlen);
		if (fd >= 0 || errno == EADDRINUSE)
			return fd;
		struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					  .sin_addr.s_addr = htonl(INADDR_ANY) };
		return bind_one((struct sockaddr *)&s4, sizeof(s4), false, shared, listening, err, errlen);
	}
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1)
		return bind_one((struct sockaddr *)&s4, sizeof(s4), false, shared, listening, err, errlen);
	const char *a = addr;
	char tmp[NET_ADDR_MAX];
	size_t n = strlen(addr);
	if (n > 2 && addr[0] == '[' && addr[n - 1] == ']' && n - 2 < sizeof(tmp)) {
		memcpy(tmp, addr + 1, n - 2);
		tmp[n - 2] = '\0';
		a = tmp;
	}
	if (inet_pton(AF_INET6, a, &s6.sin6_addr) == 1)
		return bind_one((struct sockaddr *)&s6, sizeof(s6), false, shared, listening, err, errlen);
	snprintf(err, errlen, "bind address '%s' is not a numeric IPv4 or IPv6 address", addr);
	errno = EINVAL;
	return -1;
}

int net_listen(const char *addr, int port, char *err, size_t errlen)
{
	return bind_addr(addr, port, true, true, err, errlen);
}

int net_port_free(const char *addr, int port, char *err, size_t errlen)
{
	int fd = bind_addr(addr, port, false, false, err, errlen);
	if (fd < 0)
		return errno == EADDRINUSE ? 0 : -1;
	close(fd);
	return 1;
}

void net_addr_text(const struct sockaddr *sa, socklen_t len, char out[NET_ADDR_MAX])
{
	(void)len;
	out[0] = '\0';
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, NET_ADDR_MAX);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6))
			inet_ntop(AF_INET, &a6->s6_addr[12], out, NET_ADDR_MAX);
		else
			inet_ntop(AF_INET6, a6, out, NET_ADDR_MAX);
	} else {
		snprintf(out, NET_ADDR_MAX, "unknown");
	}
}

void net_addr_key(const char *ip, char out[NET_ADDR_MAX])
{
	struct in6_addr a6;
	if (inet_pton(AF_INET6, ip, &a6) != 1) {
		snprintf(out, NET_ADDR_MAX, "%s", ip); /* IPv4 (or not an address): as it is */
		return;
	}
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		inet_ntop(AF_INET, &a6.s6_addr[12], out, NET_ADDR_MAX);
		return;
	}
	memset(&a6.s6_addr[8], 0, 8); /* the /64: one host may hold all of it */
	inet_ntop(AF_INET6, &a6, out, NET_ADDR_MAX - 3); /* at most 39 characters */
	strcat(out, "/64");
}

bool net_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a6))
			return true;
		if (IN6_IS_ADDR_V4MAPPED(a6))
			return a6->s6_addr[12] == 127;
	}
	return false;
}

int net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}
