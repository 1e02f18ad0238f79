/* serve.c: the running server.
 *
 * Start-up: lock DIR and make it the working directory (serve_dir.c), load the TLS
 * context, check that no other process holds our ports, open one SO_REUSEPORT
 * socket per worker and port (while still root, if started as root), drop to the
 * configured user, open the store and the queue relative to DIR, start the worker
 * loops, then wait for signals on the main thread. SIGHUP re-reads postamt.conf and
 * the certificate and swaps them in for new connections (running connections keep
 * what they started with) and gives the queue its new routes; it logs the changed
 * keys that only a restart applies. SIGTERM/SIGINT close the listeners, send every
 * session CONN_SHUTDOWN, and wait up to timeout.shutdown seconds. */
#include "serve.h"
#include "serve_admin.h"
#include "serve_dir.h"
#include "serve_hooks.h"
#include "serve_settings.h"
#include "serve_tls.h"

#include "arena.h"
#include "buf.h"
#include "conn.h"
#include "dns.h"
#include "imapd.h"
#include "junk_learner.h"
#include "serve_index.h"
#include "login.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "net.h"
#include "pool.h"
#include "pop3d.h"
#include "sieved.h"
#include "queue.h"
#include "settings.h"
#include "smtpd.h"
#include "store.h"
#include "submit.h"
#include "tls.h"
#include "webd.h"
#include "webd_sieve.h"

#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <grp.h>
#include <inttypes.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum service {
	SVC_SMTP, SVC_SUBMISSIONS, SVC_SUBMISSION, SVC_POP3, SVC_POP3S, SVC_IMAP, SVC_IMAPS, SVC_HTTP, SVC_HTTPS,
	SVC_SIEVE, SVC_COUNT
};

struct service_def {
	const char *name;
	int port;
	enum conn_tls tls;
	const char *security; /* for the client table */
};

static const struct service_def services[SVC_COUNT] = {
	[SVC_SMTP] = { "smtp", PORT_SMTP, CONN_PLAIN, "STARTTLS" },
	[SVC_SUBMISSIONS] = { "submissions", PORT_SUBMISSIONS, CONN_TLS_IMPLICIT, "TLS" },
	[SVC_SUBMISSION] = { "submission", PORT_SUBMISSION, CONN_PLAIN, "STARTTLS" },
	[SVC_POP3] = { "pop3", PORT_POP3, CONN_PLAIN, "STARTTLS" },
	[SVC_POP3S] = { "pop3s", PORT_POP3S, CONN_TLS_IMPLICIT, "TLS" },
	[SVC_IMAP] = { "imap", PORT_IMAP, CONN_PLAIN, "STARTTLS" },
	[SVC_IMAPS] = { "imaps", PORT_IMAPS, CONN_TLS_IMPLICIT, "TLS" },
	[SVC_HTTP] = { "http", PORT_HTTP, CONN_PLAIN, "none (redirects)" },
	[SVC_HTTPS] = { "https", PORT_HTTPS, CONN_TLS_IMPLICIT, "TLS" },
	[SVC_SIEVE] = { "sieve", PORT_SIEVE, CONN_PLAIN, "STARTTLS" },
};

struct server {
	struct config *cfg;
	struct config *boot; /* the configuration the server started with (listeners, store, ...) */
	const char *conf_path;
	char *dir;           /* DIR's absolute path, for messages; files are reached relative to "." */
	int lock_fd;         /* holds the lock on DIR/postamt.lock */
	struct event_base *base; /* main thread: signals and the shutdown timer */
	struct conn_shared *shared;
	struct serve_tls tls;   /* owns the certificate of every listener, runs ACME */
	struct pool *pool;      /* blocking store work, queue submissions */
	struct pool *auth_pool; /* password hashing, kept apart so logins never delay store work */
	struct pool *msg_pool;  /* the pipeline's data stage and hooks: a hook waiting on DNS never delays
				 * IMAP, POP3 or JMAP work */
	struct store *store;
	struct queue *queue;
	struct dns *dns;        /* the resolver every part asks (dns.* keys) */
	struct auth_service *auth;
	struct smtpd_env smtp_env;
	struct pop3d_env pop3_env;
	struct sieved_env sieve_env;
	struct imapd_env imap_env;
	struct webd_env web_env;
	struct webd_sieve web_sieve;
	struct serve_admin *admin;   /* the admin API's and /metrics' callbacks */
	struct serve_alert *alert;   /* the alert webhook's thread (on admin), or NULL */
	struct submit *submit;       /* the message pipeline */
	struct serve_hooks hooks;    /* the pipeline's hooks: mailauth, spam, junk, dkim_sign */
	struct junk_learner *learner; /* applies the store's lessons to the models, on the pool */
	struct event *learn_timer;   /* main thread: wakes the learner now and then */
	struct index_catchup *index_catchup; /* writes the full-text index of new mail, on the pool */
	int nloops;
	struct loop **loops;
	struct conn_server **servers;
	struct settings_ref settings;
	struct settings_gen *gens;
	/* listener contexts: one per role, shared by all loops */
	struct smtpd_listener smtp_mx, smtp_sub, smtp_subs;
	struct pop3d_listener pop3;
	struct sieved_listener sieve;
	struct imapd_listener imap;
	struct webd_listener http, https;
	bool stopping;
	struct timespec stop_started;
	struct event *stop_timer;
	struct event *sig_event; /* reads sig_fd, a signalfd for TERM, INT and HUP */
	int sig_fd;
	int *fds; /* listening sockets until the loops take them: [service * nloops + loop] */
};

