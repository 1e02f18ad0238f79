/* fuzz_junk_tokens.c: libFuzzer target for the junk filter's tokenizer
 * (src/spam/junk_tokens.c). junk_int.h promises a pure, bounded function: any bytes
 * give at most max_tokens distinct tokens of at most JUNK_TOKEN_MAX bytes each, no
 * NUL inside a token, and at most 2 * max_bytes bytes looked at (the message prefix
 * and the decoded text). Small limits here, so the bounds are reached often. The
 * arena is freed after every input, so ASan's leak check sees anything lost. */
#include "fuzz.h"
#include "junk_int.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct junk_settings set;
	junk_settings_default(&set);
	set.hostname = "mx.example.test";
	set.max_tokens = 64;
	set.max_bytes = 16 * 1024;
	struct arena *a = arena_new();
	struct junk_tokens t;
	junk_tokenize(a, (const char *)data, size, &set, &t);
	CHECK(t.n <= set.max_tokens);
	CHECK(t.bytes_read <= 2 * set.max_bytes);
	for (size_t i = 0; i < t.n; i++) {
		size_t n = strlen(t.tok[i]);
		CHECK(n > 0 && n <= JUNK_TOKEN_MAX);
		for (size_t k = i + 1; k < t.n && k < i + 8; k++)
			CHECK(strcmp(t.tok[i], t.tok[k]) != 0);
	}
	if (t.from != NULL)
		CHECK(strchr(t.from, '\0') != NULL);
	arena_free(&a);
	return 0;
}
