/* fuzz_spam.c: libFuzzer target for the spam defence's parsers (src/spam): rspamd's
 * HTTP answer with its JSON body (untrusted), the rspamd URL, spam.dnsbl's zone list
 * and the blocklist query name of an address.
 *
 * Invariants: every parser returns one of its documented values; errors come with
 * a text; an answer complete without the end of the stream is complete (and the same)
 * with it, and at the end of the stream nothing needs more; a parsed action is one of
 * the six and its score finite; a parsed zone list has at most 16 zones of valid
 * names and weights in range; a query name ends in its zone. */
#include "fuzz.h"

#include "spam_dnsbl.h"
#include "spam_rspamd.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

static void fuzz_response(const char *s, size_t size)
{
	struct spam_rspamd_result r1, r2;
	const char *err = NULL;
	int a = spam_rspamd_response(s, size, false, 65536, &r1, &err);
	CHECK(a >= -1 && a <= 1);
	if (a < 0)
		CHECK(err != NULL);
	err = NULL;
	int b = spam_rspamd_response(s, size, true, 65536, &r2, &err);
	CHECK(b == 1 || b == -1);
	if (b < 0)
		CHECK(err != NULL);
	if (a > 0) {
		CHECK(b == 1 && r1.action == r2.action);
		CHECK(r1.score == r2.score);
	}
	if (b > 0) {
		CHECK(r2.action >= SPAM_RSPAMD_NO_ACTION && r2.action <= SPAM_RSPAMD_REJECT);
		CHECK(isfinite(r2.score) && isfinite(r2.required));
		CHECK(spam_rspamd_verdict(r2.action) <= SPAM_RSPAMD_REFUSE);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	fuzz_response(s, size);
	if (size > 4096)
		return 0;
	char text[4097];
	memcpy(text, data, size);
	text[size] = '\0';
	const char *err = NULL;
	struct spam_rspamd_url u;
	int r = spam_rspamd_url_parse(text, &u, &err);
	CHECK(r == 1 || (r == -1 && err != NULL));
	if (r > 0)
		CHECK(u.host[0] != '\0' && u.port[0] != '\0');

	struct arena *a = arena_new();
	struct spam_dnsbl_list l;
	err = NULL;
	r = spam_dnsbl_parse(text, a, &l, &err);
	CHECK(r == 1 || (r == -1 && err != NULL));
	if (r > 0) {
		CHECK(l.n <= SPAM_DNSBL_MAX_ZONES);
		for (size_t i = 0; i < l.n; i++) {
			CHECK(l.zones[i].zone[0] != '\0');
			CHECK(l.zones[i].weight >= 0 && l.zones[i].weight <= 1000);
			for (const char *c = l.zones[i].zone; *c; c++)
				CHECK(!isupper((unsigned char)*c));
			const char *q = spam_dnsbl_query_name("192.0.2.1", l.zones[i].zone, a);
			CHECK(q != NULL);
			size_t ql = strlen(q), zl = strlen(l.zones[i].zone);
			CHECK(ql > zl && strcmp(q + ql - zl, l.zones[i].zone) == 0);
		}
	}
	const char *q = spam_dnsbl_query_name(text, "bl.test", a);
	if (q != NULL)
		CHECK(strlen(q) <= 253);
	arena_free(&a);
	return 0;
}
