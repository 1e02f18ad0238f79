/* admin_api.c: the admin API (/admin/api/..., docs/admin-api.md) and the /admin page.
 *
 * A request is authenticated as any other (web_auth: the login cookie with the CSRF
 * check for POST, or HTTP Basic), then, on a pool thread, the account's admin flag is
 * read from the store on every request (never trusted from the browser or a cache), so
 * `postamt user admin A off` acts at once on open sessions. Someone who is not an admin
 * gets 403 and nothing else (the page: 404), and the refusal counts as a failed login
 * in the limiter that every protocol shares; an address over that limit gets 429 for
 * every admin request. The decoded request (admin_req.c) runs here against the store
 * and, for the queue, DNS, DKIM, the certificate and the disk, the callbacks that
 * serve supplies (struct webd_admin_ops). Every change is logged as
 * `event=admin_action admin=... action=... target=... result=...`. */
#include "admin.h"
#include "webd_int.h"

#include "auth.h"
#include "log.h"
#include "login.h"
#include "metrics.h"
#include "scram.h"
#include "store.h"
#include "store_junk.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct admin_job {
	struct web_session *ws;
	const struct webd_env *env;
	int64_t account_id;
	char address[WEB_ADDRESS_MAX];
	char ip[64];
	char method[16];
	char path[256];
	char *query;
	struct buf body;
	bool page; /* GET /admin: only the flag is wanted */
	/* out */
	bool is_admin;
	int status;
	json_t *out;
};

static json_t *err_json(const char *msg)
{
	return json_pack("{ss}", "error", msg);
}

static const char *store_err_text(int r, const char *err)
{
	return err != NULL ? err : r == STORE_ENOTFOUND ? "not found" : "store error";
}

static int store_status(int r)
{
	switch (r) {
	case STORE_ENOTFOUND:
		return 404;
	case STORE_EEXISTS:
	case STORE_ENOTALLOWED:
		return 409;
	case STORE_EINVAL:
		return 400;
	}
	return 500;
}

/* ---- reads */

static json_t *users_json(struct store *s, struct arena *a, const char **error_r)
{
	struct store_account *v;
	size_t n, nadm, nll;
	int64_t *adm;
	struct store_last_login *ll;
	if (store_account_list(s, a, &v, &n, error_r) < 0 || store_admin_list(s, a, &adm, &nadm, error_r) < 0 ||
	    store_last_login_list(s, a, &ll, &nll, error_r) < 0)
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		bool admin = false;
		for (size_t k = 0; k < nadm; k++)
			admin |= adm[k] == v[i].id;
		json_t *u =
			json_pack("{sssIsIsIsb}", "address", v[i].address, "quota", (json_int_t)v[i].quota, "usedBytes",
				  (json_int_t)v[i].usage, "messages", (json_int_t)v[i].messages, "admin", admin);
		for (size_t k = 0; k < nll; k++) /* both in ascending id order would allow a merge; lists are short */
			if (ll[k].account_id == v[i].id) {
				char when[32];
				web_utc_date((time_t)ll[k].at, when);
				json_object_set_new(
					u, "lastLogin",
					json_pack("{ssssss}", "time", when, "protocol", ll[k].proto, "ip", ll[k].ip));
			}
		json_array_append_new(arr, u);
	}
	return arr;
}

static json_t *aliases_json(struct store *s, struct arena *a, const char **error_r)
{
	struct store_alias *v;
	size_t n;
	if (store_alias_list(s, a, &v, &n, error_r) < 0)
		return NULL;
	json_t *arr = json_array();
	json_t *cur = NULL;
	for (size_t i = 0; i < n; i++) {
		if (cur == NULL || strcmp(json_string_value(json_object_get(cur, "address")), v[i].address) != 0) {
			cur = json_pack("{sssbs[]}", "address", v[i].address, "catchAll", v[i].address[0] == '@',
					"targets");
			json_array_append_new(arr, cur);
		}
		json_array_append_new(json_object_get(cur, "targets"), json_string(v[i].target));
	}
	return arr;
}

static json_t *events_json(const char *query)
{
	enum { MAX = 200 };
	struct metrics_ev *ev = xcalloc(MAX, sizeof(*ev));
	size_t n = metrics_events_find(query, ev, MAX);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char when[32];
		web_utc_date(ev[i].time, when);
		json_array_append_new(arr, json_pack("{ssssssssss}", "time", when, "what", ev[i].what, "from",
						     ev[i].from, "to", ev[i].to, "detail", ev[i].detail));
	}
	free(ev);
	return arr;
}

