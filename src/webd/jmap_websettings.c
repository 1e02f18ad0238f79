/* jmap_websettings.c: the webmail's own JMAP methods.
 *
 * Settings/get and Settings/set (capability urn:postamt:params:jmap:settings): one
 * object per account, id "singleton" as with RFC 8621 §8's VacationResponse, with
 * the preferences that are not identities: showImagesFromKnown (remote images of
 * senders in the contacts shown at once), notifications (desktop notifications,
 * opt-in), density ("comfortable" or "compact"), language ("" follows the browser,
 * "en", "de") and undoSendSeconds (the delay before a message is handed to
 * EmailSubmission, 0 to SETTINGS_UNDO_MAX; 0 is off) and imagesFrom (the senders
 * whose remote images the reader always shows: at most SETTINGS_IMAGES_FROM_MAX
 * addresses, stored lower case). Kept in the store as JSON
 * (store_webpref, kind SETTINGS); unknown properties are refused, so the stored
 * object only ever holds these.
 *
 * ContactSuggestion/query (capability urn:postamt:params:jmap:contacts): the
 * account's contacts whose address or a word of the name starts with `prefix`,
 * best ranked first (store_web.h: use, received mail, recency), at most `limit`
 * (CONTACT_LIMIT_MAX); with `exact: true` the one contact whose address is
 * `prefix` (the reader asks so whether a sender is known). Each entry says `uses`
 * (messages the account sent to it) and `received` (personal mail from it). The
 * sent side is filled when the account sends (jmap_contacts_use, from
 * EmailSubmission/set; beyond limits.webmail_contacts per account the least used
 * are forgotten), the received side by the delivery (store_deliver.c). */
#include "jmap.h"

#include "log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SETTINGS_ID "singleton"
#define SETTINGS_UNDO_MAX 30     /* seconds */
#define SETTINGS_JSON_MAX 65536  /* bytes of the stored object */
#define SETTINGS_IMAGES_FROM_MAX 200 /* senders whose images are always shown */
#define CONTACT_LIMIT_MAX 50     /* suggestions per query */
#define CONTACT_PREFIX_MAX 100   /* bytes of a query's prefix */

json_t *jmap_settings_defaults(void)
{
	return json_pack("{ss sb sb ss ss si s[]}", "id", SETTINGS_ID, "showImagesFromKnown", 0, "notifications", 0,
			 "density", "comfortable", "language", "", "undoSendSeconds", 5, "imagesFrom");
}

/* imagesFrom checked and normalised (lower case, no duplicates), or NULL. */
static json_t *images_from(json_t *v)
{
	if (!json_is_array(v) || json_array_size(v) > SETTINGS_IMAGES_FROM_MAX)
		return NULL;
	json_t *out = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		const char *a = json_string_value(e);
		size_t n = a != NULL ? strlen(a) : 0;
		if (n == 0 || n > 254 || strchr(a, '@') == NULL || strpbrk(a, " \t\r\n<>,\"") != NULL) {
			json_decref(out);
			return NULL;
		}
		char low[255];
		for (size_t k = 0; k <= n; k++)
			low[k] = (char)(a[k] >= 'A' && a[k] <= 'Z' ? a[k] + 32 : a[k]);
		bool dup = false;
		size_t j;
		json_t *o;
		json_array_foreach(out, j, o) dup |= strcmp(json_string_value(o), low) == 0;
		if (!dup)
			json_array_append_new(out, json_string(low));
	}
	return out;
}

