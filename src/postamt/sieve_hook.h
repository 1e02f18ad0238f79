/* sieve_hook.h: the pipeline hook that runs each local recipient's Sieve script
 * (docs/sieve.md "Delivery"; docs/architecture.md "The Sieve hook"). Registered
 * after the junk filter and before DKIM signing. For every local account of the
 * message it runs the vacation fragment made from the account's JMAP
 * VacationResponse settings (when enabled and within its dates) and the active
 * script, then executes the actions: the account's copies (keep, fileinto with
 * :create and flags, discard) through submit_hook_deliver, redirects, vacation
 * replies and rejection notices through submit_resend, a reject of the only
 * recipient as a refusal (SMTP 5xx after DATA). A script error or a limit hit
 * keeps the message in INBOX and logs event=sieve_error. */
#ifndef POSTAMT_SIEVE_HOOK_H
#define POSTAMT_SIEVE_HOOK_H

#include "arena.h"
#include "settings.h"

struct store;
struct submit;
struct submit_hook_msg;

struct sieve_hook;

/* A hook over the store; submit is the pipeline it resends through (redirects,
 * replies). srs_key_path names the SRS secret (sieve.srs_key, relative to the
 * working directory, DIR): read, or created with 32 random bytes (mode 0600) when
 * missing; without it redirects keep the original envelope sender (logged). Never
 * NULL. */
struct sieve_hook *sieve_hook_new(struct store *store, struct submit *submit, struct settings_ref *settings,
				  const char *srs_key_path);
void sieve_hook_free(struct sieve_hook **hp);

/* The SRS reverse (submit_rewrite_fn): a bounce to an SRS0 address this server made
 * (its hash valid, at most 21 days old) goes on to the original sender. */
int sieve_hook_srs_reverse(void *ctx, struct arena *a, const char *address, const char **to_r);

/* The hook (submit_hook_fn). Thread-safe. */
int sieve_hook_run(void *ctx, struct submit_hook_msg *m, const char **reason_r);

#endif
