/* jmap_sieve.c: JMAP for Sieve Scripts (RFC 9661): SieveScript/get, /set (create,
 * update, destroy, onSuccessActivateScript, onSuccessDeactivateScript), /query,
 * /validate, and /changes and /queryChanges (cannotCalculateChanges once anything
 * changed) over the store's Sieve API (store_sieve.h). A script's content is a blob:
 * clients upload it (RFC 8620 §6.1) and name the blobId; a stored script's blob is
 * "S<script id>-<64-bit hash of its text>", so a blob id never names two contents,
 * and reads back through the download URL (jmap_blob.c makes and reads these ids).
 * Scripts are compiled (and so validated) through the webd_sieve callbacks that
 * serve wires to src/sieve; the compiled form is stored next to the text. The
 * state string is the account's Sieve state (store_sieve_state). */
#include "jmap.h"

#include "buf.h"
#include "log.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROP_NAMES                                       \
	(const char *const[])                            \
	{                                                \
		"id", "name", "blobId", "isActive", NULL \
	}

static void script_id(int64_t id, char out[24])
{
	snprintf(out, 24, "S%" PRId64, id);
}

/* "S<digits>" -> id; 0 if it is not one. */
static int64_t parse_script_id(const char *s)
{
	if (s == NULL || s[0] != 'S' || s[1] < '1' || s[1] > '9' || strlen(s) > 19)
		return 0;
	int64_t v = 0;
	for (const char *p = s + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (*p - '0');
	}
	return v;
}

void jmap_sieve_limits(const struct webd_env *env, const struct settings *s, struct store_sieve_limits *l_r)
{
	(void)env;
	*l_r = (struct store_sieve_limits){ .max_scripts = s->sieve_max_scripts,
					    .max_script_size = s->sieve_max_script_size };
}

/* The Sieve state string, after checking accountId; NULL after jmap_fail. */
static const char *sieve_state(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	if (ctx->env->sieve == NULL) {
		jmap_fail(ctx, "unknownMethod", "Sieve is not available on this server");
		return NULL;
	}
	int64_t st;
	const char *error;
	if (store_sieve_state(ctx->store, ctx->account_id, &st, &error) < 0) {
		jmap_fail(ctx, "serverFail", "cannot read the Sieve state");
		return NULL;
	}
	return arena_printf(ctx->a, "%" PRId64, st);
}

const char *jmap_sieve_state(struct jmap_ctx *ctx, json_t *args)
{
	return sieve_state(ctx, args);
}

static json_t *script_json(struct jmap_ctx *ctx, struct store_sieve_script *sc, json_t *props)
{
	char id[24];
	script_id(sc->id, id);
	json_t *o = json_pack("{ss}", "id", id);
	if (props == NULL || jmap_array_has(props, "name"))
		json_object_set_new(o, "name", json_string(sc->name));
	if (props == NULL || jmap_array_has(props, "blobId")) {
		const char *blob = jmap_blob_sieve_id(ctx, sc);
		json_object_set_new(o, "blobId", blob ? json_string(blob) : json_null());
	}
	if (props == NULL || jmap_array_has(props, "isActive"))
		json_object_set_new(o, "isActive", json_boolean(sc->active));
	return o;
}

static bool load(struct jmap_ctx *ctx, struct store_sieve_script **scripts_r, size_t *n_r)
{
	const char *error;
	if (store_sieve_list(ctx->store, ctx->a, ctx->account_id, scripts_r, n_r, NULL, &error) < 0) {
		jmap_fail(ctx, "serverFail", "cannot list the scripts");
		return false;
	}
	return true;
}

json_t *jmap_sieve_get(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = sieve_state(ctx, args);
	if (state == NULL)
		return NULL;
	json_t *ids, *props;
	if (!jmap_get_args(ctx, args, PROP_NAMES, &ids, &props))
		return NULL;
	struct store_sieve_script *sc;
	size_t n;
	if (!load(ctx, &sc, &n))
		return NULL;
	json_t *list = json_array(), *not_found = json_array();
	if (!json_is_array(ids)) {
		for (size_t k = 0; k < n; k++)
			json_array_append_new(list, script_json(ctx, &sc[k], props));
	} else {
		size_t i;
		json_t *v;
		json_array_foreach(ids, i, v)
		{
			int64_t id = parse_script_id(jmap_resolve_id(ctx, json_string_value(v)));
			size_t k = 0;
			while (k < n && sc[k].id != id)
				k++;
			if (k < n)
				json_array_append_new(list, script_json(ctx, &sc[k], props));
			else
				json_array_append(not_found, v);
		}
	}
	return jmap_get_reply(ctx, state, list, not_found);
}

