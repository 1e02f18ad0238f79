/* queue_dns.c: where mail for a domain goes (RFC 5321 §5.1), asked of the resolver
 * module (src/dns) asynchronously, with the answers posted to the queue's loop.
 *
 * A lookup asks for the MX records of the domain; RFC 7505's null MX ("0 .") is a
 * permanent failure, no MX at all means the domain's own A/AAAA records (the implicit
 * MX), NXDOMAIN is permanent. Then it asks for the A and AAAA records of up to
 * QDNS_HOSTS_MAX exchanges at once and returns the addresses in preference order
 * (IPv4 before IPv6 per host). Domain literals and IP addresses need no lookup.
 * Results always arrive from the loop, never from inside the call that asked. The
 * resolver is the server's shared one (queue_settings.dns) or, without one, the
 * queue's own made from dns_server/dns_data. */
#include "queue_int.h"

#include "dns.h"
#include "log.h"
#include "loop.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define QDNS_HOSTS_MAX 8
#define QDNS_ADDRS_MAX 8 /* per host and family */

struct qdns {
	struct loop *loop;
	struct dns *dns;
	bool own; /* dns was made here */
};

struct qdns_q {
	struct qdns_req *req;
	int host; /* -1: the MX query */
	int type;
	struct dns_req *pending;
};

struct qdns_host {
	char name[256];
	int pref;
	struct qdns_target a[2][QDNS_ADDRS_MAX];
	size_t na[2];
	int status[2]; /* 1 data, 0 temporary failure, -1 no such name/no data */
};

struct qdns_req {
	struct qdns *d;
	qdns_fn *fn;
	void *arg;
	uint16_t port;
	char domain[256];
	bool implicit;  /* no MX: the domain is its own host */
	struct qdns_q mxq;
	struct qdns_q hq[QDNS_HOSTS_MAX][2];
	struct qdns_host hosts[QDNS_HOSTS_MAX];
	size_t nhosts;
	int outstanding;
	struct event *defer;
	struct qdns_result res;
	struct qdns_target *targets;
};

struct qdns *queue_dns_new(struct loop *loop, const struct queue_settings *s, const char **error_r)
{
	struct qdns *d = xcalloc(1, sizeof(*d));
	d->loop = loop;
	d->dns = s->dns;
	if (d->dns == NULL) {
		struct dns_settings ds = { .server = s->dns_server, .local_data = s->dns_data };
		d->dns = dns_new(&ds, error_r);
		if (d->dns == NULL) {
			free(d);
			return NULL;
		}
		d->own = true;
	}
	return d;
}

void queue_dns_free(struct qdns **dp)
{
	struct qdns *d = *dp;
	if (d == NULL)
		return;
	if (d->own)
		dns_free(&d->dns);
	free(d);
	*dp = NULL;
}

/* ---------------------------------------------------------------- results */

static void req_free(struct qdns_req *r)
{
	if (r->defer != NULL)
		event_free(r->defer);
	free(r->targets);
	free(r);
}

static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qdns_req *r = arg;
	r->fn(r->arg, &r->res);
	req_free(r);
}

/* Hands the result to the loop (the callback never runs inside a request call). */
static void finish(struct qdns_req *r, int status, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void finish(struct qdns_req *r, int status, const char *enh, const char *fmt, ...)
{
	r->res.status = status;
	r->res.enh = enh;
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->res.error, sizeof(r->res.error), fmt, ap);
		va_end(ap);
	}
	r->defer = event_new(loop_base(r->d->loop), -1, 0, deliver_cb, r);
	event_active(r->defer, EV_TIMEOUT, 0);
}

static void add_target(struct qdns_req *r, const char *host, const struct sockaddr *sa, socklen_t len)
{
	r->targets = xrealloc(r->targets, (r->res.n + 1) * sizeof(*r->targets));
	struct qdns_target *t = &r->targets[r->res.n++];
	memset(t, 0, sizeof(*t));
	snprintf(t->host, sizeof(t->host), "%s", host);
	memcpy(&t->addr, sa, len);
	t->addrlen = len;
	r->res.t = r->targets;
}

