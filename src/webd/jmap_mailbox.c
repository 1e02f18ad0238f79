/* jmap_mailbox.c: Mailbox/get, /changes, /query, /queryChanges, /set (RFC 8621 §2).
 *
 * A Mailbox is a store mailbox: its id is the store's (IMAP OBJECTID MAILBOXID), its
 * name the last level of the "/"-separated full name, its parent the level above,
 * its role the special-use attribute (INBOX is "inbox"). Every state is the
 * account's highest MODSEQ. Thread counts are the email counts (the store keeps
 * those exact; counting distinct threads per Mailbox/get would cost a scan). */
#include "jmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *jmap_mailbox_role(const struct store_mailbox *mb)
{
	if (strcmp(mb->name, "INBOX") == 0)
		return "inbox";
	switch (mb->special_use) {
	case STORE_SU_DRAFTS: return "drafts";
	case STORE_SU_SENT: return "sent";
	case STORE_SU_TRASH: return "trash";
	case STORE_SU_JUNK: return "junk";
	case STORE_SU_ARCHIVE: return "archive";
	case STORE_SU_ALL: return "all";
	case STORE_SU_FLAGGED: return "flagged";
	}
	return NULL;
}

static unsigned int role_bit(const char *role)
{
	static const struct { const char *name; unsigned int bit; } roles[] = {
		{ "drafts", STORE_SU_DRAFTS }, { "sent", STORE_SU_SENT }, { "trash", STORE_SU_TRASH },
		{ "junk", STORE_SU_JUNK }, { "archive", STORE_SU_ARCHIVE }, { "all", STORE_SU_ALL },
		{ "flagged", STORE_SU_FLAGGED },
	};
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (strcmp(roles[i].name, role) == 0)
			return roles[i].bit;
	}
	return 0;
}

static int sort_order(const struct store_mailbox *mb)
{
	const char *role = jmap_mailbox_role(mb);
	static const char *const order[] = { "inbox", "drafts", "sent", "archive", "junk", "trash" };
	for (size_t i = 0; role && i < sizeof(order) / sizeof(order[0]); i++) {
		if (strcmp(order[i], role) == 0)
			return (int)i + 1;
	}
	return 10;
}

struct mblist {
	struct store_mailbox *v;
	size_t n;
};

static bool load(struct jmap_ctx *ctx, struct mblist *l)
{
	const char *error;
	if (store_mailbox_list(ctx->store, ctx->a, ctx->account_id, &l->v, &l->n, &error) < 0) {
		jmap_fail(ctx, "serverFail", "%s", error);
		return false;
	}
	return true;
}

static const struct store_mailbox *by_id(const struct mblist *l, int64_t id)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].id == id)
			return &l->v[i];
	}
	return NULL;
}

static const struct store_mailbox *by_name(const struct mblist *l, const char *name, size_t len)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strlen(l->v[i].name) == len && strncmp(l->v[i].name, name, len) == 0)
			return &l->v[i];
	}
	return NULL;
}

static const struct store_mailbox *parent_of(const struct mblist *l, const struct store_mailbox *mb)
{
	const char *slash = strrchr(mb->name, STORE_SEP);
	return slash ? by_name(l, mb->name, (size_t)(slash - mb->name)) : NULL;
}

static const char *leaf_name(const struct store_mailbox *mb)
{
	const char *slash = strrchr(mb->name, STORE_SEP);
	return slash ? slash + 1 : mb->name;
}

static bool wanted(json_t *props, const char *name)
{
	return props == NULL || strcmp(name, "id") == 0 || jmap_array_has(props, name);
}

