/* jmap_core.c: see jmap_core.h. */
#include "jmap_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void problem(struct jmap_problem *p, const char *type, const char *detail)
{
	p->type = type;
	p->limit = NULL;
	snprintf(p->detail, sizeof(p->detail), "%s", detail);
}

int jmap_parse_request(const char *data, size_t len, size_t max_calls, const char *const *caps, json_t **req_r,
		       struct jmap_problem *p)
{
	json_error_t jerr;
	json_t *req = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL) {
		p->type = JMAP_PROBLEM_NOT_JSON;
		p->limit = NULL;
		snprintf(p->detail, sizeof(p->detail), "not valid JSON: %s (at byte %d)", jerr.text, jerr.position);
		return -1;
	}
	json_t *using = json_object_get(req, "using");
	json_t *calls = json_object_get(req, "methodCalls");
	json_t *created = json_object_get(req, "createdIds");
	if (!json_is_object(req) || !json_is_array(using) || !json_is_array(calls) ||
	    (created != NULL && !json_is_object(created))) {
		problem(p, JMAP_PROBLEM_NOT_REQUEST, "a Request needs \"using\" and \"methodCalls\" arrays");
		json_decref(req);
		return -1;
	}
	size_t i;
	json_t *v;
	json_array_foreach(using, i, v) {
		if (!json_is_string(v)) {
			problem(p, JMAP_PROBLEM_NOT_REQUEST, "\"using\" must list capability names");
			json_decref(req);
			return -1;
		}
		bool known = false;
		for (const char *const *c = caps; *c != NULL && !known; c++)
			known = strcmp(*c, json_string_value(v)) == 0;
		if (!known) {
			p->type = JMAP_PROBLEM_UNKNOWN_CAPABILITY;
			p->limit = NULL;
			snprintf(p->detail, sizeof(p->detail), "unknown capability: %.200s", json_string_value(v));
			json_decref(req);
			return -1;
		}
	}
	if (json_array_size(calls) > max_calls) {
		problem(p, JMAP_PROBLEM_LIMIT, "too many method calls in one request");
		p->limit = "maxCallsInRequest";
		json_decref(req);
		return -1;
	}
	json_array_foreach(calls, i, v) {
		if (!json_is_array(v) || json_array_size(v) != 3 || !json_is_string(json_array_get(v, 0)) ||
		    !json_is_object(json_array_get(v, 1)) || !json_is_string(json_array_get(v, 2))) {
			problem(p, JMAP_PROBLEM_NOT_REQUEST, "each method call is [name, arguments, call id]");
			json_decref(req);
			return -1;
		}
	}
	if (created != NULL) {
		const char *k;
		json_object_foreach(created, k, v) {
			if (!json_is_string(v)) {
				problem(p, JMAP_PROBLEM_NOT_REQUEST, "\"createdIds\" maps creation ids to ids");
				json_decref(req);
				return -1;
			}
		}
	}
	*req_r = req;
	return 1;
}

bool jmap_using(json_t *req, const char *cap)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(req, "using"), i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), cap) == 0)
			return true;
	}
	return false;
}

/* One reference token of a pointer into tok (unescaped); returns the rest or NULL. */
static const char *next_token(const char *p, char *tok, size_t toklen)
{
	size_t o = 0;
	while (*p != '\0' && *p != '/') {
		char c = *p;
		if (c == '~') {
			if (p[1] == '0')
				c = '~';
			else if (p[1] == '1')
				c = '/';
			else
				return NULL;
			p++;
		}
		if (o + 1 >= toklen)
			return NULL;
		tok[o++] = c;
		p++;
	}
	tok[o] = '\0';
	return p;
}

