/* spam_hook.h: the spam hook of the message pipeline for port 25 (struct
 * submit_hook, submit.h; registered after the mail-authentication hook).
 *
 * For every message from port 25 (SUBMIT_KIND_MX) it removes incoming copies of the
 * fields it writes (X-DNSBL-Score, X-Rspamd-Score, X-Rspamd-Action: only postamt
 * may set them), writes `X-DNSBL-Score: SCORE ZONE...` when weighted blocklists
 * list the client (the origin's dnsbl_score, from smtpd's connect-time check), and,
 * with `spam.rspamd = URL`, asks rspamd (/checkv2) and acts on its action: reject
 * -> SUBMIT_POLICY (550 5.7.1), soft reject and greylist -> SUBMIT_POLICY_TEMP
 * (451 4.7.1), add header and rewrite subject -> the Junk mailbox, no action ->
 * INBOX; the stored copy gets `X-Rspamd-Score` and `X-Rspamd-Action`. rspamd
 * unreachable, too slow (spam.rspamd_timeout) or answering nonsense: the message
 * is accepted and the failure logged, or with spam.rspamd_fail = tempfail refused
 * with 451 4.7.1. The request blocks its pool thread for at most the timeout. */
#ifndef POSTAMT_SPAM_HOOK_H
#define POSTAMT_SPAM_HOOK_H

#include "settings.h"
#include "submit.h"

#include <stdbool.h>
#include <stddef.h>

struct spam_hook_env {
	struct settings_ref *settings; /* hostname (rspamd's MTA-Name) */
	const char *rspamd_url;        /* spam.rspamd; NULL or "": no rspamd */
	unsigned rspamd_timeout_ms;    /* spam.rspamd_timeout */
	bool rspamd_tempfail;          /* spam.rspamd_fail = tempfail */
	size_t rspamd_response_max;    /* spam.rspamd_response_max */
};

struct spam_hook;

/* Makes the hook's context (copies env). Returns NULL with *error_r (static) when
 * the rspamd URL is bad. Free with spam_hook_free after the pipeline is idle. */
struct spam_hook *spam_hook_new(const struct spam_hook_env *env, const char **error_r);
void spam_hook_free(struct spam_hook **hp);

/* The hook (submit_hook_fn). Thread-safe: the context is read-only. */
int spam_hook_run(void *ctx, struct submit_hook_msg *m, const char **reason_r);

/* The header fields named `name` (case-insensitive) in the header block of
 * msg[0..len): each span covers the field's name through the line end of its last
 * continuation line. Returns how many (at most max) in spans_r. Pure. */
size_t spam_header_find(const char *msg, size_t len, const char *name, struct submit_span *spans_r, size_t max);

#endif
