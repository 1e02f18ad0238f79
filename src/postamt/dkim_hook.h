/* dkim_hook.h: the pipeline hook that DKIM-signs outgoing mail (submit.h, "The hook
 * contract"; dkim.h). Registered last, so it signs the message as it will leave. */
#ifndef POSTAMT_DKIM_HOOK_H
#define POSTAMT_DKIM_HOOK_H

#include "submit.h"

struct store;
struct dkim_hook;

/* Loads the signing keys of DIR/dkim, reached through dir_fd (AT_FDCWD once serve
 * has entered DIR). store answers whether a From: domain is local. Never NULL: a
 * directory that cannot be read gives an empty key set (logged) and is tried again. */
struct dkim_hook *dkim_hook_new(int dir_fd, struct store *store);
void dkim_hook_free(struct dkim_hook **hp);
/* Loads the keys again now (SIGHUP). Messages being signed keep the set they took. */
void dkim_hook_reload(struct dkim_hook *h);
/* The hook (submit_hook_fn; ctx is the struct dkim_hook): for SUBMIT_KIND_SUBMISSION
 * and SUBMIT_KIND_WEBMAIL messages whose first From: address is in a local domain
 * with keys, appends an ed25519-sha256 and an rsa-sha256 DKIM-Signature over the
 * fields earlier hooks added and the message. Other messages pass unchanged.
 * Returns SUBMIT_OK, or SUBMIT_TEMPFAIL when signing fails (OpenSSL). */
int dkim_hook_run(void *ctx, struct submit_hook_msg *m, const char **reason_r);

#endif
