/* test_sieve_ext.c: the tests of RFC 5228 §5 and of each extension over real
 * messages: address parts and parsing, header decoding, exists, size, envelope,
 * subaddress (with the caller's delimiter), body (RFC 5173), relational and
 * i;ascii-numeric, date/currentdate and index (RFC 5260), regex, duplicate
 * (RFC 7352), spamtest/spamtestplus (RFC 3685), mailboxexists (RFC 5490). Each
 * check runs a script whose "discard" or fileinto shows whether the test held. */
#include "helpers.h"

/* Asserts that test `t` (after `req`) is true (want) or false over msg. */
static void check(const char *req, const char *t, const char *msg, const struct opts *o, bool want)
{
	char *s = req[0] != '\0' ? xasprintf("require [%s]; if %s { discard; }", req, t)
				 : xasprintf("if %s { discard; }", t);
	expect(s, msg, o, want ? "discard\n" : "keep\n");
	free(s);
}

static void core_tests(void **state)
{
	(void)state;
	check("", "address :is \"from\" \"alice@example.org\"", msg_plain, NULL, true);
	check("", "address :is :localpart \"from\" \"ALICE\"", msg_plain, NULL, true);
	check("", "address :is :domain \"to\" \"example.net\"", msg_plain, NULL, true);
	check("", "address :is :domain :comparator \"i;octet\" \"cc\" \"example.com\"", msg_plain, NULL, false);
	check("", "address :contains \"to\" \"carol\"", msg_plain, NULL, true);
	check("", "address :is \"to\" \"Carol, C.\"", msg_plain, NULL, false);
	check("", "header :contains \"subject\" \"meeting\"", msg_plain, NULL, true);
	check("", "header :is \"subject\" \"Grüße aus Berlin\"", msg_mime, NULL, true);
	check("", "header :matches \"subject\" \"Gr??e *\"", msg_mime, NULL, true);
	check("", "header :is \"x-none\" \"\"", msg_plain, NULL, false);
	check("", "exists [\"from\", \"x-priority\"]", msg_plain, NULL, true);
	check("", "exists [\"from\", \"x-none\"]", msg_plain, NULL, false);
	check("", "size :over 100", msg_plain, NULL, true);
	check("", "size :under 100", msg_plain, NULL, false);
	check("", "size :under 1K", msg_plain, NULL, true);
	check("", "not anyof (false, header :is \"x-priority\" \"3\")", msg_plain, NULL, true);
	check("", "allof (true, header :is \"x-priority\" \"2\")", msg_plain, NULL, true);
	/* group syntax and comments in address fields */
	check("", "address :all :is \"to\" \"x@y.z\"", "To: team: x@y.z (X), \"q\" <q@r.s>;\r\n\r\n", NULL, true);
	check("", "address :all :is \"to\" \"q@r.s\"", "To: team: x@y.z (X), \"q\" <q@r.s>;\r\n\r\n", NULL, true);
	/* folded header lines are unfolded */
	check("", "header :is \"subject\" \"a b\"", "Subject: a\r\n b\r\n\r\n", NULL, true);
}

static void envelope_subaddress(void **state)
{
	(void)state;
	check("\"envelope\"", "envelope :is \"from\" \"alice@example.org\"", msg_plain, NULL, true);
	check("\"envelope\"", "envelope :domain \"to\" \"example.com\"", msg_plain, NULL, true);
	check("\"envelope\"", "envelope :localpart \"to\" \"bob+lists\"", msg_plain, NULL, true);
	struct opts null_sender = { .from = "" };
	check("\"envelope\"", "envelope :is \"from\" \"\"", msg_plain, &null_sender, true);
	check("\"envelope\"", "envelope :domain :is \"from\" \"\"", msg_plain, &null_sender, false);
	struct opts auth = { .auth = "bob@example.com" };
	check("\"envelope\"", "envelope :is \"auth\" \"bob@example.com\"", msg_plain, &auth, true);
	check("\"envelope\"", "envelope :is \"auth\" \"bob@example.com\"", msg_plain, NULL, false);
	check("\"envelope\", \"subaddress\"", "envelope :user \"to\" \"bob\"", msg_plain, NULL, true);
	check("\"envelope\", \"subaddress\"", "envelope :detail \"to\" \"lists\"", msg_plain, NULL, true);
	check("\"subaddress\"", "address :detail \"to\" \"lists\"", msg_plain, NULL, true);
	/* no delimiter: :detail does not match anything, :user is the local part */
	check("\"subaddress\"", "address :detail :matches \"cc\" \"*\"", msg_plain, NULL, false);
	check("\"subaddress\"", "address :user \"cc\" \"dave\"", msg_plain, NULL, true);
	/* the caller's delimiter; an empty detail */
	struct opts dash = { .to = "bob-work@example.com", .delim = "-" };
	check("\"envelope\", \"subaddress\"", "envelope :detail \"to\" \"work\"", msg_plain, &dash, true);
	struct opts empty = { .to = "bob+@example.com" };
	check("\"envelope\", \"subaddress\"", "envelope :detail :is \"to\" \"\"", msg_plain, &empty, true);
}

