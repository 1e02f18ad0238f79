/* sieve_int.h: the interpreter's internals shared by its files.
 *
 * A compiled program is a flat tree, so that it can be saved and loaded as arrays:
 * nodes (commands and tests, each with its tags bound to fixed fields), the index
 * list of their children (a node's children always have smaller indices than the
 * node, which makes any loaded program acyclic), string lists and strings (offset
 * and length into one text blob). sieve_parse.c builds it (lexer and grammar,
 * RFC 5228 §8), sieve_bind.c checks each command's arguments and requires,
 * sieve_prog.c saves and loads it, sieve_eval.c and sieve_tests.c run it. */
#ifndef POSTAMT_SIEVE_SIEVE_INT_H
#define POSTAMT_SIEVE_SIEVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sieve.h"

enum sieve_op {
	/* commands */
	OP_IF = 1,
	OP_ELSIF,
	OP_ELSE,
	OP_STOP,
	OP_KEEP,
	OP_DISCARD,
	OP_FILEINTO,
	OP_REDIRECT,
	OP_REJECT,
	OP_EREJECT,
	OP_VACATION,
	OP_SET,
	OP_ADDFLAG,
	OP_SETFLAG,
	OP_REMOVEFLAG,
	OP_INCLUDE,
	OP_RETURN,
	OP_GLOBAL,
	OP_LAST_COMMAND = OP_GLOBAL,
	/* tests */
	OP_TRUE,
	OP_FALSE,
	OP_NOT,
	OP_ANYOF,
	OP_ALLOF,
	OP_ADDRESS,
	OP_ENVELOPE,
	OP_HEADER,
	OP_EXISTS,
	OP_SIZE,
	OP_BODY,
	OP_DATE,
	OP_CURRENTDATE,
	OP_STRING,
	OP_HASFLAG,
	OP_MAILBOXEXISTS,
	OP_DUPLICATE,
	OP_SPAMTEST,
	OP_MAX
};

enum sieve_match { MATCH_IS = 0, MATCH_CONTAINS, MATCH_MATCHES, MATCH_REGEX, MATCH_VALUE, MATCH_COUNT };
enum sieve_relop { REL_GT = 0, REL_GE, REL_LT, REL_LE, REL_EQ, REL_NE };
enum sieve_cmp { CMP_CASEMAP = 0, CMP_OCTET, CMP_NUMERIC };
enum sieve_addrpart { PART_ALL = 0, PART_LOCAL, PART_DOMAIN, PART_USER, PART_DETAIL };
enum sieve_bodyxf { BODY_TEXT = 0, BODY_RAW, BODY_CONTENT };

/* Node flags. */
enum {
	NF_CREATE = 1 << 0,     /* fileinto :create */
	NF_COPY = 1 << 1,       /* :copy */
	NF_MIME = 1 << 2,       /* vacation :mime */
	NF_SECONDS = 1 << 3,    /* vacation :seconds, duplicate :seconds given */
	NF_LAST = 1 << 4,       /* :last (index, duplicate) */
	NF_OVER = 1 << 5,       /* size :over (else :under) */
	NF_PERCENT = 1 << 6,    /* spamtest :percent */
	NF_GLOBAL = 1 << 7,     /* include :global */
	NF_ONCE = 1 << 8,       /* include :once */
	NF_OPTIONAL = 1 << 9,   /* include :optional */
	NF_ORIGZONE = 1 << 10,  /* date :originalzone */
	NF_INDEX = 1 << 11,     /* :index given (num2) */
	NF_DAYS = 1 << 12,      /* vacation :days given */
	NF_MOD_LOWER = 1 << 13, /* set modifiers (RFC 5229 §4.1) */
	NF_MOD_UPPER = 1 << 14,
	NF_MOD_LOWERFIRST = 1 << 15,
	NF_MOD_UPPERFIRST = 1 << 16,
	NF_MOD_QUOTEWILDCARD = 1 << 17,
	NF_MOD_LENGTH = 1 << 18,
	NF_FLAGS = 1 << 19, /* :flags given (sl[1]) */
	NF_ZONE = 1 << 20,  /* date :zone given (sl[3]) */
	NF_ALL = (1 << 21) - 1
};

#define SIEVE_NSL 5   /* string-list slots per node */
#define SIEVE_NONE 0u /* an empty slot (slots hold index + 1) */

