/* inbound.c: the port-25 mail-authentication hook (inbound.h).
 *
 * One message: SPF, DKIM, the From: domain, DMARC, iprev, in that order, all over
 * one mailauth_resolver with the message's DNS budget; then the
 * Authentication-Results field (authres.h), the removal of forged ones, the policy
 * (inbound_policy.c) and one log line with every verdict and the time taken. */
#include "inbound.h"

#include "authres.h"
#include "dkim.h"
#include "iprev.h"
#include "log.h"
#include "mail.h"
#include "mailauth_resolver.h"
#include "psl.h"
#include "spf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct mailauth_inbound {
	struct mailauth_inbound_env env;
};

struct mailauth_inbound *mailauth_inbound_new(const struct mailauth_inbound_env *env)
{
	struct mailauth_inbound *in = xcalloc(1, sizeof(*in));
	in->env = *env;
	return in;
}

void mailauth_inbound_free(struct mailauth_inbound **ip)
{
	free(*ip);
	*ip = NULL;
}

/* The one From: domain: 1 with *domain_r (arena), 0 when there are several From:
 * fields or addresses, none, or one without a domain (RFC 7489 §6.6.1). */
static int from_domain(struct submit_hook_msg *m, const char **domain_r, const char **why_r)
{
	const char **addrs;
	size_t n;
	int fields = mail_header_mailboxes(m->arena, m->message.p, m->message.len, "From", &addrs, &n);
	if (fields != 1 || n != 1) {
		*why_r = fields == 0 ? "no From: field" : fields > 1 ? "several From: fields"
			 : n != 1 ? "not exactly one From: address" : "unreadable From: field";
		return 0;
	}
	const char *at = strrchr(addrs[0], '@');
	if (at == NULL || at[1] == '\0') {
		*why_r = "From: address without a domain";
		return 0;
	}
	*domain_r = at + 1;
	return 1;
}

/* The From: domain or its organizational domain is one of ours (compared in lower
 * case: "EXAMPLE.test" must not slip past). */
static bool is_local(const struct mailauth_inbound *in, struct arena *a, const char *from)
{
	if (in->env.is_local == NULL || from == NULL)
		return false;
	char *domain = arena_strdup(a, from);
	for (char *p = domain; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	}
	const char *org = psl_org_domain(domain);
	return in->env.is_local(in->env.local_ctx, domain) ||
	       (strcmp(org, domain) != 0 && in->env.is_local(in->env.local_ctx, org));
}

/* An IPv4-mapped IPv6 address is its IPv4 address for PTR and A questions. */
static void unmap(struct mailauth_addr *ip)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (ip->family == AF_INET6 && memcmp(ip->bytes, prefix, 12) == 0) {
		memmove(ip->bytes, ip->bytes + 12, 4);
		memset(ip->bytes + 4, 0, 12);
		ip->family = AF_INET;
	}
}

static const char *action_name(enum mailauth_action a)
{
	static const char *const names[] = { "accept", "junk", "reject", "defer" };
	return names[a];
}

