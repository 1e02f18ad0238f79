/* test_cli_dns.c: the records of `postamt dns D` (src/postamt/cli_dns_records.c): what
 * is built from the settings and keys, the zone-file lines (TXT split into strings of
 * at most 255 bytes, escapes), and how --check compares a record with an answer. */
#include "cli_dns.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static const struct dns_rec *find(const struct dns_rec *r, size_t n, const char *name, int type)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].name, name) == 0 && r[i].type == type)
			return &r[i];
	return NULL;
}

static void test_build(void **state)
{
	struct arena *a = arena_new();
	const char *sel[] = { "e20261207", "r20261207" };
	const char *txt[] = { "v=DKIM1; k=ed25519; p=AAAA", "v=DKIM1; k=rsa; p=BBBB" };
	struct dns_rec_input in = { .domain = "example.org",
				    .hostname = "mail.example.org",
				    .port_offset = 10000,
				    .dkim_selectors = sel,
				    .dkim_txt = txt,
				    .n_dkim = 2,
				    .mta_sts_mode = "testing",
				    .mta_sts_max_age = 604800 };
	struct dns_rec *r;
	size_t n = dns_records_build(&in, a, &r);
	const struct dns_rec *mx = find(r, n, "example.org", DNS_MX);
	assert_non_null(mx);
	assert_string_equal(mx->target, "mail.example.org");
	const struct dns_rec *spf = find(r, n, "example.org", DNS_TXT);
	assert_string_equal(spf->text, "v=spf1 a:mail.example.org -all");
	assert_null(spf->note);
	assert_string_equal(find(r, n, "r20261207._domainkey.example.org", DNS_TXT)->text, txt[1]);
	assert_non_null(find(r, n, "e20261207._domainkey.example.org", DNS_TXT));
	assert_string_equal(find(r, n, "_dmarc.example.org", DNS_TXT)->text,
			    "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org");
	assert_non_null(find(r, n, "_smtp._tls.example.org", DNS_TXT));
	assert_int_equal(find(r, n, "_submissions._tcp.example.org", DNS_SRV)->port, 10465);
	assert_int_equal(find(r, n, "_pop3._tcp.example.org", DNS_SRV)->port, 10110);
	assert_non_null(find(r, n, "autoconfig.example.org", DNS_CNAME));
	/* MTA-STS: published; the id follows the policy's text (mode, mx, max_age) */
	const struct dns_rec *sts = find(r, n, "_mta-sts.example.org", DNS_TXT);
	assert_false(sts->comment);
	assert_false(find(r, n, "mta-sts.example.org", DNS_CNAME)->comment);
	const char *id_testing = sts->text;
	in.mta_sts_mode = "enforce";
	n = dns_records_build(&in, a, &r);
	assert_string_not_equal(find(r, n, "_mta-sts.example.org", DNS_TXT)->text, id_testing);
	in.mta_sts_mode = "none"; /* switched off: printed commented out */
	n = dns_records_build(&in, a, &r);
	assert_true(find(r, n, "_mta-sts.example.org", DNS_TXT)->comment);
	assert_true(find(r, n, "mta-sts.example.org", DNS_CNAME)->comment);
	in.mta_sts_mode = "testing";
	/* a relay for everything: a note above SPF */
	in.relay = "smtp.relay.example:587";
	n = dns_records_build(&in, a, &r);
	assert_non_null(strstr(find(r, n, "example.org", DNS_TXT)->note, "smtp.relay.example:587"));
	arena_free(&a);
}

static void test_format(void **state)
{
	struct buf out = { 0 };
	struct dns_rec mx = { .name = "example.org", .type = DNS_MX, .pref = 10, .target = "mail.example.org" };
	dns_record_format(&mx, &out);
	assert_string_equal(buf_str(&out), "example.org. 3600 IN MX 10 mail.example.org.\n");
	buf_reset(&out);
	struct dns_rec srv = { .name = "_imaps._tcp.example.org",
			       .type = DNS_SRV,
			       .weight = 1,
			       .port = 993,
			       .target = "mail.example.org" };
	dns_record_format(&srv, &out);
	assert_string_equal(buf_str(&out), "_imaps._tcp.example.org. 3600 IN SRV 0 1 993 mail.example.org.\n");
	buf_reset(&out);
	/* 600 bytes: strings of 255, 255 and 90; quotes and backslashes escaped, a control byte as \DDD */
	char text[601];
	memset(text, 'x', 600);
	text[600] = '\0';
	text[0] = '"';
	text[1] = '\\';
	text[2] = '\t';
	struct dns_rec t = { .name = "k._domainkey.example.org", .type = DNS_TXT, .text = text, .note = "a note" };
	dns_record_format(&t, &out);
	const char *s = buf_str(&out);
	assert_memory_equal(s, "; a note\nk._domainkey.example.org. 3600 IN TXT \"\\\"\\\\\\009xx", 56);
	const char *q1 = strchr(strchr(s, '"'), ' ');
	assert_non_null(q1);
	size_t strings = 0, bytes = 0;
	for (const char *p = strchr(s + 10, '"'); p != NULL && *p == '"';) {
		const char *e = p + 1;
		size_t raw = 0;
		while (*e != '"') {
			if (*e == '\\')
				e += (e[1] >= '0' && e[1] <= '9') ? 3 : 1;
			e++;
			raw++;
		}
		assert_true(raw <= 255);
		bytes += raw;
		strings++;
		p = e[1] == ' ' ? e + 2 : NULL;
	}
	assert_int_equal(strings, 3);
	assert_int_equal(bytes, 600);
	buf_reset(&out);
	struct dns_rec c = {
		.name = "_mta-sts.example.org", .type = DNS_TXT, .text = "v=STSv1; id=1", .comment = true
	};
	dns_record_format(&c, &out);
	assert_string_equal(buf_str(&out), "; _mta-sts.example.org. 3600 IN TXT \"v=STSv1; id=1\"\n");
	buf_free(&out);
}