/* Reads a blob as script text and compiles it: 1 with the text and compiled form,
 * 0 with *err_r (a SetError: blobNotFound, tooLarge, invalidSieve). */
static int script_content(struct jmap_ctx *ctx, const char *blob_id, const char **text_r, size_t *len_r,
			  struct buf *compiled, json_t **err_r)
{
	const char *data;
	size_t len;
	const char *bid = jmap_resolve_id(ctx, blob_id);
	if (bid == NULL || jmap_blob_read(ctx, bid, &data, &len, NULL, NULL) <= 0) {
		*err_r = jmap_set_error("blobNotFound", "no blob %.100s", blob_id);
		json_object_set_new(*err_r, "notFound", json_pack("[s]", blob_id));
		return 0;
	}
	struct store_sieve_limits lim;
	jmap_sieve_limits(ctx->env, ctx->s, &lim);
	size_t max = lim.max_script_size;
	if (max != 0 && len > max) {
		*err_r = jmap_set_error("tooLarge", "the script has %zu bytes, more than %zu (sieve.max_script_size)",
					len, max);
		json_object_set_new(*err_r, "maxSize", json_integer((json_int_t)max));
		return 0;
	}
	const char *error = NULL;
	if (ctx->env->sieve->compile(ctx->s, data, len, ctx->a, compiled, &error) < 0) {
		*err_r = jmap_set_error("invalidSieve", "%s", error ? error : "the script is not valid");
		return 0;
	}
	*text_r = data;
	*len_r = len;
	return 1;
}

/* A store error of a put as a SetError. */
static json_t *put_error(struct jmap_ctx *ctx, int r, const char *name, const char *error)
{
	struct store_sieve_limits lim;
	jmap_sieve_limits(ctx->env, ctx->s, &lim);
	switch (r) {
	case STORE_EEXISTS:
		return jmap_set_error("alreadyExists", "a script named %.200s exists", name ? name : "");
	case STORE_EINVAL:
		return json_pack("{sssss[s]}", "type", "invalidProperties", "description", "bad script name",
				 "properties", "name");
	case STORE_ETOOBIG: {
		json_t *e = jmap_set_error("tooLarge", "the script is too large (sieve.max_script_size)");
		json_object_set_new(e, "maxSize", json_integer((json_int_t)lim.max_script_size));
		return e;
	}
	case STORE_ELIMIT:
		return jmap_set_error("overQuota", "at most %zu scripts (sieve.max_scripts)", lim.max_scripts);
	case STORE_ENOTFOUND:
		return jmap_set_error("notFound", "no such script");
	default:
		log_warn("event=jmap_sieve_store_error account=%" PRId64 " error=\"%s\"", ctx->account_id,
			 error ? error : "");
		return jmap_set_error("serverFail", "the script could not be stored");
	}
}

/* Checks a create/update object's properties: only name and blobId may be given.
 * Returns NULL or an invalidProperties SetError. */
static json_t *check_props(json_t *obj, bool create)
{
	const char *k;
	json_t *v;
	json_t *bad = json_array();
	json_object_foreach(obj, k, v)
	{
		if (strcmp(k, "name") == 0) {
			if (!json_is_string(v) && !(create && json_is_null(v)))
				json_array_append_new(bad, json_string(k));
			else if (json_is_string(v) && store_sieve_name_valid(json_string_value(v)) <= 0)
				json_array_append_new(bad, json_string(k));
		} else if (strcmp(k, "blobId") == 0) {
			if (!json_is_string(v))
				json_array_append_new(bad, json_string(k));
		} else {
			json_array_append_new(bad, json_string(k)); /* id, isActive: server-set */
		}
	}
	if (create && json_object_get(obj, "blobId") == NULL && json_array_size(bad) == 0)
		json_array_append_new(bad, json_string("blobId"));
	if (json_array_size(bad) == 0) {
		json_decref(bad);
		return NULL;
	}
	json_t *e = json_pack("{ssssso}", "type", "invalidProperties", "description",
			      "only name (a valid script name) and blobId may be set", "properties", bad);
	assert(e != NULL);
	return e;
}

