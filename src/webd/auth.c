/* auth.c: who is asking, and the login API of the webmail.
 *
 * The browser logs in with POST /api/login (JSON user name and password, checked by
 * auth_login: off the loop, with the failed-login limiter every protocol shares) and
 * gets the cookie postamt_session (HttpOnly; Secure; SameSite=Strict; Path=/), a
 * random 256-bit token naming a server-side session that expires after
 * WEB_SESSION_IDLE seconds unused. Sessions are kept in the store (by the token's
 * hash, state.c), so a restart signs nobody out; the cookie is sent only once the
 * store has the session. Other JMAP clients use HTTP Basic over TLS (or
 * from loopback, as for every protocol); a checked credential is trusted for
 * WEB_BASIC_CACHE_TTL seconds. A state-changing request authenticated by the cookie
 * must also pass the CSRF check: the custom header X-Postamt-CSRF (which a foreign
 * page cannot send without a CORS preflight we never grant), or Sec-Fetch-Site
 * same-origin, or an Origin equal to the Host. One authenticated by Basic (which a
 * browser may have cached after a prompt) is refused when the browser says it comes
 * from another site (Sec-Fetch-Site cross-site or same-site, or a foreign Origin);
 * clients that send neither, such as curl, pass. Browser navigations get no
 * WWW-Authenticate challenge, so that no prompt offers to cache credentials.
 *
 * Sessions and Basic entries remember the account's session generation; a password
 * change or `postamt user logout` raises it and ends them (state.c, within
 * WEB_GEN_CACHE_MS). POST /api/logout-everywhere ends all of an account's sessions
 * at once. */
#include "webd_int.h"

#include "auth.h"
#include "http_util.h"
#include "log.h"
#include "login.h"

#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COOKIE_NAME "postamt_session"

void web_account_id_str(int64_t account_id, char out[32])
{
	snprintf(out, 32, "A%" PRId64, account_id);
}

int64_t web_account_id_parse(const char *s)
{
	if (s == NULL || s[0] != 'A' || s[1] < '1' || s[1] > '9' || strlen(s) > 19)
		return 0;
	int64_t v = 0;
	for (const char *p = s + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (*p - '0');
	}
	return v;
}

bool web_csrf_ok(const struct web_session *ws)
{
	const struct web_request *r = &ws->req;
	if (strcmp(r->csrf, "1") == 0)
		return true;
	if (strcasecmp(r->fetch_site, "same-origin") == 0)
		return true;
	if (r->origin[0] != '\0' && http_origin_matches(BYTES_STR(r->origin), BYTES_STR(r->host)))
		return true;
	return false;
}

/* A Basic-authenticated state-changing request: false when a browser says that it
 * comes from another site (the browser may have cached the credentials). */
static bool basic_csrf_ok(const struct web_session *ws)
{
	const struct web_request *r = &ws->req;
	if (strcasecmp(r->fetch_site, "cross-site") == 0 || strcasecmp(r->fetch_site, "same-site") == 0)
		return false;
	if (r->origin[0] != '\0' && !http_origin_matches(BYTES_STR(r->origin), BYTES_STR(r->host)))
		return false;
	return true;
}

/* True when a browser sends the request as a navigation or from another site: no
 * Basic challenge then (the prompt would let it cache credentials for CSRF). */
static bool browser_request(const struct web_request *r)
{
	return r->csrf[0] != '\0' || strcasecmp(r->fetch_mode, "navigate") == 0 ||
	       strcasecmp(r->fetch_mode, "nested-navigate") == 0 || strcasecmp(r->fetch_dest, "document") == 0 ||
	       strcasecmp(r->fetch_dest, "iframe") == 0 || strcasecmp(r->fetch_dest, "frame") == 0 ||
	       strcasecmp(r->fetch_site, "cross-site") == 0 || strcasecmp(r->fetch_site, "same-site") == 0;
}

static void set_user(struct web_session *ws, int64_t account_id, const char *address, bool by_cookie)
{
	ws->user.account_id = account_id;
	snprintf(ws->user.address, sizeof(ws->user.address), "%s", address);
	web_account_id_str(account_id, ws->user.account_id_str);
	ws->user.by_cookie = by_cookie;
}

