/* jmap_junk.c: JunkSettings/get and JunkSettings/set, the account's junk filter
 * switch for the webmail's settings page and other JMAP clients (capability
 * urn:postamt:params:jmap:junk, docs/spam.md "Per account").
 *
 * One object per account, id "singleton", in the manner of RFC 8621 §8's
 * VacationResponse: {id, enabled, trained, spamCount, hamCount, threshold, minimum}.
 * Only `enabled` may be changed (the same switch as `postamt user junk --on/--off`);
 * the rest is server-set (the model's counts, spam.junk_threshold and
 * spam.junk_min_trained). create and destroy are refused with the "singleton" error.
 * The state is made of what the object shows (switch and counts), so it changes
 * exactly when the object does. */
#include "jmap.h"

#include <inttypes.h>
#include <string.h>

#define JUNK_ID "singleton"

/* The model's totals and switch; false after jmap_fail(serverFail). */
static bool junk_read(struct jmap_ctx *ctx, struct store_junk_model *m)
{
	const char *err;
	if (store_junk_read(ctx->store, ctx->account_id, NULL, 0, m, &err) < 0) {
		jmap_fail(ctx, "serverFail", "reading the junk filter failed");
		return false;
	}
	return true;
}

static const char *junk_state(struct jmap_ctx *ctx, const struct store_junk_model *m)
{
	return arena_printf(ctx->a, "%d-%" PRId64 "-%" PRId64, m->enabled ? 1 : 0, m->nspam, m->nham);
}

static json_t *junk_object(const struct jmap_ctx *ctx, const struct store_junk_model *m)
{
	bool trained = m->nspam >= ctx->s->junk_min_trained && m->nham >= ctx->s->junk_min_trained;
	return json_pack("{sssbsbsIsIsfsI}", "id", JUNK_ID, "enabled", m->enabled, "trained", trained, "spamCount",
			 (json_int_t)m->nspam, "hamCount", (json_int_t)m->nham, "threshold", ctx->s->junk_threshold,
			 "minimum", (json_int_t)ctx->s->junk_min_trained);
}

json_t *jmap_junk_get(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	static const char *const known[] = { "id",	 "enabled",   "trained", "spamCount",
					     "hamCount", "threshold", "minimum", NULL };
	json_t *ids, *props;
	if (!jmap_get_args(ctx, args, known, &ids, &props))
		return NULL;
	struct store_junk_model m;
	if (!junk_read(ctx, &m))
		return NULL;
	json_t *obj = junk_object(ctx, &m);
	if (json_is_array(props)) {
		json_t *o = json_pack("{ss}", "id", JUNK_ID);
		size_t i;
		json_t *p;
		json_array_foreach(props, i, p)
		{
			json_object_set(o, json_string_value(p), json_object_get(obj, json_string_value(p)));
		}
		json_decref(obj);
		obj = o;
	}
	json_t *list = json_array(), *not_found = json_array();
	if (!json_is_array(ids)) {
		json_array_append(list, obj);
	} else {
		size_t i;
		json_t *v;
		json_array_foreach(ids, i, v)
		{
			const char *id = jmap_resolve_id(ctx, json_string_value(v));
			if (id != NULL && strcmp(id, JUNK_ID) == 0)
				json_array_append(list, obj);
			else
				json_array_append_new(not_found, json_is_string(v) ? json_copy(v) : json_null());
		}
	}
	json_decref(obj);
	return jmap_get_reply(ctx, junk_state(ctx, &m), list, not_found);
}

/* One update of the singleton: 1 with *on_r, or 0 with *err_r (a SetError). */
static int junk_patch(json_t *patch, bool *on_r, json_t **err_r)
{
	if (!json_is_object(patch)) {
		*err_r = jmap_set_error("invalidPatch", "the patch must be an object");
		return 0;
	}
	json_t *bad = json_array();
	const char *key;
	json_t *v;
	bool have = false;
	json_object_foreach(patch, key, v)
	{
		if (strcmp(key, "enabled") == 0 && json_is_boolean(v)) {
			*on_r = json_is_true(v);
			have = true;
		} else {
			json_array_append_new(bad, json_string(key));
		}
	}
	if (json_array_size(bad) > 0) {
		*err_r = jmap_set_error("invalidProperties", "only enabled (true or false) may be set");
		json_object_set_new(*err_r, "properties", bad);
		return 0;
	}
	json_decref(bad);
	if (!have) {
		*err_r = NULL; /* an empty patch changes nothing */
		return 0;
	}
	return 1;
}

json_t *jmap_junk_set(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	json_t *create, *update, *destroy;
	if (!jmap_set_args(ctx, args, &create, &update, &destroy))
		return NULL;
	struct store_junk_model m;
	if (!junk_read(ctx, &m))
		return NULL;
	const char *old = junk_state(ctx, &m);
	const char *if_in = json_string_value(json_object_get(args, "ifInState"));
	if (if_in != NULL && strcmp(if_in, old) != 0)
		return jmap_fail(ctx, "stateMismatch", "state is %s", old);
	struct jmap_set_out o;
	jmap_set_out_init(&o);
	const char *key;
	json_t *v;
	if (json_is_object(create)) {
		json_object_foreach(create, key, v) json_object_set_new(
			o.not_created, key, jmap_set_error("singleton", "there is one JunkSettings object, update it"));
	}
	if (json_is_object(update)) {
		json_object_foreach(update, key, v)
		{
			const char *id = jmap_resolve_id(ctx, key);
			if (id == NULL || strcmp(id, JUNK_ID) != 0) {
				json_object_set_new(o.not_updated, key, jmap_set_error("notFound", "no such object"));
				continue;
			}
			bool on = m.enabled;
			json_t *err = NULL;
			if (junk_patch(v, &on, &err) == 0 && err != NULL) {
				json_object_set_new(o.not_updated, key, err);
				continue;
			}
			const char *serr;
			if (on != m.enabled && store_junk_set_enabled(ctx->store, ctx->account_id, on, &serr) < 0) {
				json_object_set_new(o.not_updated, key, jmap_set_error("serverFail", "%s", serr));
				continue;
			}
			json_object_set_new(o.updated, key, json_null());
		}
	}
	if (json_is_array(destroy)) {
		size_t i;
		json_array_foreach(destroy, i, v)
		{
			if (json_is_string(v))
				json_object_set_new(o.not_destroyed, json_string_value(v),
						    jmap_set_error("singleton", "JunkSettings cannot be destroyed"));
		}
	}
	struct store_junk_model now;
	if (!junk_read(ctx, &now)) {
		jmap_set_out_free(&o);
		return NULL;
	}
	return jmap_set_reply(ctx, old, junk_state(ctx, &now), &o);
}