/* One command or test. The meaning of the slots per op is in sieve_bind.c. */
struct sieve_node {
	uint8_t op;             /* enum sieve_op */
	uint8_t match;          /* enum sieve_match */
	uint8_t relop;          /* enum sieve_relop for :value/:count */
	uint8_t cmp;            /* enum sieve_cmp */
	uint8_t part;           /* enum sieve_addrpart, or enum sieve_bodyxf for body */
	uint32_t flags;         /* NF_* */
	uint32_t line;          /* for run-time errors */
	int64_t num;            /* size, days/seconds, index... */
	int64_t num2;           /* :index */
	uint32_t sl[SIEVE_NSL]; /* string lists (index + 1, or SIEVE_NONE) */
	uint32_t kid0, nkids;   /* children: kids[kid0 .. kid0 + nkids) */
};

struct sieve_str {
	uint32_t off, len; /* in the blob */
	uint32_t vars;     /* 1 when it holds "${" and variables are on: expanded at run time */
};

struct sieve_slist {
	uint32_t first, n; /* strs[first .. first + n) */
};

struct sieve_program {
	struct sieve_limits limits;
	struct sieve_node *nodes;
	uint32_t nnodes;
	uint32_t *kids;
	uint32_t nkids;
	struct sieve_slist *slists;
	uint32_t nslists;
	struct sieve_str *strs;
	uint32_t nstrs;
	char *blob;
	uint32_t blob_len;
	uint32_t root0, nroot; /* the top-level commands: kids[root0 .. root0 + nroot) */
	uint32_t exts;         /* EXT_* bits required */
};

/* Extensions, as bits of sieve_program.exts. */
enum {
	EXT_FILEINTO = 1 << 0,
	EXT_REJECT = 1 << 1,
	EXT_EREJECT = 1 << 2,
	EXT_ENVELOPE = 1 << 3,
	EXT_ENCODED = 1 << 4,
	EXT_IMAP4FLAGS = 1 << 5,
	EXT_BODY = 1 << 6,
	EXT_VARIABLES = 1 << 7,
	EXT_VACATION = 1 << 8,
	EXT_VACATION_SECONDS = 1 << 9,
	EXT_RELATIONAL = 1 << 10,
	EXT_NUMERIC = 1 << 11,
	EXT_SUBADDRESS = 1 << 12,
	EXT_COPY = 1 << 13,
	EXT_MAILBOX = 1 << 14,
	EXT_DATE = 1 << 15,
	EXT_INDEX = 1 << 16,
	EXT_REGEX = 1 << 17,
	EXT_DUPLICATE = 1 << 18,
	EXT_SPAMTEST = 1 << 19,
	EXT_SPAMTESTPLUS = 1 << 20,
	EXT_INCLUDE = 1 << 21,
	EXT_COMPARATOR_OCTET = 1 << 22, /* always there; accepted in require */
	EXT_COMPARATOR_CASEMAP = 1 << 23,
};

/* Maps an extension name to its bit, 0 if unknown. */
uint32_t sieve_ext_bit(const char *name, size_t len);

/* A raw argument of a command as parsed, before binding. */
enum sieve_argtype { ARG_TAG = 1, ARG_NUMBER, ARG_STRLIST };
struct sieve_rawarg {
	enum sieve_argtype type;
	const char *tag; /* ARG_TAG: the name without ':' (NUL-terminated) */
	uint64_t number; /* ARG_NUMBER */
	uint32_t sl;     /* ARG_STRLIST: the list index (not + 1) */
	bool single;     /* ARG_STRLIST written as one string, not [ ] */
};

/* sieve_bind.c: binds raw arguments of command or test `name` into *node.
 * Returns 1, or -1 with *error_r (arena text, without the line prefix).
 * is_test says where it stood. ntests is how many tests the node has. prog is
 * the program being built (its strings and the extensions required so far);
 * error texts go in arena a. The parser passes both rather than itself, so the
 * binder never calls back into sieve_parse.c. */
int sieve_bind(struct arena *a, const struct sieve_program *prog, const char *name, bool is_test,
	       const struct sieve_rawarg *args, size_t nargs, size_t ntests, bool has_block, struct sieve_node *node,
	       const char **error_r);

/* sieve_match.c: refuses regular expressions whose matching work glibc does not
 * bound: back-references, and counted repetitions that expand to more than 10 000
 * elements ("(a{100}){100}"). Returns 0, or -1 with *why_r (static). */
int sieve_regex_check(const char *re, const char **why_r);

/* sieve_prog.c */
void sieve_limits_copy(struct sieve_limits *dst, const struct sieve_limits *src);

#endif
