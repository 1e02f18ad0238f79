/* queue_dns.c: where mail for a domain goes (RFC 5321 §5.1), asked of libunbound
 * asynchronously on the queue's loop through ub_fd().
 *
 * A lookup asks for the MX records of the domain; RFC 7505's null MX ("0 .") is a
 * permanent failure, no MX at all means the domain's own A/AAAA records (the implicit
 * MX), NXDOMAIN is permanent. Then it asks for the A and AAAA records of up to
 * QDNS_HOSTS_MAX exchanges at once and returns the addresses in preference order
 * (IPv4 before IPv6 per host). Domain literals and IP addresses need no lookup.
 * Results always arrive from the loop, never from inside the call that asked. */
#include "queue_int.h"

#include "log.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unbound.h>

#define QDNS_HOSTS_MAX 8
#define QDNS_ADDRS_MAX 8 /* per host and family */
#define RR_A 1
#define RR_MX 15
#define RR_AAAA 28

struct qdns {
	struct event_base *base;
	struct ub_ctx *ctx;
	struct event *ev;
};

struct qdns_q {
	struct qdns_req *req;
	int host; /* -1: the MX query */
	int type;
	int async_id;
	bool pending;
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

static void ub_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qdns *d = arg;
	ub_process(d->ctx);
}

struct qdns *queue_dns_new(struct event_base *base, const struct queue_settings *s, const char **error_r)
{
	struct qdns *d = xcalloc(1, sizeof(*d));
	d->base = base;
	d->ctx = ub_ctx_create();
	if (d->ctx == NULL) {
		free(d);
		*error_r = "cannot create the DNS resolver";
		return NULL;
	}
	ub_ctx_async(d->ctx, 1); /* a thread, not a forked process */
	if (s->dns_server != NULL && s->dns_server[0] != '\0')
		ub_ctx_set_fwd(d->ctx, s->dns_server);
	else if (s->dns_data == NULL)
		ub_ctx_resolvconf(d->ctx, NULL);
	if (s->dns_data == NULL)
		ub_ctx_hosts(d->ctx, NULL);
	for (const char *const *rr = s->dns_data; rr != NULL && *rr != NULL; rr++) {
		int r;
		if (strncmp(*rr, "local-zone: ", 12) == 0)
			r = ub_ctx_set_option(d->ctx, "local-zone:", *rr + 12);
		else
			r = ub_ctx_data_add(d->ctx, *rr);
		if (r != 0)
			log_warn("event=queue_dns_data error=\"%s\" data=\"%s\"", ub_strerror(r), *rr);
	}
	d->ev = event_new(base, ub_fd(d->ctx), EV_READ | EV_PERSIST, ub_ready_cb, d);
	event_add(d->ev, NULL);
	return d;
}

