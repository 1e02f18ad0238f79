/* mailauth.c: what the checks share (mailauth.h): the RFC 8601 result words. */
#include "mailauth.h"

#include <assert.h>

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
