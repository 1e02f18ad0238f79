/* jmap_email.c: Email/get, Email/changes, Thread/get, Thread/changes and Email/parse
 * (RFC 8621 §3, §4.2-4.3, §4.9).
 *
 * An Email is a store message by its email id (IMAP OBJECTID EMAILID); an email
 * copied to several mailboxes keeps its id, and mailboxIds lists them all. The
 * properties come from the store row (keywords, size, receivedAt, thread) and, when
 * asked for, from the message itself (jmap_email_props.c): Email/get reads only the
 * header block unless a property needs the body. Email/parse builds the same
 * properties for a blob that is not stored as an email. Every state is the
 * account's highest MODSEQ; changes come from the store's change log. */
#include "jmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ Email/get */

static json_t *email_object(struct jmap_ctx *ctx, int64_t email_id, const struct jmap_get_opts *o, bool need_body,
			    bool *found_r)
{
	struct store_msg_meta meta;
	int64_t mbid;
	const char *error;
	*found_r = false;
	int r = store_email_meta(ctx->store, ctx->a, ctx->account_id, email_id, &meta, &mbid, &error);
	if (r <= 0)
		return NULL;
	*found_r = true;
	json_t *props = o->properties;
	char id[24], tid[24], blob[64];
	store_id_email(email_id, id);
	json_t *e = NULL;
	bool header_props = false;
	size_t i;
	json_t *v;
	if (props == NULL) {
		header_props = true;
	} else {
		static const char *const cheap[] = { "id", "blobId", "threadId", "mailboxIds", "keywords", "size",
						     "receivedAt", "hasAttachment", "preview", NULL };
		json_array_foreach(props, i, v)
			header_props |= !jmap_str_in(cheap, json_string_value(v));
	}
	if (header_props) {
		struct mail_part *parts;
		size_t nparts;
		if (mail_parts_decode(ctx->a, meta.parts, &parts, &nparts) < 0 || nparts == 0) {
			jmap_fail(ctx, "serverFail", "damaged part table");
			return NULL;
		}
		const char *data;
		size_t len;
		if (!jmap_budget_take(ctx, need_body ? meta.m.size : meta.header_size))
			return NULL; /* *found_r: the method fails with requestTooLarge */
		r = jmap_email_read_prefix(ctx, email_id, need_body ? 0 : meta.header_size, &data, &len);
		if (r <= 0) {
			jmap_fail(ctx, "serverFail", "cannot read the message");
			return NULL;
		}
		struct jmap_email_src src = { .data = data, .len = len, .whole = need_body, .parts = parts,
					      .nparts = nparts, .email_id = email_id };
		e = jmap_email_props(ctx, &src, o);
		if (!jmap_budget_take(ctx, jmap_body_values_size(e))) {
			json_decref(e);
			return NULL;
		}
	} else {
		e = json_object();
	}
	json_object_set_new(e, "id", json_string(id));
	if (jmap_email_prop_wanted(props, "blobId")) {
		jmap_blob_id(email_id, NULL, blob, sizeof(blob));
		json_object_set_new(e, "blobId", json_string(blob));
	}
	if (jmap_email_prop_wanted(props, "threadId")) {
		store_id_thread(meta.m.thread_id, tid);
		json_object_set_new(e, "threadId", json_string(tid));
	}
	if (jmap_email_prop_wanted(props, "mailboxIds")) {
		int64_t *mbs;
		uint32_t *uids;
		size_t n;
		json_t *m = json_object();
		if (store_email_mailboxes(ctx->store, ctx->a, ctx->account_id, email_id, &mbs, &uids, &n, &error) > 0) {
			for (size_t k = 0; k < n; k++) {
				char mid[24];
				store_id_mailbox(mbs[k], mid);
				json_object_set_new(m, mid, json_true());
			}
		}
		json_object_set_new(e, "mailboxIds", m);
	}
	if (jmap_email_prop_wanted(props, "keywords")) {
		json_t *k = json_object();
		jmap_keywords_json(k, meta.m.flags, meta.m.keywords);
		json_object_set_new(e, "keywords", k);
	}
	if (jmap_email_prop_wanted(props, "size"))
		json_object_set_new(e, "size", json_integer((json_int_t)meta.m.size));
	if (jmap_email_prop_wanted(props, "receivedAt")) {
		char d[32];
		web_utc_date(meta.m.internal_date, d);
		json_object_set_new(e, "receivedAt", json_string(d));
	}
	if (jmap_email_prop_wanted(props, "hasAttachment"))
		json_object_set_new(e, "hasAttachment", json_boolean(meta.has_attachment));
	if (jmap_email_prop_wanted(props, "preview")) {
		json_t *p = json_string(meta.preview ? meta.preview : "");
		json_object_set_new(e, "preview", p ? p : json_string(""));
	}
	return e;
}

