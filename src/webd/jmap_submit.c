/* jmap_submit.c: Identity (RFC 8621 §6), EmailSubmission (§7) and Quota (RFC 9425).
 *
 * Identities are jmap_identity.c's (kept in the store); a submission's identity
 * must be the account's, and the message's From its email or another address the
 * account owns (forbiddenFrom otherwise, RFC 8621 §7.5). Submissions live in memory (state.c) and do not
 * survive a restart. EmailSubmission/set sends the email through the message
 * pipeline (src/submit, submit_send), exactly as SMTP submission does: the same
 * checks, trace headers, hooks and refusals (mapped in submit_errors); sending is immediate, so
 * undoStatus is "final". onSuccessUpdateEmail and onSuccessDestroyEmail run as an
 * implicit Email/set whose response follows (§7.5). */
#include "jmap.h"

#include "log.h"
#include "submit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ state access */

struct snapshot {
	json_t *identities, *submissions;
};

static void take_snapshot(void *arg, json_t *ids, json_t *subs, uint64_t *counter)
{
	struct snapshot *s = arg;
	s->identities = json_deep_copy(ids);
	s->submissions = json_deep_copy(subs);
}

struct put {
	const char *kind; /* "identity" or "submission" */
	const char *id;   /* NULL: allocate */
	json_t *obj;      /* stolen; NULL: delete */
	char new_id[32];
	char prefix;
};

static void do_put(void *arg, json_t *ids, json_t *subs, uint64_t *counter)
{
	struct put *p = arg;
	json_t *target = strcmp(p->kind, "identity") == 0 ? ids : subs;
	if (p->id == NULL) {
		snprintf(p->new_id, sizeof(p->new_id), "%c%" PRIu64, p->prefix, ++*counter);
		p->id = p->new_id;
		json_object_set_new(p->obj, "id", json_string(p->new_id));
	}
	if (p->obj != NULL)
		json_object_set_new(target, p->id, p->obj);
	else
		json_object_del(target, p->id);
}

/* ------------------------------------------------------------------ EmailSubmission */

static json_t *submissions(struct jmap_ctx *ctx)
{
	struct snapshot s;
	web_state_with_account(ctx->env->state, ctx->account_id, take_snapshot, &s);
	json_decref(s.identities);
	return s.submissions;
}

json_t *jmap_submission_get(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = jmap_begin(ctx, args);
	if (state == NULL)
		return NULL;
	return jmap_get_from(ctx, args, submissions(ctx), state);
}

json_t *jmap_submission_changes(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	return jmap_fail(ctx, "cannotCalculateChanges", "fetch the submissions again");
}

json_t *jmap_submission_query(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = jmap_begin(ctx, args);
	if (state == NULL)
		return NULL;
	json_t *all = submissions(ctx), *ids = json_array();
	const char *key;
	json_t *v;
	json_object_foreach(all, key, v)
		json_array_append_new(ids, json_string(key));
	json_decref(all);
	return json_pack("{sssssbsIsosI}", "accountId", ctx->account_id_str, "queryState", state,
			 "canCalculateChanges", 0, "position", (json_int_t)0, "ids", ids, "total",
			 (json_int_t)json_array_size(ids));
}

/* Strips the Bcc fields of the top header (RFC 5322 §3.6.3: the sender's copy may
 * keep them, what goes out must not). Returns the new length. */
static size_t strip_bcc(char *msg, size_t len)
{
	size_t i = 0, o = 0;
	bool in_header = true;
	while (i < len && in_header) {
		const char *nl = memchr(msg + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - msg) + 1 : len;
		if (end - i <= 2 && (msg[i] == '\r' || msg[i] == '\n'))
			in_header = false;
		/* the whole field with its continuation lines */
		size_t fend = end;
		while (in_header && fend < len && (msg[fend] == ' ' || msg[fend] == '\t')) {
			const char *n2 = memchr(msg + fend, '\n', len - fend);
			fend = n2 ? (size_t)(n2 - msg) + 1 : len;
		}
		bool bcc = in_header && end - i >= 4 && strncasecmp(msg + i, "Bcc:", 4) == 0;
		if (!bcc) {
			memmove(msg + o, msg + i, fend - i);
			o += fend - i;
		}
		i = fend;
	}
	memmove(msg + o, msg + i, len - i);
	return o + (len - i);
}

