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
#include <strings.h>
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

/* The distinct domains of every From: address (at most MAILAUTH_FROM_MAX, in
 * order). Returns 1 when there is exactly one From: field with one address that has
 * a domain (the DMARC case), else 0 with *why_r: none, several or unreadable
 * (RFC 7489 §6.6.1: permerror in the header; the domains found still count for
 * the policy, so a second address cannot hide a forged one). */
#define MAILAUTH_FROM_MAX 20
static int from_domains(struct submit_hook_msg *m, const char ***doms_r, size_t *n_r, const char **why_r)
{
	const char **addrs;
	size_t n;
	int fields = mail_header_mailboxes(m->arena, m->message.p, m->message.len, "From", &addrs, &n);
	const char **doms = arena_alloc(m->arena, MAILAUTH_FROM_MAX * sizeof(*doms));
	size_t nd = 0;
	bool domainless = false;
	for (size_t i = 0; i < n && nd < MAILAUTH_FROM_MAX; i++) {
		const char *at = strrchr(addrs[i], '@');
		if (at == NULL || at[1] == '\0') {
			domainless = true;
			continue;
		}
		size_t k = 0;
		while (k < nd && strcasecmp(doms[k], at + 1) != 0)
			k++;
		if (k == nd)
			doms[nd++] = at + 1;
	}
	*doms_r = doms;
	*n_r = nd;
	if (fields == 1 && n == 1 && nd == 1)
		return 1;
	*why_r = fields == 0  ? "no From: field"
		 : fields > 1 ? "several From: fields"
		 : fields < 0 ? "unreadable From: field"
		 : n != 1     ? "not exactly one From: address"
		 : domainless ? "From: address without a domain"
			      : "unreadable From: field";
	return 0;
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

/* How strict an action is: the strictest of several From: domains applies. */
static int rank(enum mailauth_action a)
{
	static const int ranks[] = {
		[MAILAUTH_ACCEPT] = 0, [MAILAUTH_JUNK] = 1, [MAILAUTH_DEFER] = 2, [MAILAUTH_REJECT] = 3
	};
	return ranks[a];
}

/* What the checks already made say about one From: domain. */
struct verdicts {
	const struct spf_verdict *spf;
	const struct dkim_verdict *dk;
	const struct dmarc_dkim *dd;
	size_t ndk;
	bool temp;
};

/* DMARC for one From: domain, then the policy. Returns the action and *why_r;
 * *out the DMARC outcome. */
static enum mailauth_action judge(const struct mailauth_inbound *in, const struct mailauth_dns *dns, struct arena *a,
				  const char *from, const struct verdicts *v, struct dmarc_outcome *out,
				  const char **why_r)
{
	struct dmarc_input din = { .from_domain = from,
				   .spf = v->spf->result,
				   .spf_domain = v->spf->domain,
				   .dkim = v->dd,
				   .ndkim = v->ndk,
				   .sample = arc4random_uniform(100) };
	dmarc_check(dns, &din, a, out);
	bool aligned = out->spf_aligned || out->dkim_aligned;
	/* without a record alignment still tells a local domain's own mail */
	if (!aligned)
		aligned = v->spf->result == MAILAUTH_PASS && dmarc_aligned(v->spf->domain, from, false);
	for (size_t i = 0; i < v->ndk && !aligned; i++)
		aligned = v->dk[i].result == MAILAUTH_PASS && dmarc_aligned(v->dk[i].domain, from, false);
	struct mailauth_facts f = { .dmarc = out->result,
				    .disposition = out->disposition,
				    .local_from = is_local(in, a, from),
				    .aligned = aligned,
				    .temp = v->temp };
	return mailauth_decide(&f, why_r);
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
		struct spf_request req = { .ip = ip,
					   .mail_from = m->sender,
					   .helo = m->origin->helo ? m->origin->helo : "",
					   .receiver = s->hostname,
					   .now = (int64_t)time(NULL),
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
	const struct verdicts v = { &spf, dk, dd, ndk, temp };
	const char **doms;
	size_t ndoms;
	enum mailauth_action act = MAILAUTH_ACCEPT;
	const char *why = "", *judged = NULL;
	if (from_domains(m, &doms, &ndoms, &from_why) > 0) {
		from = judged = doms[0];
		act = judge(in, &dns, a, from, &v, &dmarc, &why);
	} else {
		/* permerror in the header; the strictest policy of the domains found applies
		 * (RFC 7489 §6.6.1), each with its own DNS questions */
		dmarc.reason = from_why;
		for (size_t i = 0; i < ndoms; i++) {
			struct dmarc_outcome o;
			const char *w;
			enum mailauth_action x = judge(in, &dns, a, doms[i], &v, &o, &w);
			if (rank(x) > rank(act)) {
				act = x;
				why = w;
				judged = doms[i];
			}
		}
	}

	/* iprev */
	const char *iprev_name = NULL;
	enum mailauth_result iprev =
		have_ip ? iprev_check(&dns, &ip, IPREV_MAX_NAMES, a, &iprev_name) : MAILAUTH_PERMERROR;

	/* the field, first of the stored copy; forged ones claiming our name go */
	const char *policy = NULL;
	if (dmarc.policy_domain != NULL)
		policy = arena_printf(
			a, "p=%s dis=%s", dmarc_policy_name(dmarc.policy),
			dmarc_policy_name(dmarc.result == MAILAUTH_FAIL ? dmarc.disposition : DMARC_POLICY_NONE));
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
	bool enforce = s->mailauth_inbound == SETTINGS_MAILAUTH_ENFORCE && m->origin->auth_user == NULL;
	log_info("event=mailauth ip=%s mailfrom=%s from=%s spf=%s dkim=%zu/%s dmarc=%s policy=%s iprev=%s action=%s%s "
		 "forged_ar=%zu lookups=%u expired=%u ms=%llu",
		 client, LOG_Q(m->sender), LOG_Q(judged ? judged : "-"), mailauth_result_name(spf.result), ndk,
		 ndk ? mailauth_result_name(dk[0].result) : "none", mailauth_result_name(dmarc.result),
		 policy ? LOG_Q(policy) : "-", mailauth_result_name(iprev), action_name(act), enforce ? "" : "(report)",
		 nforged, res.questions, res.expired, (unsigned long long)(mailauth_now_ms() - start));
	if (!enforce)
		return SUBMIT_OK;
	switch (act) {
	case MAILAUTH_ACCEPT:
		break;
	case MAILAUTH_JUNK:
		m->mailbox = "Junk";
		break;
	case MAILAUTH_REJECT:
		*reason_r = arena_printf(a, "%s (%s)", why, judged ? judged : "-");
		return SUBMIT_POLICY;
	case MAILAUTH_DEFER:
		*reason_r = arena_printf(a, "%s, DNS failed (%s)", why, judged ? judged : "-");
		return SUBMIT_POLICY_TEMP;
	}
	return SUBMIT_OK;
}
