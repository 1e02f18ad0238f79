/* fuzz_jmap.c: libFuzzer target for the JMAP request checks and result references
 * (src/webd/jmap_core.c).
 *
 * The input is a JMAP API request body. Invariants checked:
 *  - jmap_parse_request returns 1 with a request, or -1 with a known problem type and
 *    a detail text (and the limit name exactly for limit problems);
 *  - an accepted request has "using" and "methodCalls" arrays of at most the call
 *    limit, each call [string, object, string];
 *  - resolving each call's arguments against the responses so far (each call's
 *    arguments stand in for its response) returns 1 with no "#" argument left, or -1
 *    with invalidArguments or invalidResultReference and a description;
 *  - jmap_pointer on every string argument used as a path never crashes, and a "*"
 *    path yields an array. */
#include "fuzz.h"
#include "jmap_core.h"

#include <string.h>

#define MAX_CALLS 16

static const char *const caps[] = { JMAP_CAP_CORE, JMAP_CAP_MAIL, JMAP_CAP_SUBMISSION, JMAP_CAP_QUOTA, NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *req = NULL;
	struct jmap_problem p;
	int r = jmap_parse_request((const char *)data, size, MAX_CALLS, caps, &req, &p);
	CHECK(r == 1 || r == -1);
	if (r < 0) {
		CHECK(req == NULL);
		CHECK(strcmp(p.type, JMAP_PROBLEM_NOT_JSON) == 0 || strcmp(p.type, JMAP_PROBLEM_NOT_REQUEST) == 0 ||
		      strcmp(p.type, JMAP_PROBLEM_LIMIT) == 0 || strcmp(p.type, JMAP_PROBLEM_UNKNOWN_CAPABILITY) == 0);
		CHECK(p.detail[0] != '\0');
		CHECK((strcmp(p.type, JMAP_PROBLEM_LIMIT) == 0) == (p.limit != NULL));
		return 0;
	}
	json_t *calls = json_object_get(req, "methodCalls");
	CHECK(json_is_array(json_object_get(req, "using")) && json_is_array(calls));
	CHECK(json_array_size(calls) <= MAX_CALLS);
	json_t *responses = json_array();
	size_t i;
	json_t *call;
	json_array_foreach(calls, i, call) {
		CHECK(json_is_array(call) && json_array_size(call) == 3);
		CHECK(json_is_string(json_array_get(call, 0)) && json_is_object(json_array_get(call, 1)) &&
		      json_is_string(json_array_get(call, 2)));
		json_t *args = json_deep_copy(json_array_get(call, 1));
		const char *type;
		char desc[256];
		int rr = jmap_resolve_refs(args, responses, &type, desc, sizeof(desc));
		CHECK(rr == 1 || rr == -1);
		if (rr == 1) {
			const char *key;
			json_t *v;
			json_object_foreach(args, key, v) {
				CHECK(key[0] != '#');
				if (json_is_string(v)) {
					const char *path = json_string_value(v);
					json_t *got = jmap_pointer(json_array_get(call, 1), path);
					if (got != NULL && strstr(path, "/*") != NULL && json_is_array(json_array_get(call, 1)))
						CHECK(json_is_array(got));
					json_decref(got);
				}
			}
		} else {
			CHECK(strcmp(type, "invalidArguments") == 0 || strcmp(type, "invalidResultReference") == 0);
			CHECK(desc[0] != '\0');
		}
		json_array_append_new(responses, json_pack("[sOs]", json_string_value(json_array_get(call, 0)), args,
							   json_string_value(json_array_get(call, 2))));
		json_decref(args);
	}
	json_decref(responses);
	json_decref(req);
	return 0;
}
