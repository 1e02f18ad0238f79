/* fuzz_dkim_verify.c: libFuzzer target for DKIM verification (src/mailauth/dkim_verify.c)
 * over an arbitrary message, with the canonicalizers (dkim_canon.c) and the signature
 * and key-record parsers behind it. DNS is a table in memory: TXT for
 * "k._domainkey.d.test" is the input's first line when it starts with "v=DKIM1", so the
 * fuzzer can reach the key checks and the cryptography.
 *
 * Invariants: every DKIM-Signature gets one verdict (at most the limit), with a result
 * word and a reason; the canonical bodies hold only CRLF line ends, relaxed has no
 * WSP before a CRLF, and both end in CRLF unless empty (relaxed) or are CRLF (simple). */
#include "fuzz.h"

#include "arena.h"
#include "dkim.h"

#include <string.h>

struct table {
	const char *key;
};

static int txt(void *ctx, const char *name, struct arena *a, const char ***records_r, size_t *n_r)
{
	struct table *t = ctx;
	*n_r = 0;
	if (strcmp(name, "slow._domainkey.d.test") == 0)
		return MAILAUTH_DNS_TEMP;
	if (t->key == NULL || strcmp(name, "k._domainkey.d.test") != 0)
		return MAILAUTH_DNS_NONE;
	const char **r = arena_alloc(a, sizeof(*r));
	r[0] = t->key;
	*records_r = r;
	*n_r = 1;
	return MAILAUTH_DNS_FOUND;
}

static void check_body(const char *b, size_t n, bool relaxed)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\n')
			CHECK(i > 0 && b[i - 1] == '\r');
		if (relaxed && b[i] == '\r' && i + 1 < n && b[i + 1] == '\n' && i > 0)
			CHECK(b[i - 1] != ' ' && b[i - 1] != '\t');
	}
	if (n > 0)
		CHECK(n >= 2 && b[n - 2] == '\r' && b[n - 1] == '\n');
	else
		CHECK(relaxed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct arena *a = arena_new();
	struct table t = { NULL };
	const char *nl = memchr(s, '\n', size);
	if (nl != NULL && size >= 7 && memcmp(s, "v=DKIM1", 7) == 0) {
		t.key = arena_strndup(a, s, (size_t)(nl - s));
		size -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
	struct mailauth_dns dns = { .ctx = &t, .txt = txt };
	struct dkim_verdict *v;
	size_t n;
	int r = dkim_verify(&dns, s, size, 1800000000, a, &v, &n);
	CHECK(r == (int)n && n <= DKIM_VERIFY_MAX_SIGNATURES);
	for (size_t i = 0; i < n; i++) {
		CHECK(v[i].reason != NULL);
		CHECK(v[i].result >= MAILAUTH_PASS && v[i].result <= MAILAUTH_PERMERROR);
		CHECK(mailauth_result_name(v[i].result) != NULL);
	}
	size_t cl;
	char *c = dkim_canon_body(s, size, true, a, &cl);
	check_body(c, cl, true);
	c = dkim_canon_body(s, size, false, a, &cl);
	check_body(c, cl, false);
	arena_free(&a);
	return 0;
}