json_t *jmap_email_get(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	struct jmap_get_opts o;
	if (!jmap_get_opts_parse(ctx, args, &o))
		return NULL;
	json_t *ids = json_object_get(args, "ids");
	if (!json_is_array(ids)) {
		if (ids == NULL || json_is_null(ids))
			return jmap_fail(ctx, "requestTooLarge", "give the ids (from Email/query)");
		return jmap_fail(ctx, "invalidArguments", "ids must be an array");
	}
	if (json_array_size(ids) > JMAP_MAX_OBJECTS)
		return jmap_fail(ctx, "requestTooLarge", "at most %d ids", JMAP_MAX_OBJECTS);
	const char *state = jmap_account_state(ctx);
	if (state == NULL)
		return NULL;
	bool need_body = jmap_props_need_body(o.properties, &o);
	json_t *list = json_array(), *not_found = json_array();
	json_t *seen = json_object(); /* RFC 8620 §5.1: each id once, however often asked */
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) {
		if (json_is_string(v)) {
			if (json_object_get(seen, json_string_value(v)) != NULL)
				continue;
			json_object_set_new(seen, json_string_value(v), json_true());
		}
		const char *s = jmap_resolve_id(ctx, json_string_value(v));
		int64_t id;
		bool found = false;
		json_t *e = NULL;
		if (s != NULL && store_id_parse(s, 'E', &id) > 0) {
			e = email_object(ctx, id, &o, need_body, &found);
			if (e == NULL && found) {
				json_decref(list);
				json_decref(not_found);
				json_decref(seen);
				return NULL;
			}
		}
		if (e != NULL)
			json_array_append_new(list, e);
		else
			json_array_append_new(not_found, json_is_string(v) ? json_copy(v) : json_null());
	}
	json_decref(seen);
	return jmap_get_reply(ctx, state, list, not_found);
}

/* ------------------------------------------------------------------ changes */

json_t *jmap_email_changes(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = jmap_begin(ctx, args);
	if (state == NULL)
		return NULL;
	uint64_t since, max = 0;
	if (!jmap_since_state(ctx, args, state, &since) || !jmap_arg_uint(ctx, args, "maxChanges", &max, NULL))
		return NULL;
	int64_t *changed, *removed;
	size_t nchanged, nremoved;
	const char *error;
	if (store_email_changes(ctx->store, ctx->a, ctx->account_id, since, &changed, &nchanged, &removed, &nremoved,
				&error) < 0)
		return jmap_fail(ctx, "serverFail", "%s", error);
	if (max > 0 && nchanged + nremoved > max)
		return jmap_fail(ctx, "cannotCalculateChanges", "more than maxChanges changes; fetch again");
	json_t *updated = json_array(), *destroyed = json_array();
	char id[24];
	for (size_t i = 0; i < nchanged; i++) {
		store_id_email(changed[i], id);
		json_array_append_new(updated, json_string(id));
	}
	for (size_t i = 0; i < nremoved; i++) {
		struct store_msg_meta meta;
		int64_t mbid;
		/* expunged from one mailbox but still in another: an update */
		store_id_email(removed[i], id);
		if (store_email_meta(ctx->store, ctx->a, ctx->account_id, removed[i], &meta, &mbid, &error) > 0) {
			bool dup = false;
			for (size_t k = 0; k < nchanged && !dup; k++)
				dup = changed[k] == removed[i];
			if (!dup)
				json_array_append_new(updated, json_string(id));
		} else {
			json_array_append_new(destroyed, json_string(id));
		}
	}
	char old[32];
	snprintf(old, sizeof(old), "%" PRIu64, since);
	return json_pack("{sssssssbs[]soso}", "accountId", ctx->account_id_str, "oldState", old, "newState", state,
			 "hasMoreChanges", 0, "created", "updated", updated, "destroyed", destroyed);
}

json_t *jmap_thread_get(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	json_t *ids = json_object_get(args, "ids");
	if (!json_is_array(ids))
		return jmap_fail(ctx, "invalidArguments", "ids must be an array");
	if (json_array_size(ids) > JMAP_MAX_OBJECTS)
		return jmap_fail(ctx, "requestTooLarge", "at most %d ids", JMAP_MAX_OBJECTS);
	const char *state = jmap_account_state(ctx);
	if (state == NULL)
		return NULL;
	json_t *list = json_array(), *not_found = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) {
		const char *s = json_string_value(v);
		int64_t tid, *emails;
		size_t n = 0;
		const char *error;
		if (s != NULL && store_id_parse(s, 'T', &tid) > 0 &&
		    store_thread_emails(ctx->store, ctx->a, ctx->account_id, tid, &emails, &n, &error) > 0 && n > 0) {
			json_t *eids = json_array();
			for (size_t k = 0; k < n; k++) {
				char eid[24];
				store_id_email(emails[k], eid);
				json_array_append_new(eids, json_string(eid));
			}
			json_array_append_new(list, json_pack("{ssso}", "id", s, "emailIds", eids));
		} else {
			json_array_append_new(not_found, json_is_string(v) ? json_copy(v) : json_null());
		}
	}
	return jmap_get_reply(ctx, state, list, not_found);
}

