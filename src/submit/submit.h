/* submit.h: the message pipeline (Postfix's cleanup(8) role): every message that
 * enters the server, from SMTP port 25, submission 465/587, the webmail's
 * EmailSubmission and the queue's bounces, goes through these stages, so that the
 * policy exists once:
 *
 *   origin      who hands the message in (struct submit_origin)
 *   sender      submit_sender(): the envelope sender is owned (authenticated) or not
 *               local (port 25); the declared size and the disk reserve; the
 *               account's hourly send limits (send_limit.h)
 *   recipients  submit_rcpt(): aliases, postmaster@ of every local domain, local vs
 *               remote, the relay rule, the quota pre-check with the declared size
 *   data        the From:/Sender: ownership, the size limit (one definition: the
 *               bytes the client sent, before trace headers, <= limits.message_size),
 *               trace headers (Received; Date and Message-ID when missing on
 *               submission), the disk reserve and quota of every local account
 *   hooks       an ordered list (struct submit_hook): each may add header fields,
 *               pick the local target mailbox, or refuse with a typed reason
 *   commit      remote recipients queued durably (queue_submit), then local ones
 *               stored (group commit); the result is known only once durable.
 *
 * Results are one enum (enum submit_result) that smtpd maps to SMTP replies and
 * webd to JMAP SetErrors, each in one table. Stages that read the store block: the
 * servers call submit_rcpt() and the data stage from the worker pool (the data
 * stage goes there by itself: submit_message_async). See docs/architecture.md,
 * "Message pipeline". Allowed includes: lib, mail, store, queue (same page, Layers). */
#ifndef POSTAMT_SUBMIT_H
#define POSTAMT_SUBMIT_H

#include "arena.h"
#include "buf.h"
#include "loop.h"
#include "pool.h"
#include "settings.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct queue;

/* Every outcome of a stage. Servers map each value in one table (smtpd:
 * submit_reply.c; webd: jmap_submit.c). */
enum submit_result {
	SUBMIT_OK = 1,
	SUBMIT_TEMPFAIL = -1,         /* a store or queue error: try again later */
	SUBMIT_FORBIDDEN_SENDER = -2, /* the envelope sender is not the user's */
	SUBMIT_FORBIDDEN_FROM = -3,   /* a From:/Sender: address is not the user's */
	SUBMIT_LOCAL_SENDER = -4,     /* port 25 without AUTH, sender in a local domain */
	SUBMIT_INVALID_RCPT = -5,     /* a recipient address that cannot be an address */
	SUBMIT_UNKNOWN_RCPT = -6,     /* a local domain, but nobody there by that name */
	SUBMIT_RELAY_DENIED = -7,     /* a remote recipient from an unauthenticated client */
	SUBMIT_NO_OUTBOUND = -8,      /* a remote recipient, but no outbound queue */
	SUBMIT_TOO_MANY_RCPTS = -9,   /* more than limits.recipients */
	SUBMIT_OVER_QUOTA = -10,      /* a local recipient's mailbox is full */
	SUBMIT_TOO_BIG = -11,         /* over limits.message_size */
	SUBMIT_POLICY = -12,          /* a hook refused the message */
	SUBMIT_DISK_FULL = -13,       /* the store's disk is above limits.disk_reserve */
	SUBMIT_NO_RCPTS = -14,        /* no recipient at all */
	SUBMIT_RATE_LIMITED = -15,    /* the account's limits.send_per_hour / recipients_per_hour */
	SUBMIT_POLICY_TEMP = -16,     /* a hook deferred the message: its policy would refuse it, but a
				       * check could not finish (DNS): try again later */
};
#define SUBMIT_RESULT_MIN SUBMIT_POLICY_TEMP

/* The stable name of a result ("over_quota"), for logs and tests. */
const char *submit_result_name(int result);

