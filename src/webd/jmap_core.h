/* jmap_core.h: the pure part of a JMAP API request (RFC 8620 §3): checking the
 * Request object, JSON pointers with the "*" extension (§3.7) and resolving result
 * references ("#name" arguments) against earlier responses. No store, no I/O: unit-
 * and fuzz-tested on their own. */
#ifndef POSTAMT_JMAP_CORE_H
#define POSTAMT_JMAP_CORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define JMAP_PROBLEM_NOT_JSON "urn:ietf:params:jmap:error:notJSON"
#define JMAP_PROBLEM_NOT_REQUEST "urn:ietf:params:jmap:error:notRequest"
#define JMAP_PROBLEM_LIMIT "urn:ietf:params:jmap:error:limit"
#define JMAP_PROBLEM_UNKNOWN_CAPABILITY "urn:ietf:params:jmap:error:unknownCapability"

#define JMAP_CAP_CORE "urn:ietf:params:jmap:core"
#define JMAP_CAP_MAIL "urn:ietf:params:jmap:mail"
#define JMAP_CAP_SUBMISSION "urn:ietf:params:jmap:submission"
#define JMAP_CAP_QUOTA "urn:ietf:params:jmap:quota"
#define JMAP_CAP_SIEVE "urn:ietf:params:jmap:sieve"
#define JMAP_CAP_VACATION "urn:ietf:params:jmap:vacationresponse"
#define JMAP_CAP_JUNK "urn:postamt:params:jmap:junk" /* JunkSettings (jmap_junk.c) */
#define JMAP_CAP_SETTINGS "urn:postamt:params:jmap:settings" /* Settings (jmap_websettings.c) */
#define JMAP_CAP_CONTACTS "urn:postamt:params:jmap:contacts" /* ContactSuggestion (jmap_websettings.c) */

/* A request-level problem (RFC 7807 problem details, RFC 8620 §3.6.1). */
struct jmap_problem {
	const char *type; /* one of JMAP_PROBLEM_* */
	char detail[256];
	const char *limit; /* for JMAP_PROBLEM_LIMIT: "maxCallsInRequest" */
};

/* Parses and checks a Request: an object with "using" (array of strings, each in
 * caps, a NULL-terminated list) and "methodCalls" (array of [name, arguments, call
 * id] with string, object, string), at most max_calls of them; "createdIds" if
 * present is an object of strings. Returns 1 with *req_r (a new reference), or -1
 * with *p filled in. */
int jmap_parse_request(const char *data, size_t len, size_t max_calls, const char *const *caps, json_t **req_r,
		       struct jmap_problem *p);

/* True if the request's "using" lists cap. */
bool jmap_using(json_t *req, const char *cap);

/* Evaluates a JSON pointer (RFC 6901) with the RFC 8620 "*" extension on v. Returns
 * a new reference, or NULL when the path does not resolve. */
json_t *jmap_pointer(json_t *v, const char *path);

/* Resolves every "#name" argument of args (an object) in place against responses
 * (the methodResponses array so far): the value {resultOf, name, path} is replaced
 * by the pointed-to value under "name". Returns 1, or -1 with *type_r
 * ("invalidArguments" when both "name" and "#name" are given,
 * "invalidResultReference" otherwise) and a description in desc. */
int jmap_resolve_refs(json_t *args, json_t *responses, const char **type_r, char *desc, size_t desclen);

/* True if s is a valid JMAP Id (RFC 8620 §1.2): 1-255 of [A-Za-z0-9_-]. */
bool jmap_id_valid(const char *s);

#endif
