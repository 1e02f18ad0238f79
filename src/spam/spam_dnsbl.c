/* spam_dnsbl.c: the pure part of the DNS blocklists (spam_dnsbl.h): spam.dnsbl's
 * syntax, the query names of RFC 5782 §2.1 (IPv4, reversed octets) and §2.4 (IPv6,
 * reversed nibbles), what an A answer means (§2.3: 127.0.0.0/8 lists; the common
 * 127.255.255.x convention for "your resolver is refused") and the verdict over all
 * zones. No I/O: bytes in, results out. */
#include "spam_dnsbl.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNS_NAME_MAX 253

/* A DNS name of letters, digits, '-', '_' and dots, labels of 1..63 octets. */
static bool zone_valid(const char *z, size_t n)
{
	if (n == 0 || n > DNS_NAME_MAX - 73) /* room for 64 nibble labels of IPv6 */
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)z[i];
		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(ch) && ch != '-' && ch != '_')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

static int parse_weight(const char *s, size_t n, double *w_r)
{
	char tmp[32];
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && s[i] != '.')
			return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	char *end;
	double w = strtod(tmp, &end);
	if (*end != '\0' || !(w > 0) || w > 1000)
		return -1;
	*w_r = w;
	return 1;
}

int spam_dnsbl_parse(const char *value, struct arena *a, struct spam_dnsbl_list *list_r, const char **error_r)
{
	memset(list_r, 0, sizeof(*list_r));
	const char *p = value;
	for (;;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 1;
		const char *start = p;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		size_t len = (size_t)(p - start);
		const char *eq = memchr(start, '=', len);
		size_t zlen = eq != NULL ? (size_t)(eq - start) : len;
		if (zlen > 0 && start[zlen - 1] == '.')
			zlen--; /* a trailing dot is allowed */
		if (!zone_valid(start, zlen)) {
			*error_r = "not a DNS zone name (expected ZONE or ZONE=WEIGHT)";
			return -1;
		}
		double w = 0;
		if (eq != NULL && parse_weight(eq + 1, (size_t)(start + len - eq - 1), &w) < 0) {
			*error_r = "bad weight (expected ZONE=WEIGHT, a number above 0 and at most 1000)";
			return -1;
		}
		if (list_r->n == SPAM_DNSBL_MAX_ZONES) {
			*error_r = "too many zones (at most 16)";
			return -1;
		}
		char *z = arena_strndup(a, start, zlen);
		for (char *c = z; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		for (size_t i = 0; i < list_r->n; i++) {
			if (strcmp(list_r->zones[i].zone, z) == 0) {
				*error_r = "a zone is listed twice";
				return -1;
			}
		}
		list_r->zones[list_r->n++] = (struct spam_dnsbl_zone){ z, w };
	}
}

const char *spam_dnsbl_query_name(const char *ip, const char *zone, struct arena *a)
{
	uint8_t b[16];
	char name[DNS_NAME_MAX + 2];
	size_t zlen = strlen(zone);
	if (inet_pton(AF_INET, ip, b) == 1) {
		if (zlen + 17 > DNS_NAME_MAX)
			return NULL;
		snprintf(name, sizeof(name), "%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0], zone);
		return arena_strdup(a, name);
	}
	if (inet_pton(AF_INET6, ip, b) != 1 || zlen + 64 > DNS_NAME_MAX)
		return NULL;
	static const char hex[] = "0123456789abcdef";
	char *o = name;
	for (int i = 15; i >= 0; i--) {
		*o++ = hex[b[i] & 0xf];
		*o++ = '.';
		*o++ = hex[b[i] >> 4];
		*o++ = '.';
	}
	memcpy(o, zone, zlen + 1);
	return arena_strdup(a, name);
}

enum spam_dnsbl_state spam_dnsbl_classify(int status, const struct dns_addr *addrs, size_t n, char code_r[16])
{
	if (code_r != NULL)
		code_r[0] = '\0';
	if (status == DNS_TEMP)
		return SPAM_DNSBL_TEMP;
	if (status != DNS_FOUND)
		return SPAM_DNSBL_CLEAN;
	const struct dns_addr *listed = NULL, *refused = NULL;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *v = addrs[i].bytes;
		if (addrs[i].family != AF_INET || v[0] != 127)
			continue;
		if (v[1] == 255 && v[2] == 255) {
			if (refused == NULL)
				refused = &addrs[i];
		} else if (listed == NULL) {
			listed = &addrs[i];
		}
	}
	const struct dns_addr *d = listed != NULL ? listed : refused;
	if (d == NULL)
		return n > 0 ? SPAM_DNSBL_BOGUS : SPAM_DNSBL_CLEAN;
	if (code_r != NULL)
		snprintf(code_r, 16, "%u.%u.%u.%u", d->bytes[0], d->bytes[1], d->bytes[2], d->bytes[3]);
	return listed != NULL ? SPAM_DNSBL_LISTED : SPAM_DNSBL_REFUSED_US;
}

void spam_dnsbl_combine(const struct spam_dnsbl_list *list, const enum spam_dnsbl_state *states, char (*codes)[16],
			struct arena *a, struct spam_dnsbl_verdict *verdict_r)
{
	memset(verdict_r, 0, sizeof(*verdict_r));
	char weighted[SPAM_DNSBL_MAX_ZONES * (DNS_NAME_MAX + 1) + 1];
	size_t wlen = 0;
	for (size_t i = 0; i < list->n; i++) {
		if (states[i] != SPAM_DNSBL_LISTED)
			continue;
		const struct spam_dnsbl_zone *z = &list->zones[i];
		if (z->weight == 0) {
			if (verdict_r->zone == NULL) {
				verdict_r->zone = z->zone;
				verdict_r->code = arena_strdup(a, codes[i]);
			}
			continue;
		}
		verdict_r->score += z->weight;
		size_t zl = strlen(z->zone);
		assert(wlen + zl + 2 <= sizeof(weighted));
		if (wlen > 0)
			weighted[wlen++] = ' ';
		memcpy(weighted + wlen, z->zone, zl);
		wlen += zl;
	}
	if (wlen > 0)
		verdict_r->weighted = arena_strndup(a, weighted, wlen);
}