/* Where a message comes from. */
enum submit_kind {
	SUBMIT_KIND_MX,         /* SMTP port 25: mail for local domains */
	SUBMIT_KIND_SUBMISSION, /* SMTP 465/587: an authenticated user sends */
	SUBMIT_KIND_WEBMAIL,    /* JMAP EmailSubmission: an authenticated user sends */
	SUBMIT_KIND_BOUNCE,     /* a DSN the queue built (submit_bounce) */
	SUBMIT_KIND_SIEVE,      /* what a Sieve script sends (submit_resend): a redirect, a
	                         * vacation reply, a rejection notice */
};

struct submit_origin {
	enum submit_kind kind;
	const char *client_ip;   /* for Received */
	const char *helo;        /* the client's EHLO name; "webmail" for JMAP */
	const char *with;        /* Received "with" (RFC 3848): ESMTPSA, HTTPSA, ... */
	bool tls;
	const char *auth_user;   /* the authenticated address, NULL when none */
	int64_t auth_account;    /* its account id */
	double dnsbl_score;      /* port 25: the weights of the weighted blocklists that list the client */
	const char *dnsbl_zones; /* those zones, separated by spaces; NULL when none */
};

/* One recipient, resolved: the local accounts and remote addresses it reaches. */
struct submit_rcpt {
	const char *address;       /* canonical */
	const int64_t *accounts;
	size_t naccounts;
	const char *const *remote;
	size_t nremote;
	unsigned notify;           /* DSN NOTIFY bits (SMTP), 0 when not given */
	const char *orcpt;         /* DSN ORCPT, NULL when not given */
};

/* A header field of submit_hook_msg.message, as offsets into it. */
struct submit_span {
	size_t off, len;
};

/* One local copy of the message for one account, as a hook chose it (Sieve's keep
 * and fileinto). Strings and arrays in the message's arena or static. */
struct submit_copy {
	const char *mailbox;         /* NULL: INBOX */
	bool create;                 /* a missing mailbox is created (Sieve's :create); else
	                              * the copy goes to INBOX (event=hook_mailbox_missing) */
	unsigned int flags;          /* enum store_flag bits (store.h) */
	const char *const *keywords; /* NULL-terminated or NULL; the hooks' keywords are added */
};

/* The copies one local account gets instead of the default delivery. */
struct submit_plan {
	int64_t account;
	const struct submit_copy *copies;
	size_t ncopies; /* 0: nothing is stored for the account (discard, reject, redirect) */
};

/* A hook sees the message after the data stage and before the commit. It may:
 * append complete header fields ("Name: value\r\n") to `headers` (they go above the
 * trace headers, in hook order); remove header fields of `message` with
 * submit_hook_drop() (e.g. a forged Authentication-Results claiming our host name);
 * set keywords on the local copies with submit_hook_keyword();
 * set `mailbox` to the local target mailbox (a name in `arena`; it must exist in
 * every local account, else delivery falls back to INBOX, except Junk, which the
 * pipeline creates when an account lacks it); or refuse by returning SUBMIT_POLICY
 * (permanent), SUBMIT_POLICY_TEMP (the policy would refuse, but a check failed for
 * now) or SUBMIT_TEMPFAIL (a local failure) with *reason_r (static or in `arena`). Anything
 * else it must leave alone. */
struct submit_hook_msg {
	const struct submit_origin *origin;
	const char *sender;                /* "" for the null sender */
	const struct submit_rcpt *rcpts;
	size_t nrcpts;
	struct bytes message;              /* trace headers and the message, as committed */
	struct buf *headers;               /* header fields added by hooks */
	const char *mailbox;               /* NULL: INBOX */
	struct arena *arena;               /* lives until the message is committed */
	struct submit_span *drop;          /* fields of `message` to remove (submit_hook_drop) */
	size_t ndrop, drop_cap;
	const char *id;                    /* the message's id, as logged (e.g. rspamd's Queue-Id) */
	const char **keywords;             /* keywords of the stored copies (submit_hook_keyword) */
	size_t nkeywords, keywords_cap;
	struct submit_plan *plans;         /* per-account deliveries (submit_hook_deliver) */
	size_t nplans, plans_cap;
};

