/* submit_result.c: the stable names of the pipeline's results (submit.h), the
 * words of logs, metrics events and tests. The bottom of the module: it uses no
 * other file of it, and both the stages (submit.c, submit_data.c) and what they tell
 * the metrics (submit_metrics.c) use it. */
#include "submit.h"

static const char *const result_names[] = {
	[-SUBMIT_TEMPFAIL] = "tempfail",
	[-SUBMIT_FORBIDDEN_SENDER] = "forbidden_sender",
	[-SUBMIT_FORBIDDEN_FROM] = "forbidden_from",
	[-SUBMIT_LOCAL_SENDER] = "local_sender",
	[-SUBMIT_INVALID_RCPT] = "invalid_rcpt",
	[-SUBMIT_UNKNOWN_RCPT] = "unknown_rcpt",
	[-SUBMIT_RELAY_DENIED] = "relay_denied",
	[-SUBMIT_NO_OUTBOUND] = "no_outbound",
	[-SUBMIT_TOO_MANY_RCPTS] = "too_many_rcpts",
	[-SUBMIT_OVER_QUOTA] = "over_quota",
	[-SUBMIT_TOO_BIG] = "too_big",
	[-SUBMIT_POLICY] = "policy",
	[-SUBMIT_DISK_FULL] = "disk_full",
	[-SUBMIT_NO_RCPTS] = "no_rcpts",
	[-SUBMIT_RATE_LIMITED] = "rate_limited",
	[-SUBMIT_POLICY_TEMP] = "policy_temp",
};

const char *submit_result_name(int result)
{
	if (result == SUBMIT_OK)
		return "ok";
	if (result < 0 && result >= SUBMIT_RESULT_MIN && result_names[-result] != NULL)
		return result_names[-result];
	return "unknown";
}