static void unauthorized(struct web_session *ws, const char *text)
{
	/* the admin page navigated to without a login: to the login page */
	if ((strcmp(ws->req.path, "/admin") == 0 || strcmp(ws->req.path, "/admin/") == 0) &&
	    strcasecmp(ws->req.fetch_mode, "navigate") == 0) {
		web_reply(ws, 303, "text/plain; charset=utf-8", "Location: /\r\nCache-Control: no-store\r\n",
			  "log in first\n", 13);
		return;
	}
	/* a challenge only for clients that are not the webmail or a browser navigating
	 * (no browser dialog there) */
	const char *extra =
		browser_request(&ws->req) ? NULL : "WWW-Authenticate: Basic realm=\"postamt\", charset=\"UTF-8\"\r\n";
	web_reply_json(ws, 401, json_pack("{ss}", "error", text), extra);
}

struct login_job {
	struct web_session *ws;
	unsigned char key[32];
	bool api; /* POST /api/login (else Basic) */
	char token[WEB_TOKEN_LEN + 1]; /* api: the new session's */
};

/* The reply to a successful POST /api/login: the session cookie. */
static void reply_cookie(struct web_session *ws, const char *token)
{
	char *cookie =
		xasprintf("Set-Cookie: " COOKIE_NAME "=%s; HttpOnly; Secure; SameSite=Strict; Path=/\r\n", token);
	web_reply_json(ws, 200, json_pack("{ssss}", "username", ws->user.address, "accountId", ws->user.account_id_str),
		       cookie);
	explicit_bzero(cookie, strlen(cookie));
	free(cookie);
}

/* store_websession_put's done, on the loop: the session is in the store (or not). */
static void session_saved(void *arg, int result, const char *error)
{
	struct login_job *job = arg;
	struct web_session *ws = job->ws;
	if (!conn_is_closed(ws->c)) {
		if (result < 0) {
			conn_log(ws->c, LOG_WARN, "event=store_error op=websession_put error=%s", LOG_Q(error));
			web_sessions_remove(ws->env->state, NULL, BYTES_STR(job->token), NULL, NULL, NULL);
			web_reply_error(ws, 503, "temporary failure; try again later");
		} else {
			reply_cookie(ws, job->token);
		}
	}
	explicit_bzero(job->token, sizeof(job->token));
	free(job);
	conn_release(ws->c);
}

static void basic_key(const char *user, const char *password, unsigned char key[32])
{
	size_t ul = strlen(user), pl = strlen(password);
	char *m = xmalloc(14 + ul + 1 + pl);
	memcpy(m, "postamt-basic", 14);
	memcpy(m + 14, user, ul + 1);
	memcpy(m + 15 + ul, password, pl);
	SHA256((const unsigned char *)m, 15 + ul + pl, key);
	explicit_bzero(m, 15 + ul + pl);
	free(m);
}

static void login_failed(struct web_session *ws, const struct auth_login *login)
{
	if (login->result == AUTH_LOGIN_LIMITED)
		web_reply_json(ws, 429, json_pack("{ss}", "error", "too many failed logins; try again later"),
			       "Retry-After: 60\r\n");
	else if (login->result == AUTH_LOGIN_TEMPFAIL)
		web_reply_error(ws, 503, "temporary failure; try again later");
	else
		unauthorized(ws, "invalid username or password");
}

static void login_done(void *arg, const struct auth_login *login)
{
	struct login_job *job = arg;
	struct web_session *ws = job->ws;
	if (conn_is_closed(ws->c)) {
		free(job);
		conn_release(ws->c);
		return;
	}
	uint64_t gen = 0;
	if (login->result != AUTH_LOGIN_OK) {
		login_failed(ws, login);
	} else if (web_account_gen(ws->env->state, ws->env->store, login->account_id, true, &gen) <= 0) {
		web_reply_error(ws, 503, "temporary failure; try again later");
	} else if (job->api) {
		set_user(ws, login->account_id, login->address, true);
		conn_log(ws->c, LOG_INFO, "event=login user=%s method=cookie", login->address);
		if (web_sessions_create(ws->env->state, ws->env->store, login->account_id, login->address, gen,
					job->token, conn_loop(ws->c), session_saved, job))
			return; /* session_saved replies once the store has it */
		reply_cookie(ws, job->token);
		explicit_bzero(job->token, sizeof(job->token));
	} else {
		web_basic_store(ws->env->state, job->key, login->account_id, login->address, gen);
		set_user(ws, login->account_id, login->address, false);
		conn_log(ws->c, LOG_INFO, "event=login user=%s method=basic", login->address);
		ws->next(ws);
	}
	explicit_bzero(job->key, sizeof(job->key));
	free(job);
	conn_release(ws->c);
}

