/* jmap_set.c: Email/set, Email/copy and Email/import (RFC 8621 §4.6-4.8).
 *
 * keywords map to IMAP flags ($seen = \Seen, ...) and keywords on every mailbox row
 * of the email; mailboxIds changes are store copies, moves and expunges, so IMAP
 * sees a MOVE as a MOVE (RFC 6851 semantics). All updates of one Email/set are
 * checked here and applied as one store operation (store_email_update_batch): one
 * commit and one state change for a bulk action, each email all or nothing. Created drafts are
 * composed (jmap_compose.c) and appended; imports append an uploaded message. */
#include "jmap.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *store_err(int r, const char *error)
{
	switch (r) {
	case STORE_EOVERQUOTA: return jmap_set_error("overQuota", "%s", error ? error : "over quota");
	/* the server's disk (limits.disk_reserve): RFC 8620 §5.3's server-defined limit */
	case STORE_ENOSPACE: return jmap_set_error("overQuota", "%s", error ? error : "the server's disk is full");
	case STORE_ETOOBIG: return jmap_set_error("tooLarge", "%s", error ? error : "too large");
	case STORE_ENOTFOUND: return jmap_set_error("notFound", "%s", error ? error : "not found");
	case STORE_EINVAL: return jmap_set_error("invalidProperties", "%s", error ? error : "invalid");
	}
	return jmap_set_error("serverFail", "%s", error ? error : "store error");
}

/* Keywords object -> flags and a NULL-terminated keyword list (arena); false if a
 * keyword is invalid. */
static bool keywords_from(struct jmap_ctx *ctx, json_t *obj, unsigned int *flags_r, const char ***kws_r)
{
	*flags_r = 0;
	size_t n = json_object_size(obj), k = 0;
	const char **kws = arena_alloc(ctx->a, (n + 1) * sizeof(*kws));
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (!json_is_true(v) || !jmap_keyword_valid(key))
			return false;
		unsigned int f = jmap_keyword_flag(key);
		if (f != 0) {
			*flags_r |= f;
			continue;
		}
		char *lower = arena_strdup(ctx->a, key);
		for (char *p = lower; *p; p++) {
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		}
		kws[k++] = lower;
	}
	if (k > STORE_KEYWORDS_PER_MESSAGE)
		return false;
	kws[k] = NULL;
	*kws_r = kws;
	return true;
}

static bool mailbox_exists(struct jmap_ctx *ctx, int64_t id)
{
	struct store_mailbox mb;
	const char *error;
	return store_mailbox_get_by_id(ctx->store, ctx->a, ctx->account_id, id, &mb, &error) > 0;
}

/* mailboxIds object -> ids (arena). NULL after *err_r. */
static int64_t *mailboxes_from(struct jmap_ctx *ctx, json_t *obj, size_t *n_r, json_t **err_r)
{
	if (!json_is_object(obj) || json_object_size(obj) == 0) {
		*err_r = jmap_set_error("invalidProperties", "mailboxIds must name at least one mailbox");
		json_object_set_new(*err_r, "properties", json_pack("[s]", "mailboxIds"));
		return NULL;
	}
	int64_t *ids = arena_alloc(ctx->a, json_object_size(obj) * sizeof(int64_t));
	size_t n = 0;
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		int64_t id;
		const char *s = jmap_resolve_id(ctx, key);
		if (!json_is_true(v) || s == NULL || store_id_parse(s, 'M', &id) <= 0 || !mailbox_exists(ctx, id)) {
			*err_r = jmap_set_error("invalidProperties", "no such mailbox: %s", key);
			json_object_set_new(*err_r, "properties", json_pack("[s]", "mailboxIds"));
			return NULL;
		}
		ids[n++] = id;
	}
	*n_r = n;
	return ids;
}

/* The keywords and receivedAt of an Email/set create or Email/import object: NULL
 * or a SetError. */