/* Replaces the default delivery of one local recipient account (m->mailbox, INBOX)
 * with n copies (n == 0: none). copies is copied (its strings are not: they must
 * live in m->arena or be static). A later call for the same account replaces the
 * earlier one. Returns 1, or -1 (nothing changed) when account is not one of the
 * message's local recipients. */
int submit_hook_deliver(struct submit_hook_msg *m, int64_t account, const struct submit_copy *copies, size_t n);

/* Sets an IMAP keyword (e.g. "$Junk", RFC 9051 §2.3.2; a string in m->arena or
 * static) on the local copies of the message. Setting one twice is harmless.
 * Returns 1, or -1 (nothing set) when kw is not a valid keyword atom or one of the
 * system flags (backslash names). */
int submit_hook_keyword(struct submit_hook_msg *m, const char *kw);

/* Removes one whole header field of m->message from the stored copy: off and len
 * cover its name through the line end of its last continuation line, inside the
 * header block. Every hook sees the message unchanged (the removal happens once all
 * hooks have run), so offsets are always into m->message; marking a field twice is
 * harmless. Returns 1, or -1 (nothing marked) when the span is not exactly whole
 * header fields of the header block: a hook removes fields, never parts of them. */
int submit_hook_drop(struct submit_hook_msg *m, size_t off, size_t len);

/* Runs on a pool thread (the queue's thread for bounces) and may block (DNS, a socket
 * to rspamd); several messages may be in hooks at once, so ctx must be thread-safe.
 * Returns SUBMIT_OK to go on, or SUBMIT_POLICY / SUBMIT_POLICY_TEMP /
 * SUBMIT_TEMPFAIL with *reason_r. */
typedef int submit_hook_fn(void *ctx, struct submit_hook_msg *m, const char **reason_r);

struct submit_hook {
	const char *name;  /* logged with a refusal: event=message_refused hook=<name> */
	submit_hook_fn *run;
	void *ctx;
};

/* The pipeline's services: one per server, shared by every loop and thread. */
struct submit;

/* queue may be NULL (remote recipients then get SUBMIT_NO_OUTBOUND); settings is
 * read at every message (reloads apply); pool runs the blocking stages of
 * submit_message_async (it may be NULL when only the blocking calls are used). */
struct submit *submit_new(struct store *store, struct queue *queue, struct settings_ref *settings,
			  struct pool *pool);
void submit_free(struct submit **sp);
/* Appends a hook (copied) to the ordered list. Only before the servers start. */
void submit_hook_add(struct submit *sp, const struct submit_hook *h);
/* A rewriter of local addresses that do not resolve (the Sieve hook's SRS reverse:
 * a bounce to "SRS0=...@local" goes back to the original sender): returns 1 with
 * *to_r (arena a), the address the mail is sent on to as a remote recipient, or 0. */
typedef int submit_rewrite_fn(void *ctx, struct arena *a, const char *address, const char **to_r);
/* Sets the rewriter (one; NULL for none). Only before the servers start. */
void submit_set_rewrite(struct submit *sp, submit_rewrite_fn *fn, void *ctx);

/* True when remote recipients can be queued. */
bool submit_has_outbound(const struct submit *sp);

/* Stage 2, the envelope sender: "" for the null sender. declared_size is SMTP's SIZE
 * (0: none). Reads the store (fast lookups; allowed on a loop). Returns SUBMIT_OK or
 * a refusal; *detail_r (arena) names the reason for the log. An authenticated
 * sender on submission or the webmail whose account already sent
 * limits.send_per_hour messages (or limits.recipients_per_hour recipients) in the
 * last hour gets SUBMIT_RATE_LIMITED, *detail_r naming the limit ("1000 messages
 * per hour"). */
int submit_sender(struct submit *sp, const struct submit_origin *o, struct arena *a, const char *sender,
		  uint64_t declared_size, const char **detail_r);

