/* submit.c: the pipeline's services and its first stages: the envelope sender and
 * the recipients (submit.h; the result names are submit_result.c's).
 *
 * The sender rule: an authenticated sender must own the envelope address (its
 * login address or an alias that reaches its account, store_sender_owned); the null
 * sender is not theirs to use. Without AUTH (port 25) a sender in a local domain is
 * refused: local users send through submission (Postfix's
 * reject_sender_login_mismatch). The recipient rule: the store resolves aliases;
 * postmaster@ every local domain is accepted (RFC 5321 §4.5.1), and without an
 * account or alias of that name the domain's first account gets the mail; a
 * non-local domain is relaying, for authenticated senders only; a local account
 * already over quota (with the declared SIZE) refuses the recipient.
 *
 * The hourly send limits (send_limit.h) are checked at both stages for accounts
 * sending on submission or the webmail: at MAIL whether one more message (with one
 * recipient) fits, at RCPT whether the transaction's recipients and this one do,
 * so a client learns early; the data stage counts the message (submit_data.c).
 * Local recipients count like remote ones: a stolen password used to spam the
 * server's own users is abuse too. */
#include "submit_int.h"

#include "log.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct submit *submit_new(struct store *store, struct queue *queue, struct settings_ref *settings, struct pool *pool)
{
	struct submit *sp = xcalloc(1, sizeof(*sp));
	sp->store = store;
	sp->queue = queue;
	sp->settings = settings;
	sp->pool = pool;
	sp->limits = send_limit_new();
	return sp;
}

void submit_free(struct submit **spp)
{
	struct submit *sp = *spp;
	if (sp == NULL)
		return;
	free(sp->hooks);
	send_limit_free(&sp->limits);
	free(sp);
	*spp = NULL;
}

void submit_hook_add(struct submit *sp, const struct submit_hook *h)
{
	sp->hooks = xrealloc(sp->hooks, (sp->nhooks + 1) * sizeof(*sp->hooks));
	sp->hooks[sp->nhooks++] = *h;
}

void submit_set_rewrite(struct submit *sp, submit_rewrite_fn *fn, void *ctx)
{
	sp->rewrite = fn;
	sp->rewrite_ctx = ctx;
}

bool submit_has_outbound(const struct submit *sp)
{
	return sp->queue != NULL;
}

/* ------------------------------------------------------------------ send limits */

bool submit_limited(const struct submit_origin *o)
{
	return o->auth_user != NULL && (o->kind == SUBMIT_KIND_SUBMISSION || o->kind == SUBMIT_KIND_WEBMAIL);
}

int64_t submit_limit_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

struct send_limit_caps submit_limit_caps(struct submit *sp)
{
	const struct settings *s = settings_get(sp->settings);
	return (struct send_limit_caps){ s->send_per_hour, s->recipients_per_hour };
}

const char *submit_limit_refused(const struct submit_origin *o, const struct send_limit_refusal *r, const char *stage,
				 struct arena *a)
{
	if (r->first)
		log_warn(
			"event=send_limit account=%s kind=%s limit=%" PRIu64 " stage=%s note=\"the account reached its "
			"hourly send limit; if it does not usually send this much, its password may be stolen; further "
			"refusals within the hour are logged at level info\"",
			o->auth_user, r->kind, r->limit, stage);
	else
		log_info("event=send_limit account=%s kind=%s limit=%" PRIu64 " stage=%s", o->auth_user, r->kind,
			 r->limit, stage);
	return arena_printf(a, "%" PRIu64 " %s per hour", r->limit, r->kind);
}

/* Whether `recipients` more recipients (and one message) fit the account's limits. */
static int limit_check(struct submit *sp, const struct submit_origin *o, struct arena *a, uint64_t recipients,
		       const char *stage, const char **detail_r)
{
	if (!submit_limited(o))
		return SUBMIT_OK;
	struct send_limit_caps caps = submit_limit_caps(sp);
	struct send_limit_refusal r;
	if (send_limit_check(sp->limits, o->auth_account, &caps, 1, recipients, submit_limit_now(), &r) > 0)
		return SUBMIT_OK;
	*detail_r = submit_limit_refused(o, &r, stage, a);
	return SUBMIT_RATE_LIMITED;
}

