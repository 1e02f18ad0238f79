/* jmap.h: the JMAP methods (RFC 8620 core, RFC 8621 mail, RFC 9425 quota) as the
 * files of webd share them. A request runs on a pool thread (jmap_api_run): the
 * methods call the store synchronously and build jansson objects. */
#ifndef POSTAMT_JMAP_H
#define POSTAMT_JMAP_H

#include "webd_int.h"

#include "jmap_core.h"
#include "mail.h"
#include "store.h"

#include <stdarg.h>

struct jmap_ctx {
	const struct webd_env *env;
	const struct settings *s;
	struct store *store;
	struct arena *a; /* the request's */
	int64_t account_id;
	const char *address;
	char account_id_str[32];
	const char *client_ip;
	json_t *created_ids; /* creation id -> id, for "#creationId" references */
	json_t *responses;   /* methodResponses so far */
	const char *call_id;
	/* the current method's error (set by jmap_fail) */
	char err_type[64];
	char err_desc[256];
	json_t *err_extra;
	/* extra responses the current method adds after its own (implicit Email/set) */
	json_t *implicit;
	/* message bytes read and body text returned so far by the request
	 * (limits.jmap_response, jmap_budget_take) */
	uint64_t budget_used;
};

typedef json_t *jmap_method_fn(struct jmap_ctx *ctx, json_t *args);

/* Runs a JMAP API request body for the account; *out_r is the malloc'd JSON reply
 * and *status_r its HTTP status (200, or 400 with a problem object). */
void jmap_api_run(const struct webd_env *env, const struct settings *s, int64_t account_id, const char *address,
		  const char *client_ip, const char *body, size_t len, int *status_r, char **out_r);
/* The session resource (RFC 8620 §2) for the account. */
json_t *jmap_session_resource(const struct webd_env *env, const struct settings *s, int64_t account_id,
			      const char *address);

/* Counts n more message bytes read or returned by the request against
 * limits.jmap_response: true when they fit, else false after failing the method with
 * requestTooLarge. */
