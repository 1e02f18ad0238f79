/* psl.c: public suffixes and organizational domains (psl.h) over the table that
 * scripts/psl_table.py generates from the public suffix list at build time.
 *
 * For each suffix of the name, from its last label leftwards, three questions go to
 * the table: is the suffix a rule ("name"), is its parent a wildcard ("*.parent"),
 * is it an exception ("!name")? The longest match wins; an exception wins outright
 * and counts one label less. A name has at most 127 labels, so a lookup is at most
 * about 250 binary searches of ~10,000 entries; typical mail domains need 3 to 6. */
#include "psl.h"

#include "psl_table.h"

#include <string.h>

#define NAME_MAX_LEN 253

/* The flags of the rule called key (klen bytes, lower case), 0 when none. */
static unsigned rule_flags(const char *key, size_t klen)
{
	size_t lo = 0, hi = psl_nentries;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *n = psl_names + (psl_entries[mid] >> 3);
		int c = strncmp(n, key, klen);
		if (c == 0)
			c = n[klen] == '\0' ? 0 : 1; /* n is longer than key: n sorts after */
		if (c == 0)
			return psl_entries[mid] & 7u;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The start of each label of name (at most 128 of them) in starts; returns how many. */
static size_t label_starts(const char *name, size_t len, size_t starts[128])
{
	size_t n = 0;
	starts[n++] = 0;
	for (size_t i = 0; i < len && n < 128; i++) {
		if (name[i] == '.')
			starts[n++] = i + 1;
	}
	return n;
}

size_t psl_suffix_labels(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > NAME_MAX_LEN)
		return 0;
	char low[NAME_MAX_LEN + 1];
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		low[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	low[len] = '\0';
	size_t starts[128];
	size_t n = label_starts(low, len, starts);
	size_t best = 1; /* the default rule "*" */
	unsigned parent = 0;
	for (size_t k = 1; k <= n; k++) {
		size_t s = starts[n - k];
		unsigned f = rule_flags(low + s, len - s);
		if (f & PSL_RULE_EXCEPTION)
			return k - 1; /* an exception beats every other rule, one label shorter */
		if ((f & PSL_RULE_NORMAL) || (parent & PSL_RULE_WILDCARD))
			best = k;
		parent = f;
	}
	return best;
}

const char *psl_org_domain(const char *name)
{
	size_t want = psl_suffix_labels(name) + 1;
	size_t len = strlen(name);
	if (want == 1)
		return name;
	size_t starts[128];
	size_t n = label_starts(name, len, starts);
	return want <= n ? name + starts[n - want] : name;
}
