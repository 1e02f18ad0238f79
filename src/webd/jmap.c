/* jmap.c: a JMAP API request (RFC 8620 §3): check the Request, run each method call
 * in order with its result references resolved, collect the responses. Methods
 * come from one table with the capability each needs in "using"; an unknown name
 * or a capability not requested is unknownMethod (§3.6.2). Also the session
 * resource (§2) and helpers the methods share. Runs on a pool thread. */
#include "jmap.h"

#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct method {
	const char *name;
	const char *cap;
	jmap_method_fn *fn;
} methods[] = {
	{ "Core/echo", JMAP_CAP_CORE, jmap_core_echo },
	{ "Mailbox/get", JMAP_CAP_MAIL, jmap_mailbox_get },
	{ "Mailbox/changes", JMAP_CAP_MAIL, jmap_mailbox_changes },
	{ "Mailbox/query", JMAP_CAP_MAIL, jmap_mailbox_query },
	{ "Mailbox/queryChanges", JMAP_CAP_MAIL, jmap_mailbox_query_changes },
	{ "Mailbox/set", JMAP_CAP_MAIL, jmap_mailbox_set },
	{ "Thread/get", JMAP_CAP_MAIL, jmap_thread_get },
	{ "Thread/changes", JMAP_CAP_MAIL, jmap_thread_changes },
	{ "Email/get", JMAP_CAP_MAIL, jmap_email_get },
	{ "Email/changes", JMAP_CAP_MAIL, jmap_email_changes },
	{ "Email/query", JMAP_CAP_MAIL, jmap_email_query },
	{ "Email/queryChanges", JMAP_CAP_MAIL, jmap_email_query_changes },
	{ "Email/set", JMAP_CAP_MAIL, jmap_email_set },
	{ "Email/copy", JMAP_CAP_MAIL, jmap_email_copy },
	{ "Email/import", JMAP_CAP_MAIL, jmap_email_import },
	{ "Email/parse", JMAP_CAP_MAIL, jmap_email_parse },
	{ "SearchSnippet/get", JMAP_CAP_MAIL, jmap_snippet_get },
	{ "Identity/get", JMAP_CAP_SUBMISSION, jmap_identity_get },
	{ "Identity/changes", JMAP_CAP_SUBMISSION, jmap_identity_changes },
	{ "Identity/set", JMAP_CAP_SUBMISSION, jmap_identity_set },
	{ "EmailSubmission/get", JMAP_CAP_SUBMISSION, jmap_submission_get },
	{ "EmailSubmission/changes", JMAP_CAP_SUBMISSION, jmap_submission_changes },
	{ "EmailSubmission/query", JMAP_CAP_SUBMISSION, jmap_submission_query },
	{ "EmailSubmission/set", JMAP_CAP_SUBMISSION, jmap_submission_set },
	{ "Quota/get", JMAP_CAP_QUOTA, jmap_quota_get },
	{ "Quota/changes", JMAP_CAP_QUOTA, jmap_quota_changes },
	{ "Quota/query", JMAP_CAP_QUOTA, jmap_quota_query },
};

static const char *const capabilities[] = { JMAP_CAP_CORE, JMAP_CAP_MAIL, JMAP_CAP_SUBMISSION, JMAP_CAP_QUOTA,
					    NULL };

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

json_t *jmap_session_resource(const struct settings *s, int64_t account_id, const char *address)
{
	char acct[32];
	web_account_id_str(account_id, acct);
	json_t *core = json_pack("{sI sI sI sI sI sI sI s[ss]}", "maxSizeUpload", (json_int_t)s->message_max,
				 "maxConcurrentUpload", (json_int_t)4, "maxSizeRequest", (json_int_t)WEB_JSON_MAX,
				 "maxConcurrentRequests", (json_int_t)4, "maxCallsInRequest",
				 (json_int_t)JMAP_MAX_CALLS, "maxObjectsInGet", (json_int_t)JMAP_MAX_OBJECTS,
				 "maxObjectsInSet", (json_int_t)JMAP_MAX_OBJECTS, "collationAlgorithms",
				 "i;ascii-casemap", "i;unicode-casemap");
	json_t *caps = json_pack("{sos{}s{}s{}}", JMAP_CAP_CORE, core, JMAP_CAP_MAIL, JMAP_CAP_SUBMISSION,
				 JMAP_CAP_QUOTA);
	json_t *mail = json_pack("{snsIsIsIs[ssssssss]sb}", "maxMailboxesPerEmail", "maxMailboxDepth",
				 (json_int_t)STORE_MAILBOX_DEPTH_MAX, "maxSizeMailboxName",
				 (json_int_t)STORE_MAILBOX_NAME_MAX, "maxSizeAttachmentsPerEmail",
				 (json_int_t)s->message_max, "emailQuerySortOptions", "receivedAt", "sentAt", "size",
				 "from", "to", "subject", "hasKeyword", "id", "mayCreateTopLevelMailbox", 1);
	json_t *sub = json_pack("{sIs{}}", "maxDelayedSend", (json_int_t)0, "submissionExtensions");
	json_t *acaps = json_pack("{s{}sosos{}}", JMAP_CAP_CORE, JMAP_CAP_MAIL, mail, JMAP_CAP_SUBMISSION, sub,
				  JMAP_CAP_QUOTA);
	json_t *account = json_pack("{sssbsbso}", "name", address, "isPersonal", 1, "isReadOnly", 0,
				    "accountCapabilities", acaps);
	json_t *primary = json_pack("{ssssssss}", JMAP_CAP_CORE, acct, JMAP_CAP_MAIL, acct, JMAP_CAP_SUBMISSION, acct,
				    JMAP_CAP_QUOTA, acct);
	char state[48];
	snprintf(state, sizeof(state), "s%" PRId64, account_id);
	return json_pack("{so s{so} so ss ss ss ss ss ss}", "capabilities", caps, "accounts", acct, account,
			 "primaryAccounts", primary, "username", address, "apiUrl", "/jmap/api", "downloadUrl",
			 "/jmap/download/{accountId}/{blobId}/{name}?type={type}", "uploadUrl",
			 "/jmap/upload/{accountId}/", "eventSourceUrl",
			 "/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}", "state", state);
}

