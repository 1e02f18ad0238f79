/* spf_zone.h: a struct mailauth_dns over a table of records, for the SPF unit tests.
 *
 * Rows are (name, type, data, length, MX preference); types A AAAA TXT MX PTR CNAME and
 * TIMEOUT (every question about the name times out unless a record of the asked type
 * comes first). It behaves as the SPF test suites' driver (python3-spf's testspf.py)
 * expects of DNS: names are case-insensitive, a name with a label longer than 63 bytes
 * or under "error." is a temporary error, empty labels are dropped (as pydns does),
 * CNAMEs are followed (a chain longer than 8 is a temporary error), an unknown name is
 * NXDOMAIN. A NUL in a TXT record becomes DEL, as mailauth.h says. Header-only:
 * each test includes it once. */
#ifndef POSTAMT_TEST_SPF_ZONE_H
#define POSTAMT_TEST_SPF_ZONE_H

#include "mailauth.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct suite_rr {
	const char *name;
	const char *type;
	const char *data;
	size_t len;
	int pref;
};

struct zone {
	const struct suite_rr *rrs;
	size_t n;
	unsigned queries; /* questions asked, for tests of the limits */
};

/* Normalizes a name as the suite's driver does; returns false for a temporary error. */
static bool zone_name(const char *in, char *out, size_t outlen)
{
	size_t o = 0, label = 0;
	for (const char *p = in;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label > 63)
				return false;
			if (label > 0 && *p == '.') {
				if (o + 1 >= outlen)
					return false;
				out[o++] = '.';
			}
			label = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (o + 1 >= outlen)
			return false;
		out[o++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
		label++;
	}
	if (o > 0 && out[o - 1] == '.')
		o--;
	out[o] = '\0';
	return strncmp(out, "error.", 6) != 0;
}

/* Calls fn for each record of `type` at `name` (CNAMEs followed). Returns FOUND, NONE
 * or TEMP. */
static int zone_lookup(struct zone *z, const char *name, const char *type, int depth,
		       void (*fn)(const struct suite_rr *rr, void *arg), void *arg)
{
	char n[512];
	if (depth == 0)
		z->queries++;
	if (depth > 8 || !zone_name(name, n, sizeof(n)))
		return MAILAUTH_DNS_TEMP;
	bool found = false, exists = false;
	for (size_t i = 0; i < z->n; i++) {
		const struct suite_rr *rr = &z->rrs[i];
		if (strcasecmp(rr->name, n) != 0)
			continue;
		exists = true;
		if (strcmp(rr->type, "TIMEOUT") == 0) {
			if (!found)
				return MAILAUTH_DNS_TEMP;
			break;
		}
		if (strcmp(rr->type, "CNAME") == 0 && strcmp(type, "CNAME") != 0)
			return zone_lookup(z, rr->data, type, depth + 1, fn, arg);
		if (strcmp(rr->type, type) == 0) {
			found = true;
			fn(rr, arg);
		}
	}
	(void)exists;
	return found ? MAILAUTH_DNS_FOUND : MAILAUTH_DNS_NONE;
}

struct zone_collect {
	struct arena *a;
	const struct suite_rr *rrs[64];
	size_t n;
};

static void zone_collect_fn(const struct suite_rr *rr, void *arg)
{
	struct zone_collect *c = arg;
	if (c->n < sizeof(c->rrs) / sizeof(c->rrs[0]))
		c->rrs[c->n++] = rr;
}

static int zone_txt(void *ctx, const char *name, struct arena *a, const char ***records_r, size_t *n_r)
{
	struct zone_collect c = { .a = a };
	int r = zone_lookup(ctx, name, "TXT", 0, zone_collect_fn, &c);
	if (r != MAILAUTH_DNS_FOUND)
		return r;
	const char **out = arena_alloc(a, (c.n + 1) * sizeof(*out));
	size_t k = 0;
	for (size_t i = 0; i < c.n; i++)
		out[k++] = mailauth_txt_copy(a, c.rrs[i]->data, c.rrs[i]->len);
	*records_r = out;
	*n_r = k;
	return MAILAUTH_DNS_FOUND;
}

static int zone_addr(void *ctx, const char *name, int family, struct arena *a, const struct mailauth_addr **addrs_r,
		     size_t *n_r)
{
	struct zone_collect c = { .a = a };
	int r = zone_lookup(ctx, name, family == AF_INET ? "A" : "AAAA", 0, zone_collect_fn, &c);
	if (r != MAILAUTH_DNS_FOUND)
		return r;
	struct mailauth_addr *out = arena_alloc(a, (c.n + 1) * sizeof(*out));
	size_t k = 0;
	for (size_t i = 0; i < c.n; i++) {
		out[k].family = family;
		if (inet_pton(family, c.rrs[i]->data, out[k].bytes) == 1)
			k++;
	}
	*addrs_r = out;
	*n_r = k;
	return MAILAUTH_DNS_FOUND;
}

static int zone_mx(void *ctx, const char *name, struct arena *a, const struct mailauth_mx **mx_r, size_t *n_r)
{
	struct zone_collect c = { .a = a };
	int r = zone_lookup(ctx, name, "MX", 0, zone_collect_fn, &c);
	if (r != MAILAUTH_DNS_FOUND)
		return r;
	struct mailauth_mx *out = arena_alloc(a, (c.n + 1) * sizeof(*out));
	for (size_t i = 0; i < c.n; i++) {
		out[i].pref = (unsigned)c.rrs[i]->pref;
		out[i].host = c.rrs[i]->data;
	}
	*mx_r = out;
	*n_r = c.n;
	return MAILAUTH_DNS_FOUND;
}

static int zone_ptr(void *ctx, const struct mailauth_addr *addr, struct arena *a, const char ***names_r, size_t *n_r)
{
	char rev[128];
	if (addr->family == AF_INET) {
		snprintf(rev, sizeof(rev), "%u.%u.%u.%u.in-addr.arpa", addr->bytes[3], addr->bytes[2], addr->bytes[1],
			 addr->bytes[0]);
	} else {
		size_t o = 0;
		for (int i = 15; i >= 0; i--)
			o += (size_t)snprintf(rev + o, sizeof(rev) - o, "%x.%x.", addr->bytes[i] & 15,
					      addr->bytes[i] >> 4);
		snprintf(rev + o, sizeof(rev) - o, "ip6.arpa");
	}
	struct zone_collect c = { .a = a };
	int r = zone_lookup(ctx, rev, "PTR", 0, zone_collect_fn, &c);
	if (r != MAILAUTH_DNS_FOUND)
		return r;
	const char **out = arena_alloc(a, (c.n + 1) * sizeof(*out));
	for (size_t i = 0; i < c.n; i++) {
		size_t len = strlen(c.rrs[i]->data);
		if (len > 0 && c.rrs[i]->data[len - 1] == '.')
			len--;
		out[i] = arena_strndup(a, c.rrs[i]->data, len);
	}
	*names_r = out;
	*n_r = c.n;
	return MAILAUTH_DNS_FOUND;
}

static struct mailauth_dns zone_dns(struct zone *z)
{
	return (struct mailauth_dns){ .ctx = z, .txt = zone_txt, .addr = zone_addr, .mx = zone_mx, .ptr = zone_ptr };
}

/* Parses "1.2.3.4" or an IPv6 address. Returns false if it is neither. */
static bool zone_parse_ip(const char *s, struct mailauth_addr *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->bytes) == 1) {
		ip->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, ip->bytes) == 1) {
		ip->family = AF_INET6;
		return true;
	}
	return false;
}

#endif