static json_t *append_props(struct jmap_ctx *ctx, json_t *v, unsigned int *flags_r, const char ***kws_r,
			    int64_t *received_r)
{
	json_t *kw = json_object_get(v, "keywords");
	if (kw != NULL && (!json_is_object(kw) || !keywords_from(ctx, kw, flags_r, kws_r)))
		return jmap_set_error("invalidProperties", "invalid keywords");
	const char *rs = json_string_value(json_object_get(v, "receivedAt"));
	if (rs != NULL && web_parse_date(rs, received_r) < 0)
		return jmap_set_error("invalidProperties", "invalid receivedAt");
	return NULL;
}

/* Appends data to the first mailbox and copies it to the others. */
static json_t *append_email(struct jmap_ctx *ctx, const char *data, size_t len, const int64_t *mbs, size_t nmbs,
			    unsigned int flags, const char *const *kws, int64_t internal_date, json_t **created_r)
{
	struct store_append ap = { .account_id = ctx->account_id, .mailbox_id = mbs[0], .data = data, .len = len,
				   .flags = flags, .keywords = kws, .internal_date = internal_date };
	const char *error;
	int r = store_append(ctx->store, &ap, &error);
	if (r < 0)
		return store_err(r, error);
	for (size_t i = 1; i < nmbs; i++) {
		struct store_range rg = { ap.uid, ap.uid };
		struct store_copy cp = { .account_id = ctx->account_id, .src_mailbox_id = mbs[0],
					 .dst_mailbox_id = mbs[i], .uids = { &rg, 1 } };
		r = store_copy(ctx->store, ctx->a, &cp, &error);
		if (r < 0)
			return store_err(r, error);
	}
	struct store_msg_meta meta;
	int64_t mbid;
	char id[24], tid[24] = "", blob[64];
	store_id_email(ap.email_id, id);
	if (store_email_meta(ctx->store, ctx->a, ctx->account_id, ap.email_id, &meta, &mbid, &error) > 0)
		store_id_thread(meta.m.thread_id, tid);
	jmap_blob_id(ap.email_id, NULL, blob, sizeof(blob));
	*created_r = json_pack("{sssssssI}", "id", id, "blobId", blob, "threadId", tid, "size", (json_int_t)len);
	return NULL;
}

/* Expunges one message row: NULL or a SetError. */
static json_t *expunge_one(struct jmap_ctx *ctx, int64_t mailbox_id, uint32_t uid)
{
	struct store_range rg = { uid, uid };
	struct store_uidset set = { &rg, 1 };
	const char *error;
	int r = store_expunge(ctx->store, ctx->a, ctx->account_id, mailbox_id, &set, false, NULL, NULL, &error);
	return r < 0 ? store_err(r, error) : NULL;
}

json_t *jmap_email_destroy(struct jmap_ctx *ctx, int64_t email_id)
{
	int64_t *mbs;
	uint32_t *uids;
	size_t n;
	const char *error;
	if (store_email_mailboxes(ctx->store, ctx->a, ctx->account_id, email_id, &mbs, &uids, &n, &error) <= 0 || n == 0)
		return jmap_set_error("notFound", "no such email");
	for (size_t i = 0; i < n; i++) {
		json_t *err = expunge_one(ctx, mbs[i], uids[i]);
		if (err != NULL)
			return err;
	}
	return NULL;
}

static bool in_list(const int64_t *v, size_t n, int64_t x)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] == x)
			return true;
	}
	return false;
}

