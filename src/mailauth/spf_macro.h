/* spf_macro.h: SPF macro strings (RFC 7208 §7): syntax check and expansion.
 *
 * A macro string mixes literal text with %{letter digits r delimiters}, %%, %_ and
 * %-. The checker is used by the record parser (a bad macro anywhere makes the whole
 * record a permerror, §4.6); the expander by the evaluation, once per domain-spec and
 * once for the exp= text. Expansion never writes more than SPF_MACRO_MAX_OUTPUT bytes
 * (an error beyond: a record of 64 KiB of "%{s}" cannot make megabytes), and a
 * domain name is cut to 253 bytes by dropping labels from the left (§7.3). Pure: the
 * only value that needs DNS, %{p}, comes from a callback. */
#ifndef POSTAMT_MAILAUTH_SPF_MACRO_H
#define POSTAMT_MAILAUTH_SPF_MACRO_H

#include "arena.h"
#include "mailauth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest expansion of one macro string (bytes, before the 253-byte cut of a domain). */
#define SPF_MACRO_MAX_OUTPUT 8192
/* Longest domain name (RFC 7208 §4.3, §7.3; RFC 1035 without the root's length octet). */
#define SPF_DOMAIN_MAX 253

/* What the letters stand for. Strings NUL-terminated; `ip` is AF_INET or AF_INET6. */
struct spf_macro_ctx {
	const char *sender;             /* s: local@domain */
	const char *local;              /* l */
	const char *sender_domain;      /* o */
	const char *domain;             /* d: the domain being evaluated */
	const struct mailauth_addr *ip; /* i c v */
	const char *helo;               /* h */
	const char *receiver;           /* r (exp only) */
	int64_t now;                    /* t (exp only) */
	/* p: the validated name of the client (§5.5), preferring `domain` or a name under
	 * it; called for each %{p}; returns the name, or "unknown". NULL: always "unknown". */
	const char *(*validated_name)(void *cb_ctx, const char *domain);
	void *cb_ctx;
};

/* Checks the syntax of s[0..len) as a macro string; `exp` allows the letters c, r
 * and t (exp= text only, §7.3). Returns 1 if valid, -1 with *error_r (static) if not. */
int spf_macro_check(const char *s, size_t len, bool exp, const char **error_r);

/* Checks s[0..len) as a domain-spec (§7.1: a macro string ending in a top label that
 * is not all digits, or in a macro). Returns 1 or -1 with *error_r (static). */
int spf_domain_spec_check(const char *s, size_t len, const char **error_r);

/* Expands s[0..len) into *out_r (NUL-terminated, in `a`). `exp`: as for
 * spf_macro_check. Returns 1, or -1 with *error_r (static) for a syntax error or an
 * expansion longer than SPF_MACRO_MAX_OUTPUT. */
int spf_macro_expand(const char *s, size_t len, const struct spf_macro_ctx *ctx, bool exp, struct arena *a,
		     char **out_r, const char **error_r);

/* Expands a domain-spec and makes it a name to ask DNS: the trailing dot removed,
 * labels dropped from the left until it is at most SPF_DOMAIN_MAX bytes. Returns 1,
 * or -1 with *error_r as spf_macro_expand. */
int spf_macro_expand_domain(const char *s, size_t len, const struct spf_macro_ctx *ctx, struct arena *a, char **out_r,
			    const char **error_r);

/* Writes the %{i} form of an address: dotted quad, or 32 dot-separated nibbles for
 * IPv6. `out` must hold at least 64 bytes; returns the length. */
size_t spf_macro_ip_dotted(const struct mailauth_addr *ip, char *out);

#endif
