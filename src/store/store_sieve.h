/* store_sieve.h: the Sieve part of the store API (included by store.h, which declares
 * struct store and the error codes): each account's Sieve scripts (RFC 5228) with a
 * stable id, their text and compiled form and the one active script, as ManageSieve
 * (RFC 5804, src/sieved) and JMAP (RFC 9661, src/webd) edit them; the account's
 * out-of-office settings (JMAP VacationResponse, RFC 8621 §8), from which delivery
 * generates a Sieve fragment; and the duplicate memory that the vacation action (RFC
 * 5230) and the duplicate test (RFC 7352) share. Writes go through the committer (one
 * transaction each); reads use a pooled read connection. Every call blocks: pool
 * threads, commands and tests only, never a loop. */
#ifndef POSTAMT_STORE_SIEVE_H
#define POSTAMT_STORE_SIEVE_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* Bytes of a script name (RFC 5804 §1.6: UTF-8 without control characters). */
#define STORE_SIEVE_NAME_MAX 512

/* The per-account limits (sieve.max_scripts, sieve.max_script_size); 0 means no
 * limit. Passed to every call that may add or grow a script. */
struct store_sieve_limits {
	size_t max_scripts;     /* scripts per account */
	size_t max_script_size; /* bytes of one script's text */
};

/* One script. Strings and bytes live in the caller's arena. */
struct store_sieve_script {
	int64_t id;       /* stable and never reused (the JMAP id) */
	const char *name; /* UTF-8 */
	bool active;
	int64_t modseq;       /* the account's Sieve state when the script last changed
	                         * (content, name or active flag): part of a JMAP blobId */
	size_t size;          /* bytes of the text */
	const char *text;     /* NUL-terminated (NULs inside are kept: use size); NULL
	                         * unless STORE_SIEVE_TEXT was asked for */
	const void *compiled; /* sieve_program_save's bytes as stored, NULL unless
	                         * STORE_SIEVE_COMPILED was asked for (or none stored) */
	size_t compiled_len;
};

/* What store_sieve_get reads besides the metadata. */
#define STORE_SIEVE_TEXT 1u
#define STORE_SIEVE_COMPILED 2u

/* Checks a script name (RFC 5804 §1.6: non-empty, valid UTF-8, at most
 * STORE_SIEVE_NAME_MAX bytes, no control characters U+0000-001F, U+007F-009F,
 * U+2028, U+2029). Returns 1 if valid, 0 if not. */
int store_sieve_name_valid(const char *name);

/* The account's scripts ordered by name, without text or compiled form (array in the
 * arena), and the account's Sieve state in *state_r (may be NULL). Returns 1, or <0. */
int store_sieve_list(struct store *s, struct arena *a, int64_t account, struct store_sieve_script **scripts_r,
		     size_t *n_r, int64_t *state_r, const char **error_r);

/* One script by id (id > 0) or else by name; `what` is a mask of STORE_SIEVE_TEXT and
 * STORE_SIEVE_COMPILED. Returns 1 with *script_r filled (strings in the arena), 0 when
 * there is no such script in the account, or <0. */
int store_sieve_get(struct store *s, struct arena *a, int64_t account, int64_t id, const char *name, unsigned int what,
		    struct store_sieve_script *script_r, const char **error_r);

/* The active script with its text and compiled form. Returns 1, 0 when the account
 * has no active script, or <0. */
int store_sieve_get_active(struct store *s, struct arena *a, int64_t account, struct store_sieve_script *script_r,
			   const char **error_r);

/* HAVESPACE (RFC 5804 §2.3): could a script `name` of `size` bytes be stored now?
 * Replacing an existing script of that name does not count as a new one. Returns 1
 * yes; STORE_ETOOBIG (over max_script_size: QUOTA/MAXSIZE), STORE_ELIMIT (max_scripts
 * reached: QUOTA/MAXSCRIPTS), STORE_EINVAL (bad name), or STORE_ERR. */
int store_sieve_havespace(struct store *s, int64_t account, const char *name, size_t size,
			  const struct store_sieve_limits *limits, const char **error_r);

