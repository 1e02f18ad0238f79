/* conn.h: one client connection, as sessions see it (DESIGN.md §4.4).
 *
 * conn wraps libevent bufferevents and OpenSSL once, so that a protocol session sees
 * a few events and byte-oriented calls and never a libevent type:
 *
 *   CONN_DATA       new input is buffered: read lines or bytes until need-more
 *   CONN_DRAINED    the output buffer became empty (only after conn_want_drained)
 *   CONN_TIMEOUT    no input for the idle timeout: say goodbye; the conn then closes
 *   CONN_TLS_READY  a TLS handshake finished (implicit TLS or after conn_starttls)
 *   CONN_SHUTDOWN   the server is stopping: say goodbye, close. It waits while the
 *                   conn is held (below), so the command in flight replies first
 *   CONN_RELEASED   the last hold went while the connection is open: the command
 *                   that was out is over (end it); input resumes after this event
 *   CONN_CLOSED     the socket is gone: stop using it (unsubscribe, leave lists).
 *                   The session itself is freed by the handler's free callback, at
 *                   once or, while the conn is held, at the last conn_release().
 *
 * Holds (the session core): asynchronous work for a session (a pool job, a store
 * callback, a password check) takes conn_hold() while it is out and conn_release()
 * when its completion ran. While held, input waits (no CONN_DATA) and CONN_SHUTDOWN
 * waits; a held conn outlives CONN_CLOSED: its socket is gone and every output call
 * is a no-op, but the struct, its session and conn_log/conn_loop stay valid until the
 * last release. So a completion arriving after the client went away is safe without
 * per-server flags: it asks conn_is_closed() and releases.
 *
 * Continuations: a command that takes over the input (SASL exchanges, IDLE, message
 * data, streamed responses) installs its own callbacks with conn_continue(); until
 * conn_continue_end() they get the input and the drained events instead of the
 * handler, so that a session's dispatcher never names a command.
 *
 * Events are never delivered from inside a conn_* call the session makes, with one
 * exception: conn_release() of the last hold delivers CONN_RELEASED (and a waiting
 * CONN_SHUTDOWN), or runs the free callback, before it returns. Everything here runs
 * on the connection's own loop thread, except the conn_shared calls. */
#ifndef POSTAMT_LIB_CONN_H
#define POSTAMT_LIB_CONN_H

#include "buf.h"
#include "loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct x509_st X509;

struct conn;
struct conn_shared;
struct conn_server;

enum conn_event { CONN_DATA, CONN_DRAINED, CONN_TIMEOUT, CONN_TLS_READY, CONN_SHUTDOWN, CONN_RELEASED, CONN_CLOSED };
enum conn_tls { CONN_PLAIN, CONN_TLS_IMPLICIT };

struct conn_handler {
	const char *proto; /* "smtp", "imap", ... for logs */
	/* A new connection was accepted: create the session (and write the greeting).
	 * ctx is the value given to conn_server_listen(). Never NULL. */
	void *(*open)(struct conn *c, void *ctx);
	void (*event)(void *session, enum conn_event ev);
	/* The connection is refused by a limit: write the protocol's "too many
	 * connections" reply with conn_write(); the conn then closes by itself. */
	void (*refuse)(struct conn *c, void *ctx);
	/* Frees the session: after CONN_CLOSED, once no hold is left. NULL: the session
	 * frees itself on CONN_CLOSED (then it must never hold the conn). */
	void (*free)(void *session);
};

/* Limits in force for new connections; replaced as a whole on reload. */
struct conn_limits {
	size_t per_ip;         /* open connections per client address */
	size_t total;          /* open connections overall */
	int handshake_timeout; /* seconds for a TLS handshake */
	uint64_t message_memory; /* bytes of message data held by all connections together */
	uint64_t message_memory_per_ip; /* ... by the connections of one client address (0: no cap) */
	size_t errors_per_session;      /* client errors before the session ends (conn_client_error) */
	size_t commands_per_session;    /* commands before the session ends (conn_command) */
};

/* Process-wide state shared by all loops: connection counts, the TLS context. */
struct conn_shared *conn_shared_new(const struct conn_limits *limits);
void conn_shared_free(struct conn_shared **sp);
/* Installs the TLS context for new handshakes (takes its own reference; pass NULL to
 * disable TLS). Thread-safe: used by reload while loops accept. */