/* Builds a target from an IP address text. Returns 1, or 0 if ip is not one. */
static int literal_target(struct qdns_req *r, const char *host, const char *ip)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(r->port) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(r->port) };
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1)
		add_target(r, host, (struct sockaddr *)&sin, sizeof(sin));
	else if (inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1)
		add_target(r, host, (struct sockaddr *)&sin6, sizeof(sin6));
	else
		return 0;
	return 1;
}

static int cmp_host(const void *a, const void *b)
{
	const struct qdns_host *x = a, *y = b;
	return x->pref - y->pref;
}

/* Every address query has answered: order the targets and report. */
static void addresses_done(struct qdns_req *r)
{
	bool temp = false;
	for (size_t h = 0; h < r->nhosts; h++) {
		struct qdns_host *host = &r->hosts[h];
		for (int f = 0; f < 2; f++) {
			temp |= host->status[f] == 0;
			for (size_t i = 0; i < host->na[f]; i++)
				add_target(r, host->name, (struct sockaddr *)&host->a[f][i].addr, host->a[f][i].addrlen);
		}
	}
	if (r->res.n > 0)
		finish(r, 1, NULL, NULL);
	else if (temp)
		finish(r, 0, "4.4.3", "cannot find the address of the mail exchanger for %s (DNS failure)", r->domain);
	else if (r->implicit)
		finish(r, -1, "5.1.2", "domain %s has no MX or address records", r->domain);
	else
		finish(r, 0, "4.4.3", "no mail exchanger of %s has an address", r->domain);
}

static void host_cb(void *arg, const struct dns_answer *ans)
{
	struct qdns_q *q = arg;
	struct qdns_req *r = q->req;
	q->pending = NULL;
	struct qdns_host *host = &r->hosts[q->host];
	int f = q->type == DNS_A ? 0 : 1;
	if (ans->status == DNS_FOUND) {
		host->status[f] = 1;
		for (size_t i = 0; i < ans->n && host->na[f] < QDNS_ADDRS_MAX; i++) {
			struct qdns_target *t = &host->a[f][host->na[f]++];
			memset(t, 0, sizeof(*t));
			if (ans->addrs[i].family == AF_INET) {
				struct sockaddr_in *sin = (struct sockaddr_in *)&t->addr;
				sin->sin_family = AF_INET;
				sin->sin_port = htons(r->port);
				memcpy(&sin->sin_addr, ans->addrs[i].bytes, 4);
				t->addrlen = sizeof(*sin);
			} else {
				struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t->addr;
				sin6->sin6_family = AF_INET6;
				sin6->sin6_port = htons(r->port);
				memcpy(&sin6->sin6_addr, ans->addrs[i].bytes, 16);
				t->addrlen = sizeof(*sin6);
			}
		}
	} else {
		host->status[f] = ans->status == DNS_NONE ? -1 : 0;
	}
	if (--r->outstanding == 0)
		addresses_done(r);
}

/* Asks (name, type); cb runs on the queue's loop, always later. */
static void ask(struct qdns_req *r, struct qdns_q *q, const char *name, int type, dns_fn *cb)
{
	q->req = r;
	q->type = type;
	r->outstanding++;
	q->pending = dns_query_async(r->d->dns, name, type, 0, r->d->loop, cb, q);
}

/* Asks for the addresses of every host in r->hosts. */
static void ask_addresses(struct qdns_req *r)
{
	for (size_t h = 0; h < r->nhosts; h++) {
		r->hosts[h].status[0] = r->hosts[h].status[1] = 0;
		r->hq[h][0].host = r->hq[h][1].host = (int)h;
		ask(r, &r->hq[h][0], r->hosts[h].name, DNS_A, host_cb);
		ask(r, &r->hq[h][1], r->hosts[h].name, DNS_AAAA, host_cb);
	}
	if (r->outstanding == 0)
		addresses_done(r);
}