/* auth_lookup_fn: the account behind a login name, on a pool thread */
static int lookup_account(void *ctx, struct arena *a, const char *user, const char **hash_r, int64_t *id_r,
			  const char **address_r, const char **scram_r)
{
	struct server *srv = ctx;
	struct store_account acct;
	const char *error;
	int r = store_account_get(srv->store, a, user, &acct, &error);
	if (r <= 0) {
		if (r < 0 && r != STORE_EINVAL)
			log_error("event=store_error op=account_get error=%s", LOG_Q(error));
		return r == STORE_EINVAL ? 0 : r;
	}
	*hash_r = acct.password_hash;
	*id_r = acct.id;
	*address_r = acct.address;
	*scram_r = acct.scram;
	return 1;
}

/* auth_scram_save_fn: a SCRAM secret made at a login, on a pool thread */
static int save_scram(void *ctx, int64_t account_id, const char *hash, const char *secret)
{
	struct server *srv = ctx;
	const char *error;
	int r = store_account_set_scram(srv->store, account_id, hash, secret, &error);
	if (r < 0)
		log_error("event=store_error op=account_set_scram error=%s", LOG_Q(error));
	return r < 0 ? -1 : r;
}

/* The queue's routes from cfg, each with its login (route_auth) and TLS mode
 * (route_tls); the strings stay cfg's (the queue copies them). A route_auth.DOMAIN or
 * route_tls.DOMAIN without its own route.DOMAIN applies to DOMAIN's mail through
 * route.*: it becomes a route of its own to the same host. *n_r is the count;
 * free() the array. */
static struct queue_route *queue_routes(const struct config *cfg, size_t *n_r)
{
	struct queue_route *routes = xcalloc(cfg->nroutes + cfg->nroute_opts + 1, sizeof(*routes));
	size_t n = 0;
	const struct config_route *star = config_route_for(cfg, "*");
	for (size_t i = 0; i < cfg->nroutes + cfg->nroute_opts; i++) {
		const struct config_route *r = i < cfg->nroutes ? &cfg->routes[i] : star;
		const char *domain = i < cfg->nroutes ? r->domain : cfg->route_opts[i - cfg->nroutes].domain;
		if (i >= cfg->nroutes && (star == NULL || strcmp(domain, "*") == 0 ||
					  strcasecmp(config_route_for(cfg, domain)->domain, domain) == 0))
			continue; /* an option of a route listed above, or without any route */
		routes[n] = (struct queue_route){ .domain = domain,
						  .host = r->host,
						  .port = r->port,
						  .implicit_tls = config_route_implicit_tls(cfg, domain) };
		config_route_login(cfg, domain, &routes[n].auth_user, &routes[n].auth_password);
		n++;
	}
	*n_r = n;
	return routes;
}