static json_t *problem_json(const struct jmap_problem *p)
{
	json_t *j = json_pack("{sssiss}", "type", p->type, "status", 400, "detail", p->detail);
	if (p->limit != NULL)
		json_object_set_new(j, "limit", json_string(p->limit));
	return j;
}

static void run_call(struct jmap_ctx *ctx, json_t *req, json_t *call)
{
	const char *name = json_string_value(json_array_get(call, 0));
	json_t *args = json_deep_copy(json_array_get(call, 1));
	ctx->call_id = json_string_value(json_array_get(call, 2));
	ctx->err_type[0] = '\0';
	ctx->err_desc[0] = '\0';
	ctx->implicit = NULL;
	json_t *result = NULL;
	const char *type;
	char desc[256];
	const struct method *m = NULL;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(methods[i].name, name) == 0)
			m = &methods[i];
	}
	if (m == NULL || !jmap_using(req, m->cap)) {
		jmap_fail(ctx, "unknownMethod", "%s%s", m == NULL ? "no such method: " : "capability not in using: ",
			  m == NULL ? name : m->cap);
	} else if (jmap_resolve_refs(args, ctx->responses, &type, desc, sizeof(desc)) < 0) {
		jmap_fail(ctx, type, "%s", desc);
	} else {
		result = m->fn(ctx, args);
		if (result == NULL && ctx->err_type[0] == '\0')
			jmap_fail(ctx, "serverFail", "the method failed");
	}
	json_decref(args);
	if (result != NULL) {
		json_array_append_new(ctx->responses, json_pack("[sos]", name, result, ctx->call_id));
	} else {
		json_t *err = json_pack("{ss}", "type", ctx->err_type);
		if (ctx->err_desc[0])
			json_object_set_new(err, "description", json_string(ctx->err_desc));
		json_array_append_new(ctx->responses, json_pack("[sos]", "error", err, ctx->call_id));
		if (strcmp(ctx->err_type, "serverFail") == 0)
			log_warn("event=jmap_server_fail method=%s account=%" PRId64, name, ctx->account_id);
	}
	if (ctx->implicit != NULL) {
		json_array_extend(ctx->responses, ctx->implicit);
		json_decref(ctx->implicit);
		ctx->implicit = NULL;
	}
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

void jmap_api_run(const struct webd_env *env, const struct settings *s, int64_t account_id, const char *address,
		  const char *client_ip, const char *body, size_t len, int *status_r, char **out_r)
{
	struct jmap_problem p;
	json_t *req;
	if (jmap_parse_request(body, len, JMAP_MAX_CALLS, capabilities, &req, &p) < 0) {
		*status_r = 400;
		json_t *j = problem_json(&p);
		*out_r = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		return;
	}
	struct jmap_ctx ctx = {
		.env = env,
		.s = s,
		.store = env->store,
		.a = arena_new(),
		.account_id = account_id,
		.address = address,
		.client_ip = client_ip,
		.responses = json_array(),
	};
	web_account_id_str(account_id, ctx.account_id_str);
	json_t *given = json_object_get(req, "createdIds");
	ctx.created_ids = given ? json_deep_copy(given) : json_object();
	size_t i;
	json_t *call;
	json_array_foreach(json_object_get(req, "methodCalls"), i, call) {
		run_call(&ctx, req, call);
		arena_clear(ctx.a);
	}
	char state[48];
	snprintf(state, sizeof(state), "s%" PRId64, account_id);
	json_t *resp = json_pack("{soss}", "methodResponses", ctx.responses, "sessionState", state);
	if (given != NULL)
		json_object_set(resp, "createdIds", ctx.created_ids);
	json_decref(ctx.created_ids);
	*status_r = 200;
	*out_r = json_dumps(resp, JSON_COMPACT);
	json_decref(resp);
	json_decref(req);
	arena_free(&ctx.a);
}
