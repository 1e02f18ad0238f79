/* test_junk.c: the junk filter's pure parts and its model in the store: the
 * tokenizer (header features, German words, HTML, links, attachments, our own
 * Authentication-Results only, the bounds on hostile input), Robinson's f(w) and
 * Fisher's combining against values computed by hand, and lessons, unlearning,
 * contacts, sender reputation, the switch and account deletion in a real store. */
#include "../store/helpers.h"

#include "buf.h"
#include "junk.h"
#include "junk_int.h"

#include <math.h>

static struct junk_settings settings(void)
{
	struct junk_settings set;
	junk_settings_default(&set);
	set.hostname = "mx.example.test";
	return set;
}

static bool has(const struct junk_tokens *t, const char *tok)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->tok[i], tok) == 0)
			return true;
	}
	return false;
}

static const char german[] =
	"Authentication-Results: mx.example.test; spf=pass smtp.mailfrom=x; dkim=fail header.d=x; dmarc=fail\r\n"
	"Authentication-Results: evil.example; spf=none dkim=pass dmarc=pass\r\n"
	"Received: from a by b\r\nReceived: from c by d\r\n"
	"From: \"Jürgen Weiß\" <Juergen@Beispiel.DE>\r\n"
	"Reply-To: other@elsewhere.example\r\n"
	"To: a@example.test, b@example.test\r\nCc: c@example.test\r\n"
	"Subject: =?utf-8?q?=C3=9Cberweisung_pr=C3=BCfen?= heute\r\n"
	"List-Id: <news.beispiel.de>\r\n"
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	"--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
	"GR=D6SSE Stra=DFe =C4pfel 12345 x https://Www.Shop.Example/path?q=1 ok\r\n"
	"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
	"<p>Hallo <b>Welt</b><a href=\"http://link.example.net/x\">klick</a></p><script>hidden()</script>\r\n"
	"--b\r\nContent-Type: application/pdf; name=\"Rechnung.PDF\"\r\nContent-Disposition: attachment\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--b--\r\n";

static void tokens_of_a_message(void **state)
{
	(void)state;
	struct junk_settings set = settings();
	struct arena *a = arena_new();
	struct junk_tokens t;
	junk_tokenize(a, german, sizeof(german) - 1, &set, &t);
	const char *want[] = {
		"from:juergen@beispiel.de",
		"fromdom:beispiel.de",
		"fromname:jürgen",
		"fromname:weiß",
		"replyto:elsewhere.example",
		"replyto:other-domain",
		"subj:überweisung",
		"subj:prüfen",
		"subj2:überweisung prüfen",
		"subj2:prüfen heute",
		"rcpts:3-5",
		"hops:2",
		"list-id:yes",
		"ctype:multipart/mixed",
		"spf=pass",
		"dkim=fail",
		"dmarc=fail",
		"grösse",
		"straße",
		"äpfel",
		"url:www.shop.example",
		"url:link.example.net",
		"hallo",
		"welt",
		"klick",
		"attach:application/pdf",
		"attach-ext:pdf",
		"html:alternative",
		"fromtld:de",
		"urltld:example",
		"urltld:net",
		"img:0",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!has(&t, want[i]))
			fail_msg("missing token %s", want[i]);
	}
	/* numbers, one-letter words, script content and the foreign A-R field are not tokens */
	assert_false(has(&t, "attach:risky")); /* a PDF is not */
	assert_false(has(&t, "12345"));
	assert_false(has(&t, "x"));
	assert_false(has(&t, "hidden"));
	assert_false(has(&t, "spf=none")); /* only the first field counts */
	assert_false(has(&t, "dkim=pass"));
	assert_true(t.dmarc_fail);
	assert_string_equal(t.from, "juergen@beispiel.de");
	/* distinct: each token once */
	for (size_t i = 0; i < t.n; i++)
		for (size_t k = i + 1; k < t.n; k++)
			assert_string_not_equal(t.tok[i], t.tok[k]);
	/* a first field of another host is not ours: no verdicts */
	const char *second = strchr(german, '\n') + 1;
	junk_tokenize(a, second, strlen(second), &set, &t);
	assert_false(has(&t, "spf=none"));
	assert_false(has(&t, "dkim=pass"));
	assert_true(has(&t, "fromdom:beispiel.de"));
	/* without our hostname the verdicts are not read */
	set.hostname = NULL;
	junk_tokenize(a, german, sizeof(german) - 1, &set, &t);
	assert_false(has(&t, "dmarc=fail"));
	assert_false(t.dmarc_fail);
	arena_free(&a);
}

