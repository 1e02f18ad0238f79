/* serve_alert.c: alerts that do not depend on mail (alert.webhook, docs/admin.md
 * "Alerts").
 *
 * One thread of its own wakes every alert.interval seconds (the first time at once)
 * and checks: the oldest queued message's age (alert.queue_age), the days left on
 * the certificate in use (alert.cert_days), each local domain's DNS records (alert.dns,
 * the admin pages' cached check) and the data directory's disk use
 * (alert.disk_percent). A problem that appears is POSTed to the webhook as one JSON
 * object (Content-Type: application/json); while it lasts it is posted again every
 * alert.repeat seconds, and once more with "state": "resolved" when it clears. The
 * POST is a blocking HTTP/1.1 request with a 10 s timeout (https:// verified against
 * the system's CA store); a failure is logged and retried at the next check. */
#include "serve_admin.h"

#include "log.h"
#include "store.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ALERT_KEYS_MAX 64 /* problems tracked at once (one per domain for DNS) */
#define ALERT_TIMEOUT_SECONDS 10

struct alert_state {
	char key[300]; /* "queue", "certificate", "disk", "dns:DOMAIN" */
	bool firing;
	bool seen;     /* found in the current check */
	time_t posted; /* last POST while firing */
};

struct serve_alert {
	struct serve_admin *sa;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	struct alert_state st[ALERT_KEYS_MAX];
};

/* ---- the POST */

struct url {
	bool tls;
	char host[256];
	char port[8];
	char path[2048];
};

static int url_parse(const char *s, struct url *u)
{
	memset(u, 0, sizeof(*u));
	u->tls = strncmp(s, "https://", 8) == 0;
	s += u->tls ? 8 : 7;
	size_t hl = strcspn(s, "/");
	const char *hp = s;
	s += hl;
	snprintf(u->path, sizeof(u->path), "%s", *s == '/' ? s : "/");
	snprintf(u->port, sizeof(u->port), "%s", u->tls ? "443" : "80");
	const char *colon = NULL;
	if (hl > 0 && hp[0] == '[') {
		const char *end = memchr(hp, ']', hl);
		if (end == NULL)
			return -1;
		snprintf(u->host, sizeof(u->host), "%.*s", (int)(end - hp - 1), hp + 1);
		colon = end + 1 < hp + hl && end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = memchr(hp, ':', hl);
		size_t n = colon != NULL ? (size_t)(colon - hp) : hl;
		if (n == 0 || n >= sizeof(u->host))
			return -1;
		snprintf(u->host, sizeof(u->host), "%.*s", (int)n, hp);
	}
	if (colon != NULL) {
		size_t pl = (size_t)(hp + hl - colon - 1);
		if (pl == 0 || pl >= sizeof(u->port))
			return -1;
		snprintf(u->port, sizeof(u->port), "%.*s", (int)pl, colon + 1);
	}
	return u->host[0] != '\0' ? 1 : -1;
}

