/* iprev.h: the "iprev" check of RFC 8601 §3 (forward-confirmed reverse DNS).
 *
 * The client's address is looked up as PTR; each name (at most max_names, the first
 * ones of the answer) is looked up as A or AAAA (the family of the address); the
 * check passes when one of them leads back to the address. Pure over struct
 * mailauth_dns, like the other checks. */
#ifndef POSTAMT_MAILAUTH_IPREV_H
#define POSTAMT_MAILAUTH_IPREV_H

#include "mailauth.h"

#define IPREV_MAX_NAMES 10 /* names of a PTR answer we follow; more are ignored */

/* Parses a textual IPv4 or IPv6 address into *addr_r. Returns 1, or -1 when text is
 * not an address. */
int mailauth_addr_parse(const char *text, struct mailauth_addr *addr_r);

/* The check. Returns pass (*name_r: the name that resolves back, in a), fail (no PTR,
 * or no name leads back), temperror (a DNS failure and no pass) or permerror (the
 * PTR answer holds no usable name). *name_r is NULL unless pass. */
enum mailauth_result iprev_check(const struct mailauth_dns *dns, const struct mailauth_addr *addr, size_t max_names,
				 struct arena *a, const char **name_r);

#endif
