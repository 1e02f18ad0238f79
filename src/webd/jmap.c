/* jmap.c: what the JMAP methods share (RFC 8620): method errors and SetErrors,
 * the account's state string, accountId and ifInState checks, creation ids and
 * result references for "#id", the /set reply shape, the response budget
 * (limits.jmap_response). The request loop and the method table are in
 * jmap_api.c, above the methods; this file calls none of them. */
#include "jmap.h"

#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *jmap_fail(struct jmap_ctx *ctx, const char *type, const char *fmt, ...)
{
	snprintf(ctx->err_type, sizeof(ctx->err_type), "%s", type);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->err_desc, sizeof(ctx->err_desc), fmt, ap);
	va_end(ap);
	return NULL;
}

json_t *jmap_set_error(const char *type, const char *fmt, ...)
{
	char desc[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	return json_pack("{ssss}", "type", type, "description", desc);
}

const char *jmap_state(struct jmap_ctx *ctx)
{
	struct store_account acct;
	const char *error;
	if (store_account_get_by_id(ctx->store, ctx->a, ctx->account_id, &acct, &error) <= 0)
		return NULL;
	return arena_printf(ctx->a, "%" PRIu64, acct.modseq);
}

bool jmap_check_account(struct jmap_ctx *ctx, json_t *args)
{
	json_t *a = json_object_get(args, "accountId");
	if (a == NULL || json_is_null(a)) {
		jmap_fail(ctx, "invalidArguments", "accountId is required");
		return false;
	}
	if (!json_is_string(a)) {
		jmap_fail(ctx, "invalidArguments", "accountId must be a string");
		return false;
	}
	if (strcmp(json_string_value(a), ctx->account_id_str) != 0) {
		jmap_fail(ctx, "accountNotFound", "no such account");
		return false;
	}
	return true;
}

const char *jmap_resolve_id(struct jmap_ctx *ctx, const char *id)
{
	if (id == NULL)
		return NULL;
	if (id[0] != '#')
		return id;
	return json_string_value(json_object_get(ctx->created_ids, id + 1));
}

void jmap_created(struct jmap_ctx *ctx, const char *creation_id, const char *id)
{
	json_object_set_new(ctx->created_ids, creation_id, json_string(id));
}

void jmap_add_implicit(struct jmap_ctx *ctx, const char *name, json_t *args)
{
	if (ctx->implicit == NULL)
		ctx->implicit = json_array();
	json_array_append_new(ctx->implicit, json_pack("[sos]", name, args, ctx->call_id));
}

bool jmap_arg_uint(struct jmap_ctx *ctx, json_t *args, const char *name, uint64_t *v_r, bool *present_r)
{
	json_t *v = json_object_get(args, name);
	if (present_r)
		*present_r = v != NULL && !json_is_null(v);
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		jmap_fail(ctx, "invalidArguments", "%s must be an unsigned integer", name);
		return false;
	}
	*v_r = (uint64_t)json_integer_value(v);
	return true;
}

const char *jmap_account_state(struct jmap_ctx *ctx)
{
	const char *state = jmap_state(ctx);
	if (state == NULL)
		jmap_fail(ctx, "serverFail", "cannot read the account");
	return state;
}

const char *jmap_begin(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	return jmap_account_state(ctx);
}

const char *jmap_begin_set(struct jmap_ctx *ctx, json_t *args)
{
	const char *old = jmap_begin(ctx, args);
	if (old == NULL)
		return NULL;
	const char *if_in = json_string_value(json_object_get(args, "ifInState"));
	if (if_in != NULL && strcmp(if_in, old) != 0) {
		jmap_fail(ctx, "stateMismatch", "state is %s", old);
		return NULL;
	}
	return old;
}

bool jmap_set_args(struct jmap_ctx *ctx, json_t *args, json_t **create_r, json_t **update_r, json_t **destroy_r)
{
	json_t *create = json_object_get(args, "create"), *update = json_object_get(args, "update"),
	       *destroy = json_object_get(args, "destroy");
	if ((create && !json_is_null(create) && !json_is_object(create)) ||
	    (update && !json_is_null(update) && !json_is_object(update)) ||
	    (destroy && !json_is_null(destroy) && !json_is_array(destroy))) {
		jmap_fail(ctx, "invalidArguments", "create/update must be objects, destroy an array");
		return false;
	}
	*create_r = create;
	*update_r = update;
	*destroy_r = destroy;
	return true;
}

bool jmap_since_state(struct jmap_ctx *ctx, json_t *args, const char *cur, uint64_t *since_r)
{
	const char *s = json_string_value(json_object_get(args, "sinceState"));
	if (s == NULL) {
		jmap_fail(ctx, "invalidArguments", "sinceState is required");
		return false;
	}
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v > strtoull(cur, NULL, 10)) {
		jmap_fail(ctx, "cannotCalculateChanges", "unknown state %s", s);
		return false;
	}
	*since_r = v;
	return true;
}

