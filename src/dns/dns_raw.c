/* dns_raw.c: answers as flat copies of libunbound's results, what callers parse from
 * them, and the bounded TTL cache in front of libunbound (see dns_int.h). */
#include "dns_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unbound.h>

#define TTL_MAX_DATA 86400
#define TTL_MAX_NEGATIVE 3600

struct dns_raw *dns_raw_new(int status, bool nxdomain, unsigned ttl, const char *canon, const uint8_t *const *data,
			    const size_t *len, size_t n)
{
	size_t clen = canon != NULL ? strlen(canon) : 0, size = clen + 1;
	for (size_t i = 0; i < n; i++)
		size += 2 + (len[i] > 65535 ? 65535 : len[i]);
	struct dns_raw *r = xcalloc(1, sizeof(*r) + size);
	r->status = status;
	r->nxdomain = nxdomain;
	r->ttl = ttl;
	r->n = n;
	r->size = size;
	if (clen > 0)
		memcpy(r->buf, canon, clen);
	size_t o = clen + 1;
	for (size_t i = 0; i < n; i++) {
		size_t l = len[i] > 65535 ? 65535 : len[i];
		r->buf[o++] = (uint8_t)(l >> 8);
		r->buf[o++] = (uint8_t)l;
		memcpy(r->buf + o, data[i], l);
		o += l;
	}
	return r;
}

struct dns_raw *dns_raw_error(const char *error)
{
	struct dns_raw *r = dns_raw_new(DNS_TEMP, false, 0, NULL, NULL, NULL, 0);
	r->error = error;
	return r;
}

static const char *rcode_error(int rcode)
{
	switch (rcode) {
	case 1:
		return "DNS FORMERR";
	case 2:
		return "DNS SERVFAIL";
	case 4:
		return "DNS NOTIMP";
	case 5:
		return "DNS REFUSED";
	default:
		return "DNS error";
	}
}

struct dns_raw *dns_raw_from_result(const char *qname, int err, const struct ub_result *res)
{
	if (err != 0 || res == NULL)
		return dns_raw_error(err != 0 ? ub_strerror(err) : "no answer");
	if (res->bogus)
		return dns_raw_error("DNSSEC validation failed");
	if (res->nxdomain || res->rcode == 3) {
		struct dns_raw *r = dns_raw_new(DNS_NONE, true, (unsigned)res->ttl, NULL, NULL, NULL, 0);
		r->secure = res->secure;
		return r;
	}
	if (res->rcode != 0)
		return dns_raw_error(rcode_error(res->rcode));
	const char *canon = res->canonname;
	char cbuf[256];
	if (canon != NULL) {
		size_t cl = strlen(canon), ql = strlen(qname);
		if (cl > 1 && canon[cl - 1] == '.')
			cl--;
		if (cl >= sizeof(cbuf) || (cl == ql && strncasecmp(canon, qname, cl) == 0)) {
			canon = NULL;
		} else {
			memcpy(cbuf, canon, cl);
			cbuf[cl] = '\0';
			canon = cbuf;
		}
	}
	size_t n = 0;
	while (res->havedata && res->data[n] != NULL)
		n++;
	const uint8_t **data = xcalloc(n + 1, sizeof(*data));
	size_t *len = xcalloc(n + 1, sizeof(*len));
	for (size_t i = 0; i < n; i++) {
		data[i] = (const uint8_t *)res->data[i];
		len[i] = res->len[i] > 0 ? (size_t)res->len[i] : 0;
	}
	struct dns_raw *r = dns_raw_new(n > 0 ? DNS_FOUND : DNS_NONE, false, (unsigned)res->ttl, canon, data, len, n);
	r->secure = res->secure;
	free(data);
	free(len);
	return r;
}

int dns_raw_answer(const struct dns_raw *raw, int rrtype, struct arena *a, struct dns_answer *ans, const char **error_r)
{
	*ans = (struct dns_answer){
		.rrtype = rrtype,
		.status = raw->status,
		.nxdomain = raw->nxdomain,
		.secure = raw->secure,
		.cached = raw->cached,
		.ttl = raw->ttl,
		.error = raw->error,
	};
	if (raw->buf[0] != '\0')
		ans->canon = arena_strdup(a, (const char *)raw->buf);
	if (raw->status == DNS_FOUND) {
		const uint8_t **data = arena_alloc(a, (raw->n + 1) * sizeof(*data));
		size_t *len = arena_alloc(a, (raw->n + 1) * sizeof(*len));
		size_t o = strlen((const char *)raw->buf) + 1;
		for (size_t i = 0; i < raw->n; i++) {
			len[i] = (size_t)raw->buf[o] << 8 | raw->buf[o + 1];
			data[i] = raw->buf + o + 2;
			o += 2 + len[i];
		}
		const char *perr = NULL;
		if (dns_parse_rdata(rrtype, data, len, raw->n, a, ans, &perr) < 0) {
			ans->status = DNS_TEMP;
			ans->error = perr;
		}
	}
	if (ans->status == DNS_TEMP) {
		if (ans->error == NULL)
			ans->error = "DNS error";
		*error_r = ans->error;
	}
	return ans->status;
}

