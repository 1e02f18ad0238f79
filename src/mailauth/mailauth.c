/* mailauth.c: what the checks share (mailauth.h): the RFC 8601 result words. */
#include "mailauth.h"

#include <assert.h>
#include <string.h>

const char *mailauth_txt_copy(struct arena *a, const char *data, size_t len)
{
	char *s = arena_strndup(a, data, len);
	for (char *p = memchr(s, '\0', len); p != NULL; p = memchr(p, '\0', len - (size_t)(p - s)))
		*p = 0x7f;
	return s;
}

const char *mailauth_result_name(enum mailauth_result r)
{
	static const char *const names[] = {
		[MAILAUTH_NONE] = "none",           [MAILAUTH_PASS] = "pass",
		[MAILAUTH_FAIL] = "fail",           [MAILAUTH_SOFTFAIL] = "softfail",
		[MAILAUTH_NEUTRAL] = "neutral",     [MAILAUTH_POLICY] = "policy",
		[MAILAUTH_TEMPERROR] = "temperror", [MAILAUTH_PERMERROR] = "permerror",
	};
	assert((unsigned)r < sizeof(names) / sizeof(names[0]));
	return names[r];
}
