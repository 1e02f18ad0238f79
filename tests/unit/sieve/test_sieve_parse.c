/* test_sieve_parse.c: the Sieve parser and compiler (RFC 5228 §8 grammar, the
 * binder's compile-time checks) as golden tests: valid scripts compile, invalid
 * ones fail with the exact "line N: ..." text CHECKSCRIPT shows; the saved form
 * round-trips and hostile bytes are refused; the compile-time limits. */
#include "helpers.h"

static void valid_scripts(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"",
		"# only a comment\n",
		"/* bracketed\n comment */ keep;",
		"keep; discard; stop;",
		"if true { keep; } elsif false { discard; } else { stop; }",
		"if anyof (true, not false, allof (true, true)) { keep; }",
		"require \"fileinto\"; fileinto \"a\";",
		"require [\"fileinto\", \"copy\", \"mailbox\", \"imap4flags\"];\n"
		"fileinto :copy :create :flags [\"\\\\Seen\"] \"x\";",
		"require \"vacation\"; vacation :days 3 :subject \"s\" :from \"a@b.c\" :addresses [\"x@y.z\"] "
		":handle \"h\" :mime \"reason\";",
		"require [\"vacation\", \"vacation-seconds\"]; vacation :seconds 60 text:\nline 1\n..dot\n.\n;",
		"if size :over 100K { discard; }",
		"if header :comparator \"i;octet\" :is \"x\" \"y\" { keep; }",
		"require [\"relational\", \"comparator-i;ascii-numeric\"];\n"
		"if header :value \"ge\" :comparator \"i;ascii-numeric\" \"x\" \"5\" { keep; }",
		"require \"encoded-character\"; if header :is \"s\" \"${hex:41 42}${unicode:20ac}\" { keep; }",
		"require [\"date\", \"index\"]; if date :index 2 :last :zone \"+0100\" \"received\" \"year\" \"2026\" { keep; }",
		"require \"variables\"; set :lower :upperfirst \"n\" \"v\"; if string :is \"${n}\" \"V\" { keep; }",
		"require \"include\"; include :personal :once :optional \"other\"; return;",
		"require [\"include\", \"variables\"]; global [\"a\", \"b\"];",
		"require [\"duplicate\"]; if duplicate :seconds 60 :header \"Message-ID\" { discard; }",
		"require [\"spamtestplus\", \"relational\", \"comparator-i;ascii-numeric\"]; if spamtest :percent :value \"gt\" :comparator \"i;ascii-numeric\" \"50\" "
		"{ discard; }",
		"require \"regex\"; if header :regex \"subject\" \"^a(b|c)+$\" { keep; }",
		"require [\"reject\", \"ereject\"]; if true { reject \"no\"; } else { ereject \"no\"; }",
		"require \"envelope\"; if envelope :domain \"from\" \"example.org\" { keep; }",
		"require \"body\"; if body :content \"text\" :contains \"x\" { keep; }",
		"require \"mailbox\"; if mailboxexists \"Spam\" { keep; }",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct sieve_program *p = compile_ok(ok[i], NULL);
		assert_non_null(p);
		sieve_program_free(&p);
		assert_null(p);
	}
}

