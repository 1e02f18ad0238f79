/* conn_client.h: the blocking loopback client of the lib/conn tests (test_conn.c,
 * test_conn_hold.c): connect with a 5 s receive timeout, send a string, see EOF.
 * Include after cmocka.h. */
#ifndef POSTAMT_TEST_CONN_CLIENT_H
#define POSTAMT_TEST_CONN_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

/* A connected socket to 127.0.0.1:port. */
static inline int client(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static inline void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* True when the server closed the connection (the next read is EOF). */
static inline bool at_eof(int fd)
{
	char ch;
	return recv(fd, &ch, 1, 0) == 0;
}

#endif