static void do_create(struct jmap_ctx *ctx, json_t *create, const struct store_sieve_limits *lim,
		      struct jmap_set_out *o)
{
	const char *cid;
	json_t *obj;
	json_object_foreach(create, cid, obj)
	{
		json_t *err = json_is_object(obj) ? check_props(obj, true)
						  : jmap_set_error("invalidProperties", "not an object");
		const char *name = json_string_value(json_object_get(obj, "name"));
		struct store_sieve_script old;
		const char *error;
		if (err == NULL && name == NULL)
			name = arena_printf(ctx->a, "script-%s", cid); /* the server picks one */
		if (err == NULL && store_sieve_get(ctx->store, ctx->a, ctx->account_id, 0, name, 0, &old, &error) > 0) {
			char id[24];
			script_id(old.id, id);
			err = jmap_set_error("alreadyExists", "a script named %.200s exists", name);
			json_object_set_new(err, "existingId", json_string(id));
		}
		const char *text = NULL;
		size_t len = 0;
		struct buf compiled = { 0 };
		if (err == NULL)
			script_content(ctx, json_string_value(json_object_get(obj, "blobId")), &text, &len, &compiled,
				       &err);
		int64_t id = 0;
		if (err == NULL) {
			struct store_sieve_put p = { .name = name,
						     .text = text,
						     .text_len = len,
						     .compiled = compiled.data,
						     .compiled_len = compiled.len };
			int r = store_sieve_put(ctx->store, ctx->account_id, &p, lim, &id, &error);
			if (r < 0)
				err = put_error(ctx, r, name, error);
		}
		buf_free(&compiled);
		if (err != NULL) {
			json_object_set_new(o->not_created, cid, err);
			continue;
		}
		struct store_sieve_script sc;
		if (store_sieve_get(ctx->store, ctx->a, ctx->account_id, id, NULL, 0, &sc, &error) <= 0) {
			json_object_set_new(o->not_created, cid, jmap_set_error("serverFail", "stored but not found"));
			continue;
		}
		json_t *j = script_json(ctx, &sc, NULL);
		jmap_created(ctx, cid, json_string_value(json_object_get(j, "id")));
		json_object_set_new(o->created, cid, j);
	}
}

static void do_update(struct jmap_ctx *ctx, json_t *update, const struct store_sieve_limits *lim,
		      struct jmap_set_out *o)
{
	const char *sid;
	json_t *patch;
	json_object_foreach(update, sid, patch)
	{
		int64_t id = parse_script_id(jmap_resolve_id(ctx, sid));
		struct store_sieve_script sc;
		const char *error;
		json_t *err = NULL;
		if (id == 0 || store_sieve_get(ctx->store, ctx->a, ctx->account_id, id, NULL, 0, &sc, &error) <= 0)
			err = jmap_set_error("notFound", "no script %.100s", sid);
		else if (!json_is_object(patch))
			err = jmap_set_error("invalidPatch", "not an object");
		else
			err = check_props(patch, false);
		const char *name = json_string_value(json_object_get(patch, "name"));
		const char *blob = json_string_value(json_object_get(patch, "blobId"));
		const char *text = NULL;
		size_t len = 0;
		struct buf compiled = { 0 };
		if (err == NULL && blob != NULL)
			script_content(ctx, blob, &text, &len, &compiled, &err);
		if (err == NULL && (name != NULL || text != NULL)) {
			struct store_sieve_put p = { .id = id,
						     .name = name,
						     .text = text,
						     .text_len = len,
						     .compiled = compiled.data,
						     .compiled_len = compiled.len };
			int r = store_sieve_put(ctx->store, ctx->account_id, &p, lim, NULL, &error);
			if (r < 0)
				err = put_error(ctx, r, name, error);
		}
		buf_free(&compiled);
		if (err != NULL) {
			json_object_set_new(o->not_updated, sid, err);
			continue;
		}
		json_t *changed = json_null();
		if (text != NULL && store_sieve_get(ctx->store, ctx->a, ctx->account_id, id, NULL, 0, &sc, &error) > 0)
			changed = json_pack("{ss*}", "blobId", jmap_blob_sieve_id(ctx, &sc));
		json_object_set_new(o->updated, sid, changed);
	}
}

static void do_destroy(struct jmap_ctx *ctx, json_t *destroy, struct jmap_set_out *o)
{
	size_t i;
	json_t *v;
	json_array_foreach(destroy, i, v)
	{
		const char *sid = json_string_value(v);
		if (sid == NULL)
			continue;
		int64_t id = parse_script_id(jmap_resolve_id(ctx, sid));
		const char *error;
		int r = id > 0 ? store_sieve_delete(ctx->store, ctx->account_id, id, NULL, &error) : STORE_ENOTFOUND;
		if (r > 0)
			json_array_append_new(o->destroyed, json_string(sid));
		else if (r == STORE_ENOTALLOWED)
			json_object_set_new(o->not_destroyed, sid,
					    jmap_set_error("sieveIsActive", "the active script cannot be destroyed; "
									    "deactivate it first"));
		else if (r == STORE_ENOTFOUND)
			json_object_set_new(o->not_destroyed, sid, jmap_set_error("notFound", "no script %.100s", sid));
		else
			json_object_set_new(o->not_destroyed, sid, jmap_set_error("serverFail", "cannot destroy"));
	}
}

