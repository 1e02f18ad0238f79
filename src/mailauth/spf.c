/* spf.c: SPF evaluation, RFC 7208 check_host() (spf.h).
 *
 * One struct eval lives for one check: the request, the counters of §4.6.4 (DNS
 * mechanisms, void lookups) shared by every include and redirect level, and the
 * cached %{p} name. check_host() fetches and selects the record, parses all of it,
 * then evaluates its mechanisms in order; include recurses with explanations off
 * (§6.2), redirect recurses in its place. Recursion is bounded by the DNS-mechanism
 * limit, since every include and redirect counts against it. */
#include "spf.h"
#include "spf_macro.h"
#include "spf_record.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

const struct spf_limits spf_default_limits = {
	.dns_mechanisms = SPF_DEFAULT_DNS_MECHANISMS,
	.void_lookups = SPF_DEFAULT_VOID_LOOKUPS,
	.mx_names = SPF_DEFAULT_MX_NAMES,
	.ptr_names = SPF_DEFAULT_PTR_NAMES,
};

struct eval {
	const struct mailauth_dns *dns;
	struct arena *a;
	struct spf_limits lim;
	struct mailauth_addr ip;
	const char *sender, *local, *sender_domain, *helo, *receiver;
	int64_t now;
	unsigned lookups, voids;
	const char *problem;
	const char *mechanism;
	const char *explanation;
	const char *p_name; /* %{p}, once computed */
	const char *p_for;  /* ... for this domain */
};

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 client it stands for. */
static void normalize_ip(const struct mailauth_addr *in, struct mailauth_addr *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	*out = *in;
	if (in->family == AF_INET6 && memcmp(in->bytes, mapped, 12) == 0) {
		memset(out, 0, sizeof(*out));
		out->family = AF_INET;
		memcpy(out->bytes, in->bytes + 12, 4);
	}
}

static bool prefix_match(const uint8_t *x, const uint8_t *y, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(x, y, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (x[whole] & mask) == (y[whole] & mask);
}

/* Is this a name DNS can be asked about: labels of 1 to 63 bytes, at least two of
 * them, 253 bytes at most (a trailing dot allowed), no address literal. `strict` (the
 * identity, §4.3) also wants printable ASCII without spaces and a top label that is
 * not all digits (a bare IPv4 address as HELO); a mechanism's target is whatever its
 * macros made of it (§7.1: "%_" gives a space). */
static bool domain_ok(const char *d, bool strict)
{
	size_t len = strlen(d);
	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > SPF_DOMAIN_MAX || d[0] == '[')
		return false;
	size_t labels = 0, cur = 0;
	bool numeric = true; /* the current label is all digits */
	for (size_t i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (cur == 0 || cur > 63)
				return false;
			if (i == len && strict && numeric)
				return false; /* "192.0.2.1": an address, not a domain */
			labels++;
			cur = 0;
			numeric = true;
			continue;
		}
		numeric = numeric && d[i] >= '0' && d[i] <= '9';
		unsigned char c = (unsigned char)d[i];
		if (strict && (c <= 0x20 || c >= 0x7f))
			return false;
		cur++;
	}
	return labels >= 2;
}

/* A name to query: no trailing dot. */
static const char *strip_dot(struct arena *a, const char *d)
{
	size_t len = strlen(d);
	if (len > 0 && d[len - 1] == '.')
		return arena_strndup(a, d, len - 1);
	return d;
}

static bool name_under(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);
	if (n == d)
		return strcasecmp(name, domain) == 0;
	return n > d && name[n - d - 1] == '.' && strcasecmp(name + n - d, domain) == 0;
}

/* Counts a void answer; returns -1 (permerror set) past the limit. */
static int count_void(struct eval *e, const char *name)
{
	if (++e->voids > e->lim.void_lookups) {
		e->problem = arena_printf(e->a, "more than %u void DNS lookups (last: %s)", e->lim.void_lookups, name);
		return -1;
	}
	return 0;
}

