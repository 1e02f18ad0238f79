/* test_reader.c: the streaming message reader (src/mail/mail_reader.c). Each case
 * writes a file and reads a range of it with windows of 1 byte upwards: the output
 * must be the same for every window size and every <start.count> cut at every
 * boundary; the base64 and quoted-printable decoders must give the expected bytes of
 * fixed cases, and the same bytes for every split of the input; POP3 byte stuffing applied to the
 * reader's windows must match stuffing the whole message at once; a file shorter
 * than its range is an error, not a short answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mail_reader.h"
#include "pop3_parse.h"

/* A temporary file holding prefix + data (the range starts after the prefix). */
static int tmpfile_with(const char *data, size_t n, size_t prefix)
{
	char path[] = "/tmp/test_reader_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	for (size_t i = 0; i < prefix; i++)
		assert_int_equal(write(fd, "P", 1), 1);
	if (n > 0)
		assert_int_equal(write(fd, data, n), (ssize_t)n);
	return fd;
}

/* All output of a reader over [prefix, prefix+n) with the given window and cut. */
static void read_all(int fd, size_t prefix, size_t n, enum mail_xform x, size_t window, uint64_t start,
		     uint64_t count, struct buf *out)
{
	struct mail_reader r;
	mail_reader_init(&r, fd, prefix, n, x, window);
	mail_reader_range(&r, start, count);
	struct buf chunk = { 0 };
	int ret;
	while ((ret = mail_reader_next(&r, &chunk)) > 0) {
		assert_true(chunk.len > 0);
		/* one window of input at most (QP may add the whitespace it held) */
		assert_true(chunk.len <= window + MAIL_READER_QP_WS);
		buf_append(out, chunk.data, chunk.len);
		buf_reset(&chunk);
	}
	assert_int_equal(ret, 0);
	mail_reader_free(&r);
	buf_free(&chunk);
}

static void expect_cut(const struct buf *got, const char *ref, size_t rn, uint64_t start, uint64_t count)
{
	size_t s = start < rn ? (size_t)start : rn;
	size_t c = count < rn - s ? (size_t)count : rn - s;
	assert_int_equal(got->len, c);
	if (c > 0)
		assert_memory_equal(got->data, ref + s, c);
}

static void test_plain_ranges(void **state)
{
	(void)state;
	static const char msg[] = "Subject: x\r\n\r\n.line\r\nzero\0byte\r\n..\r\nend";
	size_t n = sizeof(msg) - 1;
	int fd = tmpfile_with(msg, n, 3);
	char nul80[sizeof(msg)];
	memcpy(nul80, msg, n);
	for (size_t i = 0; i < n; i++)
		if (nul80[i] == '\0')
			nul80[i] = (char)0x80;
	static const size_t windows[] = { 1, 2, 3, 7, 64 * 1024 };
	for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
		for (uint64_t start = 0; start <= n + 1; start++) {
			for (uint64_t count = 0; count <= n + 1; count++) {
				struct buf b = { 0 };
				read_all(fd, 3, n, MAIL_X_NONE, windows[w], start, count, &b);
				expect_cut(&b, msg, n, start, count);
				buf_reset(&b);
				read_all(fd, 3, n, MAIL_X_NUL80, windows[w], start, count, &b);
				expect_cut(&b, nul80, n, start, count);
				buf_free(&b);
			}
		}
		struct buf b = { 0 };
		read_all(fd, 3, n, MAIL_X_NONE, windows[w], 0, UINT64_MAX, &b);
		expect_cut(&b, msg, n, 0, UINT64_MAX);
		buf_free(&b);
	}
	close(fd);
}

/* Decoder inputs with every state of the quoted-printable machine at a boundary. */
/* Fixed cases: input and the decoded bytes (n of them). */
struct dcase {
	const char *in, *out;
	size_t n;
};

static const struct dcase qp_cases[] = {
	{ "plain text\r\nline two\r\n", "plain text\r\nline two\r\n", 22 },
	{ "caf=C3=A9 =3D=3d\r\n", "caf\xc3\xa9 ==\r\n", 10 },
	{ "soft=\r\nbreak=\nLF= \t\r\nws=  \r\nend", "softbreakLFwsend", 16 },
	{ "trailing   \r\nspace\t\t\nlast  ", "trailing\r\nspace\nlast", 20 },
	{ "bad=4 x=ZZ =4", "bad=4 x=ZZ =4", 13 },
	{ "eq at end =", "eq at end ", 10 },
	{ "eq ws at end =  \t", "eq ws at end ", 13 },
	{ "==41=\r=\r\nx", "=Ax", 3 },
	{ "= x =\tA  = \r\n", "= x =\tA  ", 9 },
	{ "a \t b\r\n=41=4", "a \t b\r\nA=4", 10 },
	{ "a=3Db=\r\nc =\r\nd=ZZ  \r\n", "a=bc d=ZZ\r\n", 11 },
	{ "", "", 0 },
};

