/* fuzz_size.c: libFuzzer target for the number parsers in src/lib/buf.c
 * (buf_parse_uint64, buf_parse_size, buf_format_size), which every configuration value and
 * protocol count goes through.
 *
 * Invariants: buf_parse_uint64 accepts exactly nonempty all-digit text whose value fits
 * the limit and returns that value; buf_parse_size accepts digits with an optional K, M,
 * G or T suffix and returns the value times its power of 1024, without overflow;
 * buf_format_size of a parsed size reads back as the same size. */
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first 8 bytes choose the limit for buf_parse_uint64 */
	uint64_t max = UINT64_MAX;
	if (size >= 8) {
		memcpy(&max, data, 8);
		data += 8;
		size -= 8;
	}
	struct bytes a = { (const char *)data, size };
	uint64_t v = 0;
	int r = buf_parse_uint64(a, max, &v);
	CHECK(r == 1 || r == -1);
	/* reference: 128-bit accumulation */
	bool digits = size > 0;
	unsigned __int128 ref = 0;
	for (size_t i = 0; i < size && digits; i++) {
		if (data[i] < '0' || data[i] > '9')
			digits = false;
		else if (ref <= UINT64_MAX)
			ref = ref * 10 + (data[i] - '0');
	}
	bool fits = digits && ref <= max;
	CHECK((r == 1) == fits);
	if (r == 1)
		CHECK(v == (uint64_t)ref);

	char *s = malloc(size + 1);
	CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	const char *error = NULL;
	uint64_t sz = 0;
	r = buf_parse_size(s, &sz, &error);
	CHECK(r == 1 || r == -1);
	if (r < 0) {
		CHECK(error != NULL && error[0] != '\0');
	} else {
		size_t n = strlen(s);
		CHECK(n > 0);
		char suffix = s[n - 1];
		unsigned shift = 0;
		switch (suffix) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		default: break;
		}
		uint64_t base;
		CHECK(buf_parse_uint64((struct bytes){ s, shift ? n - 1 : n }, UINT64_MAX, &base) == 1);
		CHECK(shift == 0 || base <= (UINT64_MAX >> shift));
		CHECK(sz == base << shift);
		char out[32];
		buf_format_size(sz, out, sizeof(out));
		uint64_t back = 0;
		CHECK(buf_parse_size(out, &back, &error) == 1 && back == sz);
	}
	free(s);
	return 0;
}
