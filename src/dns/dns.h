/* dns.h: the DNS resolver every part of postamt asks (the queue's MX and address
 * lookups, the mail-authentication checks, `postamt dns --check`), on libunbound.
 *
 * One struct dns is made from the `dns.*` settings and shared by every thread. With a
 * server (`dns.server = HOST:PORT`) every question goes there (UDP, TCP when the
 * answer is truncated), names under .test, localhost and the loopback reverse zones
 * included; without one libunbound recurses by itself and validates DNSSEC. A
 * resolver thread owned by the struct runs libunbound's answers; callers either block
 * (dns_query_wait, for pool threads and commands) or get the answer posted to their
 * loop (dns_query_async, for event loops). Each question has its own deadline: past
 * it the answer is a temporary error and nobody waits longer. Answers are parsed into
 * the plain structs below; a small cache (bounded, TTLs honoured, negative answers
 * included) sits in front of libunbound. Module layers: dns includes lib only. */
#ifndef POSTAMT_DNS_H
#define POSTAMT_DNS_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns;
struct dns_req;
struct loop;

/* Record types that can be asked for (the numbers are the IANA RR types). */
enum dns_rrtype {
	DNS_A = 1,
	DNS_CNAME = 5,
	DNS_PTR = 12,
	DNS_MX = 15,
	DNS_TXT = 16,
	DNS_AAAA = 28,
	DNS_SRV = 33,
	DNS_TLSA = 52,
};

/* The outcome of one question (the return value of dns_query_wait, and
 * dns_answer.status). */
enum dns_status {
	DNS_FOUND = 1, /* at least one record of the asked type */
	DNS_NONE = 0,  /* NXDOMAIN (answer.nxdomain) or NODATA: the name has no such record */
	DNS_TEMP = -1, /* timeout, SERVFAIL/REFUSED, DNSSEC bogus, broken answer: ask again later */
};

/* One A (family AF_INET, 4 bytes used) or AAAA (AF_INET6, 16 bytes) record. */
struct dns_addr {
	int family;
	uint8_t bytes[16];
};

/* One TXT record: its character-strings concatenated (RFC 7208 §3.3, RFC 6376
 * §3.6.2.2). text is NUL-terminated; len counts the bytes, so a record that holds a
 * NUL is visible (strlen(text) < len). */
struct dns_txt {
	const char *text;
	size_t len;
};

/* One MX record. host has no trailing dot; the null MX of RFC 7505 ("0 .") is "". */
struct dns_mx {
	unsigned pref;
	const char *host;
};

/* One SRV record (RFC 2782); target without the trailing dot, "." as "". */
struct dns_srv {
	unsigned prio, weight, port;
	const char *target;
};

/* One TLSA record (RFC 6698). */
struct dns_tlsa {
	uint8_t usage, selector, mtype;
	const uint8_t *data;
	size_t len;
};

/* A parsed answer. Names (canon, mx hosts, names[] of PTR/CNAME, srv targets) have
 * no trailing dot and are lower case as the server sent them. Everything lives in
 * the arena given to the query. Only the array of the asked type is set. */
struct dns_answer {
	int rrtype;                   /* enum dns_rrtype asked */
	int status;                   /* enum dns_status */
	bool nxdomain;                /* DNS_NONE: true for NXDOMAIN, false for NODATA */
	bool secure;                  /* DNSSEC-validated (never with dns.server set) */
	bool cached;                  /* answered from the cache */
	unsigned ttl;                 /* seconds the answer may be kept */
	const char *canon;            /* the name after CNAMEs, or NULL when none was followed */
	const char *error;            /* DNS_TEMP: why, for logs (static or in the arena) */
	size_t n;                     /* records in the array of rrtype */
	const struct dns_addr *addrs; /* DNS_A, DNS_AAAA */
	const struct dns_txt *txt;    /* DNS_TXT */
	const struct dns_mx *mx;      /* DNS_MX, in the order of the answer */
	const struct dns_srv *srv;    /* DNS_SRV */
	const struct dns_tlsa *tlsa;  /* DNS_TLSA */
	const char **names;           /* DNS_PTR, DNS_CNAME */
};