/* Reports isActive for script id in created (when it was created by this call) or
 * updated. */
static void report_active(struct jmap_set_out *o, int64_t id, bool active)
{
	char sid[24];
	script_id(id, sid);
	const char *cid;
	json_t *c;
	json_object_foreach(o->created, cid, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "id")), sid) == 0) {
			json_object_set_new(c, "isActive", json_boolean(active));
			return;
		}
	}
	json_t *u = json_object_get(o->updated, sid);
	if (!json_is_object(u)) {
		u = json_object();
		json_object_set_new(o->updated, sid, u);
	}
	json_object_set_new(u, "isActive", json_boolean(active));
}

/* onSuccessDeactivateScript, then onSuccessActivateScript (RFC 9661 §2.2), when every
 * create, update and destroy succeeded. */
static void do_activate(struct jmap_ctx *ctx, json_t *args, struct jmap_set_out *o)
{
	if (json_object_size(o->not_created) || json_object_size(o->not_updated) || json_object_size(o->not_destroyed))
		return;
	json_t *deact = json_object_get(args, "onSuccessDeactivateScript");
	const char *act = json_string_value(json_object_get(args, "onSuccessActivateScript"));
	int64_t want = act ? parse_script_id(jmap_resolve_id(ctx, act)) : 0;
	if (!json_is_true(deact) && want == 0)
		return;
	struct store_sieve_script *sc;
	size_t n;
	const char *error;
	if (store_sieve_list(ctx->store, ctx->a, ctx->account_id, &sc, &n, NULL, &error) < 0)
		return;
	int64_t was = 0;
	bool exists = false;
	for (size_t k = 0; k < n; k++) {
		if (sc[k].active)
			was = sc[k].id;
		if (sc[k].id == want)
			exists = true;
	}
	if (want != 0 && exists) {
		if (want != was && store_sieve_activate(ctx->store, ctx->account_id, want, NULL, &error) > 0) {
			if (was)
				report_active(o, was, false);
			report_active(o, want, true);
		}
	} else if (json_is_true(deact) && was != 0) {
		if (store_sieve_activate(ctx->store, ctx->account_id, 0, NULL, &error) > 0)
			report_active(o, was, false);
	}
}

json_t *jmap_sieve_set(struct jmap_ctx *ctx, json_t *args)
{
	const char *old = sieve_state(ctx, args);
	if (old == NULL)
		return NULL;
	const char *if_in = json_string_value(json_object_get(args, "ifInState"));
	if (if_in != NULL && strcmp(if_in, old) != 0)
		return jmap_fail(ctx, "stateMismatch", "state is %s", old);
	json_t *create, *update, *destroy;
	if (!jmap_set_args(ctx, args, &create, &update, &destroy))
		return NULL;
	json_t *act = json_object_get(args, "onSuccessActivateScript"),
	       *deact = json_object_get(args, "onSuccessDeactivateScript");
	if ((act != NULL && !json_is_null(act) && !json_is_string(act)) ||
	    (deact != NULL && !json_is_null(deact) && !json_is_boolean(deact)))
		return jmap_fail(ctx, "invalidArguments",
				 "onSuccessActivateScript is an id, onSuccessDeactivateScript a boolean");
	if (json_object_size(create) + json_object_size(update) + json_array_size(destroy) > JMAP_MAX_OBJECTS)
		return jmap_fail(ctx, "requestTooLarge", "at most %d objects", JMAP_MAX_OBJECTS);
	struct store_sieve_limits lim;
	jmap_sieve_limits(ctx->env, ctx->s, &lim);
	struct jmap_set_out o;
	jmap_set_out_init(&o);
	if (json_is_object(create))
		do_create(ctx, create, &lim, &o);
	if (json_is_object(update))
		do_update(ctx, update, &lim, &o);
	if (json_is_array(destroy))
		do_destroy(ctx, destroy, &o);
	do_activate(ctx, args, &o);
	const char *now = sieve_state(ctx, args);
	return jmap_set_reply(ctx, old, now ? now : old, &o);
}