/* Adds the addresses of a JSON EmailAddress array to rcpts (deduplicated). */
static void add_rcpts(json_t *list, json_t *rcpts)
{
	size_t i;
	json_t *a;
	json_array_foreach(list, i, a) {
		const char *e = json_string_value(json_object_get(a, "email"));
		if (e == NULL || e[0] == '\0')
			continue;
		bool dup = false;
		size_t k;
		json_t *r;
		json_array_foreach(rcpts, k, r)
			dup |= strcasecmp(json_string_value(r), e) == 0;
		if (!dup)
			json_array_append_new(rcpts, json_string(e));
	}
}

/* Adds each envelope recipient not in named (EmailAddress objects) without a name. */
static void add_names(json_t *named, json_t *rcpts)
{
	size_t i, k;
	json_t *r, *a;
	json_array_foreach(rcpts, i, r) {
		bool found = false;
		json_array_foreach(named, k, a) {
			const char *e = json_string_value(json_object_get(a, "email"));
			found |= e != NULL && strcasecmp(e, json_string_value(r)) == 0;
		}
		if (!found)
			json_array_append_new(named, json_pack("{sO}", "email", r));
	}
}

static json_t *header_addresses(struct jmap_ctx *ctx, const char *msg, size_t len, const char *field)
{
	struct buf b = { 0 };
	size_t hlen = len;
	const char *end = strstr(msg, "\r\n\r\n");
	if (end != NULL)
		hlen = (size_t)(end - msg) + 2;
	int n = mail_header_values_raw(msg, hlen, field, &b);
	json_t *out = json_array();
	if (n > 0) {
		char *s = arena_strdup(ctx->a, buf_str(&b));
		for (char *line = strtok(s, "\n"); line != NULL; line = strtok(NULL, "\n")) {
			json_t *l = jmap_addresses(ctx->a, line);
			json_array_extend(out, l);
			json_decref(l);
		}
	}
	buf_free(&b);
	return out;
}

/* The one table from the pipeline's results (src/submit/submit.h) to SetErrors
 * (RFC 8621 §7.5, RFC 8620 §5.3); smtpd's is submit_reply.c. */
static const struct {
	int result;
	const char *type;
	const char *text;
	bool rcpt; /* the detail is a recipient: listed in invalidRecipients */
} submit_errors[] = {
	{ SUBMIT_TEMPFAIL, "serverFail", "sending failed; try again later", false },
	{ SUBMIT_FORBIDDEN_SENDER, "forbiddenMailFrom", "you cannot send as this address", false },
	{ SUBMIT_FORBIDDEN_FROM, "forbiddenFrom", "you cannot send with this address in From or Sender", false },
	{ SUBMIT_LOCAL_SENDER, "forbiddenMailFrom", "you cannot send as this address", false },
	{ SUBMIT_INVALID_RCPT, "invalidRecipients", "invalid recipient address", true },
	{ SUBMIT_UNKNOWN_RCPT, "invalidRecipients", "no such local recipient", true },
	{ SUBMIT_RELAY_DENIED, "forbiddenToSend", "relaying is not allowed", true },
	{ SUBMIT_NO_OUTBOUND, "serverFail", "outbound delivery is not available", false },
	{ SUBMIT_TOO_MANY_RCPTS, "tooManyRecipients", "too many recipients", false },
	{ SUBMIT_OVER_QUOTA, "overQuota", "a recipient's mailbox is full", false },
	{ SUBMIT_TOO_BIG, "tooLarge", "the message is too large", false },
	{ SUBMIT_POLICY, "forbiddenToSend", "refused by policy", false },
	{ SUBMIT_DISK_FULL, "serverFail", "insufficient storage; try again later", false },
	{ SUBMIT_NO_RCPTS, "noRecipients", "the email has no recipients", false },
	/* RFC 8620 §5.3 rateLimit (create): a server-defined rate limit was reached and
	 * it may work if tried again later, which is exactly this; RFC 8621 §7.5's
	 * forbiddenToSend would read as a lasting ban and tooManyRecipients as a
	 * per-message limit (with maxRecipients), neither of which it is */
	{ SUBMIT_RATE_LIMITED, "rateLimit", "hourly send limit of this account reached; try again later", false },
	{ SUBMIT_POLICY_TEMP, "serverFail", "deferred by policy; try again later", false },
};

