/* jmap_identity.c: Identity/get, /changes and /set (RFC 8621 §6), kept in the store
 * (store_webpref, kind IDENTITIES) so that names and signatures survive a restart.
 *
 * Every account has the identity "I0" for its own address; it cannot be destroyed
 * but its name, replyTo, bcc and signatures may be set. More identities may be
 * created for addresses the account may send as (its own and its aliases: the same
 * rule as SMTP submission's sender check). The stored JSON is
 * {"next": N, "list": {id: Identity}}; the state string is "i" and the store's
 * counter for it, so Identity/changes can say "nothing changed" exactly and
 * otherwise asks the client to fetch again (cannotCalculateChanges, §5.2). */
#include "jmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Explicit limits: a signature's and a name's bytes (RFC 8621 sets none); the
 * identities per account are limits.webmail_identities, which bounds the stored
 * text with these. */
#define IDENTITY_SIGNATURE_MAX 10000
#define IDENTITY_NAME_MAX 256
#define IDENTITY_BYTES_MAX (2 * IDENTITY_SIGNATURE_MAX + 4096)

static json_t *default_identity(struct jmap_ctx *ctx)
{
	return json_pack("{ss ss ss sn sn ss ss sb}", "id", "I0", "name", "", "email", ctx->address, "replyTo", "bcc",
			 "textSignature", "", "htmlSignature", "", "mayDelete", 0);
}

struct idents {
	json_t *doc;  /* {"next": N, "list": {...}} */
	int64_t state;
};

/* Reads the stored identities (I0 made up when absent); false after serverFail. */
static bool idents_load(struct jmap_ctx *ctx, struct idents *out)
{
	const char *text, *error;
	int r = store_webpref_get(ctx->store, ctx->a, ctx->account_id, STORE_WEBPREF_IDENTITIES, &text, &out->state,
				  &error);
	if (r < 0) {
		jmap_fail(ctx, "serverFail", "reading the identities failed");
		return false;
	}
	out->doc = r > 0 ? json_loads(text, 0, NULL) : NULL;
	if (!json_is_object(out->doc) || !json_is_object(json_object_get(out->doc, "list"))) {
		json_decref(out->doc);
		out->doc = json_pack("{sI s{}}", "next", (json_int_t)1, "list");
	}
	json_t *list = json_object_get(out->doc, "list");
	json_t *i0 = json_object_get(list, "I0");
	if (i0 == NULL)
		json_object_set_new(list, "I0", default_identity(ctx));
	else /* the account's own address, whatever was stored */
		json_object_set_new(i0, "email", json_string(ctx->address));
	return true;
}

static const char *idents_state(struct jmap_ctx *ctx, int64_t state)
{
	return arena_printf(ctx->a, "i%" PRId64, state);
}

json_t *jmap_identities(struct jmap_ctx *ctx)
{
	struct idents id;
	if (!idents_load(ctx, &id))
		return NULL;
	json_t *list = json_incref(json_object_get(id.doc, "list"));
	json_decref(id.doc);
	return list;
}

json_t *jmap_identity_get(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	struct idents id;
	if (!idents_load(ctx, &id))
		return NULL;
	json_t *list = json_incref(json_object_get(id.doc, "list"));
	json_decref(id.doc);
	return jmap_get_from(ctx, args, list, idents_state(ctx, id.state));
}

json_t *jmap_identity_changes(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	const char *since = json_string_value(json_object_get(args, "sinceState"));
	if (since == NULL)
		return jmap_fail(ctx, "invalidArguments", "sinceState is required");
	struct idents id;
	if (!idents_load(ctx, &id))
		return NULL;
	json_decref(id.doc);
	const char *cur = idents_state(ctx, id.state);
	if (strcmp(since, cur) != 0)
		return jmap_fail(ctx, "cannotCalculateChanges", "fetch the identities again");
	return json_pack("{ss ss ss sb s[] s[] s[]}", "accountId", ctx->account_id_str, "oldState", cur, "newState",
			 cur, "hasMoreChanges", 0, "created", "updated", "destroyed");
}

/* True for null or an array of EmailAddress objects with a string email. */
static bool addresses_ok(json_t *v)
{
	if (json_is_null(v))
		return true;
	if (!json_is_array(v) || json_array_size(v) > 20)
		return false;
	size_t i;
	json_t *a;
	json_array_foreach(v, i, a) {
		json_t *e = json_object_get(a, "email"), *n = json_object_get(a, "name");
		if (!json_is_object(a) || !json_is_string(e) || strchr(json_string_value(e), '@') == NULL ||
		    (n != NULL && !json_is_null(n) && !json_is_string(n)))
			return false;
	}
	return true;
}

/* Applies the properties v to target; NULL, or a SetError. The rules of RFC 8621
 * §6 with this server's limits; email only at creation, and only an owned one. */
