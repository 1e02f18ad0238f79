/* serve_admin.c: the admin API's and /metrics' view of the parts webd may not
 * include (struct webd_admin_ops, DESIGN.md §3): the outbound queue, each domain's
 * DNS records with their check (the logic of `postamt dns D --check`), DKIM keys (as
 * `domain add` and `dkim rotate` make them), the certificate in use and the disk.
 *
 * Every callback runs on a pool thread and may block (a DNS check waits for the
 * resolver). DNS checks are cached per domain for DNS_CACHE_SECONDS under the
 * object's mutex, so the dashboard and the alert thread never hammer the resolver;
 * the admin's explicit check (the DNS page) always asks again. */
#include "serve_admin.h"

#include "cli_dns.h"
#include "dkim_keys.h"
#include "log.h"
#include "login.h"
#include "metrics.h"
#include "queue.h"
#include "store.h"
#include "tls.h"

#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define DNS_CACHE_SECONDS 600
#define DNS_CACHE_MAX 64         /* domains whose last check is kept */
#define LOGIN_WRITE_SECONDS 3600 /* an account's last login is written at most this often */
#define LOGIN_SLOTS 4096         /* direct-mapped by account id: a collision costs a write */

struct dns_cached {
	char domain[256];
	time_t when;
	json_t *result;
};

struct serve_admin {
	struct serve_admin_parts p;
	struct webd_admin_ops ops;
	pthread_mutex_t lock; /* the DNS cache */
	struct dns_cached cache[DNS_CACHE_MAX];
	pthread_mutex_t login_lock; /* logins[] */
	struct {
		int64_t account_id;
		time_t written;
	} logins[LOGIN_SLOTS];
};

static const char *utc_text(time_t t, char out[32])
{
	struct tm tm;
	if (t <= 0)
		return "";
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

/* ---- the queue */

static json_t *queue_list_cb(void *ctx, const char **error_r)
{
	struct serve_admin *sa = ctx;
	struct arena *a = arena_new();
	struct queue_entry *v;
	size_t n;
	json_t *arr = NULL;
	if (queue_list(".", sa->p.store, a, &v, &n, error_r) < 0)
		goto out;
	static const char *const states[] = { "pending", "delivered", "failed" };
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char c[32], na[32];
		json_t *rc = json_array();
		for (size_t k = 0; k < v[i].nrcpts; k++) {
			const struct queue_entry_rcpt *r = &v[i].rcpts[k];
			json_array_append_new(rc, json_pack("{sssssIss}", "address", r->address, "state",
							    states[r->state], "attempts", (json_int_t)r->attempts,
							    "lastError", r->last_error != NULL ? r->last_error : ""));
		}
		json_array_append_new(arr,
				      json_pack("{sssssssIsIssso}", "id", v[i].id, "created", utc_text(v[i].created, c),
						"sender", v[i].sender, "size", (json_int_t)v[i].size, "attempts",
						(json_int_t)v[i].attempts, "nextAttempt",
						v[i].next_attempt > 0 ? utc_text(v[i].next_attempt, na) : "now",
						"recipients", rc));
	}
out:
	(void)sa;
	if (arr == NULL)
		*error_r = "cannot read the queue";
	arena_free(&a);
	return arr;
}

static int queue_act_cb(void *ctx, const char *id, const char *act, const char **error_r)
{
	struct serve_admin *sa = ctx;
	enum queue_action qa = strcmp(act, "retry") == 0    ? QUEUE_ACT_RETRY
			       : strcmp(act, "delete") == 0 ? QUEUE_ACT_DELETE
							    : QUEUE_ACT_BOUNCE;
	if (sa->p.queue == NULL)
		return *error_r = "no outbound queue", -1;
	return queue_act(sa->p.queue, id, qa, error_r);
}

static int queue_stats_cb(void *ctx, size_t *n_r, int64_t *oldest_r, const char **error_r)
{
	struct serve_admin *sa = ctx;
	time_t oldest = 0;
	*n_r = 0;
	*oldest_r = 0;
	if (sa->p.queue == NULL)
		return *error_r = "no outbound queue", -1;
	int r = queue_stats(sa->p.queue, n_r, &oldest, error_r);
	*oldest_r = (int64_t)oldest;
	return r;
}

/* ---- DNS records */

static const char *rec_data(const struct dns_rec *r, struct arena *a)
{
	switch (r->type) {
	case DNS_MX:
		return arena_printf(a, "%u %s.", r->pref, r->target);
	case DNS_SRV:
		return arena_printf(a, "%u %u %u %s.", r->pref, r->weight, r->port, r->target);
	case DNS_CNAME:
		return arena_printf(a, "%s.", r->target);
	case DNS_TXT:
		return r->text;
	}
	return "";
}