static int open_queue(struct server *srv, const struct config *cfg, const char **error_r)
{
	struct dns_settings ds = serve_dns_settings(cfg);
	srv->dns = dns_new(&ds, error_r);
	if (srv->dns == NULL)
		return -1;
	size_t nroutes;
	struct queue_route *routes = queue_routes(cfg, &nroutes);
	struct queue_settings qs = {
		.hostname = cfg->hostname,
		.retry_initial = (unsigned)cfg->queue_retry_initial,
		.retry_max = (unsigned)cfg->queue_retry_max,
		.lifetime = (unsigned)cfg->queue_lifetime,
		.concurrency_per_dest = (unsigned)cfg->queue_conc_per_dest,
		.concurrency_total = (unsigned)cfg->queue_conc,
		.timeout_connect = (unsigned)cfg->queue_timeout_connect,
		.timeout_command = (unsigned)cfg->queue_timeout_command,
		.timeout_data_init = (unsigned)cfg->queue_timeout_data_init,
		.timeout_data_block = (unsigned)cfg->queue_timeout_data_block,
		.timeout_data_end = (unsigned)cfg->queue_timeout_data_end,
		.routes = routes,
		.nroutes = nroutes,
		.dns = srv->dns,
		.smtp_port = (uint16_t)cfg->queue_smtp_port,
		.no_starttls = !cfg->queue_starttls,
		.store = srv->store,
		.lease = (unsigned)cfg->queue_lease,
	};
	srv->queue = queue_open(".", &qs, error_r);
	free(routes); /* queue_open copies */
	return srv->queue == NULL ? -1 : 1; /* started once the pipeline takes its bounces */
}

static void listener_for(struct server *srv, enum service svc, const struct conn_handler **h_r, void **ctx_r)
{
	switch (svc) {
	case SVC_SMTP: *h_r = &smtpd_handler; *ctx_r = &srv->smtp_mx; break;
	case SVC_SUBMISSION: *h_r = &smtpd_handler; *ctx_r = &srv->smtp_sub; break;
	case SVC_SUBMISSIONS: *h_r = &smtpd_handler; *ctx_r = &srv->smtp_subs; break;
	case SVC_POP3: case SVC_POP3S: *h_r = &pop3d_handler; *ctx_r = &srv->pop3; break;
	case SVC_IMAP: case SVC_IMAPS: *h_r = &imapd_handler; *ctx_r = &srv->imap; break;
	case SVC_HTTP: *h_r = &webd_handler; *ctx_r = &srv->http; break;
	case SVC_HTTPS: *h_r = &webd_handler; *ctx_r = &srv->https; break;
	case SVC_SIEVE: *h_r = &sieved_handler; *ctx_r = &srv->sieve; break;
	case SVC_COUNT: abort();
	}
}

void serve_print_client_table(const struct config *cfg, FILE *out)
{
	static const struct { enum service svc; const char *what; } rows[] = {
		{ SVC_IMAPS, "IMAP (incoming)" }, { SVC_IMAP, "IMAP (incoming)" },
		{ SVC_POP3S, "POP3 (incoming)" }, { SVC_POP3, "POP3 (incoming)" },
		{ SVC_SUBMISSIONS, "SMTP (outgoing)" }, { SVC_SUBMISSION, "SMTP (outgoing)" },
		{ SVC_SMTP, "SMTP (MX, from other servers)" }, { SVC_HTTPS, "Webmail" },
		{ SVC_SIEVE, "ManageSieve (filters)" },
	};
	fprintf(out, "\nClient settings for postamt on %s\n", cfg->hostname);
	fprintf(out, "  %-31s %-22s %-6s %-9s %s\n", "service", "server", "port", "security", "user name");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct service_def *d = &services[rows[i].svc];
		const char *user = rows[i].svc == SVC_SMTP ? "(none)"
				   : rows[i].svc == SVC_HTTPS ? "full address" : "full address";
		fprintf(out, "  %-31s %-22s %-6d %-9s %s\n", rows[i].what, cfg->hostname, config_port(cfg, d->port),
			d->security, user);
	}
	fprintf(out, "  Webmail: https://%s:%d/\n", cfg->hostname, config_port(cfg, PORT_HTTPS));
	fprintf(out, "  Passwords: normal password; the certificate is %s\n\n", cfg->tls_cert);
	fflush(out);
}

/* Drops root to cfg->user. Returns 1, or -1 with a message. */
static int drop_privileges(const struct config *cfg, char *err, size_t errlen)
{
	if (geteuid() != 0)
		return 1;
	struct passwd *pw = getpwnam(cfg->user);
	if (pw == NULL) {
		snprintf(err, errlen,
			 "user '%s' does not exist: create it (scripts/install-deps does) or set 'user' in postamt.conf",
			 cfg->user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user '%s' is root; postamt does not serve clients as root", cfg->user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "cannot switch to user '%s': %s", cfg->user, strerror(errno));
		return -1;
	}
	/* nothing this process executes later may gain privileges again */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) { /* must be impossible now */
		snprintf(err, errlen, "privileges could not be dropped");
		return -1;
	}
	log_info("event=privileges_dropped user=%s uid=%u", cfg->user, (unsigned)pw->pw_uid);
	return 1;
}

