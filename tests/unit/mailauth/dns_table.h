/* dns_table.h: a struct mailauth_dns over a table in memory, for the unit tests of
 * the checks (the checks are pure: DNS reaches them only through this interface).
 *
 * Each row is a type ("TXT", "A", "AAAA", "PTR"), a name and a value; a row with the
 * value NULL makes that question fail (temperror). Names compare case-insensitively.
 * Every question is counted in the table, so tests can bound the lookups. */
#ifndef POSTAMT_TEST_DNS_TABLE_H
#define POSTAMT_TEST_DNS_TABLE_H

#include "iprev.h"
#include "mailauth.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct dns_row {
	const char *type, *name, *value;
};

struct dns_table {
	const struct dns_row *rows;
	size_t nrows;
	unsigned questions;
};

/* Collects the values of type/name; returns enum mailauth_dns_status. */
static inline int dns_table_find(struct dns_table *t, const char *type, const char *name, struct arena *a,
				 const char ***vals_r, size_t *n_r)
{
	t->questions++;
	const char **v = arena_alloc(a, (t->nrows + 1) * sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < t->nrows; i++) {
		if (strcmp(t->rows[i].type, type) != 0 || strcasecmp(t->rows[i].name, name) != 0)
			continue;
		if (t->rows[i].value == NULL)
			return MAILAUTH_DNS_TEMP;
		v[n++] = t->rows[i].value;
	}
	*vals_r = v;
	*n_r = n;
	return n > 0 ? MAILAUTH_DNS_FOUND : MAILAUTH_DNS_NONE;
}

static inline int dns_table_txt(void *ctx, const char *name, struct arena *a, const char ***records_r, size_t *n_r)
{
	return dns_table_find(ctx, "TXT", name, a, records_r, n_r);
}

static inline int dns_table_addr(void *ctx, const char *name, int family, struct arena *a,
				 const struct mailauth_addr **addrs_r, size_t *n_r)
{
	const char **v;
	size_t n;
	int r = dns_table_find(ctx, family == AF_INET ? "A" : "AAAA", name, a, &v, &n);
	if (r != MAILAUTH_DNS_FOUND)
		return r;
	struct mailauth_addr *out = arena_alloc(a, n * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		mailauth_addr_parse(v[i], &out[i]);
	*addrs_r = out;
	*n_r = n;
	return r;
}

static inline int dns_table_ptr(void *ctx, const struct mailauth_addr *addr, struct arena *a, const char ***names_r,
				size_t *n_r)
{
	char text[INET6_ADDRSTRLEN];
	inet_ntop(addr->family, addr->bytes, text, sizeof(text));
	return dns_table_find(ctx, "PTR", text, a, names_r, n_r);
}

static inline struct mailauth_dns dns_table_dns(struct dns_table *t)
{
	return (struct mailauth_dns){ .ctx = t, .txt = dns_table_txt, .addr = dns_table_addr, .ptr = dns_table_ptr };
}

#define DNS_TABLE(rows)                                 \
	{                                               \
		rows, sizeof(rows) / sizeof(rows[0]), 0 \
	}

#endif
