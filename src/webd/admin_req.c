/* admin_req.c: the admin API's request decoder (admin.h). Pure: no store, no
 * sockets; the JSON body is parsed by jansson with a depth and size the route
 * already bounded (WEB_SMALL_BODY_MAX), then every field is checked by type and
 * syntax. Unknown fields are refused, so a typo never passes silently. */
#include "admin.h"

#include "auth.h"
#include "http_util.h"
#include "store.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

struct endpoint {
	const char *path;
	enum admin_op op;
	bool write;
	const char *fields; /* the JSON fields allowed, space separated, each prefixed by '!' when required */
};

static const struct endpoint endpoints[] = {
	{ "me", ADMIN_ME, false, "" },
	{ "overview", ADMIN_OVERVIEW, false, "" },
	{ "domains", ADMIN_DOMAINS, false, "" },
	{ "domains/add", ADMIN_DOMAIN_ADD, true, "!domain" },
	{ "domains/remove", ADMIN_DOMAIN_REMOVE, true, "!domain" },
	{ "dns", ADMIN_DNS, false, "" },
	{ "dkim", ADMIN_DKIM, false, "" },
	{ "dkim/rotate", ADMIN_DKIM_ROTATE, true, "!domain" },
	{ "users", ADMIN_USERS, false, "" },
	{ "users/add", ADMIN_USER_ADD, true, "!address !password quota admin" },
	{ "users/password", ADMIN_USER_PASSWORD, true, "!address !password" },
	{ "users/quota", ADMIN_USER_QUOTA, true, "!address !quota" },
	{ "users/admin", ADMIN_USER_ADMIN, true, "!address !admin" },
	{ "users/delete", ADMIN_USER_DELETE, true, "!address !confirm" },
	{ "aliases", ADMIN_ALIASES, false, "" },
	{ "aliases/add", ADMIN_ALIAS_ADD, true, "!address !targets" },
	{ "aliases/remove", ADMIN_ALIAS_REMOVE, true, "!address" },
	{ "queue", ADMIN_QUEUE, false, "" },
	{ "queue/retry", ADMIN_QUEUE_RETRY, true, "!id" },
	{ "queue/delete", ADMIN_QUEUE_DELETE, true, "!id" },
	{ "queue/bounce", ADMIN_QUEUE_BOUNCE, true, "!id" },
	{ "certificate", ADMIN_CERTIFICATE, false, "" },
	{ "events", ADMIN_EVENTS, false, "" },
	{ "spam", ADMIN_SPAM, false, "" },
};

static int bad(int status, const char *msg, int *status_r, const char **error_r)
{
	*status_r = status;
	*error_r = msg;
	return -1;
}

/* A domain name: normalized by the store's address rules (via "x@domain"). */
static int domain_arg(struct arena *a, const char *in, const char **out_r)
{
	size_t n = strlen(in);
	if (n == 0 || n > 253)
		return -1;
	char *d = arena_strdup(a, in);
	if (d[n - 1] == '.')
		d[--n] = '\0';
	const char *norm, *err;
	if (n == 0 || strchr(d, '@') != NULL || store_address_normalize(a, arena_printf(a, "x@%s", d), &norm, &err) < 0)
		return -1;
	const char *dom = strchr(norm, '@') + 1;
	if (strchr(dom, '.') == NULL && strcasecmp(dom, "localhost") != 0)
		return -1; /* a bare word is a typo more likely than a domain */
	*out_r = dom;
	return 1;
}

/* An address; with catchall, "@domain" too. */
static int address_arg(struct arena *a, const char *in, bool catchall, const char **out_r)
{
	const char *err;
	if (catchall && in[0] == '@') {
		const char *d;
		if (domain_arg(a, in + 1, &d) < 0)
			return -1;
		*out_r = arena_printf(a, "@%s", d);
		return 1;
	}
	if (strlen(in) > STORE_ADDRESS_MAX || store_address_normalize(a, in, out_r, &err) < 0)
		return -1;
	return 1;
}

static bool field_allowed(const char *fields, const char *key, bool *required_r)
{
	size_t kl = strlen(key);
	for (const char *p = fields; *p != '\0';) {
		while (*p == ' ')
			p++;
		bool req = *p == '!';
		if (req)
			p++;
		size_t n = strcspn(p, " ");
		if (n == kl && strncmp(p, key, n) == 0) {
			*required_r = req;
			return true;
		}
		p += n;
	}
	return false;
}

static int quota_arg(json_t *v, uint64_t *q_r)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < 0)
			return -1;
		*q_r = (uint64_t)i;
		return 1;
	}
	const char *err;
	if (json_is_string(v) && json_string_length(v) < 32 && buf_parse_size(json_string_value(v), q_r, &err) > 0)
		return 1;
	return -1;
}

static bool id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= ADMIN_ID_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_')
			return false;
	return true;
}