void conn_shared_set_tls(struct conn_shared *s, SSL_CTX *ctx);
void conn_shared_set_limits(struct conn_shared *s, const struct conn_limits *limits);
/* Connections open right now, over all loops. */
size_t conn_shared_live(struct conn_shared *s);

/* Per-loop accept side and list of the loop's connections. */
struct conn_server *conn_server_new(struct loop *l, struct conn_shared *s);
/* Accepts on the listening socket fd (takes ownership) with the given handler.
 * Returns 1, or -1 with *error_r. Call on the loop's thread or before it starts. */
int conn_server_listen(struct conn_server *srv, int fd, enum conn_tls tls, const struct conn_handler *h,
		       void *ctx, const char **error_r);
/* Closes the listening sockets (on the loop's thread). */
void conn_server_stop_listening(struct conn_server *srv);
/* Sends CONN_SHUTDOWN to every connection of the loop (on the loop's thread). */
void conn_server_shutdown(struct conn_server *srv);
/* Stops listening and closes every connection of the loop now (on the loop's
 * thread): CONN_CLOSED is delivered; sessions whose work is still out are freed at
 * its last release, so the server must stay until that work is drained. */
void conn_server_close_all(struct conn_server *srv);
/* Frees the server after conn_server_close_all (done here too); only after the loop
 * has stopped and every hold was released (a conn still held is logged as
 * event=conn_leak and left, with the server, rather than freed under its holder). */
void conn_server_free(struct conn_server **srvp);

/* Message memory (limits.message_memory): the bytes of message data that sessions hold
 * in memory while they receive it (SMTP DATA/BDAT, IMAP APPEND literals, HTTP bodies),
 * counted over all connections of the process, so that many connections sending big
 * messages at once cannot exhaust memory. conn_mem_reserve() raises the connection's
 * holding to at least n bytes (in steps of CONN_MEM_STEP): 1 when done, 0 when the
 * process-wide limit or the share of the client's address (message_memory_per_ip,
 * keyed like the per-address connection count) would be exceeded (the holding is
 * then unchanged). conn_mem_release() drops the holding to 0; closing the connection
 * does it too. */
#define CONN_MEM_STEP (64 * 1024)
int conn_mem_reserve(struct conn *c, uint64_t n);
void conn_mem_release(struct conn *c);
/* Bytes held by all connections right now (for tests and logs). */
uint64_t conn_shared_mem_used(struct conn_shared *s);
/* Bytes held by the connections of one client address right now (for tests). */
uint64_t conn_shared_mem_used_by(struct conn_shared *s, const char *ip);

/* Input. conn_read_line() takes one line without its CRLF or LF: 1 with *line_r
 * (valid until the next conn call), 0 when no full line is buffered yet, -1 when the
 * line is longer than max (the input is left as it is). */
int conn_read_line(struct conn *c, size_t max, struct bytes *line_r);
size_t conn_input_len(struct conn *c);
/* Makes the first n buffered bytes (n <= conn_input_len) contiguous; returns them. */
const char *conn_input_peek(struct conn *c, size_t n);
/* Drops the first n buffered bytes. */
void conn_input_consume(struct conn *c, size_t n);
/* ---- the session core (conn_session.c) ---- */

/* Takes a hold on c for asynchronous work (see the top of this file): input and
 * CONN_SHUTDOWN wait, and c and its session outlive CONN_CLOSED, until the matching
 * conn_release(). Holds nest. */
void conn_hold(struct conn *c);
/* Gives a hold back. The last one delivers CONN_RELEASED and a waiting CONN_SHUTDOWN
 * and resumes input on an open conn, or, once CONN_CLOSED went, runs the handler's
 * free callback and frees c: the caller must not touch c or the session after this
 * call unless it holds another reference. Returns true when c is still open. */
bool conn_release(struct conn *c);
/* Holds in force (for tests and asserts). */
unsigned conn_holds(const struct conn *c);
/* True once CONN_CLOSED was delivered (only the struct is left, kept by holds). */
bool conn_is_closed(const struct conn *c);
/* True once the server asked the connection to stop (CONN_SHUTDOWN delivered or
 * waiting for the last hold): a reply made now should be the last. */