/* Hostile input stays within max_tokens and max_bytes. */
static void tokens_bounded(void **state)
{
	(void)state;
	struct junk_settings set = settings();
	set.max_tokens = 200;
	set.max_bytes = 64 * 1024;
	struct arena *a = arena_new();
	struct junk_tokens t;
	struct buf b = { 0 };
	/* 10,000 parts, each with its own words */
	buf_puts(&b, "From: x@y.example\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n");
	for (int i = 0; i < 10000; i++)
		buf_printf(&b, "--q\r\nContent-Type: text/plain\r\n\r\nword%dx other%dy\r\n", i, i);
	buf_puts(&b, "--q--\r\n");
	junk_tokenize(a, b.data, b.len, &set, &t);
	assert_true(t.n <= set.max_tokens);
	assert_true(t.bytes_read <= 2 * set.max_bytes);
	/* a gigantic line of invalid UTF-8 and one endless word */
	buf_reset(&b);
	buf_puts(&b, "Subject: \xff\xfe\xc3\r\n\r\n");
	for (int i = 0; i < 1000000; i++)
		buf_putc(&b, (char)(0x80 | (i & 0x3f)));
	buf_puts(&b, " fine ");
	for (int i = 0; i < 100000; i++)
		buf_putc(&b, 'a');
	junk_tokenize(a, b.data, b.len, &set, &t);
	assert_true(t.n <= set.max_tokens);
	for (size_t i = 0; i < t.n; i++)
		assert_true(strlen(t.tok[i]) <= JUNK_TOKEN_MAX);
	/* a base64 bomb: megabytes of encoded text */
	buf_reset(&b);
	buf_puts(&b, "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	for (int i = 0; i < 200000; i++)
		buf_puts(&b, "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29y\r\n");
	junk_tokenize(a, b.data, b.len, &set, &t);
	assert_true(has(&t, "hello"));
	assert_true(t.bytes_read <= 2 * set.max_bytes);
	/* NULs and nothing at all */
	junk_tokenize(a, "\0\0\0", 3, &set, &t);
	junk_tokenize(a, "", 0, &set, &t);
	assert_true(has(&t, "from:none"));
	buf_free(&b);
	arena_free(&a);
}

/* The class tokens: an attachment that runs code or hides it (attach:risky, whatever
 * its extension), the pictures of an HTML part (img:N), the sender's and the links'
 * top-level domains. */
static void tokens_risky_attachment_and_images(void **state)
{
	(void)state;
	static const char msg[] =
		"From: Ute <ute@billing.icu>\r\nSubject: Rechnung\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
		"--b\r\nContent-Type: text/html\r\n\r\n<p>Ansehen</p><img src=\"https://cdn.pics.xyz/a.png\">"
		"<img src=\"x.png\">\r\n"
		"--b\r\nContent-Type: application/octet-stream; name=\"Rechnung.DOCM\"\r\n"
		"Content-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n";
	struct junk_settings set = settings();
	struct arena *a = arena_new();
	struct junk_tokens t;
	junk_tokenize(a, msg, sizeof(msg) - 1, &set, &t);
	const char *want[] = { "attach-ext:docm", "attach:risky", "img:2", "html:only", "fromtld:icu", "urltld:xyz" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!has(&t, want[i]))
			fail_msg("missing token %s", want[i]);
	}
	arena_free(&a);
}

static void robinson_values(void **state)
{
	(void)state;
	/* unseen: x */
	assert_float_equal(junk_robinson(0, 0, 10, 10), 0.5, 1e-12);
	/* in 1 of 10 spam, never in ham: p = 1, n = 1: (0.5 + 1) / 2 */
	assert_float_equal(junk_robinson(1, 0, 10, 10), 0.75, 1e-12);
	/* 9 of 10 spam, 1 of 10 ham: p = 0.9, n = 10: (0.5 + 9) / 11 */
	assert_float_equal(junk_robinson(9, 1, 10, 10), 9.5 / 11, 1e-12);
	/* 2 of 20 spam, 2 of 10 ham: b = 0.1, g = 0.2, p = 1/3, n = 4: (0.5 + 4/3) / 5 */
	assert_float_equal(junk_robinson(2, 2, 20, 10), (0.5 + 4.0 / 3) / 5, 1e-12);
}

