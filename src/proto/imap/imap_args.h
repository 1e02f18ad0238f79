/* imap_args.h: a cursor over one buffered IMAP command (imap_reader.h) for the
 * recursive-descent parsing of command arguments (RFC 9051 §9).
 *
 * Every function returns 1 on success and -1 on a syntax error, with the reason in
 * cur->error (static text) and the cursor left where the error was found. Strings are
 * returned as NUL-terminated copies in cur->a (they may contain NULs when they came
 * from a literal; the length is given), except imap_cur_literal_view() which returns
 * a view into the command buffer for large APPEND data. */
#ifndef POSTAMT_IMAP_ARGS_H
#define POSTAMT_IMAP_ARGS_H

#include "arena.h"
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_cur {
	const char *p;
	size_t len, pos;
	struct arena *a;
	const char *error;
};

struct imap_str {
	const char *s; /* NUL-terminated */
	size_t len;
	bool literal;  /* came from a literal (or literal8) */
	bool literal8;
};

/* A set of numbers: ranges lo:hi exactly as written; 0 stands for "*". */
struct imap_range {
	uint32_t lo, hi;
};
struct imap_seqset {
	struct imap_range *r;
	size_t n;
	bool saved; /* "$" (RFC 9051 §6.4.4.1, SEARCHRES): the saved search result */
};

void imap_cur_init(struct imap_cur *cur, struct arena *a, struct bytes args);
/* True at the end of the command. */
bool imap_cur_end(const struct imap_cur *cur);
/* The next byte, or -1 at the end. */
int imap_cur_peek(const struct imap_cur *cur);
/* Consumes c if it is next (exact byte); returns true if it did. */
bool imap_cur_skip(struct imap_cur *cur, char c);
/* One SP. */
int imap_cur_sp(struct imap_cur *cur);
/* Expects the end of the command. */
int imap_cur_eol(struct imap_cur *cur);
/* 1*ATOM-CHAR (view into the command). */
int imap_cur_atom(struct imap_cur *cur, struct bytes *out);
/* An atom that may contain "[" ... "]" groups with spaces inside, for fetch items
 * such as BODY[HEADER.FIELDS (A B)]<0.10>: the raw text up to the next SP or ")"
 * outside brackets. */
int imap_cur_fetch_att(struct imap_cur *cur, struct bytes *out);
/* True if the next atom is `word` (case-insensitive) followed by SP, ")" or the end;
 * consumes it when it is. */
bool imap_cur_keyword(struct imap_cur *cur, const char *word);
/* astring = 1*ASTRING-CHAR / string */
int imap_cur_astring(struct imap_cur *cur, struct imap_str *out);
/* string = quoted / literal */
int imap_cur_string(struct imap_cur *cur, struct imap_str *out);
/* nstring = string / "NIL" (out->s NULL for NIL) */
int imap_cur_nstring(struct imap_cur *cur, struct imap_str *out);
/* list-mailbox = 1*list-char / string (LIST patterns with % and *) */
int imap_cur_list_mailbox(struct imap_cur *cur, struct imap_str *out);
/* A literal or literal8 as a view into the command buffer (APPEND message data). */
int imap_cur_literal_view(struct imap_cur *cur, struct bytes *out, bool *literal8_r);
/* number (up to max); nz-number is number with min 1. */
int imap_cur_number(struct imap_cur *cur, uint64_t min, uint64_t max, uint64_t *out);
/* sequence-set, or "$" when allow_saved. Limits: at most max_ranges ranges. */
int imap_cur_seqset(struct imap_cur *cur, bool allow_saved, size_t max_ranges, struct imap_seqset *out);
/* date = date-text / DQUOTE date-text DQUOTE; date-text = date-day "-" date-month "-"
 * date-year. Returns year, month 1-12, day. */
int imap_cur_date(struct imap_cur *cur, int *year_r, int *month_r, int *day_r);
/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone
 * DQUOTE. Returns unix seconds and the zone in minutes east of UTC. */
int imap_cur_datetime(struct imap_cur *cur, int64_t *time_r, int *tz_r);
/* flag-list = "(" [flag *(SP flag)] ")": the flags in a NULL-terminated array (arena),
 * system flags with their backslash. */
int imap_cur_flag_list(struct imap_cur *cur, const char ***flags_r, size_t *n_r);
/* Like flag-list but also accepts flags without parentheses (STORE, RFC 9051 §9
 * store-att-flags = (flag-list / (flag *(SP flag)))). */
int imap_cur_store_flags(struct imap_cur *cur, const char ***flags_r, size_t *n_r);

/* True for ASTRING-CHAR. */
bool imap_is_astring_char(unsigned char c);
/* Days from 1970-01-01 to a calendar date (proleptic Gregorian). */
int64_t imap_days_from_civil(int y, int m, int d);

#endif