bool conn_is_stopping(const struct conn *c);

/* A continuation: a command's own callbacks for the input (data: called while input is
 * buffered and the conn is not held; NULL: input waits), the drained event (NULL: the
 * handler gets CONN_DRAINED) and the close (closed: the connection went while the
 * continuation was installed; runs before the handler's CONN_CLOSED; NULL: nothing). */
struct conn_continuation {
	void (*data)(void *arg);
	void (*drained)(void *arg);
	void (*closed)(void *arg);
};
/* Installs k with arg, replacing any other. When the session or a continuation leaves
 * input buffered and a different reader is installed, the new one is called next in
 * the same loop pass, so pipelined input is never left waiting. */
void conn_continue(struct conn *c, const struct conn_continuation *k, void *arg);
/* Uninstalls the continuation: input goes to the handler again (CONN_DATA). */
void conn_continue_end(struct conn *c);
/* True while the caller (k: the installed continuation, NULL: the session's own
 * reader) may read input now: c is not closing, not held and k is the reader. A read
 * loop runs while this holds. */
bool conn_may_read(const struct conn *c, const struct conn_continuation *k);

/* The per-session limits, checked here for every protocol. conn_command() counts one
 * command line: 1, or -1 (logged as event=too_many_commands) beyond
 * limits.commands_per_session; conn_client_error() counts one client error: 1, or -1
 * (logged as event=too_many_errors) when limits.errors_per_session is reached on a
 * conn that is not closing yet. On -1 the session says its goodbye and closes. */
int conn_command(struct conn *c);
int conn_client_error(struct conn *c);

/* Output: queued, written as the socket allows. */
void conn_write(struct conn *c, const void *data, size_t len);
void conn_puts(struct conn *c, const char *s);
void conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t conn_output_len(struct conn *c);
void conn_want_drained(struct conn *c, bool want);

/* Closes after the queued output is written; CONN_CLOSED follows. */
void conn_close(struct conn *c);
/* Closes now, dropping queued output; CONN_CLOSED follows. */
void conn_abort(struct conn *c);
bool conn_is_closing(const struct conn *c);

/* STARTTLS: drops input buffered after the command (RFC 3207 §4.2: no pipelined
 * plaintext may cross into TLS), writes what is queued in the clear, then starts a
 * server handshake; CONN_TLS_READY follows. Returns the number of dropped bytes, or
 * -1 when TLS is already on or not configured. */
long conn_starttls(struct conn *c);

/* COMPRESS=DEFLATE (RFC 4978): from now on, input is raw-DEFLATE-inflated before the
 * input calls see it (including bytes already buffered after the command that asked
 * for it) and output is deflated, ending each loop pass with a sync flush so that
 * every reply is complete on the wire. Output queued before the call goes out
 * uncompressed. A corrupt input stream is logged and the connection aborted.
 * Returns 1, or -1 with *error_r when compression is already on. */
int conn_compress_start(struct conn *c, const char **error_r);
bool conn_is_compressed(const struct conn *c);

/* Idle timeout in seconds (0: none). */
void conn_set_timeout(struct conn *c, int seconds);

/* True on a TLS connection (implicit, or after STARTTLS began the handshake). */
bool conn_is_tls(const struct conn *c);
bool conn_is_loopback(const struct conn *c);
/* True when a plaintext password may be accepted: TLS, or a loopback client. */
bool conn_may_send_password(const struct conn *c);
const char *conn_peer_ip(const struct conn *c);
uint64_t conn_id(const struct conn *c);
int conn_local_port(const struct conn *c);
struct loop *conn_loop(const struct conn *c);
/* The TLS protocol version ("TLSv1.3") or NULL. */
const char *conn_tls_version(const struct conn *c);
/* The certificate that new TLS handshakes present (conn_shared_set_tls), on any
 * connection, plain ones included: a new reference (X509_free it), or NULL when TLS
 * is off. Thread-safe. */
X509 *conn_tls_certificate(const struct conn *c);

/* Logs "conn=ID proto=P ip=A " followed by the message. */
void conn_log(const struct conn *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