static void fisher_values(void **state)
{
	(void)state;
	/* chi2Q with 2 degrees of freedom is exp(-x/2) */
	assert_float_equal(junk_chi2q(3.0, 2), exp(-1.5), 1e-12);
	/* 4 degrees: exp(-m)(1 + m), m = x/2 */
	assert_float_equal(junk_chi2q(5.0, 4), exp(-2.5) * 3.5, 1e-12);
	assert_float_equal(junk_chi2q(0, 6), 1.0, 1e-12);
	/* one token f: H = f, S = 1 - f, score = (1 + f - (1 - f)) / 2 = f */
	assert_float_equal(junk_fisher((double[]){ 0.8 }, 1), 0.8, 1e-12);
	assert_float_equal(junk_fisher(NULL, 0), 0.5, 1e-12);
	/* symmetric evidence is neutral; agreeing evidence is stronger than its parts */
	assert_float_equal(junk_fisher((double[]){ 0.9, 0.1 }, 2), 0.5, 1e-12);
	double three = junk_fisher((double[]){ 0.9, 0.9, 0.9 }, 3);
	assert_true(three > 0.97 && three < 1.0);
	/* two tokens 0.9, 0.9 by hand: ln H = 2 ln 0.9, m = -ln(0.81); H = 0.81 (1 + m);
	 * S = 0.01 (1 - ln 0.01) */
	double m = -log(0.81), h = 0.81 * (1 + m), s = 0.01 * (1 - log(0.01));
	assert_float_equal(junk_fisher((double[]){ 0.9, 0.9 }, 2), (1 + h - s) / 2, 1e-9);
	/* the significant ones: farthest first, the weak ones out */
	double f[] = { 0.55, 0.99, 0.3, 0.02, 0.61, 0.5 };
	size_t k = junk_significant(f, 6, 2);
	assert_int_equal(k, 2);
	assert_float_equal(f[0], 0.99, 1e-12);
	assert_float_equal(f[1], 0.02, 1e-12);
	double g[] = { 0.55, 0.99, 0.3, 0.02, 0.61, 0.5 };
	assert_int_equal(junk_significant(g, 6, 10), 4);
}

static const char spam_msg[] = "From: win@lottery.example\r\nSubject: you won the lottery\r\n\r\n"
			       "claim your prize now https://claim.example\r\n";
static const char ham_msg[] = "From: anna@family.example\r\nSubject: lunch tomorrow\r\n\r\n"
			      "shall we meet for lunch near the office\r\n";

static void model_in_store(void **state)
{
	struct fixture *f = *state;
	struct junk_settings set = settings();
	set.min_trained = 2;
	struct junk *j = junk_new(f->s, &set);
	const char *err;
	struct junk_verdict v;
	/* nothing learned: untrained, neutral */
	assert_int_equal(junk_classify(j, f->acct, spam_msg, sizeof(spam_msg) - 1, &v, &err), 1);
	assert_false(v.trained);
	assert_false(v.spam);
	assert_true(v.enabled);
	assert_float_equal(v.score, 0.5, 1e-12);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(junk_train(j, f->acct, spam_msg, sizeof(spam_msg) - 1, 1, 0, &err), 1);
		assert_int_equal(junk_train(j, f->acct, ham_msg, sizeof(ham_msg) - 1, 0, 1, &err), 1);
	}
	assert_int_equal(junk_classify(j, f->acct, spam_msg, sizeof(spam_msg) - 1, &v, &err), 1);
	assert_true(v.trained);
	assert_true(v.spam);
	assert_true(v.score > 0.95);
	assert_int_equal(junk_classify(j, f->acct, ham_msg, sizeof(ham_msg) - 1, &v, &err), 1);
	assert_false(v.spam);
	assert_true(v.score < 0.05);
	/* the other account learned nothing */
	assert_int_equal(junk_classify(j, f->acct2, spam_msg, sizeof(spam_msg) - 1, &v, &err), 1);
	assert_false(v.trained);
	struct store_junk_stats st;
	assert_int_equal(store_junk_stats(f->s, f->a, f->acct, 3, &st, &err), 1);
	assert_int_equal(st.model.nspam, 2);
	assert_int_equal(st.model.nham, 2);
	assert_int_equal(st.ntop_spam, 3);
	assert_int_equal(st.top_spam[0].nspam, 2);
	assert_int_equal(st.top_ham[0].nham, 2);
	int64_t ntokens = st.ntokens;
	/* a wrong lesson undone: moved out of Junk means -1 spam, +1 ham */
	assert_int_equal(junk_train(j, f->acct, spam_msg, sizeof(spam_msg) - 1, -1, 1, &err), 1);
	assert_int_equal(store_junk_stats(f->s, f->a, f->acct, 3, &st, &err), 1);
	assert_int_equal(st.model.nspam, 1);
	assert_int_equal(st.model.nham, 3);
	/* unlearning more than was learned stops at zero and removes empty tokens */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(junk_train(j, f->acct, spam_msg, sizeof(spam_msg) - 1, 0, -1, &err), 1);
		assert_int_equal(junk_train(j, f->acct, spam_msg, sizeof(spam_msg) - 1, -1, 0, &err), 1);
	}
	assert_int_equal(store_junk_stats(f->s, f->a, f->acct, 3, &st, &err), 1);
	assert_int_equal(st.model.nspam, 0);
	assert_int_equal(st.model.nham, 0);
	assert_true(st.ntokens < ntokens);
	assert_true(junk_train(j, f->acct, spam_msg, 10, 2, 0, &err) < 0);
	assert_true(junk_train(j, 999999, spam_msg, sizeof(spam_msg) - 1, 1, 0, &err) < 0);
	junk_free(&j);
	assert_null(j);
}

