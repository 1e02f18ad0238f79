/* iprev.c: forward-confirmed reverse DNS (iprev.h; RFC 8601 §3).
 *
 * At most 1 + max_names questions: the PTR, then A or AAAA of each name. A name
 * that resolves back passes at once; a DNS failure only counts when no name passes
 * (temperror rather than fail, since another answer might have passed). */
#include "iprev.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

int mailauth_addr_parse(const char *text, struct mailauth_addr *addr_r)
{
	memset(addr_r, 0, sizeof(*addr_r));
	if (inet_pton(AF_INET, text, addr_r->bytes) == 1) {
		addr_r->family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, text, addr_r->bytes) == 1) {
		addr_r->family = AF_INET6;
		return 1;
	}
	return -1;
}

static bool same_addr(const struct mailauth_addr *x, const struct mailauth_addr *y)
{
	size_t n = x->family == AF_INET ? 4 : 16;
	return x->family == y->family && memcmp(x->bytes, y->bytes, n) == 0;
}

/* A host name we may ask about: 1..253 bytes of letters, digits, "-", "_" and dots. */
static bool name_ok(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = n[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.'))
			return false;
	}
	return true;
}

enum mailauth_result iprev_check(const struct mailauth_dns *dns, const struct mailauth_addr *addr, size_t max_names,
				 struct arena *a, const char **name_r)
{
	*name_r = NULL;
	const char **names = NULL;
	size_t n = 0;
	int r = dns->ptr(dns->ctx, addr, a, &names, &n);
	if (r == MAILAUTH_DNS_NONE)
		return MAILAUTH_FAIL;
	if (r != MAILAUTH_DNS_FOUND)
		return MAILAUTH_TEMPERROR;
	bool temp = false, usable = false;
	for (size_t i = 0; i < n && i < max_names; i++) {
		if (!name_ok(names[i]))
			continue;
		usable = true;
		const struct mailauth_addr *addrs = NULL;
		size_t na = 0;
		r = dns->addr(dns->ctx, names[i], addr->family, a, &addrs, &na);
		if (r == MAILAUTH_DNS_TEMP || r < 0) {
			temp = true;
			continue;
		}
		for (size_t k = 0; r == MAILAUTH_DNS_FOUND && k < na; k++) {
			if (same_addr(&addrs[k], addr)) {
				*name_r = names[i];
				return MAILAUTH_PASS;
			}
		}
	}
	if (temp)
		return MAILAUTH_TEMPERROR;
	return usable || n == 0 ? MAILAUTH_FAIL : MAILAUTH_PERMERROR;
}
