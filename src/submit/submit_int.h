/* submit_int.h: what the pipeline's files share (not for other modules). */
#ifndef POSTAMT_SUBMIT_INT_H
#define POSTAMT_SUBMIT_INT_H

#include "send_limit.h"
#include "submit.h"

struct submit {
	struct store *store;
	struct queue *queue;          /* NULL: no outbound delivery */
	struct settings_ref *settings;
	struct pool *pool;
	struct submit_hook *hooks;    /* in order; fixed once the servers run */
	size_t nhooks;
	struct send_limit *limits; /* per-account hourly counters (thread-safe) */
	submit_rewrite_fn *rewrite; /* unknown local addresses (SRS), NULL: none */
	void *rewrite_ctx;
};

/* Whether o is counted against the hourly send limits: an authenticated account
 * on submission (465/587) or the webmail; never port 25 or a bounce. */
bool submit_limited(const struct submit_origin *o);
/* Seconds of the monotonic clock, the time of the send limits. */
int64_t submit_limit_now(void);
/* Monotonic milliseconds (the delivery latency's clock). */
int64_t submit_now_ms(void);
/* submit_metrics.c: a recipient's result at RCPT (refusals are counted), and a
 * message's end (kind and verdict, refusal reason, local copies and their latency,
 * the recent-events ring). */
void submit_count_rcpt(const struct submit_origin *o, const char *sender, const char *address, int result);
void submit_count_message(const struct submit_origin *o, const char *sender, const struct submit_rcpt *rcpts,
			  size_t nrcpts, int result, const char *detail, size_t nlocal_ok, bool junk,
			  int64_t started_ms, int64_t now_ms);
/* The caps of the current settings. */
struct send_limit_caps submit_limit_caps(struct submit *sp);
/* Logs a refusal by the send limits (event=send_limit; the account's first in an
 * hour at level warning, for the admin) and returns its detail ("1000 messages per
 * hour", in arena a). stage names where it was found (mail, rcpt, data). */
const char *submit_limit_refused(const struct submit_origin *o, const struct send_limit_refusal *r, const char *stage,
				 struct arena *a);

#endif