static void start_login(struct web_session *ws, const char *user, const char *password, bool api)
{
	struct login_job *job = xcalloc(1, sizeof(*job));
	job->ws = ws;
	job->api = api;
	if (!api)
		basic_key(user, password, job->key);
	conn_hold(ws->c);
	auth_login(ws->env->auth, conn_loop(ws->c), "http", conn_peer_ip(ws->c), user, password, login_done, job);
}

void web_auth(struct web_session *ws, bool state_changing, void (*next)(struct web_session *ws))
{
	const struct web_request *r = &ws->req;
	ws->next = next;
	if (ws->env == NULL || ws->env->state == NULL) {
		web_reply_error(ws, 503, "not available");
		return;
	}
	struct bytes token = http_cookie_get(BYTES_STR(r->cookie), COOKIE_NAME);
	int64_t id;
	char address[WEB_ADDRESS_MAX];
	uint64_t gen, cur;
	if (token.len > 0 && r->authorization[0] == '\0') {
		int l = web_sessions_lookup(ws->env->state, ws->env->store, token, &id, address, sizeof(address), &gen);
		if (l < 0) {
			web_reply_error(ws, 503, "temporary failure; try again later");
			return;
		}
		if (l == 0) {
			unauthorized(ws, "session expired; log in again");
			return;
		}
		int g = web_account_gen(ws->env->state, ws->env->store, id, false, &cur);
		if (g < 0) {
			web_reply_error(ws, 503, "temporary failure; try again later");
			return;
		}
		if (g == 0 || cur != gen) {
			/* the password changed, or the account signed out everywhere (or is gone) */
			web_sessions_remove(ws->env->state, ws->env->store, token, NULL, NULL, NULL);
			conn_log(ws->c, LOG_INFO, "event=session_ended user=%s reason=generation", address);
			unauthorized(ws, "session ended; log in again");
			return;
		}
		if (state_changing && !web_csrf_ok(ws)) {
			conn_log(ws->c, LOG_WARN, "event=csrf_refused user=%s", address);
			web_reply_error(ws, 403, "CSRF check failed: send X-Postamt-CSRF: 1");
			return;
		}
		set_user(ws, id, address, true);
		next(ws);
		return;
	}
	if (strncasecmp(r->authorization, "Basic ", 6) == 0) {
		if (state_changing && !basic_csrf_ok(ws)) {
			conn_log(ws->c, LOG_WARN, "event=csrf_refused method=basic");
			web_reply_error(ws, 403, "cross-site request refused");
			return;
		}
		if (!conn_may_send_password(ws->c)) {
			unauthorized(ws, "passwords are accepted only over TLS");
			return;
		}
		struct bytes b64 = bytes_trim(BYTES_STR(r->authorization + 6));
		char *dec;
		size_t len;
		const char *error;
		if (b64.len > 4 * AUTH_PASSWORD_MAX || auth_base64_decode(ws->arena, b64, &dec, &len, &error) < 0 ||
		    memchr(dec, '\0', len) != NULL) {
			unauthorized(ws, "malformed Basic credentials");
			return;
		}
		char *colon = strchr(dec, ':');
		if (colon == NULL || colon == dec || colon[1] == '\0') {
			unauthorized(ws, "malformed Basic credentials");
			return;
		}
		*colon = '\0';
		const char *user = dec, *password = colon + 1;
		unsigned char key[32];
		basic_key(user, password, key);
		if (web_basic_lookup(ws->env->state, key, &id, address, sizeof(address), &gen) > 0 &&
		    web_account_gen(ws->env->state, ws->env->store, id, false, &cur) > 0 && cur == gen) {
			/* remembered, and no password change or sign-out since */
			explicit_bzero(colon + 1, strlen(colon + 1));
			set_user(ws, id, address, false);
			next(ws);
			return;
		}
		start_login(ws, user, password, false);
		explicit_bzero(colon + 1, strlen(colon + 1));
		return;
	}
	unauthorized(ws, "authentication required");
}