/* Does `name` have an address equal to the client's? 1 yes, 0 no, -1 DNS error. */
static int name_has_ip(struct eval *e, const char *name)
{
	const struct mailauth_addr *addrs;
	size_t n;
	int r = e->dns->addr(e->dns->ctx, name, e->ip.family, e->a, &addrs, &n);
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	size_t len = e->ip.family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < n; i++)
		if (addrs[i].family == e->ip.family && memcmp(addrs[i].bytes, e->ip.bytes, len) == 0)
			return 1;
	return 0;
}

/* The client's validated names (§5.5), at most lim.ptr_names PTR names looked at;
 * only those under `domain` when it is not NULL. Puts the count in *n_r (0 also for
 * DNS errors: they make the ptr mechanism not match, §5.5) and returns the PTR
 * question's enum mailauth_dns_status. */
static int validated_names(struct eval *e, const char *domain, const char ***names_r, size_t *n_r)
{
	const char **ptrs;
	size_t n;
	*n_r = 0;
	int r = e->dns->ptr(e->dns->ctx, &e->ip, e->a, &ptrs, &n);
	if (r <= 0)
		return r;
	if (n > e->lim.ptr_names)
		n = e->lim.ptr_names;
	const char **out = arena_alloc(e->a, (n + 1) * sizeof(*out));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = strip_dot(e->a, ptrs[i]);
		if (domain != NULL && !name_under(name, domain))
			continue;
		if (name_has_ip(e, name) == 1)
			out[k++] = name;
	}
	*names_r = out;
	*n_r = k;
	return r;
}

/* %{p}: a validated name, preferring the current domain or one under it (§7.3). */
static const char *p_macro(void *ctx, const char *domain)
{
	struct eval *e = ctx;
	if (e->p_name != NULL && strcasecmp(e->p_for, domain) == 0)
		return e->p_name;
	const char **names;
	size_t n;
	validated_names(e, NULL, &names, &n);
	const char *best = "unknown";
	for (size_t i = 0; i < n; i++) {
		if (name_under(names[i], domain)) {
			best = names[i];
			break;
		}
		if (i == 0)
			best = names[0];
	}
	e->p_name = best;
	e->p_for = domain;
	return best;
}

static void macro_ctx(struct eval *e, const char *domain, struct spf_macro_ctx *m)
{
	*m = (struct spf_macro_ctx){
		.sender = e->sender,
		.local = e->local,
		.sender_domain = e->sender_domain,
		.domain = domain,
		.ip = &e->ip,
		.helo = e->helo,
		.receiver = e->receiver,
		.now = e->now,
		.validated_name = p_macro,
		.cb_ctx = e,
	};
}

static enum mailauth_result check_host(struct eval *e, const char *domain, bool in_include);

/* The target name of a mechanism: its expanded domain-spec or the current domain.
 * Returns 1, or -1 with the problem set (permerror). */
static int target(struct eval *e, const char *spec, const char *domain, const char **target_r)
{
	if (spec == NULL) {
		*target_r = domain;
		return 1;
	}
	struct spf_macro_ctx m;
	macro_ctx(e, domain, &m);
	char *out;
	const char *error;
	if (spf_macro_expand_domain(spec, strlen(spec), &m, e->a, &out, &error) < 0) {
		e->problem = arena_printf(e->a, "%s: %s", spec, error);
		return -1;
	}
	*target_r = out;
	return 1;
}

/* Does the client have one of name's addresses, within the mechanism's CIDR? 1 yes, 0
 * no, 0 with *void_r for an empty answer, -1 temperror. */
static int addr_match(struct eval *e, const char *name, const struct spf_mech *m, bool *void_r)
{
	const struct mailauth_addr *addrs;
	size_t n;
	*void_r = false;
	int r = e->dns->addr(e->dns->ctx, name, e->ip.family, e->a, &addrs, &n);
	if (r < 0) {
		e->problem = arena_printf(e->a, "DNS error looking up %s of %s", e->ip.family == AF_INET ? "A" : "AAAA",
					  name);
		return -1;
	}
	if (r == 0) {
		*void_r = true;
		return 0;
	}
	unsigned bits = e->ip.family == AF_INET ? m->cidr4 : m->cidr6;
	for (size_t i = 0; i < n; i++)
		if (addrs[i].family == e->ip.family && prefix_match(addrs[i].bytes, e->ip.bytes, bits))
			return 1;
	return 0;
}

