/* jmap_vacation.c: VacationResponse/get and /set (RFC 8621 §8) over the store's
 * vacation settings (store_sieve_vacation_get/set). There is one object per account,
 * id "singleton"; it cannot be created or destroyed (SetError "singleton"). Delivery
 * turns the settings into a Sieve vacation fragment that runs before the user's
 * active script (docs/sieve.md). Dates are UTCDate strings ("2026-12-24T00:00:00Z");
 * the state string is the account's Sieve state, which the settings bump too. */
#include "jmap.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define VACATION_PROPS                                                                           \
	(const char *const[])                                                                    \
	{                                                                                        \
		"id", "isEnabled", "fromDate", "toDate", "subject", "textBody", "htmlBody", NULL \
	}

/* Parses a UTCDate (RFC 8620 §1.4: RFC 3339 date-time in UTC with "Z"; fractional
 * seconds are accepted and dropped). Returns 1 with *t_r, or 0. */
int jmap_utcdate_parse(const char *s, int64_t *t_r)
{
	struct tm tm = { 0 };
	int n = 0;
	if (s == NULL ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &n) != 6 ||
	    n != 19)
		return 0;
	const char *p = s + n;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (strcmp(p, "Z") != 0 || tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t_r = (int64_t)timegm(&tm);
	return 1;
}

static json_t *date_json(int64_t t)
{
	if (t == 0)
		return json_null();
	time_t tt = (time_t)t;
	struct tm tm;
	char out[32];
	gmtime_r(&tt, &tm);
	strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(out);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *vacation_json(const struct store_sieve_vacation *v, json_t *props)
{
	json_t *o = json_pack("{ss}", "id", "singleton");
	json_t *all[] = { json_boolean(v->enabled), date_json(v->from_date),   date_json(v->to_date),
			  str_or_null(v->subject),  str_or_null(v->text_body), str_or_null(v->html_body) };
	const char *names[] = { "isEnabled", "fromDate", "toDate", "subject", "textBody", "htmlBody" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (props == NULL || jmap_array_has(props, names[i]))
			json_object_set_new(o, names[i], all[i]);
		else
			json_decref(all[i]);
	}
	return o;
}

json_t *jmap_vacation_get(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = jmap_sieve_state(ctx, args);
	if (state == NULL)
		return NULL;
	json_t *ids, *props;
	if (!jmap_get_args(ctx, args, VACATION_PROPS, &ids, &props))
		return NULL;
	struct store_sieve_vacation vac;
	const char *error;
	if (store_sieve_vacation_get(ctx->store, ctx->a, ctx->account_id, &vac, &error) < 0)
		return jmap_fail(ctx, "serverFail", "cannot read the vacation response");
	json_t *list = json_array(), *not_found = json_array();
	bool want = !json_is_array(ids);
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), "singleton") == 0)
			want = true;
		else
			json_array_append(not_found, v);
	}
	if (want)
		json_array_append_new(list, vacation_json(&vac, props));
	return jmap_get_reply(ctx, state, list, not_found);
}

/* Applies a patch to v; returns NULL or an invalidProperties SetError. Strings stay
 * owned by the patch (alive while the request runs). */
static json_t *apply(json_t *patch, struct store_sieve_vacation *v)
{
	json_t *bad = json_array();
	const char *k;
	json_t *x;
	json_object_foreach(patch, k, x)
	{
		bool ok = true;
		if (strcmp(k, "id") == 0) {
			ok = json_is_string(x) && strcmp(json_string_value(x), "singleton") == 0;
		} else if (strcmp(k, "isEnabled") == 0) {
			ok = json_is_boolean(x);
			v->enabled = json_is_true(x);
		} else if (strcmp(k, "fromDate") == 0 || strcmp(k, "toDate") == 0) {
			int64_t t = 0;
			ok = json_is_null(x) || jmap_utcdate_parse(json_string_value(x), &t) > 0;
			*(strcmp(k, "fromDate") == 0 ? &v->from_date : &v->to_date) = t;
		} else if (strcmp(k, "subject") == 0 || strcmp(k, "textBody") == 0 || strcmp(k, "htmlBody") == 0) {
			ok = json_is_null(x) || json_is_string(x);
			const char *s = json_string_value(x);
			if (strcmp(k, "subject") == 0) {
				/* one header line: a line break would start another header */
				for (const char *p = s; ok && p != NULL && *p != '\0'; p++)
					ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
				v->subject = s;
			} else if (strcmp(k, "textBody") == 0) {
				v->text_body = s;
			} else {
				v->html_body = s;
			}
		} else {
			ok = false;
		}
		if (!ok)
			json_array_append_new(bad, json_string(k));
	}
	if (json_array_size(bad) == 0 && v->from_date != 0 && v->to_date != 0 && v->to_date < v->from_date)
		json_array_append_new(bad, json_string("toDate"));
	if (json_array_size(bad) == 0) {
		json_decref(bad);
		return NULL;
	}
	json_t *e = json_pack("{ssssso}", "type", "invalidProperties", "description",
			      "isEnabled is a boolean, fromDate/toDate UTCDates (toDate not before fromDate) or null, "
			      "subject (one line) / textBody / htmlBody strings or null",
			      "properties", bad);
	assert(e != NULL);
	return e;
}

json_t *jmap_vacation_set(struct jmap_ctx *ctx, json_t *args)
{
	const char *old = jmap_sieve_state(ctx, args);
	if (old == NULL)
		return NULL;
	const char *if_in = json_string_value(json_object_get(args, "ifInState"));
	if (if_in != NULL && strcmp(if_in, old) != 0)
		return jmap_fail(ctx, "stateMismatch", "state is %s", old);
	json_t *create, *update, *destroy;
	if (!jmap_set_args(ctx, args, &create, &update, &destroy))
		return NULL;
	struct jmap_set_out o;
	jmap_set_out_init(&o);
	const char *k;
	json_t *x;
	size_t i;
	json_object_foreach(create, k, x)
		json_object_set_new(o.not_created, k, jmap_set_error("singleton", "there is only the singleton"));
	json_array_foreach(destroy, i, x)
	{
		if (json_is_string(x))
			json_object_set_new(o.not_destroyed, json_string_value(x),
					    jmap_set_error("singleton", "the singleton cannot be destroyed"));
	}
	json_object_foreach(update, k, x)
	{
		if (strcmp(k, "singleton") != 0) {
			json_object_set_new(o.not_updated, k, jmap_set_error("notFound", "the only id is singleton"));
			continue;
		}
		if (!json_is_object(x)) {
			json_object_set_new(o.not_updated, k, jmap_set_error("invalidPatch", "not an object"));
			continue;
		}
		struct store_sieve_vacation v;
		const char *error;
		if (store_sieve_vacation_get(ctx->store, ctx->a, ctx->account_id, &v, &error) < 0) {
			jmap_set_out_free(&o);
			return jmap_fail(ctx, "serverFail", "cannot read the vacation response");
		}
		json_t *err = apply(x, &v);
		if (err == NULL) {
			int r = store_sieve_vacation_set(ctx->store, ctx->account_id, &v, &error);
			if (r == STORE_EINVAL)
				err = json_pack("{ssss}", "type", "invalidProperties", "description",
						error ? error : "invalid vacation response");
			else if (r < 0)
				err = jmap_set_error("serverFail", "cannot store the vacation response");
		}
		if (err != NULL)
			json_object_set_new(o.not_updated, k, err);
		else
			json_object_set_new(o.updated, k, json_null());
	}
	const char *now = jmap_sieve_state(ctx, args);
	return jmap_set_reply(ctx, old, now ? now : old, &o);
}
