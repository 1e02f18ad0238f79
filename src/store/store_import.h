/* store_import.h: what `postamt import` keeps in the store, and how changes made by
 * one process reach the subscribers of another (part of the store API, store.h).
 *
 * Import keys. An import records, in the transaction that appends the messages, one or
 * more keys per message (the source's "UIDVALIDITY/UID" or Maildir file name, and
 * "Message-ID + size"), scoped by the target mailbox's name; a later run asks whether
 * a key is known and skips the message. Because the keys commit with the messages, an
 * import killed at any point resumes without a duplicate and without a gap.
 *
 * Announced changes. A store opened with store_options.announce (the CLI) writes the
 * change events of its commits into the database as well; a store opened with
 * store_options.watch_ms (the server) reads them every watch_ms milliseconds on its
 * committer thread and publishes them to its own subscribers (IMAP IDLE, JMAP push),
 * exactly as if it had made the change itself. Rows older than an hour are removed by
 * the watching store. */
#ifndef POSTAMT_STORE_IMPORT_H
#define POSTAMT_STORE_IMPORT_H

#include <stdint.h>

struct store;

#define STORE_IMPORT_KEY_MAX 1024 /* bytes of one import key (longer keys are cut) */

/* 1 when the account's mailbox `scope` (a canonical mailbox name) has key recorded by
 * an earlier import, 0 when not, <0 on error (*error_r). */
int store_import_known(struct store *s, int64_t account_id, const char *scope, const char *key, const char **error_r);

#endif