static const struct dcase b64_cases[] = {
	{ "SGVsbG8sIHdvcmxkIQ==", "Hello, world!", 13 },
	{ "SGVs\r\nbG8s\r\nIHdv\r\ncmxk\r\nIQ==\r\n", "Hello, world!", 13 },
	{ "AAECAwQF\r\nBgcICQ==", "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t", 10 },
	{ "SGVsbG8*!@ garbage\tSGk=trailing ignored", "Hello j\xb6\xda\x81\xe4\x86", 12 },
	{ "QUJD", "ABC", 3 },
	{ "aGVs\r\nbG8A\r\nAQ==", "hello\0\1", 7 },
	{ "QUJ", "AB", 2 },
	{ "", "", 0 },
};

static void check_decoder(enum mail_xform x, const struct dcase *dc)
{
	const char *in = dc->in;
	size_t n = strlen(in);
	struct buf ref = { 0 };
	/* the one-shot form gives the expected bytes; every split below the same */
	mail_decode(x, in, n, &ref);
	assert_int_equal(ref.len, dc->n);
	assert_memory_equal(ref.len ? ref.data : "", dc->out, dc->n);
	int fd = tmpfile_with(in, n, 5);
	static const size_t windows[] = { 1, 2, 3, 5, 64 * 1024 };
	for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
		struct buf got = { 0 };
		read_all(fd, 5, n, x, windows[w], 0, UINT64_MAX, &got);
		expect_cut(&got, ref.data ? ref.data : "", ref.len, 0, UINT64_MAX);
		buf_free(&got);
		for (uint64_t start = 0; start <= ref.len + 1; start++) {
			for (uint64_t count = 0; count <= ref.len + 1; count++) {
				struct buf b = { 0 };
				read_all(fd, 5, n, x, windows[w], start, count, &b);
				expect_cut(&b, ref.data ? ref.data : "", ref.len, start, count);
				buf_free(&b);
			}
		}
	}
	uint64_t size;
	bool nul;
	assert_int_equal(mail_reader_measure(fd, 5, n, x, 0, UINT64_MAX, &size, &nul), 1);
	assert_int_equal(size, ref.len);
	assert_int_equal(nul, ref.len > 0 && memchr(ref.data, '\0', ref.len) != NULL);
	/* the decoder on memory, one byte at a time */
	struct mail_reader r;
	struct buf mem = { 0 };
	mail_reader_init(&r, -1, 0, 0, x, 0);
	for (size_t i = 0; i < n; i++)
		mail_reader_decode(&r, in + i, 1, &mem);
	mail_reader_decode_end(&r, &mem);
	expect_cut(&mem, ref.data ? ref.data : "", ref.len, 0, UINT64_MAX);
	buf_free(&mem);
	close(fd);
	buf_free(&ref);
}

static void test_qp(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(qp_cases) / sizeof(qp_cases[0]); i++)
		check_decoder(MAIL_X_QP, &qp_cases[i]);
}

static void test_base64(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++)
		check_decoder(MAIL_X_BASE64, &b64_cases[i]);
	/* NUL in the decoded bytes is seen by measure (BINARY's literal8) */
	int fd = tmpfile_with("AAECAw==", 8, 0);
	uint64_t size;
	bool nul;
	assert_int_equal(mail_reader_measure(fd, 0, 8, MAIL_X_BASE64, 0, UINT64_MAX, &size, &nul), 1);
	assert_int_equal(size, 4);
	assert_true(nul);
	assert_int_equal(mail_reader_measure(fd, 0, 8, MAIL_X_BASE64, 1, 2, &size, &nul), 1);
	assert_int_equal(size, 2);
	assert_false(nul);
	close(fd);
}

/* Random quoted-printable-ish and base64-ish input: windows of 1-4 bytes give what
 * the one-shot form gives. */
static void test_random_decoders(void **state)
{
	(void)state;
	static const char alpha[] = "=\r\n \tA3fZ+/x=";
	srand(7);
	for (int t = 0; t < 300; t++) {
		char in[40];
		size_t n = (size_t)(rand() % 39);
		for (size_t i = 0; i < n; i++)
			in[i] = alpha[rand() % (int)(sizeof(alpha) - 1)];
		in[n] = '\0';
		struct buf ref = { 0 };
		mail_decode(MAIL_X_QP, in, n, &ref);
		int fd = tmpfile_with(in, n, 0);
		struct buf got = { 0 };
		read_all(fd, 0, n, MAIL_X_QP, 1 + (size_t)(t % 4), 0, UINT64_MAX, &got);
		expect_cut(&got, ref.data ? ref.data : "", ref.len, 0, UINT64_MAX);
		buf_reset(&got);
		buf_reset(&ref);
		mail_decode(MAIL_X_BASE64, in, n, &ref);
		read_all(fd, 0, n, MAIL_X_BASE64, 1 + (size_t)(t % 4), 0, UINT64_MAX, &got);
		expect_cut(&got, ref.data ? ref.data : "", ref.len, 0, UINT64_MAX);
		buf_free(&got);
		buf_free(&ref);
		close(fd);
	}
}

