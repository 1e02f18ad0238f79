/* cmd_rcpt.c: RCPT TO (RFC 5321 §4.1.1.3).
 *   rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path )
 *          [SP Rcpt-parameters] CRLF
 * Check: a transaction is open (503), the recipient limit (452 4.5.3, RFC 5321
 * §4.5.3.1.10), the syntax, then the store: a local address that does not exist is
 * 550 5.1.1; a non-local domain is relaying, allowed only to authenticated users
 * (554 5.7.1 otherwise); a local account over its quota (with the SIZE the client
 * declared) is smtp_quota_full's 452 4.2.2 on port 25, 552 5.2.2 on submission.
 * Lookups go to the command's arena; the recipient kept is copied into the
 * transaction's. Proceed: add the recipient. */
#include "session.h"

#include "log.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

/* Where "<Postmaster>" without a domain goes: postmaster@ the first local domain. */
static const char *postmaster_address(struct smtp_session *ss)
{
	const char **domains;
	const char *error;
	if (store_domain_list(ss->env->store, ss->cmd_arena, &domains, &error) < 0 || domains[0] == NULL)
		return NULL;
	return arena_printf(ss->cmd_arena, "postmaster@%s", domains[0]);
}

/* RFC 5321 §4.5.1: postmaster@ every local domain must be accepted. Without an
 * account or alias of that name, the domain's first account gets the mail. */
static int postmaster_fallback(struct smtp_session *ss, struct bytes domain, struct store_rcpt *r)
{
	struct store_account *accts;
	size_t n;
	const char *error;
	if (store_account_list(ss->env->store, ss->cmd_arena, &accts, &n, &error) < 0)
		return -1;
	const struct store_account *first = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *at = strrchr(accts[i].address, '@');
		if (at != NULL && bytes_ieq(domain, at + 1) && (first == NULL || accts[i].id < first->id))
			first = &accts[i];
	}
	if (first == NULL)
		return 0;
	int64_t *ids = arena_alloc(ss->cmd_arena, sizeof(*ids));
	ids[0] = first->id;
	*r = (struct store_rcpt){ .accounts = ids, .naccounts = 1 };
	return 1;
}

static void add_rcpt(struct smtp_session *ss, const char *address, const struct store_rcpt *r,
		     const struct smtp_rcpt_args *args, bool remote_self)
{
	struct smtp_txn *t = &ss->txn;
	if (t->nrcpts == t->rcpts_cap) {
		size_t cap = t->rcpts_cap ? t->rcpts_cap * 2 : 8;
		struct smtp_rcpt *n = arena_alloc(ss->txn_arena, cap * sizeof(*n));
		if (t->nrcpts > 0)
			memcpy(n, t->rcpts, t->nrcpts * sizeof(*n));
		t->rcpts = n;
		t->rcpts_cap = cap;
	}
	struct smtp_rcpt *rc = &t->rcpts[t->nrcpts++];
	memset(rc, 0, sizeof(*rc));
	rc->address = arena_strdup(ss->txn_arena, address);
	if (remote_self) {
		const char **remote = arena_alloc(ss->txn_arena, sizeof(*remote));
		remote[0] = rc->address;
		rc->remote = remote;
		rc->nremote = 1;
	} else {
		/* the lookup was in the command's arena: copy what the transaction keeps */
		int64_t *accounts = arena_alloc(ss->txn_arena, (r->naccounts + 1) * sizeof(*accounts));
		if (r->naccounts > 0)
			memcpy(accounts, r->accounts, r->naccounts * sizeof(*accounts));
		const char **remote = arena_alloc(ss->txn_arena, (r->nremote + 1) * sizeof(*remote));
		for (size_t i = 0; i < r->nremote; i++)
			remote[i] = arena_strdup(ss->txn_arena, r->remote[i]);
		rc->accounts = accounts;
		rc->naccounts = r->naccounts;
		rc->remote = remote;
		rc->nremote = r->nremote;
	}
	if (rc->nremote > 0)
		t->any_remote = true;
	rc->notify = args->notify;
	if (args->orcpt.len > 0)
		rc->orcpt = arena_strndup(ss->txn_arena, args->orcpt.p, args->orcpt.len);
}

void cmd_rcpt(struct smtp_session *ss, const struct smtp_command *cmd)
{
	struct smtp_txn *t = &ss->txn;
	if (!t->active) {
		smtp_reply(ss, 503, "5.5.1", "Need MAIL before RCPT");
		smtp_error(ss);
		return;
	}
	if (t->nrcpts >= ss->s->recipients_max) {
		smtp_reply(ss, 452, "4.5.3", "Too many recipients");
		return;
	}
	struct smtp_rcpt_args args;
	struct smtp_error err;
	if (smtp_parse_rcpt(cmd->arg, t->mail.smtputf8, &args, &err) < 0) {
		smtp_reply(ss, err.code, err.enh, "%s", err.text);
		smtp_error(ss);
		return;
	}
	const char *address = args.postmaster ? postmaster_address(ss) : args.to.mailbox;
	if (address == NULL) {
		smtp_reply(ss, 550, "5.1.1", "No postmaster here");
		return;
	}
	struct store_rcpt r;
	const char *error;
	int res = args.to.domain_literal ? STORE_ENOTFOUND
					 : store_resolve(ss->env->store, ss->cmd_arena, address, &r, &error);
	if (res == STORE_EINVAL)
		res = 0; /* a local domain, but no address the store could hold: unknown */
	if (res == 0 && bytes_ieq(args.to.local, "postmaster")) {
		const char *at = strrchr(address, '@');
		res = postmaster_fallback(ss, BYTES_STR(at + 1), &r);
	}
	bool remote = false;
	if (res == STORE_ENOTFOUND) {
		if (ss->auth_user == NULL) {
			conn_log(ss->c, LOG_WARN, "event=relay_denied from=<%s> to=<%s>", t->mail.from.mailbox, address);
			smtp_reply(ss, 554, "5.7.1", "<%s>: Relay access denied", address);
			smtp_error(ss);
			return;
		}
		remote = true;
	} else if (res == 0) {
		smtp_reply(ss, 550, "5.1.1", "<%s>: Recipient address rejected: User unknown", address);
		smtp_error(ss);
		return;
	} else if (res < 0) {
		conn_log(ss->c, LOG_ERROR, "event=store_error op=resolve error=%s", LOG_Q(error));
		smtp_reply(ss, 451, "4.3.0", "Temporary lookup failure");
		return;
	}
	if (remote && ss->env->submit == NULL) {
		smtp_reply(ss, 451, "4.3.0", "Outbound delivery is not available");
		return;
	}
	if (!remote) {
		uint64_t size = t->mail.has_size ? t->mail.size : 0;
		for (size_t i = 0; i < r.naccounts; i++) {
			int q = store_quota_check(ss->env->store, r.accounts[i], size, &error);
			if (q == STORE_EOVERQUOTA) {
				char text[SMTP_MAILBOX_MAX + 32];
				snprintf(text, sizeof(text), "<%s>: Mailbox full", address);
				smtp_quota_full(ss, address, text);
				return;
			}
			if (q < 0) {
				smtp_reply(ss, 451, "4.3.0", "Temporary lookup failure");
				return;
			}
		}
		if (r.nremote > 0 && ss->env->submit == NULL) {
			smtp_reply(ss, 451, "4.3.0", "Outbound delivery is not available");
			return;
		}
	}
	add_rcpt(ss, address, &r, &args, remote);
	smtp_reply(ss, 250, "2.1.5", "Ok");
}
