/* jmap_api.c: a JMAP API request (RFC 8620 §3): check the Request, run each method
 * call in order with its result references resolved, collect the responses. Methods
 * come from one table with the capability each needs in "using"; an unknown name
 * or a capability not requested is unknownMethod (§3.6.2). Also the session
 * resource (§2). Runs on a pool thread. The methods' shared helpers are in jmap.c. */
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
	{ "SieveScript/get", JMAP_CAP_SIEVE, jmap_sieve_get },
	{ "SieveScript/set", JMAP_CAP_SIEVE, jmap_sieve_set },
	{ "SieveScript/changes", JMAP_CAP_SIEVE, jmap_sieve_changes },
	{ "SieveScript/query", JMAP_CAP_SIEVE, jmap_sieve_query },
	{ "SieveScript/queryChanges", JMAP_CAP_SIEVE, jmap_sieve_query_changes },
	{ "SieveScript/validate", JMAP_CAP_SIEVE, jmap_sieve_validate },
	{ "VacationResponse/get", JMAP_CAP_VACATION, jmap_vacation_get },
	{ "VacationResponse/set", JMAP_CAP_VACATION, jmap_vacation_set },
	{ "JunkSettings/get", JMAP_CAP_JUNK, jmap_junk_get },
	{ "JunkSettings/set", JMAP_CAP_JUNK, jmap_junk_set },
	{ "Settings/get", JMAP_CAP_SETTINGS, jmap_settings_get },
	{ "Settings/set", JMAP_CAP_SETTINGS, jmap_settings_set },
	{ "ContactSuggestion/query", JMAP_CAP_CONTACTS, jmap_contact_query },
};

/* The capabilities a request may use; the Sieve ones only when serve wired Sieve in. */
static const char *const capabilities[] = { JMAP_CAP_CORE, JMAP_CAP_MAIL,     JMAP_CAP_SUBMISSION,
					    JMAP_CAP_QUOTA, JMAP_CAP_JUNK, JMAP_CAP_SETTINGS, JMAP_CAP_CONTACTS, NULL };
static const char *const capabilities_sieve[] = { JMAP_CAP_CORE,     JMAP_CAP_MAIL,     JMAP_CAP_SUBMISSION,
						  JMAP_CAP_QUOTA,    JMAP_CAP_JUNK,     JMAP_CAP_SETTINGS,
						  JMAP_CAP_CONTACTS, JMAP_CAP_SIEVE,    JMAP_CAP_VACATION, NULL };

/* RFC 9661 §1.3.1: the account capability of urn:ietf:params:jmap:sieve. */
static json_t *sieve_capability(const struct webd_env *env, const struct settings *s)
{
	json_t *ext = json_array();
	const char *p = env->sieve->extensions ? env->sieve->extensions : "";
	while (*p) {
		size_t n = strcspn(p, " ");
		if (n > 0)
			json_array_append_new(ext, json_stringn(p, n));
		p += n;
		p += strspn(p, " ");
	}
	struct store_sieve_limits lim;
	jmap_sieve_limits(env, s, &lim);
	json_t *c = json_pack("{ss sI so}", "implementation", "postamt", "maxSizeScriptName",
			      (json_int_t)STORE_SIEVE_NAME_MAX, "sieveExtensions", ext);
	json_object_set_new(c, "maxSizeScript",
			    lim.max_script_size ? json_integer((json_int_t)lim.max_script_size) : json_null());
	json_object_set_new(c, "maxNumberScripts",
			    lim.max_scripts ? json_integer((json_int_t)lim.max_scripts) : json_null());
	json_object_set_new(c, "maxNumberRedirects", json_integer((json_int_t)s->sieve_max_redirects));
	json_object_set_new(c, "notificationMethods", json_null());
	json_object_set_new(c, "externalLists", json_null());
	return c;
}