/* The mailboxes of an email after a mailboxIds patch (into u), or a SetError. */
static json_t *patch_mailboxes(struct jmap_ctx *ctx, int64_t email_id, json_t *patch, struct store_email_update *u)
{
	int64_t *mbs;
	uint32_t *uids;
	size_t n;
	const char *error;
	if (store_email_mailboxes(ctx->store, ctx->a, ctx->account_id, email_id, &mbs, &uids, &n, &error) <= 0 || n == 0)
		return jmap_set_error("notFound", "no such email");
	int64_t *target = arena_alloc(ctx->a, (n + json_object_size(patch) + 1) * sizeof(int64_t));
	size_t ntarget = 0;
	json_t *err = NULL;
	json_t *full = json_object_get(patch, "mailboxIds");
	if (full != NULL) {
		size_t k;
		int64_t *ids = mailboxes_from(ctx, full, &k, &err);
		if (ids == NULL)
			return err;
		memcpy(target, ids, k * sizeof(int64_t));
		ntarget = k;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (!in_list(target, ntarget, mbs[i]))
				target[ntarget++] = mbs[i];
		}
	}
	const char *key;
	json_t *v;
	json_object_foreach(patch, key, v) {
		if (strncmp(key, "mailboxIds/", 11) != 0)
			continue;
		int64_t id;
		const char *s = jmap_resolve_id(ctx, key + 11);
		if (s == NULL || store_id_parse(s, 'M', &id) <= 0 || (json_is_true(v) && !mailbox_exists(ctx, id)))
			return jmap_set_error("invalidProperties", "no such mailbox %s", key + 11);
		if (json_is_true(v)) {
			if (!in_list(target, ntarget, id))
				target[ntarget++] = id;
		} else {
			size_t w = 0;
			for (size_t i = 0; i < ntarget; i++) {
				if (target[i] != id)
					target[w++] = target[i];
			}
			ntarget = w;
		}
	}
	if (ntarget == 0)
		return jmap_set_error("invalidProperties", "an email must stay in at least one mailbox");
	u->mailbox_ids = target;
	u->nmailboxes = ntarget;
	return NULL;
}

/* Checks an Email/set update patch and turns it into u (keywords into flags and
 * keyword lists, mailboxIds into the target set): NULL, or a SetError. Nothing is
 * changed here; store_email_update_batch applies u. */
static json_t *email_patch(struct jmap_ctx *ctx, int64_t email_id, json_t *patch, struct store_email_update *u)
{
	*u = (struct store_email_update){ .email_id = email_id };
	if (!json_is_object(patch))
		return jmap_set_error("invalidPatch", "a patch must be an object");
	json_t *full_kw = NULL, *add_kw = json_object(), *del_kw = json_object();
	bool mb_changed = false;
	json_t *err = NULL;
	const char *key;
	json_t *v;
	json_object_foreach(patch, key, v) {
		if (strcmp(key, "keywords") == 0) {
			full_kw = v;
		} else if (strncmp(key, "keywords/", 9) == 0) {
			const char *kw = key + 9;
			if (!jmap_keyword_valid(kw) || !(json_is_true(v) || json_is_null(v) || json_is_false(v))) {
				err = jmap_set_error("invalidProperties", "bad keyword patch %s", key);
				break;
			}
			json_object_set_new(json_is_true(v) ? add_kw : del_kw, kw, json_true());
		} else if (strcmp(key, "mailboxIds") == 0 || strncmp(key, "mailboxIds/", 11) == 0) {
			mb_changed = true;
		} else {
			err = jmap_set_error("invalidProperties", "%s cannot be changed", key);
			json_object_set_new(err, "properties", json_pack("[s]", key));
			break;
		}
	}
	if (err == NULL && mb_changed)
		err = patch_mailboxes(ctx, email_id, patch, u);
	if (err == NULL && full_kw != NULL && !json_is_object(full_kw))
		err = jmap_set_error("invalidProperties", "keywords must be an object");
	if (err == NULL && full_kw != NULL) {
		u->replace = true;
		if (!keywords_from(ctx, full_kw, &u->set_flags, (const char ***)&u->set_keywords))
			err = jmap_set_error("invalidProperties", "invalid keywords");
	}
	if (err == NULL && (!keywords_from(ctx, add_kw, &u->add_flags, (const char ***)&u->add_keywords) ||
			    !keywords_from(ctx, del_kw, &u->del_flags, (const char ***)&u->del_keywords)))
		err = jmap_set_error("invalidProperties", "invalid keywords");
	json_decref(add_kw);
	json_decref(del_kw);
	return err;
}

