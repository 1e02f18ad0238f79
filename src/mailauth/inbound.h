/* inbound.h: the mail-authentication hook of the message pipeline for port 25
 * (struct submit_hook, submit.h; registered first, so its Authentication-Results
 * field is the first one of the stored copy).
 *
 * For every message from SMTP port 25 (SUBMIT_KIND_MX) it runs SPF (MAIL FROM, or
 * HELO for the null sender), DKIM (every signature), DMARC on the From: domain (with
 * several From: addresses: permerror in the header, and the strictest policy of
 * their domains applies, RFC 7489 §6.6.1) and iprev; writes "Authentication-Results: HOSTNAME;" with all four; removes incoming
 * Authentication-Results fields that claim HOSTNAME (RFC 8601 §5); and applies the
 * policy (mailauth_decide): DMARC reject -> SUBMIT_POLICY (550 5.7.1), quarantine ->
 * the Junk mailbox, a local From: domain failing DMARC -> reject whatever its record
 * says, a DNS failure where the policy would reject -> SUBMIT_POLICY_TEMP (451
 * 4.7.1), never a permanent refusal. mailauth.inbound = enforce | report (write the
 * field, refuse nothing) | off. Loopback clients are checked like any other.
 *
 * The hook blocks on DNS on a pool thread; all questions of one message together
 * take at most mailauth.timeout (mailauth_resolver.h). The decision is a pure
 * function, tested on its own. */
#ifndef POSTAMT_MAILAUTH_INBOUND_H
#define POSTAMT_MAILAUTH_INBOUND_H

#include "dmarc.h"
#include "mailauth.h"
#include "settings.h"
#include "submit.h"

#include <stdbool.h>

struct dns;

/* What the policy acts on. */
struct mailauth_facts {
	enum mailauth_result dmarc;    /* the DMARC result */
	enum dmarc_policy disposition; /* on fail: the record's policy after pct */
	bool local_from;               /* the From: domain (or its organizational domain) is one of ours */
	bool aligned;                  /* an SPF or DKIM pass aligns with From: (relaxed) */
	bool temp;                     /* SPF or a DKIM signature ended in temperror: a pass may be hidden */
};

enum mailauth_action {
	MAILAUTH_ACCEPT = 0,
	MAILAUTH_JUNK,   /* deliver to Junk */
	MAILAUTH_REJECT, /* SUBMIT_POLICY */
	MAILAUTH_DEFER,  /* SUBMIT_POLICY_TEMP: would reject, but a check failed for now */
};

/* The policy (enforce mode). Returns the action and *why_r (static text). Rules: a
 * local From: domain is ours, so mail that claims it from outside must align (any
 * record softer than reject, or none at all, is read as p=reject); otherwise the
 * DMARC disposition of a fail: reject, quarantine (Junk) or none. A refusal becomes
 * a deferral when a temporary error may hide a pass. */
enum mailauth_action mailauth_decide(const struct mailauth_facts *f, const char **why_r);

/* Is the domain one of ours? Blocks (the store); called on the pool thread. */
typedef bool mailauth_local_fn(void *ctx, const char *domain);

struct mailauth_inbound_env {
	struct dns *dns;               /* NULL: every lookup is a temporary failure */
	unsigned lookup_timeout_ms;    /* dns.timeout: one question; 0: MAILAUTH_DNS_TIMEOUT_MS */
	struct settings_ref *settings; /* hostname, mailauth.inbound, mailauth.timeout */
	mailauth_local_fn *is_local;
	void *local_ctx;
};

struct mailauth_inbound;

/* The hook's context (copies env). Free with mailauth_inbound_free after the pool
 * has stopped. */
struct mailauth_inbound *mailauth_inbound_new(const struct mailauth_inbound_env *env);
void mailauth_inbound_free(struct mailauth_inbound **ip);

/* The hook (submit_hook_fn): ctx is a struct mailauth_inbound. Thread-safe. */
int mailauth_inbound_run(void *ctx, struct submit_hook_msg *m, const char **reason_r);

#endif