/* Whitespace held at the end of one piece and passed on in the next, decoded into a
 * fresh buffer each time: the output is more than the piece's input (the QP fast
 * path once copied past the room it had reserved; AddressSanitizer saw it). */
static void test_qp_held_whitespace(void **state)
{
	(void)state;
	char piece[300];
	memset(piece, 'b', sizeof(piece));
	for (size_t ws = 1; ws <= 40; ws += 3) {
		for (size_t n = 1; n <= sizeof(piece); n += 7) {
			struct mail_reader r;
			struct buf first = { 0 }, second = { 0 };
			mail_reader_init(&r, -1, 0, 0, MAIL_X_QP, 0);
			mail_reader_decode(&r, "a", 1, &first);
			for (size_t i = 0; i < ws; i++)
				mail_reader_decode(&r, " ", 1, &first);
			assert_int_equal(first.len, 1);
			mail_reader_decode(&r, piece, n, &second);
			mail_reader_decode_end(&r, &second);
			assert_int_equal(second.len, ws + n);
			for (size_t i = 0; i < ws; i++)
				assert_int_equal(second.data[i], ' ');
			assert_memory_equal(second.data + ws, piece, n);
			buf_free(&first);
			buf_free(&second);
		}
	}
}

/* POP3 stuffing of the reader's windows (RETR, TOP) equals stuffing the whole. */
static void test_pop3_windows(void **state)
{
	(void)state;
	static const char msg[] = "From: a\r\n.x: y\r\n\r\n.\r\n..two\r\nthree\r\n.four\r\nno end";
	size_t n = sizeof(msg) - 1;
	int fd = tmpfile_with(msg, n, 0);
	for (long lines = -1; lines <= 5; lines++) {
		struct pop3_stuffer st;
		struct buf ref = { 0 };
		pop3_stuff_init(&st, lines);
		pop3_stuff(&st, (struct bytes){ msg, n }, &ref);
		pop3_stuff_finish(&st, &ref);
		for (size_t w = 1; w <= 8; w++) {
			struct mail_reader r;
			struct buf chunk = { 0 }, got = { 0 };
			mail_reader_init(&r, fd, 0, n, MAIL_X_NONE, w);
			pop3_stuff_init(&st, lines);
			while (mail_reader_next(&r, &chunk) > 0 && !st.done) {
				pop3_stuff(&st, (struct bytes){ chunk.data, chunk.len }, &got);
				buf_reset(&chunk);
			}
			pop3_stuff_finish(&st, &got);
			assert_int_equal(got.len, ref.len);
			assert_memory_equal(got.data, ref.data, ref.len);
			mail_reader_free(&r);
			buf_free(&chunk);
			buf_free(&got);
		}
		buf_free(&ref);
	}
	close(fd);
}

static void test_short_file(void **state)
{
	(void)state;
	int fd = tmpfile_with("abc", 3, 0);
	for (int x = MAIL_X_NONE; x <= MAIL_X_QP; x++) {
		struct mail_reader r;
		struct buf b = { 0 };
		mail_reader_init(&r, fd, 0, 10, (enum mail_xform)x, 2);
		int ret;
		while ((ret = mail_reader_next(&r, &b)) > 0)
			;
		assert_int_equal(ret, -1);
		mail_reader_free(&r);
		buf_free(&b);
	}
	uint64_t size;
	bool nul;
	assert_int_equal(mail_reader_measure(fd, 0, 10, MAIL_X_NONE, 0, UINT64_MAX, &size, &nul), -1);
	close(fd);
	assert_int_equal(mail_xform_for_encoding("BASE64"), MAIL_X_BASE64);
	assert_int_equal(mail_xform_for_encoding("Quoted-Printable"), MAIL_X_QP);
	assert_int_equal(mail_xform_for_encoding("8bit"), MAIL_X_NONE);
	assert_int_equal(mail_xform_for_encoding("x-uuencode"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_ranges),  cmocka_unit_test(test_qp),
		cmocka_unit_test(test_base64),        cmocka_unit_test(test_random_decoders),
		cmocka_unit_test(test_pop3_windows),  cmocka_unit_test(test_short_file),
		cmocka_unit_test(test_qp_held_whitespace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
