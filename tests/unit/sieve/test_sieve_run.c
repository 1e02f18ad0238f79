/* test_sieve_run.c: the evaluator's core: the actions of RFC 5228 §4 and their
 * interplay with the implicit keep, fileinto/:copy/:create/:flags, imap4flags'
 * internal variable, reject/ereject conflicts (RFC 5429), vacation (RFC 5230,
 * 6131), variables (RFC 5229), include (RFC 6609), and every run-time limit of
 * struct sieve_limits (an error, never a crash). */
#include "helpers.h"

static void core_actions(void **state)
{
	(void)state;
	expect("", msg_plain, NULL, "keep\n");
	expect("keep;", msg_plain, NULL, "keep\n");
	expect("discard;", msg_plain, NULL, "discard\n");
	expect("discard; keep;", msg_plain, NULL, "discard\nkeep\n");
	expect("stop; discard;", msg_plain, NULL, "keep\n");
	expect("if false { discard; } elsif true { stop; } else { discard; } discard;", msg_plain, NULL, "keep\n");
	expect("if true { } else { discard; }", msg_plain, NULL, "keep\n");
	expect("if false { } elsif false { } else { discard; }", msg_plain, NULL, "discard\n");
	expect("redirect \"carol@example.net\";", msg_plain, NULL, "redirect \"carol@example.net\"\n");
	/* the same target twice is one action */
	expect("redirect \"c@example.net\"; redirect \"c@EXAMPLE.net\";", msg_plain, NULL,
	       "redirect \"c@example.net\"\n");
	/* local parts are case-sensitive */
	expect("redirect \"c@example.net\"; redirect \"C@example.net\";", msg_plain, NULL,
	       "redirect \"c@example.net\"\nredirect \"C@example.net\"\n");
	expect("redirect \"not an address\";", msg_plain, NULL,
	       "ERROR: line 1: redirect: invalid address \"not an address\"");
}

static void fileinto_copy_flags(void **state)
{
	(void)state;
	const char *req = "require [\"fileinto\", \"copy\", \"mailbox\", \"imap4flags\"];\n";
	char *s;
	s = xasprintf("%sfileinto \"Work\";", req);
	expect(s, msg_plain, NULL, "fileinto \"Work\"\n");
	free(s);
	s = xasprintf("%sfileinto :copy \"Work\";", req);
	expect(s, msg_plain, NULL, "fileinto \"Work\" copy\nkeep\n");
	free(s);
	s = xasprintf("%sfileinto :create \"New/Box\"; fileinto \"INBOX\";", req);
	expect(s, msg_plain, NULL, "fileinto \"New/Box\" create\nfileinto \"INBOX\"\n");
	free(s);
	/* an empty name or control characters (possible through variables) */
	expect("require [\"fileinto\", \"variables\"]; fileinto \"${none}\";", msg_plain, NULL,
	       "ERROR: line 1: fileinto: invalid mailbox name \"\"");
	expect("require [\"fileinto\", \"encoded-character\"]; fileinto \"a${hex:0a}b\";", msg_plain, NULL,
	       "ERROR: line 1: fileinto: invalid mailbox name \"a\nb\"");
	/* the same mailbox twice: one action, the last flags */
	s = xasprintf("%sfileinto :flags \"\\\\Seen\" \"W\"; fileinto :flags [\"$a\", \"\\\\seen\"] \"W\";", req);
	expect(s, msg_plain, NULL, "fileinto \"W\" flags: $a \\seen\n");
	free(s);
	/* the internal variable: addflag/removeflag/setflag, used by fileinto and the implicit keep */
	s = xasprintf("%saddflag [\"\\\\Flagged\", \"$x $y\"]; removeflag \"$X\"; fileinto :copy \"A\";"
		      "setflag \"\\\\Answered\";",
		      req);
	expect(s, msg_plain, NULL, "fileinto \"A\" copy flags: \\Flagged $y\nkeep flags: \\Answered\n");
	free(s);
	/* :flags replaces the internal variable for that action only */
	s = xasprintf("%saddflag \"$i\"; fileinto :flags \"$own\" \"B\"; keep;", req);
	expect(s, msg_plain, NULL, "fileinto \"B\" flags: $own\nkeep flags: $i\n");
	free(s);
	/* a variable instead of the internal one */
	s = "require [\"imap4flags\", \"variables\"]; addflag \"v\" [\"a\", \"b\"]; removeflag \"v\" \"A\";"
	    "if hasflag :is \"v\" \"b\" { addflag \"got\"; } if hasflag \"a\" { addflag \"bad\"; }";
	expect(s, msg_plain, NULL, "keep flags: got\n");
	expect("require \"imap4flags\"; addflag \"x\"; if hasflag :contains \"x\" { discard; }", msg_plain, NULL,
	       "discard\n");
}