static void loop_shutdown_cb(void *arg)
{
	struct conn_server *cs = arg;
	conn_server_stop_listening(cs);
	conn_server_shutdown(cs);
}

static double elapsed_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	size_t live = conn_shared_live(srv->shared);
	double waited = elapsed_since(&srv->stop_started);
	if (live == 0 || waited >= (double)srv->cfg->shutdown_grace) {
		if (live > 0)
			log_warn("event=shutdown_forced open_connections=%zu", live);
		event_base_loopexit(srv->base, NULL);
	}
}

static void begin_shutdown(struct server *srv, const char *why)
{
	if (srv->stopping) {
		log_warn("event=shutdown_now reason=second-signal");
		event_base_loopexit(srv->base, NULL);
		return;
	}
	srv->stopping = true;
	log_info("event=shutdown reason=%s open_connections=%zu", why, conn_shared_live(srv->shared));
	clock_gettime(CLOCK_MONOTONIC, &srv->stop_started);
	for (int i = 0; i < srv->nloops; i++)
		loop_post(srv->loops[i], loop_shutdown_cb, srv->servers[i]);
	srv->stop_timer = event_new(srv->base, -1, EV_PERSIST, stop_timer_cb, srv);
	struct timeval tv = { 0, 50 * 1000 };
	event_add(srv->stop_timer, &tv);
}

/* Logs the keys that differ from the running server's start and that a reload
 * cannot apply (ports, bind address, user, store and queue settings, ...), and
 * gives them their running value again in cfg, which then describes the server as
 * it runs. */
static void keep_restart_keys(const struct config *boot, struct config *cfg)
{
	const char *changed[128];
	size_t n = config_diff(boot, cfg, changed, sizeof(changed) / sizeof(changed[0]));
	if (n > sizeof(changed) / sizeof(changed[0]))
		n = sizeof(changed) / sizeof(changed[0]);
	struct buf keys = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (config_key_reloadable(changed[i]))
			continue;
		buf_printf(&keys, "%s%s", keys.len ? "," : "", changed[i]);
		config_copy_key(cfg, boot, changed[i]);
	}
	if (keys.len > 0)
		log_warn("event=reload_needs_restart keys=%s note=\"changed keys keep their old value until a restart\"",
			 buf_str(&keys));
	buf_free(&keys);
}

static void reload(struct server *srv)
{
	struct config *cfg;
	char *error;
	/* DIR is the working directory: the unprivileged user may not reach its path */
	if (config_load(".", "postamt.conf", &cfg, &error) < 0) {
		log_error("event=reload_failed file=%s error=%s keeping=old-configuration", LOG_Q(srv->conf_path),
			  LOG_Q(error));
		free(error);
		return;
	}
	free(cfg->data_dir);
	cfg->data_dir = xstrdup(srv->dir);
	char *problems;
	if (config_check(cfg, true, &problems) > 0) {
		for (char *p = problems; p != NULL && *p;) {
			char *nl = strchr(p, '\n');
			log_error("event=reload_failed problem=\"%.*s\"", nl ? (int)(nl - p) : (int)strlen(p), p);
			p = nl ? nl + 1 : NULL;
		}
		free(problems);
		config_free(&cfg);
		return;
	}
	char err[512];
	SSL_CTX *ctx = serve_tls_ctx(&srv->tls, cfg, err, sizeof(err));
	if (ctx == NULL) {
		log_error("event=reload_failed error=%s keeping=old-configuration", LOG_Q(err));
		config_free(&cfg);
		return;
	}
	conn_shared_set_tls(srv->shared, ctx);
	SSL_CTX_free(ctx);
	keep_restart_keys(srv->boot, cfg); /* before anything below reads cfg */
	struct conn_limits lim = serve_conn_limits(cfg);
	conn_shared_set_limits(srv->shared, &lim);
	auth_service_set_limits(srv->auth, &(struct login_limits){ (size_t)cfg->auth_failures_per_min,
								  (size_t)cfg->auth_failures_per_account,
								  (size_t)cfg->auth_in_flight_per_ip });
	auth_service_set_cache_ttl(srv->auth, cfg->auth_cache_ttl);
	auth_service_set_scram(srv->auth, save_scram, (unsigned)cfg->auth_scram_iterations);
	store_set_disk_reserve(srv->store, (uint64_t)cfg->disk_reserve);
	size_t nroutes;
	struct queue_route *routes = queue_routes(cfg, &nroutes);
	queue_reload(srv->queue, cfg->hostname, routes, nroutes);
	free(routes); /* queue_reload copies */
	enum log_level level;
	if (log_level_parse(cfg->log_level, &level) > 0)
		log_set_level(level);
	serve_settings_publish(&srv->gens, &srv->settings, cfg);
	serve_hooks_reload(&srv->hooks, cfg);
	junk_learner_set(srv->learner, &(struct junk_learner_settings){ (size_t)cfg->learn_batch,
									 (size_t)cfg->junk_max_bytes });
	/* sessions never see struct config, so the old one can go now (the first one
	 * stays as srv->boot) */
	if (srv->cfg != srv->boot)
		config_free(&srv->cfg);
	srv->cfg = cfg;
	log_info("event=reloaded routes=%zu", cfg->nroutes);
}

