/* fuzz_admin.c: libFuzzer target for the admin API's request decoder
 * (src/webd/admin_req.c, admin_req_parse).
 *
 * The input's first byte picks the endpoint (one of the API's paths or a bogus
 * one), its second byte's low bit the method (GET or POST); up to the first '\n'
 * the rest is the query string, after it the body. Invariants checked:
 *  - the decoder returns 1, or -1 with status 400, 404 or 405 and an error text;
 *  - an accepted change came by POST and a read by GET;
 *  - every decoded domain is lower case without '@' or a trailing dot, every
 *    address has one '@' and at most STORE_ADDRESS_MAX bytes, a password has no
 *    CR, LF or NUL and at most AUTH_PASSWORD_MAX bytes, a queue id only
 *    [A-Za-z0-9._-], alias targets number 1 to ADMIN_TARGETS_MAX;
 *  - the fields each change needs are present. */
#include "fuzz.h"
#include "admin.h"
#include "auth.h"
#include "store.h"

#include <ctype.h>
#include <string.h>

static const char *const paths[] = {
	"me",
	"overview",
	"domains",
	"domains/add",
	"domains/remove",
	"dns",
	"dkim",
	"dkim/rotate",
	"users",
	"users/add",
	"users/password",
	"users/quota",
	"users/admin",
	"users/delete",
	"aliases",
	"aliases/add",
	"aliases/remove",
	"queue",
	"queue/retry",
	"queue/delete",
	"queue/bounce",
	"certificate",
	"events",
	"spam",
	"nothing",
	"",
};

static void check_domain(const char *d)
{
	CHECK(d[0] != '\0' && strchr(d, '@') == NULL && d[strlen(d) - 1] != '.');
	for (const char *p = d; *p; p++)
		CHECK(!isupper((unsigned char)*p));
}

static void check_address(const char *a)
{
	const char *at = strchr(a, '@');
	CHECK(at != NULL && strchr(at + 1, '@') == NULL && strlen(a) <= STORE_ADDRESS_MAX);
	if (at == a) /* a catch-all: "@domain" */
		check_domain(at + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const char *path = paths[data[0] % (sizeof(paths) / sizeof(paths[0]))];
	const char *method = (data[1] & 1) ? "POST" : "GET";
	const char *rest = (const char *)data + 2;
	size_t len = size - 2;
	const char *nl = memchr(rest, '\n', len);
	struct bytes query = { rest, nl != NULL ? (size_t)(nl - rest) : len };
	const char *body = nl != NULL ? nl + 1 : "";
	size_t blen = nl != NULL ? len - (size_t)(nl - rest) - 1 : 0;
	struct arena *a = arena_new();
	struct admin_req r;
	int status = 0;
	const char *err = NULL;
	int ret = admin_req_parse(method, path, query, body, blen, a, &r, &status, &err);
	CHECK(ret == 1 || ret == -1);
	if (ret < 0) {
		CHECK(status == 400 || status == 404 || status == 405);
		CHECK(err != NULL && err[0] != '\0');
	} else {
		CHECK(r.write == (strcmp(method, "POST") == 0));
		if (r.domain != NULL)
			check_domain(r.domain);
		if (r.address != NULL)
			check_address(r.address);
		if (r.password != NULL)
			CHECK(strlen(r.password) <= AUTH_PASSWORD_MAX && strpbrk(r.password, "\r\n") == NULL);
		if (r.id != NULL)
			for (const char *p = r.id; *p; p++)
				CHECK(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_');
		CHECK(r.ntargets <= ADMIN_TARGETS_MAX);
		for (size_t i = 0; i < r.ntargets; i++)
			check_address(r.targets[i]);
		switch (r.op) {
		case ADMIN_DOMAIN_ADD:
		case ADMIN_DOMAIN_REMOVE:
		case ADMIN_DKIM_ROTATE:
		case ADMIN_DNS:
		case ADMIN_DKIM:
			CHECK(r.domain != NULL);
			break;
		case ADMIN_USER_ADD:
		case ADMIN_USER_PASSWORD:
			CHECK(r.address != NULL && r.password != NULL);
			break;
		case ADMIN_USER_QUOTA:
			CHECK(r.address != NULL && r.has_quota);
			break;
		case ADMIN_USER_ADMIN:
			CHECK(r.address != NULL && r.has_admin);
			break;
		case ADMIN_USER_DELETE:
		case ADMIN_ALIAS_REMOVE:
			CHECK(r.address != NULL);
			break;
		case ADMIN_ALIAS_ADD:
			CHECK(r.address != NULL && r.ntargets > 0);
			break;
		case ADMIN_QUEUE_RETRY:
		case ADMIN_QUEUE_DELETE:
		case ADMIN_QUEUE_BOUNCE:
			CHECK(r.id != NULL);
			break;
		default:
			break;
		}
	}
	arena_free(&a);
	return 0;
}