/* ------------------------------------------------------------------ the sender */

static const char *domain_of(const char *address)
{
	const char *at = strrchr(address, '@');
	return at != NULL ? at + 1 : "";
}

int submit_sender(struct submit *sp, const struct submit_origin *o, struct arena *a, const char *sender,
		  uint64_t declared_size, const char **detail_r)
{
	const struct settings *s = settings_get(sp->settings);
	*detail_r = NULL;
	if (declared_size > s->message_max)
		return SUBMIT_TOO_BIG;
	const char *error;
	if (store_space_check(sp->store, declared_size, &error) < 0) {
		*detail_r = "disk_reserve";
		return SUBMIT_DISK_FULL;
	}
	if (o->kind == SUBMIT_KIND_SIEVE)
		return SUBMIT_OK;   /* the server sends for a script: the sender is the original one or SRS */
	if (o->auth_user != NULL) { /* on every port: an authenticated sender is checked */
		if (sender[0] == '\0' || !store_sender_owned(sp->store, a, o->auth_account, o->auth_user, sender)) {
			*detail_r = sender;
			return SUBMIT_FORBIDDEN_SENDER;
		}
		return limit_check(sp, o, a, 1, "mail", detail_r);
	}
	if (sender[0] == '\0' || domain_of(sender)[0] == '[')
		return SUBMIT_OK; /* the null sender; an address literal is never local */
	int local = store_domain_exists(sp->store, domain_of(sender), &error);
	if (local < 0) {
		*detail_r = error;
		return SUBMIT_TEMPFAIL;
	}
	if (local > 0) {
		*detail_r = sender;
		return SUBMIT_LOCAL_SENDER;
	}
	return SUBMIT_OK;
}

/* ------------------------------------------------------------------ recipients */

/* "postmaster" without a domain: postmaster@ the first local domain, or NULL. */
static const char *postmaster_address(struct submit *sp, struct arena *a)
{
	const char **domains;
	const char *error;
	if (store_domain_list(sp->store, a, &domains, &error) < 0 || domains[0] == NULL)
		return NULL;
	return arena_printf(a, "postmaster@%s", domains[0]);
}

int submit_subaddress_base(struct arena *a, const char *address, const char *delimiters, const char **base_r)
{
	const char *at = strrchr(address, '@');
	if (delimiters == NULL || delimiters[0] == '\0' || at == NULL)
		return 0;
	size_t cut = strcspn(address, delimiters);
	if (cut == 0 || address + cut >= at)
		return 0; /* no delimiter in the local part, or nothing before it */
	*base_r = arena_printf(a, "%.*s%s", (int)cut, address, at);
	return 1;
}

/* RFC 5321 §4.5.1: postmaster@ every local domain must be accepted. Without an
 * account or alias of that name, the domain's first account gets the mail.
 * Returns 1 with *r, 0 when the domain has no account, <0 on a store error. */
static int postmaster_fallback(struct submit *sp, struct arena *a, const char *domain, struct store_rcpt *r,
			       const char **error_r)
{
	struct store_account *accts;
	size_t n;
	if (store_account_list(sp->store, a, &accts, &n, error_r) < 0)
		return -1;
	const struct store_account *first = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(domain_of(accts[i].address), domain) == 0 && (first == NULL || accts[i].id < first->id))
			first = &accts[i];
	}
	if (first == NULL)
		return 0;
	int64_t *ids = arena_alloc(a, sizeof(*ids));
	ids[0] = first->id;
	*r = (struct store_rcpt){ .accounts = ids, .naccounts = 1 };
	return 1;
}

static bool is_postmaster(const char *address)
{
	const char *at = strrchr(address, '@');
	return at != NULL && (size_t)(at - address) == 10 && strncasecmp(address, "postmaster", 10) == 0;
}

/* Resolves address into *r: 1 local (accounts and maybe forwards), STORE_ENOTFOUND
 * not a local domain, 0 unknown, <0 error. */
