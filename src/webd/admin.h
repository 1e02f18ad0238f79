/* admin.h: the admin API's request decoder (admin_req.c, pure: bytes in, a request
 * or an error out; fuzzed by tests/fuzz/fuzz_admin.c) and what admin_api.c runs.
 *
 * Endpoints are /admin/api/AREA[/ACTION]: GET reads, POST with a JSON object changes
 * (docs/admin-api.md). Every input is checked here, before anything is looked up:
 * domain and address syntax, sizes, password bytes, queue ids, quota values. */
#ifndef POSTAMT_WEBD_ADMIN_H
#define POSTAMT_WEBD_ADMIN_H

#include "arena.h"
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMIN_TARGETS_MAX 100 /* targets of one alias in one request */
#define ADMIN_QUERY_MAX 256   /* bytes of an events search */
#define ADMIN_ID_MAX 64       /* bytes of a queue id */

enum admin_op {
	ADMIN_ME,
	ADMIN_OVERVIEW,
	ADMIN_DOMAINS,
	ADMIN_DOMAIN_ADD,
	ADMIN_DOMAIN_REMOVE,
	ADMIN_DNS,
	ADMIN_DKIM,
	ADMIN_DKIM_ROTATE,
	ADMIN_USERS,
	ADMIN_USER_ADD,
	ADMIN_USER_PASSWORD,
	ADMIN_USER_QUOTA,
	ADMIN_USER_ADMIN,
	ADMIN_USER_DELETE,
	ADMIN_ALIASES,
	ADMIN_ALIAS_ADD,
	ADMIN_ALIAS_REMOVE,
	ADMIN_QUEUE,
	ADMIN_QUEUE_RETRY,
	ADMIN_QUEUE_DELETE,
	ADMIN_QUEUE_BOUNCE,
	ADMIN_CERTIFICATE,
	ADMIN_EVENTS,
	ADMIN_SPAM,
};

struct admin_req {
	enum admin_op op;
	const char *name; /* the endpoint, "users/add" (static) */
	bool write;       /* a change: POST, audit-logged */
	/* arguments (in the arena), NULL when not given */
	const char *domain;  /* lower case, no trailing dot */
	const char *address; /* normalized (an alias may be the catch-all "@domain") */
	const char *password;
	const char *id;    /* queue id */
	const char *query; /* events: the search */
	bool check;        /* dns: ask DNS (default true) */
	bool has_quota;
	uint64_t quota; /* bytes, 0 = no limit */
	bool has_admin, admin;
	const char **targets; /* alias targets, normalized */
	size_t ntargets;
};

/* Decodes one request: method ("GET", "HEAD" or "POST"), the path after
 * "/admin/api/", the raw query string and the body. Returns 1 with *r filled (strings
 * in a); -1 with *status_r (400 bad input, 404 no such endpoint, 405 wrong method:
 * no change through GET, and no read through POST) and *error_r (static or in a). */
int admin_req_parse(const char *method, const char *path, struct bytes query, const char *body, size_t len,
		    struct arena *a, struct admin_req *r, int *status_r, const char **error_r);

#endif
