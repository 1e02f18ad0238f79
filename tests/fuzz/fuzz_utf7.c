/* fuzz_utf7.c: libFuzzer target for modified UTF-7 mailbox names
 * (src/proto/imap/imap_format.h: imap_utf7_encode, imap_utf7_decode, imap_put_mailbox).
 *
 * Invariants, both directions of RFC 3501 §5.1.3:
 * - any input that is valid UTF-8 encodes (result 1) to printable US-ASCII in which
 *   "&" only starts a shift ("&-" or "&<base64>-"), and decodes back to itself;
 *   encoding fails exactly for input that is not valid UTF-8 (checked independently);
 * - any input that decodes (the decoder accepts only the canonical encoding) gives
 *   valid UTF-8 that encodes back to exactly the input;
 * - imap_put_mailbox on valid UTF-8 writes a quoted string or a literal. */
#include "fuzz.h"
#include "imap_format.h"

#include <string.h>

/* Independent UTF-8 check (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static void check_wire(const char *s, size_t n)
{
	bool shifted = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		CHECK(c >= 0x20 && c <= 0x7e);
		if (shifted) {
			if (c == '-')
				shifted = false;
			else
				CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				      c == '+' || c == ',');
		} else if (c == '&') {
			shifted = true;
		}
	}
	CHECK(!shifted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct buf enc = { 0 }, dec = { 0 };

	/* UTF-8 -> mUTF-7 -> UTF-8 */
	int r = imap_utf7_encode(&enc, p, size);
	CHECK(r == 1 || r == -1);
	CHECK((r == 1) == utf8_valid(data, size));
	if (r == 1) {
		check_wire(buf_str(&enc), enc.len);
		CHECK(imap_utf7_decode(&dec, buf_str(&enc), enc.len) == 1);
		CHECK(dec.len == size && memcmp(buf_str(&dec), p, size) == 0);
		if (memchr(p, '\0', size) == NULL) {
			char *s = malloc(size + 1);
			memcpy(s, p, size);
			s[size] = '\0';
			struct buf out = { 0 };
			imap_put_mailbox(&out, s);
			CHECK(out.len >= 2 && (buf_str(&out)[0] == '"' || buf_str(&out)[0] == '{'));
			buf_free(&out);
			free(s);
		}
	}

	/* mUTF-7 -> UTF-8 -> mUTF-7 */
	buf_reset(&enc);
	buf_reset(&dec);
	r = imap_utf7_decode(&dec, p, size);
	CHECK(r == 1 || r == -1);
	if (r == 1) {
		CHECK(utf8_valid((const unsigned char *)buf_str(&dec), dec.len));
		CHECK(imap_utf7_encode(&enc, buf_str(&dec), dec.len) == 1);
		CHECK(enc.len == size && memcmp(buf_str(&enc), p, size) == 0);
	}
	buf_free(&enc);
	buf_free(&dec);
	return 0;
}