static json_t *pointer_eval(json_t *v, const char *p, int depth)
{
	if (*p == '\0')
		return json_incref(v);
	if (*p != '/' || depth > 64)
		return NULL;
	char tok[256];
	const char *rest = next_token(p + 1, tok, sizeof(tok));
	if (rest == NULL)
		return NULL;
	if (json_is_array(v)) {
		if (strcmp(tok, "*") == 0) {
			json_t *out = json_array();
			size_t i;
			json_t *item;
			json_array_foreach(v, i, item) {
				json_t *r = pointer_eval(item, rest, depth + 1);
				if (r == NULL) {
					json_decref(out);
					return NULL;
				}
				if (json_is_array(r))
					json_array_extend(out, r);
				else
					json_array_append(out, r);
				json_decref(r);
			}
			return out;
		}
		if (tok[0] == '\0' || (tok[0] == '0' && tok[1] != '\0') || strlen(tok) > 9)
			return NULL;
		size_t idx = 0;
		for (const char *c = tok; *c; c++) {
			if (*c < '0' || *c > '9')
				return NULL;
			idx = idx * 10 + (size_t)(*c - '0');
		}
		json_t *item = json_array_get(v, idx);
		return item ? pointer_eval(item, rest, depth + 1) : NULL;
	}
	if (json_is_object(v)) {
		json_t *item = json_object_get(v, tok);
		return item ? pointer_eval(item, rest, depth + 1) : NULL;
	}
	return NULL;
}

json_t *jmap_pointer(json_t *v, const char *path)
{
	if (v == NULL || path == NULL)
		return NULL;
	return pointer_eval(v, path, 0);
}

int jmap_resolve_refs(json_t *args, json_t *responses, const char **type_r, char *desc, size_t desclen)
{
	const char *key;
	json_t *val;
	/* collect first: the object changes below */
	const char *keys[256];
	size_t nkeys = 0;
	json_object_foreach(args, key, val) {
		if (key[0] == '#') {
			if (nkeys == sizeof(keys) / sizeof(keys[0])) {
				*type_r = "invalidArguments";
				snprintf(desc, desclen, "too many result references");
				return -1;
			}
			keys[nkeys++] = key;
		}
	}
	json_t *fresh = json_object(); /* name -> resolved value */
	for (size_t k = 0; k < nkeys; k++) {
		key = keys[k];
		val = json_object_get(args, key);
		if (key[1] == '\0' || key[1] == '#') {
			*type_r = "invalidArguments";
			snprintf(desc, desclen, "bad result reference name %.100s", key);
			json_decref(fresh);
			return -1;
		}
		if (json_object_get(args, key + 1) != NULL) {
			*type_r = "invalidArguments";
			snprintf(desc, desclen, "both %.100s and %.100s given", key + 1, key);
			json_decref(fresh);
			return -1;
		}
		const char *result_of, *name, *path;
		if (json_unpack(val, "{s:s, s:s, s:s}", "resultOf", &result_of, "name", &name, "path", &path) < 0) {
			*type_r = "invalidResultReference";
			snprintf(desc, desclen, "%.100s is not a ResultReference", key);
			json_decref(fresh);
			return -1;
		}
		json_t *found = NULL;
		size_t i;
		json_t *resp;
		json_array_foreach(responses, i, resp) {
			if (strcmp(json_string_value(json_array_get(resp, 2)), result_of) == 0) {
				found = resp;
				break;
			}
		}
		if (found == NULL || strcmp(json_string_value(json_array_get(found, 0)), name) != 0) {
			*type_r = "invalidResultReference";
			snprintf(desc, desclen, "no %.60s response with call id %.60s", name, result_of);
			json_decref(fresh);
			return -1;
		}
		json_t *r = jmap_pointer(json_array_get(found, 1), path);
		if (r == NULL) {
			*type_r = "invalidResultReference";
			snprintf(desc, desclen, "path %.100s does not resolve", path);
			json_decref(fresh);
			return -1;
		}
		json_object_set_new(fresh, key + 1, r);
	}
	for (size_t k = 0; k < nkeys; k++) {
		char *copy = strdup(keys[k]); /* the key's storage goes with the member */
		if (copy == NULL)
			abort();
		json_object_del(args, copy);
		free(copy);
	}
	json_object_update(args, fresh);
	json_decref(fresh);
	return 1;
}

bool jmap_id_valid(const char *s)
{
	size_t n = 0;
	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return n >= 1 && n <= 255;
}
