/* inbound_policy.c: what the inbound hook does with the verdicts (inbound.h,
 * mailauth_decide). Pure, so that every row of the table has a unit test.
 *
 *   From: domain   DMARC                    action
 *   local          pass, or aligned         accept
 *   local          anything else            reject (defer on a temporary error)
 *   remote         fail, disposition reject reject (defer on a temporary error)
 *   remote         fail, quarantine         Junk
 *   remote         anything else            accept
 *
 * A DMARC temperror of a local domain defers unless the message aligns anyway;
 * one of a remote domain is accepted: without its record we do not know that the
 * policy would refuse (RFC 7489 §6.6.3 leaves it to the receiver). */
#include "inbound.h"

static enum mailauth_action refuse(const struct mailauth_facts *f, const char **why_r, const char *why)
{
	*why_r = why;
	return f->temp ? MAILAUTH_DEFER : MAILAUTH_REJECT;
}

enum mailauth_action mailauth_decide(const struct mailauth_facts *f, const char **why_r)
{
	*why_r = "";
	if (f->local_from) {
		if (f->dmarc == MAILAUTH_PASS || f->aligned)
			return MAILAUTH_ACCEPT;
		if (f->dmarc == MAILAUTH_TEMPERROR) {
			*why_r = "DMARC record of a local domain unavailable";
			return MAILAUTH_DEFER;
		}
		return refuse(f, why_r, "a local domain in From: fails DMARC");
	}
	if (f->dmarc != MAILAUTH_FAIL)
		return MAILAUTH_ACCEPT;
	switch (f->disposition) {
	case DMARC_POLICY_REJECT:
		return refuse(f, why_r, "DMARC policy reject");
	case DMARC_POLICY_QUARANTINE:
		*why_r = "DMARC policy quarantine";
		return MAILAUTH_JUNK;
	case DMARC_POLICY_NONE:
		break;
	}
	return MAILAUTH_ACCEPT;
}