/* Applies n checked updates as one store operation; each item's SetError (or NULL)
 * into errs[]. */
static void email_update_run(struct jmap_ctx *ctx, struct store_email_update *items, size_t n, json_t **errs)
{
	if (n == 0)
		return;
	struct store_email_update_batch b = { .account_id = ctx->account_id, .items = items, .n = n };
	const char *error;
	if (store_email_update_batch(ctx->store, ctx->a, &b, &error) < 0)
		log_warn("event=jmap_email_update_failed error=\"%s\"", error);
	for (size_t i = 0; i < n; i++)
		errs[i] = items[i].result < 0 ? store_err(items[i].result, items[i].error) : NULL;
}

json_t *jmap_email_update(struct jmap_ctx *ctx, int64_t email_id, json_t *patch)
{
	struct store_email_update u;
	json_t *err = email_patch(ctx, email_id, patch, &u);
	if (err == NULL)
		email_update_run(ctx, &u, 1, &err);
	return err;
}

/* Email/set update: every patch is checked first, then all valid ones are applied in
 * one store operation (one commit, one state change); SetErrors per id. */
static void email_set_update(struct jmap_ctx *ctx, json_t *update, struct jmap_set_out *o)
{
	size_t max = json_object_size(update), n = 0;
	struct store_email_update *items = arena_alloc(ctx->a, (max + 1) * sizeof(*items));
	const char **keys = arena_alloc(ctx->a, (max + 1) * sizeof(*keys));
	json_t **errs = arena_alloc(ctx->a, (max + 1) * sizeof(*errs));
	const char *key;
	json_t *v;
	json_object_foreach(update, key, v) {
		int64_t id;
		const char *s = jmap_resolve_id(ctx, key);
		json_t *err = s && store_id_parse(s, 'E', &id) > 0 ? email_patch(ctx, id, v, &items[n])
								   : jmap_set_error("notFound", "no such email");
		if (err != NULL) {
			json_object_set_new(o->not_updated, key, err);
			continue;
		}
		keys[n++] = key;
	}
	email_update_run(ctx, items, n, errs);
	for (size_t i = 0; i < n; i++) {
		if (errs[i] != NULL)
			json_object_set_new(o->not_updated, keys[i], errs[i]);
		else
			json_object_set_new(o->updated, keys[i], json_null());
	}
}

