/* junk_int.h: the junk filter's pure parts, shared by junk.c, the hook, the unit
 * tests and the fuzz target: the tokenizer (junk_tokens.c) and the combining math
 * (junk_math.c). Nothing here touches the store. */
#ifndef POSTAMT_SPAM_JUNK_INT_H
#define POSTAMT_SPAM_JUNK_INT_H

#include "junk.h"

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JUNK_TOKEN_MAX 64     /* bytes of one token (longer ones are cut) */
#define JUNK_WORD_MIN 2       /* bytes of a word, fewer are skipped */
#define JUNK_WORD_MAX 40      /* bytes of a word, more are skipped */
#define JUNK_MAX_PARTS 1000   /* MIME parts looked at */
#define JUNK_MIN_DEV 0.1      /* |f(w) - 0.5| a token needs to count */
#define JUNK_CONTACT_PULL 0.5 /* a contact's mail: score times this (see docs/spam.md) */

/* The distinct tokens of one message, in the order first seen (arena). */
struct junk_tokens {
	const char **tok;
	size_t n;
	size_t bytes_read; /* message and decoded-text bytes looked at */
	const char *from;  /* the first From: address, lower case, or NULL */
	bool dmarc_fail;   /* our Authentication-Results says dmarc=fail */
};

/* Splits msg (len bytes, any bytes) into at most set->max_tokens distinct tokens,
 * reading at most set->max_bytes of the message and as much decoded text. Pure and
 * bounded; never fails. Everything lives in a. */
void junk_tokenize(struct arena *a, const char *msg, size_t len, const struct junk_settings *set,
		   struct junk_tokens *out);

/* Robinson's f(w) with s = 1, x = 0.5: the spam probability of a token seen in
 * nspam_w of nspam learned spam and nham_w of nham learned ham messages. */
double junk_robinson(int64_t nspam_w, int64_t nham_w, int64_t nspam, int64_t nham);

/* The upper tail of the chi-square distribution with v (even) degrees of freedom at x. */
double junk_chi2q(double x, unsigned v);

/* Fisher's inverse chi-square combining of n token probabilities into a score
 * 0..1 (bogofilter's S = (1 + H - S') / 2); 0.5 when n is 0. */
double junk_fisher(const double *f, size_t n);

/* Picks the at most `max` values of f (n of them) farthest from 0.5 and at least
 * JUNK_MIN_DEV away, moving them to the front; returns how many. */
size_t junk_significant(double *f, size_t n, size_t max);

/* The service's current settings (valid until junk_free). */
const struct junk_settings *junk_settings_of(const struct junk *j);

/* junk_classify over tokens already made (t, in a); *f_r (when not NULL) gets
 * f(w) of every token, in token order (arena). Blocks. Returns 1 or -1. */
/* Whether account's filter is on and has learned enough (min_trained of each kind) to
 * judge: the cheap question (one row) asked before a message is tokenized. Blocks.
 * Returns 1 with *judges_r, or <0 with *error_r; *enabled_r may be NULL. */
int junk_account_judges(struct junk *j, int64_t account, bool *enabled_r, bool *judges_r, const char **error_r);

int junk_classify_tokens(struct junk *j, int64_t account, struct arena *a, const struct junk_tokens *t,
			 struct junk_verdict *v, double **f_r, const char **error_r);

#endif
