/* fuzz_dkim_stamp.c: libFuzzer target for the creation stamp at the top of a DKIM key
 * file and the selector's date (src/mailauth/dkim_key_time.c).
 *
 * Invariants: the stamp parser returns 1, 0 or -1; 0 exactly when the input does not
 * begin with DKIM_KEY_STAMP; -1 comes with an error text; a parsed time is formatted
 * back to a line the parser reads as the same time; a selector time is 0 or the
 * start of a UTC day (plus one day), and the signer choice stays in range. */
#include "fuzz.h"

#include "dkim_key.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	time_t t = 0;
	const char *err = NULL;
	int r = dkim_key_stamp_parse(s, size, &t, &err);
	CHECK(r >= -1 && r <= 1);
	size_t pl = strlen(DKIM_KEY_STAMP);
	CHECK((r == 0) == (size < pl || memcmp(s, DKIM_KEY_STAMP, pl) != 0));
	if (r < 0)
		CHECK(err != NULL);
	if (r > 0) {
		char line[64];
		size_t n = dkim_key_stamp_format(t, line, sizeof(line));
		time_t t2 = 0;
		CHECK(dkim_key_stamp_parse(line, n, &t2, &err) == 1 && t2 == t);
	}
	char sel[16];
	size_t sl = size < sizeof(sel) - 1 ? size : sizeof(sel) - 1;
	memcpy(sel, s, sl);
	sel[sl] = '\0';
	time_t st = dkim_key_selector_time(sel);
	CHECK(st == 0 || st % 86400 == 0);
	struct dkim_signer k[2] = { { .created = st }, { .created = t } };
	CHECK(dkim_key_choose(k, 2, t, 172800) < 2);
	return 0;
}
