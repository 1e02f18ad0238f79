/* mailauth_resolver.c: struct mailauth_dns over the resolver module with a deadline
 * per message (mailauth_resolver.h). Answers are copied into the checks' own shapes:
 * a NUL inside a TXT record becomes DEL (mailauth_txt_copy), PTR questions are asked for
 * the reverse name of the address. */
#include "mailauth_resolver.h"

#include "dns.h"

#include <string.h>
#include <sys/socket.h>
#include <time.h>

uint64_t mailauth_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void mailauth_resolver_init(struct mailauth_resolver *r, struct dns *dns, unsigned timeout_ms, unsigned budget_ms)
{
	*r = (struct mailauth_resolver){ .dns = dns,
					 .timeout_ms = timeout_ms,
					 .deadline_ms = mailauth_now_ms() + budget_ms };
}

/* Asks one question within the deadline. Returns enum mailauth_dns_status. */
static int ask(struct mailauth_resolver *r, const char *name, int rrtype, struct arena *a, struct dns_answer *ans)
{
	uint64_t now = mailauth_now_ms();
	if (r->dns == NULL || now >= r->deadline_ms) {
		r->expired++;
		return MAILAUTH_DNS_TEMP;
	}
	uint64_t left = r->deadline_ms - now;
	unsigned t = r->timeout_ms != 0 ? r->timeout_ms : MAILAUTH_DNS_TIMEOUT_MS;
	if (t > left)
		t = (unsigned)left;
	const char *error;
	r->questions++;
	int s = dns_query_wait(r->dns, name, rrtype, t, a, ans, &error);
	if (s == DNS_FOUND)
		return MAILAUTH_DNS_FOUND;
	return s == DNS_NONE ? MAILAUTH_DNS_NONE : MAILAUTH_DNS_TEMP;
}

static int q_txt(void *ctx, const char *name, struct arena *a, const char ***records_r, size_t *n_r)
{
	struct dns_answer ans;
	int s = ask(ctx, name, DNS_TXT, a, &ans);
	if (s != MAILAUTH_DNS_FOUND)
		return s;
	const char **v = arena_alloc(a, (ans.n + 1) * sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < ans.n; i++)
		v[n++] = mailauth_txt_copy(a, ans.txt[i].text, ans.txt[i].len);
	*records_r = v;
	*n_r = n;
	return n > 0 ? MAILAUTH_DNS_FOUND : MAILAUTH_DNS_NONE;
}

static int q_addr(void *ctx, const char *name, int family, struct arena *a, const struct mailauth_addr **addrs_r,
		  size_t *n_r)
{
	struct dns_answer ans;
	int s = ask(ctx, name, family == AF_INET6 ? DNS_AAAA : DNS_A, a, &ans);
	if (s != MAILAUTH_DNS_FOUND)
		return s;
	struct mailauth_addr *v = arena_alloc(a, (ans.n + 1) * sizeof(*v));
	for (size_t i = 0; i < ans.n; i++) {
		v[i].family = ans.addrs[i].family;
		memcpy(v[i].bytes, ans.addrs[i].bytes, sizeof(v[i].bytes));
	}
	*addrs_r = v;
	*n_r = ans.n;
	return MAILAUTH_DNS_FOUND;
}

static int q_mx(void *ctx, const char *name, struct arena *a, const struct mailauth_mx **mx_r, size_t *n_r)
{
	struct dns_answer ans;
	int s = ask(ctx, name, DNS_MX, a, &ans);
	if (s != MAILAUTH_DNS_FOUND)
		return s;
	struct mailauth_mx *v = arena_alloc(a, (ans.n + 1) * sizeof(*v));
	for (size_t i = 0; i < ans.n; i++)
		v[i] = (struct mailauth_mx){ ans.mx[i].pref, ans.mx[i].host };
	*mx_r = v;
	*n_r = ans.n;
	return MAILAUTH_DNS_FOUND;
}

static int q_ptr(void *ctx, const struct mailauth_addr *addr, struct arena *a, const char ***names_r, size_t *n_r)
{
	struct dns_answer ans;
	int s = ask(ctx, dns_reverse_name(addr->family, addr->bytes, a), DNS_PTR, a, &ans);
	if (s != MAILAUTH_DNS_FOUND)
		return s;
	*names_r = ans.names;
	*n_r = ans.n;
	return MAILAUTH_DNS_FOUND;
}

struct mailauth_dns mailauth_resolver_dns(struct mailauth_resolver *r)
{
	return (struct mailauth_dns){ .ctx = r, .txt = q_txt, .addr = q_addr, .mx = q_mx, .ptr = q_ptr };
}
