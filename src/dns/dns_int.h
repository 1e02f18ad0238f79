/* dns_int.h: what the files of the resolver module share (not for other modules).
 *
 * dns.c        the resolver thread, blocking and asynchronous questions, deadlines
 * dns_raw.c    answers as flat copies of libunbound's results, and the cache of them
 * dns_config.c libunbound's settings from struct dns_settings
 * dns_parse.c  record data into the structs of dns.h (pure) */
#ifndef POSTAMT_DNS_INT_H
#define POSTAMT_DNS_INT_H

#include "dns.h"

struct ub_ctx;
struct ub_result;

/* An answer as libunbound gave it, in one malloc'd block (so the cache copies it with
 * one memcpy): buf holds the canonical name (NUL-terminated, "" when no CNAME was
 * followed), then n records as a 2-byte big-endian length and the record data. */
struct dns_raw {
	int status; /* enum dns_status */
	bool nxdomain, secure, cached;
	unsigned ttl;
	const char *error; /* static */
	size_t n;
	size_t size; /* bytes used in buf */
	uint8_t buf[];
};

/* A raw answer from libunbound's result for qname (res may be NULL when err != 0).
 * Never NULL; free() it. */
struct dns_raw *dns_raw_from_result(const char *qname, int err, const struct ub_result *res);
/* A raw DNS_TEMP answer with a static error text. free() it. */
struct dns_raw *dns_raw_error(const char *error);
/* A raw answer from its parts (for tests and dns_raw_from_result). */
struct dns_raw *dns_raw_new(int status, bool nxdomain, unsigned ttl, const char *canon, const uint8_t *const *data,
			    const size_t *len, size_t n);
/* Fills *ans from raw, parsing the records into `a`. Returns enum dns_status (a
 * DNS_FOUND whose records are all malformed becomes DNS_TEMP); sets *error_r for
 * DNS_TEMP. */
int dns_raw_answer(const struct dns_raw *raw, int rrtype, struct arena *a, struct dns_answer *ans,
		   const char **error_r);

/* A bounded cache of answers by (name, type), least recently used out first. Not
 * locked: the resolver holds its lock around every call. */
struct dns_cache;
struct dns_cache *dns_cache_new(size_t max_entries);
void dns_cache_free(struct dns_cache **cp);
/* Keeps a copy of raw for its TTL (capped: a day for data, an hour for NXDOMAIN and
 * NODATA; TTL 0 is not kept). now in monotonic ms. */
void dns_cache_put(struct dns_cache *c, const char *name, int rrtype, const struct dns_raw *raw, uint64_t now);
/* A malloc'd copy of the cached answer with the remaining TTL and cached set, or NULL
 * (also when it has expired; it is dropped then). */
struct dns_raw *dns_cache_get(struct dns_cache *c, const char *name, int rrtype, uint64_t now);
size_t dns_cache_count(const struct dns_cache *c);

/* Applies s to a new libunbound context: forwarding to s->server (with libunbound's
 * own local zones for .test, localhost etc. turned off) or recursion with the root
 * trust anchor, the test data. Returns 1, or -1 with *error_r. */
int dns_configure(struct ub_ctx *ctx, const struct dns_settings *s, const char **error_r);

/* Monotonic milliseconds. */
uint64_t dns_now_ms(void);

#endif