json_t *jmap_settings_apply(json_t *cur, json_t *patch)
{
	static const char *const densities[] = { "comfortable", "compact", NULL };
	static const char *const languages[] = { "", "en", "de", NULL };
	const char *key;
	json_t *v;
	json_object_foreach(patch, key, v) {
		if (strcmp(key, "showImagesFromKnown") == 0 || strcmp(key, "notifications") == 0) {
			if (!json_is_boolean(v))
				return jmap_set_error("invalidProperties", "%s must be true or false", key);
		} else if (strcmp(key, "density") == 0) {
			if (!json_is_string(v) || !jmap_str_in(densities, json_string_value(v)))
				return jmap_set_error("invalidProperties", "density must be comfortable or compact");
		} else if (strcmp(key, "language") == 0) {
			if (!json_is_string(v) || !jmap_str_in(languages, json_string_value(v)))
				return jmap_set_error("invalidProperties", "language must be \"\", en or de");
		} else if (strcmp(key, "undoSendSeconds") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > SETTINGS_UNDO_MAX)
				return jmap_set_error("invalidProperties", "undoSendSeconds must be 0 to %d",
						      SETTINGS_UNDO_MAX);
		} else if (strcmp(key, "imagesFrom") == 0) {
			json_t *list = images_from(v);
			if (list == NULL)
				return jmap_set_error("invalidProperties",
						      "imagesFrom must be a list of at most %d e-mail addresses",
						      SETTINGS_IMAGES_FROM_MAX);
			json_object_set_new(cur, key, list);
			continue;
		} else if (strcmp(key, "id") == 0) {
			if (!json_is_string(v) || strcmp(json_string_value(v), SETTINGS_ID) != 0)
				return jmap_set_error("invalidProperties", "id is server-set");
			continue;
		} else {
			return jmap_set_error("invalidProperties", "unknown property %s", key);
		}
		json_object_set(cur, key, v);
	}
	return NULL;
}

/* The stored settings over the defaults; false after serverFail. */
static bool settings_load(struct jmap_ctx *ctx, json_t **obj_r, int64_t *state_r)
{
	const char *text, *error;
	int r = store_webpref_get(ctx->store, ctx->a, ctx->account_id, STORE_WEBPREF_SETTINGS, &text, state_r, &error);
	if (r < 0) {
		jmap_fail(ctx, "serverFail", "reading the settings failed");
		return false;
	}
	json_t *obj = jmap_settings_defaults();
	json_t *stored = r > 0 ? json_loads(text, 0, NULL) : NULL;
	if (json_is_object(stored)) {
		json_t *err = jmap_settings_apply(obj, stored);
		if (err != NULL) { /* written by this code, so never: the defaults then */
			json_decref(err);
			json_decref(obj);
			obj = jmap_settings_defaults();
		}
	}
	json_decref(stored);
	*obj_r = obj;
	return true;
}

static const char *settings_state(struct jmap_ctx *ctx, int64_t state)
{
	return arena_printf(ctx->a, "s%" PRId64, state);
}

json_t *jmap_settings_get(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	json_t *obj;
	int64_t state;
	if (!settings_load(ctx, &obj, &state))
		return NULL;
	json_t *all = json_pack("{so}", SETTINGS_ID, obj);
	return jmap_get_from(ctx, args, all, settings_state(ctx, state));
}

json_t *jmap_settings_set(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	json_t *create, *update, *destroy;
	if (!jmap_set_args(ctx, args, &create, &update, &destroy))
		return NULL;
	json_t *obj;
	int64_t state;
	if (!settings_load(ctx, &obj, &state))
		return NULL;
	const char *old = settings_state(ctx, state), *new_state = old;
	json_t *if_in = json_object_get(args, "ifInState");
	if (if_in != NULL && !json_is_null(if_in) && (!json_is_string(if_in) || strcmp(json_string_value(if_in), old) != 0)) {
		json_decref(obj);
		return jmap_fail(ctx, "stateMismatch", "the settings changed; fetch them again");
	}
	struct jmap_set_out o;
	jmap_set_out_init(&o);
	const char *key;
	json_t *v;
	json_object_foreach(create, key, v)
		json_object_set_new(o.not_created, key, jmap_set_error("singleton", "there is one settings object"));
	size_t i;
	json_array_foreach(destroy, i, v) {
		if (json_is_string(v))
			json_object_set_new(o.not_destroyed, json_string_value(v),
					    jmap_set_error("singleton", "there is one settings object"));
	}
	json_object_foreach(update, key, v) {
		if (strcmp(key, SETTINGS_ID) != 0) {
			json_object_set_new(o.not_updated, key, jmap_set_error("notFound", "no such object"));
			continue;
		}
		json_t *copy = json_deep_copy(obj);
		json_t *err = json_is_object(v) ? jmap_settings_apply(copy, v)
						: jmap_set_error("invalidProperties", "not an object");
		if (err != NULL) {
			json_decref(copy);
			json_object_set_new(o.not_updated, key, err);
			continue;
		}
		char *text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(copy);
		int64_t st;
		const char *error;
		int r = store_webpref_set(ctx->store, ctx->account_id, STORE_WEBPREF_SETTINGS, text, SETTINGS_JSON_MAX,
					  state, &st, &error);
		free(text);
		if (r < 0) {
			json_decref(obj);
			jmap_set_out_free(&o);
			if (r == STORE_ENOTALLOWED)
				return jmap_fail(ctx, "stateMismatch", "the settings changed meanwhile; try again");
			return jmap_fail(ctx, "serverFail", "saving the settings failed");
		}
		new_state = settings_state(ctx, st);
		json_object_set_new(o.updated, key, json_null());
	}
	json_decref(obj);
	return jmap_set_reply(ctx, old, new_state, &o);
}