static json_t *spam_json(struct store *s, struct arena *a)
{
	json_t *o = json_object();
	static const char *const kinds[MK_COUNT] = { "mx", "submission", "webmail", "bounce" };
	static const char *const verdicts[MV_COUNT] = { "accepted", "junk", "refused", "tempfail" };
	json_t *rec = json_object();
	for (int k = 0; k < MK_COUNT; k++) {
		json_t *kv = json_object();
		for (int v = 0; v < MV_COUNT; v++)
			json_object_set_new(kv, verdicts[v],
					    json_integer((json_int_t)metrics_get(M_RECEIVED + k * MV_COUNT + v)));
		json_object_set_new(rec, kinds[k], kv);
	}
	json_object_set_new(o, "received", rec);
	static const char *const reasons[MR_COUNT] = { "policy", "dnsbl", "relay", "unknownRecipient",
						       "sender", "quota", "size",  "rate",
						       "other" };
	json_t *ref = json_object();
	for (int r = 0; r < MR_COUNT; r++)
		json_object_set_new(ref, reasons[r], json_integer((json_int_t)metrics_get(M_REFUSED + r)));
	json_object_set_new(o, "refused", ref);
	/* each account's junk filter: learned messages */
	struct store_account *v;
	size_t n;
	const char *err;
	json_t *acc = json_array();
	if (store_account_list(s, a, &v, &n, &err) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct store_junk_stats st;
			if (store_junk_stats(s, a, v[i].id, 0, &st, &err) > 0)
				json_array_append_new(acc, json_pack("{sssbsIsI}", "address", v[i].address, "enabled",
								     st.model.enabled, "learnedSpam",
								     (json_int_t)st.model.nspam, "learnedHam",
								     (json_int_t)st.model.nham));
		}
	}
	json_object_set_new(o, "junkFilters", acc);
	return o;
}

static json_t *overview_json(struct admin_job *job, struct store *s, struct arena *a)
{
	const struct webd_admin_ops *ops = job->env->admin;
	json_t *o = json_object();
	const char *err = NULL;
	size_t nq = 0;
	int64_t oldest = 0;
	if (ops != NULL && ops->queue_stats(ops->ctx, &nq, &oldest, &err) > 0) {
		json_object_set_new(o, "queueMessages", json_integer((json_int_t)nq));
		json_object_set_new(o, "queueOldestSeconds",
				    json_integer(oldest > 0 ? (json_int_t)(time(NULL) - oldest) : 0));
	}
	int64_t hour = (int64_t)time(NULL) - 3600;
	json_object_set_new(o, "deliveredLastHour",
			    json_integer((json_int_t)(metrics_events_count("delivered", hour) +
						      metrics_events_count("sent", hour))));
	json_object_set_new(o, "refusedLastHour", json_integer((json_int_t)metrics_events_count("refused", hour)));
	json_object_set_new(o, "bouncedLastHour", json_integer((json_int_t)metrics_events_count("bounced", hour)));
	if (ops != NULL) {
		json_t *d = ops->disk(ops->ctx, &err);
		if (d != NULL)
			json_object_set_new(o, "disk", d);
		json_t *c = ops->certificate(ops->ctx, &err);
		if (c != NULL)
			json_object_set_new(o, "certificate", c);
	}
	/* quota use: accounts near or over their quota */
	struct store_account *v;
	size_t n;
	uint64_t used = 0;
	json_t *near = json_array();
	if (store_account_list(s, a, &v, &n, &err) > 0) {
		for (size_t i = 0; i < n; i++) {
			used += v[i].usage;
			if (v[i].quota > 0 && v[i].usage * 10 >= v[i].quota * 9)
				json_array_append_new(near, json_pack("{sssIsI}", "address", v[i].address, "usedBytes",
								      (json_int_t)v[i].usage, "quota",
								      (json_int_t)v[i].quota));
		}
		json_object_set_new(o, "accounts", json_integer((json_int_t)n));
	}
	json_object_set_new(o, "storeBytes", json_integer((json_int_t)used));
	json_object_set_new(o, "quotaNearlyFull", near);
	/* DNS problems of every domain (the callback caches the answers) */
	const char **doms;
	json_t *probs = json_array();
	if (ops != NULL && store_domain_list(s, a, &doms, &err) > 0) {
		for (size_t i = 0; doms[i] != NULL && i < 50; i++) {
			json_t *d = ops->dns(ops->ctx, doms[i], WEBD_DNS_CACHED, &err);
			json_int_t p = d != NULL ? json_integer_value(json_object_get(d, "problems")) : 0;
			if (d == NULL || p > 0)
				json_array_append_new(
					probs, json_pack("{sssI}", "domain", doms[i], "problems", d != NULL ? p : 1));
			json_decref(d);
		}
	}
	json_object_set_new(o, "dnsProblems", probs);
	return o;
}

