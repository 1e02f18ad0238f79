/* test_conn_z.c: the DEFLATE layer's bounded inflate (conn_z.c). A small compressed
 * input that stands for a huge plain one (a decompression bomb) is inflated in steps
 * of at most the caller's limit: the plain buffer never grows past it, the rest stays
 * compressed in the wire buffer, and draining the plain buffer and calling again
 * yields every byte exactly once. Also: corrupt data and data after the end of the
 * stream are errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "conn_z.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define LIMIT (256 * 1024)

/* Raw DEFLATE of `total` bytes of `fill` (or of a pattern when fill is 0), with a
 * sync flush at the end, as a client sends it; finish ends the stream. */
static void deflate_into(struct evbuffer *out, size_t total, int fill, bool finish)
{
	z_stream d = { 0 };
	assert_int_equal(deflateInit2(&d, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	unsigned char in[65536], buf[65536];
	size_t done = 0;
	for (;;) {
		size_t n = total - done < sizeof(in) ? total - done : sizeof(in);
		for (size_t i = 0; i < n; i++)
			in[i] = fill ? (unsigned char)fill : (unsigned char)((done + i) * 7 % 251);
		done += n;
		int flush = done < total ? Z_NO_FLUSH : finish ? Z_FINISH : Z_SYNC_FLUSH;
		d.next_in = in;
		d.avail_in = (uInt)n;
		do {
			d.next_out = buf;
			d.avail_out = sizeof(buf);
			deflate(&d, flush);
			evbuffer_add(out, buf, sizeof(buf) - d.avail_out);
		} while (d.avail_out == 0);
		if (done == total)
			break;
	}
	deflateEnd(&d);
}

static void test_bomb_bounded(void **state)
{
	(void)state;
	const char *error;
	struct conn_z *z = conn_z_new(&error);
	assert_non_null(z);
	struct evbuffer *raw = evbuffer_new();
	size_t total = (size_t)256 * 1024 * 1024; /* 256 MiB of spaces: about 256 KB compressed */
	deflate_into(raw, total, ' ', false);
	size_t wire = evbuffer_get_length(raw);
	assert_true(wire < total / 500);
	size_t got = 0, calls = 0;
	int r;
	do {
		r = conn_z_inflate(z, raw, LIMIT);
		assert_true(r >= 0);
		size_t have = evbuffer_get_length(conn_z_in(z));
		assert_true(have <= LIMIT); /* never more than the limit at once */
		if (r > 0)
			assert_int_equal(have, LIMIT);
		unsigned char *p = evbuffer_pullup(conn_z_in(z), (ev_ssize_t)have);
		for (size_t i = 0; i < have; i += 4099)
			assert_int_equal(p[i], ' ');
		got += have;
		evbuffer_drain(conn_z_in(z), have);
		calls++;
		if (calls == 1) /* the first step left most of the input compressed */
			assert_true(evbuffer_get_length(raw) > wire / 2);
	} while (r > 0);
	assert_int_equal(got, total);
	assert_int_equal(evbuffer_get_length(raw), 0);
	assert_true(calls >= total / LIMIT);
	/* a call with the input at the limit inflates nothing */
	deflate_into(raw, 2 * LIMIT, 'x', false);
	assert_int_equal(conn_z_inflate(z, raw, LIMIT), 1);
	assert_int_equal(conn_z_inflate(z, raw, LIMIT), 1);
	assert_int_equal(evbuffer_get_length(conn_z_in(z)), LIMIT);
	evbuffer_free(raw);
	conn_z_free(&z);
	assert_null(z);
}

static void test_exact_and_split(void **state)
{
	(void)state;
	const char *error;
	struct conn_z *z = conn_z_new(&error);
	struct evbuffer *raw = evbuffer_new(), *all = evbuffer_new();
	size_t total = 3 * LIMIT + 12345;
	deflate_into(all, total, 0, false);
	/* fed one compressed byte at a time, with a tiny limit */
	size_t got = 0;
	while (evbuffer_get_length(all) > 0 || evbuffer_get_length(raw) > 0) {
		if (evbuffer_get_length(all) > 0)
			evbuffer_remove_buffer(all, raw, 1);
		int r;
		do {
			r = conn_z_inflate(z, raw, 1000);
			assert_true(r >= 0);
			size_t have = evbuffer_get_length(conn_z_in(z));
			assert_true(have <= 1000);
			unsigned char *p = evbuffer_pullup(conn_z_in(z), (ev_ssize_t)have);
			for (size_t i = 0; i < have; i++)
				if (p[i] != (unsigned char)((got + i) * 7 % 251))
					fail_msg("byte %zu differs", got + i);
			got += have;
			evbuffer_drain(conn_z_in(z), have);
		} while (r > 0);
		if (evbuffer_get_length(all) == 0)
			break;
	}
	assert_int_equal(got, total);
	evbuffer_free(raw);
	evbuffer_free(all);
	conn_z_free(&z);
}

static void test_errors(void **state)
{
	(void)state;
	const char *error;
	struct conn_z *z = conn_z_new(&error);
	struct evbuffer *raw = evbuffer_new();
	evbuffer_add(raw, "\xff\xff\xff\xff garbage", 12); /* an invalid block type */
	assert_int_equal(conn_z_inflate(z, raw, LIMIT), -1);
	conn_z_free(&z);
	/* a finished stream, then more data */
	z = conn_z_new(&error);
	evbuffer_drain(raw, evbuffer_get_length(raw));
	deflate_into(raw, 100, 'a', true);
	assert_int_equal(conn_z_inflate(z, raw, LIMIT), 0);
	assert_int_equal(evbuffer_get_length(conn_z_in(z)), 100);
	evbuffer_add(raw, "more", 4);
	assert_int_equal(conn_z_inflate(z, raw, LIMIT), -1);
	evbuffer_free(raw);
	conn_z_free(&z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bomb_bounded),
		cmocka_unit_test(test_exact_and_split),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
