/* conn_z.h: the DEFLATE layer of a connection (IMAP COMPRESS=DEFLATE, RFC 4978).
 *
 * Above TLS, below the session: input is inflated from the wire buffer into the
 * layer's `in` buffer, which the session then reads; output is collected in `out`
 * and deflated with Z_SYNC_FLUSH once per loop pass, so that every response the
 * session wrote is complete on the wire without waiting for more (clients block on
 * a partial flush otherwise), while many small writes share one flush. Internal to
 * src/lib (conn.c is its only user). */
#ifndef POSTAMT_LIB_CONN_Z_H
#define POSTAMT_LIB_CONN_Z_H

#include <stdbool.h>
#include <stddef.h>

struct evbuffer;
struct conn_z;

/* Raw DEFLATE (RFC 1951) both ways, as RFC 4978 §3 says. NULL with *error_r. */
struct conn_z *conn_z_new(const char **error_r);
void conn_z_free(struct conn_z **zp);
/* The plain input the session reads, and the plain output it writes. */
struct evbuffer *conn_z_in(struct conn_z *z);
struct evbuffer *conn_z_out(struct conn_z *z);
/* Marks a flush as wanted; true when none was pending (then schedule one). */
bool conn_z_want_flush(struct conn_z *z);
/* Inflates what arrived in raw into the input until the input holds limit bytes;
 * what is not needed yet stays in raw (consumed input is drained from it). Returns 0
 * when everything that arrived is inflated, 1 when it stopped at the limit with more
 * to come (call again once the input has been read below the limit), -1 on a corrupt
 * stream or on data after the end of the stream. */
int conn_z_inflate(struct conn_z *z, struct evbuffer *raw, size_t limit);
/* Deflates the collected output into wire, ending with a sync flush. */
void conn_z_flush(struct conn_z *z, struct evbuffer *wire);

#endif