static void body(void **state)
{
	(void)state;
	check("\"body\"", "body :contains \"room 42\"", msg_plain, NULL, true);
	check("\"body\"", "body :text :contains \"Summe \xe2\x82\xac 12\"", msg_mime, NULL, true);
	check("\"body\"", "body :text :contains \"Hallo Welt\"", msg_mime, NULL, true); /* HTML to text */
	check("\"body\"", "body :text :contains \"secret\"", msg_mime, NULL, false);
	check("\"body\"", "body :content \"application\" :contains \"secret bytes\"", msg_mime, NULL, true);
	check("\"body\"", "body :content \"text/html\" :contains \"<b>Welt</b>\"", msg_mime, NULL, true);
	check("\"body\"", "body :content \"text/plain\" :contains \"<b>\"", msg_mime, NULL, false);
	check("\"body\"", "body :raw :contains \"=E2=82=AC\"", msg_mime, NULL, true);
	check("\"body\"", "body :raw :contains \"c2VjcmV0\"", msg_mime, NULL, true);
	struct sieve_limits l;
	sieve_limits_default(&l);
	l.max_body_bytes = 8;
	struct opts o = { .lim = &l };
	check("\"body\"", "body :raw :contains \"Hello\"", msg_plain, &o, true);
	check("\"body\"", "body :raw :contains \"meeting\"", msg_plain, &o, false);
	/* decoded parts too: the first 8 decoded bytes of the base64 part */
	check("\"body\"", "body :content \"application\" :contains \"secret b\"", msg_mime, &o, true);
	check("\"body\"", "body :content \"application\" :contains \"bytes\"", msg_mime, &o, false);
}

static void relational_numeric(void **state)
{
	(void)state;
	const char *r = "\"relational\", \"comparator-i;ascii-numeric\"";
	check(r, "header :value \"lt\" :comparator \"i;ascii-numeric\" \"x-priority\" \"3\"", msg_plain, NULL, true);
	check(r, "header :value \"gt\" :comparator \"i;ascii-numeric\" \"x-priority\" \"10\"", msg_plain, NULL, false);
	check(r, "header :value \"gt\" \"x-priority\" \"10\"", msg_plain, NULL, true); /* casemap: "2" > "10" */
	check(r, "header :count \"eq\" :comparator \"i;ascii-numeric\" \"received\" \"2\"", msg_plain, NULL, true);
	check(r, "address :count \"ge\" :comparator \"i;ascii-numeric\" [\"to\", \"cc\"] \"3\"", msg_plain, NULL, true);
	check(r, "header :count \"eq\" :comparator \"i;ascii-numeric\" \"x-none\" \"0\"", msg_plain, NULL, true);
	/* a non-number is positive infinity; :is under i;ascii-numeric compares values */
	check(r, "header :value \"gt\" :comparator \"i;ascii-numeric\" \"subject\" \"99999\"", msg_plain, NULL, true);
	check(r, "header :is :comparator \"i;ascii-numeric\" \"x-priority\" \"002\"", msg_plain, NULL, true);
	check(r, "header :value \"ne\" \"subject\" \"x\"", msg_plain, NULL, true);
}

static void date_index(void **state)
{
	(void)state;
	const char *r = "\"date\", \"index\", \"relational\"";
	struct opts utc = { .tz = 0 };
	check(r, "date :zone \"+0000\" \"date\" \"hour\" \"08\"", msg_plain, &utc, true);
	check(r, "date :originalzone \"date\" \"iso8601\" \"2026-12-07T09:30:15+01:00\"", msg_plain, NULL, true);
	check(r, "date :originalzone \"date\" \"std11\" \"Mon, 07 Dec 2026 09:30:15 +0100\"", msg_plain, NULL, true);
	check(r, "date \"date\" \"weekday\" \"1\"", msg_plain, &utc, true);
	check(r, "date \"date\" \"julian\" \"61381\"", msg_plain, &utc, true);
	check(r, "date :zone \"-0800\" \"date\" \"date\" \"2026-12-07\"", msg_plain, NULL, true);
	check(r, "date :zone \"-1000\" \"date\" \"date\" \"2026-12-06\"", msg_plain, NULL, true);
	/* received: the date after the last ';', :index counts fields */
	check(r, "date :index 1 :originalzone \"received\" \"zone\" \"-0500\"", msg_plain, NULL, true);
	check(r, "date :index 1 :last :originalzone \"received\" \"zone\" \"+0000\"", msg_plain, NULL, true);
	check(r, "header :index 2 \"received\" \"from c by d; Sat, 05 Dec 2026 12:00:00 +0000\"", msg_plain, NULL,
	      true);
	check(r, "header :index 3 :matches \"received\" \"*\"", msg_plain, NULL, false);
	check(r, "currentdate :zone \"+0000\" \"date\" \"2026-12-07\"", msg_plain, NULL, true);
	check(r, "currentdate :zone \"+0000\" \"time\" \"10:20:00\"", msg_plain, NULL, true);
	struct opts tz = { .tz = 60 };
	check(r, "currentdate \"hour\" \"11\"", msg_plain, &tz, true);
	check(r, "currentdate :value \"ge\" \"year\" \"2026\"", msg_plain, NULL, true);
	/* no Date field, or one that does not parse: false */
	check(r, "date :matches \"date\" \"year\" \"*\"", "Date: yesterday\r\n\r\n", NULL, false);
}

