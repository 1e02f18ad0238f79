/* test_psl.c: organizational domains from the embedded public suffix list (psl.h),
 * with the cases of publicsuffix.org's own test list (tests/test_psl.txt):
 * normal, wildcard and exception rules, private-section rules, IDN in UTF-8 and as
 * A-labels, mixed case. "NULL" there (the name is a public suffix) is the name
 * itself here. */
#include "psl.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

struct psl_case {
	const char *name, *org; /* org NULL: the name is a public suffix */
};

static const struct psl_case cases[] = {
	{ "com", NULL },
	{ "example.com", "example.com" },
	{ "b.example.com", "example.com" },
	{ "a.b.example.com", "example.com" },
	{ "uk.com", NULL }, /* private section */
	{ "example.uk.com", "example.uk.com" },
	{ "b.example.uk.com", "example.uk.com" },
	{ "test.ac", "test.ac" },
	{ "mm", NULL },
	{ "c.mm", NULL }, /* *.mm */
	{ "b.c.mm", "b.c.mm" },
	{ "a.b.c.mm", "b.c.mm" },
	{ "jp", NULL },
	{ "test.jp", "test.jp" },
	{ "www.test.jp", "test.jp" },
	{ "ac.jp", NULL },
	{ "test.ac.jp", "test.ac.jp" },
	{ "www.test.ac.jp", "test.ac.jp" },
	{ "kyoto.jp", NULL },
	{ "test.kyoto.jp", "test.kyoto.jp" },
	{ "ide.kyoto.jp", NULL },
	{ "b.ide.kyoto.jp", "b.ide.kyoto.jp" },
	{ "a.b.ide.kyoto.jp", "b.ide.kyoto.jp" },
	{ "c.kobe.jp", NULL }, /* *.kobe.jp */
	{ "b.c.kobe.jp", "b.c.kobe.jp" },
	{ "a.b.c.kobe.jp", "b.c.kobe.jp" },
	{ "city.kobe.jp", "city.kobe.jp" }, /* !city.kobe.jp */
	{ "www.city.kobe.jp", "city.kobe.jp" },
	{ "ck", NULL },
	{ "test.ck", NULL },
	{ "b.test.ck", "b.test.ck" },
	{ "a.b.test.ck", "b.test.ck" },
	{ "www.ck", "www.ck" }, /* !www.ck */
	{ "www.www.ck", "www.ck" },
	{ "us", NULL },
	{ "test.us", "test.us" },
	{ "www.test.us", "test.us" },
	{ "ak.us", NULL },
	{ "test.ak.us", "test.ak.us" },
	{ "www.test.ak.us", "test.ak.us" },
	{ "k12.ak.us", NULL },
	{ "test.k12.ak.us", "test.k12.ak.us" },
	{ "www.test.k12.ak.us", "test.k12.ak.us" },
	{ "\xe9\xa3\x9f\xe7\x8b\xae.com.cn", "\xe9\xa3\x9f\xe7\x8b\xae.com.cn" },
	{ "\xe9\xa3\x9f\xe7\x8b\xae.\xe5\x85\xac\xe5\x8f\xb8.cn",
	  "\xe9\xa3\x9f\xe7\x8b\xae.\xe5\x85\xac\xe5\x8f\xb8.cn" },
	{ "www.\xe9\xa3\x9f\xe7\x8b\xae.\xe5\x85\xac\xe5\x8f\xb8.cn",
	  "\xe9\xa3\x9f\xe7\x8b\xae.\xe5\x85\xac\xe5\x8f\xb8.cn" },
	{ "\xe5\x85\xac\xe5\x8f\xb8.cn", NULL },
	{ "xn--85x722f.com.cn", "xn--85x722f.com.cn" },
	{ "xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn" },
	{ "www.xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn" },
	{ "shishi.xn--55qx5d.cn", "shishi.xn--55qx5d.cn" },
	{ "xn--55qx5d.cn", NULL },
	{ "COM", NULL },
	{ "example.COM", "example.COM" },
	{ "WwW.Example.COM", "Example.COM" },
	{ "example", NULL }, /* an unlisted TLD: the rule "*" */
	{ "example.example", "example.example" },
	{ "b.example.example", "example.example" },
	{ "mail.example.co.uk", "example.co.uk" },
	{ "foo.blogspot.com", "foo.blogspot.com" }, /* private section */
};

static void org_domains(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *want = cases[i].org ? cases[i].org : cases[i].name;
		const char *got = psl_org_domain(cases[i].name);
		if (strcmp(got, want) != 0)
			fail_msg("%s: got %s, want %s", cases[i].name, got, want);
		/* a suffix of the name, never a copy */
		assert_ptr_equal(got, cases[i].name + strlen(cases[i].name) - strlen(got));
	}
}

static void suffix_labels(void **state)
{
	(void)state;
	assert_int_equal(psl_suffix_labels("example.com"), 1);
	assert_int_equal(psl_suffix_labels("a.example.co.uk"), 2);
	assert_int_equal(psl_suffix_labels("a.b.c.kobe.jp"), 3);
	assert_int_equal(psl_suffix_labels("www.city.kobe.jp"), 2);
	assert_int_equal(psl_suffix_labels(""), 0);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(psl_suffix_labels(longname), 0);
	assert_string_equal(psl_org_domain(""), "");
	assert_ptr_equal(psl_org_domain(longname), longname);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(org_domains),
		cmocka_unit_test(suffix_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