static void signal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (!srv->stopping)
				reload(srv);
			continue;
		}
		begin_shutdown(srv, si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
	}
}

static int open_listeners(struct server *srv, int *fds, char *err, size_t errlen)
{
	/* first make sure no other process holds any of our ports: SO_REUSEPORT would
	 * otherwise let the kernel split connections between it and us */
	for (int s = 0; s < SVC_COUNT; s++) {
		int port = config_port(srv->cfg, services[s].port);
		char e[256];
		if (net_port_free(srv->cfg->bind, port, e, sizeof(e)) <= 0) {
			snprintf(err, errlen, "cannot listen on %s port %d (%s): %s",
				 srv->cfg->bind[0] ? srv->cfg->bind : "*", port, services[s].name, e);
			return -1;
		}
	}
	for (int s = 0; s < SVC_COUNT; s++) {
		int port = config_port(srv->cfg, services[s].port);
		for (int i = 0; i < srv->nloops; i++) {
			char e[256];
			int fd = net_listen(srv->cfg->bind, port, e, sizeof(e));
			if (fd < 0) {
				snprintf(err, errlen, "cannot listen on %s port %d (%s): %s",
					 srv->cfg->bind[0] ? srv->cfg->bind : "*", port, services[s].name, e);
				return -1;
			}
			fds[s * srv->nloops + i] = fd;
		}
	}
	return 1;
}

static void close_conns_cb(void *arg)
{
	conn_server_close_all(arg); /* on the loop's own thread: sessions close as they would */
}

static void nothing_cb(void *arg)
{
}

/* The drain step of a stop, while the loops still run: the connections left after
 * the grace period are closed on their own loops, then the pools and the store
 * finish what is queued and every completion (a login, a pool job, a store write)
 * runs on its loop and frees its session. Freeing the loops first would let a pool
 * thread post to a freed loop. Rounds repeat while anything ran, since a completion
 * may queue the next step (a login's lookup queues its hash). */
static void drain(struct server *srv)
{
	junk_learner_stop(srv->learner); /* what is left waits in the store for the next start */
	index_catchup_stop(srv->index_catchup); /* the same */
	for (int i = 0; i < srv->nloops; i++)
		loop_call(srv->loops[i], close_conns_cb, srv->servers[i]);
	uint64_t ran = 0;
	for (;;) {
		uint64_t n = pool_wait_idle(srv->auth_pool) + pool_wait_idle(srv->msg_pool) + pool_wait_idle(srv->pool) +
			     store_wait_idle(srv->store);
		for (int i = 0; i < srv->nloops; i++)
			loop_call(srv->loops[i], nothing_cb, NULL); /* runs what was posted */
		if (n == ran)
			break;
		ran = n;
	}
}