json_t *jmap_contact_query(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	json_t *p = json_object_get(args, "prefix");
	if (!json_is_string(p) || strlen(json_string_value(p)) > CONTACT_PREFIX_MAX)
		return jmap_fail(ctx, "invalidArguments", "prefix must be a string of at most %d bytes",
				 CONTACT_PREFIX_MAX);
	uint64_t limit = 10;
	bool present;
	if (!jmap_arg_uint(ctx, args, "limit", &limit, &present))
		return NULL;
	if (limit == 0 || limit > CONTACT_LIMIT_MAX)
		limit = CONTACT_LIMIT_MAX;
	json_t *exact = json_object_get(args, "exact");
	if (exact != NULL && !json_is_boolean(exact))
		return jmap_fail(ctx, "invalidArguments", "exact must be true or false");
	struct store_contact *v, one;
	size_t n;
	const char *error;
	int64_t now = (int64_t)time(NULL);
	int r;
	if (json_is_true(exact)) {
		r = store_contact_get(ctx->store, ctx->a, ctx->account_id, json_string_value(p), now, &one, &error);
		v = &one;
		n = r > 0 ? 1 : 0;
	} else {
		r = store_contact_query(ctx->store, ctx->a, ctx->account_id, json_string_value(p), now, (size_t)limit, &v,
					&n, &error);
	}
	if (r < 0)
		return jmap_fail(ctx, "serverFail", "reading the contacts failed");
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{sssIsI}", "email", v[i].address, "uses", (json_int_t)v[i].uses, "received",
				      (json_int_t)v[i].received);
		json_object_set_new(o, "name", v[i].name != NULL ? json_string(v[i].name) : json_null());
		json_array_append_new(list, o);
	}
	return json_pack("{ss so}", "accountId", ctx->account_id_str, "list", list);
}

void jmap_contacts_use(struct jmap_ctx *ctx, json_t *addresses)
{
	size_t n = json_array_size(addresses);
	if (n == 0)
		return;
	struct store_contact *c = arena_alloc(ctx->a, n * sizeof(*c));
	size_t k = 0;
	size_t i;
	json_t *a;
	json_array_foreach(addresses, i, a) {
		const char *e = json_string_value(json_object_get(a, "email"));
		if (e == NULL || strchr(e, '@') == NULL)
			continue;
		c[k] = (struct store_contact){ .address = e, .name = json_string_value(json_object_get(a, "name")) };
		k++;
	}
	const char *error;
	/* the message is sent already: a failure here costs a suggestion, nothing more */
	if (store_contact_use(ctx->store, ctx->account_id, c, k, (int64_t)time(NULL), ctx->s->webmail_contacts, &error) < 0)
		log_warn("event=store_error op=contact_use user=%s error=%s", ctx->address, LOG_Q(error));
}
