/* spam_dnsbl.h: DNS blocklists (RFC 5782) for port 25: the list setting, the names
 * to ask, what an answer means, and the connection's verdict.
 *
 * `spam.dnsbl = ZONE, ZONE=WEIGHT, ...`: a zone without a weight refuses a listed
 * client (554 5.7.1 at RCPT); a zone with a weight only adds WEIGHT to the client's
 * blocklist score, which the spam hook writes into the stored copy. The pure part
 * (this file's first half) has no I/O and is unit-tested and fuzzed; the lookups on
 * a session's loop through the resolver (spam_dnsbl_start) are the second half.
 * Module layers: spam includes lib, mail, dns (and store for the junk filter). */
#ifndef POSTAMT_SPAM_DNSBL_H
#define POSTAMT_SPAM_DNSBL_H

#include "arena.h"
#include "dns.h"

#include <stdbool.h>
#include <stddef.h>

#define SPAM_DNSBL_MAX_ZONES 16 /* zones in spam.dnsbl; each is one question per connection */

/* One zone of spam.dnsbl. */
struct spam_dnsbl_zone {
	const char *zone; /* lower case, no trailing dot */
	double weight;    /* 0: a listing refuses the client; > 0: adds to the score */
};

struct spam_dnsbl_list {
	struct spam_dnsbl_zone zones[SPAM_DNSBL_MAX_ZONES];
	size_t n;
};

/* Parses spam.dnsbl's value: zones separated by commas and/or spaces, each a DNS
 * name, optionally followed by "=WEIGHT" (a decimal number above 0, at most 1000).
 * An empty value is an empty list. Strings go to `a`. Returns 1, or -1 with
 * *error_r (static) naming what is wrong (bad name, bad weight, a zone twice, more
 * than SPAM_DNSBL_MAX_ZONES). */
int spam_dnsbl_parse(const char *value, struct arena *a, struct spam_dnsbl_list *list_r, const char **error_r);

/* The name to ask for client address ip (IPv4 dotted quad or IPv6 text) in zone:
 * IPv4 octets reversed ("2.0.0.127.zone"), IPv6 as 32 reversed nibbles (RFC 5782
 * §2.4). Returns the name in `a`, or NULL when ip is not an address (or the name
 * would exceed 253 octets). */
const char *spam_dnsbl_query_name(const char *ip, const char *zone, struct arena *a);

/* What one zone's A answer says about the client. */
enum spam_dnsbl_state {
	SPAM_DNSBL_CLEAN = 0,  /* NXDOMAIN or no A record */
	SPAM_DNSBL_LISTED,     /* an A record in 127.0.0.0/8 (not 127.255.255.x) */
	SPAM_DNSBL_REFUSED_US, /* 127.255.255.x: the list refuses our resolver (public forwarder, over quota) */
	SPAM_DNSBL_BOGUS,      /* only A records outside 127.0.0.0/8: a broken or hijacked zone, not listed */
	SPAM_DNSBL_TEMP,       /* timeout or server failure: not listed */
};

/* Classifies one answer (status as enum dns_status, the A records). Pure. With a
 * listing code and a refusal code together the listing wins. *code_r (may be NULL)
 * gets the deciding address as text ("127.0.0.2"), "" when none. */
enum spam_dnsbl_state spam_dnsbl_classify(int status, const struct dns_addr *addrs, size_t n, char code_r[16]);

/* The verdict on one client over all zones. */
struct spam_dnsbl_verdict {
	const char *zone;     /* the first refusing zone that lists the client, NULL when none */
	const char *code;     /* its answer ("127.0.0.2"), NULL when none */
	double score;         /* the sum of the weights of the weighted zones that list it */
	const char *weighted; /* those zones, separated by spaces; NULL when none */
};

/* Combines one state (and code) per zone of `list` into a verdict, strings in `a`. */
void spam_dnsbl_combine(const struct spam_dnsbl_list *list, const enum spam_dnsbl_state *states, char (*codes)[16],
			struct arena *a, struct spam_dnsbl_verdict *verdict_r);

/* --- the lookups ------------------------------------------------------------ */

struct spam_dnsbl;
struct spam_dnsbl_check;
struct loop;

/* The verdict of one client, on the asking loop: zone/code NULL unless a refusing
 * zone lists it; score and weighted as in struct spam_dnsbl_verdict. The strings
 * are valid during the call only. The same function type as smtpd's
 * smtpd_client_done_fn, so serve.c wires one to the other. */
typedef void spam_dnsbl_fn(void *arg, const char *zone, const char *code, double score, const char *weighted);

/* Makes the blocklist checker from spam.dnsbl's value over resolver d (shared, not
 * owned; must outlive the checker), each question with deadline timeout_ms (0: the
 * resolver's default). Returns NULL with *error_r (static) when the value is bad. */
struct spam_dnsbl *spam_dnsbl_new(struct dns *d, const char *value, unsigned timeout_ms, const char **error_r);
/* NULL-safe. Call when no check is out (every loop has stopped). */
void spam_dnsbl_free(struct spam_dnsbl **bp);
/* True when at least one zone is configured. */
bool spam_dnsbl_enabled(const struct spam_dnsbl *b);

/* Asks every zone about ip at once; fn(arg, ...) runs on `loop` when all have
 * answered (or reached their deadline), never inside this call. Logs listings
 * (info), timeouts (info) and a list refusing our resolver (warning, at most once
 * a minute per zone). Returns the check, to be given to spam_dnsbl_cancel while fn
 * has not run, or NULL (fn will not run) when there is nothing to ask (no zones, or
 * ip is not an address). Thread-safe; the check belongs to `loop`. */
struct spam_dnsbl_check *spam_dnsbl_start(struct spam_dnsbl *b, const char *ip, struct loop *loop, spam_dnsbl_fn *fn,
					  void *arg);
/* Forgets a check whose fn has not run (on its loop); fn will not run. Sets *cp to
 * NULL; NULL-safe. */
void spam_dnsbl_cancel(struct spam_dnsbl_check **cp);

#endif