static json_t *submit_error(struct jmap_ctx *ctx, const struct submit_outcome *res)
{
	size_t k = 0; /* an unknown result is a temporary failure */
	for (size_t i = 0; i < sizeof(submit_errors) / sizeof(submit_errors[0]); i++) {
		if (submit_errors[i].result == res->result)
			k = i;
	}
	const char *d = res->detail;
	json_t *err = d != NULL && res->result != SUBMIT_TEMPFAIL
			      ? jmap_set_error(submit_errors[k].type, "%s: %s", submit_errors[k].text, d)
			      : jmap_set_error(submit_errors[k].type, "%s", submit_errors[k].text);
	if (submit_errors[k].rcpt)
		json_object_set_new(err, "invalidRecipients", json_pack("[s]", d ? d : ""));
	if (res->result == SUBMIT_TOO_MANY_RCPTS)
		json_object_set_new(err, "maxRecipients", json_integer((json_int_t)ctx->s->recipients_max));
	if (res->result == SUBMIT_TOO_BIG)
		json_object_set_new(err, "maxSize", json_integer((json_int_t)ctx->s->message_max));
	log_warn("event=%s proto=jmap user=%s reason=%s detail=%s",
		 res->result == SUBMIT_OVER_QUOTA ? "quota_rejected" : "submission_refused", ctx->address,
		 submit_result_name(res->result), LOG_Q(d ? d : "-"));
	return err;
}

