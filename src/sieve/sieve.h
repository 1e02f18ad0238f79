/* sieve.h: the Sieve mail filtering language (RFC 5228 and its extensions).
 *
 * A pure interpreter: sieve_compile() parses a script into a program (a flat tree
 * that sieve_program_save() turns into bytes the store keeps next to the text, and
 * sieve_program_load() reads back, checking every byte), sieve_run() evaluates a
 * program over one message and returns the actions it asks for. Nothing here
 * touches a socket, a file or the store: the caller supplies the message, the
 * envelope, the junk filter's score, the time, and callbacks for the few questions
 * only the store can answer (duplicate, mailboxexists, include), then executes the
 * actions (docs/sieve.md "## The language"; docs/architecture.md).
 *
 * Every resource a hostile script could exhaust is bounded by struct sieve_limits;
 * going over a limit is an error (compile time when it can be seen there, run time
 * otherwise), never a crash. A run error means: keep the message in INBOX, log.
 *
 * Header history (compatible changes only unless noted):
 * - v1: first version.
 * - v2: the interpreter behind it (v1 had a stand-in that kept every message);
 *   max_script_bytes defaults to 256 KiB (sieve.max_script_size's default); every
 *   string in a result is a copy in the run's arena, so the program may be freed
 *   before the actions are carried out. No signature changed. */
#ifndef POSTAMT_SIEVE_SIEVE_H
#define POSTAMT_SIEVE_SIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct buf;
struct mail_part;

/* Resource limits. sieve_limits_default() fills the defaults given in brackets. */
struct sieve_limits {
	size_t max_script_bytes;    /* bytes of a script's text [256 KiB] */
	unsigned max_nesting;       /* depth of nested blocks and tests [32] */
	unsigned max_actions;       /* actions one run may produce [32] */
	unsigned max_redirects;     /* redirect actions per run [4] */
	uint64_t max_cpu_steps;     /* interpreter steps per run: commands, tests, key
	                            * comparisons, bytes compared; [5 000 000] */
	size_t max_regex_bytes;     /* bytes of one regular expression [512] */
	unsigned max_regex_per_run; /* distinct regexes compiled in one run [64] */
	size_t max_variable_bytes;  /* bytes of one variable's value [4096] */
	unsigned max_variables;     /* distinct variables of a script [256] */
	unsigned max_include_depth; /* nested includes [5] */
	unsigned max_includes;      /* scripts included in one run [16] */
	size_t max_body_bytes;      /* decoded body bytes the body test looks at [1 MiB] */
};

/* Fills *l_r with the defaults above. */
void sieve_limits_default(struct sieve_limits *l_r);

/* The extensions this interpreter implements, space-separated, for ManageSieve's
 * "SIEVE" capability and JMAP's sieveExtensions. A static string. */
const char *sieve_extensions(void);

struct sieve_program;

/* Compiles a script. Returns 1 and a new program in *prog_r (free it with
 * sieve_program_free), or -1 with *error_r = "line N: what is wrong" allocated in
 * `a` (the text CHECKSCRIPT and SieveScript/validate show). text need not be
 * NUL-terminated. limits may be NULL for the defaults; the program keeps a copy. */
int sieve_compile(const char *text, size_t len, const struct sieve_limits *limits, struct arena *a,
		  struct sieve_program **prog_r, const char **error_r);

/* Frees a program; NULL-safe; sets *progp to NULL. */
void sieve_program_free(struct sieve_program **progp);

/* Appends the program's compiled form (a versioned binary, about three times the
 * script's size: 2.2 KB for a 650-byte script) to out. */
void sieve_program_save(const struct sieve_program *prog, struct buf *out);

/* Loads a compiled form written by sieve_program_save. Any bytes are safe: returns
 * 1 and a program in *prog_r, or -1 and *error_r (a static string) when the bytes
 * are not a valid program of this version (the caller then compiles the text
 * again). limits as for sieve_compile. */
int sieve_program_load(const void *data, size_t len, const struct sieve_limits *limits, struct sieve_program **prog_r,
		       const char **error_r);

/* The message and its context for one run. Strings are NUL-terminated and owned by
 * the caller for the duration of sieve_run. */
struct sieve_message {
	const char *data; /* the whole message (header, blank line, body) */
	size_t len;
	/* Optional: the message's part table (mail_parse's) if the caller has it;
	 * NULL makes sieve_run parse the message itself when a body test needs it. */
	const struct mail_part *parts;
	size_t nparts;

	const char *env_from;             /* MAIL FROM address without <>; "" for the null sender */
	const char *env_to;               /* the original recipient, with its +detail */
	const char *auth;                 /* the authenticated submitter, or NULL (envelope "auth") */
	const char *subaddress_delimiter; /* characters separating user and detail; NULL = "+" */

	/* spamtest (RFC 3685): the junk filter's score 0..100 (percent spam), or -1
	 * when the message was not classified (spamtest then sees "0"). */
	int spam_percent;

