/* junk_contacts.h: the pipeline hook that makes the recipients of mail a user sends
 * the known contacts of their junk filter (mail from a known contact leans ham).
 *
 * For SUBMIT_KIND_SUBMISSION (465/587) and SUBMIT_KIND_WEBMAIL only: every envelope
 * recipient of the message (Bcc included; local and remote) is added to the sending
 * account's contacts with junk_contacts_add. It never refuses: a store error is
 * logged and the message goes on. Registered after the junk filter's own hook and
 * before DKIM signing (serve.c add_hooks). */
#ifndef POSTAMT_SPAM_JUNK_CONTACTS_H
#define POSTAMT_SPAM_JUNK_CONTACTS_H

#include "junk.h"
#include "submit.h"

/* The hook's run function; ctx is the struct junk (borrowed). Always SUBMIT_OK. */
int junk_contacts_run(void *ctx, struct submit_hook_msg *m, const char **reason_r);

#endif
