/* mta_sts.c: the well-known files webd serves: the MTA-STS policy (RFC 8461 §3.2), served at
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt for every local domain whose DNS
 * points mta-sts.DOMAIN at this server (`postamt dns D` prints that record and the
 * _mta-sts TXT record with the policy's id). The policy names `hostname` as the only
 * MX, with mta_sts.mode and mta_sts.max_age; the text comes from textfmt so the id
 * `postamt dns` prints changes whenever the served policy does. HTTPS only: a
 * sender fetches the policy over HTTPS and must not follow redirects (§3.3), so the
 * plain-HTTP listener does not serve it. */
#include "webd_int.h"

#include "textfmt.h"
#include "tls_challenge.h"

#include <string.h>

void web_mta_sts(struct web_session *ws)
{
	char policy[512];
	int n = textfmt_mta_sts_policy(policy, sizeof(policy), ws->s->mta_sts_mode, ws->s->hostname,
				       ws->s->mta_sts_max_age);
	if (n < 0 || (size_t)n >= sizeof(policy)) {
		web_reply_text(ws, 500, "500 Internal Server Error\n");
		return;
	}
	/* §3.3: text/plain; senders cache it for max_age, so no Cache-Control is needed */
	web_reply(ws, 200, "text/plain; charset=utf-8", NULL, policy, (size_t)n);
}

/* ACME http-01 (RFC 8555 §8.3): GET /.well-known/acme-challenge/TOKEN answers the
 * key authorization the ACME client put in the challenge table, as
 * application/octet-stream, on HTTP and HTTPS alike (the CA asks on port 80, and
 * §8.3 lets it follow a redirect, so no redirect is needed); anything else is 404. */
void web_acme_challenge(struct web_session *ws)
{
	const char *token = ws->req.path + strlen("/.well-known/acme-challenge/");
	char keyauth[TLS_CHALLENGE_KEYAUTH_MAX + 1];
	if (ws->env->challenges == NULL || tls_challenges_get_http(ws->env->challenges, token, keyauth,
								   sizeof(keyauth)) <= 0) {
		web_reply_not_found(ws);
		return;
	}
	web_reply(ws, 200, "application/octet-stream", NULL, keyauth, strlen(keyauth));
}