json_t *jmap_thread_changes(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = jmap_begin(ctx, args);
	if (state == NULL)
		return NULL;
	uint64_t since;
	if (!jmap_since_state(ctx, args, state, &since))
		return NULL;
	int64_t *changed, *removed;
	size_t nchanged, nremoved;
	const char *error;
	if (store_email_changes(ctx->store, ctx->a, ctx->account_id, since, &changed, &nchanged, &removed, &nremoved,
				&error) < 0)
		return jmap_fail(ctx, "serverFail", "%s", error);
	json_t *updated = json_array(), *seen = json_object();
	for (size_t i = 0; i < nchanged + nremoved; i++) {
		int64_t eid = i < nchanged ? changed[i] : removed[i - nchanged];
		struct store_msg_meta meta;
		int64_t mbid;
		if (store_email_meta(ctx->store, ctx->a, ctx->account_id, eid, &meta, &mbid, &error) <= 0)
			continue;
		char tid[24];
		store_id_thread(meta.m.thread_id, tid);
		if (json_object_get(seen, tid) == NULL) {
			json_object_set_new(seen, tid, json_true());
			json_array_append_new(updated, json_string(tid));
		}
	}
	json_decref(seen);
	char old[32];
	snprintf(old, sizeof(old), "%" PRIu64, since);
	return json_pack("{sssssssbs[]sos[]}", "accountId", ctx->account_id_str, "oldState", old, "newState", state,
			 "hasMoreChanges", 0, "created", "updated", updated, "destroyed");
}

/* ------------------------------------------------------------------ Email/parse */

json_t *jmap_email_parse(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	struct jmap_get_opts o;
	if (!jmap_get_opts_parse(ctx, args, &o))
		return NULL;
	json_t *blobs = json_object_get(args, "blobIds");
	if (!json_is_array(blobs))
		return jmap_fail(ctx, "invalidArguments", "blobIds must be an array");
	if (json_array_size(blobs) > JMAP_MAX_OBJECTS)
		return jmap_fail(ctx, "requestTooLarge", "at most %d blobIds", JMAP_MAX_OBJECTS);
	json_t *parsed = json_object(), *not_parsable = json_array(), *not_found = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(blobs, i, v) {
		const char *bid = json_string_value(v);
		const char *data, *type;
		size_t len;
		if (bid != NULL && json_object_get(parsed, bid) != NULL)
			continue; /* asked for twice: parsed once */
		if (bid == NULL || jmap_blob_read(ctx, bid, &data, &len, &type, NULL) <= 0) {
			json_array_append_new(not_found, json_is_string(v) ? json_copy(v) : json_null());
			continue;
		}
		if (!jmap_budget_take(ctx, len)) {
			json_decref(parsed);
			json_decref(not_parsable);
			json_decref(not_found);
			return NULL;
		}
		struct mail_info *mi = mail_parse(ctx->a, data, len);
		if (mi == NULL || mi->nparts == 0) {
			json_array_append_new(not_parsable, json_copy(v));
			continue;
		}
		/* sub-parts of a stored message's part keep addressable blob ids */
		int64_t email_id = 0;
		char section[256] = "";
		bool addressable = jmap_blob_parse(bid, &email_id, section, sizeof(section)) > 0;
		struct jmap_email_src src = { .data = data, .len = len, .whole = true, .parts = mi->parts,
					      .nparts = mi->nparts, .email_id = 0, .blob_id = NULL };
		json_t *e = jmap_email_props(ctx, &src, &o);
		(void)addressable;
		if (!jmap_budget_take(ctx, jmap_body_values_size(e))) {
			json_decref(e);
			json_decref(parsed);
			json_decref(not_parsable);
			json_decref(not_found);
			return NULL;
		}
		json_t *props = o.properties;
		if (jmap_email_prop_wanted(props, "id"))
			json_object_set_new(e, "id", json_null());
		if (jmap_email_prop_wanted(props, "blobId"))
			json_object_set_new(e, "blobId", json_string(bid));
		if (jmap_email_prop_wanted(props, "threadId"))
			json_object_set_new(e, "threadId", json_null());
		if (jmap_email_prop_wanted(props, "mailboxIds"))
			json_object_set_new(e, "mailboxIds", json_null());
		if (jmap_email_prop_wanted(props, "keywords"))
			json_object_set_new(e, "keywords", json_object());
		if (jmap_email_prop_wanted(props, "size"))
			json_object_set_new(e, "size", json_integer((json_int_t)len));
		if (jmap_email_prop_wanted(props, "receivedAt"))
			json_object_set_new(e, "receivedAt", json_null());
		if (jmap_email_prop_wanted(props, "hasAttachment"))
			json_object_set_new(e, "hasAttachment", json_boolean(mi->has_attachment));
		if (jmap_email_prop_wanted(props, "preview")) {
			json_t *p = json_string(mi->preview ? mi->preview : "");
			json_object_set_new(e, "preview", p ? p : json_string(""));
		}
		json_object_set_new(parsed, bid, e);
	}
	return json_pack("{sssososo}", "accountId", ctx->account_id_str, "parsed", parsed, "notParsable",
			 not_parsable, "notFound", not_found);
}