	int64_t now;    /* the delivery time (Unix seconds), for currentdate */
	int tz_minutes; /* the local zone's offset from UTC in minutes, for date/currentdate */

	/* duplicate (RFC 7352): returns 1 if the id was seen under handle within
	 * `seconds`, 0 if not, <0 on error (the test is then false). NULL: never seen.
	 * Recording happens after the run: see struct sieve_result's dups. */
	int (*duplicate)(void *ctx, const char *handle, const char *id, uint64_t seconds);
	/* mailboxexists (RFC 5490): 1 if the account has the mailbox, 0 if not.
	 * NULL: only "INBOX" exists. */
	int (*mailbox_exists)(void *ctx, const char *mailbox);
	/* include (RFC 6609): sets *text_r and *len_r to the named script's text (owned by
	 * the caller, valid during the run) and returns 1; 0 if there is no such
	 * script; <0 on error. global = :global, else :personal. NULL: every include
	 * fails as a missing script. */
	int (*include)(void *ctx, bool global, const char *name, const char **text_r, size_t *len_r);
	void *ctx;
};

enum sieve_action_type {
	SIEVE_ACT_KEEP = 1, /* explicit keep: store in INBOX with flags */
	SIEVE_ACT_FILEINTO, /* store in mailbox (create it if create) with flags */
	SIEVE_ACT_REDIRECT, /* send to address */
	SIEVE_ACT_REJECT,   /* refuse with reason (RFC 5429: an MDN-style refusal) */
	SIEVE_ACT_EREJECT,  /* refuse at SMTP time with reason */
	SIEVE_ACT_DISCARD,  /* drop silently (only ever listed once, cancels implicit keep) */
	SIEVE_ACT_VACATION, /* an auto-reply, subject to the caller's RFC 3834 checks */
};

/* One action. Fields not used by a type are NULL/0. */
struct sieve_action {
	enum sieve_action_type type;
	const char *mailbox; /* FILEINTO: the target mailbox (UTF-8, "/" not special) */
	bool create;         /* FILEINTO :create */
	bool copy;           /* FILEINTO/REDIRECT :copy (informational: never cancels keep) */
	const char **flags;  /* KEEP/FILEINTO: IMAP flags and keywords ("\\Seen", "$Label1") */
	size_t nflags;
	bool flags_given;    /* KEEP/FILEINTO had :flags (else the internal flag variable) */
	const char *address; /* REDIRECT: the address */
	const char *reason;  /* REJECT/EREJECT: the reason; VACATION: the body */
	/* VACATION (RFC 5230, 6131) */
	const char *from;       /* :from or NULL */
	const char *subject;    /* :subject or NULL (the caller uses "Auto: " + Subject) */
	const char *handle;     /* :handle, or the default one derived from the arguments */
	const char **addresses; /* :addresses */
	size_t naddresses;
	bool mime;          /* :mime: reason is a MIME entity */
	uint64_t seconds;   /* the period in seconds (:days * 86400 or :seconds) */
	bool seconds_given; /* :seconds was used (else :days or the default 7 days) */
};

/* A duplicate id to record once the message is delivered (RFC 7352 §3). */
struct sieve_dup_mark {
	const char *handle; /* "" when :handle was not given */
	const char *id;
	uint64_t seconds;
	bool last; /* :last: refresh the expiry on every check */
};

/* What a run asks for. All memory is in the arena given to sieve_run. */
struct sieve_result {
	struct sieve_action *actions;
	size_t nactions;
	bool implicit_keep;      /* also store in INBOX (no action cancelled it) */
	const char **keep_flags; /* flags for the implicit keep (imap4flags' internal variable) */
	size_t nkeep_flags;
	struct sieve_dup_mark *dups;
	size_t ndups;
	uint64_t steps; /* interpreter steps used (for logs and tests) */
};

/* Runs a program over a message. Returns 1 and *r (memory in a, independent of
 * prog), or -1 and *error_r (in a) on a run-time error or a limit hit: the caller
 * then ignores r and keeps the message in INBOX. Thread-safe: a program may be run
 * by several threads at once (it is only read). Recording duplicate ids is the
 * caller's, after delivery (r->dups). A vacation action's seconds is the script's
 * request: clamping it to the configured range is the caller's. */
int sieve_run(const struct sieve_program *prog, const struct sieve_message *msg, struct arena *a,
	      struct sieve_result *r, const char **error_r);

/* Appends the result in a stable text form, one action per line, for
 * `postamt sieve test` and tests:
 *   keep [flags: \Seen $x]         (implicit or explicit keep into INBOX)
 *   fileinto "Box" [create] [copy] [flags: ...]
 *   redirect "addr" [copy]
 *   reject "reason" / ereject "reason" / discard
 *   vacation from="..." subject="..." handle="..." seconds=N mime=0|1 addresses=a,b
 *     reason="..." (one line; \n and " escaped). */
void sieve_result_format(const struct sieve_result *r, struct buf *out);

#endif
