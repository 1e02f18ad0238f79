/* fuzz_reader.c: the incremental decoders of the one body reader (src/mail/
 * mail_reader.c), the server's only transfer-encoding decoders. The first input byte
 * picks base64 or quoted-printable and two split points; the rest is decoded in three
 * pieces and must equal the one-shot mail_decode byte for byte (inputs with QP
 * whitespace runs longer than the documented bound MAIL_READER_QP_WS are skipped). */
#include "fuzz.h"
#include "mail_reader.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	const char *in = (const char *)data + 1;
	size_t n = size - 1;
	enum mail_xform x = (sel & 1) ? MAIL_X_QP : MAIL_X_BASE64;
	size_t a = n ? (sel >> 1) % (n + 1) : 0, b = n ? (sel >> 4) * 7 % (n + 1) : 0;
	if (a > b) {
		size_t t = a;
		a = b;
		b = t;
	}
	struct buf ref = { 0 }, got = { 0 };
	if (x == MAIL_X_QP) {
		/* whitespace runs over the bound are passed on by design: skip such inputs */
		size_t run = 0;
		for (size_t i = 0; i < n; i++) {
			run = (in[i] == ' ' || in[i] == '\t') ? run + 1 : 0;
			if (run >= MAIL_READER_QP_WS)
				return 0;
		}
	}
	mail_decode(x, in, n, &ref);
	struct mail_reader r;
	mail_reader_init(&r, -1, 0, 0, x, 0);
	mail_reader_decode(&r, in, a, &got);
	mail_reader_decode(&r, in + a, b - a, &got);
	mail_reader_decode(&r, in + b, n - b, &got);
	mail_reader_decode_end(&r, &got);
	CHECK(got.len == ref.len);
	CHECK(ref.len == 0 || memcmp(got.data, ref.data, ref.len) == 0);
	mail_reader_free(&r);
	buf_free(&ref);
	buf_free(&got);
	return 0;
}