void web_api_login(struct web_session *ws)
{
	if (ws->env == NULL || ws->env->auth == NULL) {
		web_reply_error(ws, 503, "not available");
		return;
	}
	if (!web_csrf_ok(ws)) {
		web_reply_error(ws, 403, "CSRF check failed: send X-Postamt-CSRF: 1");
		return;
	}
	json_error_t jerr;
	json_t *j = json_loadb(buf_str(&ws->req.body), ws->req.body.len, 0, &jerr);
	const char *user = NULL, *password = NULL;
	if (j == NULL || json_unpack(j, "{s:s, s:s}", "username", &user, "password", &password) < 0 ||
	    user[0] == '\0' || password[0] == '\0' || strlen(user) >= WEB_ADDRESS_MAX ||
	    strlen(password) > AUTH_PASSWORD_MAX) {
		json_decref(j);
		web_reply_error(ws, 400, "expected {\"username\": ..., \"password\": ...}");
		return;
	}
	if (!conn_may_send_password(ws->c)) {
		json_decref(j);
		web_reply_error(ws, 403, "passwords are accepted only over TLS");
		return;
	}
	start_login(ws, user, password, true);
	explicit_bzero((char *)password, strlen(password));
	explicit_bzero(ws->req.body.data, ws->req.body.len);
	json_decref(j);
}

#define CLEAR_COOKIE "Set-Cookie: " COOKIE_NAME "=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0\r\n"

/* store_websession_del's done, on the loop: the session is gone from the store too. */
static void logout_done(void *arg, int result, const char *error)
{
	struct web_session *ws = arg;
	if (!conn_is_closed(ws->c)) {
		if (result < 0) {
			conn_log(ws->c, LOG_WARN, "event=store_error op=websession_del error=%s", LOG_Q(error));
			web_reply_error(ws, 503, "temporary failure; try again later");
		} else {
			web_reply_json(ws, 200, json_object(), CLEAR_COOKIE);
		}
	}
	conn_release(ws->c);
}

void web_api_logout(struct web_session *ws)
{
	struct bytes token = http_cookie_get(BYTES_STR(ws->req.cookie), COOKIE_NAME);
	if (token.len > 0 && ws->env != NULL && ws->env->state != NULL) {
		if (!web_csrf_ok(ws)) {
			web_reply_error(ws, 403, "CSRF check failed: send X-Postamt-CSRF: 1");
			return;
		}
		conn_hold(ws->c);
		if (web_sessions_remove(ws->env->state, ws->env->store, token, conn_loop(ws->c), logout_done, ws))
			return; /* logout_done replies */
		conn_release(ws->c);
	}
	web_reply_json(ws, 200, json_object(), CLEAR_COOKIE);
}

struct everywhere_job {
	struct web_session *ws;
	size_t ended;
};

static void everywhere_done(void *arg, int result, const char *error)
{
	struct everywhere_job *job = arg;
	struct web_session *ws = job->ws;
	if (!conn_is_closed(ws->c)) {
		if (result < 0) {
			conn_log(ws->c, LOG_WARN, "event=store_error op=websession_del error=%s", LOG_Q(error));
			web_reply_error(ws, 503, "temporary failure; try again later");
		} else {
			conn_log(ws->c, LOG_INFO, "event=logout_everywhere user=%s sessions=%zu", ws->user.address,
				 job->ended);
			web_reply_json(ws, 200, json_pack("{sI}", "sessionsEnded", (json_int_t)job->ended),
				       CLEAR_COOKIE);
		}
	}
	free(job);
	conn_release(ws->c);
}

void web_api_logout_everywhere(struct web_session *ws)
{
	/* authenticated and CSRF-checked by web_auth (a WEB_ROUTE_WRITE route); the
	 * store's rows count too (sessions made before a restart and not used since) */
	struct everywhere_job *job = xcalloc(1, sizeof(*job));
	job->ws = ws;
	conn_hold(ws->c);
	job->ended = web_sessions_remove_account(ws->env->state, ws->env->store, ws->user.account_id,
						 conn_loop(ws->c), everywhere_done, job);
}

void web_api_session_check(struct web_session *ws)
{
	struct bytes token = http_cookie_get(BYTES_STR(ws->req.cookie), COOKIE_NAME);
	int64_t id;
	char address[WEB_ADDRESS_MAX];
	uint64_t gen, cur;
	if (token.len == 0 || ws->env == NULL || ws->env->state == NULL ||
	    web_sessions_lookup(ws->env->state, ws->env->store, token, &id, address, sizeof(address), &gen) <= 0 ||
	    web_account_gen(ws->env->state, ws->env->store, id, false, &cur) <= 0 || cur != gen) {
		web_reply_error(ws, 401, "not logged in");
		return;
	}
	char acct[32];
	web_account_id_str(id, acct);
	web_reply_json(ws, 200, json_pack("{ssss}", "username", address, "accountId", acct), NULL);
}