/* Evaluates one mechanism. Returns 1 match, 0 no match, or an error result as
 * -MAILAUTH_TEMPERROR / -MAILAUTH_PERMERROR. */
static int mech_match(struct eval *e, const struct spf_mech *m, const char *domain)
{
	const char *t;
	bool is_void;
	int r;
	switch (m->kind) {
	case SPF_MECH_ALL:
		return 1;
	case SPF_MECH_IP4:
		return e->ip.family == AF_INET && prefix_match(e->ip.bytes, m->net, m->cidr4);
	case SPF_MECH_IP6:
		return e->ip.family == AF_INET6 && prefix_match(e->ip.bytes, m->net, m->cidr6);
	default:
		break;
	}
	/* Every other mechanism costs a DNS lookup (§4.6.4). */
	if (++e->lookups > e->lim.dns_mechanisms) {
		e->problem = arena_printf(e->a, "more than %u DNS lookups", e->lim.dns_mechanisms);
		return -MAILAUTH_PERMERROR;
	}
	if (target(e, m->domain, domain, &t) < 0)
		return -MAILAUTH_PERMERROR;
	switch (m->kind) {
	case SPF_MECH_INCLUDE: {
		enum mailauth_result ir = check_host(e, t, true);
		switch (ir) {
		case MAILAUTH_PASS:
			return 1;
		case MAILAUTH_FAIL:
		case MAILAUTH_SOFTFAIL:
		case MAILAUTH_NEUTRAL:
			return 0;
		case MAILAUTH_TEMPERROR:
			return -MAILAUTH_TEMPERROR;
		case MAILAUTH_NONE:
			e->problem = arena_printf(e->a, "include:%s has no SPF record", t);
			return -MAILAUTH_PERMERROR;
		default:
			return -MAILAUTH_PERMERROR;
		}
	}
	case SPF_MECH_A:
		if (!domain_ok(t, false))
			return count_void(e, t) < 0 ? -MAILAUTH_PERMERROR : 0;
		r = addr_match(e, t, m, &is_void);
		if (r < 0)
			return -MAILAUTH_TEMPERROR;
		if (is_void && count_void(e, t) < 0)
			return -MAILAUTH_PERMERROR;
		return r;
	case SPF_MECH_MX: {
		if (!domain_ok(t, false))
			return count_void(e, t) < 0 ? -MAILAUTH_PERMERROR : 0;
		const struct mailauth_mx *mx;
		size_t n;
		r = e->dns->mx(e->dns->ctx, t, e->a, &mx, &n);
		if (r < 0) {
			e->problem = arena_printf(e->a, "DNS error looking up MX of %s", t);
			return -MAILAUTH_TEMPERROR;
		}
		if (r == 0)
			return count_void(e, t) < 0 ? -MAILAUTH_PERMERROR : 0;
		if (n > e->lim.mx_names) {
			e->problem = arena_printf(e->a, "%s has more than %u MX names", t, e->lim.mx_names);
			return -MAILAUTH_PERMERROR;
		}
		for (size_t i = 0; i < n; i++) {
			const char *host = strip_dot(e->a, mx[i].host);
			if (host[0] == '\0')
				continue; /* null MX (RFC 7505) */
			r = addr_match(e, host, m, &is_void);
			if (r < 0)
				return -MAILAUTH_TEMPERROR;
			if (r > 0)
				return 1;
		}
		return 0;
	}
	case SPF_MECH_PTR: {
		const char **names;
		size_t n;
		/* An empty PTR answer is this term's void lookup. */
		if (validated_names(e, strip_dot(e->a, t), &names, &n) == MAILAUTH_DNS_NONE)
			return count_void(e, "the client's PTR") < 0 ? -MAILAUTH_PERMERROR : 0;
		return n > 0;
	}
	case SPF_MECH_EXISTS: {
		if (!domain_ok(t, false))
			return count_void(e, t) < 0 ? -MAILAUTH_PERMERROR : 0;
		const struct mailauth_addr *addrs;
		size_t n;
		/* Always an A question, whatever the client's family (§5.7). */
		r = e->dns->addr(e->dns->ctx, t, AF_INET, e->a, &addrs, &n);
		if (r < 0) {
			e->problem = arena_printf(e->a, "DNS error looking up A of %s", t);
			return -MAILAUTH_TEMPERROR;
		}
		if (r == 0)
			return count_void(e, t) < 0 ? -MAILAUTH_PERMERROR : 0;
		return 1;
	}
	default:
		assert(!"unreachable mechanism kind");
		return -MAILAUTH_PERMERROR;
	}
}