/* ---- changes */

/* The password's hash and SCRAM secret (as `user add` and `user passwd` make them),
 * both malloc'ed. 1, or -1 with *error_r. */
static int hash_password(const struct webd_env *env, const char *password, char **hash_r, char **scram_r,
			 const char **error_r)
{
	*hash_r = *scram_r = NULL;
	unsigned it = env->auth != NULL ? auth_service_scram_iterations(env->auth) : AUTH_SCRAM_ITERATIONS_DEFAULT;
	if (auth_password_hash(AUTH_SCHEME_DEFAULT, password, hash_r, error_r) < 0 ||
	    auth_scram_secret_make(password, it, scram_r, error_r) < 0) {
		free(*hash_r);
		*hash_r = NULL;
		return -1;
	}
	return 1;
}

static int set_password(const struct webd_env *env, struct store *s, struct arena *a, const char *address,
			const char *password, const char **error_r)
{
	struct store_account acct;
	int r = store_account_get(s, a, address, &acct, error_r);
	if (r == 0)
		return STORE_ENOTFOUND;
	char *hash = NULL, *scram = NULL;
	if (r > 0)
		r = hash_password(env, password, &hash, &scram, error_r);
	if (r > 0)
		r = store_account_set_password(s, acct.address, hash, error_r);
	if (r > 0)
		r = store_account_set_scram(s, acct.id, hash, scram, error_r);
	free(hash);
	free(scram);
	return r < 0 ? r : 1;
}