static enum dns_rec_state cmp_txt(const struct dns_rec *r, const char *const *texts, size_t n, const char **found)
{
	static struct dns_txt t[8];
	for (size_t i = 0; i < n; i++)
		t[i] = (struct dns_txt){ texts[i], strlen(texts[i]) };
	struct dns_answer ans = { .status = n > 0 ? DNS_FOUND : DNS_NONE, .n = n, .txt = t };
	static struct arena *a;
	if (a == NULL)
		a = arena_new();
	return dns_record_compare(r, &ans, a, found);
}

static void test_compare(void **state)
{
	const char *found;
	struct dns_rec spf = {
		.name = "example.org", .type = DNS_TXT, .tag = "v=spf1", .text = "v=spf1 a:mail.example.org -all"
	};
	const char *ok[] = { "google-site-verification=x", "V=SPF1   a:MAIL.example.org  -all " };
	assert_int_equal(cmp_txt(&spf, ok, 2, &found), DNS_REC_OK);
	const char *other[] = { "google-site-verification=x", "v=spf1 mx ~all" };
	assert_int_equal(cmp_txt(&spf, other, 2, &found), DNS_REC_DIFFERENT);
	assert_string_equal(found, "\"v=spf1 mx ~all\"");
	/* v=spf10 is not an SPF record */
	const char *none[] = { "google-site-verification=x", "v=spf10 -all" };
	assert_int_equal(cmp_txt(&spf, none, 2, &found), DNS_REC_MISSING);
	assert_int_equal(cmp_txt(&spf, NULL, 0, &found), DNS_REC_MISSING);
	/* DKIM: blanks inside the key ignored, case kept */
	struct dns_rec dkim = { .name = "s._domainkey.example.org", .type = DNS_TXT, .text = "v=DKIM1; k=rsa; p=AbCd" };
	const char *split[] = { "v=DKIM1;k=rsa; p=Ab Cd" };
	assert_int_equal(cmp_txt(&dkim, split, 1, &found), DNS_REC_OK);
	const char *lower[] = { "v=DKIM1; k=rsa; p=abcd" };
	assert_int_equal(cmp_txt(&dkim, lower, 1, &found), DNS_REC_DIFFERENT);
	/* MX: preference and host */
	struct arena *a = arena_new();
	struct dns_rec mx = { .name = "example.org", .type = DNS_MX, .pref = 10, .target = "mail.example.org" };
	struct dns_mx m[2] = { { 20, "backup.example.org" }, { 10, "Mail.Example.Org" } };
	struct dns_answer ans = { .status = DNS_FOUND, .n = 2, .mx = m };
	assert_int_equal(dns_record_compare(&mx, &ans, a, &found), DNS_REC_OK);
	m[1].pref = 5;
	assert_int_equal(dns_record_compare(&mx, &ans, a, &found), DNS_REC_DIFFERENT);
	/* SRV: port and target (priority and weight are the admin's choice) */
	struct dns_rec srv = {
		.name = "_imaps._tcp.example.org", .type = DNS_SRV, .port = 993, .target = "mail.example.org"
	};
	struct dns_srv sv = { 5, 10, 993, "mail.example.org" };
	ans = (struct dns_answer){ .status = DNS_FOUND, .n = 1, .srv = &sv };
	assert_int_equal(dns_record_compare(&srv, &ans, a, &found), DNS_REC_OK);
	sv.port = 143;
	assert_int_equal(dns_record_compare(&srv, &ans, a, &found), DNS_REC_DIFFERENT);
	assert_string_equal(found, "5 10 143 mail.example.org.");
	/* CNAME */
	struct dns_rec cn = { .name = "autoconfig.example.org", .type = DNS_CNAME, .target = "mail.example.org" };
	const char *names[] = { "elsewhere.example" };
	ans = (struct dns_answer){ .status = DNS_FOUND, .n = 1, .names = names };
	assert_int_equal(dns_record_compare(&cn, &ans, a, &found), DNS_REC_DIFFERENT);
	ans.status = DNS_TEMP;
	assert_int_equal(dns_record_compare(&cn, &ans, a, &found), DNS_REC_MISSING);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
