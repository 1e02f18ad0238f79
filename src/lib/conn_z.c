/* conn_z.c: the DEFLATE layer of a connection (see conn_z.h).
 *
 * Inflating is bounded: conn_z_inflate never lets the plain input grow past the
 * caller's limit and leaves the rest compressed in the wire buffer, where the
 * connection's read watermark stops reading the socket. A small compressed input can
 * stand for a huge plain one (1 MB of spaces inflates to 1 GB), so the limit must
 * apply to what is produced, not to what arrives. */
#include "conn_z.h"

#include "arena.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <zlib.h>

struct conn_z {
	z_stream inf, def;
	struct evbuffer *in, *out;
	bool flush_scheduled;
	bool pending; /* the last inflate filled its output: more may come without input */
	bool ended;   /* the client ended its DEFLATE stream */
};

struct conn_z *conn_z_new(const char **error_r)
{
	struct conn_z *z = xcalloc(1, sizeof(*z));
	if (inflateInit2(&z->inf, -15) != Z_OK) {
		free(z);
		*error_r = "Cannot start decompression";
		return NULL;
	}
	if (deflateInit2(&z->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		inflateEnd(&z->inf);
		free(z);
		*error_r = "Cannot start compression";
		return NULL;
	}
	z->in = evbuffer_new();
	z->out = evbuffer_new();
	return z;
}

void conn_z_free(struct conn_z **zp)
{
	struct conn_z *z = *zp;
	if (z == NULL)
		return;
	inflateEnd(&z->inf);
	deflateEnd(&z->def);
	evbuffer_free(z->in);
	evbuffer_free(z->out);
	free(z);
	*zp = NULL;
}

struct evbuffer *conn_z_in(struct conn_z *z)
{
	return z->in;
}

struct evbuffer *conn_z_out(struct conn_z *z)
{
	return z->out;
}

bool conn_z_want_flush(struct conn_z *z)
{
	if (z->flush_scheduled)
		return false;
	z->flush_scheduled = true;
	return true;
}

int conn_z_inflate(struct conn_z *z, struct evbuffer *raw, size_t limit)
{
	unsigned char tmp[16384];
	for (;;) {
		size_t n = evbuffer_get_contiguous_space(raw);
		if (z->ended) /* RFC 4978 §3: compression lasts as long as the connection */
			return n > 0 ? -1 : 0;
		if (n == 0 && !z->pending)
			return 0;
		size_t have = evbuffer_get_length(z->in);
		if (have >= limit)
			return 1;
		size_t room = limit - have < sizeof(tmp) ? limit - have : sizeof(tmp);
		z->inf.next_in = n > 0 ? evbuffer_pullup(raw, (ev_ssize_t)n) : NULL;
		z->inf.avail_in = (uInt)n;
		z->inf.next_out = tmp;
		z->inf.avail_out = (uInt)room;
		int r = inflate(&z->inf, Z_SYNC_FLUSH);
		if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END)
			return -1;
		size_t out = room - z->inf.avail_out, used = n - z->inf.avail_in;
		evbuffer_add(z->in, tmp, out);
		evbuffer_drain(raw, used);
		/* the output space ran out: zlib may hold more without needing input */
		z->pending = z->inf.avail_out == 0;
		if (r == Z_STREAM_END) {
			z->ended = true;
			z->pending = false;
		} else if (out == 0 && used == 0) {
			return 0; /* needs more input */
		}
	}
}

void conn_z_flush(struct conn_z *z, struct evbuffer *wire)
{
	z->flush_scheduled = false;
	if (evbuffer_get_length(z->out) == 0)
		return;
	unsigned char tmp[16384];
	while (evbuffer_get_length(z->out) > 0) {
		size_t n = evbuffer_get_contiguous_space(z->out);
		unsigned char *p = evbuffer_pullup(z->out, (ev_ssize_t)n);
		bool last = n == evbuffer_get_length(z->out);
		z->def.next_in = p;
		z->def.avail_in = (uInt)n;
		do {
			z->def.next_out = tmp;
			z->def.avail_out = sizeof(tmp);
			deflate(&z->def, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
			evbuffer_add(wire, tmp, sizeof(tmp) - z->def.avail_out);
		} while (z->def.avail_out == 0);
		evbuffer_drain(z->out, n);
	}
}