static void reject_ereject(void **state)
{
	(void)state;
	expect("require \"reject\"; reject \"go away\";", msg_plain, NULL, "reject \"go away\"\n");
	expect("require \"ereject\"; ereject \"no\";", msg_plain, NULL, "ereject \"no\"\n");
	expect("require \"reject\"; keep; reject \"x\";", msg_plain, NULL,
	       "ERROR: line 1: reject conflicts with an earlier action");
	expect("require [\"reject\", \"fileinto\"]; reject \"x\"; fileinto \"a\";", msg_plain, NULL,
	       "ERROR: line 1: this action conflicts with an earlier reject");
	expect("require [\"reject\", \"ereject\"]; reject \"x\"; ereject \"y\";", msg_plain, NULL,
	       "ERROR: line 1: more than one reject");
	expect("require [\"reject\", \"vacation\"]; vacation \"away\"; reject \"x\";", msg_plain, NULL,
	       "ERROR: line 1: reject conflicts with an earlier action");
	expect("require \"reject\"; reject \"x\"; discard;", msg_plain, NULL, "reject \"x\"\ndiscard\n");
}

static void vacation(void **state)
{
	(void)state;
	expect("require \"vacation\"; vacation :days 3 :subject \"Away\" :from \"bob@example.com\" "
	       ":addresses [\"bob@example.com\", \"b@example.com\"] :handle \"h1\" \"I am away.\";",
	       msg_plain, NULL,
	       "vacation from=\"bob@example.com\" subject=\"Away\" handle=\"h1\" seconds=259200 mime=0 "
	       "addresses=bob@example.com,b@example.com reason=\"I am away.\"\nkeep\n");
	expect("require [\"vacation-seconds\"]; vacation :seconds 0 :mime \"Content-Type: text/plain\r\n\r\nx\";",
	       msg_plain, NULL,
	       "vacation from=\"\" subject=\"\" handle=\"auto-ff14bc8c5f955e9e\" seconds=0 mime=1 addresses= "
	       "reason=\"Content-Type: text/plain\\r\\n\\r\\nx\"\nkeep\n");
	/* the default handle depends on the reason */
	struct sieve_program *p1 = compile_ok("require \"vacation\"; vacation \"a\";", NULL);
	struct sieve_program *p2 = compile_ok("require \"vacation\"; vacation \"b\";", NULL);
	char *r1 = run_prog(p1, msg_plain, NULL), *r2 = run_prog(p2, msg_plain, NULL);
	assert_string_not_equal(r1, r2);
	assert_non_null(strstr(r1, "seconds=604800"));
	free(r1);
	free(r2);
	sieve_program_free(&p1);
	sieve_program_free(&p2);
	expect("require \"vacation\"; vacation \"a\"; vacation \"b\";", msg_plain, NULL,
	       "ERROR: line 1: more than one vacation");
}