json_t *jmap_session_resource(const struct webd_env *env, const struct settings *s, int64_t account_id,
			      const char *address)
{
	char acct[32];
	web_account_id_str(account_id, acct);
	json_t *core =
		json_pack("{sI sI sI sI sI sI sI s[ss]}", "maxSizeUpload", (json_int_t)s->message_max,
			  "maxConcurrentUpload", (json_int_t)4, "maxSizeRequest", (json_int_t)WEB_JSON_MAX,
			  "maxConcurrentRequests", (json_int_t)4, "maxCallsInRequest", (json_int_t)JMAP_MAX_CALLS,
			  "maxObjectsInGet", (json_int_t)JMAP_MAX_OBJECTS, "maxObjectsInSet",
			  (json_int_t)JMAP_MAX_OBJECTS, "collationAlgorithms", "i;ascii-casemap", "i;unicode-casemap");
	json_t *caps = json_pack("{sos{}s{}s{}s{}}", JMAP_CAP_CORE, core, JMAP_CAP_MAIL, JMAP_CAP_SUBMISSION,
				 JMAP_CAP_QUOTA, JMAP_CAP_JUNK);
	json_t *mail = json_pack("{snsIsIsIs[ssssssss]sb}", "maxMailboxesPerEmail", "maxMailboxDepth",
				 (json_int_t)STORE_MAILBOX_DEPTH_MAX, "maxSizeMailboxName",
				 (json_int_t)STORE_MAILBOX_NAME_MAX, "maxSizeAttachmentsPerEmail",
				 (json_int_t)s->message_max, "emailQuerySortOptions", "receivedAt", "sentAt", "size",
				 "from", "to", "subject", "hasKeyword", "id", "mayCreateTopLevelMailbox", 1);
	json_t *sub = json_pack("{sIs{}}", "maxDelayedSend", (json_int_t)0, "submissionExtensions");
	json_t *acaps = json_pack("{s{}sosos{}s{}}", JMAP_CAP_CORE, JMAP_CAP_MAIL, mail, JMAP_CAP_SUBMISSION, sub,
				  JMAP_CAP_QUOTA, JMAP_CAP_JUNK);
	json_object_set_new(caps, JMAP_CAP_SETTINGS, json_object());
	json_object_set_new(caps, JMAP_CAP_CONTACTS, json_object());
	json_object_set_new(acaps, JMAP_CAP_SETTINGS, json_object());
	json_object_set_new(acaps, JMAP_CAP_CONTACTS, json_pack("{sI}", "maxSuggestions", (json_int_t)50));
	json_t *account = json_pack("{sssbsbso}", "name", address, "isPersonal", 1, "isReadOnly", 0,
				    "accountCapabilities", acaps);
	json_t *primary = json_pack("{ssssssssss}", JMAP_CAP_CORE, acct, JMAP_CAP_MAIL, acct, JMAP_CAP_SUBMISSION, acct,
				    JMAP_CAP_QUOTA, acct, JMAP_CAP_JUNK, acct);
	if (env->sieve != NULL) {
		json_object_set_new(caps, JMAP_CAP_SIEVE, json_object());
		json_object_set_new(caps, JMAP_CAP_VACATION, json_object());
		json_object_set_new(acaps, JMAP_CAP_SIEVE, sieve_capability(env, s));
		json_object_set_new(acaps, JMAP_CAP_VACATION, json_object());
		json_object_set_new(primary, JMAP_CAP_SIEVE, json_string(acct));
		json_object_set_new(primary, JMAP_CAP_VACATION, json_string(acct));
	}
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
		jmap_fail(ctx, "unknownMethod", "%s%s",
			  m == NULL ? "no such method: " : "capability not in using: ", m == NULL ? name : m->cap);
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

void jmap_api_run(const struct webd_env *env, const struct settings *s, int64_t account_id, const char *address,
		  const char *client_ip, const char *body, size_t len, int *status_r, char **out_r)
{
	struct jmap_problem p;
	json_t *req;
	if (jmap_parse_request(body, len, JMAP_MAX_CALLS, env->sieve ? capabilities_sieve : capabilities, &req, &p) <
	    0) {
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
	json_array_foreach(json_object_get(req, "methodCalls"), i, call)
	{
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
