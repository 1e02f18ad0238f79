/* login_limit.h: the failed-login limiter that all protocols share (auth/login.h uses
 * it), kept free of threads, pools and clocks so that tests drive it directly.
 *
 * Every login takes a slot before its password is looked at and gives it back with
 * the outcome. A slot counts as a failure while it is in flight, so that concurrent
 * attempts cannot all pass a check made before any of them failed (finding 9 of the
 * December 2026 review: 45 parallel LOGINs used to get 45 password checks against a
 * limit of 10). The counts are kept per client address key (net_addr_key: an IPv6
 * /64, IPv4-mapped as IPv4) and per account (the user name as typed, lower-cased):
 *
 *  - an address with per_ip failures in the last minute is refused;
 *  - an account with per_account failures (plus attempts in flight) in the last
 *    minute is refused to addresses that have not logged into it before; addresses
 *    it succeeded from stay welcome, so that a botnet guessing one password from many
 *    addresses cannot lock its owner out (only new addresses wait for the minute);
 *  - an address with per_ip failures-plus-in-flight, or in_flight attempts running,
 *    waits (its slot is queued) until one of its running attempts ends: then its
 *    attempt either runs or is refused, as the outcome decides. Waiting rather than
 *    refusing keeps a burst of correct logins from one address (a mail client opening
 *    five connections, an office behind one NAT address) working.
 *
 * Entries whose failures expired are swept once a minute. The table has its own
 * mutex; callers may use it from any thread. */
#ifndef POSTAMT_AUTH_LOGIN_LIMIT_H
#define POSTAMT_AUTH_LOGIN_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define LOGIN_LIMIT_WINDOW 60 /* seconds */
#define LOGIN_LIMIT_RING 64   /* failures remembered per key; limits are capped to this */

struct login_limits {
	size_t per_ip;      /* limits.auth_failures_per_minute */
	size_t per_account; /* limits.auth_failures_per_account */
	size_t in_flight;   /* limits.auth_in_flight_per_ip */
};

/* One attempt, owned by the caller; addr and account must outlive it. */
struct login_slot {
	const char *addr;    /* net_addr_key() of the client */
	const char *account; /* the user name as typed, lower-cased */
	void *arg;           /* the caller's */
	/* private */
	struct login_slot *next; /* in a queue, or in the list auth_login_limit_end returns */
	bool held;               /* counted in flight */
};

enum login_limit_verdict {
	LOGIN_LIMIT_GO = 1,       /* counted in flight: check the password, then auth_login_limit_end */
	LOGIN_LIMIT_WAIT = 0,     /* queued: auth_login_limit_end of another slot hands it back */
	LOGIN_LIMIT_ADDRESS = -1, /* refused: too many failures from the address */
	LOGIN_LIMIT_ACCOUNT = -2, /* refused: too many failures for the account, new address */
};

struct login_limit *auth_login_limit_new(const struct login_limits *limits);
void auth_login_limit_free(struct login_limit **lp);
/* Changes the limits (reload). */
void auth_login_limit_set(struct login_limit *l, const struct login_limits *limits);
/* Starts an attempt at time now; returns an enum login_limit_verdict. A refused or
 * waiting slot is not counted. */
int auth_login_limit_begin(struct login_limit *l, struct login_slot *slot, time_t now);
/* Ends an attempt that got LOGIN_LIMIT_GO. outcome: 1 the password was right (the
 * address becomes known to the account; nothing is counted), 0 it was wrong (a
 * failure for the address and for the account), -1 neither (a temporary error).
 * Returns the slots that waited for this address, unlinked (through slot->next):
 * call auth_login_limit_begin again for each. */
struct login_slot *auth_login_limit_end(struct login_limit *l, struct login_slot *slot, int outcome, time_t now);
/* For requests that are not logins but must share the limiter (the admin API):
 * auth_login_limit_refused is true when the address has per_ip failures in the
 * window (it would get LOGIN_LIMIT_ADDRESS); auth_login_limit_fail counts one
 * failure for the address and the account without a slot. */
bool auth_login_limit_refused(struct login_limit *l, const char *addr, time_t now);
void auth_login_limit_fail(struct login_limit *l, const char *addr, const char *account, time_t now);
/* Failures counted in the window for an address key, or an account (for logs and
 * tests). */
size_t auth_login_limit_failures(struct login_limit *l, const char *addr, time_t now);
size_t auth_login_limit_account_failures(struct login_limit *l, const char *account, time_t now);

#endif
