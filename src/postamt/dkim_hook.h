/* dkim_hook.h: the pipeline hook that DKIM-signs outgoing mail (submit.h, "The hook
 * contract"; dkim.h). Registered last, so it signs the message as it will leave. */
#ifndef POSTAMT_DKIM_HOOK_H
#define POSTAMT_DKIM_HOOK_H

#include "submit.h"

#include <stdint.h>

struct store;
struct dkim_hook;

/* Loads the keys of DIR/dkim, reached through dir_fd (AT_FDCWD once serve has entered
 * DIR). store answers whether a From: domain is local. publish_delay (seconds, >= 0;
 * dkim.publish_delay) is how long a new key waits before it signs (dkim_key.h). Never
 * NULL: a directory that cannot be read gives an empty key set (logged) and is tried
 * again. */
struct dkim_hook *dkim_hook_new(int dir_fd, struct store *store, int64_t publish_delay);
void dkim_hook_free(struct dkim_hook **hp);
/* Sets the publish delay (SIGHUP); applies to the next message signed. */
void dkim_hook_set_publish_delay(struct dkim_hook *h, int64_t publish_delay);
/* Loads the keys again now (SIGHUP). Messages being signed keep the set they took. */
void dkim_hook_reload(struct dkim_hook *h);
/* The hook (submit_hook_fn; ctx is the struct dkim_hook): for SUBMIT_KIND_SUBMISSION
 * and SUBMIT_KIND_WEBMAIL messages whose first From: address is in a local domain
 * with keys, appends, with the keys that sign at this moment (dkim_keyset_find), an ed25519-sha256 and an rsa-sha256 DKIM-Signature over the
 * fields earlier hooks added and the message. Other messages pass unchanged.
 * Returns SUBMIT_OK, or SUBMIT_TEMPFAIL when signing fails (OpenSSL). */
int dkim_hook_run(void *ctx, struct submit_hook_msg *m, const char **reason_r);

#endif