static void mx_cb(void *arg, const struct dns_answer *ans)
{
	struct qdns_q *q = arg;
	struct qdns_req *r = q->req;
	q->pending = NULL;
	r->outstanding--;
	if (ans->status == DNS_TEMP) {
		finish(r, 0, "4.4.3", "MX lookup for %s failed: %s", r->domain, ans->error);
	} else if (ans->status == DNS_NONE && ans->nxdomain) {
		finish(r, -1, "5.1.2", "domain %s does not exist", r->domain);
	} else if (ans->status == DNS_NONE) {
		r->implicit = true; /* RFC 5321 §5.1: the domain itself */
		snprintf(r->hosts[0].name, sizeof(r->hosts[0].name), "%s", r->domain);
		r->nhosts = 1;
		ask_addresses(r);
	} else {
		bool null_mx = false;
		for (size_t i = 0; i < ans->n; i++) {
			if (ans->mx[i].host[0] == '\0') {
				null_mx = true;
				continue;
			}
			if (r->nhosts == QDNS_HOSTS_MAX || strlen(ans->mx[i].host) >= sizeof(r->hosts[0].name))
				continue;
			struct qdns_host *h = &r->hosts[r->nhosts++];
			snprintf(h->name, sizeof(h->name), "%s", ans->mx[i].host);
			h->pref = (int)ans->mx[i].pref;
		}
		if (null_mx && r->nhosts == 0) {
			finish(r, -1, "5.1.10", "domain %s does not accept mail (null MX, RFC 7505)", r->domain);
		} else if (r->nhosts == 0) {
			finish(r, 0, "4.4.3", "MX records of %s are unusable", r->domain);
		} else {
			qsort(r->hosts, r->nhosts, sizeof(r->hosts[0]), cmp_host);
			ask_addresses(r);
		}
	}
}

static struct qdns_req *req_new(struct qdns *d, const char *name, uint16_t port, qdns_fn *fn, void *arg)
{
	struct qdns_req *r = xcalloc(1, sizeof(*r));
	r->d = d;
	r->fn = fn;
	r->arg = arg;
	r->port = port;
	snprintf(r->domain, sizeof(r->domain), "%s", name);
	return r;
}

struct qdns_req *queue_dns_resolve_mx(struct qdns *d, const char *domain, uint16_t port, qdns_fn *fn, void *arg)
{
	struct qdns_req *r = req_new(d, domain, port, fn, arg);
	size_t n = strlen(domain);
	if (n > 2 && domain[0] == '[' && domain[n - 1] == ']') {
		char ip[256];
		const char *start = domain + 1;
		if (strncasecmp(start, "IPv6:", 5) == 0)
			start += 5;
		snprintf(ip, sizeof(ip), "%.*s", (int)(domain + n - 1 - start), start);
		if (literal_target(r, domain, ip))
			finish(r, 1, NULL, NULL);
		else
			finish(r, -1, "5.1.2", "bad address literal %s", domain);
		return r;
	}
	r->mxq.host = -1;
	ask(r, &r->mxq, domain, DNS_MX, mx_cb);
	return r;
}

struct qdns_req *queue_dns_resolve_host(struct qdns *d, const char *host, uint16_t port, qdns_fn *fn, void *arg)
{
	struct qdns_req *r = req_new(d, host, port, fn, arg);
	if (literal_target(r, host, host)) {
		finish(r, 1, NULL, NULL);
		return r;
	}
	snprintf(r->hosts[0].name, sizeof(r->hosts[0].name), "%s", host);
	r->nhosts = 1;
	ask_addresses(r);
	return r;
}

void queue_dns_cancel(struct qdns_req **rp)
{
	struct qdns_req *r = *rp;
	if (r == NULL)
		return;
	dns_cancel(&r->mxq.pending);
	for (size_t h = 0; h < QDNS_HOSTS_MAX; h++)
		for (int f = 0; f < 2; f++)
			dns_cancel(&r->hq[h][f].pending);
	req_free(r);
	*rp = NULL;
}