/* §6.2: the exp= text, or NULL when anything about it fails. */
static const char *explain(struct eval *e, const char *spec, const char *domain)
{
	struct spf_macro_ctx m;
	macro_ctx(e, domain, &m);
	char *name, *text;
	const char *error;
	if (spf_macro_expand_domain(spec, strlen(spec), &m, e->a, &name, &error) < 0 || !domain_ok(name, false))
		return NULL;
	const char **txts;
	size_t n;
	if (e->dns->txt(e->dns->ctx, name, e->a, &txts, &n) <= 0 || n != 1)
		return NULL;
	if (spf_macro_expand(txts[0], strlen(txts[0]), &m, true, e->a, &text, &error) < 0)
		return NULL;
	return text;
}

static enum mailauth_result qualifier_result(enum spf_qualifier q)
{
	switch (q) {
	case SPF_QUAL_FAIL:
		return MAILAUTH_FAIL;
	case SPF_QUAL_SOFTFAIL:
		return MAILAUTH_SOFTFAIL;
	case SPF_QUAL_NEUTRAL:
		return MAILAUTH_NEUTRAL;
	default:
		return MAILAUTH_PASS;
	}
}

static enum mailauth_result check_host(struct eval *e, const char *domain, bool in_include)
{
	if (!domain_ok(domain, e->lookups == 0)) {
		e->problem = arena_printf(e->a, "'%s' is not a domain name", domain);
		return MAILAUTH_NONE;
	}
	domain = strip_dot(e->a, domain);
	const char **txts;
	size_t n;
	int r = e->dns->txt(e->dns->ctx, domain, e->a, &txts, &n);
	if (r < 0) {
		e->problem = arena_printf(e->a, "DNS error looking up TXT of %s", domain);
		return MAILAUTH_TEMPERROR;
	}
	const char *text = NULL, *error;
	if (r > 0) {
		r = spf_record_select(txts, n, &text, &error);
		if (r < 0) {
			e->problem = arena_printf(e->a, "%s: %s", domain, error);
			return MAILAUTH_PERMERROR;
		}
	}
	if (text == NULL) {
		e->problem = arena_printf(e->a, "no SPF record at %s", domain);
		return MAILAUTH_NONE;
	}
	const struct spf_record *rec;
	if (spf_record_parse(text, e->a, &rec, &error) < 0) {
		e->problem = arena_printf(e->a, "%s: %s", domain, error);
		return MAILAUTH_PERMERROR;
	}
	for (size_t i = 0; i < rec->n_mechs; i++) {
		const struct spf_mech *m = &rec->mechs[i];
		r = mech_match(e, m, domain);
		if (r < 0)
			return (enum mailauth_result)(-r);
		if (r == 0)
			continue;
		enum mailauth_result res = qualifier_result(m->qualifier);
		e->mechanism = m->text;
		e->problem = arena_printf(e->a, "%s matched %s", domain, m->text);
		if (res == MAILAUTH_FAIL && !in_include && rec->exp != NULL)
			e->explanation = explain(e, rec->exp, domain);
		return res;
	}
	if (rec->redirect != NULL) {
		if (++e->lookups > e->lim.dns_mechanisms) {
			e->problem = arena_printf(e->a, "more than %u DNS lookups", e->lim.dns_mechanisms);
			return MAILAUTH_PERMERROR;
		}
		const char *t;
		if (target(e, rec->redirect, domain, &t) < 0)
			return MAILAUTH_PERMERROR;
		enum mailauth_result res = check_host(e, t, in_include);
		if (res == MAILAUTH_NONE) {
			e->problem = arena_printf(e->a, "redirect=%s has no SPF record", t);
			return MAILAUTH_PERMERROR;
		}
		return res;
	}
	e->mechanism = NULL;
	e->problem = arena_printf(e->a, "%s: no mechanism matched", domain);
	return MAILAUTH_NEUTRAL;
}