static void variables(void **state)
{
	(void)state;
	const char *req = "require [\"variables\", \"fileinto\"];\n";
	char *s;
	s = xasprintf("%sset \"a\" \"x\"; set \"A\" \"${a}y\"; fileinto \"${A}-${undefined}-${a\";", req);
	expect(s, msg_plain, NULL, "fileinto \"xy--${a\"\n");
	free(s);
	s = xasprintf("%sset :upper \"u\" \"abc\"; set :lowerfirst \"l\" \"ABC\"; set :upperfirst :lower \"m\" \"aBC\";"
		      "set :length \"n\" \"\xc3\xa4\xc3\xb6x\"; set :quotewildcard \"q\" \"a*b?c\\\\\";"
		      "fileinto \"${u} ${l} ${m} ${n} ${q}\";",
		      req);
	expect(s, msg_plain, NULL, "fileinto \"ABC aBC Abc 3 a\\\\*b\\\\?c\\\\\\\\\"\n");
	free(s);
	/* match variables from :matches, ${0} the whole value */
	s = xasprintf("%sif header :matches \"from\" \"* <*@*>\" { fileinto \"${3}/${2}/${1}|${0}\"; }", req);
	expect(s, msg_plain, NULL, "fileinto \"example.org/alice/Alice Example|Alice Example <alice@example.org>\"\n");
	free(s);
	/* shortest first, left to right (RFC 5229 §3.2); ? takes one UTF-8 character */
	s = xasprintf("%sif header :matches \"subject\" \"*e*\" { fileinto \"${1}|${2}\"; }", req);
	expect(s, msg_plain, NULL, "fileinto \"[d|v] Meeting at 10\"\n");
	free(s);
	s = xasprintf("%sif header :matches \"subject\" \"*?e*n\" { fileinto \"${1}|${2}|${3}\"; }", req);
	expect(s, msg_mime, NULL, "fileinto \"Gr\xc3\xbc|\xc3\x9f| aus Berli\"\n");
	free(s);
	s = xasprintf("%sif string :is \"${x}\" \"\" { fileinto \"empty\"; }", req);
	expect(s, msg_plain, NULL, "fileinto \"empty\"\n");
	free(s);
	/* string :count ignores empty strings */
	s = "require [\"variables\", \"relational\"]; set \"e\" \"\";"
	    "if string :count \"eq\" [\"a\", \"${e}\", \"b\"] \"2\" { discard; }";
	expect(s, msg_plain, NULL, "discard\n");
	/* without require "variables", ${..} is literal */
	expect("require \"fileinto\"; fileinto \"${x}\";", msg_plain, NULL, "fileinto \"${x}\"\n");
}

static void include(void **state)
{
	(void)state;
	struct opts o = { .inc_name = "lists",
			  .inc_text = "require [\"fileinto\", \"include\", \"variables\"]; global \"box\";"
				      "if header :contains \"subject\" \"[dev]\" { fileinto \"${box}\"; return; }"
				      "discard;" };
	expect("require [\"include\", \"variables\"]; global \"box\"; set \"box\" \"Dev\"; include \"lists\";"
	       "include :once \"lists\";",
	       msg_plain, &o, "fileinto \"Dev\"\n");
	expect("require \"include\"; include :optional \"none\";", msg_plain, &o, "keep\n");
	expect("require \"include\"; include \"none\";", msg_plain, &o, "ERROR: line 1: include: no script \"none\"");
	/* a script including itself hits the depth limit */
	struct opts loop = { .inc_name = "self", .inc_text = "require \"include\"; include \"self\";" };
	expect("require \"include\"; include \"self\";", msg_plain, &loop,
	       "ERROR: line 1: include nested deeper than 5");
	struct opts broken = { .inc_name = "b", .inc_text = "nonsense;" };
	expect("require \"include\"; include \"b\";", msg_plain, &broken,
	       "ERROR: line 1: include \"b\": line 1: unknown command 'nonsense'");
	/* the actions of an included script outlive it (its strings are copied) */
	struct opts lit = { .inc_name = "lit", .inc_text = "require \"fileinto\"; fileinto \"Literal box\";" };
	expect("require \"include\"; include \"lit\";", msg_plain, &lit, "fileinto \"Literal box\"\n");
	/* stop in an included script ends everything */
	struct opts st = { .inc_name = "s", .inc_text = "stop;" };
	expect("require \"include\"; include \"s\"; discard;", msg_plain, &st, "keep\n");
}

