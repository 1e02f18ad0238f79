/* mailauth.h: what the mail-authentication checks (SPF, DKIM, DMARC, iprev) share:
 * the DNS questions they ask and the result words of RFC 8601.
 *
 * The checks are pure: they never open a socket. Every DNS question goes through a
 * struct mailauth_dns, which the caller supplies: the server's pipeline hook wires it
 * to the resolver module (src/dns, blocking on a pool thread with a per-lookup
 * timeout), unit tests and fuzz targets wire it to a table in memory. Module layers:
 * mailauth may include lib, mail and dns (docs/architecture.md, Layers). */
#ifndef POSTAMT_MAILAUTH_H
#define POSTAMT_MAILAUTH_H

#include "arena.h"

#include <stddef.h>
#include <stdint.h>

/* The outcome of one DNS question. */
enum mailauth_dns_status {
	MAILAUTH_DNS_FOUND = 1,    /* at least one record of the asked type */
	MAILAUTH_DNS_NONE = 0,     /* NXDOMAIN or no record of that type ("void" in RFC 7208 §4.6.4) */
	MAILAUTH_DNS_TEMP = -1,    /* timeout, SERVFAIL, a truncated or broken answer: temperror */
};

/* One address of an A or AAAA answer (family AF_INET: 4 bytes used, AF_INET6: 16). */
struct mailauth_addr {
	int family;
	uint8_t bytes[16];
};

/* One MX answer. */
struct mailauth_mx {
	unsigned pref;
	const char *host; /* without the trailing dot */
};

/* The DNS questions. Names are given and returned without a trailing dot. Every
 * answer is allocated in `a` (the caller's arena) and returned in the _r outputs;
 * each returns enum mailauth_dns_status. An implementation must be usable from any
 * thread (several messages are checked at once); `ctx` is its own. */
struct mailauth_dns {
	void *ctx;
	/* TXT: each record's character-strings concatenated (RFC 7208 §3.3, RFC 6376
	 * §3.6.2.2) into one NUL-terminated string (mailauth_txt_copy): a NUL inside a
	 * record becomes DEL (0x7f), which no record syntax allows, so the record is a
	 * syntax error (SPF permerror, RFC 7208 §4.6) rather than silently absent. */
	int (*txt)(void *ctx, const char *name, struct arena *a, const char ***records_r, size_t *n_r);
	/* A (family AF_INET) or AAAA (AF_INET6). */
	int (*addr)(void *ctx, const char *name, int family, struct arena *a, const struct mailauth_addr **addrs_r,
		    size_t *n_r);
	/* MX, in the order of the answer. */
	int (*mx)(void *ctx, const char *name, struct arena *a, const struct mailauth_mx **mx_r, size_t *n_r);
	/* PTR of an address: the names, without the trailing dot. */
	int (*ptr)(void *ctx, const struct mailauth_addr *addr, struct arena *a, const char ***names_r, size_t *n_r);
};

/* Result words of RFC 8601 §2.7 for every method (spf, dkim, dmarc, iprev). */
enum mailauth_result {
	MAILAUTH_NONE = 0,
	MAILAUTH_PASS,
	MAILAUTH_FAIL,
	MAILAUTH_SOFTFAIL,  /* spf only */
	MAILAUTH_NEUTRAL,   /* spf, dkim */
	MAILAUTH_POLICY,    /* dkim: a valid signature the verifier's policy does not accept */
	MAILAUTH_TEMPERROR,
	MAILAUTH_PERMERROR,
};

/* A TXT record's bytes as the txt callback returns them: a NUL-terminated copy in a,
 * each NUL inside the record replaced by DEL (0x7f). */
const char *mailauth_txt_copy(struct arena *a, const char *data, size_t len);

/* "pass", "fail", ... as written in Authentication-Results. */
const char *mailauth_result_name(enum mailauth_result r);

#endif
