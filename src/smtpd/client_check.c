/* client_check.c: the connect-time check of a port-25 client (DESIGN.md §1 "Spam
 * defence": DNS blocklists, at the latest at RCPT).
 *
 * At open the session starts the check (struct smtpd_client_check, wired in
 * serve.c to src/spam's blocklist lookups): its questions run while the client
 * says EHLO and MAIL. The verdict arrives on the session's loop and is kept in the
 * session. A RCPT that comes while the answers are still out waits for them
 * without blocking the loop: cmd_rcpt.c parks its job in ss->rcpt_waiting and
 * holds the connection, and the verdict resumes it through ss->rcpt_resume (a
 * pointer cmd_rcpt.c sets, so that this file does not call up into the command). A client
 * named by a refusing list gets 554 5.7.1 at every RCPT; weighted lists only go
 * into the origin (smtp_origin), for the spam hook's header. Submission (465/587)
 * is never checked; loopback clients are checked like any other. */
#include "metrics.h"
#include "session.h"

#include "log.h"

#include <assert.h>
#include <string.h>

static void checked(void *arg, const char *zone, const char *code, double score, const char *weighted)
{
	struct smtp_session *ss = arg;
	ss->check = NULL;
	if (zone != NULL) {
		ss->check_zone = arena_strdup(ss->arena, zone);
		ss->check_code = arena_strdup(ss->arena, code != NULL ? code : "");
	}
	ss->check_score = score;
	if (weighted != NULL)
		ss->check_weighted = arena_strdup(ss->arena, weighted);
	if (ss->rcpt_waiting != NULL) {
		assert(ss->rcpt_resume != NULL);
		ss->rcpt_resume(ss); /* upward, through the pointer cmd_rcpt.c set */
	}
}

void smtp_client_check_start(struct smtp_session *ss)
{
	const struct smtpd_client_check *cc = ss->env->client_check;
	if (cc == NULL || ss->l->role != SMTPD_MX)
		return;
	ss->check = cc->start(cc->ctx, conn_peer_ip(ss->c), conn_loop(ss->c), checked, ss);
}

void smtp_client_check_cancel(struct smtp_session *ss)
{
	if (ss->check != NULL) {
		ss->env->client_check->cancel(ss->check);
		ss->check = NULL;
	}
}

bool smtp_client_refused(struct smtp_session *ss)
{
	if (ss->check_zone == NULL || ss->auth_user != NULL)
		return false;
	metrics_inc(M_REFUSED + MR_DNSBL);
	metrics_event("refused", NULL, conn_peer_ip(ss->c), ss->check_zone);
	conn_log(ss->c, LOG_INFO, "event=dnsbl_refused ip=%s zone=%s answer=%s", conn_peer_ip(ss->c), ss->check_zone,
		 ss->check_code);
	smtp_reply(ss, 554, "5.7.1", "Client host [%s] blocked using %s (%s)", conn_peer_ip(ss->c), ss->check_zone,
		   ss->check_code);
	return true;
}
