/* test_sieve_reply.c: the pure parts of Sieve delivery (src/postamt/sieve_reply.c):
 * when an automatic reply may go out (RFC 3834, RFC 5230), the vacation reply's
 * header, the rejection notice, the JMAP vacation fragment, SRS, the loop header and
 * spamtest's percent. */
#include "sieve_reply.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

static const char ORIG[] = "From: Bob <bob@b.test>\r\nTo: Ann <ann@example.test>\r\nSubject: Lunch?\r\n"
			   "Message-ID: <m1@b.test>\r\n\r\nHi.\r\n";

static void allowed_rules(void **state)
{
	const char *why;
	assert_true(sieve_reply_allowed("bob@b.test", ORIG, sizeof(ORIG) - 1, &why));
	assert_false(sieve_reply_allowed("", ORIG, sizeof(ORIG) - 1, &why));
	assert_string_equal(why, "null_sender");
	assert_false(sieve_reply_allowed("MAILER-DAEMON@b.test", ORIG, sizeof(ORIG) - 1, &why));
	assert_false(sieve_reply_allowed("owner-list@b.test", ORIG, sizeof(ORIG) - 1, &why));
	assert_false(sieve_reply_allowed("list-request@b.test", ORIG, sizeof(ORIG) - 1, &why));
	static const char auto_gen[] = "Auto-Submitted: auto-generated\r\nSubject: x\r\n\r\nbody\r\n";
	assert_false(sieve_reply_allowed("bob@b.test", auto_gen, sizeof(auto_gen) - 1, &why));
	assert_string_equal(why, "auto_submitted");
	static const char auto_no[] = "Auto-Submitted: no\r\nSubject: x\r\n\r\nList-Id: in the body\r\n";
	assert_true(sieve_reply_allowed("bob@b.test", auto_no, sizeof(auto_no) - 1, &why));
	static const char bulk[] = "Precedence: Bulk\r\n\r\n";
	assert_false(sieve_reply_allowed("bob@b.test", bulk, sizeof(bulk) - 1, &why));
	assert_string_equal(why, "precedence");
	static const char list[] = "Subject: x\r\nList-Unsubscribe:\r\n <mailto:u@b.test>\r\n\r\n";
	assert_false(sieve_reply_allowed("bob@b.test", list, sizeof(list) - 1, &why));
	assert_string_equal(why, "list");
}

static void addressed(void **state)
{
	struct arena *a = arena_new();
	const char *me[] = { "ANN@example.test" };
	const char *other[] = { "zed@example.test" };
	assert_true(sieve_reply_addressed(a, ORIG, sizeof(ORIG) - 1, me, 1));
	assert_false(sieve_reply_addressed(a, ORIG, sizeof(ORIG) - 1, other, 1));
	arena_free(&a);
}

