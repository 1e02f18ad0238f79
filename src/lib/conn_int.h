/* conn_int.h: the structures behind conn.h, shared by conn.c (connections, their life
 * cycle and I/O) and conn_shared.c (what all loops share: the TLS context, the limits,
 * the per-address table and the message-memory budget). Not for use outside lib/conn. */
#ifndef POSTAMT_LIB_CONN_INT_H
#define POSTAMT_LIB_CONN_INT_H

#include "conn.h"
#include "buf.h"
#include "net.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define CONN_READ_HIGH (256 * 1024) /* stop reading while this much input waits */

struct conn_shared {
	pthread_mutex_t lock; /* guards tls and limits */
	SSL_CTX *tls;
	struct conn_limits limits;
	struct ip_table *ips;
	atomic_size_t live;
	atomic_uint_fast64_t next_id;
	atomic_uint_fast64_t mem_used, mem_limit, mem_per_ip; /* conn_mem_reserve() */
};

struct listener {
	struct listener *next;
	struct evconnlistener *ev;
	struct conn_server *srv;
	enum conn_tls tls;
	const struct conn_handler *h;
	void *ctx;
};

struct conn_server {
	struct loop *loop;
	struct conn_shared *shared;
	struct listener *listeners;
	struct conn *conns; /* doubly linked list of this loop's connections */
	size_t held_closed; /* closed connections still held (conn_release frees them) */
};

struct conn {
	struct conn_server *srv;
	struct conn *prev, *next;
	struct bufferevent *bev;
	struct event *deferred; /* finishes a close, re-delivers data after resume, starts TLS */
	const struct conn_handler *h;
	void *session;
	uint64_t id;
	int fd;
	int local_port;
	int timeout;
	char ip[NET_ADDR_MAX];
	struct buf line;
	bool loopback, tls, counted, handshaking;
	int metric_proto; /* 1 + enum metric_proto while counted in connections_open, else 0 */
	bool closing, abort_now, want_drained, starttls_pending, data_pending;
	/* the session core (conn_session.c) */
	unsigned holds;       /* conn_hold() not yet released */
	bool closed;          /* CONN_CLOSED delivered: only the struct is left */
	bool stopping;        /* CONN_SHUTDOWN delivered or waiting for the last hold */
	bool stop_waiting;    /* CONN_SHUTDOWN arrived while held */
	const struct conn_continuation *cont; /* conn_continue(), or NULL */
	void *cont_arg;
	size_t commands, errors; /* conn_command(), conn_client_error() */
	size_t commands_max, errors_max;
	uint64_t mem_held; /* message memory reserved (conn_mem_reserve) */
	uint64_t mem_ip_held; /* the part of it counted in the address's share */
	struct conn_z *z; /* COMPRESS=DEFLATE (conn_compress_start), NULL when off */
	bool z_more;      /* inflating stopped at CONN_READ_HIGH with more to come */
};

/* conn.c for conn_session.c: delivers ev to the session (not after CONN_CLOSED);
 * delivers buffered input to the reader in charge (the continuation or the session)
 * on the next loop pass; frees a closed conn (the session through the free callback). */
void conn_deliver(struct conn *c, enum conn_event ev);
void conn_resume_input(struct conn *c);
void conn_destroy(struct conn *c);

/* A new SSL from the current TLS context (NULL when there is none). Any thread. */
SSL *conn_shared_new_ssl(struct conn_shared *s);

#endif