static json_t *dns_uncached(struct serve_admin *sa, const char *domain, bool check, const char **error_r)
{
	struct arena *a = arena_new();
	json_t *o = NULL;
	int dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dns_rec *recs;
	size_t n;
	if (dfd < 0) {
		*error_r = "cannot open the data directory";
		goto out;
	}
	int r = dns_records_for(sa->p.cfg, sa->p.store, dfd, domain, a, &recs, &n, NULL, error_r);
	close(dfd);
	if (r < 0) {
		*error_r = "cannot read the DKIM keys";
		goto out;
	}
	struct dns_rec_result *res = arena_alloc(a, (n + 1) * sizeof(*res));
	size_t bad = 0;
	if (check && sa->p.dns != NULL)
		bad = dns_records_check(sa->p.dns, recs, n, a, res);
	static const char *const words[] = { "ok", "missing", "different" };
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct dns_rec *d = &recs[i];
		const char *state = d->comment ? "optional" : !check ? "unchecked" : words[res[i].state];
		json_array_append_new(arr,
				      json_pack("{ssssssssssss?ss?}", "name", d->name, "type", dns_rrtype_name(d->type),
						"what", d->what, "data", rec_data(d, a), "state", state, "found",
						check && !d->comment ? res[i].found : NULL, "error",
						check && !d->comment ? res[i].error : NULL));
	}
	o = json_pack("{sssIsbso}", "domain", domain, "problems", (json_int_t)bad, "checked", check, "records", arr);
out:
	arena_free(&a);
	return o;
}

static json_t *dns_cb(void *ctx, const char *domain, enum webd_dns_check check, const char **error_r)
{
	struct serve_admin *sa = ctx;
	time_t now = time(NULL);
	if (check == WEBD_DNS_UNCHECKED)
		return dns_uncached(sa, domain, false, error_r);
	/* the dashboard and alerts take a recent answer; the DNS page asks afresh */
	if (check == WEBD_DNS_FRESH)
		serve_admin_dns_forget(sa, domain);
	pthread_mutex_lock(&sa->lock);
	for (size_t i = 0; i < DNS_CACHE_MAX; i++) {
		struct dns_cached *c = &sa->cache[i];
		if (c->result != NULL && strcmp(c->domain, domain) == 0 && now - c->when < DNS_CACHE_SECONDS) {
			json_t *r = json_incref(c->result);
			pthread_mutex_unlock(&sa->lock);
			return r;
		}
	}
	pthread_mutex_unlock(&sa->lock);
	json_t *r = dns_uncached(sa, domain, true, error_r);
	if (r == NULL)
		return NULL;
	pthread_mutex_lock(&sa->lock);
	struct dns_cached *slot = &sa->cache[0];
	for (size_t i = 0; i < DNS_CACHE_MAX; i++) {
		struct dns_cached *c = &sa->cache[i];
		if (c->result == NULL || strcmp(c->domain, domain) == 0) {
			slot = c;
			break;
		}
		if (c->when < slot->when)
			slot = c;
	}
	json_decref(slot->result);
	snprintf(slot->domain, sizeof(slot->domain), "%s", domain);
	slot->when = now;
	slot->result = json_incref(r);
	pthread_mutex_unlock(&sa->lock);
	return r;
}

void serve_admin_dns_forget(struct serve_admin *sa, const char *domain)
{
	pthread_mutex_lock(&sa->lock);
	for (size_t i = 0; i < DNS_CACHE_MAX; i++)
		if (sa->cache[i].result != NULL && strcmp(sa->cache[i].domain, domain) == 0) {
			json_decref(sa->cache[i].result);
			sa->cache[i].result = NULL;
		}
	pthread_mutex_unlock(&sa->lock);
}

int serve_admin_dns_problems(struct serve_admin *sa, const char *domain, const char **error_r)
{
	json_t *r = dns_cb(sa, domain, WEBD_DNS_CACHED, error_r);
	if (r == NULL)
		return -1;
	int n = (int)json_integer_value(json_object_get(r, "problems"));
	json_decref(r);
	return n;
}

/* ---- DKIM */

