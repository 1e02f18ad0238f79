/* mailauth_resolver.h: the checks' DNS interface (struct mailauth_dns, mailauth.h)
 * over the resolver module (src/dns), for the inbound hook on a pool thread.
 *
 * One struct mailauth_resolver serves the checks of one message: every question
 * blocks (dns_query_wait) for at most the per-question timeout (the dns.timeout
 * key) and never past the message's deadline, so the sum of
 * all lookups of one message is bounded by the budget (mailauth.timeout). A question
 * asked after the deadline is answered "temporary failure" at once. Not shared
 * between threads (one per message). */
#ifndef POSTAMT_MAILAUTH_RESOLVER_H
#define POSTAMT_MAILAUTH_RESOLVER_H

#include "mailauth.h"

#include <stdint.h>

struct dns;

#define MAILAUTH_DNS_TIMEOUT_MS 5000 /* per question when the caller gives 0 (dns.h's default) */

struct mailauth_resolver {
	struct dns *dns;      /* NULL: every question is a temporary failure */
	unsigned timeout_ms;  /* per question; 0: MAILAUTH_DNS_TIMEOUT_MS */
	uint64_t deadline_ms; /* CLOCK_MONOTONIC milliseconds */
	unsigned questions;   /* asked of the resolver */
	unsigned expired;     /* not asked: the deadline had passed */
};

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t mailauth_now_ms(void);

/* Sets r up for one message: budget_ms from now. */
void mailauth_resolver_init(struct mailauth_resolver *r, struct dns *dns, unsigned timeout_ms, unsigned budget_ms);

/* The struct mailauth_dns that asks through r (r must outlive its use). */
struct mailauth_dns mailauth_resolver_dns(struct mailauth_resolver *r);

#endif