static int resolve(struct submit *sp, struct arena *a, const char *address, struct store_rcpt *r, const char **error_r)
{
	int res = store_resolve(sp->store, a, address, r, error_r);
	if (res == STORE_EINVAL)
		res = 0; /* a local domain, but no address the store could hold: unknown */
	const char *base;
	if (res == 0 &&
	    submit_subaddress_base(a, address, settings_get(sp->settings)->subaddress_delimiter, &base) > 0) {
		res = store_resolve(sp->store, a, base, r, error_r);
		if (res == STORE_EINVAL)
			res = 0;
	}
	if (res == 0 && is_postmaster(address))
		res = postmaster_fallback(sp, a, domain_of(address), r, error_r);
	return res;
}

static int quota_precheck(struct submit *sp, const struct store_rcpt *r, uint64_t size, const char **error_r)
{
	for (size_t i = 0; i < r->naccounts; i++) {
		int q = store_quota_check(sp->store, r->accounts[i], size, error_r);
		if (q == STORE_EOVERQUOTA)
			return SUBMIT_OVER_QUOTA;
		if (q < 0)
			return SUBMIT_TEMPFAIL;
	}
	return SUBMIT_OK;
}

static int rcpt_stage(struct submit *sp, const struct submit_origin *o, struct arena *a, const char *address,
		      bool remote_only, uint64_t declared_size, size_t accepted, struct submit_rcpt *rc,
		      const char **error_r)
{
	memset(rc, 0, sizeof(*rc));
	*error_r = NULL;
	int lim = limit_check(sp, o, a, (uint64_t)accepted + 1, "rcpt", error_r);
	if (lim != SUBMIT_OK)
		return lim;
	if (strcasecmp(address, "postmaster") == 0) {
		address = postmaster_address(sp, a);
		if (address == NULL) {
			*error_r = "no local domain";
			return SUBMIT_UNKNOWN_RCPT;
		}
	}
	const char *norm = address;
	if (!remote_only && store_address_normalize(a, address, &norm, error_r) < 0)
		return SUBMIT_INVALID_RCPT;
	struct store_rcpt r = { 0 };
	int res = remote_only ? STORE_ENOTFOUND : resolve(sp, a, norm, &r, error_r);
	rc->address = norm;
	if (res == STORE_ENOTFOUND) {
		if (o->auth_user == NULL && o->kind != SUBMIT_KIND_BOUNCE && o->kind != SUBMIT_KIND_SIEVE)
			return SUBMIT_RELAY_DENIED;
		if (sp->queue == NULL)
			return SUBMIT_NO_OUTBOUND;
		const char **remote = arena_alloc(a, sizeof(*remote));
		remote[0] = norm;
		rc->remote = remote;
		rc->nremote = 1;
		return SUBMIT_OK;
	}
	const char *to;
	if (res == 0 && sp->rewrite != NULL && sp->queue != NULL && sp->rewrite(sp->rewrite_ctx, a, norm, &to) > 0) {
		/* e.g. a bounce to an SRS address of a redirect: on to the original sender */
		log_info("event=rcpt_rewritten rcpt=%s to=%s", LOG_Q(norm), LOG_Q(to));
		const char **remote = arena_alloc(a, sizeof(*remote));
		remote[0] = to;
		rc->remote = remote;
		rc->nremote = 1;
		return SUBMIT_OK;
	}
	if (res == 0)
		return SUBMIT_UNKNOWN_RCPT;
	if (res < 0)
		return SUBMIT_TEMPFAIL;
	if (r.naccounts > 0 && store_deliver_ready(sp->store, error_r) < 0)
		return SUBMIT_TEMPFAIL; /* refused here, not after the remote part was queued */
	int q = quota_precheck(sp, &r, declared_size, error_r);
	if (q < 0)
		return q;
	if (r.nremote > 0 && sp->queue == NULL)
		return SUBMIT_NO_OUTBOUND;
	rc->accounts = r.accounts;
	rc->naccounts = r.naccounts;
	rc->remote = (const char *const *)r.remote;
	rc->nremote = r.nremote;
	return SUBMIT_OK;
}

int submit_rcpt(struct submit *sp, const struct submit_origin *o, struct arena *a, const char *address,
		bool remote_only, uint64_t declared_size, size_t accepted, struct submit_rcpt *rc, const char **error_r)
{
	int r = rcpt_stage(sp, o, a, address, remote_only, declared_size, accepted, rc, error_r);
	submit_count_rcpt(o, NULL, address, r);
	return r;
}
