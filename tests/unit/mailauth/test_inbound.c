/* test_inbound.c: the inbound policy table (inbound.h, mailauth_decide): every row
 * for a remote and a local From: domain, with and without a temporary error that
 * may hide a pass. */
#include "inbound.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

struct row {
	enum mailauth_result dmarc;
	enum dmarc_policy disposition;
	bool local, aligned, temp;
	enum mailauth_action want;
};

#define N DMARC_POLICY_NONE
#define Q DMARC_POLICY_QUARANTINE
#define R DMARC_POLICY_REJECT

static const struct row rows[] = {
	/* remote From: domains: the disposition of a DMARC fail */
	{ MAILAUTH_PASS, N, false, true, false, MAILAUTH_ACCEPT },
	{ MAILAUTH_FAIL, R, false, false, false, MAILAUTH_REJECT },
	{ MAILAUTH_FAIL, R, false, false, true, MAILAUTH_DEFER },
	{ MAILAUTH_FAIL, Q, false, false, false, MAILAUTH_JUNK },
	{ MAILAUTH_FAIL, Q, false, false, true, MAILAUTH_JUNK },
	{ MAILAUTH_FAIL, N, false, false, false, MAILAUTH_ACCEPT },
	{ MAILAUTH_NONE, N, false, false, false, MAILAUTH_ACCEPT },
	{ MAILAUTH_TEMPERROR, N, false, false, true, MAILAUTH_ACCEPT }, /* the policy is unknown */
	{ MAILAUTH_PERMERROR, N, false, false, false, MAILAUTH_ACCEPT },
	/* local From: domains: must align, whatever the record says */
	{ MAILAUTH_PASS, N, true, true, false, MAILAUTH_ACCEPT },
	{ MAILAUTH_FAIL, N, true, false, false, MAILAUTH_REJECT }, /* our p=none is read as reject */
	{ MAILAUTH_FAIL, Q, true, false, false, MAILAUTH_REJECT },
	{ MAILAUTH_FAIL, R, true, false, true, MAILAUTH_DEFER },
	{ MAILAUTH_NONE, N, true, false, false, MAILAUTH_REJECT }, /* no record published */
	{ MAILAUTH_NONE, N, true, true, false, MAILAUTH_ACCEPT },
	{ MAILAUTH_NONE, N, true, false, true, MAILAUTH_DEFER },
	{ MAILAUTH_TEMPERROR, N, true, false, false, MAILAUTH_DEFER },
	{ MAILAUTH_TEMPERROR, N, true, true, false, MAILAUTH_ACCEPT },
	{ MAILAUTH_PERMERROR, N, true, false, false, MAILAUTH_REJECT },
};

static void policy_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct mailauth_facts f = { r->dmarc, r->disposition, r->local, r->aligned, r->temp };
		const char *why = NULL;
		enum mailauth_action a = mailauth_decide(&f, &why);
		if (a != r->want)
			fail_msg("row %zu: got %d, want %d", i, a, r->want);
		assert_non_null(why);
		if (a != MAILAUTH_ACCEPT)
			assert_true(why[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