static json_t *mailbox_json(const struct mblist *l, const struct store_mailbox *mb, json_t *props)
{
	char id[24], pid[24];
	store_id_mailbox(mb->id, id);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(id));
	if (wanted(props, "name"))
		json_object_set_new(o, "name", json_string(leaf_name(mb)));
	if (wanted(props, "parentId")) {
		const struct store_mailbox *p = parent_of(l, mb);
		if (p != NULL)
			store_id_mailbox(p->id, pid);
		json_object_set_new(o, "parentId", p ? json_string(pid) : json_null());
	}
	if (wanted(props, "role")) {
		const char *role = jmap_mailbox_role(mb);
		json_object_set_new(o, "role", role ? json_string(role) : json_null());
	}
	if (wanted(props, "sortOrder"))
		json_object_set_new(o, "sortOrder", json_integer(sort_order(mb)));
	uint32_t total = mb->messages, unread = mb->unseen;
	if (wanted(props, "totalEmails"))
		json_object_set_new(o, "totalEmails", json_integer(total));
	if (wanted(props, "unreadEmails"))
		json_object_set_new(o, "unreadEmails", json_integer(unread));
	if (wanted(props, "totalThreads"))
		json_object_set_new(o, "totalThreads", json_integer(total));
	if (wanted(props, "unreadThreads"))
		json_object_set_new(o, "unreadThreads", json_integer(unread));
	if (wanted(props, "myRights")) {
		bool inbox = strcmp(mb->name, "INBOX") == 0;
		json_object_set_new(o, "myRights",
				    json_pack("{sbsbsbsbsbsbsbsbsb}", "mayReadItems", 1, "mayAddItems", 1,
					      "mayRemoveItems", 1, "maySetSeen", 1, "maySetKeywords", 1,
					      "mayCreateChild", 1, "mayRename", !inbox, "mayDelete", !inbox, "maySubmit",
					      1));
	}
	if (wanted(props, "isSubscribed"))
		json_object_set_new(o, "isSubscribed", json_boolean(mb->subscribed));
	return o;
}

json_t *jmap_mailbox_get(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	static const char *const known[] = { "id",	    "name",	     "parentId",      "role",
					     "sortOrder",   "totalEmails",   "unreadEmails",  "totalThreads",
					     "unreadThreads", "myRights",    "isSubscribed",  NULL };
	json_t *ids, *props;
	if (!jmap_get_args(ctx, args, known, &ids, &props))
		return NULL;
	const char *state = jmap_account_state(ctx);
	struct mblist l;
	if (state == NULL || !load(ctx, &l))
		return NULL;
	json_t *list = json_array(), *not_found = json_array();
	if (!json_is_array(ids)) {
		for (size_t i = 0; i < l.n; i++)
			json_array_append_new(list, mailbox_json(&l, &l.v[i], props));
	} else {
		size_t i;
		json_t *v;
		json_array_foreach(ids, i, v) {
			const char *s = jmap_resolve_id(ctx, json_string_value(v));
			int64_t id;
			const struct store_mailbox *mb = NULL;
			if (s != NULL && store_id_parse(s, 'M', &id) > 0)
				mb = by_id(&l, id);
			if (mb != NULL)
				json_array_append_new(list, mailbox_json(&l, mb, props));
			else
				json_array_append_new(not_found, json_is_string(v) ? json_copy(v) : json_null());
		}
	}
	return jmap_get_reply(ctx, state, list, not_found);
}

json_t *jmap_mailbox_changes(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = jmap_begin(ctx, args);
	uint64_t since;
	struct mblist l;
	if (state == NULL || !jmap_since_state(ctx, args, state, &since) || !load(ctx, &l))
		return NULL;
	json_t *updated = json_array(), *destroyed = json_array();
	char id[24];
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].modseq > since || l.v[i].highestmodseq > since) {
			store_id_mailbox(l.v[i].id, id);
			json_array_append_new(updated, json_string(id));
		}
	}
	int64_t *gone;
	size_t ngone;
	const char *error;
	if (store_mailbox_destroyed_since(ctx->store, ctx->a, ctx->account_id, since, &gone, &ngone, &error) < 0) {
		json_decref(updated);
		json_decref(destroyed);
		return jmap_fail(ctx, "serverFail", "%s", error);
	}
	for (size_t i = 0; i < ngone; i++) {
		store_id_mailbox(gone[i], id);
		json_array_append_new(destroyed, json_string(id));
	}
	char old[32];
	snprintf(old, sizeof(old), "%" PRIu64, since);
	return json_pack("{sssssssbs[]sososn}", "accountId", ctx->account_id_str, "oldState", old, "newState", state,
			 "hasMoreChanges", 0, "created", "updated", updated, "destroyed", destroyed,
			 "updatedProperties");
}