void queue_dns_free(struct qdns **dp)
{
	struct qdns *d = *dp;
	if (d == NULL)
		return;
	event_free(d->ev);
	ub_ctx_delete(d->ctx);
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
	r->defer = event_new(r->d->base, -1, 0, deliver_cb, r);
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

static void host_cb(void *mydata, int err, struct ub_result *res)
{
	struct qdns_q *q = mydata;
	struct qdns_req *r = q->req;
	q->pending = false;
	struct qdns_host *host = &r->hosts[q->host];
	int f = q->type == RR_A ? 0 : 1;
	if (err != 0 || res == NULL) {
		host->status[f] = 0;
	} else if (res->havedata) {
		host->status[f] = 1;
		for (int i = 0; res->data[i] != NULL && host->na[f] < QDNS_ADDRS_MAX; i++) {
			struct qdns_target *t = &host->a[f][host->na[f]];
			memset(t, 0, sizeof(*t));
			if (q->type == RR_A && res->len[i] == 4) {
				struct sockaddr_in *sin = (struct sockaddr_in *)&t->addr;
				sin->sin_family = AF_INET;
				sin->sin_port = htons(r->port);
				memcpy(&sin->sin_addr, res->data[i], 4);
				t->addrlen = sizeof(*sin);
				host->na[f]++;
			} else if (q->type == RR_AAAA && res->len[i] == 16) {
				struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t->addr;
				sin6->sin6_family = AF_INET6;
				sin6->sin6_port = htons(r->port);
				memcpy(&sin6->sin6_addr, res->data[i], 16);
				t->addrlen = sizeof(*sin6);
				host->na[f]++;
			}
		}
	} else {
		host->status[f] = res->rcode == 0 || res->nxdomain ? -1 : 0;
	}
	if (res != NULL)
		ub_resolve_free(res);
	if (--r->outstanding == 0)
		addresses_done(r);
}

static void ask(struct qdns_req *r, struct qdns_q *q, const char *name, int type, ub_callback_type cb)
{
	q->req = r;
	q->type = type;
	q->pending = true;
	r->outstanding++;
	int e = ub_resolve_async(r->d->ctx, name, type, 1, q, cb, &q->async_id);
	if (e != 0) {
		q->pending = false;
		r->outstanding--;
		log_warn("event=queue_dns_error name=%s error=\"%s\"", name, ub_strerror(e));
	}
}

/* Asks for the addresses of every host in r->hosts. */
static void ask_addresses(struct qdns_req *r)
{
	for (size_t h = 0; h < r->nhosts; h++) {
		r->hosts[h].status[0] = r->hosts[h].status[1] = 0;
		r->hq[h][0].host = r->hq[h][1].host = (int)h;
		ask(r, &r->hq[h][0], r->hosts[h].name, RR_A, host_cb);
		ask(r, &r->hq[h][1], r->hosts[h].name, RR_AAAA, host_cb);
	}
	if (r->outstanding == 0)
		addresses_done(r);
}

/* Reads a domain name from MX rdata (uncompressed wire format) after the preference.
 * Returns 1, or -1 if malformed. The root is "". */
static int rdata_name(const unsigned char *p, size_t len, char *out, size_t outlen)
{
	size_t o = 0, i = 0;
	while (i < len) {
		size_t l = p[i++];
		if (l == 0) {
			out[o] = '\0';
			return 1;
		}
		if (l > 63 || i + l > len || o + l + 2 > outlen)
			return -1;
		if (o > 0)
			out[o++] = '.';
		memcpy(out + o, p + i, l);
		o += l;
		i += l;
	}
	return -1;
}

static void mx_cb(void *mydata, int err, struct ub_result *res)
{
	struct qdns_q *q = mydata;
	struct qdns_req *r = q->req;
	q->pending = false;
	r->outstanding--;
	if (err != 0 || res == NULL) {
		finish(r, 0, "4.4.3", "MX lookup for %s failed: %s", r->domain, ub_strerror(err));
	} else if (res->nxdomain || res->rcode == 3) {
		finish(r, -1, "5.1.2", "domain %s does not exist", r->domain);
	} else if (res->rcode != 0) {
		finish(r, 0, "4.4.3", "MX lookup for %s failed (rcode %d)", r->domain, res->rcode);
	} else if (!res->havedata) {
		r->implicit = true; /* RFC 5321 §5.1: the domain itself */
		snprintf(r->hosts[0].name, sizeof(r->hosts[0].name), "%s", r->domain);
		r->nhosts = 1;
		ask_addresses(r);
	} else {
		bool null_mx = false;
		for (int i = 0; res->data[i] != NULL; i++) {
			if (res->len[i] < 3)
				continue;
			const unsigned char *p = (const unsigned char *)res->data[i];
			char name[256];
			if (rdata_name(p + 2, (size_t)res->len[i] - 2, name, sizeof(name)) < 0)
				continue;
			if (name[0] == '\0') {
				null_mx = true;
				continue;
			}
			if (r->nhosts == QDNS_HOSTS_MAX)
				continue;
			struct qdns_host *h = &r->hosts[r->nhosts++];
			snprintf(h->name, sizeof(h->name), "%s", name);
			h->pref = p[0] << 8 | p[1];
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
	if (res != NULL)
		ub_resolve_free(res);
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
	ask(r, &r->mxq, domain, RR_MX, mx_cb);
	if (r->outstanding == 0)
		finish(r, 0, "4.4.3", "cannot ask DNS for the MX of %s", domain);
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
	if (r->mxq.pending)
		ub_cancel(r->d->ctx, r->mxq.async_id);
	for (size_t h = 0; h < QDNS_HOSTS_MAX; h++)
		for (int f = 0; f < 2; f++)
			if (r->hq[h][f].pending)
				ub_cancel(r->d->ctx, r->hq[h][f].async_id);
	req_free(r);
	*rp = NULL;
}
