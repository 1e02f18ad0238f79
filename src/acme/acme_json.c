/* acme_json.c: the JSON objects a CA sends (RFC 8555 §7.1: directory, account,
 * order, authorization, challenge; §6.7 problem documents; RFC 9773 §4.2
 * renewalInfo), parsed strictly with jansson.
 *
 * Every answer is untrusted: its size is bounded (ACME_JSON_MAX), duplicate keys
 * are refused, required members must have their type, URLs must be https and
 * fit struct acme_url, tokens must be base64url words, lists are bounded
 * (ACME_LIST_MAX). Unknown members are ignored, as RFC 8555 §7.1 asks. */
#include "acme_int.h"

#include "arena.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
	[ACME_PENDING] = "pending",         [ACME_READY] = "ready",
	[ACME_PROCESSING] = "processing",   [ACME_VALID] = "valid",
	[ACME_INVALID] = "invalid",         [ACME_EXPIRED] = "expired",
	[ACME_DEACTIVATED] = "deactivated", [ACME_REVOKED] = "revoked",
};

const char *acme_status_name(enum acme_obj_status s)
{
	return (size_t)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : "?";
}

static json_t *load(const unsigned char *data, size_t len, const char **error_r)
{
	if (len > ACME_JSON_MAX) {
		*error_r = "JSON answer too large";
		return NULL;
	}
	json_error_t e;
	json_t *j = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL) {
		*error_r = "answer is not valid JSON";
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*error_r = "answer is not a JSON object";
		return NULL;
	}
	return j;
}

/* A string member: 1 with *s_r (in a), 0 when absent or null, -1 with another type
 * or an embedded NUL. */
static int get_str(json_t *o, const char *key, struct arena *a, const char **s_r, const char **error_r)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		*error_r = arena_printf(a, "member %s is not a string", key);
		return -1;
	}
	*s_r = arena_strdup(a, json_string_value(v));
	return 1;
}

static int get_url(json_t *o, const char *key, bool required, struct arena *a, const char **url_r, const char **error_r)
{
	*url_r = NULL;
	int r = get_str(o, key, a, url_r, error_r);
	if (r < 0)
		return -1;
	if (r == 0) {
		if (!required)
			return 1;
		*error_r = arena_printf(a, "member %s is missing", key);
		return -1;
	}
	struct acme_url u;
	const char *e;
	if (acme_url_parse(*url_r, &u, &e) < 0) {
		*error_r = arena_printf(a, "member %s: %s", key, e);
		return -1;
	}
	return 1;
}

static int get_status(json_t *o, struct arena *a, enum acme_obj_status *s_r, const char **error_r)
{
	const char *s;
	if (get_str(o, "status", a, &s, error_r) <= 0) {
		*error_r = "member status is missing or not a string";
		return -1;
	}
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (strcmp(s, status_names[i]) == 0) {
			*s_r = (enum acme_obj_status)i;
			return 1;
		}
	}
	*error_r = "unknown status";
	return -1;
}

static bool b64url_word(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static int problem_of(json_t *o, struct arena *a, struct acme_problem *p, const char **error_r)
{
	*p = (struct acme_problem){ .type = "", .detail = "" };
	if (get_str(o, "type", a, &p->type, error_r) < 0 || get_str(o, "detail", a, &p->detail, error_r) < 0)
		return -1;
	json_t *st = json_object_get(o, "status");
	if (json_is_integer(st) && json_integer_value(st) >= 100 && json_integer_value(st) <= 599)
		p->status = (int)json_integer_value(st);
	return 1;
}

/* The optional "error" member (a problem document). */
static int error_member(json_t *o, struct arena *a, bool *has_r, struct acme_problem *p, const char **error_r)
{
	json_t *e = json_object_get(o, "error");
	*has_r = false;
	if (e == NULL || json_is_null(e))
		return 1;
	if (!json_is_object(e)) {
		*error_r = "member error is not an object";
		return -1;
	}
	*has_r = true;
	return problem_of(e, a, p, error_r);
}

int acme_directory_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_directory *d,
			 const char **error_r)
{
	*d = (struct acme_directory){ 0 };
	json_t *j = load(data, len, error_r);
	if (j == NULL)
		return -1;
	int r = -1;
	if (get_url(j, "newNonce", true, a, &d->new_nonce, error_r) < 0 ||
	    get_url(j, "newAccount", true, a, &d->new_account, error_r) < 0 ||
	    get_url(j, "newOrder", true, a, &d->new_order, error_r) < 0 ||
	    get_url(j, "renewalInfo", false, a, &d->renewal_info, error_r) < 0)
		goto out;
	json_t *meta = json_object_get(j, "meta");
	if (meta != NULL && !json_is_null(meta)) {
		if (!json_is_object(meta)) {
			*error_r = "member meta is not an object";
			goto out;
		}
		if (get_str(meta, "termsOfService", a, &d->terms, error_r) < 0)
			goto out;
		d->eab_required = json_is_true(json_object_get(meta, "externalAccountRequired"));
	}
	r = 1;
out:
	json_decref(j);
	return r;
}