static void vacation_reply(void **state)
{
	struct arena *a = arena_new();
	struct buf out = { 0 };
	struct sieve_vacation_reply r = { .from = "ann@example.test",
					  .to = "bob@b.test",
					  .body = "Away.\nBack Monday.",
					  .hostname = "mail.example.test",
					  .now = 1700000000 };
	sieve_reply_vacation(&out, a, &r, ORIG, sizeof(ORIG) - 1);
	const char *s = buf_str(&out);
	assert_non_null(strstr(s, "Subject: Auto: Lunch?\r\n"));
	assert_non_null(strstr(s, "Auto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(s, "In-Reply-To: <m1@b.test>\r\n"));
	assert_non_null(strstr(s, "References: <m1@b.test>\r\n"));
	assert_non_null(strstr(s, "To: <bob@b.test>\r\n"));
	assert_non_null(strstr(s, "\r\n\r\nAway.\r\nBack Monday.\r\n"));
	buf_free(&out);
	r.subject = "Weg \xc3\xbc";
	r.from = "Ann <ann@example.test>";
	sieve_reply_vacation(&out, a, &r, ORIG, sizeof(ORIG) - 1);
	s = buf_str(&out);
	assert_non_null(strstr(s, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(s, "From: Ann <ann@example.test>\r\n"));
	buf_free(&out);
	arena_free(&a);
}

static void reject_notice(void **state)
{
	struct arena *a = arena_new();
	struct buf out = { 0 };
	sieve_reply_reject(&out, a, "ann@example.test", "bob@b.test", "Not wanted.", "mail.example.test", 1700000000,
			   ORIG, sizeof(ORIG) - 1);
	const char *s = buf_str(&out);
	assert_non_null(strstr(s, "report-type=disposition-notification"));
	assert_non_null(strstr(s, "Disposition: automatic-action/MDN-sent-automatically; deleted\r\n"));
	assert_non_null(strstr(s, "Original-Message-ID: <m1@b.test>\r\n"));
	assert_non_null(strstr(s, "Not wanted."));
	assert_null(strstr(s, "Hi.")); /* the header only, never the body */
	buf_free(&out);
	arena_free(&a);
}

static void vacation_script(void **state)
{
	struct buf out = { 0 };
	sieve_reply_vacation_script(&out, "Say \"hi\"", "I am away.", NULL, 604800);
	assert_string_equal(buf_str(&out), "require [\"vacation\", \"vacation-seconds\"];\r\n"
					   "vacation :seconds 604800 :subject \"Say \\\"hi\\\"\" \"I am away.\";\r\n");
	buf_reset(&out);
	sieve_reply_vacation_script(&out, NULL, "text", "<p>html</p>", 86400);
	assert_non_null(strstr(buf_str(&out), ":mime"));
	assert_non_null(strstr(buf_str(&out), "multipart/alternative"));
	assert_non_null(strstr(buf_str(&out), "<p>html</p>"));
	buf_free(&out);
}

static void srs(void **state)
{
	struct arena *a = arena_new();
	const char *out, *out2;
	assert_int_equal(sieve_reply_srs(a, "secretsecretsecret", 18, "joe@far.test", "example.test", 86400 * 5, &out),
			 1);
	assert_int_equal(strncmp(out, "SRS0=", 5), 0);
	assert_non_null(strstr(out, "=af=far.test=joe@example.test"));
	assert_int_equal(strlen(out), strlen("SRS0=xxxx=af=far.test=joe@example.test"));
	sieve_reply_srs(a, "othersecretother", 16, "joe@far.test", "example.test", 86400 * 5, &out2);
	assert_string_not_equal(out, out2); /* keyed */
	assert_int_equal(sieve_reply_srs(a, "secretsecretsecret", 18, "nodomain", "example.test", 0, &out), 0);
	/* back: the original sender, also when a hop changed the case; never forged or expired */
	const char *orig;
	sieve_reply_srs(a, "secretsecretsecret", 18, "Joe=X@far.test", "example.test", 86400 * 1030, &out);
	assert_int_equal(sieve_reply_srs_reverse(a, "secretsecretsecret", 18, out, 86400 * 1040, &orig), 1);
	assert_string_equal(orig, "Joe=X@far.test");
	char *upper = arena_strdup(a, out);
	for (char *q = upper; *q != '\0'; q++)
		*q = (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
	assert_int_equal(sieve_reply_srs_reverse(a, "secretsecretsecret", 18, upper, 86400 * 1040, &orig), 1);
	assert_int_equal(sieve_reply_srs_reverse(a, "othersecretother", 16, out, 86400 * 1040, &orig), 0);
	assert_int_equal(sieve_reply_srs_reverse(a, "secretsecretsecret", 18, out, 86400 * 1060, &orig), 0);
	assert_int_equal(sieve_reply_srs_reverse(a, "secretsecretsecret", 18, "SRS0=abcd@example.test", 0, &orig), 0);
	assert_int_equal(sieve_reply_srs_reverse(a, "secretsecretsecret", 18, "joe@example.test", 0, &orig), 0);
	arena_free(&a);
}

static void hops_and_spam(void **state)
{
	static const char h[] =
		"X-Postamt-Sieve-Redirect: ann@example.test\r\nx-postamt-sieve-redirect:  zed@b.test \r\n"
		"X-Postamt-Junk: spam; score=0.987; tokens=40\r\n\r\nX-Postamt-Sieve-Redirect: body\r\n";
	bool seen;
	assert_int_equal(sieve_reply_hops(h, sizeof(h) - 1, "ZED@b.test", &seen), 2);
	assert_true(seen);
	assert_int_equal(sieve_reply_hops(h, sizeof(h) - 1, "bob@b.test", &seen), 2);
	assert_false(seen);
	assert_int_equal(sieve_reply_spam_percent(h, sizeof(h) - 1, "X-Postamt-Junk"), 99);
	assert_int_equal(sieve_reply_spam_percent(ORIG, sizeof(ORIG) - 1, "X-Postamt-Junk"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allowed_rules), cmocka_unit_test(addressed),       cmocka_unit_test(vacation_reply),
		cmocka_unit_test(reject_notice), cmocka_unit_test(vacation_script), cmocka_unit_test(srs),
		cmocka_unit_test(hops_and_spam),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
