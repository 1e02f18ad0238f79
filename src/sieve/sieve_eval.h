/* sieve_eval.h: the state of one run, shared by the evaluator's files.
 *
 * The files form layers; each calls only the ones below it (scripts/file-cycles):
 * sieve_state.c (run errors and limits over struct sieve_state) is the bottom;
 * sieve_match.c compares, sieve_vars.c keeps variables and expands strings,
 * sieve_msg.c gives the message's header fields, addresses, body and dates;
 * sieve_tests.c evaluates tests over them; sieve_eval.c runs commands, collects
 * actions and compiles included scripts (sieve_parse.c). All memory of a run is
 * in its arena, except compiled regexes (freed at the end of the run). */
#ifndef POSTAMT_SIEVE_SIEVE_EVAL_H
#define POSTAMT_SIEVE_SIEVE_EVAL_H

#include <regex.h>

#include "sieve_int.h"

struct sieve_regex {
	struct sieve_regex *next;
	char *key;
	bool icase, ok;
	regex_t re;
};

struct sieve_var {
	unsigned scope; /* 0: global */
	const char *name;
	char *value;
};

struct sieve_field {
	const char *name;  /* as written */
	const char *value; /* unfolded, raw */
};

struct sieve_state {
	const struct sieve_program *prog; /* the script running now (include changes it) */
	const struct sieve_message *msg;
	const struct sieve_limits *lim; /* the top script's */
	struct arena *a;
	uint64_t steps;
	unsigned line; /* of the command running, for errors */
	/* actions */
	struct sieve_action *acts;
	size_t nacts, capacts;
	unsigned nredirects;
	bool implicit_keep, stop, ret, have_vacation, have_reject;
	/* variables (RFC 5229) and imap4flags' internal variable */
	struct sieve_var *vars;
	size_t nvars, capvars;
	unsigned scope, next_scope;
	const char **globals; /* names declared global in the current scope */
	size_t nglobals;
	const char *mvar[10];
	unsigned nmvar;
	const char *flags; /* the internal flag variable: flags separated by spaces */
	/* include */
	unsigned include_depth, nincludes;
	const char **included;
	/* duplicate marks */
	struct sieve_dup_mark *dups;
	size_t ndups;
	/* the message, parsed on demand */
	struct sieve_field *fields;
	size_t nfields;
	bool fields_done;
	struct mail_info *info;
	const char *body; /* after the header */
	size_t body_len;
	const char **body_vals[2]; /* decoded parts for :text and :content, per part index */
	size_t *body_lens[2];
	size_t mem_base; /* arena_used() when the run started (limits.max_memory) */
	struct sieve_regex *regexes;
	unsigned nregexes;
};

/* sieve_state.c */
/* Sets *error_r to "line N: ..." (arena text) and returns -1. */
int sieve_run_error(struct sieve_state *run, const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets *error_r to the error of a run over limits.max_cpu_steps; returns -1. */
int sieve_steps_error(struct sieve_state *run, const char **error_r);
/* Returns 0, or -1 with *error_r when the run is over limits.max_cpu_steps or
 * limits.max_memory. */
int sieve_run_check(struct sieve_state *run, const char **error_r);

/* sieve_match.c */
/* Returns 1 match, 0 no match, <0 error (a limit; *error_r set). For :matches and
 * :regex, a match sets the match variables. */
int sieve_match_one(struct sieve_state *run, const struct sieve_node *n, const char *value, size_t vlen,
		    const char *key, size_t klen, const char **error_r);
/* :value/:count comparison of a and b under the node's comparator and relop. */
bool sieve_relational(const struct sieve_node *n, const char *a, size_t alen, const char *b, size_t blen);
/* Wildcard matching (:matches). Returns 1/0, or -1 if the step budget ran out. */
int sieve_wildmatch(const char *s, size_t slen, const char *p, size_t plen, bool icase, uint64_t *steps,
		    uint64_t max_steps, const char **caps, size_t *caplens, unsigned maxcaps, unsigned *ncaps_r);
void sieve_regex_free_all(struct sieve_state *run);

/* sieve_vars.c */
/* The strings of list slot sl (index + 1) of the current program, expanded; NULL
 * list gives 0 strings. Returns the count, or -1 on error. */
int sieve_strings(struct sieve_state *run, uint32_t sl, const char ***strs_r, const char **error_r);
/* The first string of slot sl expanded, or "" when the slot is empty. */
int sieve_string(struct sieve_state *run, uint32_t sl, const char **s_r, const char **error_r);
/* Variable access by name (case-insensitive); NULL when unset. */
const char *sieve_var_get(struct sieve_state *run, const char *name);
int sieve_var_set(struct sieve_state *run, const char *name, const char *value, const char **error_r);
/* The set command's modifiers applied to value. */
const char *sieve_set_modifiers(struct sieve_state *run, uint32_t flags, const char *value);

/* sieve_msg.c */
void sieve_msg_fields(struct sieve_state *run);
/* Values of header `name` (decoded when decode), in order; count returned. */
size_t sieve_msg_header(struct sieve_state *run, const char *name, bool decode, const char ***vals_r);
/* The addr-specs in an address header value. */
size_t sieve_msg_addresses(struct sieve_state *run, const char *value, const char ***addrs_r);
/* The part of an address (enum sieve_addrpart); NULL when it has none (:detail). */
const char *sieve_addr_part(struct sieve_state *run, const char *addr, enum sieve_addrpart part);
/* The body values for the body test; count returned. */
size_t sieve_msg_body(struct sieve_state *run, enum sieve_bodyxf xf, const char **types, size_t ntypes,
		      const char ***vals_r, size_t **lens_r);
/* A date part of time t in zone (minutes east); NULL for an unknown part. */
const char *sieve_date_part(struct sieve_state *run, int64_t t, int zone, const char *part);

/* sieve_tests.c */
/* Evaluates test node idx: 1 true, 0 false, <0 error. */
int sieve_test(struct sieve_state *run, uint32_t idx, unsigned depth, const char **error_r);

/* sieve_eval.c: runs a program's top level in a fresh scope (include). */
int sieve_exec_program(struct sieve_state *run, const struct sieve_program *prog, const char **error_r);

#endif