/* Frees whatever start-up got to; safe on a partly started server. */
static void server_cleanup(struct server *srv)
{
	serve_tls_stop(&srv->tls); /* the ACME thread installs into srv->shared */
	for (int i = 0; i < srv->nloops && srv->loops != NULL; i++) {
		if (srv->loops[i] != NULL)
			loop_stop_and_join(srv->loops[i]);
	}
	junk_learner_stop(srv->learner); /* its jobs queue no successor while the pool finishes */
	index_catchup_stop(srv->index_catchup);
	/* before the loops are freed: a straggling job may still post to one (dropped) */
	pool_free(&srv->auth_pool);
	pool_free(&srv->msg_pool);
	pool_free(&srv->pool);
	/* after the pool (its jobs call the admin ops), before the queue, the store and DNS
	 * that its alert thread asks */
	serve_alert_stop(&srv->alert);
	serve_admin_free(&srv->admin);
	junk_learner_free(&srv->learner); /* after the pool: no job of it runs any more */
	index_catchup_free(&srv->index_catchup);
	for (int i = 0; i < srv->nloops && srv->loops != NULL; i++) {
		conn_server_free(&srv->servers[i]);
		loop_free(&srv->loops[i]);
	}
	for (int i = 0; srv->fds != NULL && i < SVC_COUNT * srv->nloops; i++)
		if (srv->fds[i] >= 0)
			close(srv->fds[i]);
	free(srv->fds);
	auth_service_free(&srv->auth);
	pop3_locks_free(&srv->pop3_env.locks);
	imapd_users_free(&srv->imap_env.users);
	webd_state_free(&srv->web_env.state);
	queue_close(&srv->queue); /* after the loops and the pool: it may still deliver bounces */
	submit_free(&srv->submit); /* after the pool and the queue: both call into it */
	serve_hooks_free(&srv->hooks); /* hooks of the pipeline: after it */
	dns_free(&srv->dns);       /* after every loop, pool, the queue and the pipeline's hooks */
	store_close(&srv->store);
	conn_shared_free(&srv->shared);
	serve_tls_free(&srv->tls); /* after every context that refers to its challenges */
	free(srv->loops);
	free(srv->servers);
	serve_settings_free(&srv->gens);
	if (srv->cfg == srv->boot)
		srv->boot = NULL;
	config_free(&srv->boot);
	if (srv->sig_event != NULL) {
		event_free(srv->sig_event);
		close(srv->sig_fd);
	}
	if (srv->stop_timer != NULL)
		event_free(srv->stop_timer);
	if (srv->learn_timer != NULL)
		event_free(srv->learn_timer);
	if (srv->base != NULL)
		event_base_free(srv->base);
	config_free(&srv->cfg);
}

static int add_hooks(struct server *srv, const struct config *cfg)
{
	const char *error;
	if (serve_hooks_add(&srv->hooks, cfg, srv->submit, srv->store, srv->dns, &srv->settings, &error) < 0) {
		fprintf(stderr, "postamt: %s\n", error);
		return -1;
	}
	/* what users do with their mail trains the junk filter (on the pool, in batches) */
	srv->learner = junk_learner_new(srv->store, srv->hooks.junk, srv->pool,
					&(struct junk_learner_settings){ (size_t)cfg->learn_batch,
									 (size_t)cfg->junk_max_bytes });
	srv->index_catchup = index_catchup_start(srv->store, srv->pool, srv->base);
	return 1;
}

/* How often the learner looks for lessons nobody told it of. */
#define LEARN_TICK_SECONDS 60

static void learn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *srv = arg;
	junk_learner_kick(srv->learner);
}

/* Everything up to serving: TLS, sockets, privileges, store, loops. Returns 1, or
 * -1 after printing why. */