/* Sends one submission; NULL and *created_r, or a SetError. */
static json_t *submit_one(struct jmap_ctx *ctx, json_t *v, json_t *idents, json_t **created_r, int64_t *email_id_r)
{
	const char *ident_id = jmap_resolve_id(ctx, json_string_value(json_object_get(v, "identityId")));
	const char *email_s = jmap_resolve_id(ctx, json_string_value(json_object_get(v, "emailId")));
	json_t *ident = ident_id ? json_object_get(idents, ident_id) : NULL;
	if (ident == NULL)
		return jmap_set_error("invalidProperties", "no such identity");
	int64_t email_id;
	if (email_s == NULL || store_id_parse(email_s, 'E', &email_id) <= 0)
		return jmap_set_error("invalidEmail", "no such email");
	const char *msg;
	size_t len;
	if (jmap_email_read(ctx, email_id, &msg, &len) <= 0)
		return jmap_set_error("invalidEmail", "no such email");
	json_t *env = json_object_get(v, "envelope");
	const char *mail_from = NULL;
	json_t *rcpts = json_array();
	json_t *named = json_array(); /* the header's recipients with names, for the contacts */
	if (json_is_object(env)) {
		mail_from = json_string_value(json_object_get(json_object_get(env, "mailFrom"), "email"));
		add_rcpts(json_object_get(env, "rcptTo"), rcpts);
	} else {
		json_t *sender = header_addresses(ctx, msg, len, "Sender");
		json_t *from = header_addresses(ctx, msg, len, "From");
		json_t *first = json_array_size(sender) > 0 ? json_array_get(sender, 0) : json_array_get(from, 0);
		if (first != NULL)
			mail_from = arena_strdup(ctx->a, json_string_value(json_object_get(first, "email")) ?: "");
		json_decref(sender);
		json_decref(from);
		static const char *const fields[] = { "To", "Cc", "Bcc" };
		for (size_t i = 0; i < 3; i++) {
			json_t *l = header_addresses(ctx, msg, len, fields[i]);
			add_rcpts(l, rcpts);
			json_array_extend(named, l);
			json_decref(l);
		}
	}
	/* RFC 8621 §7.5: the From must be permitted for the identity: its own address, or
	 * another the account owns (an alias), as SMTP submission permits; the pipeline
	 * checks ownership of From and Sender again, as for every submission. */
	json_t *from = header_addresses(ctx, msg, len, "From");
	const char *ident_email = json_string_value(json_object_get(ident, "email"));
	bool from_ok = false;
	size_t fi;
	json_t *fa;
	json_array_foreach(from, fi, fa) {
		const char *e = json_string_value(json_object_get(fa, "email"));
		from_ok |= e != NULL && ((ident_email != NULL && strcasecmp(e, ident_email) == 0) ||
					 store_sender_owned(ctx->store, ctx->a, ctx->account_id, ctx->address, e));
	}
	json_decref(from);
	if (!from_ok) {
		json_decref(rcpts);
		json_decref(named);
		return jmap_set_error("forbiddenFrom", "the From address is not the identity's (%s)",
				      ident_email ? ident_email : "?");
	}
	if (mail_from == NULL || mail_from[0] == '\0') {
		json_decref(rcpts);
		json_decref(named);
		return jmap_set_error("invalidEmail", "the email has no From address");
	}
	if (ctx->env->submit == NULL) {
		json_decref(rcpts);
		json_decref(named);
		return jmap_set_error("forbiddenToSend", "sending is not configured");
	}
	/* everything else is the message pipeline's, as for SMTP submission: the sender
	 * (envelope and From:/Sender:), the recipients, the size, trace headers, hooks */
	size_t nr = json_array_size(rcpts);
	const char **rv = arena_alloc(ctx->a, (nr + 1) * sizeof(*rv));
	for (size_t i = 0; i < nr; i++)
		rv[i] = arena_strdup(ctx->a, json_string_value(json_array_get(rcpts, i)));
	struct submit_message m = {
		.origin = &(struct submit_origin){ .kind = SUBMIT_KIND_WEBMAIL, .helo = "webmail", .with = "HTTPSA",
						   .client_ip = ctx->client_ip ? ctx->client_ip : "127.0.0.1",
						   .tls = true, .auth_user = ctx->address,
						   .auth_account = ctx->account_id },
		.sender = mail_from,
	};
	buf_append(&m.data, msg, len);
	if (m.data.data != NULL) {
		m.data.len = strip_bcc(m.data.data, m.data.len);
		m.data.data[m.data.len] = '\0'; /* a buf keeps its NUL */
	}
	size_t outlen = m.data.len;
	struct submit_outcome res;
	if (submit_send(ctx->env->submit, &m, rv, nr, ctx->a, &res) != SUBMIT_OK) {
		json_decref(rcpts);
		json_decref(named);
		return submit_error(ctx, &res);
	}
	/* the recipients become contacts for the address autocomplete (with the names
	 * the header gave; an envelope-only recipient without one) */
	add_names(named, rcpts);
	jmap_contacts_use(ctx, named);
	json_decref(named);
	const char *qid = res.id, *error;
	log_info("event=jmap_submission user=%s from=<%s> rcpts=%zu size=%zu id=%s", ctx->address, mail_from, nr, outlen,
		 qid);
	struct store_msg_meta meta;
	int64_t mbid;
	char tid[24] = "";
	if (store_email_meta(ctx->store, ctx->a, ctx->account_id, email_id, &meta, &mbid, &error) > 0)
		store_id_thread(meta.m.thread_id, tid);
	char now[32];
	web_utc_date(time(NULL), now);
	json_t *rcpt_to = json_array();
	for (size_t i = 0; i < nr; i++)
		json_array_append_new(rcpt_to, json_pack("{sssn}", "email", rv[i], "parameters"));
	char eid[24];
	store_id_email(email_id, eid);
	json_t *sub = json_pack("{sssssss{s{sssn}so}sssss{}s[]s[]}", "identityId", ident_id, "emailId", eid, "threadId",
				tid, "envelope", "mailFrom", "email", mail_from, "parameters", "rcptTo", rcpt_to,
				"sendAt", now, "undoStatus", "final", "deliveryStatus", "dsnBlobIds", "mdnBlobIds");
	json_decref(rcpts);
	struct put p = { "submission", NULL, sub, "", 'S' };
	web_state_with_account(ctx->env->state, ctx->account_id, do_put, &p);
	*created_r = json_pack("{ss ss ss ss ss}", "id", p.new_id, "sendAt", now, "undoStatus", "final", "threadId", tid,
			       "emailId", eid);
	*email_id_r = email_id;
	return NULL;
}

