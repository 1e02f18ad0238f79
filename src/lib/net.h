/* net.h: sockets: listening sockets and address text.
 *
 * Listening sockets are made before the process drops privileges, one per worker loop
 * and port with SO_REUSEPORT so the kernel spreads connections over the loops. */
#ifndef POSTAMT_LIB_NET_H
#define POSTAMT_LIB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define NET_ADDR_MAX 64 /* room for any IPv6 address text */

/* Opens a non-blocking listening TCP socket on addr:port with SO_REUSEADDR and
 * SO_REUSEPORT. addr "" means all addresses (IPv6 with IPv4 mapped, else IPv4).
 * Returns the fd, or -1 with a message in err (size errlen). */
int net_listen(const char *addr, int port, char *err, size_t errlen);
/* Probes addr:port by binding a socket without SO_REUSEPORT (and closing it): any
 * other socket bound there, with or without SO_REUSEPORT, makes that bind fail.
 * Call it before the first net_listen of a port. Returns 1 when the port is free,
 * 0 when another socket holds it, -1 on another error; err says which (0: "port N
 * is already in use by another process"). */
int net_port_free(const char *addr, int port, char *err, size_t errlen);
/* Writes the numeric address of sa into out (IPv4-mapped IPv6 shown as IPv4). */
void net_addr_text(const struct sockaddr *sa, socklen_t len, char out[NET_ADDR_MAX]);
/* The key under which per-address limits count a client, from its address text (as
 * net_addr_text writes it): an IPv4 address as it is, an IPv4-mapped IPv6 address as
 * IPv4, any other IPv6 address as its /64 prefix ("2001:db8:1:2::/64"), since one
 * host or one customer usually holds a whole /64. Used by the connection limit
 * (ip_table), the failed-login limiter (auth/login_limit.h) and per-address shares of
 * memory budgets. Text that is no address is copied. Pure. */
void net_addr_key(const char *ip, char out[NET_ADDR_MAX]);
/* True for 127.0.0.0/8, ::1 and IPv4-mapped loopback addresses. */
bool net_is_loopback(const struct sockaddr *sa);
/* The port a socket is bound to, or -1. */
int net_local_port(int fd);

#endif
