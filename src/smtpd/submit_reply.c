/* submit_reply.c: the one table from the pipeline's results (enum submit_result,
 * src/submit/submit.h) to SMTP replies (RFC 5321 §4.2, enhanced codes RFC 3463).
 * MAIL, RCPT and the end of the data all answer a refusal through it, so that a
 * refusal reads the same whichever stage found it and whatever path the message
 * took; webd has the matching table to JMAP SetErrors (jmap_submit.c). */
#include "session.h"

#include "log.h"

#include <inttypes.h>
#include <stdio.h>

enum {
	R_ADDR = 1 << 0,   /* "<detail>: " before the text, when there is a detail */
	R_ERROR = 1 << 1,  /* counts against limits.errors_per_session */
	R_QUOTA = 1 << 2,  /* smtp_quota_full decides 452 4.2.2 or 552 5.2.2 */
	R_SIZE = 1 << 3,   /* the limit after the text */
	R_DETAIL = 1 << 4, /* " (<detail>)" after the text, when there is a detail */
	R_REASON = 1 << 5, /* ": <detail>" after the text: a hook's reason (control bytes become '?') */
};

struct reply_map {
	int result;
	int code;
	const char *enh;
	const char *text;
	const char *event; /* logged as event=<event>, NULL: the pipeline logs it or nobody */
	unsigned how;
};

static const struct reply_map replies[] = {
	{ SUBMIT_TEMPFAIL, 451, "4.3.0", "Temporary failure, try again later", NULL, 0 },
	{ SUBMIT_FORBIDDEN_SENDER, 553, "5.7.1", "Sender address rejected: not owned by the authenticated user",
	  "sender_rejected", R_ADDR },
	{ SUBMIT_FORBIDDEN_FROM, 553, "5.7.1",
	  "From/Sender header address rejected: not owned by the authenticated user", NULL, R_ADDR },
	{ SUBMIT_LOCAL_SENDER, 553, "5.7.1",
	  "Sender address rejected: a local address; log in to send as it (submission)", "sender_rejected",
	  R_ADDR | R_ERROR },
	{ SUBMIT_INVALID_RCPT, 501, "5.1.3", "Bad recipient address syntax", NULL, R_ADDR | R_ERROR },
	{ SUBMIT_UNKNOWN_RCPT, 550, "5.1.1", "Recipient address rejected: User unknown", NULL, R_ADDR | R_ERROR },
	{ SUBMIT_RELAY_DENIED, 554, "5.7.1", "Relay access denied", "relay_denied", R_ADDR | R_ERROR },
	{ SUBMIT_NO_OUTBOUND, 451, "4.3.0", "Outbound delivery is not available", NULL, 0 },
	{ SUBMIT_TOO_MANY_RCPTS, 452, "4.5.3", "Too many recipients", NULL, 0 },
	{ SUBMIT_OVER_QUOTA, 0, NULL, "Mailbox full", NULL, R_ADDR | R_QUOTA },
	{ SUBMIT_TOO_BIG, 552, "5.3.4", "Message size exceeds fixed maximum message size", NULL, R_SIZE },
	{ SUBMIT_POLICY, 550, "5.7.1", "Message refused by policy", "message_refused", R_REASON },
	{ SUBMIT_DISK_FULL, 452, "4.3.1", "Insufficient system storage, try again later", "message_refused", 0 },
	{ SUBMIT_NO_RCPTS, 503, "5.5.1", "Need RCPT command", NULL, R_ERROR },
	/* RFC 3463 §3.8: X.7.1 delivery not authorized; 4xx: the client may try later */
	{ SUBMIT_RATE_LIMITED, 451, "4.7.1", "Hourly send limit of this account reached, try again later", NULL,
	  R_DETAIL },
	{ SUBMIT_POLICY_TEMP, 451, "4.7.1", "Message deferred by policy, try again later", "message_deferred",
	  R_REASON },
};

void smtp_reply_submit(struct smtp_session *ss, int result, const char *detail)
{
	const struct reply_map *m = &replies[0]; /* an unknown result is a temporary failure */
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		if (replies[i].result == result)
			m = &replies[i];
	}
	if (conn_is_closed(ss->c))
		return;
	if (m->event != NULL)
		conn_log(ss->c, LOG_WARN, "event=%s reason=%s user=%s detail=%s", m->event, submit_result_name(result),
			 ss->auth_user ? ss->auth_user : "-", LOG_Q(detail ? detail : "-"));
	char text[SMTP_MAILBOX_MAX + 160];
	if ((m->how & R_ADDR) && detail != NULL)
		snprintf(text, sizeof(text), "<%s>: %s", detail, m->text);
	else if ((m->how & R_DETAIL) && detail != NULL)
		snprintf(text, sizeof(text), "%s (%s)", m->text, detail);
	else if ((m->how & R_REASON) && detail != NULL) {
		int n = snprintf(text, sizeof(text), "%s: ", m->text);
		snprintf(text + n, sizeof(text) - (size_t)n, "%s", detail);
		for (char *p = text + n; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	else if (m->how & R_SIZE)
		snprintf(text, sizeof(text), "%s (%" PRIu64 ")", m->text, ss->s->message_max);
	else
		snprintf(text, sizeof(text), "%s", m->text);
	if (m->how & R_QUOTA)
		smtp_quota_full(ss, detail, text);
	else
		smtp_reply(ss, m->code, m->enh, "%s", text);
	if (m->how & R_ERROR)
		smtp_error(ss);
}