/* Stage 3, one recipient. address is as the client gave it ("postmaster" without a
 * domain means postmaster@ the first local domain); remote_only is true for an
 * address literal domain (never local). declared_size (0: none) is pre-checked
 * against the quota of every local account it reaches. accepted is the number of
 * recipients the transaction already holds: with them and this one, an account on
 * submission or the webmail must stay within limits.recipients_per_hour (else
 * SUBMIT_RATE_LIMITED, *error_r naming the limit; local recipients count too).
 * Blocks (SQL): call it from a pool thread. Returns SUBMIT_OK with *r filled in
 * (arena a), or a refusal. */
int submit_rcpt(struct submit *sp, const struct submit_origin *o, struct arena *a, const char *address,
		bool remote_only, uint64_t declared_size, size_t accepted, struct submit_rcpt *r, const char **error_r);

/* Subaddressing (RFC 5233): "user+detail@domain" without its detail, cut at the
 * first of the delimiter characters in the local part (sieve.subaddress_delimiter).
 * Returns 1 with *base_r (arena), or 0 when the address has no detail (or
 * delimiters is NULL or ""). Recipients that are unknown as given are resolved
 * again without the detail; the recipient's address keeps it (Sieve's envelope
 * "to"). */
int submit_subaddress_base(struct arena *a, const char *address, const char *delimiters, const char **base_r);

/* What the data stage and the commit need. */
struct submit_message {
	const struct submit_origin *origin;
	const char *sender;             /* "" for the null sender */
	const struct submit_rcpt *rcpts;/* resolved by submit_rcpt */
	size_t nrcpts;
	const char *envid;              /* DSN ENVID, NULL when none */
	int ret;                        /* enum smtp_ret */
	bool smtputf8;
	struct buf data;                /* the message as received; the pipeline takes it */
};

/* The end of a message. detail names the refusal (an address, a hook's reason;
 * valid only during the callback); id is the queue or message id. */
struct submit_outcome {
	int result;                  /* enum submit_result */
	const char *detail;
	char id[64];
	size_t nlocal, nremote, size;
};

/* Stages 4 to 6 without blocking the caller: checks, trace headers, hooks and the
 * remote queueing run on the pool, the local delivery in the store's group commit;
 * done runs on loop when all is durable (or refused). m->data is taken (emptied);
 * m's other fields are copied. */
typedef void submit_done_fn(void *arg, const struct submit_outcome *out);
void submit_message_async(struct submit *sp, struct submit_message *m, struct loop *loop, submit_done_fn *done,
			  void *arg);

/* Everything for a caller already on a pool thread (JMAP): the sender (envelope and
 * From:), each recipient address in turn, then stages 4 to 6, blocking. m->rcpts is
 * ignored: the addresses come in `addresses`. *out is filled in; out->detail is in
 * arena a. Returns out->result. */
int submit_send(struct submit *sp, struct submit_message *m, const char *const *addresses, size_t naddresses,
		struct arena *a, struct submit_outcome *out);

/* A bounce from the queue (queue_bounce_fn; ctx is the struct submit): from the null
 * sender to `to`, resolved like any recipient (remote ones are queued with
 * NOTIFY=NEVER: never a bounce of a bounce), with a Received header, through the
 * hooks, committed. No sender check, no size limit (a DSN's size follows the message
 * it returns). Blocks. Returns 1 when committed, 0 when dropped for good (an
 * unknown local address, a hook's refusal) and <0 to try again later, with
 * *error_r (static text). */
int submit_bounce(void *ctx, const char *to, const char *data, size_t len, const char **error_r);

/* A message a Sieve script sends (SUBMIT_KIND_SIEVE): a redirect with the original
 * (or SRS-rewritten) envelope sender, a vacation reply or a rejection notice from
 * the null sender (""). Like submit_bounce: no sender or From: check (the server
 * itself sends), `to` resolved like any recipient (remote ones queued), a Received
 * header, the hooks (so a local recipient's own script runs), the size limit.
 * Blocks (call it from a pool thread, e.g. inside a hook). Returns 1 when committed,
 * 0 when refused for good (unknown address, policy, too big) and <0 to try again
 * later, with *error_r (static text: submit_result_name). */
int submit_resend(struct submit *sp, const char *sender, const char *to, const char *data, size_t len,
		  const char **error_r);

#endif