int acme_account_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_account *acct,
		       const char **error_r)
{
	json_t *j = load(data, len, error_r);
	if (j == NULL)
		return -1;
	int r = get_status(j, a, &acct->status, error_r);
	json_decref(j);
	return r;
}

int acme_order_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_order *o, const char **error_r)
{
	*o = (struct acme_order){ 0 };
	json_t *j = load(data, len, error_r);
	if (j == NULL)
		return -1;
	int r = -1;
	if (get_status(j, a, &o->status, error_r) < 0 || get_url(j, "finalize", true, a, &o->finalize, error_r) < 0 ||
	    get_url(j, "certificate", false, a, &o->certificate, error_r) < 0 ||
	    error_member(j, a, &o->has_error, &o->error, error_r) < 0)
		goto out;
	json_t *list = json_object_get(j, "authorizations");
	if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > ACME_LIST_MAX) {
		*error_r = "member authorizations is not a list of 1 to 100 URLs";
		goto out;
	}
	o->nauthorizations = json_array_size(list);
	o->authorizations = arena_alloc(a, o->nauthorizations * sizeof(char *));
	for (size_t i = 0; i < o->nauthorizations; i++) {
		json_t *w = json_object();
		json_object_set(w, "u", json_array_get(list, i));
		int k = get_url(w, "u", true, a, &o->authorizations[i], error_r);
		json_decref(w);
		if (k < 0) {
			*error_r = "an authorization is not an https URL";
			goto out;
		}
	}
	if (o->status == ACME_VALID && o->certificate == NULL) {
		*error_r = "valid order without a certificate URL";
		goto out;
	}
	r = 1;
out:
	json_decref(j);
	return r;
}

static int challenge_of(json_t *c, struct arena *a, struct acme_challenge *ch, const char **error_r)
{
	*ch = (struct acme_challenge){ 0 };
	if (!json_is_object(c)) {
		*error_r = "a challenge is not an object";
		return -1;
	}
	if (get_str(c, "type", a, &ch->type, error_r) <= 0) {
		*error_r = "challenge without a type";
		return -1;
	}
	if (get_url(c, "url", true, a, &ch->url, error_r) < 0 || get_status(c, a, &ch->status, error_r) < 0 ||
	    error_member(c, a, &ch->has_error, &ch->error, error_r) < 0)
		return -1;
	int t = get_str(c, "token", a, &ch->token, error_r);
	if (t < 0)
		return -1;
	bool needs_token = strcmp(ch->type, "http-01") == 0 || strcmp(ch->type, "tls-alpn-01") == 0 ||
			   strcmp(ch->type, "dns-01") == 0;
	if (needs_token && (t == 0 || !b64url_word(ch->token))) {
		*error_r = "challenge token is missing or not a base64url word";
		return -1;
	}
	if (t > 0 && !b64url_word(ch->token))
		ch->token = NULL; /* a type we do not use: its token is never looked at */
	return 1;
}

int acme_challenge_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_challenge *c,
			 const char **error_r)
{
	json_t *j = load(data, len, error_r);
	if (j == NULL)
		return -1;
	int r = challenge_of(j, a, c, error_r);
	json_decref(j);
	return r;
}

