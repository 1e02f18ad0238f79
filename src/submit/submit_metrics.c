/* submit_metrics.c: what the pipeline tells the metrics (src/lib/metrics.h): every
 * message's kind and verdict, every refusal's reason, the local copies stored with
 * their latency, and the recent-events ring the admin pages search. Called once per
 * recipient at RCPT (refusals only) and once per message when its job ends. */
#include "submit_int.h"

#include "metrics.h"

#include <stdio.h>
#include <time.h>
#include <string.h>

static enum metric_reason reason_of(int result)
{
	switch (result) {
	case SUBMIT_POLICY: return MR_POLICY;
	case SUBMIT_RELAY_DENIED: return MR_RELAY;
	case SUBMIT_UNKNOWN_RCPT:
	case SUBMIT_INVALID_RCPT: return MR_UNKNOWN_RCPT;
	case SUBMIT_FORBIDDEN_SENDER:
	case SUBMIT_FORBIDDEN_FROM:
	case SUBMIT_LOCAL_SENDER: return MR_SENDER;
	case SUBMIT_OVER_QUOTA:
	case SUBMIT_DISK_FULL: return MR_QUOTA;
	case SUBMIT_TOO_BIG: return MR_SIZE;
	case SUBMIT_RATE_LIMITED: return MR_RATE;
	}
	return MR_OTHER;
}

static bool temporary(int result)
{
	return result == SUBMIT_TEMPFAIL || result == SUBMIT_POLICY_TEMP || result == SUBMIT_NO_OUTBOUND ||
	       result == SUBMIT_DISK_FULL || result == SUBMIT_RATE_LIMITED;
}

void submit_count_rcpt(const struct submit_origin *o, const char *sender, const char *address, int result)
{
	(void)o;
	if (result == SUBMIT_OK || temporary(result))
		return;
	metrics_inc(M_REFUSED + reason_of(result));
	metrics_event("refused", sender, address, submit_result_name(result));
}

void submit_count_message(const struct submit_origin *o, const char *sender, const struct submit_rcpt *rcpts,
			  size_t nrcpts, int result, const char *detail, size_t nlocal_ok, bool junk,
			  int64_t started_ms, int64_t now_ms)
{
	enum metric_kind k = o->kind == SUBMIT_KIND_MX	       ? MK_MX
			     : o->kind == SUBMIT_KIND_SUBMISSION ? MK_SUBMISSION
			     : o->kind == SUBMIT_KIND_WEBMAIL    ? MK_WEBMAIL
								 : MK_BOUNCE;
	enum metric_verdict v = result == SUBMIT_OK ? (junk ? MV_JUNK : MV_ACCEPTED)
				: temporary(result) ? MV_TEMPFAIL
						    : MV_REFUSED;
	metrics_inc(M_RECEIVED + k * MV_COUNT + v);
	char to[256] = "";
	size_t n = 0;
	for (size_t i = 0; i < nrcpts && n + 1 < sizeof(to); i++)
		n += (size_t)snprintf(to + n, sizeof(to) - n, "%s%s", i > 0 ? ", " : "",
				      rcpts[i].address != NULL ? rcpts[i].address : "");
	if (v == MV_REFUSED) {
		metrics_inc(M_REFUSED + reason_of(result));
		char d[192];
		snprintf(d, sizeof(d), "%s%s%s", submit_result_name(result), detail != NULL ? ": " : "",
			 detail != NULL ? detail : "");
		metrics_event("refused", sender, to, d);
	}
	if (nlocal_ok > 0) {
		metrics_add(M_DELIVERED_LOCAL, nlocal_ok);
		metrics_observe_latency_ms(now_ms > started_ms ? (uint64_t)(now_ms - started_ms) : 0);
		metrics_event("delivered", sender, to, junk ? "Junk" : "");
	}
}

int64_t submit_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