static json_t *dkim_cb(void *ctx, const char *domain, bool generate, const char **error_r)
{
	struct serve_admin *sa = ctx;
	const struct config *cfg = sa->p.cfg;
	struct arena *a = arena_new();
	json_t *arr = NULL;
	int dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		*error_r = "cannot open the data directory";
		goto out;
	}
	const char *err;
	time_t now = time(NULL);
	if (generate) {
		/* serve runs as the service user: the files are its own */
		if (dkim_keys_generate(sa->p.store, dfd, domain, now, (uid_t)-1, (gid_t)-1, a, NULL, NULL, &err) < 0) {
			log_error("event=dkim_generate_failed domain=%s error=%s", domain, LOG_Q(err));
			*error_r = "cannot make the DKIM keys";
			close(dfd);
			goto out;
		}
		log_info("event=dkim_generated domain=%s", domain);
		serve_admin_dns_forget(sa, domain);
	}
	struct dkim_key_info *keys;
	size_t n;
	if (dkim_keys_list(sa->p.store, dfd, domain, now, cfg->dkim_publish_delay, a, &keys, &n, &err) < 0) {
		*error_r = "cannot read the DKIM keys";
		close(dfd);
		goto out;
	}
	close(dfd);
	static const char *const st[] = { "", "published", "signing", "waiting" };
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char c[32], r[32];
		json_array_append_new(arr, json_pack("{ssssssssssssss}", "selector", keys[i].selector, "algorithm",
						     keys[i].alg == DKIM_ALG_ED25519 ? "ed25519" : "rsa", "created",
						     utc_text(keys[i].created, c), "signsFrom",
						     utc_text(keys[i].ripe_at, r), "state", st[keys[i].state], "name",
						     arena_printf(a, "%s._domainkey.%s", keys[i].selector, domain),
						     "txt", keys[i].txt));
	}
out:
	arena_free(&a);
	return arr;
}

/* ---- the certificate and the disk */

/* tls.cert as serve reaches it: relative to DIR (the working directory) when under
 * it, since a server that dropped privileges may not reach DIR's parents. */
static const char *cert_path(const struct config *cfg)
{
	size_t n = strlen(cfg->data_dir);
	if (strncmp(cfg->tls_cert, cfg->data_dir, n) == 0 && cfg->tls_cert[n] == '/')
		return cfg->tls_cert + n + 1;
	return cfg->tls_cert;
}

json_t *serve_admin_certificate(struct serve_admin *sa, const char **error_r)
{
	/* The one place that knows where the certificate in use comes from: the file
	 * tls.cert names (what serve loaded). */
	struct tls_cert_info ci;
	char err[256];
	if (tls_cert_file_info(cert_path(sa->p.cfg), &ci, err, sizeof(err)) < 0) {
		log_warn("event=cert_read_failed error=%s", LOG_Q(err));
		*error_r = "cannot read the certificate";
		return NULL;
	}
	char nb[32], na[32];
	time_t now = time(NULL);
	json_int_t days = ci.not_after > now ? (json_int_t)((ci.not_after - now) / 86400) : 0;
	return json_pack("{sssssssssssIssss}", "subject", ci.subject, "issuer", ci.issuer, "names", ci.names,
			 "notBefore", utc_text(ci.not_before, nb), "notAfter", utc_text(ci.not_after, na), "daysLeft",
			 days, "selfSigned", strcmp(ci.subject, ci.issuer) == 0 ? "yes" : "no", "source", "tls.cert");
}

static json_t *certificate_cb(void *ctx, const char **error_r)
{
	return serve_admin_certificate(ctx, error_r);
}

int serve_admin_disk(uint64_t *total_r, uint64_t *free_r)
{
	struct statvfs st;
	if (statvfs(".", &st) != 0 || st.f_blocks == 0)
		return -1;
	*total_r = (uint64_t)st.f_blocks * st.f_frsize;
	*free_r = (uint64_t)st.f_bavail * st.f_frsize;
	return 1;
}

static json_t *disk_cb(void *ctx, const char **error_r)
{
	(void)ctx;
	uint64_t total, avail;
	if (serve_admin_disk(&total, &avail) < 0)
		return *error_r = "cannot read the file system's size", NULL;
	return json_pack("{sIsIsI}", "totalBytes", (json_int_t)total, "freeBytes", (json_int_t)avail, "usedPercent",
			 (json_int_t)((total - avail) * 100 / total));
}

/* ---- /metrics: gauges read at scrape time */