static bool filter_match(const struct mblist *l, const struct store_mailbox *mb, json_t *f)
{
	const char *op = json_string_value(json_object_get(f, "operator"));
	if (op != NULL) {
		json_t *conds = json_object_get(f, "conditions");
		size_t i;
		json_t *c;
		bool any = false, all = true;
		json_array_foreach(conds, i, c) {
			bool m = filter_match(l, mb, c);
			any |= m;
			all &= m;
		}
		if (strcmp(op, "AND") == 0)
			return all;
		if (strcmp(op, "OR") == 0)
			return any;
		return !any;
	}
	json_t *v;
	if ((v = json_object_get(f, "parentId")) != NULL) {
		const struct store_mailbox *p = parent_of(l, mb);
		char pid[24];
		if (p)
			store_id_mailbox(p->id, pid);
		if (json_is_null(v) ? p != NULL : (p == NULL || !json_is_string(v) || strcmp(pid, json_string_value(v))))
			return false;
	}
	if ((v = json_object_get(f, "name")) != NULL) {
		if (!json_is_string(v) || strcasestr(leaf_name(mb), json_string_value(v)) == NULL)
			return false;
	}
	if ((v = json_object_get(f, "role")) != NULL) {
		const char *role = jmap_mailbox_role(mb);
		if (json_is_null(v) ? role != NULL : (role == NULL || strcmp(role, json_string_value(v) ?: "")))
			return false;
	}
	if ((v = json_object_get(f, "hasAnyRole")) != NULL) {
		if ((jmap_mailbox_role(mb) != NULL) != json_is_true(v))
			return false;
	}
	if ((v = json_object_get(f, "isSubscribed")) != NULL) {
		if (mb->subscribed != json_is_true(v))
			return false;
	}
	return true;
}

static int cmp_mb(const struct store_mailbox *a, const struct store_mailbox *b, json_t *sort)
{
	size_t i;
	json_t *c;
	json_array_foreach(sort, i, c) {
		const char *prop = json_string_value(json_object_get(c, "property"));
		json_t *asc = json_object_get(c, "isAscending");
		int dir = asc == NULL || json_is_true(asc) ? 1 : -1;
		int r = 0;
		if (prop && strcmp(prop, "name") == 0)
			r = strcasecmp(a->name, b->name);
		else if (prop && strcmp(prop, "sortOrder") == 0)
			r = sort_order(a) - sort_order(b);
		if (r != 0)
			return r * dir;
	}
	return strcmp(a->name, b->name);
}

json_t *jmap_mailbox_query(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	json_t *filter = json_object_get(args, "filter"), *sort = json_object_get(args, "sort");
	if ((filter && !json_is_null(filter) && !json_is_object(filter)) ||
	    (sort && !json_is_null(sort) && !json_is_array(sort)))
		return jmap_fail(ctx, "invalidArguments", "filter must be an object, sort an array");
	size_t i;
	json_t *c;
	json_array_foreach(sort, i, c) {
		const char *prop = json_string_value(json_object_get(c, "property"));
		if (prop == NULL || (strcmp(prop, "name") != 0 && strcmp(prop, "sortOrder") != 0))
			return jmap_fail(ctx, "unsupportedSort", "sort by %s is not supported", prop ? prop : "?");
	}
	const char *state = jmap_account_state(ctx);
	struct mblist l;
	if (state == NULL || !load(ctx, &l))
		return NULL;
	const struct store_mailbox **m = arena_alloc(ctx->a, (l.n + 1) * sizeof(*m));
	size_t n = 0;
	for (size_t k = 0; k < l.n; k++) {
		if (!json_is_object(filter) || filter_match(&l, &l.v[k], filter))
			m[n++] = &l.v[k];
	}
	/* insertion sort: few mailboxes */
	for (size_t a = 1; a < n; a++) {
		const struct store_mailbox *x = m[a];
		size_t b = a;
		while (b > 0 && cmp_mb(m[b - 1], x, sort) > 0) {
			m[b] = m[b - 1];
			b--;
		}
		m[b] = x;
	}
	uint64_t position = 0, limit = n;
	json_int_t pos = json_integer_value(json_object_get(args, "position"));
	if (pos < 0)
		pos = (json_int_t)n + pos < 0 ? 0 : (json_int_t)n + pos;
	position = (uint64_t)pos;
	if (!jmap_arg_uint(ctx, args, "limit", &limit, NULL))
		return NULL;
	json_t *ids = json_array();
	char id[24];
	for (size_t k = (size_t)position; k < n && json_array_size(ids) < limit; k++) {
		store_id_mailbox(m[k]->id, id);
		json_array_append_new(ids, json_string(id));
	}
	return json_pack("{sssssbsIsosI}", "accountId", ctx->account_id_str, "queryState", state,
			 "canCalculateChanges", 0, "position", (json_int_t)position, "ids", ids, "total",
			 (json_int_t)n);
}