/* Runs a change; 1 done, or <0 with *status_r and *error_r. *out_r: the answer. */
static int change(struct admin_job *job, const struct admin_req *rq, struct store *s, struct arena *a, json_t **out_r,
		  int *status_r, const char **error_r)
{
	const struct webd_admin_ops *ops = job->env->admin;
	int r = 1;
	*error_r = NULL;
	switch (rq->op) {
	case ADMIN_DOMAIN_ADD:
		r = store_domain_add(s, rq->domain, error_r);
		if (r > 0 && ops != NULL) { /* its DKIM keys, as `domain add` makes them */
			json_t *keys = ops->dkim(ops->ctx, rq->domain, true, error_r);
			if (keys == NULL)
				log_warn("event=admin_dkim_failed domain=%s error=%s", rq->domain,
					 LOG_Q(*error_r ? *error_r : "-"));
			*out_r = json_pack("{sssO?}", "domain", rq->domain, "dkim", keys);
			json_decref(keys);
		}
		break;
	case ADMIN_DOMAIN_REMOVE:
		r = store_domain_del(s, rq->domain, error_r);
		break;
	case ADMIN_DKIM_ROTATE:
		if (ops == NULL)
			return *status_r = 503, *error_r = "not available", -1;
		if ((r = store_domain_exists(s, rq->domain, error_r)) == 0)
			return *status_r = 404, *error_r = "not a local domain", -1;
		if (r > 0) {
			*out_r = ops->dkim(ops->ctx, rq->domain, true, error_r);
			if (*out_r == NULL)
				return *status_r = 500, -1;
		}
		break;
	case ADMIN_USER_ADD: {
		char *hash = NULL, *scram = NULL;
		int64_t id = 0;
		const char *dom = strchr(rq->address, '@') + 1;
		if ((r = store_domain_exists(s, dom, error_r)) == 0)
			return *status_r = 404, *error_r = arena_printf(a, "unknown domain %s", dom), -1;
		if (r > 0)
			r = hash_password(job->env, rq->password, &hash, &scram, error_r);
		if (r > 0)
			r = store_account_add(s, rq->address, hash, rq->has_quota ? rq->quota : 0, &id, error_r);
		if (r > 0 && store_account_set_scram(s, id, hash, scram, error_r) < 0)
			r = STORE_ERR;
		free(hash);
		free(scram);
		if (r > 0 && rq->has_admin && rq->admin)
			r = store_account_set_admin(s, rq->address, true, error_r);
		break;
	}
	case ADMIN_USER_PASSWORD:
		r = set_password(job->env, s, a, rq->address, rq->password, error_r);
		break;
	case ADMIN_USER_QUOTA:
		r = store_account_set_quota(s, rq->address, rq->quota, error_r);
		break;
	case ADMIN_USER_ADMIN:
		if (!rq->admin && strcasecmp(rq->address, job->address) == 0)
			return *status_r = 409, *error_r = "an admin cannot take away their own admin flag", -1;
		r = store_account_set_admin(s, rq->address, rq->admin, error_r);
		break;
	case ADMIN_USER_DELETE:
		if (strcasecmp(rq->address, job->address) == 0)
			return *status_r = 409, *error_r = "an admin cannot delete their own account here", -1;
		r = store_account_del(s, rq->address, error_r);
		break;
	case ADMIN_ALIAS_ADD:
		r = store_alias_add(s, rq->address, rq->targets, rq->ntargets, error_r);
		break;
	case ADMIN_ALIAS_REMOVE:
		r = store_alias_del(s, rq->address, error_r);
		break;
	case ADMIN_QUEUE_RETRY:
	case ADMIN_QUEUE_DELETE:
	case ADMIN_QUEUE_BOUNCE: {
		if (ops == NULL)
			return *status_r = 503, *error_r = "no outbound queue", -1;
		const char *act = rq->op == ADMIN_QUEUE_RETRY    ? "retry"
				  : rq->op == ADMIN_QUEUE_DELETE ? "delete"
								 : "bounce";
		int q = ops->queue_act(ops->ctx, rq->id, act, error_r);
		if (q == 0)
			return *status_r = 404, *error_r = "no such queued message", -1;
		if (q < 0)
			return *status_r = 409, -1;
		return 1;
	}
	default:
		assert(!"not a change");
	}
	if (r < 0) {
		*status_r = store_status(r);
		*error_r = store_err_text(r, *error_r);
		return -1;
	}
	return 1;
}

static const char *target_of(const struct admin_req *rq)
{
	return rq->domain != NULL ? rq->domain : rq->address != NULL ? rq->address : rq->id != NULL ? rq->id : "-";
}

static void run(struct admin_job *job, struct store *s, struct arena *a)
{
	const struct webd_admin_ops *ops = job->env->admin;
	struct admin_req rq;
	const char *err = NULL;
	int status = 200;
	const char *path = job->path + strlen("/admin/api/");
	if (admin_req_parse(job->method, path, BYTES_STR(job->query), buf_str(&job->body), job->body.len, a, &rq,
			    &status, &err) < 0) {
		job->status = status;
		job->out = err_json(err);
		return;
	}
	json_t *out = NULL;
	if (rq.write) {
		int r = change(job, &rq, s, a, &out, &status, &err);
		log_info("event=admin_action admin=%s ip=%s action=%s target=%s result=%s%s%s", job->address, job->ip,
			 rq.name, LOG_Q(target_of(&rq)), r > 0 ? "ok" : "refused",
			 r > 0 ? "" : " error=", r > 0 ? "" : LOG_Q(err != NULL ? err : "-"));
		if (r < 0) {
			json_decref(out);
			job->status = status;
			job->out = err_json(err != NULL ? err : "failed");
			return;
		}
		metrics_inc(M_ADMIN_ACTIONS);
		job->status = 200;
		job->out = out != NULL ? out : json_pack("{sb}", "ok", 1);
		return;
	}
	switch (rq.op) {
	case ADMIN_ME:
		out = json_pack("{sssb}", "address", job->address, "admin", 1);
		break;
	case ADMIN_OVERVIEW:
		out = overview_json(job, s, a);
		break;
	case ADMIN_DOMAINS: {
		const char **v;
		if (store_domain_list(s, a, &v, &err) > 0) {
			out = json_array();
			for (size_t i = 0; v[i] != NULL; i++)
				json_array_append_new(out, json_pack("{ss}", "domain", v[i]));
		}
		break;
	}
	case ADMIN_DNS:
	case ADMIN_DKIM:
		if (ops == NULL) {
			err = "not available";
			break;
		}
		if (store_domain_exists(s, rq.domain, &err) == 0) {
			job->status = 404;
			job->out = err_json("not a local domain");
			return;
		}
		out = rq.op == ADMIN_DNS
			      ? ops->dns(ops->ctx, rq.domain, rq.check ? WEBD_DNS_FRESH : WEBD_DNS_UNCHECKED, &err)
			      : ops->dkim(ops->ctx, rq.domain, false, &err);
		break;
	case ADMIN_USERS:
		out = users_json(s, a, &err);
		break;
	case ADMIN_ALIASES:
		out = aliases_json(s, a, &err);
		break;
	case ADMIN_QUEUE:
		out = ops != NULL ? ops->queue_list(ops->ctx, &err) : json_array();
		break;
	case ADMIN_CERTIFICATE:
		out = ops != NULL ? ops->certificate(ops->ctx, &err) : NULL;
		break;
	case ADMIN_EVENTS:
		out = events_json(rq.query);
		break;
	case ADMIN_SPAM:
		out = spam_json(s, a);
		break;
	default:
		assert(!"not a read");
	}
	job->status = out != NULL ? 200 : 503;
	job->out = out != NULL ? out : err_json(err != NULL ? err : "not available");
}