static int server_start(struct server *srv)
{
	struct config *cfg = srv->cfg;
	char err[512];
	srv->base = event_base_new();
	/* TERM, INT and HUP stay blocked in every thread (serve_run) and the main loop
	 * reads them from a signalfd: no asynchronous handler runs at all. (With one,
	 * ThreadSanitizer's deferred delivery lost a SIGTERM that came while the main
	 * thread was entering its first epoll_wait.) */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	srv->sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (srv->sig_fd < 0) {
		fprintf(stderr, "postamt: signalfd: %s\n", strerror(errno));
		return -1;
	}
	srv->sig_event = event_new(srv->base, srv->sig_fd, EV_READ | EV_PERSIST, signal_cb, srv);
	event_add(srv->sig_event, NULL);
	char *problems;
	if (config_check(cfg, true, &problems) > 0) {
		fprintf(stderr, "postamt: %s", problems);
		free(problems);
		return -1;
	}
	SSL_CTX *ctx = NULL;
	if (serve_tls_init(&srv->tls, cfg, err, sizeof(err)) > 0)
		ctx = serve_tls_ctx(&srv->tls, cfg, err, sizeof(err));
	if (ctx == NULL) {
		fprintf(stderr, "postamt: %s\n", err);
		return -1;
	}
	struct conn_limits lim = serve_conn_limits(cfg);
	srv->shared = conn_shared_new(&lim);
	srv->tls.shared = srv->shared;
	conn_shared_set_tls(srv->shared, ctx);
	SSL_CTX_free(ctx);

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	srv->nloops = cfg->workers > 0 ? (int)cfg->workers : (ncpu > 0 ? (int)ncpu : 1);
	srv->fds = xcalloc((size_t)SVC_COUNT * (size_t)srv->nloops, sizeof(int));
	for (int i = 0; i < SVC_COUNT * srv->nloops; i++)
		srv->fds[i] = -1;
	bool was_root = geteuid() == 0;
	if (open_listeners(srv, srv->fds, err, sizeof(err)) < 0 || drop_privileges(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "postamt: %s\n", err);
		return -1;
	}
	struct passwd *me = was_root ? NULL : getpwuid(geteuid());
	if (serve_dir_check(srv->dir, was_root ? cfg->user : me != NULL ? me->pw_name : "(this user)", err,
			    sizeof(err)) < 0) {
		fprintf(stderr, "postamt: %s\n", err);
		return -1;
	}
	/* the store's own limit leaves room for the trace headers the server adds */
	struct store_options sopt = { .recover = true, .create = true, .migrate = true,
				      .message_max = (uint64_t)cfg->message_max + 64 * 1024,
				      .disk_reserve = (uint64_t)cfg->disk_reserve,
				      .reserve_file = (uint64_t)cfg->disk_reserve_file,
				      .index_text_max = (uint64_t)cfg->index_text_max,
				      .contacts_received_max = (size_t)cfg->webmail_contacts,

				      /* `postamt import` in another process announces its changes */
				      .watch_ms = 250,
				      .postgresql = config_store_pg(cfg) };
	const char *serr;
	if (store_open(".", &sopt, &srv->store, &serr) < 0) {
		fprintf(stderr, "postamt: cannot open the store in %s: %s\n", srv->dir, serr);
		return -1;
	}
	if (sopt.postgresql != NULL)
		log_warn("event=store_backend_partial backend=postgresql shared=\"domains accounts aliases passwords queue"
			 " sessions mailboxes messages events webmail sieve junk dkim\" missing=\""
			 "jmap-email-query jmap-email-set fulltext-index import backup verify\" refusal=\"%s\"",
			 STORE_PG_MISSING);
	if (open_queue(srv, cfg, &serr) < 0) {
		fprintf(stderr, "postamt: cannot start the outbound queue: %s\n", serr);
		return -1;
	}
	srv->pool = pool_new((int)cfg->pool_threads);
	/* a yescrypt hash is ~50 ms of CPU: at most half the cores hash at once, so the
	 * event loops keep theirs under a login storm */
	srv->auth_pool = pool_new(srv->nloops > 1 ? srv->nloops / 2 : 1);
	srv->auth = auth_service_new(srv->pool, srv->auth_pool, lookup_account, srv,
				     &(struct login_limits){ (size_t)cfg->auth_failures_per_min,
							     (size_t)cfg->auth_failures_per_account,
							     (size_t)cfg->auth_in_flight_per_ip },
				     cfg->auth_cache_ttl);
	auth_service_set_scram(srv->auth, save_scram, (unsigned)cfg->auth_scram_iterations);
	/* messages get their own threads: the hooks may wait on DNS (mailauth.timeout),
	 * which must delay only other messages, never the store work of open sessions */
	srv->msg_pool = pool_new((int)cfg->pool_threads_messages);
	srv->submit = submit_new(srv->store, srv->queue, &srv->settings, srv->msg_pool);
	if (add_hooks(srv, cfg) < 0)
		return -1;
	srv->smtp_env = (struct smtpd_env){ .auth = srv->auth, .pool = srv->pool, .submit = srv->submit,
					    .client_check = serve_hooks_client_check(&srv->hooks) };
	srv->pop3_env = (struct pop3d_env){ .store = srv->store, .auth = srv->auth, .locks = pop3_locks_new() };

	serve_settings_publish(&srv->gens, &srv->settings, cfg);
	queue_set_bounce(srv->queue, submit_bounce, srv->submit); /* bounces go through the pipeline too */
	if (queue_start(srv->queue, &serr) < 0) {
		fprintf(stderr, "postamt: cannot start the outbound queue: %s\n", serr);
		return -1;
	}
	srv->smtp_mx = (struct smtpd_listener){ SMTPD_MX, &srv->settings, &srv->smtp_env };
	srv->smtp_sub = (struct smtpd_listener){ SMTPD_SUBMISSION, &srv->settings, &srv->smtp_env };
	srv->smtp_subs = (struct smtpd_listener){ SMTPD_SUBMISSIONS, &srv->settings, &srv->smtp_env };
	srv->pop3 = (struct pop3d_listener){ &srv->settings, &srv->pop3_env };
	srv->sieve_env = (struct sieved_env){ .store = srv->store, .auth = srv->auth, .pool = srv->pool };
	srv->sieve = (struct sieved_listener){ &srv->settings, &srv->sieve_env };
	srv->imap_env = (struct imapd_env){ .store = srv->store, .auth = srv->auth, .pool = srv->pool,
					    .users = imapd_users_new() };
	srv->imap = (struct imapd_listener){ &srv->settings, &srv->imap_env };
	webd_sieve_init(&srv->web_sieve);
	srv->admin = serve_admin_new(&(struct serve_admin_parts){
		.cfg = srv->boot, .store = srv->store, .queue = srv->queue, .dns = srv->dns,
		.pools = { srv->pool, srv->msg_pool, srv->auth_pool } });
	auth_service_set_login_hook(srv->auth, serve_admin_login_hook(), srv->admin);
	metrics_events_init((size_t)cfg->admin_recent_events);
	srv->web_env = (struct webd_env){ .store = srv->store, .auth = srv->auth, .pool = srv->pool,
					  .submit = srv->submit, .challenges = srv->tls.challenges,
					  .assets = webd_assets, .nassets = webd_nassets, .state = webd_state_new(),
					  .sieve = &srv->web_sieve, .admin = serve_admin_ops(srv->admin) };
	if (serve_alert_start(srv->admin, &srv->alert, &serr) < 0) {
		fprintf(stderr, "postamt: %s\n", serr);
		return -1;
	}
	srv->http = (struct webd_listener){ false, &srv->settings, &srv->web_env };
	srv->https = (struct webd_listener){ true, &srv->settings, &srv->web_env };

	srv->loops = xcalloc((size_t)srv->nloops, sizeof(*srv->loops));
	srv->servers = xcalloc((size_t)srv->nloops, sizeof(*srv->servers));
	for (int i = 0; i < srv->nloops; i++) {
		srv->loops[i] = loop_new(i);
		srv->servers[i] = conn_server_new(srv->loops[i], srv->shared);
		for (int s = 0; s < SVC_COUNT; s++) {
			const struct conn_handler *h;
			void *hctx;
			const char *e;
			listener_for(srv, (enum service)s, &h, &hctx);
			int fd = srv->fds[s * srv->nloops + i];
			srv->fds[s * srv->nloops + i] = -1; /* the listener owns it now */
			if (conn_server_listen(srv->servers[i], fd, services[s].tls, h, hctx, &e) < 0) {
				fprintf(stderr, "postamt: %s\n", e);
				return -1;
			}
		}
		const char *e;
		if (loop_start(srv->loops[i], &e) < 0) {
			fprintf(stderr, "postamt: %s\n", e);
			return -1;
		}
	}
	/* lessons left from before the last stop, and then now and then those another
	 * process (a command) recorded: the store tells the learner only of its own */
	junk_learner_kick(srv->learner);
	srv->learn_timer = event_new(srv->base, -1, EV_PERSIST, learn_timer_cb, srv);
	event_add(srv->learn_timer, &(struct timeval){ LEARN_TICK_SECONDS, 0 });
	/* last: the listeners answer its challenges from now on */
	srv->tls.dns = srv->dns; /* made with the queue */
	if (serve_tls_start_acme(&srv->tls, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "postamt: acme: %s\n", err);
		return -1;
	}
	return 1;
}