json_t *jmap_mailbox_query_changes(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	return jmap_fail(ctx, "cannotCalculateChanges", "query the mailboxes again");
}

/* ------------------------------------------------------------------ set */

static json_t *store_set_error(int r, const char *error)
{
	switch (r) {
	case STORE_EEXISTS: return jmap_set_error("alreadyExists", "%s", error);
	case STORE_EINVAL: return jmap_set_error("invalidProperties", "%s", error);
	case STORE_ENOTFOUND: return jmap_set_error("notFound", "%s", error);
	case STORE_ENOTALLOWED: return jmap_set_error("forbidden", "%s", error);
	case STORE_EOVERQUOTA: return jmap_set_error("overQuota", "%s", error);
	}
	return jmap_set_error("serverFail", "%s", error ? error : "store error");
}

/* The full name for a leaf name under parent_id (JSON null/absent: top level). */
static json_t *full_name(struct jmap_ctx *ctx, const struct mblist *l, json_t *parent, const char *name,
			 const char **out_r)
{
	if (name == NULL || name[0] == '\0' || strchr(name, STORE_SEP) != NULL)
		return jmap_set_error("invalidProperties", "name must be non-empty and without '/'");
	if (parent == NULL || json_is_null(parent)) {
		*out_r = name;
		return NULL;
	}
	const char *pid = jmap_resolve_id(ctx, json_string_value(parent));
	int64_t id;
	const struct store_mailbox *p = NULL;
	if (pid != NULL && store_id_parse(pid, 'M', &id) > 0)
		p = by_id(l, id);
	if (p == NULL)
		return jmap_set_error("invalidProperties", "no such parent mailbox");
	*out_r = arena_printf(ctx->a, "%s%c%s", p->name, STORE_SEP, name);
	return NULL;
}

static const struct store_mailbox *lookup_id(struct jmap_ctx *ctx, const struct mblist *l, const char *s)
{
	int64_t id;
	s = jmap_resolve_id(ctx, s);
	if (s == NULL || store_id_parse(s, 'M', &id) <= 0)
		return NULL;
	return by_id(l, id);
}

