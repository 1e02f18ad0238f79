/* spam_dnsbl_lookup.c: the blocklist questions of one port-25 connection
 * (spam_dnsbl.h, second half). At connect time smtpd asks every zone at once
 * through the resolver's asynchronous call; the answers arrive on the session's
 * loop, and once the last one is in, the verdict goes to the session (which waits
 * for it at RCPT at the latest). A check is owned by its loop: started, answered
 * and cancelled there. The only state shared between loops is the time of each
 * zone's last "refuses our resolver" warning, an atomic per zone. */
#include "spam_dnsbl.h"

#include "log.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REFUSED_WARN_EVERY 60 /* seconds between two warnings for one zone */

struct spam_dnsbl {
	struct dns *dns;
	unsigned timeout_ms;
	struct arena *arena; /* the zone names */
	struct spam_dnsbl_list list;
	_Atomic int64_t warned[SPAM_DNSBL_MAX_ZONES]; /* time of the last REFUSED_US warning */
};

struct slot {
	struct spam_dnsbl_check *check;
	size_t zone;
};

struct spam_dnsbl_check {
	struct spam_dnsbl *b;
	spam_dnsbl_fn *fn;
	void *arg;
	char ip[64];
	size_t left; /* questions still out */
	struct dns_req *reqs[SPAM_DNSBL_MAX_ZONES];
	struct slot slots[SPAM_DNSBL_MAX_ZONES];
	enum spam_dnsbl_state states[SPAM_DNSBL_MAX_ZONES];
	char codes[SPAM_DNSBL_MAX_ZONES][16];
};

struct spam_dnsbl *spam_dnsbl_new(struct dns *d, const char *value, unsigned timeout_ms, const char **error_r)
{
	struct spam_dnsbl *b = xcalloc(1, sizeof(*b));
	b->dns = d;
	b->timeout_ms = timeout_ms;
	b->arena = arena_new();
	if (spam_dnsbl_parse(value, b->arena, &b->list, error_r) < 0) {
		spam_dnsbl_free(&b);
		return NULL;
	}
	for (size_t i = 0; i < SPAM_DNSBL_MAX_ZONES; i++)
		atomic_init(&b->warned[i], INT64_MIN / 2);
	return b;
}

void spam_dnsbl_free(struct spam_dnsbl **bp)
{
	struct spam_dnsbl *b = *bp;
	if (b == NULL)
		return;
	arena_free(&b->arena);
	free(b);
	*bp = NULL;
}

bool spam_dnsbl_enabled(const struct spam_dnsbl *b)
{
	return b != NULL && b->list.n > 0 && b->dns != NULL;
}

/* Once a minute per zone: a list that refuses our resolver protects nobody. */
static void warn_refused(struct spam_dnsbl *b, size_t zone, const char *code)
{
	int64_t now = (int64_t)time(NULL);
	int64_t last = atomic_load(&b->warned[zone]);
	if (now - last < REFUSED_WARN_EVERY || !atomic_compare_exchange_strong(&b->warned[zone], &last, now))
		return;
	log_warn("event=dnsbl_refused_resolver zone=%s answer=%s hint=%s", b->list.zones[zone].zone, code,
		 LOG_Q("the list refuses our DNS resolver (public forwarder or over quota): no client is checked "
		       "against it; use postamt's own resolver (dns.server empty) or the list's paid service"));
}

static void finish(struct spam_dnsbl_check *k)
{
	struct arena *a = arena_new();
	struct spam_dnsbl_verdict v;
	spam_dnsbl_combine(&k->b->list, k->states, k->codes, a, &v);
	k->fn(k->arg, v.zone, v.code, v.score, v.weighted);
	arena_free(&a);
	free(k);
}

static void answered(void *arg, const struct dns_answer *ans)
{
	struct slot *s = arg;
	struct spam_dnsbl_check *k = s->check;
	struct spam_dnsbl *b = k->b;
	size_t i = s->zone;
	k->reqs[i] = NULL;
	enum spam_dnsbl_state st =
		spam_dnsbl_classify(ans->status, ans->addrs, ans->rrtype == DNS_A ? ans->n : 0, k->codes[i]);
	k->states[i] = st;
	const char *zone = b->list.zones[i].zone;
	switch (st) {
	case SPAM_DNSBL_LISTED:
		log_info("event=dnsbl_listed ip=%s zone=%s answer=%s weight=%g", k->ip, zone, k->codes[i],
			 b->list.zones[i].weight);
		break;
	case SPAM_DNSBL_REFUSED_US:
		warn_refused(b, i, k->codes[i]);
		break;
	case SPAM_DNSBL_TEMP:
		log_info("event=dnsbl_failed ip=%s zone=%s error=%s result=not_listed", k->ip, zone,
			 LOG_Q(ans->error != NULL ? ans->error : "temporary failure"));
		break;
	case SPAM_DNSBL_BOGUS:
		log_warn("event=dnsbl_bogus_answer ip=%s zone=%s result=not_listed", k->ip, zone);
		break;
	case SPAM_DNSBL_CLEAN:
		break;
	}
	if (--k->left == 0)
		finish(k);
}

struct spam_dnsbl_check *spam_dnsbl_start(struct spam_dnsbl *b, const char *ip, struct loop *loop, spam_dnsbl_fn *fn,
					  void *arg)
{
	if (!spam_dnsbl_enabled(b) || ip == NULL || strlen(ip) >= sizeof(((struct spam_dnsbl_check *)0)->ip))
		return NULL;
	struct arena *a = arena_new();
	const char *names[SPAM_DNSBL_MAX_ZONES];
	for (size_t i = 0; i < b->list.n; i++) {
		names[i] = spam_dnsbl_query_name(ip, b->list.zones[i].zone, a);
		if (names[i] == NULL) {
			arena_free(&a);
			return NULL;
		}
	}
	struct spam_dnsbl_check *k = xcalloc(1, sizeof(*k));
	k->b = b;
	k->fn = fn;
	k->arg = arg;
	strcpy(k->ip, ip);
	k->left = b->list.n;
	for (size_t i = 0; i < b->list.n; i++) {
		k->slots[i] = (struct slot){ k, i };
		k->reqs[i] = dns_query_async(b->dns, names[i], DNS_A, b->timeout_ms, loop, answered, &k->slots[i]);
	}
	arena_free(&a);
	return k;
}

void spam_dnsbl_cancel(struct spam_dnsbl_check **cp)
{
	struct spam_dnsbl_check *k = *cp;
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->b->list.n; i++)
		dns_cancel(&k->reqs[i]);
	free(k);
	*cp = NULL;
}
