/* psl.h: organizational domains (RFC 7489 §3.2) from the public suffix list.
 *
 * The list (publicsuffix.org, as Debian ships it) is embedded at build time, so a
 * lookup is a few binary searches in read-only memory: no file, no lock, any thread.
 * The algorithm is publicsuffix.org's: the matching rule with the most labels wins,
 * an exception rule ("!name") beats all others and drops its leftmost label, a
 * wildcard ("*.name") matches one label of any kind, and with no match the rule is
 * "*" (the last label is the suffix). */
#ifndef POSTAMT_MAILAUTH_PSL_H
#define POSTAMT_MAILAUTH_PSL_H

#include <stddef.h>

/* The number of labels of name's public suffix (>= 1), or 0 for an empty name or
 * one longer than 253 bytes. name has no trailing dot; ASCII case is ignored. */
size_t psl_suffix_labels(const char *name);

/* The organizational domain of name: its public suffix and one more label, returned
 * as a pointer into name (a suffix of it; the caller owns nothing new). When name is
 * itself a public suffix (no label left), name itself; "" stays "". */
const char *psl_org_domain(const char *name);

#endif