json_t *jmap_submission_set(struct jmap_ctx *ctx, json_t *args)
{
	const char *old = jmap_begin_set(ctx, args);
	if (old == NULL)
		return NULL;
	json_t *upd_email = json_object_get(args, "onSuccessUpdateEmail");
	json_t *del_email = json_object_get(args, "onSuccessDestroyEmail");
	if ((upd_email && !json_is_null(upd_email) && !json_is_object(upd_email)) ||
	    (del_email && !json_is_null(del_email) && !json_is_array(del_email)))
		return jmap_fail(ctx, "invalidArguments", "onSuccessUpdateEmail must be an object, onSuccessDestroyEmail an array");
	json_t *idents = jmap_identities(ctx);
	if (idents == NULL)
		return NULL;
	struct jmap_set_out o;
	jmap_set_out_init(&o);
	json_t *sent = json_object(); /* creation id / submission id -> email id */
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(args, "create"), key, v) {
		json_t *out = NULL;
		int64_t email_id = 0;
		json_t *err = json_is_object(v) ? submit_one(ctx, v, idents, &out, &email_id)
						: jmap_set_error("invalidProperties", "not an object");
		if (err != NULL) {
			json_object_set_new(o.not_created, key, err);
			continue;
		}
		const char *sid = json_string_value(json_object_get(out, "id"));
		jmap_created(ctx, key, sid);
		json_object_set_new(sent, arena_printf(ctx->a, "#%s", key), json_integer(email_id));
		json_object_set_new(sent, sid, json_integer(email_id));
		json_object_set_new(o.created, key, out);
	}
	json_decref(idents);
	json_t *all = submissions(ctx);
	json_object_foreach(json_object_get(args, "update"), key, v) {
		const char *id = jmap_resolve_id(ctx, key);
		if (id == NULL || json_object_get(all, id) == NULL)
			json_object_set_new(o.not_updated, key, jmap_set_error("notFound", "no such submission"));
		else
			json_object_set_new(o.not_updated, key, jmap_set_error("cannotUnsend", "the email was sent already"));
	}
	size_t i;
	json_array_foreach(json_object_get(args, "destroy"), i, v) {
		const char *id = jmap_resolve_id(ctx, json_string_value(v));
		if (id == NULL || json_object_get(all, id) == NULL) {
			if (json_is_string(v))
				json_object_set_new(o.not_destroyed, json_string_value(v), jmap_set_error("notFound", "no such submission"));
			continue;
		}
		struct put p = { "submission", id, NULL, "", 'S' };
		web_state_with_account(ctx->env->state, ctx->account_id, do_put, &p);
		json_array_append_new(o.destroyed, json_string(id));
	}
	json_decref(all);
	json_t *result = jmap_set_reply(ctx, old, old, &o);
	/* the implicit Email/set (RFC 8621 §7.5) */
	if ((json_is_object(upd_email) && json_object_size(upd_email) > 0) ||
	    (json_is_array(del_email) && json_array_size(del_email) > 0)) {
		const char *eold = jmap_state(ctx);
		eold = eold ? arena_strdup(ctx->a, eold) : old;
		json_t *eupd = json_object(), *enotupd = json_object(), *edes = json_array(), *enotdes = json_object();
		json_object_foreach(upd_email, key, v) {
			json_t *eid = json_object_get(sent, key);
			if (eid == NULL)
				continue; /* that submission failed: nothing to do */
			char s[24];
			store_id_email(json_integer_value(eid), s);
			json_t *err = jmap_email_update(ctx, json_integer_value(eid), v);
			if (err != NULL)
				json_object_set_new(enotupd, s, err);
			else
				json_object_set_new(eupd, s, json_null());
		}
		json_array_foreach(del_email, i, v) {
			json_t *eid = json_is_string(v) ? json_object_get(sent, json_string_value(v)) : NULL;
			if (eid == NULL)
				continue;
			char s[24];
			store_id_email(json_integer_value(eid), s);
			json_t *err = jmap_email_destroy(ctx, json_integer_value(eid));
			if (err != NULL)
				json_object_set_new(enotdes, s, err);
			else
				json_array_append_new(edes, json_string(s));
		}
		const char *enew = jmap_state(ctx);
		jmap_add_implicit(ctx, "Email/set",
				  json_pack("{ss ss ss s{} so so s{} so so}", "accountId", ctx->account_id_str, "oldState", eold,
					    "newState", enew ? enew : eold, "created", "updated", eupd, "destroyed", edes,
					    "notCreated", "notUpdated", enotupd, "notDestroyed", enotdes));
	}
	json_decref(sent);
	return result;
}