/* A copy fit for a log line, a header comment or an SMTP reply: bytes outside
 * printable ASCII (from HELO, a local part, a macro's output) become '?'. */
static const char *printable(struct arena *a, const char *s)
{
	size_t n = strlen(s);
	char *c = arena_strndup(a, s, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)c[i] < 0x20 || (unsigned char)c[i] > 0x7e)
			c[i] = '?';
	return c;
}

/* check_host(ip, domain, local@sender_domain) with the verdict filled in. */
static int run(const struct mailauth_dns *dns, const struct spf_request *req, const char *domain, const char *local,
	       const char *sender_domain, enum spf_identity identity, struct arena *a, struct spf_verdict *v_r)
{
	memset(v_r, 0, sizeof(*v_r));
	v_r->identity = identity;
	v_r->sender = "";
	v_r->domain = "";
	if (req->ip.family != AF_INET && req->ip.family != AF_INET6) {
		v_r->result = MAILAUTH_PERMERROR;
		v_r->problem = "client address of unknown family";
		return -1;
	}
	struct eval e = {
		.dns = dns,
		.a = a,
		.lim = req->limits != NULL ? *req->limits : spf_default_limits,
		.helo = req->helo != NULL ? req->helo : "",
		.receiver = req->receiver != NULL ? req->receiver : "unknown",
		.now = req->now,
		.local = local,
		.sender_domain = sender_domain,
	};
	normalize_ip(&req->ip, &e.ip);
	e.sender = arena_printf(a, "%s@%s", local, sender_domain);
	v_r->sender = e.sender;
	v_r->domain = domain;
	v_r->result = check_host(&e, domain, false);
	v_r->mechanism = e.mechanism;
	v_r->explanation = v_r->result == MAILAUTH_FAIL && e.explanation != NULL ? printable(a, e.explanation) : NULL;
	v_r->problem = e.problem != NULL ? printable(a, e.problem) : "";
	v_r->dns_lookups = e.lookups;
	v_r->void_lookups = e.voids;
	return 1;
}

int spf_check_host(const struct mailauth_dns *dns, const struct spf_request *req, const char *domain,
		   const char *sender, enum spf_identity identity, struct arena *a, struct spf_verdict *v_r)
{
	const char *at = strrchr(sender, '@');
	const char *local = at != NULL && at != sender ? arena_strndup(a, sender, (size_t)(at - sender)) : "postmaster";
	return run(dns, req, domain, local, at != NULL ? at + 1 : sender, identity, a, v_r);
}

int spf_check_helo(const struct mailauth_dns *dns, const struct spf_request *req, struct arena *a,
		   struct spf_verdict *v_r)
{
	const char *helo = req->helo != NULL ? req->helo : "";
	return run(dns, req, helo, "postmaster", helo, SPF_IDENTITY_HELO, a, v_r);
}

int spf_check(const struct mailauth_dns *dns, const struct spf_request *req, struct arena *a, struct spf_verdict *v_r)
{
	const char *from = req->mail_from != NULL ? req->mail_from : "";
	if (from[0] == '\0')
		return spf_check_helo(dns, req, a, v_r);
	const char *at = strrchr(from, '@');
	if (at == NULL)
		return run(dns, req, from, "postmaster", from, SPF_IDENTITY_MAILFROM, a, v_r);
	const char *local = at != from ? arena_strndup(a, from, (size_t)(at - from)) : "postmaster";
	return run(dns, req, at + 1, local, at + 1, SPF_IDENTITY_MAILFROM, a, v_r);
}