static void contacts_and_switch(void **state)
{
	struct fixture *f = *state;
	struct junk_settings set = settings();
	set.min_trained = 1;
	struct junk *j = junk_new(f->s, &set);
	const char *err;
	assert_int_equal(junk_train(j, f->acct, spam_msg, sizeof(spam_msg) - 1, 1, 0, &err), 1);
	assert_int_equal(junk_train(j, f->acct, ham_msg, sizeof(ham_msg) - 1, 0, 1, &err), 1);
	struct junk_verdict v, v2;
	assert_int_equal(junk_classify(j, f->acct, spam_msg, sizeof(spam_msg) - 1, &v, &err), 1);
	assert_true(v.spam);
	/* a known contact leans ham: the score is halved, so it never reaches Junk */
	const char *addrs[] = { "WIN@Lottery.example" };
	assert_int_equal(junk_contacts_add(j, f->acct, addrs, 1, &err), 1);
	assert_int_equal(junk_contacts_add(j, f->acct, addrs, 1, &err), 1);
	assert_int_equal(junk_classify(j, f->acct, spam_msg, sizeof(spam_msg) - 1, &v2, &err), 1);
	assert_false(v2.spam);
	assert_float_equal(v2.score, v.score * JUNK_CONTACT_PULL, 1e-12);
	/* ... unless our DMARC check says the From: is forged */
	struct buf forged = { 0 };
	buf_puts(&forged, "Authentication-Results: mx.example.test; dmarc=fail header.from=lottery.example\r\n");
	buf_puts(&forged, spam_msg);
	assert_int_equal(junk_classify(j, f->acct, forged.data, forged.len, &v2, &err), 1);
	assert_true(v2.spam);
	buf_free(&forged);
	struct store_junk_stats st;
	assert_int_equal(store_junk_stats(f->s, f->a, f->acct, 3, &st, &err), 1);
	assert_int_equal(st.ncontacts, 1);
	/* switched off: no verdict */
	assert_int_equal(store_junk_set_enabled(f->s, f->acct, false, &err), 1);
	assert_int_equal(junk_classify(j, f->acct, spam_msg, sizeof(spam_msg) - 1, &v, &err), 1);
	assert_false(v.enabled);
	assert_false(v.spam);
	assert_int_equal(store_junk_set_enabled(f->s, f->acct, true, &err), 1);
	assert_int_equal(store_junk_stats(f->s, f->a, f->acct, 3, &st, &err), 1);
	assert_true(st.model.enabled);
	assert_int_equal(st.model.nspam, 1); /* the switch keeps the model */
	/* deleting the account deletes its model */
	assert_int_equal(store_account_del(f->s, "a@example.test", &err), 1);
	assert_int_equal(store_junk_stats(f->s, f->a, f->acct, 3, &st, &err), 1);
	assert_int_equal(st.model.nspam, 0);
	assert_int_equal(st.ntokens, 0);
	assert_int_equal(st.ncontacts, 0);
	junk_free(&j);
}

