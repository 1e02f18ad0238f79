/* fuzz_dkim_tags.c: libFuzzer target for the DKIM tag-list parser (RFC 6376 §3.2) and
 * the key-record parser (§3.6.1) in src/mailauth/dkim_parse.c, and base64.
 *
 * Invariants: the tag list either fails with an error text or returns tags whose
 * names and values lie inside the input, names are unique, non-empty and start with a
 * letter, values have no FWS at either end and sit inside their raw span; the key
 * record parser either fails with an error or gives a key type, and a revoked record
 * has no key bytes. */
#include "fuzz.h"

#include "arena.h"
#include "dkim.h"

#include <string.h>

static bool fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct arena *a = arena_new();
	struct dkim_tag *t;
	const char *err = NULL;
	int n = dkim_tag_list_parse(s, size, a, &t, &err);
	if (n < 0) {
		CHECK(err != NULL);
	} else {
		for (int i = 0; i < n; i++) {
			CHECK(view_inside((struct bytes){ t[i].name, t[i].name_len }, s, size));
			CHECK(view_inside((struct bytes){ t[i].value, t[i].value_len }, s, size));
			CHECK(view_inside((struct bytes){ t[i].raw, t[i].raw_len }, s, size));
			CHECK(t[i].name_len > 0);
			CHECK((t[i].name[0] | 32) >= 'a' && (t[i].name[0] | 32) <= 'z');
			CHECK(t[i].value >= t[i].raw && t[i].value + t[i].value_len <= t[i].raw + t[i].raw_len);
			if (t[i].value_len > 0)
				CHECK(!fws(t[i].value[0]) && !fws(t[i].value[t[i].value_len - 1]));
			for (int k = 0; k < i; k++)
				CHECK(t[k].name_len != t[i].name_len ||
				      memcmp(t[k].name, t[i].name, t[i].name_len) != 0);
		}
	}
	struct dkim_key_record rec;
	err = NULL;
	if (dkim_key_record_parse(s, size, a, &rec, &err) < 0) {
		CHECK(err != NULL);
	} else {
		CHECK(rec.key_type != NULL);
		CHECK(rec.revoked == (rec.pubkey_len == 0));
		CHECK(!rec.revoked || rec.pubkey == NULL);
	}
	size_t cl;
	char *c = dkim_canon_header_relaxed(s, size, a, &cl);
	CHECK(strlen(c) <= cl);
	arena_free(&a);
	return 0;
}