static void regex(void **state)
{
	(void)state;
	check("\"regex\"", "header :regex \"subject\" \"^\\\\[dev\\\\] M.*[0-9]+$\"", msg_plain, NULL, true);
	check("\"regex\"", "header :regex \"subject\" \"^meeting\"", msg_plain, NULL, false);
	check("\"regex\"", "header :regex :comparator \"i;octet\" \"subject\" \"MEETING\"", msg_plain, NULL, false);
	check("\"regex\"", "address :regex :domain \"from\" \"^example\\\\.(org|net)$\"", msg_plain, NULL, true);
	expect("require [\"regex\", \"variables\", \"fileinto\"];"
	       "if header :regex \"subject\" \"\\\\[([a-z]+)\\\\] (.*) at ([0-9]+)\" { fileinto \"${1}-${3}-${2}\"; }",
	       msg_plain, NULL, "fileinto \"dev-10-Meeting\"\n");
	/* bounded repetitions within the budget are fine; beyond it, at run time too */
	check("\"regex\"", "header :regex \"subject\" \"^(.{1,5}){1,20}$\"", msg_plain, NULL, true);
	expect("require [\"regex\", \"variables\"]; set \"n\" \"200\";"
	       "if header :regex \"subject\" \"(x{${n}}){${n}}\" { discard; }",
	       msg_plain, NULL,
	       "ERROR: line 1: regular expression \"(x{200}){200}\": too complex (its repetitions expand to more "
	       "than 10000 elements)");
	/* a pattern built at run time that does not compile: a run error */
	expect("require [\"regex\", \"variables\"]; set \"p\" \"(\"; if header :regex \"subject\" \"${p}\" { discard; }",
	       msg_plain, NULL, "ERROR: line 1: invalid regular expression \"(\"");
}

static void duplicate(void **state)
{
	(void)state;
	expect("require \"duplicate\"; if duplicate { discard; }", msg_plain, NULL,
	       "keep\ndup  <m1@example.org> 43200\n");
	struct opts seen = { .seen_id = "<m1@example.org>" };
	expect("require \"duplicate\"; if duplicate { discard; }", msg_plain, &seen,
	       "discard\ndup  <m1@example.org> 43200\n");
	expect("require [\"duplicate\", \"variables\"]; if header :matches \"subject\" \"*\" {"
	       " if duplicate :handle \"subj\" :uniqueid \"${1}\" :seconds 60 :last { discard; } }",
	       msg_plain, NULL, "keep\ndup subj [dev] Meeting at 10 60 last\n");
	expect("require \"duplicate\"; if duplicate :header \"x-priority\" { discard; }", msg_plain, NULL,
	       "keep\ndup  2 43200\n");
	/* no such header: false, nothing recorded */
	expect("require \"duplicate\"; if duplicate :header \"x-none\" { discard; }", msg_plain, NULL, "keep\n");
	compile_err("require \"duplicate\"; if duplicate :header \"a\" :uniqueid \"b\" { discard; }", NULL,
		    "line 1: duplicate: :uniqueid conflicts with an earlier tag");
}

static void spamtest(void **state)
{
	(void)state;
	const char *r = "\"spamtest\", \"relational\", \"comparator-i;ascii-numeric\"";
	const char *rp = "\"spamtestplus\", \"relational\", \"comparator-i;ascii-numeric\"";
	struct opts none = { 0 }, high = { .set_spam = true, .spam = 95 }, low = { .set_spam = true, .spam = 0 };
	check(r, "spamtest :is \"0\"", msg_plain, &none, true);
	check(r, "spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"9\"", msg_plain, &high, true);
	check(r, "spamtest :is \"9\"", msg_plain, &high, true); /* 1 + 95 * 9 / 100 */
	check(r, "spamtest :is \"1\"", msg_plain, &low, true);
	check(rp, "spamtest :percent :value \"gt\" :comparator \"i;ascii-numeric\" \"90\"", msg_plain, &high, true);
	check(rp, "spamtest :percent :is \"0\"", msg_plain, &low, true);
}

static void mailboxexists(void **state)
{
	(void)state;
	struct opts o = { .mailboxes = "Spam Work/Projects" };
	check("\"mailbox\"", "mailboxexists \"INBOX\"", msg_plain, &o, true);
	check("\"mailbox\"", "mailboxexists [\"Spam\", \"Work/Projects\"]", msg_plain, &o, true);
	check("\"mailbox\"", "mailboxexists [\"Spam\", \"Nope\"]", msg_plain, &o, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(core_tests),    cmocka_unit_test(envelope_subaddress),
		cmocka_unit_test(body),          cmocka_unit_test(relational_numeric),
		cmocka_unit_test(date_index),    cmocka_unit_test(regex),
		cmocka_unit_test(duplicate),     cmocka_unit_test(spamtest),
		cmocka_unit_test(mailboxexists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