/* Sender reputation: a From: address the user taught as spam (spam.junk_reputation
 * times, never as ham) decides, whatever the words say; one taught as ham pulls
 * towards ham unless our DMARC check failed; one lesson the other way ends it. */
static const char shop_news[] =
	"From: Deals@Shop.example\r\nSubject: weekly offers\r\n\r\nour weekly offers for you\r\n";
static const char shop_lunch[] = "From: deals@shop.example\r\nSubject: lunch tomorrow\r\n\r\n"
				 "shall we meet for lunch near the office\r\n";
static const char anna_prize[] = "From: anna@family.example\r\nSubject: you won the lottery\r\n\r\n"
				 "claim your prize now https://claim.example\r\n";

static void sender_reputation(void **state)
{
	struct fixture *f = *state;
	struct junk_settings set = settings();
	set.min_trained = 1;
	set.reputation = 0;
	struct junk *j = junk_new(f->s, &set);
	const char *err;
	for (int i = 0; i < 3; i++)
		assert_int_equal(junk_train(j, f->acct, ham_msg, sizeof(ham_msg) - 1, 0, 1, &err), 1);
	assert_int_equal(junk_train(j, f->acct, spam_msg, sizeof(spam_msg) - 1, 1, 0, &err), 1);
	for (int i = 0; i < 2; i++) /* the user moved the shop's newsletter into Junk twice */
		assert_int_equal(junk_train(j, f->acct, shop_news, sizeof(shop_news) - 1, 1, 0, &err), 1);
	struct junk_verdict off, on;
	/* the words alone: ham */
	assert_int_equal(junk_classify(j, f->acct, shop_lunch, sizeof(shop_lunch) - 1, &off, &err), 1);
	assert_true(off.trained);
	assert_false(off.spam);
	assert_int_equal(off.reputation, 0);
	/* with the sender's history: spam */
	set.reputation = 2;
	junk_set_settings(j, &set);
	assert_int_equal(junk_classify(j, f->acct, shop_lunch, sizeof(shop_lunch) - 1, &on, &err), 1);
	assert_true(on.spam);
	assert_int_equal(on.reputation, 1);
	assert_float_equal(on.score, set.threshold, 1e-12);
	/* three needed, two taught: the words decide again */
	set.reputation = 3;
	junk_set_settings(j, &set);
	assert_int_equal(junk_classify(j, f->acct, shop_lunch, sizeof(shop_lunch) - 1, &on, &err), 1);
	assert_false(on.spam);
	assert_int_equal(on.reputation, 0);
	/* a sender taught as ham three times: spammy words are pulled towards ham */
	set.reputation = 0;
	junk_set_settings(j, &set);
	assert_int_equal(junk_classify(j, f->acct, anna_prize, sizeof(anna_prize) - 1, &off, &err), 1);
	set.reputation = 2;
	junk_set_settings(j, &set);
	assert_int_equal(junk_classify(j, f->acct, anna_prize, sizeof(anna_prize) - 1, &on, &err), 1);
	assert_int_equal(on.reputation, -1);
	assert_float_equal(on.score, off.score * JUNK_CONTACT_PULL, 1e-12);
	/* ... not when our DMARC check says the From: is forged */
	struct buf forged = { 0 };
	buf_puts(&forged, "Authentication-Results: mx.example.test; dmarc=fail header.from=family.example\r\n");
	buf_puts(&forged, anna_prize);
	assert_int_equal(junk_classify(j, f->acct, forged.data, forged.len, &on, &err), 1);
	assert_int_equal(on.reputation, 0);
	buf_free(&forged);
	/* one of the shop's messages moved out of Junk: its history is mixed, no longer decides */
	assert_int_equal(junk_train(j, f->acct, shop_news, sizeof(shop_news) - 1, 0, 1, &err), 1);
	assert_int_equal(junk_classify(j, f->acct, shop_lunch, sizeof(shop_lunch) - 1, &on, &err), 1);
	assert_int_equal(on.reputation, 0);
	assert_false(on.spam);
	junk_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tokens_of_a_message),
		cmocka_unit_test(tokens_bounded),
		cmocka_unit_test(tokens_risky_attachment_and_images),
		cmocka_unit_test(robinson_values),
		cmocka_unit_test(fisher_values),
		cmocka_unit_test_setup_teardown(model_in_store, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(contacts_and_switch, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(sender_reputation, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
