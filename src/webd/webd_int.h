/* webd_int.h: what the files of webd share: the HTTP session, replies, the shared
 * state (login sessions, uploads, identities, submissions, push lists) and the
 * entry points of each part (static files, the login API, JMAP, push, autoconfig). */
#ifndef POSTAMT_WEBD_INT_H
#define POSTAMT_WEBD_INT_H

#include "webd.h"

#include "arena.h"
#include "buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define WEB_JSON_MAX (10 * 1024 * 1024)      /* /jmap/api and /api/ bodies */
#define WEB_SMALL_BODY_MAX (64 * 1024)       /* other authenticated requests with a body */
#define WEB_UNAUTH_BODY_MAX (8 * 1024)       /* requests without authentication (the login form) */
#define WEB_SESSION_IDLE (12 * 3600)         /* seconds a login session lives unused */
#define WEB_SESSION_TOUCH 300                /* seconds between writes of a session's use to the store */
#define WEB_REMOVED_MAX 64                   /* ended sessions remembered so a racing store read cannot revive one */
#define WEB_BASIC_CACHE_TTL 300              /* seconds a checked Basic credential is trusted */
#define WEB_GEN_CACHE_MS 2000                /* ms an account's session generation is cached */
#define WEB_UPLOAD_TTL 3600                  /* seconds an upload is kept */
#define WEB_TOKEN_LEN 43                     /* base64url of 32 random bytes */
#define WEB_ADDRESS_MAX 256
#define JMAP_MAX_CALLS 64
#define JMAP_MAX_OBJECTS 1000
#define JMAP_QUERY_MAX 5000
#define JMAP_BODY_VALUE_DEFAULT (256 * 1024) /* maxBodyValueBytes when the client gives none */

enum web_csp {
	WEB_CSP_API,      /* default-src 'none' */
	WEB_CSP_PAGE,     /* the webmail page */
	WEB_CSP_DOWNLOAD, /* a download: sandboxed */
	WEB_CSP_PDF,      /* a PDF shown inline: nothing loads, no framing */
};

struct web_request {
	char method[16];
	char *target;        /* raw, NUL-terminated (arena) */
	char path[2048];     /* percent-decoded path */
	struct bytes query;  /* raw query into target */
	/* header values we use, NUL-terminated (arena), "" when absent */
	const char *host, *cookie, *authorization, *origin, *fetch_site, *csrf, *accept_encoding,
		*content_type, *if_none_match, *expect, *fetch_mode, *fetch_dest;
	bool head;           /* HEAD: no body in the reply */
	uint64_t content_length;
	struct buf body;
};

/* Who the request is from, after web_auth(). */
struct web_user {
	int64_t account_id;
	char address[WEB_ADDRESS_MAX];
	char account_id_str[32];   /* JMAP accountId */
	bool by_cookie;
};

struct web_push;
struct web_session;

/* What a request's path leads to (route.c's table), found from its head. */
enum web_route_auth {
	WEB_ROUTE_OPEN,  /* no authentication */
	WEB_ROUTE_READ,  /* authenticated (web_auth), not state-changing */
	WEB_ROUTE_WRITE, /* authenticated and state-changing (CSRF checks) */
};
struct web_route {
	void (*fn)(struct web_session *ws); /* runs once the body is read */
	enum web_route_auth auth;
	uint64_t body_max;  /* the largest body accepted */
	const char *allow;  /* for 405 replies */
	bool json;          /* the body must be application/json */
};

struct web_session {
	struct conn *c;
	const struct webd_listener *l;
	const struct webd_env *env;
	const struct settings *s;
	struct arena *arena;       /* per request */
	struct web_request req;
	/* WS_AUTH: the head is read, authentication runs before any body byte is read */
	enum { WS_HEAD, WS_AUTH, WS_BODY, WS_READY, WS_STREAM } mode;
	struct web_route route;    /* the request's */
	uint64_t body_left;        /* body bytes not read yet (the conn cannot be reused while > 0) */
	int64_t req_started;       /* monotonic ms when the request's first byte came */
	int64_t req_deadline;      /* monotonic ms by which the request must be read */
	bool keep_alive;
	enum web_csp csp;
	struct web_user user;
	void (*next)(struct web_session *ws); /* what runs after authentication */
	struct web_push *push;     /* an EventSource stream */
	struct web_download *download; /* a blob download being streamed (jmap_http.c) */
};

/* ---- reply.c: every reply */
/* Writes a whole reply with the security headers. extra: more header lines (each
 * ending in CRLF) or NULL. Honours HEAD. Closes afterwards unless keep-alive. */