json_t *jmap_mailbox_set(struct jmap_ctx *ctx, json_t *args)
{
	const char *old = jmap_begin_set(ctx, args);
	json_t *create, *update, *destroy;
	if (old == NULL || !jmap_set_args(ctx, args, &create, &update, &destroy))
		return NULL;
	bool remove_emails = json_is_true(json_object_get(args, "onDestroyRemoveEmails"));
	struct jmap_set_out o;
	jmap_set_out_init(&o);
	struct mblist l;
	const char *error;
	const char *key;
	json_t *v;
	if (!load(ctx, &l))
		goto fail;
	json_object_foreach(create, key, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *full;
		json_t *err = full_name(ctx, &l, json_object_get(v, "parentId"), name, &full);
		const char *role = json_string_value(json_object_get(v, "role"));
		unsigned int su = role ? role_bit(role) : 0;
		if (err == NULL && role != NULL && su == 0)
			err = jmap_set_error("invalidProperties", "role %s cannot be given", role);
		const char *canon;
		if (err == NULL && store_mailbox_name_check(ctx->a, full, &canon, &error) < 0)
			err = jmap_set_error("invalidProperties", "%s", error);
		int64_t id;
		int r;
		if (err == NULL && (r = store_mailbox_create(ctx->store, ctx->account_id, canon, su, &id, &error)) < 0)
			err = store_set_error(r, error);
		if (err == NULL) {
			json_t *sub = json_object_get(v, "isSubscribed");
			if (sub == NULL || json_is_true(sub))
				store_mailbox_subscribe(ctx->store, ctx->account_id, canon, true, &error);
			char sid[24];
			store_id_mailbox(id, sid);
			jmap_created(ctx, key, sid);
			json_object_set_new(o.created, key, json_pack("{sssisisisisb}", "id", sid, "totalEmails", 0,
								    "unreadEmails", 0, "totalThreads", 0,
								    "unreadThreads", 0, "isSubscribed",
								    sub == NULL || json_is_true(sub)));
			load(ctx, &l);
		} else {
			json_object_set_new(o.not_created, key, err);
		}
	}
	json_object_foreach(update, key, v) {
		const struct store_mailbox *mb = lookup_id(ctx, &l, key);
		json_t *err = NULL;
		if (mb == NULL || !json_is_object(v)) {
			json_object_set_new(o.not_updated, key, jmap_set_error("notFound", "no such mailbox"));
			continue;
		}
		const char *mbname = arena_strdup(ctx->a, mb->name);
		json_t *name = json_object_get(v, "name"), *parent = json_object_get(v, "parentId");
		if (name != NULL || parent != NULL) {
			const char *leaf = name ? json_string_value(name) : leaf_name(mb);
			json_t *par = parent;
			if (parent == NULL) {
				const struct store_mailbox *p = parent_of(&l, mb);
				const char *full = NULL;
				if (p != NULL)
					full = arena_printf(ctx->a, "%s%c%s", p->name, STORE_SEP, leaf ? leaf : "");
				else
					full = leaf;
				if (leaf == NULL || leaf[0] == '\0' || strchr(leaf, STORE_SEP))
					err = jmap_set_error("invalidProperties", "bad name");
				else if (strcmp(full, mbname) != 0) {
					int r = store_mailbox_rename(ctx->store, ctx->account_id, mbname, full, &error);
					if (r < 0)
						err = store_set_error(r, error);
				}
			} else {
				const char *full;
				err = full_name(ctx, &l, par, leaf, &full);
				if (err == NULL && strcmp(full, mbname) != 0) {
					int r = store_mailbox_rename(ctx->store, ctx->account_id, mbname, full, &error);
					if (r < 0)
						err = store_set_error(r, error);
					else
						mbname = full;
				}
			}
		}
		json_t *sub = json_object_get(v, "isSubscribed");
		if (err == NULL && sub != NULL) {
			int r = store_mailbox_subscribe(ctx->store, ctx->account_id, mbname, json_is_true(sub), &error);
			if (r < 0)
				err = store_set_error(r, error);
		}
		json_t *role = json_object_get(v, "role");
		if (err == NULL && role != NULL) {
			unsigned int su = json_is_string(role) ? role_bit(json_string_value(role)) : 0;
			if (json_is_string(role) && su == 0 && strcmp(json_string_value(role), "inbox") != 0)
				err = jmap_set_error("invalidProperties", "unknown role");
			else if (strcmp(mbname, "INBOX") != 0) {
				int r = store_mailbox_set_special_use(ctx->store, ctx->account_id, mbname, su, &error);
				if (r < 0)
					err = store_set_error(r, error);
			}
		}
		if (err == NULL)
			json_object_set_new(o.updated, key, json_null());
		else
			json_object_set_new(o.not_updated, key, err);
		load(ctx, &l);
	}
	size_t i;
	json_array_foreach(destroy, i, v) {
		const char *sid = json_string_value(v);
		const struct store_mailbox *mb = sid ? lookup_id(ctx, &l, sid) : NULL;
		if (mb == NULL) {
			if (sid)
				json_object_set_new(o.not_destroyed, sid, jmap_set_error("notFound", "no such mailbox"));
			continue;
		}
		if (mb->has_children) {
			json_object_set_new(o.not_destroyed, sid, jmap_set_error("mailboxHasChild", "delete the children first"));
			continue;
		}
		if (mb->messages > 0 && !remove_emails) {
			json_object_set_new(o.not_destroyed, sid,
					    jmap_set_error("mailboxHasEmail", "the mailbox has %u emails", mb->messages));
			continue;
		}
		int r = store_mailbox_delete(ctx->store, ctx->account_id, mb->name, &error);
		if (r < 0)
			json_object_set_new(o.not_destroyed, sid, store_set_error(r, error));
		else
			json_array_append_new(o.destroyed, json_string(sid));
		load(ctx, &l);
	}
	return jmap_set_reply(ctx, old, jmap_state(ctx), &o);
fail:
	jmap_set_out_free(&o);
	return NULL;
}
