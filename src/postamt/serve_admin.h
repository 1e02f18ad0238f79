/* serve_admin.h: what the admin API and /metrics get from the composition root
 * (struct webd_admin_ops): the queue, DNS records and their check, DKIM keys, the
 * certificate in use, the disk; and the alert webhook's thread (serve_alert.c), which
 * stands on the admin object: serve.c starts and stops it, serve_admin.c never calls
 * it. */
#ifndef POSTAMT_SERVE_ADMIN_H
#define POSTAMT_SERVE_ADMIN_H

#include "config.h"
#include "pool.h"
#include "webd.h"

#include <stdint.h>

struct store;
struct queue;
struct dns;
struct serve_admin;

/* The parts the callbacks use; none is owned. cfg must outlive the object (the boot
 * configuration). */
struct serve_admin_parts {
	const struct config *cfg;
	struct store *store;
	struct queue *queue;
	struct dns *dns;
	struct pool *pools[3]; /* the store pool, the message pool, the hashing pool (for /metrics) */
};
struct serve_admin *serve_admin_new(const struct serve_admin_parts *parts);
/* The ops for webd_env.admin (valid as long as the object). */
const struct webd_admin_ops *serve_admin_ops(struct serve_admin *sa);
/* The hook for auth_service_set_login_hook (ctx: the object): records each account's
 * last login in the store, at most hourly per account. */
#include "login.h"
auth_login_hook_fn *serve_admin_login_hook(void);
/* Frees. *sap = NULL. After serve_alert_stop, before the queue closes. */
void serve_admin_free(struct serve_admin **sap);

/* ---- for serve_alert.c */
const struct config *serve_admin_config(const struct serve_admin *sa);
struct store *serve_admin_store(const struct serve_admin *sa);
/* Drops domain's cached DNS check. */
void serve_admin_dns_forget(struct serve_admin *sa, const char *domain);
/* The data directory's file system: its size and what the server may still use.
 * Returns 1, or -1. */
int serve_admin_disk(uint64_t *total_r, uint64_t *free_r);
/* The certificate in use as JSON (its one reader: until ACME can say which
 * certificate it installed, the file tls.cert names). NULL with *error_r. */
struct json_t *serve_admin_certificate(struct serve_admin *sa, const char **error_r);
/* Problems found in domain's DNS records (checked at most every ten minutes; cached). */
int serve_admin_dns_problems(struct serve_admin *sa, const char *domain, const char **error_r);

/* ---- serve_alert.c: the alert webhook's thread */
struct serve_alert;
/* When alert.webhook is set, starts the thread that checks every alert.interval
 * seconds (the first check at once) and POSTs each problem to alert.webhook; else
 * *alert_r = NULL. Returns 1, or -1 with *error_r. sa must outlive the thread. */
int serve_alert_start(struct serve_admin *sa, struct serve_alert **alert_r, const char **error_r);
/* Stops and joins the thread (a POST in flight ends within its timeout); *alert_p = NULL. */
void serve_alert_stop(struct serve_alert **alert_p);

#endif
