/* fuzz_smtp_data.c: libFuzzer target for the DATA decoder (src/proto/smtp/smtp_data.h).
 *
 * The first two bytes choose the size limit and the seed of the split; the rest is
 * the stream after "354". It is decoded whole, one byte at a time and in random
 * pieces: all three must agree on the end, the bytes consumed, the message (when it
 * is within the limit; past it the message is refused and out merely stops growing)
 * and the flags. Invariants: the data ends only right after CRLF "." CRLF (or ".\r\n" as the
 * very first line), never at the first such sequence's absence and never later than
 * it; out never passes the limit; size counts every decoded byte; bare CR/LF and NUL
 * are flagged exactly when the consumed bytes contain them. Then the reverse: the
 * input with every bare CR or LF removed, dot-stuffed by smtp_dot_stuff, decodes
 * back to itself (plus a final CRLF) with no flags. */
#include "fuzz.h"
#include "smtp_client.h"
#include "smtp_data.h"

#include <string.h>

struct run {
	int done;
	size_t used;
	struct buf out;
	struct smtp_data d;
};

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* step 0: random pieces from seed; else fixed pieces of step bytes. */
static void decode(const char *p, size_t len, uint64_t max, size_t step, uint32_t seed, struct run *r)
{
	memset(r, 0, sizeof(*r));
	smtp_data_init(&r->d, max);
	size_t pos = 0;
	uint32_t s = seed | 1;
	while (pos < len) {
		size_t n = step ? step : 1 + rng_next(&s) % 64;
		if (n > len - pos)
			n = len - pos;
		size_t used = (size_t)-1;
		int done = smtp_data_feed(&r->d, (struct bytes){ p + pos, n }, &r->out, &used);
		CHECK(done == 0 || done == 1);
		CHECK(used <= n);
		pos += used;
		if (done) {
			r->done = 1;
			break;
		}
		CHECK(used == n);
	}
	r->used = pos;
}

/* Where the data must end: after the first CRLF.CRLF, or after a leading ".\r\n". */
static size_t expected_end(const char *p, size_t len)
{
	if (len >= 3 && memcmp(p, ".\r\n", 3) == 0)
		return 3;
	for (size_t i = 0; i + 5 <= len; i++) {
		if (memcmp(p + i, "\r\n.\r\n", 5) == 0)
			return i + 5;
	}
	return 0;
}

static void same(const struct run *a, const struct run *b)
{
	CHECK(a->done == b->done && a->used == b->used);
	/* past the limit, how much of the message is kept depends on the pieces */
	if (!a->d.too_big)
		CHECK(a->out.len == b->out.len && memcmp(buf_str(&a->out), buf_str(&b->out), a->out.len) == 0);
	CHECK(a->d.size == b->d.size && a->d.bare_eol == b->d.bare_eol && a->d.nul == b->d.nul &&
	      a->d.too_big == b->d.too_big);
}

static bool has_bare_eol(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\r' && (i + 1 >= len || p[i + 1] != '\n'))
			return true;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint64_t max = data[0] == 0xff ? UINT64_MAX : data[0] * 4u;
	uint32_t seed = data[1] * 2654435761u;
	const char *p = (const char *)data + 2;
	size_t len = size - 2;

	struct run whole, bytewise, pieces;
	decode(p, len, max, len ? len : 1, 0, &whole);
	decode(p, len, max, 1, 0, &bytewise);
	decode(p, len, max, 0, seed, &pieces);
	same(&whole, &bytewise);
	same(&whole, &pieces);

	size_t end = expected_end(p, len);
	CHECK(whole.done == (end != 0));
	CHECK(whole.used == (end ? end : len));
	CHECK(whole.out.len <= max && whole.out.len <= whole.d.size);
	CHECK(whole.d.too_big == (whole.d.size > max));
	if (!whole.d.too_big)
		CHECK(whole.out.len == whole.d.size);
	CHECK(whole.out.len <= whole.used);
	if (whole.done) {
		/* the decoded message of a finished stream */
		CHECK(whole.d.nul == (memchr(p, '\0', whole.used) != NULL));
		CHECK(whole.d.bare_eol == has_bare_eol(p, whole.used));
		if (!whole.d.too_big && whole.out.len > 0) {
			CHECK(whole.out.len >= 2 && memcmp(buf_str(&whole.out) + whole.out.len - 2, "\r\n", 2) == 0);
		}
	}
	buf_free(&whole.out);
	buf_free(&bytewise.out);
	buf_free(&pieces.out);

	/* dot-stuffing and unstuffing are inverse for text without bare CR/LF */
	struct buf msg = { 0 }, wire = { 0 };
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n') {
			buf_append(&msg, "\r\n", 2);
			i++;
		} else if (p[i] != '\r' && p[i] != '\n') {
			buf_append(&msg, p + i, 1);
		}
	}
	smtp_dot_stuff((struct bytes){ buf_str(&msg), msg.len }, &wire);
	struct run back;
	decode(buf_str(&wire), wire.len, UINT64_MAX, 0, seed, &back);
	CHECK(back.done && back.used == wire.len);
	CHECK(!back.d.bare_eol && back.d.nul == (memchr(buf_str(&msg), '\0', msg.len) != NULL) && !back.d.too_big);
	bool crlf_end = msg.len >= 2 && memcmp(buf_str(&msg) + msg.len - 2, "\r\n", 2) == 0;
	size_t want = msg.len + (msg.len > 0 && !crlf_end ? 2 : 0);
	CHECK(back.out.len == want);
	CHECK(memcmp(buf_str(&back.out), buf_str(&msg), msg.len) == 0);
	buf_free(&back.out);
	buf_free(&msg);
	buf_free(&wire);
	return 0;
}