int serve_run(struct config *cfg, const char *conf_path)
{
	struct server srv = { .cfg = cfg, .boot = cfg, .conf_path = conf_path, .lock_fd = -1 };
	/* files the server creates (database, blobs, queue) are its user's alone */
	umask(077);
	char err[512];
	if (serve_dir_enter(cfg->data_dir, &srv.lock_fd, err, sizeof(err)) <= 0) {
		fprintf(stderr, "postamt: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	srv.dir = xstrdup(cfg->data_dir);
	enum log_level level = LOG_INFO;
	log_level_parse(cfg->log_level, &level);
	log_set_level(level);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file-size limit: writes fail with EFBIG (disk full), no crash */
	/* From here to the exit TERM, INT and HUP stay blocked, and every thread started
	 * later inherits the block: only the main loop takes them, from its signalfd (one
	 * that came while starting is read there once the loop runs; one that comes
	 * while draining is never acted on). */
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	int status = 1;
	if (server_start(&srv) > 0) {
		serve_print_client_table(srv.cfg, stdout);
		log_info("event=ready hostname=%s workers=%d port_offset=%" PRId64 " bind=%s", srv.cfg->hostname,
			 srv.nloops, srv.cfg->port_offset, srv.cfg->bind[0] ? srv.cfg->bind : "*");
		event_base_dispatch(srv.base);
		drain(&srv);
		status = 0;
	}
	server_cleanup(&srv);
	log_info("event=%s", status == 0 ? "stopped" : "start_failed");
	free(srv.dir);
	close(srv.lock_fd); /* the lock goes with it */
	return status;
}
