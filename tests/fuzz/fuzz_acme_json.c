/* fuzz_acme_json.c: libFuzzer target for the ACME client's JSON parsers
 * (src/acme/acme_json.c: the directory, account, order, authorization, challenge,
 * problem and renewalInfo objects of a CA, RFC 8555 §7.1 and RFC 9773), RFC 3339
 * dates, and base64url decoding (acme_jws.c).
 *
 * Input: one byte chooses the parser, the rest is the JSON text. Invariants: a
 * parse that succeeds gives https URLs that acme_url_parse accepts, 1 to
 * ACME_LIST_MAX authorizations, at most ACME_LIST_MAX challenges with base64url
 * tokens, a known status, a window that does not end before it starts and a
 * renewal moment inside it; a failure
 * always has a message. base64url decoding round-trips through the encoder. */
#include "fuzz.h"

#include "acme_int.h"
#include "arena.h"

#include <stdlib.h>
#include <string.h>

static void check_url(const char *s)
{
	struct acme_url u;
	const char *err = NULL;
	CHECK(s != NULL && acme_url_parse(s, &u, &err) == 1);
}

static void check_token(const char *t)
{
	if (t == NULL)
		return;
	CHECK(t[0] != '\0');
	CHECK(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(t));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const unsigned char *p = data + 1;
	size_t n = size - 1;
	struct arena *a = arena_new();
	const char *err = NULL;
	int k = -2;
	switch (data[0] % 9) {
	case 0: {
		struct acme_directory d = { 0 };
		k = acme_directory_parse(p, n, a, &d, &err);
		if (k == 1) {
			check_url(d.new_nonce);
			check_url(d.new_account);
			check_url(d.new_order);
			if (d.renewal_info != NULL)
				check_url(d.renewal_info);
		}
		break;
	}
	case 1: {
		struct acme_account acct;
		k = acme_account_parse(p, n, a, &acct, &err);
		if (k == 1)
			CHECK(acme_status_name(acct.status) != NULL);
		break;
	}
	case 2: {
		struct acme_order o = { 0 };
		k = acme_order_parse(p, n, a, &o, &err);
		if (k == 1) {
			CHECK(o.nauthorizations >= 1 && o.nauthorizations <= ACME_LIST_MAX);
			for (size_t i = 0; i < o.nauthorizations; i++)
				check_url(o.authorizations[i]);
			check_url(o.finalize);
			CHECK(o.status != ACME_VALID || o.certificate != NULL);
			if (o.certificate != NULL)
				check_url(o.certificate);
		}
		break;
	}
	case 3: {
		struct acme_authz az = { 0 };
		k = acme_authz_parse(p, n, a, &az, &err);
		if (k == 1) {
			CHECK(az.identifier != NULL);
			CHECK(az.nchallenges <= ACME_LIST_MAX);
			for (size_t i = 0; i < az.nchallenges; i++) {
				check_url(az.challenges[i].url);
				check_token(az.challenges[i].token);
			}
		}
		break;
	}
	case 4: {
		struct acme_challenge c = { 0 };
		k = acme_challenge_parse(p, n, a, &c, &err);
		if (k == 1) {
			check_url(c.url);
			check_token(c.token);
			CHECK(c.type != NULL);
		}
		break;
	}
	case 5: {
		struct acme_problem pr = { 0 };
		k = acme_problem_parse(p, n, a, &pr, &err);
		if (k == 1)
			CHECK(pr.type != NULL && pr.detail != NULL);
		break;
	}
	case 6: {
		struct acme_renewal_info ri = { 0 };
		k = acme_renewal_info_parse(p, n, a, &ri, &err);
		if (k == 1) {
			CHECK(ri.end >= ri.start);
			time_t pick = acme_renewal_pick(&ri, (uint32_t)n * 2654435761u);
			CHECK(pick >= ri.start && pick <= ri.end);
			if (ri.explanation != NULL)
				check_url(ri.explanation);
		}
		break;
	}
	case 7: {
		char *s = arena_strndup(a, (const char *)p, n);
		time_t t;
		k = acme_time_parse(s, &t) == 1 ? 1 : -1;
		err = "";
		break;
	}
	default: {
		char *s = arena_strndup(a, (const char *)p, n);
		unsigned char *out;
		size_t len;
		if (acme_b64url_decode(a, s, &out, &len) == 1) {
			CHECK(out[len] == '\0');
			CHECK(strcmp(acme_b64url(a, out, len), s) == 0);
		}
		k = 0;
		break;
	}
	}
	CHECK(k != -1 || err != NULL);
	arena_free(&a);
	return 0;
}