static int tcp_connect(const struct url *u, const char **error_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
		return *error_r = "cannot resolve the webhook's host", -1;
	int fd = -1;
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		struct timeval tv = { ALERT_TIMEOUT_SECONDS, 0 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* connect too (Linux) */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		*error_r = "cannot connect to the webhook";
	return fd;
}

/* POSTs body to url; returns the HTTP status, or -1 with *error_r. */
static int http_post(const char *url, const char *body, const char **error_r)
{
	struct url u;
	if (url_parse(url, &u) < 0)
		return *error_r = "bad webhook URL", -1;
	int fd = tcp_connect(&u, error_r);
	if (fd < 0)
		return -1;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int status = -1;
	if (u.tls) {
		ctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_default_verify_paths(ctx);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		SSL_set_tlsext_host_name(ssl, u.host);
		SSL_set1_host(ssl, u.host);
		if (SSL_connect(ssl) != 1) {
			*error_r = "TLS handshake with the webhook failed";
			goto out;
		}
	}
	char *req = NULL;
	int n = asprintf(&req,
			 "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: postamt\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 u.path, u.host, strlen(body), body);
	if (n < 0) {
		*error_r = "out of memory";
		goto out;
	}
	int w = ssl != NULL ? SSL_write(ssl, req, n) : (int)write(fd, req, (size_t)n);
	free(req);
	if (w != n) {
		*error_r = "cannot send to the webhook";
		goto out;
	}
	char line[256];
	size_t got = 0;
	while (got < sizeof(line) - 1 && memchr(line, '\n', got) == NULL) {
		int r = ssl != NULL ? SSL_read(ssl, line + got, (int)(sizeof(line) - 1 - got))
				    : (int)read(fd, line + got, sizeof(line) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	line[got] = '\0';
	int code;
	if (sscanf(line, "HTTP/1.%*d %d", &code) != 1) {
		*error_r = "no HTTP answer from the webhook";
		goto out;
	}
	status = code;
out:
	if (ssl != NULL) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	ERR_clear_error();
	close(fd);
	return status;
}

/* ---- the checks */

static struct alert_state *state_of(struct serve_alert *al, const char *key)
{
	struct alert_state *free_slot = NULL;
	for (size_t i = 0; i < ALERT_KEYS_MAX; i++) {
		if (al->st[i].key[0] != '\0' && strcmp(al->st[i].key, key) == 0)
			return &al->st[i];
		if (free_slot == NULL && al->st[i].key[0] == '\0')
			free_slot = &al->st[i];
	}
	if (free_slot != NULL)
		snprintf(free_slot->key, sizeof(free_slot->key), "%s", key);
	return free_slot;
}

static void post(struct serve_alert *al, const char *kind, const char *key, bool firing, const char *message,
		 json_int_t value, json_int_t threshold)
{
	const struct config *cfg = serve_admin_config(al->sa);
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *j = json_pack("{sssssssssssssIsI}", "alert", kind, "key", key, "state", firing ? "firing" : "resolved",
			      "host", cfg->hostname, "time", when, "message", message, "value", value, "threshold",
			      threshold);
	char *body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	const char *err = NULL;
	int st = http_post(cfg->alert_webhook, body, &err);
	if (st >= 200 && st < 300)
		log_info("event=alert_posted alert=%s state=%s status=%d", LOG_Q(key), firing ? "firing" : "resolved",
			 st);
	else if (st > 0)
		log_warn("event=alert_post_failed alert=%s status=%d", LOG_Q(key), st);
	else
		log_warn("event=alert_post_failed alert=%s error=%s", LOG_Q(key), LOG_Q(err != NULL ? err : "-"));
	free(body);
	struct alert_state *s = state_of(al, key);
	if (s != NULL && st >= 200 && st < 300)
		s->posted = now;
}

/* One finding of this check: a problem (firing) or its absence. */
static void found(struct serve_alert *al, const char *kind, const char *key, bool problem, const char *message,
		  json_int_t value, json_int_t threshold)
{
	const struct config *cfg = serve_admin_config(al->sa);
	struct alert_state *s = state_of(al, key);
	if (s == NULL)
		return; /* more problems than slots: the first ones are reported */
	s->seen = true;
	time_t now = time(NULL);
	if (problem && (!s->firing || now - s->posted >= cfg->alert_repeat)) {
		s->firing = true;
		post(al, kind, key, true, message, value, threshold);
	} else if (!problem && s->firing) {
		s->firing = false;
		post(al, kind, key, false, message, value, threshold);
	}
}

static void check_all(struct serve_alert *al)
{
	struct serve_admin *sa = al->sa;
	const struct config *cfg = serve_admin_config(sa);
	const struct webd_admin_ops *ops = serve_admin_ops(sa);
	const char *err;
	char msg[512];
	for (size_t i = 0; i < ALERT_KEYS_MAX; i++)
		al->st[i].seen = false;
	size_t nq;
	int64_t oldest;
	if (ops->queue_stats(ops->ctx, &nq, &oldest, &err) > 0) {
		json_int_t age = oldest > 0 ? (json_int_t)(time(NULL) - oldest) : 0;
		snprintf(msg, sizeof(msg), "the oldest of %zu queued messages waits for %lld s", nq, (long long)age);
		found(al, "queue", "queue", age >= cfg->alert_queue_age, msg, age, cfg->alert_queue_age);
	}
	json_t *c = serve_admin_certificate(sa, &err);
	if (c != NULL) {
		json_int_t days = json_integer_value(json_object_get(c, "daysLeft"));
		snprintf(msg, sizeof(msg), "the certificate for %s expires on %s (%lld days)",
			 json_string_value(json_object_get(c, "subject")),
			 json_string_value(json_object_get(c, "notAfter")), (long long)days);
		found(al, "certificate", "certificate", days < cfg->alert_cert_days, msg, days, cfg->alert_cert_days);
		json_decref(c);
	}
	uint64_t total, avail;
	if (serve_admin_disk(&total, &avail) > 0) {
		json_int_t pct = (json_int_t)((total - avail) * 100 / total);
		snprintf(msg, sizeof(msg), "the data directory's disk is %lld %% full", (long long)pct);
		found(al, "disk", "disk", pct >= cfg->alert_disk_percent, msg, pct, cfg->alert_disk_percent);
	}
	if (cfg->alert_dns) {
		struct arena *a = arena_new();
		const char **doms;
		if (store_domain_list(serve_admin_store(sa), a, &doms, &err) > 0) {
			for (size_t i = 0; doms[i] != NULL; i++) {
				int p = serve_admin_dns_problems(sa, doms[i], &err);
				if (p < 0)
					continue;
				char key[300];
				snprintf(key, sizeof(key), "dns:%s", doms[i]);
				snprintf(msg, sizeof(msg), "%d DNS records of %s are missing or different", p, doms[i]);
				found(al, "dns", key, p > 0, msg, p, 0);
			}
		}
		arena_free(&a);
	}
	/* a problem whose subject is gone (a domain removed) is forgotten quietly */
	for (size_t i = 0; i < ALERT_KEYS_MAX; i++)
		if (!al->st[i].seen)
			memset(&al->st[i], 0, sizeof(al->st[i]));
}

static void *alert_thread(void *arg)
{
	struct serve_alert *al = arg;
	const struct config *cfg = serve_admin_config(al->sa);
	pthread_mutex_lock(&al->lock);
	while (!al->stop) {
		pthread_mutex_unlock(&al->lock);
		check_all(al);
		pthread_mutex_lock(&al->lock);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += cfg->alert_interval;
		while (!al->stop && pthread_cond_timedwait(&al->cond, &al->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&al->lock);
	return NULL;
}

int serve_alert_start(struct serve_admin *sa, struct serve_alert **alert_r, const char **error_r)
{
	*alert_r = NULL;
	if (serve_admin_config(sa)->alert_webhook[0] == '\0')
		return 1;
	struct url u;
	if (url_parse(serve_admin_config(sa)->alert_webhook, &u) < 0)
		return *error_r = "alert.webhook: cannot parse the URL", -1;
	struct serve_alert *al = xcalloc(1, sizeof(*al));
	al->sa = sa;
	pthread_mutex_init(&al->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&al->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&al->thread, NULL, alert_thread, al) != 0) {
		pthread_cond_destroy(&al->cond);
		pthread_mutex_destroy(&al->lock);
		free(al);
		return *error_r = "cannot start the alert thread", -1;
	}
	*alert_r = al;
	return 1;
}

void serve_alert_stop(struct serve_alert **alert_p)
{
	struct serve_alert *al = *alert_p;
	if (al == NULL)
		return;
	pthread_mutex_lock(&al->lock);
	al->stop = true;
	pthread_cond_signal(&al->cond);
	pthread_mutex_unlock(&al->lock);
	pthread_join(al->thread, NULL);
	pthread_cond_destroy(&al->cond);
	pthread_mutex_destroy(&al->lock);
	free(al);
	*alert_p = NULL;
}