static void gauges_cb(void *ctx, struct buf *out)
{
	struct serve_admin *sa = ctx;
	size_t n;
	int64_t oldest;
	const char *err;
	if (queue_stats_cb(sa, &n, &oldest, &err) > 0) {
		metrics_format_gauge(out, "postamt_queue_messages", "Messages in the outbound queue.", (double)n);
		metrics_format_gauge(out, "postamt_queue_oldest_age_seconds", "Age of the oldest queued message.",
				     oldest > 0 ? (double)(time(NULL) - oldest) : 0);
	}
	struct tls_cert_info ci;
	char e[256];
	if (tls_cert_file_info(cert_path(sa->p.cfg), &ci, e, sizeof(e)) > 0)
		metrics_format_gauge(out, "postamt_certificate_not_after_seconds",
				     "Expiry of the certificate in use (unix time).", (double)ci.not_after);
	static const char *const pools[] = { "store", "messages", "hashing" };
	buf_printf(out, "# HELP postamt_pool_queued_jobs Jobs waiting for a thread of a worker pool.\n"
			"# TYPE postamt_pool_queued_jobs gauge\n");
	for (size_t i = 0; i < 3; i++)
		if (sa->p.pools[i] != NULL)
			buf_printf(out, "postamt_pool_queued_jobs{pool=\"%s\"} %zu\n", pools[i],
				   pool_queued(sa->p.pools[i]));
	uint64_t total, avail;
	if (serve_admin_disk(&total, &avail) > 0) {
		metrics_format_gauge(out, "postamt_disk_total_bytes", "Size of the data directory's file system.",
				     (double)total);
		metrics_format_gauge(out, "postamt_disk_free_bytes", "Bytes free for the server on that file system.",
				     (double)avail);
	}
}

/* ---- last logins */

struct login_job {
	struct serve_admin *sa;
	int64_t account_id;
	time_t at;
	char proto[16];
	char ip[64];
};

static void login_write(void *arg)
{
	struct login_job *j = arg;
	const char *err;
	if (store_last_login_set(j->sa->p.store, j->account_id, (int64_t)j->at, j->proto, j->ip, &err) < 0)
		log_warn("event=store_error op=last_login_set error=%s", LOG_Q(err));
	free(j);
}

/* auth_login_hook_fn, on a loop: the store is written on the pool, at most hourly
 * per account (the admin pages show the last login to the hour). */
static void login_hook(void *ctx, int64_t account_id, const char *proto, const char *ip)
{
	struct serve_admin *sa = ctx;
	time_t now = time(NULL);
	size_t slot = (size_t)((uint64_t)account_id % LOGIN_SLOTS);
	pthread_mutex_lock(&sa->login_lock);
	bool due = sa->logins[slot].account_id != account_id || now - sa->logins[slot].written >= LOGIN_WRITE_SECONDS;
	if (due) {
		sa->logins[slot].account_id = account_id;
		sa->logins[slot].written = now;
	}
	pthread_mutex_unlock(&sa->login_lock);
	if (!due || sa->p.pools[0] == NULL)
		return;
	struct login_job *j = xcalloc(1, sizeof(*j));
	j->sa = sa;
	j->account_id = account_id;
	j->at = now;
	snprintf(j->proto, sizeof(j->proto), "%s", proto);
	snprintf(j->ip, sizeof(j->ip), "%s", ip);
	pool_submit(sa->p.pools[0], login_write, NULL, NULL, j);
}

auth_login_hook_fn *serve_admin_login_hook(void)
{
	return login_hook;
}

/* ---- the object */

struct serve_admin *serve_admin_new(const struct serve_admin_parts *parts)
{
	struct serve_admin *sa = xcalloc(1, sizeof(*sa));
	sa->p = *parts;
	pthread_mutex_init(&sa->lock, NULL);
	pthread_mutex_init(&sa->login_lock, NULL);
	sa->ops = (struct webd_admin_ops){
		.ctx = sa,
		.queue_list = queue_list_cb,
		.queue_act = queue_act_cb,
		.queue_stats = queue_stats_cb,
		.dns = dns_cb,
		.dkim = dkim_cb,
		.certificate = certificate_cb,
		.disk = disk_cb,
		.gauges = gauges_cb,
	};
	return sa;
}

const struct webd_admin_ops *serve_admin_ops(struct serve_admin *sa)
{
	return &sa->ops;
}

const struct config *serve_admin_config(const struct serve_admin *sa)
{
	return sa->p.cfg;
}

struct store *serve_admin_store(const struct serve_admin *sa)
{
	return sa->p.store;
}

void serve_admin_free(struct serve_admin **sap)
{
	struct serve_admin *sa = *sap;
	if (sa == NULL)
		return;
	for (size_t i = 0; i < DNS_CACHE_MAX; i++)
		json_decref(sa->cache[i].result);
	pthread_mutex_destroy(&sa->lock);
	pthread_mutex_destroy(&sa->login_lock);
	free(sa);
	*sap = NULL;
}