/* Writes a script. With id == 0: creates or replaces the script `name` (PUTSCRIPT);
 * text is required. With id > 0: updates that script (JMAP SieveScript/set update):
 * name NULL keeps the name, text NULL keeps the text and compiled form. compiled
 * (may be NULL) is stored as given, next to the text. With activate, the script
 * becomes the account's only active one in the same transaction. The limits are
 * checked in the transaction as in store_sieve_havespace. Returns 1 with the script's
 * id in *id_r (may be NULL); STORE_ENOTFOUND (no account, or no script id),
 * STORE_EEXISTS (id > 0 and another script has the new name), STORE_EINVAL (bad
 * name), STORE_ETOOBIG, STORE_ELIMIT, or STORE_ERR. */
struct store_sieve_put {
	int64_t id;
	const char *name;
	const char *text;
	size_t text_len;
	const void *compiled;
	size_t compiled_len;
	bool activate;
};
int store_sieve_put(struct store *s, int64_t account, const struct store_sieve_put *p,
		    const struct store_sieve_limits *limits, int64_t *id_r, const char **error_r);

/* Replaces only the compiled form of script id (a cache refreshed after the
 * language's format changed). Returns 1, STORE_ENOTFOUND or STORE_ERR. */
int store_sieve_set_compiled(struct store *s, int64_t account, int64_t id, const void *compiled, size_t len,
			     const char **error_r);

/* RENAMESCRIPT (RFC 5804 §2.11.1): renames script `from` to `to` (the active flag
 * stays). Returns 1, STORE_ENOTFOUND (no script `from`), STORE_EEXISTS (`to` taken),
 * STORE_EINVAL (bad name) or STORE_ERR. */
int store_sieve_rename(struct store *s, int64_t account, const char *from, const char *to, const char **error_r);

/* Deletes a script by id (id > 0) or else by name. The active script is refused
 * (RFC 5804 §2.10: NO (ACTIVE); RFC 9661: scriptIsActive). Returns 1,
 * STORE_ENOTFOUND, STORE_ENOTALLOWED (active) or STORE_ERR. */
int store_sieve_delete(struct store *s, int64_t account, int64_t id, const char *name, const char **error_r);

/* SETACTIVE (RFC 5804 §2.8): makes script id (id > 0) or `name` the only active one;
 * id == 0 and name NULL or "" deactivates every script. Returns 1, STORE_ENOTFOUND or
 * STORE_ERR. */
int store_sieve_activate(struct store *s, int64_t account, int64_t id, const char *name, const char **error_r);

/* The account's Sieve state: a number that grows with every change of its scripts or
 * its vacation settings (for JMAP state strings). 0 for an account that never had
 * one. Returns 1, or <0. */
int store_sieve_state(struct store *s, int64_t account, int64_t *state_r, const char **error_r);

/* The out-of-office settings (JMAP VacationResponse). Dates are seconds since the
 * epoch, 0 for none (null); strings NULL for null. */
struct store_sieve_vacation {
	bool enabled;
	int64_t from_date, to_date;
	const char *subject;
	const char *text_body;
	const char *html_body;
};
/* Reads them (an account that never set them: disabled, all null). Strings in the
 * arena. Returns 1, or <0. */
int store_sieve_vacation_get(struct store *s, struct arena *a, int64_t account, struct store_sieve_vacation *v_r,
			     const char **error_r);
/* Replaces them whole and bumps the account's Sieve state. Returns 1, STORE_ENOTFOUND
 * (no account), STORE_EINVAL (a text over 64 KiB, or to_date before from_date), or
 * STORE_ERR. */
int store_sieve_vacation_set(struct store *s, int64_t account, const struct store_sieve_vacation *v,
			     const char **error_r);

/* The duplicate memory: check and set in one transaction. If `key` (any text, e.g.
 * "vacation\n<handle>\n<sender>" or a duplicate test's id) is remembered for the
 * account and has not expired at `now`, returns 0 and changes nothing; else remembers
 * it until now + seconds and returns 1. Expired entries of the account are removed
 * in the same transaction (at most 100 per call), so the memory stays bounded by what
 * one period brings. Returns <0 on error. */
int store_sieve_duplicate(struct store *s, int64_t account, const char *key, time_t now, int64_t seconds,
			  const char **error_r);

/* Whether key is remembered and unexpired at now, without recording it. Returns 1
 * (seen), 0 (not), or <0. */
int store_sieve_duplicate_seen(struct store *s, int64_t account, const char *key, time_t now, const char **error_r);

#endif
