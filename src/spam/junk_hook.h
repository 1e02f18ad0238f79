/* junk_hook.h: the junk filter's hook of the message pipeline (struct submit_hook,
 * submit.h), for port 25 only (SUBMIT_KIND_MX). It classifies the message for
 * every local recipient account (junk.h), removes incoming X-Postamt-Junk fields,
 * writes "X-Postamt-Junk: spam; score=0.987; tokens=N" (or ham, untrained, off) and,
 * when the verdict is spam, picks the Junk mailbox and sets the $Junk keyword.
 *
 * For mail a user sends (submission, the webmail) it records the recipients as the
 * account's contacts (junk_contacts_add): their mail leans ham.
 *
 * The hook contract has one target mailbox per message: with several local
 * accounts the message goes to Junk only when every one of them judges it spam, and
 * the header carries the lowest score of the trained accounts (docs/spam.md). A
 * store error lets the message through without a verdict (logged). */
#ifndef POSTAMT_SPAM_JUNK_HOOK_H
#define POSTAMT_SPAM_JUNK_HOOK_H

#include "junk.h"
#include "submit.h"

/* The hook's run function; ctx is the struct junk (borrowed). Never refuses; a
 * store error is logged and the message goes on. */
int junk_hook_run(void *ctx, struct submit_hook_msg *m, const char **reason_r);

/* The header field's name. */
#define JUNK_HEADER "X-Postamt-Junk"

#endif