/* ---------------------------------------------------------------- cache */

struct centry {
	struct centry *hnext;         /* bucket chain */
	struct centry *lprev, *lnext; /* recency: head is the newest */
	uint64_t hash;
	uint64_t expires; /* monotonic ms */
	int rrtype;
	char *name; /* lower case */
	struct dns_raw *raw;
};

struct dns_cache {
	size_t max, count, nbuckets;
	struct centry **buckets;
	struct centry *head, *tail;
};

static uint64_t key_hash(const char *name, int rrtype)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)rrtype; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		unsigned char c = *p >= 'A' && *p <= 'Z' ? *p + 32 : *p;
		h = (h ^ c) * 1099511628211ull;
	}
	return h;
}

struct dns_cache *dns_cache_new(size_t max_entries)
{
	struct dns_cache *c = xcalloc(1, sizeof(*c));
	c->max = max_entries > 0 ? max_entries : 1;
	c->nbuckets = 16;
	while (c->nbuckets < c->max && c->nbuckets < (1u << 24))
		c->nbuckets <<= 1;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	return c;
}

static void entry_unlink(struct dns_cache *c, struct centry *e)
{
	struct centry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->lprev != NULL)
		e->lprev->lnext = e->lnext;
	else
		c->head = e->lnext;
	if (e->lnext != NULL)
		e->lnext->lprev = e->lprev;
	else
		c->tail = e->lprev;
	c->count--;
	free(e->raw);
	free(e->name);
	free(e);
}

void dns_cache_free(struct dns_cache **cp)
{
	struct dns_cache *c = *cp;
	if (c == NULL)
		return;
	while (c->head != NULL)
		entry_unlink(c, c->head);
	free(c->buckets);
	free(c);
	*cp = NULL;
}

static struct centry *find(struct dns_cache *c, const char *name, int rrtype, uint64_t h)
{
	for (struct centry *e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->rrtype == rrtype && strcasecmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void to_front(struct dns_cache *c, struct centry *e)
{
	if (c->head == e)
		return;
	e->lprev->lnext = e->lnext;
	if (e->lnext != NULL)
		e->lnext->lprev = e->lprev;
	else
		c->tail = e->lprev;
	e->lprev = NULL;
	e->lnext = c->head;
	c->head->lprev = e;
	c->head = e;
}

void dns_cache_put(struct dns_cache *c, const char *name, int rrtype, const struct dns_raw *raw, uint64_t now)
{
	unsigned ttl = raw->ttl;
	unsigned cap = raw->status == DNS_FOUND ? TTL_MAX_DATA : TTL_MAX_NEGATIVE;
	if (ttl > cap)
		ttl = cap;
	if (raw->status == DNS_TEMP || ttl == 0)
		return;
	uint64_t h = key_hash(name, rrtype);
	struct centry *e = find(c, name, rrtype, h);
	if (e != NULL)
		entry_unlink(c, e);
	if (c->count >= c->max)
		entry_unlink(c, c->tail);
	e = xcalloc(1, sizeof(*e));
	e->hash = h;
	e->rrtype = rrtype;
	e->name = xstrdup(name);
	e->expires = now + (uint64_t)ttl * 1000;
	e->raw = xmalloc(sizeof(*raw) + raw->size);
	memcpy(e->raw, raw, sizeof(*raw) + raw->size);
	e->raw->ttl = ttl;
	struct centry **b = &c->buckets[h & (c->nbuckets - 1)];
	e->hnext = *b;
	*b = e;
	e->lnext = c->head;
	if (c->head != NULL)
		c->head->lprev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
	c->count++;
}

struct dns_raw *dns_cache_get(struct dns_cache *c, const char *name, int rrtype, uint64_t now)
{
	uint64_t h = key_hash(name, rrtype);
	struct centry *e = find(c, name, rrtype, h);
	if (e == NULL)
		return NULL;
	if (e->expires <= now) {
		entry_unlink(c, e);
		return NULL;
	}
	to_front(c, e);
	struct dns_raw *r = xmalloc(sizeof(*r) + e->raw->size);
	memcpy(r, e->raw, sizeof(*r) + e->raw->size);
	r->ttl = (unsigned)((e->expires - now + 999) / 1000);
	r->cached = true;
	return r;
}

size_t dns_cache_count(const struct dns_cache *c)
{
	return c->count;
}