int mailauth_inbound_run(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	struct mailauth_inbound *in = ctx;
	const struct settings *s = settings_get(in->env.settings);
	if (m->origin->kind != SUBMIT_KIND_MX || s->mailauth_inbound == SETTINGS_MAILAUTH_OFF)
		return SUBMIT_OK;
	struct arena *a = m->arena;
	uint64_t start = mailauth_now_ms();
	struct mailauth_resolver res;
	mailauth_resolver_init(&res, in->env.dns, in->env.lookup_timeout_ms, s->mailauth_timeout_ms);
	struct mailauth_dns dns = mailauth_resolver_dns(&res);
	const char *client = m->origin->client_ip ? m->origin->client_ip : "";
	struct mailauth_addr ip;
	bool have_ip = mailauth_addr_parse(client, &ip) > 0;
	if (have_ip)
		unmap(&ip);

	/* SPF: MAIL FROM, or postmaster@HELO for the null sender */
	struct spf_verdict spf = { .result = MAILAUTH_NONE, .domain = "", .problem = "no client address" };
	if (have_ip) {
		struct spf_limits lim = { s->spf_max_dns_lookups, s->spf_max_void_lookups, s->spf_max_mx_names,
					  s->spf_max_ptr_names };
		struct spf_request req = { .ip = ip, .mail_from = m->sender, .helo = m->origin->helo ? m->origin->helo : "",
					   .receiver = s->hostname, .now = (int64_t)time(NULL),
					   .limits = lim.dns_mechanisms ? &lim : NULL };
		spf_check(&dns, &req, a, &spf);
	}

	/* DKIM: every signature */
	struct dkim_verdict *dk = NULL;
	size_t ndk = 0;
	struct dkim_verify_opts dko = { s->dkim_max_signatures, s->dkim_clock_skew };
	dkim_verify_opts(&dns, &dko, m->message.p, m->message.len, time(NULL), a, &dk, &ndk);

	/* DMARC on the one From: domain */
	const char *from = NULL, *from_why = NULL;
	struct dmarc_outcome dmarc = { .result = MAILAUTH_PERMERROR };
	struct dmarc_dkim *dd = arena_alloc(a, (ndk + 1) * sizeof(*dd));
	struct authres_dkim *ad = arena_alloc(a, (ndk + 1) * sizeof(*ad));
	bool temp = spf.result == MAILAUTH_TEMPERROR;
	for (size_t i = 0; i < ndk; i++) {
		dd[i] = (struct dmarc_dkim){ dk[i].result, dk[i].domain };
		ad[i] = (struct authres_dkim){ dk[i].result, dk[i].domain, dk[i].selector, dk[i].b_prefix,
					       dk[i].result == MAILAUTH_PASS ? NULL : dk[i].reason };
		temp |= dk[i].result == MAILAUTH_TEMPERROR;
	}
	if (from_domain(m, &from, &from_why) > 0) {
		struct dmarc_input din = { .from_domain = from, .spf = spf.result, .spf_domain = spf.domain,
					   .dkim = dd, .ndkim = ndk, .sample = arc4random_uniform(100) };
		dmarc_check(&dns, &din, a, &dmarc);
	} else {
		dmarc.reason = from_why;
	}
	bool aligned = dmarc.spf_aligned || dmarc.dkim_aligned;
	if (from != NULL && !aligned) { /* no record: alignment still tells a local domain's own mail */
		aligned = spf.result == MAILAUTH_PASS && dmarc_aligned(spf.domain, from, false);
		for (size_t i = 0; i < ndk && !aligned; i++)
			aligned = dk[i].result == MAILAUTH_PASS && dmarc_aligned(dk[i].domain, from, false);
	}

	/* iprev */
	const char *iprev_name = NULL;
	enum mailauth_result iprev = have_ip ? iprev_check(&dns, &ip, IPREV_MAX_NAMES, a, &iprev_name)
					     : MAILAUTH_PERMERROR;

	/* the field, first of the stored copy; forged ones claiming our name go */
	const char *policy = NULL;
	if (dmarc.policy_domain != NULL)
		policy = arena_printf(a, "p=%s dis=%s", dmarc_policy_name(dmarc.policy),
				      dmarc_policy_name(dmarc.result == MAILAUTH_FAIL ? dmarc.disposition
										      : DMARC_POLICY_NONE));
	struct authres ar = {
		.authserv_id = s->hostname,
		.spf = spf.result,
		.spf_mailfrom = m->sender[0] != '\0' ? m->sender : NULL,
		.spf_helo = m->origin->helo,
		.spf_reason = spf.result == MAILAUTH_PASS || spf.result == MAILAUTH_NONE ? NULL : spf.problem,
		.dkim = ad,
		.ndkim = ndk,
		.dmarc = dmarc.result,
		.dmarc_from = from,
		.dmarc_policy = policy,
		.dmarc_reason = dmarc.result == MAILAUTH_PASS || dmarc.result == MAILAUTH_NONE ? NULL : dmarc.reason,
		.iprev = iprev,
		.iprev_ip = have_ip ? client : NULL,
		.iprev_name = iprev_name,
	};
	authres_write(&ar, m->headers);
	struct authres_span *spans;
	size_t nforged = authres_find(m->message.p, m->message.len, s->hostname, a, &spans);
	for (size_t i = 0; i < nforged; i++)
		submit_hook_drop(m, spans[i].off, spans[i].len);

	/* the policy */
	struct mailauth_facts f = { .dmarc = dmarc.result, .disposition = dmarc.disposition,
				    .local_from = is_local(in, a, from), .aligned = aligned, .temp = temp };
	const char *why;
	enum mailauth_action act = mailauth_decide(&f, &why);
	bool enforce = s->mailauth_inbound == SETTINGS_MAILAUTH_ENFORCE && m->origin->auth_user == NULL;
	log_info("event=mailauth ip=%s mailfrom=%s from=%s spf=%s dkim=%zu/%s dmarc=%s policy=%s iprev=%s action=%s%s "
		 "forged_ar=%zu lookups=%u expired=%u ms=%llu",
		 client, LOG_Q(m->sender), LOG_Q(from ? from : "-"), mailauth_result_name(spf.result), ndk,
		 ndk ? mailauth_result_name(dk[0].result) : "none", mailauth_result_name(dmarc.result),
		 policy ? LOG_Q(policy) : "-", mailauth_result_name(iprev), action_name(act),
		 enforce ? "" : "(report)", nforged, res.questions, res.expired,
		 (unsigned long long)(mailauth_now_ms() - start));
	if (!enforce)
		return SUBMIT_OK;
	switch (act) {
	case MAILAUTH_ACCEPT:
		break;
	case MAILAUTH_JUNK:
		m->mailbox = "Junk";
		break;
	case MAILAUTH_REJECT:
		*reason_r = arena_printf(a, "%s (%s)", why, from ? from : "-");
		return SUBMIT_POLICY;
	case MAILAUTH_DEFER:
		*reason_r = arena_printf(a, "%s, DNS failed (%s)", why, from ? from : "-");
		return SUBMIT_POLICY_TEMP;
	}
	return SUBMIT_OK;
}