/* ------------------------------------------------------------------ Quota */

/* The account's storage use and limit (0: none); false after serverFail. */
static bool quota_read(struct jmap_ctx *ctx, uint64_t *usage_r, uint64_t *limit_r)
{
	uint64_t messages;
	const char *error;
	if (store_quota_get(ctx->store, ctx->account_id, usage_r, limit_r, &messages, &error) < 0) {
		jmap_fail(ctx, "serverFail", "%s", error);
		return false;
	}
	return true;
}

json_t *jmap_quota_get(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = jmap_begin(ctx, args);
	if (state == NULL)
		return NULL;
	uint64_t usage, limit;
	if (!quota_read(ctx, &usage, &limit))
		return NULL;
	json_t *all = json_object();
	if (limit > 0)
		json_object_set_new(all, "Q0",
				    json_pack("{sssssIsIsssss[s]ss}", "id", "Q0", "resourceType", "octets", "used",
					      (json_int_t)usage, "hardLimit", (json_int_t)limit, "scope", "account",
					      "name", ctx->address, "types", "Mail", "description",
					      "storage used by all mail of the account"));
	return jmap_get_from(ctx, args, all, state);
}

json_t *jmap_quota_changes(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	return jmap_fail(ctx, "cannotCalculateChanges", "fetch the quotas again");
}

json_t *jmap_quota_query(struct jmap_ctx *ctx, json_t *args)
{
	const char *state = jmap_begin(ctx, args);
	if (state == NULL)
		return NULL;
	uint64_t usage, limit;
	if (!quota_read(ctx, &usage, &limit))
		return NULL;
	json_t *ids = limit > 0 ? json_pack("[s]", "Q0") : json_array();
	return json_pack("{sssssbsIsosI}", "accountId", ctx->account_id_str, "queryState", state,
			 "canCalculateChanges", 0, "position", (json_int_t)0, "ids", ids, "total",
			 (json_int_t)json_array_size(ids));
}