static void admin_work(void *arg)
{
	struct admin_job *job = arg;
	const char *err;
	int a = store_account_is_admin(job->env->store, job->account_id, &err);
	job->is_admin = a > 0;
	if (a < 0) {
		job->status = 503;
		job->out = err_json("temporary failure; try again later");
		return;
	}
	if (!job->is_admin) {
		auth_admin_refused(job->env->auth, job->ip, job->address);
		log_warn("event=admin_refused user=%s ip=%s path=%s", job->address, job->ip, LOG_Q(job->path));
		job->status = 403;
		job->out = err_json("forbidden");
		return;
	}
	if (job->page)
		return;
	struct arena *ar = arena_new();
	run(job, job->env->store, ar);
	arena_free(&ar);
}

static void admin_done(void *arg)
{
	struct admin_job *job = arg;
	struct web_session *ws = job->ws;
	if (!conn_is_closed(ws->c)) {
		if (job->page) {
			if (job->is_admin) {
				web_static(ws, "admin.html");
			} else if (job->status == 503) {
				web_reply_text(ws, 503, "503 Service Unavailable\n");
			} else {
				web_reply_text(ws, 404, "404 Not Found\n");
			}
		} else {
			web_reply_json(ws, job->status, job->out, "Cache-Control: no-store\r\n");
			job->out = NULL;
		}
	}
	json_decref(job->out);
	buf_free(&job->body);
	free(job->query);
	free(job);
	conn_release(ws->c);
}

static void start(struct web_session *ws, bool page)
{
	const char *ip = conn_peer_ip(ws->c);
	if (ws->env->auth != NULL && auth_admin_limited(ws->env->auth, ip)) {
		conn_log(ws->c, LOG_WARN, "event=admin_limited user=%s", ws->user.address);
		web_reply_json(ws, 429, err_json("too many failed attempts; try again later"), "Retry-After: 60\r\n");
		return;
	}
	struct admin_job *job = xcalloc(1, sizeof(*job));
	job->ws = ws;
	job->env = ws->env;
	job->page = page;
	job->account_id = ws->user.account_id;
	snprintf(job->address, sizeof(job->address), "%s", ws->user.address);
	snprintf(job->ip, sizeof(job->ip), "%s", ip);
	snprintf(job->method, sizeof(job->method), "%s", ws->req.head ? "GET" : ws->req.method);
	snprintf(job->path, sizeof(job->path), "%.255s", ws->req.path);
	job->query = strndup(ws->req.query.p != NULL ? ws->req.query.p : "", ws->req.query.len);
	job->body = ws->req.body; /* moved */
	memset(&ws->req.body, 0, sizeof(ws->req.body));
	conn_hold(ws->c);
	pool_submit(ws->env->pool, admin_work, admin_done, conn_loop(ws->c), job);
}

void web_admin_api(struct web_session *ws)
{
	start(ws, false);
}

void web_admin_page(struct web_session *ws)
{
	start(ws, true);
}
