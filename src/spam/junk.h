/* junk.h: the per-account learning junk filter (DESIGN.md §1 "Spam defence").
 *
 * Every account has a model of its own: counts of how often each token (a word of
 * the text, a header feature, a link domain, the sender's address and domain) was
 * seen in spam and in ham, kept in the store (store_junk.c: tables junk_token,
 * junk_count, junk_contact), so it goes with backups. A verdict is Robinson's f(w)
 * per token (s = 1, x = 0.5) over the most significant tokens, combined with
 * Fisher's inverse chi-square (as bogofilter and mox do); docs/spam.md, "The junk
 * filter", states the limits and the threshold. No daemon: the filter runs inside
 * the server, on pool threads (every call here blocks on SQL).
 *
 * Lessons come from the store's training triggers (a message moved into or out of
 * Junk, $Junk/$NotJunk set) through junk_train; verdicts go to the port-25 hook
 * (junk_hook.h). */
#ifndef POSTAMT_SPAM_JUNK_H
#define POSTAMT_SPAM_JUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* The filter's limits and threshold (config keys spam.junk_*, docs/configuration.md). */
struct junk_settings {
	double threshold;     /* score >= threshold is spam (default 0.95) */
	unsigned min_trained; /* spam and ham messages each before verdicts count (default 20) */
	unsigned max_tokens;  /* distinct tokens taken from one message (default 1000) */
	size_t max_bytes;     /* bytes of one message the tokenizer reads (default 256 KiB) */
	unsigned significant; /* tokens combined into a score (default 150) */
	unsigned reputation;  /* lessons of one kind (and none of the other) about the sender's
			       * address that decide for it (default 2; 0: off) */
	const char *hostname; /* our authserv-id: the Authentication-Results field we trust */
};

/* The default settings (hostname NULL: Authentication-Results is ignored). */
void junk_settings_default(struct junk_settings *set_r);

/* A verdict. */
struct junk_verdict {
	double score;     /* 0 (ham) .. 1 (spam) */
	bool spam;        /* trained and score >= threshold */
	bool trained;     /* false while fewer than min_trained spam and ham messages were learned */
	bool enabled;     /* the account's filter is on (when off: spam is false) */
	unsigned ntokens; /* tokens that went into the score */
	int reputation;   /* the sender's own history decided: +1 spam, -1 ham, 0 not */
};

/* The filter service: one per server, thread-safe. */
struct junk;

/* Makes the service over store (borrowed; it must outlive the service). settings is
 * copied (hostname too). Never fails. */
struct junk *junk_new(struct store *store, const struct junk_settings *settings);
/* Replaces the settings (SIGHUP): calls that start after it use the new ones, calls
 * under way finish with the old (kept until junk_free). A copy, as for junk_new;
 * nothing is published when nothing changed. Not thread-safe against itself (one
 * reloading thread). */
void junk_set_settings(struct junk *j, const struct junk_settings *settings);
/* Frees *j and sets it to NULL; NULL is fine. */
void junk_free(struct junk **j);

/* Teaches account's model with one message: spam_delta/ham_delta are +1 (learn), -1
 * (unlearn an earlier lesson) or 0. Counts never go below zero. One transaction per
 * call. Blocks (SQL): pool threads only. Returns 1, or <0 with *error_r (static). */
int junk_train(struct junk *j, int64_t account, const char *msg, size_t len, int spam_delta, int ham_delta,
	       const char **error_r);

/* Marks addresses as the account's known contacts (mail from them leans ham).
 * Addresses are compared lower-cased. Blocks. Returns 1, or <0 with *error_r. */
int junk_contacts_add(struct junk *j, int64_t account, const char *const *addresses, size_t n, const char **error_r);

/* The verdict for one message to account: fills *v (score 0..1, spam bool, trained
 * bool: false while fewer than min_trained (20) spam and 20 ham messages have been
 * learned). Blocks. Returns 1, or <0 with *error_r. */
int junk_classify(struct junk *j, int64_t account, const char *msg, size_t len, struct junk_verdict *v,
		  const char **error_r);

#endif