json_t *jmap_identity_props(struct jmap_ctx *ctx, json_t *target, json_t *v, bool create)
{
	const char *key;
	json_t *val;
	json_object_foreach(v, key, val) {
		if (strcmp(key, "name") == 0 || strcmp(key, "textSignature") == 0 || strcmp(key, "htmlSignature") == 0) {
			size_t max = strcmp(key, "name") == 0 ? IDENTITY_NAME_MAX : IDENTITY_SIGNATURE_MAX;
			if (!json_is_string(val))
				return jmap_set_error("invalidProperties", "%s must be a string", key);
			if (strlen(json_string_value(val)) > max)
				return jmap_set_error("invalidProperties", "%s is longer than %zu bytes", key, max);
			if (strcmp(key, "name") == 0 && strpbrk(json_string_value(val), "\r\n") != NULL)
				return jmap_set_error("invalidProperties", "name must be one line");
			json_object_set(target, key, val);
		} else if (strcmp(key, "replyTo") == 0 || strcmp(key, "bcc") == 0) {
			if (!addresses_ok(val))
				return jmap_set_error("invalidProperties", "%s must be addresses or null", key);
			json_object_set(target, key, val);
		} else if (strcmp(key, "email") == 0) {
			if (!create) {
				if (!json_equal(val, json_object_get(target, "email")))
					return jmap_set_error("invalidProperties", "email cannot be changed");
				continue;
			}
			if (!json_is_string(val) ||
			    !store_sender_owned(ctx->store, ctx->a, ctx->account_id, ctx->address, json_string_value(val)))
				return jmap_set_error("forbiddenFrom", "you cannot send as %s",
						      json_is_string(val) ? json_string_value(val) : "?");
			json_object_set(target, key, val);
		} else if (strcmp(key, "id") == 0 || strcmp(key, "mayDelete") == 0) {
			if (!json_equal(val, json_object_get(target, key)))
				return jmap_set_error("invalidProperties", "%s is server-set", key);
		} else {
			return jmap_set_error("invalidProperties", "unknown property %s", key);
		}
	}
	return NULL;
}

json_t *jmap_identity_set(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	json_t *create, *update, *destroy;
	if (!jmap_set_args(ctx, args, &create, &update, &destroy))
		return NULL;
	struct idents id;
	if (!idents_load(ctx, &id))
		return NULL;
	const char *old = idents_state(ctx, id.state);
	json_t *if_in = json_object_get(args, "ifInState");
	if (if_in != NULL && !json_is_null(if_in) && (!json_is_string(if_in) || strcmp(json_string_value(if_in), old) != 0)) {
		json_decref(id.doc);
		return jmap_fail(ctx, "stateMismatch", "the identities changed; fetch them again");
	}
	json_t *list = json_object_get(id.doc, "list");
	json_int_t next = json_integer_value(json_object_get(id.doc, "next"));
	if (next < 1)
		next = 1;
	struct jmap_set_out o;
	jmap_set_out_init(&o);
	const char *key;
	json_t *v;
	json_object_foreach(create, key, v) {
		json_t *ident = json_pack("{ss sn sn ss ss sb}", "name", "", "replyTo", "bcc", "textSignature", "",
					  "htmlSignature", "", "mayDelete", 1);
		json_t *err = json_is_object(v) ? jmap_identity_props(ctx, ident, v, true)
						: jmap_set_error("invalidProperties", "not an object");
		if (err == NULL && json_object_get(ident, "email") == NULL)
			err = jmap_set_error("invalidProperties", "email is required");
		if (err == NULL && json_object_size(list) >= ctx->s->webmail_identities)
			err = jmap_set_error("overQuota", "at most %zu identities (limits.webmail_identities)",
					     ctx->s->webmail_identities);
		if (err != NULL) {
			json_decref(ident);
			json_object_set_new(o.not_created, key, err);
			continue;
		}
		char nid[32];
		snprintf(nid, sizeof(nid), "I%" JSON_INTEGER_FORMAT, next++);
		json_object_set_new(ident, "id", json_string(nid));
		json_object_set_new(list, nid, ident);
		jmap_created(ctx, key, nid);
		json_object_set_new(o.created, key, json_pack("{sssb}", "id", nid, "mayDelete", 1));
	}
	json_object_foreach(update, key, v) {
		const char *iid = jmap_resolve_id(ctx, key);
		json_t *cur = iid ? json_object_get(list, iid) : NULL;
		if (cur == NULL || !json_is_object(v)) {
			json_object_set_new(o.not_updated, key, jmap_set_error("notFound", "no such identity"));
			continue;
		}
		json_t *copy = json_deep_copy(cur);
		json_t *err = jmap_identity_props(ctx, copy, v, false);
		if (err != NULL) {
			json_decref(copy);
			json_object_set_new(o.not_updated, key, err);
			continue;
		}
		json_object_set_new(list, iid, copy);
		json_object_set_new(o.updated, key, json_null());
	}
	size_t i;
	json_array_foreach(destroy, i, v) {
		const char *did = jmap_resolve_id(ctx, json_string_value(v));
		if (did == NULL || json_object_get(list, did) == NULL) {
			if (json_is_string(v))
				json_object_set_new(o.not_destroyed, json_string_value(v),
						    jmap_set_error("notFound", "no such identity"));
			continue;
		}
		if (strcmp(did, "I0") == 0) {
			json_object_set_new(o.not_destroyed, did, jmap_set_error("forbidden", "the account's own identity"));
			continue;
		}
		json_object_del(list, did);
		json_array_append_new(o.destroyed, json_string(did));
	}
	const char *new_state = old;
	if (json_object_size(o.created) + json_object_size(o.updated) + json_array_size(o.destroyed) > 0) {
		json_object_set_new(id.doc, "next", json_integer(next));
		char *text = json_dumps(id.doc, JSON_COMPACT);
		int64_t st;
		const char *error;
		int r = store_webpref_set(ctx->store, ctx->account_id, STORE_WEBPREF_IDENTITIES, text,
					  (json_object_size(list) + 1) * IDENTITY_BYTES_MAX,
					  id.state, &st, &error);
		free(text);
		if (r < 0) {
			json_decref(id.doc);
			jmap_set_out_free(&o);
			if (r == STORE_ENOTALLOWED)
				return jmap_fail(ctx, "stateMismatch", "the identities changed meanwhile; try again");
			return jmap_fail(ctx, "serverFail", "saving the identities failed");
		}
		new_state = idents_state(ctx, st);
	}
	json_decref(id.doc);
	return jmap_set_reply(ctx, old, new_state, &o);
}
