/* fuzz_dmarc.c: libFuzzer target for the DMARC record parser and the check
 * (src/mailauth/dmarc.h) with the public suffix list (psl.h).
 *
 * Input: a From: domain, a newline, then TXT records separated by newlines. The
 * records are parsed one by one (whole and from a NUL-terminated copy: the same
 * result) and checked for the parser's promises (results -1/0/1, pct <= 100,
 * policies in range, defaults filled in). Then the check runs with a DNS that
 * serves all the records at _dmarc.<anything>, once normally and once with every
 * question failing, and its outcome is checked: a policy domain only with a
 * record, a disposition never stricter than the policy, pass only with alignment,
 * temperror when DNS fails and the domain is usable. */
#include "dmarc.h"
#include "fuzz.h"
#include "psl.h"

#include <string.h>

struct fdns {
	const char **records;
	size_t n;
	bool fail;
};

static int fz_txt(void *ctx, const char *name, struct arena *a, const char ***records_r, size_t *n_r)
{
	struct fdns *d = ctx;
	CHECK(strncmp(name, "_dmarc.", 7) == 0);
	if (d->fail)
		return MAILAUTH_DNS_TEMP;
	*records_r = d->records;
	*n_r = d->n;
	return d->n > 0 ? MAILAUTH_DNS_FOUND : MAILAUTH_DNS_NONE;
}

static void check_record(const char *p, size_t len, struct arena *a)
{
	struct dmarc_record rec;
	const char *error = NULL;
	int r = dmarc_record_parse(p, len, a, &rec, &error);
	CHECK(r >= -1 && r <= 1);
	if (r < 0)
		CHECK(error != NULL && error[0] != '\0');
	if (r > 0) {
		CHECK(rec.pct <= 100);
		CHECK(rec.p <= DMARC_POLICY_REJECT && rec.sp <= DMARC_POLICY_REJECT);
		CHECK(rec.fo != NULL && rec.rf != NULL);
		CHECK(!rec.p_fallback || (rec.rua != NULL && rec.p == DMARC_POLICY_NONE));
	}
	char *copy = arena_strndup(a, p, len);
	if (strlen(copy) == len) {
		struct dmarc_record rec2;
		CHECK(dmarc_record_parse(copy, len, a, &rec2, &error) == r);
		if (r > 0)
			CHECK(rec2.p == rec.p && rec2.sp == rec.sp && rec2.pct == rec.pct);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *nl = memchr(p, '\n', size);
	size_t flen = nl ? (size_t)(nl - p) : size;
	struct arena *a = arena_new();
	char *from = arena_strndup(a, p, flen);
	const char *org = psl_org_domain(from);
	CHECK(strlen(org) <= strlen(from) && strcmp(from + strlen(from) - strlen(org), org) == 0);

	const char *records[16];
	size_t n = 0;
	size_t i = nl ? flen + 1 : size;
	while (i < size && n < 16) {
		const char *e = memchr(p + i, '\n', size - i);
		size_t len = e ? (size_t)(e - (p + i)) : size - i;
		check_record(p + i, len, a);
		records[n++] = arena_strndup(a, p + i, len);
		i += len + 1;
	}

	struct fdns d = { records, n, false };
	struct mailauth_dns dns = { .ctx = &d, .txt = fz_txt };
	struct dmarc_dkim dk[2] = { { MAILAUTH_PASS, "example.com" }, { MAILAUTH_FAIL, from } };
	for (int round = 0; round < 2; round++) {
		d.fail = round == 1;
		struct dmarc_input in = { .from_domain = from,
					  .spf = MAILAUTH_PASS,
					  .spf_domain = org,
					  .dkim = dk,
					  .ndkim = 2,
					  .sample = (unsigned)(size % 100) };
		struct dmarc_outcome out;
		enum mailauth_result r = dmarc_check(&dns, &in, a, &out);
		CHECK(r == out.result && out.reason != NULL);
		CHECK(r == MAILAUTH_PASS || r == MAILAUTH_FAIL || r == MAILAUTH_NONE || r == MAILAUTH_TEMPERROR ||
		      r == MAILAUTH_PERMERROR);
		CHECK((out.policy_domain != NULL) == (r == MAILAUTH_PASS || r == MAILAUTH_FAIL));
		CHECK(out.disposition <= out.policy);
		if (r == MAILAUTH_PASS)
			CHECK(out.spf_aligned || out.dkim_aligned);
		if (r != MAILAUTH_FAIL)
			CHECK(out.disposition == DMARC_POLICY_NONE);
		if (d.fail)
			CHECK(r == MAILAUTH_TEMPERROR || r == MAILAUTH_PERMERROR);
	}
	arena_free(&a);
	return 0;
}