void web_reply(struct web_session *ws, int status, const char *ctype, const char *extra, const void *body,
	       size_t len);
void web_reply_text(struct web_session *ws, int status, const char *text);
/* Replies with j serialised (takes the reference). */
void web_reply_json(struct web_session *ws, int status, json_t *j, const char *extra);
/* {"error": text} */
void web_reply_error(struct web_session *ws, int status, const char *text);
/* The head of a reply whose len body bytes the caller streams (a download): true
 * when the body is to be written (not for HEAD, not on a closing conn); the caller
 * closes the conn after the body unless ws->keep_alive. */
bool web_reply_sized_head(struct web_session *ws, int status, const char *ctype, const char *extra, uint64_t len);
/* The head of a streamed reply (no Content-Length; the stream ends with the conn). */
void web_reply_stream_head(struct web_session *ws, const char *ctype);
/* An error that ends the connection (the request could not be read to its end). */
void web_reply_fatal(struct web_session *ws, int status);
/* 301 to the same target on the HTTPS port. */
void web_reply_redirect_https(struct web_session *ws);
/* 405 with Allow: ws->route.allow. */
void web_reply_method_not_allowed(struct web_session *ws);
void web_reply_not_found(struct web_session *ws);
const char *web_reason(int status);

/* ---- request.c: the end of a request */
/* Asynchronous steps hold the conn (conn_hold: no request is read meanwhile, the
 * session outlives the close); the completion replies unless conn_is_closed() and
 * ends with conn_release(), after which it must not touch ws: the request then ends
 * at CONN_RELEASED. A download streams as a continuation (jmap_http.c). */
/* Resets the session for the next request (not for a stream). */
void web_request_end(struct web_session *ws);
/* The handler's free callback (the conn is gone and no step holds it). */
void web_session_free(void *session);

/* ---- route.c: the routing table */
/* Sets ws->route from the request's head (path and method): a wrong method becomes
 * a 405 route, an unknown path a 404 route, a path not served over plain HTTP a
 * redirect (all three without authentication). */
void web_route_find(struct web_session *ws);

/* ---- auth.c: who is asking */
/* Authenticates the request (cookie, or HTTP Basic), checks CSRF for state-changing
 * cookie requests, then runs next(ws) (maybe later, after a password check), or
 * replies 401/403/429 itself. */
void web_auth(struct web_session *ws, bool state_changing, void (*next)(struct web_session *ws));
void web_api_login(struct web_session *ws);
void web_api_logout(struct web_session *ws);
/* POST /api/logout-everywhere: ends every login session of the account. */
void web_api_logout_everywhere(struct web_session *ws);
void web_api_session_check(struct web_session *ws);
/* True if a cookie-authenticated state-changing request passes the CSRF check. */
bool web_csrf_ok(const struct web_session *ws);
void web_account_id_str(int64_t account_id, char out[32]);
/* The account id of a JMAP accountId string, or 0 for a malformed one. */
int64_t web_account_id_parse(const char *s);

/* ---- static.c */
/* Serves web/<name> (GET/HEAD); 404 when there is no such file. */
void web_static(struct web_session *ws, const char *name);

/* ---- autoconfig.c */
/* True when path is one of the autoconfiguration paths (served on HTTP too). */
bool web_autoconfig_path(const char *path);
void web_autoconfig(struct web_session *ws);
/* GET /.well-known/mta-sts.txt: the MTA-STS policy (mta_sts.c). */
void web_mta_sts(struct web_session *ws);
/* GET /.well-known/acme-challenge/TOKEN: the ACME http-01 answer (mta_sts.c). */
void web_acme_challenge(struct web_session *ws);
/* GET /api/mobileconfig: the Apple profile for the logged-in user. */
void web_mobileconfig_user(struct web_session *ws);

/* ---- jmap_http.c: the JMAP endpoints */
void web_jmap_session(struct web_session *ws);
void web_jmap_api(struct web_session *ws);
void web_jmap_upload(struct web_session *ws);
void web_jmap_download(struct web_session *ws);

/* ---- admin_api.c: /admin and /admin/api/ (docs/admin-api.md) */
void web_admin_api(struct web_session *ws);
void web_admin_page(struct web_session *ws);
/* ---- metrics_http.c: GET /metrics (Prometheus text format 0.0.4) */
void web_metrics(struct web_session *ws);

/* ---- push.c */
void web_push_start(struct web_session *ws);
/* The conn closed or the server stops: unsubscribe and free (on the loop). */
void web_push_stop(struct web_session *ws);

