/* spf_record.h: the SPF record parser (RFC 7208 §4.5, §4.6, §5, §6, §12 ABNF).
 *
 * spf_record_select() picks the one "v=spf1" record of a TXT answer;
 * spf_record_parse() turns it into mechanisms and modifiers, checking the whole
 * record first (a syntax error anywhere is a permerror before anything is evaluated,
 * §4.6): every mechanism with its qualifier, domain-spec (macro syntax included) and
 * dual CIDR length, ip4/ip6 networks, redirect= and exp= (each at most once), unknown
 * modifiers (checked, then ignored). Pure; fuzzed by tests/fuzz/fuzz_spf.c. */
#ifndef POSTAMT_MAILAUTH_SPF_RECORD_H
#define POSTAMT_MAILAUTH_SPF_RECORD_H

#include "arena.h"

#include <stddef.h>
#include <stdint.h>

enum spf_mech_kind {
	SPF_MECH_ALL,
	SPF_MECH_INCLUDE,
	SPF_MECH_A,
	SPF_MECH_MX,
	SPF_MECH_PTR,
	SPF_MECH_IP4,
	SPF_MECH_IP6,
	SPF_MECH_EXISTS,
};

/* Qualifiers (§4.6.2) as the characters of the record. */
enum spf_qualifier {
	SPF_QUAL_PASS = '+',
	SPF_QUAL_FAIL = '-',
	SPF_QUAL_SOFTFAIL = '~',
	SPF_QUAL_NEUTRAL = '?',
};

struct spf_mech {
	enum spf_mech_kind kind;
	enum spf_qualifier qualifier;
	const char *domain; /* the domain-spec (a macro string, NUL-terminated) or NULL: the current domain */
	unsigned cidr4;     /* a, mx, ip4: prefix length for IPv4 (32 when absent) */
	unsigned cidr6;     /* a, mx, ip6: prefix length for IPv6 (128 when absent) */
	uint8_t net[16];    /* ip4 (4 bytes used) and ip6 */
	const char *text;   /* the term as written, for the verdict and logs */
};

struct spf_record {
	const struct spf_mech *mechs;
	size_t n_mechs;
	const char *redirect; /* domain-spec or NULL */
	const char *exp;      /* domain-spec or NULL */
	unsigned dns_terms;   /* include a mx ptr exists redirect: terms that cost a DNS lookup */
};

/* Does this TXT record start with the version "v=spf1" (case-insensitive), followed
 * by a space or its end (§4.5)? */
int spf_record_is_spf(const char *txt);

/* From the TXT records of a name, picks the SPF record (§4.5). Returns 1 with
 * *record_r, 0 if there is none, -1 if there are several (permerror) with *error_r. */
int spf_record_select(const char *const *txts, size_t n, const char **record_r, const char **error_r);

/* Parses an SPF record (the whole TXT string, version included). Returns 1 with
 * *rec_r (in `a`), or -1 with *error_r (in `a` or static: one line naming the bad
 * term, printable ASCII only). */
int spf_record_parse(const char *text, struct arena *a, const struct spf_record **rec_r, const char **error_r);

#endif