/* The value of one JSON field into r. */
static int field(struct arena *a, struct admin_req *r, const char *key, json_t *v, const char **error_r)
{
	if (strcmp(key, "domain") == 0) {
		if (!json_is_string(v) || domain_arg(a, json_string_value(v), &r->domain) < 0)
			return *error_r = "domain: expected a domain name", -1;
	} else if (strcmp(key, "address") == 0) {
		bool catchall = r->op == ADMIN_ALIAS_ADD || r->op == ADMIN_ALIAS_REMOVE;
		if (!json_is_string(v) || address_arg(a, json_string_value(v), catchall, &r->address) < 0)
			return *error_r = "address: expected an address (local@domain)", -1;
	} else if (strcmp(key, "password") == 0) {
		const char *p = json_is_string(v) ? json_string_value(v) : NULL;
		size_t n = p != NULL ? json_string_length(v) : 0;
		if (p == NULL || n == 0 || n > AUTH_PASSWORD_MAX || strlen(p) != n || strpbrk(p, "\r\n") != NULL)
			return *error_r = "password: expected 1 to 1024 bytes without NUL, CR or LF", -1;
		r->password = arena_strdup(a, p);
	} else if (strcmp(key, "quota") == 0) {
		if (quota_arg(v, &r->quota) < 0 || r->quota > (uint64_t)INT64_MAX)
			return *error_r = "quota: expected bytes (a number) or a SIZE such as \"500M\" (0: no limit)",
			       -1;
		r->has_quota = true;
	} else if (strcmp(key, "admin") == 0) {
		if (!json_is_boolean(v))
			return *error_r = "admin: expected true or false", -1;
		r->has_admin = true;
		r->admin = json_is_true(v);
	} else if (strcmp(key, "confirm") == 0) {
		/* checked against address once both are known */
		if (!json_is_string(v) || json_string_length(v) > STORE_ADDRESS_MAX)
			return *error_r = "confirm: expected the address again", -1;
		r->query = arena_strdup(a, json_string_value(v)); /* kept here until compared */
	} else if (strcmp(key, "id") == 0) {
		if (!json_is_string(v) || !id_ok(json_string_value(v)))
			return *error_r = "id: expected a queue id", -1;
		r->id = arena_strdup(a, json_string_value(v));
	} else if (strcmp(key, "targets") == 0) {
		size_t n = json_is_array(v) ? json_array_size(v) : 0;
		if (n == 0 || n > ADMIN_TARGETS_MAX)
			return *error_r = "targets: expected 1 to 100 addresses", -1;
		r->targets = arena_alloc(a, n * sizeof(*r->targets));
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_array_get(v, i);
			if (!json_is_string(e) || address_arg(a, json_string_value(e), false, &r->targets[i]) < 0)
				return *error_r = "targets: expected addresses (local@domain)", -1;
		}
		r->ntargets = n;
	}
	return 1;
}

static int parse_body(const struct endpoint *ep, const char *body, size_t len, struct arena *a, struct admin_req *r,
		      const char **error_r)
{
	json_error_t jerr;
	json_t *j = json_loadb(body != NULL ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return *error_r = "the body must be a JSON object", -1;
	}
	const char *key;
	json_t *v;
	int ret = 1;
	json_object_foreach(j, key, v)
	{
		bool req;
		if (!field_allowed(ep->fields, key, &req)) {
			*error_r = arena_printf(a, "unknown field \"%.64s\"", key);
			ret = -1;
			break;
		}
		if (field(a, r, key, v, error_r) < 0) {
			ret = -1;
			break;
		}
	}
	/* every required field present */
	for (const char *p = ep->fields; ret > 0 && *p != '\0';) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (*p == '!') {
			char name[32];
			snprintf(name, sizeof(name), "%.*s", (int)(n - 1), p + 1);
			if (json_object_get(j, name) == NULL) {
				*error_r = arena_printf(a, "missing field \"%s\"", name);
				ret = -1;
			}
		}
		p += n;
	}
	json_decref(j);
	if (ret > 0 && r->op == ADMIN_USER_DELETE && strcasecmp(r->query, r->address) != 0)
		return *error_r = "confirm must repeat the address to delete", -1;
	if (r->op == ADMIN_USER_DELETE)
		r->query = NULL;
	return ret;
}

static int parse_query(struct bytes query, struct arena *a, struct admin_req *r, const char **error_r)
{
	char v[ADMIN_QUERY_MAX + 1];
	int g;
	r->check = true;
	if ((g = http_query_get(query, "domain", v, sizeof(v))) < 0 || (g > 0 && domain_arg(a, v, &r->domain) < 0))
		return *error_r = "domain: expected a domain name", -1;
	if ((r->op == ADMIN_DNS || r->op == ADMIN_DKIM) && r->domain == NULL)
		return *error_r = "missing query parameter domain", -1;
	if ((g = http_query_get(query, "check", v, sizeof(v))) < 0 ||
	    (g > 0 && strcmp(v, "0") != 0 && strcmp(v, "1") != 0))
		return *error_r = "check: expected 0 or 1", -1;
	if (g > 0)
		r->check = strcmp(v, "1") == 0;
	if ((g = http_query_get(query, "q", v, sizeof(v))) < 0)
		return *error_r = "q: at most 256 bytes of text", -1;
	if (g > 0)
		r->query = arena_strdup(a, v);
	return 1;
}

int admin_req_parse(const char *method, const char *path, struct bytes query, const char *body, size_t len,
		    struct arena *a, struct admin_req *r, int *status_r, const char **error_r)
{
	memset(r, 0, sizeof(*r));
	const struct endpoint *ep = NULL;
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]) && ep == NULL; i++)
		if (strcmp(path, endpoints[i].path) == 0)
			ep = &endpoints[i];
	if (ep == NULL)
		return bad(404, "no such admin endpoint", status_r, error_r);
	bool post = strcmp(method, "POST") == 0;
	if (ep->write != post)
		return bad(405, ep->write ? "a change needs POST" : "a read needs GET", status_r, error_r);
	r->op = ep->op;
	r->name = ep->path;
	r->write = ep->write;
	int ret = ep->write ? parse_body(ep, body, len, a, r, error_r) : parse_query(query, a, r, error_r);
	if (ret < 0) {
		*status_r = 400;
		return -1;
	}
	return 1;
}