json_t *jmap_sieve_query(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = sieve_state(ctx, args);
	if (state == NULL)
		return NULL;
	json_t *filter = json_object_get(args, "filter"), *sort = json_object_get(args, "sort");
	if (filter != NULL && !json_is_null(filter) && !json_is_object(filter))
		return jmap_fail(ctx, "invalidArguments", "filter must be an object");
	const char *k;
	json_t *v;
	json_object_foreach(filter, k, v)
	{
		if (!((strcmp(k, "name") == 0 && json_is_string(v)) ||
		      (strcmp(k, "isActive") == 0 && json_is_boolean(v))))
			return jmap_fail(ctx, "unsupportedFilter", "filters are name (a string) and isActive");
	}
	bool by_active = false, ascending = true;
	if (sort != NULL && !json_is_null(sort)) {
		if (!json_is_array(sort) || json_array_size(sort) > 1)
			return jmap_fail(ctx, "unsupportedSort", "sort by one of name, isActive");
		json_t *c = json_array_get(sort, 0);
		const char *prop = json_string_value(json_object_get(c, "property"));
		json_t *asc = json_object_get(c, "isAscending");
		if (c != NULL && (prop == NULL || (strcmp(prop, "name") != 0 && strcmp(prop, "isActive") != 0) ||
				  (asc != NULL && !json_is_boolean(asc))))
			return jmap_fail(ctx, "unsupportedSort", "sort by one of name, isActive");
		by_active = prop != NULL && strcmp(prop, "isActive") == 0;
		ascending = asc == NULL || json_is_true(asc);
	}
	uint64_t position = 0, limit = UINT64_MAX;
	if (!jmap_arg_uint(ctx, args, "position", &position, NULL) || !jmap_arg_uint(ctx, args, "limit", &limit, NULL))
		return NULL;
	struct store_sieve_script *sc;
	size_t n;
	if (!load(ctx, &sc, &n))
		return NULL;
	const char *name = json_string_value(json_object_get(filter, "name"));
	json_t *active = json_object_get(filter, "isActive");
	/* the store lists by name; isActive puts the one active script first or last */
	json_t *ids = json_array();
	size_t total = 0;
	for (int pass = 0; pass < (by_active ? 2 : 1); pass++) {
		for (size_t i = 0; i < n; i++) {
			size_t j = ascending ? i : n - 1 - i;
			if (by_active && sc[j].active != (pass == (ascending ? 1 : 0)))
				continue;
			if (name != NULL && strstr(sc[j].name, name) == NULL)
				continue;
			if (active != NULL && sc[j].active != json_is_true(active))
				continue;
			if (total++ < position || json_array_size(ids) >= limit)
				continue;
			char id[24];
			script_id(sc[j].id, id);
			json_array_append_new(ids, json_string(id));
		}
	}
	return json_pack("{sssssbsIsosI}", "accountId", ctx->account_id_str, "queryState", state, "canCalculateChanges",
			 0, "position", (json_int_t)(position < total ? position : total), "ids", ids, "total",
			 (json_int_t)total);
}

/* The state is one counter per account (no change log): sinceState equal to it means
 * no changes; any other is cannotCalculateChanges, and the client fetches again. */
json_t *jmap_sieve_changes(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = sieve_state(ctx, args);
	if (state == NULL)
		return NULL;
	const char *since = json_string_value(json_object_get(args, "sinceState"));
	if (since == NULL)
		return jmap_fail(ctx, "invalidArguments", "sinceState is required");
	if (strcmp(since, state) != 0)
		return jmap_fail(ctx, "cannotCalculateChanges", "state is %s; fetch the scripts again", state);
	return json_pack("{sssssssbs[]s[]s[]}", "accountId", ctx->account_id_str, "oldState", state, "newState", state,
			 "hasMoreChanges", 0, "created", "updated", "destroyed");
}

json_t *jmap_sieve_query_changes(struct jmap_ctx *ctx, json_t *args)
{
	if (sieve_state(ctx, args) == NULL)
		return NULL;
	return jmap_fail(ctx, "cannotCalculateChanges", "query the scripts again");
}

json_t *jmap_sieve_validate(struct jmap_ctx *ctx, json_t *args)
{
	if (sieve_state(ctx, args) == NULL)
		return NULL;
	const char *blob = json_string_value(json_object_get(args, "blobId"));
	if (blob == NULL)
		return jmap_fail(ctx, "invalidArguments", "blobId is required");
	const char *text;
	size_t len;
	json_t *err = NULL;
	struct buf compiled = { 0 };
	script_content(ctx, blob, &text, &len, &compiled, &err);
	buf_free(&compiled);
	if (err != NULL && strcmp(json_string_value(json_object_get(err, "type")), "blobNotFound") == 0) {
		json_decref(err);
		return jmap_fail(ctx, "invalidArguments", "no blob %.100s", blob);
	}
	return json_pack("{ssso}", "accountId", ctx->account_id_str, "error", err ? err : json_null());
}