json_t *jmap_get_reply(struct jmap_ctx *ctx, const char *state, json_t *list, json_t *not_found)
{
	return json_pack("{sssssoso}", "accountId", ctx->account_id_str, "state", state, "list", list, "notFound",
			 not_found);
}

void jmap_set_out_init(struct jmap_set_out *o)
{
	o->created = json_object();
	o->not_created = json_object();
	o->updated = json_object();
	o->not_updated = json_object();
	o->destroyed = json_array();
	o->not_destroyed = json_object();
}

void jmap_set_out_free(struct jmap_set_out *o)
{
	json_decref(o->created);
	json_decref(o->not_created);
	json_decref(o->updated);
	json_decref(o->not_updated);
	json_decref(o->destroyed);
	json_decref(o->not_destroyed);
	*o = (struct jmap_set_out){ 0 };
}

json_t *jmap_set_reply(struct jmap_ctx *ctx, const char *old_state, const char *new_state, struct jmap_set_out *o)
{
	json_t *r = json_pack("{sssssssosososososo}", "accountId", ctx->account_id_str, "oldState", old_state,
			      "newState", new_state ? new_state : old_state, "created", o->created, "updated",
			      o->updated, "destroyed", o->destroyed, "notCreated", o->not_created, "notUpdated",
			      o->not_updated, "notDestroyed", o->not_destroyed);
	*o = (struct jmap_set_out){ 0 };
	return r;
}

bool jmap_get_args(struct jmap_ctx *ctx, json_t *args, const char *const *known, json_t **ids_r, json_t **props_r)
{
	json_t *ids = json_object_get(args, "ids"), *props = json_object_get(args, "properties");
	if (json_is_null(ids))
		ids = NULL;
	if (json_is_null(props))
		props = NULL;
	if ((ids != NULL && !json_is_array(ids)) || (props != NULL && !json_is_array(props))) {
		jmap_fail(ctx, "invalidArguments", "ids and properties must be arrays or null");
		return false;
	}
	if (ids != NULL && json_array_size(ids) > JMAP_MAX_OBJECTS) {
		jmap_fail(ctx, "requestTooLarge", "at most %d ids", JMAP_MAX_OBJECTS);
		return false;
	}
	size_t i;
	json_t *v;
	json_array_foreach(props, i, v) {
		if (!json_is_string(v) || (known != NULL && !jmap_str_in(known, json_string_value(v)))) {
			jmap_fail(ctx, "invalidArguments", "unknown property %s",
				  json_is_string(v) ? json_string_value(v) : "(not a string)");
			return false;
		}
	}
	*ids_r = ids;
	*props_r = props;
	return true;
}

json_t *jmap_get_from(struct jmap_ctx *ctx, json_t *args, json_t *all, const char *state)
{
	json_t *ids, *props;
	if (!jmap_get_args(ctx, args, NULL, &ids, &props)) {
		json_decref(all);
		return NULL;
	}
	json_t *list = json_array(), *not_found = json_array();
	const char *key;
	json_t *v;
	if (ids == NULL) {
		json_object_foreach(all, key, v)
			json_array_append(list, v);
	} else {
		size_t i;
		json_array_foreach(ids, i, v) {
			const char *s = jmap_resolve_id(ctx, json_string_value(v));
			json_t *o = s ? json_object_get(all, s) : NULL;
			if (o != NULL)
				json_array_append(list, o);
			else
				json_array_append_new(not_found, json_is_string(v) ? json_copy(v) : json_null());
		}
	}
	if (props != NULL) {
		size_t i;
		json_array_foreach(list, i, v) {
			json_t *o = json_object();
			json_object_set(o, "id", json_object_get(v, "id"));
			size_t k;
			json_t *p;
			json_array_foreach(props, k, p) {
				json_t *val = json_object_get(v, json_string_value(p));
				if (val != NULL)
					json_object_set(o, json_string_value(p), val);
			}
			json_array_set_new(list, i, o);
		}
	}
	json_decref(all);
	return jmap_get_reply(ctx, state, list, not_found);
}

bool jmap_str_in(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i] != NULL; i++) {
		if (strcmp(list[i], s) == 0)
			return true;
	}
	return false;
}

bool jmap_array_has(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

json_t *jmap_core_echo(struct jmap_ctx *ctx, json_t *args)
{
	return json_deep_copy(args);
}

bool jmap_budget_take(struct jmap_ctx *ctx, uint64_t n)
{
	uint64_t max = ctx->s->jmap_response_max;
	if (max == 0 || (ctx->budget_used <= max && n <= max - ctx->budget_used)) {
		ctx->budget_used += n;
		return true;
	}
	jmap_fail(ctx, "requestTooLarge",
		  "the request reads or returns more than %" PRIu64 " bytes of mail (limits.jmap_response); "
		  "ask for fewer emails at once, or a smaller maxBodyValueBytes",
		  max);
	return false;
}

uint64_t jmap_body_values_size(json_t *email)
{
	uint64_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(email, "bodyValues"), k, v)
		n += json_string_length(json_object_get(v, "value"));
	return n;
}