int acme_authz_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_authz *az,
		     const char **error_r)
{
	*az = (struct acme_authz){ 0 };
	json_t *j = load(data, len, error_r);
	if (j == NULL)
		return -1;
	int r = -1;
	json_t *id = json_object_get(j, "identifier");
	const char *type = NULL;
	if (!json_is_object(id) || get_str(id, "type", a, &type, error_r) <= 0 ||
	    get_str(id, "value", a, &az->identifier, error_r) <= 0) {
		*error_r = "authorization without an identifier";
		goto out;
	}
	if (strcmp(type, "dns") != 0) {
		*error_r = "authorization for an identifier that is not dns";
		goto out;
	}
	if (get_status(j, a, &az->status, error_r) < 0)
		goto out;
	az->wildcard = json_is_true(json_object_get(j, "wildcard"));
	json_t *list = json_object_get(j, "challenges");
	if (!json_is_array(list) || json_array_size(list) > ACME_LIST_MAX) {
		*error_r = "member challenges is not a list of at most 100";
		goto out;
	}
	az->nchallenges = json_array_size(list);
	az->challenges = arena_alloc(a, (az->nchallenges + 1) * sizeof(*az->challenges));
	for (size_t i = 0; i < az->nchallenges; i++)
		if (challenge_of(json_array_get(list, i), a, &az->challenges[i], error_r) < 0)
			goto out;
	r = 1;
out:
	json_decref(j);
	return r;
}

int acme_problem_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_problem *p,
		       const char **error_r)
{
	json_t *j = load(data, len, error_r);
	if (j == NULL)
		return -1;
	int r = problem_of(j, a, p, error_r);
	json_decref(j);
	return r;
}

static int two(const char *s)
{
	return (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9') ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

int acme_time_parse(const char *s, time_t *t_r)
{
	/* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) (RFC 3339 §5.6) */
	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	int y1 = two(s), y2 = two(s + 2), mo = two(s + 5), d = two(s + 8), h = two(s + 11), mi = two(s + 14),
	    se = two(s + 17);
	if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    se < 0 || se > 60)
		return -1;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	long off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh = two(p + 1), om = p[3] == ':' ? two(p + 4) : -1;
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		off = (oh * 3600L + om * 60L) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	struct tm tm = { .tm_year = y1 * 100 + y2 - 1900,
			 .tm_mon = mo - 1,
			 .tm_mday = d,
			 .tm_hour = h,
			 .tm_min = mi,
			 .tm_sec = se > 59 ? 59 : se };
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*t_r = t - off;
	return 1;
}

int acme_renewal_info_parse(const unsigned char *data, size_t len, struct arena *a, struct acme_renewal_info *ri,
			    const char **error_r)
{
	*ri = (struct acme_renewal_info){ 0 };
	json_t *j = load(data, len, error_r);
	if (j == NULL)
		return -1;
	int r = -1;
	json_t *w = json_object_get(j, "suggestedWindow");
	const char *start, *end;
	if (!json_is_object(w) || get_str(w, "start", a, &start, error_r) <= 0 ||
	    get_str(w, "end", a, &end, error_r) <= 0) {
		*error_r = "renewalInfo without a suggestedWindow";
		goto out;
	}
	if (acme_time_parse(start, &ri->start) < 0 || acme_time_parse(end, &ri->end) < 0) {
		*error_r = "suggestedWindow has a bad date";
		goto out;
	}
	if (ri->end <= ri->start) {
		*error_r = "suggestedWindow ends before it starts"; /* RFC 9773 §4.2 */
		goto out;
	}
	if (get_url(j, "explanationURL", false, a, &ri->explanation, error_r) < 0)
		goto out;
	r = 1;
out:
	json_decref(j);
	return r;
}

time_t acme_renewal_pick(const struct acme_renewal_info *ri, uint32_t rnd)
{
	assert(ri->end >= ri->start);
	uint64_t span = (uint64_t)ri->end - (uint64_t)ri->start;
	return ri->start + (span > 0 ? (time_t)(rnd % span) : 0);
}

long acme_retry_delay(int failures, long initial, long max, long retry_after)
{
	long delay = initial;
	for (int i = 1; i < failures && delay < max; i++)
		delay *= 2;
	if (delay > max)
		delay = max;
	if (retry_after > delay)
		delay = retry_after; /* the CA's rate limit */
	if (delay > ACME_RETRY_AFTER_MAX)
		delay = ACME_RETRY_AFTER_MAX; /* a hostile Retry-After must not stop renewals for good */
	return delay;
}
