/* send_limit.h: per-account hourly send limits (limits.send_per_hour,
 * limits.recipients_per_hour), the pipeline's counter of what each authenticated
 * account sent (submission 465/587 and the webmail; never port 25 or bounces).
 *
 * The window is sliding: the last 60 minutes, counted in 60 one-minute buckets per
 * account, so a limit never allows twice its value across an hour boundary (as a
 * fixed window would) and an account regains capacity minute by minute. Memory is
 * bounded: an entry per account that sent (or was warned) in the last hour, about
 * 530 bytes each; emptied entries are dropped by a sweep once a minute. Times are
 * seconds of a monotonic clock, passed in by the caller (the pipeline passes
 * CLOCK_MONOTONIC; the tests pass their own). Thread-safe: one mutex,
 * `send_limit.lock`, guards the whole table; every call holds it for a few hundred
 * instructions and never blocks inside it. */
#ifndef POSTAMT_SEND_LIMIT_H
#define POSTAMT_SEND_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct send_limit;

/* The caps in force (from the settings at each call, so a reload applies at once).
 * 0 means unlimited. */
struct send_limit_caps {
	uint64_t messages;   /* limits.send_per_hour */
	uint64_t recipients; /* limits.recipients_per_hour */
};

/* What a refusal says: which cap and whether it is the account's first refusal in
 * the last hour (the one to log as a warning for the admin). */
struct send_limit_refusal {
	const char *kind; /* "messages" or "recipients" (static) */
	uint64_t limit;   /* the cap that was reached */
	bool first;       /* no refusal was reported for this account in the last hour */
};

/* A counted message, to give back when it is refused later (send_limit_release). */
struct send_limit_ticket {
	int64_t account;
	int64_t minute; /* the minute it was counted in */
	uint64_t recipients;
	bool counted; /* false: nothing to give back */
};

struct send_limit *send_limit_new(void);
void send_limit_free(struct send_limit **lp);

/* Would `messages` more messages with `recipients` more recipients fit the caps for
 * account at time now? Counts nothing. Returns 1 when they fit, 0 with *r filled in
 * when a cap is reached (the messages cap is named first). */
int send_limit_check(struct send_limit *l, int64_t account, const struct send_limit_caps *caps, uint64_t messages,
		     uint64_t recipients, int64_t now, struct send_limit_refusal *r);

/* The same check, and when it passes counts one message with `recipients`
 * recipients at now, filling in *t (which send_limit_release takes back). Returns 1
 * counted, 0 refused with *r (t->counted false). */
int send_limit_take(struct send_limit *l, int64_t account, const struct send_limit_caps *caps, uint64_t recipients,
		    int64_t now, struct send_limit_ticket *t, struct send_limit_refusal *r);

/* Gives back what send_limit_take counted (a message refused after it was counted
 * does not count); a ticket older than the window or already released is a no-op.
 * *t is cleared. */
void send_limit_release(struct send_limit *l, struct send_limit_ticket *t, int64_t now);

/* The messages and recipients counted for account in the window ending at now
 * (tests and diagnostics). */
void send_limit_counts(struct send_limit *l, int64_t account, int64_t now, uint64_t *messages_r,
		       uint64_t *recipients_r);

/* Accounts with an entry at now, after dropping the emptied ones (tests: the
 * memory bound). */
size_t send_limit_entries(struct send_limit *l, int64_t now);

#endif