static void invalid_scripts(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
		{ "keep", "line 1: expected ';' after command 'keep'" },
		{ "\n\nfoo;", "line 3: unknown command 'foo'" },
		{ "fileinto \"x\";", "line 1: fileinto: this command needs require \"fileinto\"" },
		{ "require \"nosuch\";", "line 1: unsupported extension \"nosuch\"" },
		{ "keep;\nrequire \"fileinto\";", "line 2: require must come before any other command" },
		{ "if true keep;", "line 1: unknown test 'keep'" },
		{ "if true;", "line 1: if: needs a block" },
		{ "if true { keep; ", "line 1: expected '}' to close the block" },
		{ "}", "line 1: unexpected '}'" },
		{ "else { keep; }", "line 1: 'else' must follow 'if' or 'elsif'" },
		{ "keep \"x\";", "line 1: keep: expected 0 arguments, got 1" },
		{ "redirect;", "line 1: redirect: expected 1 argument, got 0" },
		{ "redirect 5;", "line 1: redirect: argument 1 must be a string" },
		{ "redirect [\"a@b.c\", \"d@e.f\"];", "line 1: redirect: argument 1 must be a single string" },
		{ "if header :is :contains \"a\" \"b\" { keep; }", "line 1: header: more than one match type" },
		{ "if header :bogus \"a\" \"b\" { keep; }", "line 1: header: unknown tag ':bogus'" },
		{ "if header \"a\" :is \"b\" { keep; }", "line 1: header: tag ':is' after a positional argument" },
		{ "if header :comparator \"i;foo\" \"a\" \"b\" { keep; }",
		  "line 1: header: unknown comparator \"i;foo\"" },
		{ "if header :regex \"a\" \"b\" { keep; }", "line 1: header: :regex needs require \"regex\"" },
		{ "require \"regex\"; if header :regex \"a\" \"(\" { keep; }",
		  "line 1: header: invalid regular expression \"(\"" },
		{ "require \"regex\"; if header :regex \"a\" \"(a)\\\\1\" { keep; }",
		  "line 1: header: regular expression \"(a)\\1\": back-references are not supported" },
		{ "require \"regex\"; if header :regex \"a\" \"((a{200}){100})\" { keep; }",
		  "line 1: header: regular expression \"((a{200}){100})\": too complex (its repetitions expand to "
		  "more than 10000 elements)" },
		{ "require \"relational\"; if header :value \"xx\" \"a\" \"b\" { keep; }",
		  "line 1: header: invalid relational operator \"xx\"" },
		{ "if size 100 { keep; }", "line 1: size: needs :over or :under" },
		{ "if size :over \"1\" { keep; }", "line 1: size: argument 1 must be a number" },
		{ "if \"x\" { keep; }", "line 1: if: needs one test" },
		{ "\"unterminated", "line 1: unterminated string" },
		{ "keep; /* open", "line 1: unterminated comment" },
		{ "require \"vacation\";\nvacation text:\nno end\n", "line 2: unterminated multi-line string (no line "
								     "with a single '.')" },
		{ "keep; @", "line 1: unexpected character '@'" },
		{ "if size :over 99999999999999999999 { keep; }", "line 1: number too large" },
		{ "require \"variables\"; set \"1bad\" \"x\";", "line 1: set: invalid variable name \"1bad\"" },
		{ "require \"variables\"; set :upper :lower \"a\" \"b\";",
		  "line 1: set: modifier :lower conflicts with one of the same precedence" },
		{ "require \"variables\"; set :length :length \"a\" \"b\";",
		  "line 1: set: modifier :length conflicts with one of the same precedence" },
		{ "require [\"include\", \"variables\"]; include \"${x}\";",
		  "line 1: include: the script name must be a constant, not \"${x}\"" },
		{ "require \"include\"; include \"../x\";", "line 1: include: invalid script name \"../x\"" },
		{ "if address :is [\"From\", \"Subject\"] \"a\" { keep; }",
		  "line 1: address: header \"Subject\" does not hold addresses" },
		{ "require \"date\"; if currentdate \"century\" \"20\" { keep; }",
		  "line 1: currentdate: unknown date part \"century\"" },
		{ "require \"date\"; if date :zone \"CET\" \"date\" \"year\" \"1\" { keep; }",
		  "line 1: date: invalid zone \"CET\" (expected +hhmm or -hhmm)" },
		{ "require \"vacation\"; vacation :seconds 5 \"r\";",
		  "line 1: vacation: :seconds needs require \"vacation-seconds\"" },
		{ "require \"vacation\"; vacation :days 1 :days 2 \"r\";",
		  "line 1: vacation: :days and :seconds are exclusive" },
		{ "require \"fileinto\"; fileinto :create \"x\";",
		  "line 1: fileinto: :create needs require \"mailbox\"" },
		{ "require \"fileinto\"; fileinto :copy \"x\";", "line 1: fileinto: :copy needs require \"copy\"" },
		{ "require \"spamtest\"; if spamtest :percent \"1\" { keep; }",
		  "line 1: spamtest: :percent needs require \"spamtestplus\"" },
		{ "require \"comparator-i;ascii-numeric\";\nif header :contains :comparator \"i;ascii-numeric\" \"a\" "
		  "\"1\" { keep; }",
		  "line 2: header: comparator \"i;ascii-numeric\" cannot be used with this match type" },
		{ "require \"index\"; if header :last \"a\" \"b\" { keep; }", "line 1: header: :last needs :index" },
		{ "if true { if true { keep; }", "line 1: expected '}' to close the block" },
		{ "if anyof () { keep; }", "line 1: expected a test in the test list" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		compile_err(bad[i][0], NULL, bad[i][1]);
}

static void encoded_and_multiline(void **state)
{
	(void)state;
	/* encoded-character decodes; multi-line strings unstuff dots; escapes */
	expect("require [\"encoded-character\", \"fileinto\"]; fileinto \"${hex:41 42}${unicode:E4}\";", msg_plain,
	       NULL, "fileinto \"AB\xc3\xa4\"\n");
	expect("require \"fileinto\"; fileinto \"${hex:41}\";", msg_plain, NULL, "fileinto \"${hex:41}\"\n");
	expect("require \"reject\"; reject text: # comment\r\nline\r\n..stuffed\r\n.\r\n;", msg_plain, NULL,
	       "reject \"line\\r\\n.stuffed\\r\\n\"\n");
	expect("require \"fileinto\"; fileinto \"a\\\"b\\\\c\\d\";", msg_plain, NULL, "fileinto \"a\\\"b\\\\cd\"\n");
}

static void save_and_load(void **state)
{
	(void)state;
	const char *script = "require [\"fileinto\", \"variables\", \"imap4flags\"];\n"
			     "if header :matches \"subject\" \"[*] *\" { set \"l\" \"${1}\"; addflag \"\\\\Seen\";"
			     " fileinto \"lists/${l}\"; } else { keep; }";
	struct sieve_program *p = compile_ok(script, NULL);
	struct buf b = { 0 };
	sieve_program_save(p, &b);
	assert_true(b.len > 16);
	struct sieve_program *q = NULL;
	const char *err = NULL;
	assert_int_equal(sieve_program_load(b.data, b.len, NULL, &q, &err), 1);
	char *r1 = run_prog(p, msg_plain, NULL), *r2 = run_prog(q, msg_plain, NULL);
	assert_string_equal(r1, "fileinto \"lists/dev\" flags: \\Seen\n");
	assert_string_equal(r1, r2);
	free(r1);
	free(r2);
	sieve_program_free(&q);
	/* every truncation and every single-byte change is either refused or loads a
	 * program that runs without crashing */
	for (size_t n = 0; n < b.len; n++) {
		assert_int_equal(sieve_program_load(b.data, n, NULL, &q, &err), -1);
		assert_non_null(err);
	}
	for (size_t i = 0; i < b.len; i++) {
		for (int delta = 1; delta < 256; delta += 37) {
			char *copy = xmalloc(b.len);
			memcpy(copy, b.data, b.len);
			copy[i] = (char)(copy[i] + delta);
			if (sieve_program_load(copy, b.len, NULL, &q, &err) > 0) {
				free(run_prog(q, msg_plain, NULL));
				sieve_program_free(&q);
			}
			free(copy);
		}
	}
	assert_int_equal(sieve_program_load("SIEVE0", 6, NULL, &q, &err), -1);
	assert_string_equal(err, "not a compiled Sieve program of this version");
	buf_free(&b);
	sieve_program_free(&p);
}

static void compile_limits(void **state)
{
	(void)state;
	struct sieve_limits l;
	sieve_limits_default(&l);
	l.max_script_bytes = 10;
	compile_err("keep; keep; keep;", &l, "line 1: script is larger than 10 bytes");
	sieve_limits_default(&l);
	l.max_nesting = 3;
	struct sieve_program *p = compile_ok("if true { if true { if true { keep; } } }", &l);
	sieve_program_free(&p);
	compile_err("if true { if true { if true { if true { keep; } } } }", &l, "line 1: nesting deeper than 3");
	compile_err("if not not not not true { keep; }", &l, "line 1: nesting deeper than 3");
	sieve_limits_default(&l);
	l.max_regex_bytes = 4;
	compile_err("require \"regex\"; if header :regex \"s\" \"abcde\" { keep; }", &l,
		    "line 1: header: regular expression longer than 4 bytes");
	/* deep nesting at the default: an error, not a stack overflow */
	struct buf b = { 0 };
	for (int i = 0; i < 20000; i++)
		buf_puts(&b, "if true {");
	compile_err(buf_str(&b), NULL, "line 1: nesting deeper than 32");
	buf_reset(&b);
	buf_puts(&b, "if ");
	for (int i = 0; i < 20000; i++)
		buf_puts(&b, "not ");
	buf_puts(&b, "true { keep; }");
	compile_err(buf_str(&b), NULL, "line 1: nesting deeper than 32");
	buf_free(&b);
}

static void extension_list(void **state)
{
	(void)state;
	const char *e = sieve_extensions();
	static const char *const want[] = { "fileinto",
					    "reject",
					    "ereject",
					    "envelope",
					    "imap4flags",
					    "body",
					    "variables",
					    "vacation",
					    "vacation-seconds",
					    "relational",
					    "comparator-i;ascii-numeric",
					    "subaddress",
					    "copy",
					    "mailbox",
					    "date",
					    "index",
					    "regex",
					    "duplicate",
					    "spamtest",
					    "include" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *s = xasprintf("require \"%s\";", want[i]);
		struct sieve_program *p = compile_ok(s, NULL);
		sieve_program_free(&p);
		free(s);
		char *padded = xasprintf(" %s ", e), *w = xasprintf(" %s ", want[i]);
		assert_non_null(strstr(padded, w));
		free(padded);
		free(w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_scripts),         cmocka_unit_test(invalid_scripts),
		cmocka_unit_test(encoded_and_multiline), cmocka_unit_test(save_and_load),
		cmocka_unit_test(compile_limits),        cmocka_unit_test(extension_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