/* Settings (the `dns.*` keys). Zero/NULL means the default in brackets. */
struct dns_settings {
	const char *server;            /* HOST:PORT (or HOST, port 53) to ask everything;
	                                   * NULL/"": recurse with DNSSEC validation */
	unsigned timeout_ms;           /* default per-question deadline [5000] */
	unsigned cache_entries;        /* answers kept [4096]; DNS_CACHE_OFF: none */
	const char *const *local_data; /* tests: records libunbound answers itself,
	                                   * NULL-ended, e.g. "mx.test. A 127.0.0.1", or
	                                   * "local-zone: NAME TYPE" */
};
#define DNS_CACHE_OFF ((unsigned)-1)

/* Creates the resolver and starts its thread. Returns NULL with *error_r (static) when
 * libunbound refuses the settings (e.g. a bad server address). Free with dns_free. */
struct dns *dns_new(const struct dns_settings *s, const char **error_r);
/* Stops the thread, drops outstanding questions without calling back, frees.
 * Call after every loop that may still receive an answer has stopped. NULL-safe. */
void dns_free(struct dns **dp);

/* Asks (name, rrtype) and blocks until the answer or the deadline (timeout_ms; 0: the
 * default). For pool threads and commands, never on an event loop. name may end in a
 * dot. The answer and its strings are allocated in `a`; *answer_r is always set.
 * Returns enum dns_status (answer_r->status); DNS_TEMP sets *error_r (and
 * answer_r->error) to a static or arena string. Thread-safe. */
int dns_query_wait(struct dns *d, const char *name, int rrtype, unsigned timeout_ms, struct arena *a,
		   struct dns_answer *answer_r, const char **error_r);

/* The answer of an asynchronous question: runs on the asking loop's thread. answer
 * and everything it points to belong to the resolver and are valid only during the
 * call (copy what you keep). The request is gone after the call. */
typedef void dns_fn(void *arg, const struct dns_answer *answer);

/* Asks (name, rrtype) and returns at once; fn(arg, answer) runs later on `loop`
 * (never inside this call), also for cache hits and errors. Returns the request, to
 * be given to dns_cancel while fn has not run. Thread-safe. */
struct dns_req *dns_query_async(struct dns *d, const char *name, int rrtype, unsigned timeout_ms, struct loop *loop,
				dns_fn *fn, void *arg);
/* Forgets a request whose fn has not run; fn will not run. Call on the loop the
 * request was made for (or after that loop stopped). Sets *rp to NULL; NULL-safe. */
void dns_cancel(struct dns_req **rp);

/* The reverse name of an address (AF_INET: 4 bytes, AF_INET6: 16), e.g.
 * "4.3.2.1.in-addr.arpa", for a DNS_PTR question. Allocated in a. */
const char *dns_reverse_name(int family, const uint8_t *bytes, struct arena *a);

/* Checks dns.server's value (HOST:PORT, [V6]:PORT, HOST@PORT, or an address alone
 * for port 53; HOST an IP address) and writes it as libunbound's "ADDR@PORT" to out.
 * Returns 1, or -1 when it is none of those. */
int dns_server_parse(const char *server, char *out, size_t outlen);

/* The name of a type ("MX"), or NULL. */
const char *dns_rrtype_name(int rrtype);

/* Parses the records libunbound returns (rdata of each record of the asked type, in
 * wire format without the owner/type/class/ttl) into *answer_r's array. Pure: bytes
 * in, structs in `a` out. Records too short or malformed are skipped. Returns the
 * number of records parsed (>= 0), or -1 with *error_r when n > 0 and none could be
 * parsed. Exposed for tests and fuzzing. */
int dns_parse_rdata(int rrtype, const uint8_t *const *data, const size_t *len, size_t n, struct arena *a,
		    struct dns_answer *answer_r, const char **error_r);

#endif