bool jmap_budget_take(struct jmap_ctx *ctx, uint64_t n);
/* Bytes of body text in an Email object's bodyValues. */
uint64_t jmap_body_values_size(json_t *email);
/* Sets the method's error (RFC 8620 §3.6.2) and returns NULL. */
json_t *jmap_fail(struct jmap_ctx *ctx, const char *type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A SetError object {type, description}. */
json_t *jmap_set_error(const char *type, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The account's state string (its highest MODSEQ), in the arena; NULL on error. */
const char *jmap_state(struct jmap_ctx *ctx);
/* Checks args.accountId: returns false after jmap_fail(accountNotFound). */
bool jmap_check_account(struct jmap_ctx *ctx, json_t *args);
/* An id that may be a "#creationId" reference: the real id, or NULL if unknown. */
const char *jmap_resolve_id(struct jmap_ctx *ctx, const char *id);
/* Remembers a created id for later "#creationId" references. */
void jmap_created(struct jmap_ctx *ctx, const char *creation_id, const char *id);
/* Appends [name, args, call id] after the current method's response. */
void jmap_add_implicit(struct jmap_ctx *ctx, const char *name, json_t *args);
/* Reads an optional unsigned integer argument; false after invalidArguments. */
bool jmap_arg_uint(struct jmap_ctx *ctx, json_t *args, const char *name, uint64_t *v_r, bool *present_r);

/* The account's state for a method: NULL after jmap_fail(serverFail). */
const char *jmap_account_state(struct jmap_ctx *ctx);
/* The start of most methods: jmap_check_account, then jmap_account_state. Returns
 * the state (arena), or NULL after jmap_fail. */
const char *jmap_begin(struct jmap_ctx *ctx, json_t *args);
/* The start of a /set or /import: jmap_begin, then args.ifInState must equal the
 * state (else stateMismatch). Returns the old state (arena), or NULL after jmap_fail. */
const char *jmap_begin_set(struct jmap_ctx *ctx, json_t *args);
/* Reads the create, update (objects) and destroy (array) arguments of a /set, each
 * NULL or JSON null when absent; false after invalidArguments. */
bool jmap_set_args(struct jmap_ctx *ctx, json_t *args, json_t **create_r, json_t **update_r, json_t **destroy_r);
/* Parses args.sinceState against the current state cur: false after
 * invalidArguments (absent) or cannotCalculateChanges (not a state up to cur). */
bool jmap_since_state(struct jmap_ctx *ctx, json_t *args, const char *cur, uint64_t *since_r);

/* The standard /get arguments (RFC 8620 §5.1), checked the same way for every type:
 * ids and properties are arrays or null, at most JMAP_MAX_OBJECTS ids, each property a
 * string of known (NULL-terminated; NULL: any string). *ids_r and *props_r are borrowed, NULL when absent or
 * null. On bad arguments the method fails (invalidArguments or requestTooLarge) and false
 * is returned. */
bool jmap_get_args(struct jmap_ctx *ctx, json_t *args, const char *const *known, json_t **ids_r, json_t **props_r);

/* The /get response {accountId, state, list, notFound}; takes over list and not_found. */
json_t *jmap_get_reply(struct jmap_ctx *ctx, const char *state, json_t *list, json_t *not_found);

/* The six collections of a /set response (RFC 8620 §5.3). */
struct jmap_set_out {
	json_t *created, *not_created, *updated, *not_updated, *destroyed, *not_destroyed;
};
/* Empty collections (new references). */
void jmap_set_out_init(struct jmap_set_out *o);
/* Drops the collections (after a failure). */
void jmap_set_out_free(struct jmap_set_out *o);
/* The /set response; takes over the collections. new_state NULL: old_state. */
json_t *jmap_set_reply(struct jmap_ctx *ctx, const char *old_state, const char *new_state, struct jmap_set_out *o);

/* True if s is one of list (NULL-terminated). */
bool jmap_str_in(const char *const *list, const char *s);
/* True if the JSON array arr holds the string s. */
bool jmap_array_has(json_t *arr, const char *s);

/* Keyword names: JMAP "$seen" <-> IMAP \Seen; others lower case. */
unsigned int jmap_keyword_flag(const char *kw);
/* Adds the message's keywords (flags and keywords) to obj as true values. */
void jmap_keywords_json(json_t *obj, unsigned int flags, const char *keywords);
/* True if kw is a keyword JMAP may set. */
bool jmap_keyword_valid(const char *kw);

/* Blob ids: "B<email>" is a whole message, "B<email>_<section with - for .>" a part,
 * "U..." an upload. */
void jmap_blob_id(int64_t email_id, const char *section, char *out, size_t outlen);
/* Parses a message blob id: 1 with the email and section ("" for the whole), 0 if
 * it is not one. */
int jmap_blob_parse(const char *blob_id, int64_t *email_id_r, char *section, size_t seclen);
/* Reads a blob's bytes (upload, message or part, transfer encoding undone for parts)
 * into the arena. 1, 0 if there is no such blob, <0 on error. *type_r may be NULL. */
int jmap_blob_read(struct jmap_ctx *ctx, const char *blob_id, const char **data_r, size_t *len_r, const char **type_r,
		   const char **name_r);
/* A stored blob as a file range for a mail_reader: [off, off+len) of fd (the caller
 * closes it) under transform x (enum mail_xform), size bytes of output. */
struct jmap_blob_src {
	int fd;
	uint64_t off, len, size;
	int x;
};
/* Opens a message or part blob for streaming (the decoded size comes from a
 * streaming pass). 1 with *src, 0 if there is no such blob, 2 when the blob is to be
 * read with jmap_blob_read instead (an upload, an encoding the reader cannot undo),
 * <0 on error. */
int jmap_blob_open(struct jmap_ctx *ctx, const char *blob_id, struct jmap_blob_src *src, const char **type_r,
		   const char **name_r);
/* Reads a whole stored message into the arena: 1, 0 if there is no such email, <0
 * on error. */
int jmap_email_read(struct jmap_ctx *ctx, int64_t email_id, const char **data_r, size_t *len_r);
/* The same for the first max bytes (0: all) of the message; *len_r is what was read. */
int jmap_email_read_prefix(struct jmap_ctx *ctx, int64_t email_id, uint64_t max, const char **data_r, size_t *len_r);

/* Email objects from a message: meta may be NULL (Email/parse). */
struct jmap_email_src {
	const char *data; /* whole message, or just the header when body is not needed */
	size_t len;
	bool whole;
	const struct mail_part *parts;
	size_t nparts;
	int64_t email_id;    /* 0 for Email/parse */
	const char *blob_id; /* for Email/parse */
};
struct jmap_get_opts {
	json_t *properties;      /* NULL: defaults */
	json_t *body_properties; /* NULL: defaults */
	bool fetch_text, fetch_html, fetch_all;
	uint64_t max_body_bytes; /* maxBodyValueBytes, JMAP_BODY_VALUE_DEFAULT when not given */
};
/* Builds the header-derived and body properties of an Email (no id, mailboxIds,
 * keywords, receivedAt, size: the caller adds those). */
json_t *jmap_email_props(struct jmap_ctx *ctx, const struct jmap_email_src *src, const struct jmap_get_opts *o);
/* True if the Email property list (NULL: the defaults of RFC 8621 §4.2) holds name. */
bool jmap_email_prop_wanted(json_t *props, const char *name);
/* True if the property list asks for something needing the body. */
bool jmap_props_need_body(json_t *properties, const struct jmap_get_opts *o);
/* Reads the Email/get property options from args; false after a failure. */
bool jmap_get_opts_parse(struct jmap_ctx *ctx, json_t *args, struct jmap_get_opts *o);

/* Address parsing of a raw header value: an array of EmailAddress objects. */
json_t *jmap_addresses(struct arena *a, const char *raw);
/* Compose an RFC 5322 message from an Email create object; NULL after *err_r set. */
char *jmap_compose(struct jmap_ctx *ctx, json_t *email, size_t *len_r, json_t **err_r);

/* Email/set update of one email (used by EmailSubmission's onSuccessUpdateEmail):
 * returns NULL on success or a SetError. */
json_t *jmap_email_update(struct jmap_ctx *ctx, int64_t email_id, json_t *patch);
/* Email/set destroy of one email: NULL or a SetError. */
json_t *jmap_email_destroy(struct jmap_ctx *ctx, int64_t email_id);

/* The blob id of a Sieve script's content (jmap_blob.c): "S<id>-<64-bit hash of the
 * text>", so the same content keeps its blob id and a changed one gets a new one;
 * jmap_blob_read reads it back. Reads the text into sc when sc lacks it; the id is
 * in the arena, NULL if the text cannot be read. */
const char *jmap_blob_sieve_id(struct jmap_ctx *ctx, struct store_sieve_script *sc);
/* The store limits from the settings (sieve.max_scripts, sieve.max_script_size). */
void jmap_sieve_limits(const struct webd_env *env, const struct settings *s, struct store_sieve_limits *l_r);
/* Checks accountId and that Sieve is offered; returns the account's Sieve state
 * string (arena), or NULL after jmap_fail. */
const char *jmap_sieve_state(struct jmap_ctx *ctx, json_t *args);
/* Parses a UTCDate ("2026-12-24T00:00:00Z", RFC 8620 §1.4): 1 with *t_r, else 0. */
int jmap_utcdate_parse(const char *s, int64_t *t_r);

/* Mailbox role name of a special-use bit ("inbox" for INBOX). */
const char *jmap_mailbox_role(const struct store_mailbox *mb);

jmap_method_fn jmap_core_echo;
jmap_method_fn jmap_mailbox_get, jmap_mailbox_changes, jmap_mailbox_query, jmap_mailbox_query_changes, jmap_mailbox_set;
jmap_method_fn jmap_thread_get, jmap_thread_changes;
jmap_method_fn jmap_email_get, jmap_email_changes, jmap_email_query, jmap_email_query_changes, jmap_email_set,
	jmap_email_copy, jmap_email_import, jmap_email_parse;
jmap_method_fn jmap_snippet_get;
jmap_method_fn jmap_identity_get, jmap_identity_changes, jmap_identity_set;
/* jmap_identity.c: the account's identities (id -> Identity, I0 included; a new
 * reference), or NULL after jmap_fail(serverFail). */
json_t *jmap_identities(struct jmap_ctx *ctx);
/* Applies Identity properties v to target: NULL, or a SetError (pure but for the
 * ownership check of a new email). */
json_t *jmap_identity_props(struct jmap_ctx *ctx, json_t *target, json_t *v, bool create);
/* jmap.c: a /get response over all (id -> object; taken over) with args' ids and
 * properties, checked by jmap_get_args (any property name; unknown ones are left out). */
json_t *jmap_get_from(struct jmap_ctx *ctx, json_t *args, json_t *all, const char *state);
/* jmap_websettings.c: Settings/get|set (urn:postamt:params:jmap:settings) and
 * ContactSuggestion/query (urn:postamt:params:jmap:contacts); jmap_contacts_use
 * counts the recipients of a sent message (best effort). */
jmap_method_fn jmap_settings_get, jmap_settings_set, jmap_contact_query;
void jmap_contacts_use(struct jmap_ctx *ctx, json_t *addresses);
/* The default settings object (a new reference), and a patch applied to cur: NULL,
 * or a SetError naming what is wrong (pure; unit-tested). */
json_t *jmap_settings_defaults(void);
json_t *jmap_settings_apply(json_t *cur, json_t *patch);
jmap_method_fn jmap_submission_get, jmap_submission_changes, jmap_submission_query, jmap_submission_set;
jmap_method_fn jmap_quota_get, jmap_quota_changes, jmap_quota_query;
jmap_method_fn jmap_sieve_get, jmap_sieve_changes, jmap_sieve_set, jmap_sieve_query, jmap_sieve_query_changes,
	jmap_sieve_validate;
jmap_method_fn jmap_vacation_get, jmap_vacation_set;
jmap_method_fn jmap_junk_get, jmap_junk_set;

#endif