json_t *jmap_email_set(struct jmap_ctx *ctx, json_t *args)
{
	const char *old = jmap_begin_set(ctx, args);
	if (old == NULL)
		return NULL;
	json_t *create, *update, *destroy;
	if (!jmap_set_args(ctx, args, &create, &update, &destroy))
		return NULL;
	if (json_object_size(create) + json_object_size(update) + json_array_size(destroy) > JMAP_MAX_OBJECTS)
		return jmap_fail(ctx, "requestTooLarge", "at most %d objects", JMAP_MAX_OBJECTS);
	struct jmap_set_out o;
	jmap_set_out_init(&o);
	const char *key;
	json_t *v;
	json_object_foreach(create, key, v) {
		json_t *err = NULL, *out = NULL;
		size_t nmbs = 0;
		int64_t *mbs = json_is_object(v) ? mailboxes_from(ctx, json_object_get(v, "mailboxIds"), &nmbs, &err) : NULL;
		if (!json_is_object(v))
			err = jmap_set_error("invalidProperties", "an Email must be an object");
		unsigned int flags = 0;
		const char **kws = NULL;
		int64_t received = 0;
		if (err == NULL)
			err = append_props(ctx, v, &flags, &kws, &received);
		size_t len = 0;
		char *msg = NULL;
		if (err == NULL)
			msg = jmap_compose(ctx, v, &len, &err);
		if (err == NULL && len > ctx->s->message_max)
			err = jmap_set_error("tooLarge", "the message is larger than %llu bytes",
					     (unsigned long long)ctx->s->message_max);
		if (err == NULL)
			err = append_email(ctx, msg, len, mbs, nmbs, flags, kws, received, &out);
		if (err != NULL) {
			json_object_set_new(o.not_created, key, err);
			continue;
		}
		jmap_created(ctx, key, json_string_value(json_object_get(out, "id")));
		json_object_set_new(o.created, key, out);
	}
	email_set_update(ctx, update, &o);
	size_t i;
	json_array_foreach(destroy, i, v) {
		const char *s0 = json_string_value(v);
		const char *s = jmap_resolve_id(ctx, s0);
		int64_t id;
		json_t *err = s && store_id_parse(s, 'E', &id) > 0 ? jmap_email_destroy(ctx, id)
								   : jmap_set_error("notFound", "no such email");
		if (s0 == NULL) {
			json_decref(err);
			continue;
		}
		if (err != NULL)
			json_object_set_new(o.not_destroyed, s0, err);
		else
			json_array_append_new(o.destroyed, json_string(s0));
	}
	return jmap_set_reply(ctx, old, jmap_state(ctx), &o);
}

json_t *jmap_email_copy(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	const char *from = json_string_value(json_object_get(args, "fromAccountId"));
	if (from == NULL)
		return jmap_fail(ctx, "invalidArguments", "fromAccountId is required");
	if (strcmp(from, ctx->account_id_str) == 0)
		return jmap_fail(ctx, "invalidArguments", "fromAccountId must differ from accountId (use Email/set)");
	return jmap_fail(ctx, "fromAccountNotFound", "no such account");
}

json_t *jmap_email_import(struct jmap_ctx *ctx, json_t *args)
{
	const char *old = jmap_begin_set(ctx, args);
	if (old == NULL)
		return NULL;
	json_t *emails = json_object_get(args, "emails");
	if (!json_is_object(emails))
		return jmap_fail(ctx, "invalidArguments", "emails must be an object");
	json_t *created = json_object(), *not_created = json_object();
	const char *key;
	json_t *v;
	json_object_foreach(emails, key, v) {
		json_t *err = NULL, *out = NULL;
		const char *blob = json_string_value(json_object_get(v, "blobId"));
		size_t nmbs = 0;
		int64_t *mbs = mailboxes_from(ctx, json_object_get(v, "mailboxIds"), &nmbs, &err);
		unsigned int flags = 0;
		const char **kws = NULL;
		int64_t received = 0;
		if (err == NULL)
			err = append_props(ctx, v, &flags, &kws, &received);
		const char *data = NULL;
		size_t len = 0;
		if (err == NULL && (blob == NULL || jmap_blob_read(ctx, jmap_resolve_id(ctx, blob) ?: blob, &data, &len,
								   NULL, NULL) <= 0)) {
			err = jmap_set_error("blobNotFound", "no such blob");
			json_object_set_new(err, "notFound", json_pack("[s]", blob ? blob : ""));
		}
		if (err == NULL && len > ctx->s->message_max)
			err = jmap_set_error("tooLarge", "the message is too large");
		if (err == NULL)
			err = append_email(ctx, data, len, mbs, nmbs, flags, kws, received, &out);
		if (err != NULL) {
			json_object_set_new(not_created, key, err);
			continue;
		}
		jmap_created(ctx, key, json_string_value(json_object_get(out, "id")));
		json_object_set_new(created, key, out);
	}
	const char *new_state = jmap_state(ctx);
	return json_pack("{sssssssoso}", "accountId", ctx->account_id_str, "oldState", old, "newState",
			 new_state ? new_state : old, "created", created, "notCreated", not_created);
}
