/* store_junk.h: the junk filter's part of the store API (included by store.h, which
 * declares struct store and the error codes): the lessons users teach by moving and
 * flagging mail (store_lesson.c) and the per-account models the learner fills
 * (store_junk.c). The filter itself is src/spam/junk.h. Kept apart so store.h stays
 * the map of the mail store proper. */
#ifndef POSTAMT_STORE_JUNK_H
#define POSTAMT_STORE_JUNK_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* ---------------------------------------------------------------- junk filter lessons */

/* What the user taught about a message (store_lesson.c): moving or copying it into a
 * \Junk mailbox (IMAP COPY/MOVE, JMAP mailboxIds), APPENDing it there or setting
 * $Junk teaches spam; moving or copying it out of \Junk into a mailbox that is not
 * \Trash, or setting $NotJunk, teaches ham. Recorded by the store in the change's own
 * transaction; store_deliver (the pipeline) records nothing, nor does clearing a
 * keyword. Per message (account, email id) the current lesson is kept, so a repeated
 * lesson records nothing and a changed one unlearns the old (spam -1, ham +1). */
enum store_lesson_class { STORE_LESSON_NONE = 0, STORE_LESSON_SPAM = 1, STORE_LESSON_HAM = 2 };

/* A pending change of an account's model: apply spam/ham (+1 learn, -1 unlearn, 0
 * nothing; both 0 happens when a lesson was undone before it was learned). */
struct store_lesson {
	int64_t id;
	int64_t account_id;
	int64_t email_id;
	int spam, ham;
};
/* The oldest pending lessons, at most max, in the order they were recorded (array in
 * the arena). 1, or <0. A message has at most one pending lesson. */
int store_lessons_next(struct store *s, struct arena *a, size_t max, struct store_lesson **lessons_r, size_t *n_r,
		       const char **error_r);
/* Reads at most max bytes (0: all) of the lesson's message, even when it was expunged
 * since (a pending lesson keeps its message file). 1 with the bytes in the arena
 * (NUL-terminated), 0 when the email is gone, <0 on error. */
int store_lesson_read(struct store *s, struct arena *a, int64_t email_id, size_t max, const char **data_r,
		      size_t *len_r, const char **error_r);
/* Marks lessons (as returned by store_lessons_next) as applied to the model: their
 * spam/ham are subtracted from the pending rows, a row that reaches zero is removed
 * and frees its message file when no mailbox holds the message any more. A lesson
 * recorded for the same message meanwhile stays pending. A synchronous write. */
int store_lessons_done(struct store *s, const struct store_lesson *lessons, size_t n, const char **error_r);
/* The message's current lesson (enum store_lesson_class) in *class_r. 1, or <0. */
int store_lesson_get(struct store *s, int64_t account_id, int64_t email_id, int *class_r, const char **error_r);
/* fn(arg) runs on the committer thread after every commit that recorded a lesson: it
 * must be quick and must not call the store (post or queue work). Set it before the
 * servers start; NULL turns it off, and once that call returned fn is not running and
 * is never called again (so arg may be freed). */
typedef void store_lesson_notify_fn(void *arg);
void store_set_lesson_notify(struct store *s, store_lesson_notify_fn *fn, void *arg);

/* The junk filter's model (store_junk.c; the filter itself is src/spam/junk.h). */
struct store_junk_token {
	const char *token;       /* in: the token text */
	int64_t nspam, nham;     /* out: learned spam and ham messages that held it */
};
struct store_junk_model {
	int64_t nspam, nham;     /* messages learned */
	bool enabled;            /* the account's filter is on (the default) */
};
/* Counts one lesson: every token and the message totals get spam_delta and
 * ham_delta (each -1, 0 or 1; counts never go below zero, tokens at 0/0 are
 * removed). One transaction. Returns 1, STORE_ENOTFOUND (no account), STORE_EINVAL
 * or STORE_ERR with *error_r. */
int store_junk_learn(struct store *s, int64_t account, const char *const *tokens, size_t n, int spam_delta,
		     int ham_delta, const char **error_r);
/* Fills the counts of the n tokens (0/0 for unknown ones) and the account's totals
 * and switch (an account with no lessons: 0/0, enabled). Returns 1 or STORE_ERR. */
int store_junk_read(struct store *s, int64_t account, struct store_junk_token *toks, size_t n,
		    struct store_junk_model *model_r, const char **error_r);
/* The same, and in *is_contact_r whether contact (lower case; NULL: none) is a
 * contact of the account (store_junk_is_contact), read together: what one
 * classification needs in one statement for up to 256 tokens. */
int store_junk_read_with(struct store *s, int64_t account, struct store_junk_token *toks, size_t n,
			 const char *contact, struct store_junk_model *model_r, bool *is_contact_r,
			 const char **error_r);
/* Adds addresses (lower case, as given) to the account's contacts. Returns 1, or <0. */
int store_junk_contacts_add(struct store *s, int64_t account, const char *const *addresses, size_t n,
			    const char **error_r);
/* Returns 1 if address (lower case) is a contact of the account, 0 if not, or <0. */
int store_junk_is_contact(struct store *s, int64_t account, const char *address, const char **error_r);
/* Turns the account's filter on or off. Returns 1, STORE_ENOTFOUND or STORE_ERR. */
int store_junk_set_enabled(struct store *s, int64_t account, bool on, const char **error_r);
/* What `postamt user junk` shows: totals, the number of tokens and contacts, and
 * the `top` tokens most in spam and most in ham (arrays in a). Returns 1 or <0. */
struct store_junk_stats {
	struct store_junk_model model;
	int64_t ntokens, ncontacts;
	struct store_junk_token *top_spam, *top_ham;
	size_t ntop_spam, ntop_ham;
};
int store_junk_stats(struct store *s, struct arena *a, int64_t account, size_t top, struct store_junk_stats *st_r,
		     const char **error_r);

#endif