/* ---- state.c: shared across loops */
struct webd_state;
struct store;
/* Login sessions, made at the account's session generation gen. With a store, the
 * session is also written there (so that it survives a restart): then saved(arg,
 * result, error) runs on loop once it is, and create returns true; without one
 * (tests) it returns false and saved is not called. */
bool web_sessions_create(struct webd_state *st, struct store *store, int64_t account_id, const char *address,
			 uint64_t gen, char token_r[WEB_TOKEN_LEN + 1], struct loop *loop,
			 void (*saved)(void *arg, int result, const char *error), void *arg);
/* 1 with the account and the generation it was made at (touches the idle time), 0 if
 * unknown or expired, <0 on a store error. A token not in memory is looked up in the
 * store (a primary-key read). */
int web_sessions_lookup(struct webd_state *st, struct store *store, struct bytes token, int64_t *account_id_r,
			char *address_r, size_t addrlen, uint64_t *gen_r);
/* Ends a login session. With a store, the row is deleted too: done(arg, ...) runs on
 * loop once it is (so that a request after the reply cannot read it back), and the
 * call returns true; without done, or without a store, it returns false. */
bool web_sessions_remove(struct webd_state *st, struct store *store, struct bytes token, struct loop *loop,
			 void (*done)(void *arg, int result, const char *error), void *arg);
/* Ends every login session and Basic entry of the account; returns the number of
 * login sessions ended in memory. The store's rows go too; done runs on loop then
 * (at once without a store). */
size_t web_sessions_remove_account(struct webd_state *st, struct store *store, int64_t account_id,
				   struct loop *loop, void (*done)(void *arg, int result, const char *error),
				   void *arg);
/* Checked Basic credentials (key: a hash of user and password) with the generation. */
int web_basic_lookup(struct webd_state *st, const unsigned char key[32], int64_t *account_id_r,
		     char *address_r, size_t addrlen, uint64_t *gen_r);
void web_basic_store(struct webd_state *st, const unsigned char key[32], int64_t account_id,
		     const char *address, uint64_t gen);
/* The account's current session generation (store_account_session_gen), cached for
 * WEB_GEN_CACHE_MS unless fresh. 1 with *gen_r, 0 when the account is gone, <0 on a
 * store error. Blocks for one primary-key read when the cache is stale. */
int web_account_gen(struct webd_state *st, struct store *store, int64_t account_id, bool fresh, uint64_t *gen_r);

/* Uploaded blobs: refcounted, kept WEB_UPLOAD_TTL seconds, per-account byte limit. */
struct web_blob {
	char id[40];
	int64_t account_id;
	char type[128];
	char *data;
	size_t len;
	int64_t expires;
	unsigned refs;
	struct web_blob *next;
};
/* Takes data (malloc'd, len bytes). Evicts the account's oldest uploads when over
 * max_per_account. Returns the new blob's id in id_r. */
void web_upload_put(struct webd_state *st, int64_t account_id, const char *type, char *data, size_t len,
		    uint64_t max_per_account, char id_r[40]);
/* A reference to the upload (release with web_blob_unref), or NULL. */
struct web_blob *web_upload_get(struct webd_state *st, int64_t account_id, const char *id);
void web_blob_unref(struct webd_state *st, struct web_blob *b);

/* Identities and submissions: JSON kept per account, under the state's lock. The
 * callbacks run with the lock held and get the account's objects (created empty). */
void web_state_with_account(struct webd_state *st, int64_t account_id,
			    void (*fn)(void *arg, json_t *identities, json_t *submissions, uint64_t *counter),
			    void *arg);

/* Push: the EventSource streams of one loop (touched on that loop only). */
struct web_pushers {
	struct loop *loop;
	struct web_push *head;
	bool armed;
};
struct web_pushers *web_pushers_for(struct webd_state *st, struct loop *l);

/* ---- misc helpers (util.c) */
int64_t web_now_ms(void);
/* Random bytes as base64url (no padding) into out (n bytes of randomness). */
void web_random_token(char *out, size_t outlen, size_t n);
/* RFC 3339 UTC "2024-01-02T03:04:05Z" */
void web_utc_date(int64_t t, char out[32]);
/* RFC 3339 with the zone offset */
void web_local_date(int64_t t, int tz_minutes, char out[40]);
/* Parses RFC 3339 (UTCDate or Date). 1 with unix time, -1 if malformed. */
int web_parse_date(const char *s, int64_t *t_r);

#endif