static void run_limits(void **state)
{
	(void)state;
	struct sieve_limits l;
	sieve_limits_default(&l);
	l.max_actions = 3;
	struct opts o = { .lim = &l };
	expect("require [\"fileinto\"]; fileinto \"a\"; fileinto \"b\"; fileinto \"c\";", msg_plain, &o,
	       "fileinto \"a\"\nfileinto \"b\"\nfileinto \"c\"\n");
	expect("require [\"fileinto\"]; fileinto \"a\"; fileinto \"b\"; fileinto \"c\"; fileinto \"d\";", msg_plain, &o,
	       "ERROR: line 1: more than 3 actions");
	sieve_limits_default(&l);
	l.max_redirects = 1;
	expect("redirect \"a@b.c\"; redirect \"d@e.f\";", msg_plain, &o, "ERROR: line 1: more than 1 redirects");
	sieve_limits_default(&l);
	l.max_cpu_steps = 50;
	expect("keep;", msg_plain, &o, "keep\n");
	expect("if header :contains \"x\" \"y\" {} if header :contains \"x\" \"y\" {} if header :contains \"x\" \"y\" {}"
	       "if header :contains \"x\" \"y\" {} if header :contains \"x\" \"y\" {} if header :contains \"x\" \"y\" {}"
	       "if header :contains \"x\" \"y\" {} if header :contains \"x\" \"y\" {} if header :contains \"x\" \"y\" {}"
	       "if header :contains [\"x\",\"y\",\"z\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"] "
	       "[\"x\",\"y\",\"z\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"] {}",
	       msg_plain, &o, "ERROR: line 1: the script used more than 50 steps");
	/* a backtracking :matches pattern costs len(value) * len(pattern) steps at most:
	 * within the default limit it finishes, below it the run fails */
	struct buf b = { 0 };
	buf_puts(&b, "X: ");
	for (int i = 0; i < 3000; i++)
		buf_putc(&b, 'a');
	buf_puts(&b, "\r\n\r\nbody\r\n");
	expect("if header :matches \"x\" \"*a*a*a*a*a*a*a*a*a*a*a*a*b\" { discard; }", buf_str(&b), NULL, "keep\n");
	sieve_limits_default(&l);
	l.max_cpu_steps = 1000;
	expect("if header :matches \"x\" \"*a*a*a*a*a*a*a*a*a*a*a*a*b\" { discard; }", buf_str(&b), &o,
	       "ERROR: line 1: the script used more than 1000 steps");
	/* a pattern of 100 000 wildcards does not recurse (no stack exhaustion) */
	struct buf sc = { 0 };
	buf_puts(&sc, "if header :matches \"x\" \"");
	for (int i = 0; i < 50000; i++)
		buf_puts(&sc, "*?");
	buf_puts(&sc, "\" { discard; }");
	expect(buf_str(&sc), buf_str(&b), NULL, "keep\n");
	buf_free(&sc);
	buf_free(&b);
	sieve_limits_default(&l);
	l.max_variable_bytes = 4;
	expect("require [\"variables\", \"fileinto\"]; set \"v\" \"abcdef\"; fileinto \"${v}\";", msg_plain, &o,
	       "fileinto \"abcd\"\n");
	/* cut at a character boundary */
	expect("require [\"variables\", \"fileinto\"]; set \"v\" \"abc\xc3\xa4\"; fileinto \"${v}\";", msg_plain, &o,
	       "fileinto \"abc\"\n");
	sieve_limits_default(&l);
	l.max_variables = 2;
	expect("require \"variables\"; set \"a\" \"1\"; set \"b\" \"2\"; set \"a\" \"3\"; set \"c\" \"4\";", msg_plain,
	       &o, "ERROR: line 1: more than 2 variables");
	sieve_limits_default(&l);
	l.max_regex_per_run = 2;
	expect("require [\"regex\", \"variables\"]; set \"x\" \"a\";"
	       "if header :regex \"subject\" [\"${x}1\", \"${x}2\", \"${x}3\"] { discard; }",
	       msg_plain, &o, "ERROR: line 1: more than 2 regular expressions in one run");
	sieve_limits_default(&l);
	l.max_regex_bytes = 3;
	expect("require [\"regex\", \"variables\"]; set \"x\" \"abcd\";"
	       "if header :regex \"subject\" \"${x}\" { discard; }",
	       msg_plain, &o, "ERROR: line 1: regular expression longer than 3 bytes");
	sieve_limits_default(&l);
	l.max_includes = 1;
	struct opts inc = { .lim = &l, .inc_name = "i", .inc_text = "keep;" };
	expect("require \"include\"; include \"i\"; include \"i\";", msg_plain, &inc,
	       "ERROR: line 1: more than 1 includes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(core_actions), cmocka_unit_test(fileinto_copy_flags), cmocka_unit_test(reject_ereject),
		cmocka_unit_test(vacation),     cmocka_unit_test(variables),           cmocka_unit_test(include),
		cmocka_unit_test(run_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
