/* test_spf_suite.c: the openspf.org RFC 7208 test suite against spf_check().
 *
 * spf_suite.h is generated from the suite's YAML by spf_suite.py (every case, with
 * its zone). Each RFC 7208 case runs against a table-backed struct mailauth_dns
 * (spf_zone.h) and must give one of the results the suite accepts, and the
 * explanation when the suite names one (its driver sets the default explanation to
 * "DEFAULT", which here is "no exp= text"). With --dump the program instead prints
 * "suite<TAB>case<TAB>result<TAB>explanation" for every case of both suites, for the
 * cross-check against python3-spf (spf_oracle.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "arena.h"
#include "spf.h"
#include "spf_zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct suite_case {
	const char *suite;
	const char *scenario;
	const char *name;
	const char *spec;
	const char *helo;
	const char *host;
	const char *mailfrom;
	const char *results[4];
	const char *explanation;
	size_t first, n;
};

#include "spf_suite.h"

#define N_CASES (sizeof(suite_cases) / sizeof(suite_cases[0]))

static void run_case(const struct suite_case *c, struct arena *a, struct spf_verdict *v)
{
	struct zone z = { .rrs = suite_rrs + c->first, .n = c->n };
	struct mailauth_dns dns = zone_dns(&z);
	struct spf_request req = {
		.mail_from = c->mailfrom,
		.helo = c->helo,
		.receiver = "receiver.example",
		.now = 1700000000,
	};
	assert_true(zone_parse_ip(c->host, &req.ip));
	assert_int_equal(spf_check(&dns, &req, a, v), 1);
}

static void rfc7208_suite(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	unsigned total = 0, ok = 0, preferred = 0;
	for (size_t i = 0; i < N_CASES; i++) {
		const struct suite_case *c = &suite_cases[i];
		if (strcmp(c->suite, "rfc7208") != 0)
			continue;
		struct spf_verdict v;
		arena_clear(a);
		run_case(c, a, &v);
		total++;
		const char *got = mailauth_result_name(v.result);
		bool accepted = false;
		for (size_t k = 0; k < 4 && c->results[k] != NULL; k++) {
			if (strcmp(c->results[k], got) == 0) {
				accepted = true;
				preferred += k == 0;
			}
		}
		const char *exp = v.explanation != NULL ? v.explanation : "DEFAULT";
		bool exp_ok = c->explanation == NULL || strcmp(c->explanation, exp) == 0;
		if (accepted && exp_ok) {
			ok++;
			continue;
		}
		fprintf(stderr, "FAIL %s (%s, §%s): got %s [%s] (%s), want %s%s%s\n", c->name, c->scenario, c->spec,
			got, exp, v.problem, c->results[0], c->explanation != NULL ? " exp=" : "",
			c->explanation != NULL ? c->explanation : "");
	}
	fprintf(stderr, "rfc7208 suite: %u/%u cases accepted (%u with the preferred result)\n", ok, total,
		preferred);
	arena_free(&a);
	assert_int_equal(total, 203);
	assert_int_equal(ok, total);
}

static int dump(void)
{
	struct arena *a = arena_new();
	for (size_t i = 0; i < N_CASES; i++) {
		const struct suite_case *c = &suite_cases[i];
		struct spf_verdict v;
		arena_clear(a);
		struct zone z = { .rrs = suite_rrs + c->first, .n = c->n };
		struct mailauth_dns dns = zone_dns(&z);
		struct spf_request req = { .mail_from = c->mailfrom, .helo = c->helo, .receiver = "receiver.example" };
		if (!zone_parse_ip(c->host, &req.ip)) {
			printf("%s\t%s\tbad-host\t\n", c->suite, c->name);
			continue;
		}
		spf_check(&dns, &req, a, &v);
		printf("%s\t%s\t%s\t%s\n", c->suite, c->name, mailauth_result_name(v.result),
		       v.explanation != NULL ? v.explanation : "DEFAULT");
	}
	arena_free(&a);
	return 0;
}

/* --stdin: zones and cases from tab-separated lines, for differential tests
 * (spf_diff.py): "rr NAME TYPE PREF DATA" adds a record, "case ID HOST MAILFROM HELO"
 * checks against the records so far and prints "ID<TAB>result<TAB>explanation",
 * "reset" forgets the records. Data may not hold a tab or a newline. */
static int from_stdin(void)
{
	struct arena *a = arena_new(), *zone_a = arena_new();
	size_t cap = 256, n = 0;
	struct suite_rr *rrs = malloc(cap * sizeof(*rrs));
	char line[8192];
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *f[6] = { 0 };
		size_t nf = 0;
		for (char *p = line; nf < 6; nf++) {
			f[nf] = p;
			char *tab = strchr(p, '\t');
			if (tab == NULL) {
				nf++;
				break;
			}
			*tab = '\0';
			p = tab + 1;
		}
		if (strcmp(f[0], "reset") == 0) {
			n = 0;
			arena_clear(zone_a);
		} else if (strcmp(f[0], "rr") == 0 && nf == 5) {
			if (n == cap)
				rrs = realloc(rrs, (cap *= 2) * sizeof(*rrs));
			rrs[n++] = (struct suite_rr){ arena_strdup(zone_a, f[1]), arena_strdup(zone_a, f[2]),
						      arena_strdup(zone_a, f[4]), strlen(f[4]), atoi(f[3]) };
		} else if (strcmp(f[0], "case") == 0 && nf == 5) {
			struct zone z = { .rrs = rrs, .n = n };
			struct mailauth_dns dns = zone_dns(&z);
			struct spf_request req = { .mail_from = f[3], .helo = f[4], .receiver = "receiver.example" };
			struct spf_verdict v;
			arena_clear(a);
			if (!zone_parse_ip(f[2], &req.ip)) {
				printf("%s\tbad-host\t\n", f[1]);
				continue;
			}
			spf_check(&dns, &req, a, &v);
			printf("%s\t%s\t%s\n", f[1], mailauth_result_name(v.result),
			       v.explanation != NULL ? v.explanation : "DEFAULT");
		}
		fflush(stdout);
	}
	free(rrs);
	arena_free(&a);
	arena_free(&zone_a);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--dump") == 0)
		return dump();
	if (argc > 1 && strcmp(argv[1], "--stdin") == 0)
		return from_stdin();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc7208_suite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
