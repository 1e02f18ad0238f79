/* test_junk_hook.c: the junk filter's hook through the real pipeline (src/submit)
 * and store: on port 25 a trained account's spam lands in Junk with $Junk and an
 * X-Postamt-Junk header, ham in INBOX; forged incoming X-Postamt-Junk fields are
 * removed; untrained accounts get "untrained"; with several local recipients the
 * message goes to Junk only when all of them judge it spam; submission is left
 * alone. */
#include "../store/helpers.h"

#include "corpus.h"
#include "junk.h"
#include "junk_hook.h"
#include "queue.h"
#include "submit.h"

static struct settings settings = { .hostname = "mx.example.test", .message_max = 1 << 20, .recipients_max = 5 };
static struct settings_ref sref;

struct hfix {
	struct fixture *f;
	struct queue *q;
	struct submit *sp;
	struct junk *j;
};

static int setup(void **state)
{
	struct hfix *h = calloc(1, sizeof(*h));
	if (fixture_setup((void **)&h->f) < 0)
		return -1;
	settings_publish(&sref, &settings);
	struct queue_settings qs = { .hostname = "mx.example.test", .no_fsync = true };
	const char *err;
	h->q = queue_open(h->f->dir, &qs, &err);
	assert_non_null(h->q);
	h->sp = submit_new(h->f->s, h->q, &sref, NULL);
	struct junk_settings js;
	junk_settings_default(&js);
	js.hostname = "mx.example.test";
	h->j = junk_new(h->f->s, &js);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct hfix *h = *state;
	submit_free(&h->sp);
	queue_close(&h->q);
	junk_free(&h->j);
	void *f = h->f;
	fixture_teardown(&f);
	free(h);
	return 0;
}

static void train(struct hfix *h, int64_t acct, uint64_t *seed)
{
	struct buf b = { 0 };
	const char *err;
	for (int i = 0; i < 40; i++) {
		buf_reset(&b);
		bool spam = i % 2 == 0;
		corpus_message(seed, spam, "mx.example.test", &b);
		assert_int_equal(junk_train(h->j, acct, b.data, b.len, spam, !spam, &err), 1);
	}
	buf_free(&b);
}

static int send_mx(struct hfix *h, enum submit_kind kind, const char *const *to, size_t n, const char *text)
{
	struct submit_origin o = { .kind = kind, .client_ip = "192.0.2.9", .helo = "sender.example", .with = "ESMTP" };
	if (kind != SUBMIT_KIND_MX) {
		o.auth_user = "a@example.test";
		o.auth_account = h->f->acct;
		o.with = "ESMTPSA";
	}
	struct submit_message m = { .origin = &o,
				    .sender = kind == SUBMIT_KIND_MX ? "x@sender.example" : "a@example.test" };
	buf_puts(&m.data, text);
	struct submit_outcome out;
	return submit_send(h->sp, &m, to, n, h->f->a, &out);
}

/* The newest message of a mailbox and its keywords, or NULL. */
static const char *newest(struct hfix *h, int64_t acct, const char *mailbox, const char **kw_r)
{
	struct store_mailbox mb;
	const char *err;
	if (store_mailbox_get(h->f->s, h->f->a, acct, mailbox, &mb, &err) <= 0)
		return NULL;
	struct store_msg *msgs;
	size_t n;
	assert_true(store_msg_list(h->f->s, h->f->a, acct, mb.id, NULL, 0, &msgs, &n, &err) >= 0);
	if (n == 0)
		return NULL;
	const char *data;
	size_t len;
	assert_int_equal(store_msg_read(h->f->s, h->f->a, acct, mb.id, msgs[n - 1].uid, &data, &len, &err), 1);
	if (kw_r != NULL)
		*kw_r = msgs[n - 1].keywords;
	return data;
}

static size_t count(struct hfix *h, int64_t acct, const char *mailbox)
{
	struct store_mailbox mb;
	const char *err;
	assert_int_equal(store_mailbox_get(h->f->s, h->f->a, acct, mailbox, &mb, &err), 1);
	return (size_t)mb.messages;
}

static void verdicts(void **state)
{
	struct hfix *h = *state;
	uint64_t seed = 42;
	submit_hook_add(h->sp, &(struct submit_hook){ "junk", junk_hook_run, h->j });
	const char *to_b[] = { "b@example.test" }, *to_a[] = { "a@example.test" };
	struct buf b = { 0 };
	/* untrained: a header, INBOX */
	corpus_message(&seed, true, "mx.example.test", &b);
	assert_int_equal(send_mx(h, SUBMIT_KIND_MX, to_b, 1, b.data), SUBMIT_OK);
	const char *msg = newest(h, h->f->acct2, "INBOX", NULL);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "\r\nX-Postamt-Junk: untrained\r\n"));
	train(h, h->f->acct2, &seed);
	/* spam: Junk, $Junk, the verdict on top; a forged verdict is removed */
	buf_reset(&b);
	buf_puts(&b, "X-Postamt-Junk: ham; score=0.000;\r\n\tfolded\r\n");
	corpus_message(&seed, true, "mx.example.test", &b);
	assert_int_equal(send_mx(h, SUBMIT_KIND_MX, to_b, 1, b.data), SUBMIT_OK);
	const char *kw;
	msg = newest(h, h->f->acct2, "Junk", &kw);
	assert_non_null(msg);
	assert_string_equal(kw, "$Junk");
	assert_non_null(strstr(msg, "\r\nX-Postamt-Junk: spam; score="));
	assert_null(strstr(msg, "score=0.000;"));
	assert_null(strstr(msg, "folded"));
	/* ham: INBOX */
	size_t inbox = count(h, h->f->acct2, "INBOX");
	buf_reset(&b);
	corpus_message(&seed, false, "mx.example.test", &b);
	assert_int_equal(send_mx(h, SUBMIT_KIND_MX, to_b, 1, b.data), SUBMIT_OK);
	assert_int_equal(count(h, h->f->acct2, "INBOX"), inbox + 1);
	msg = newest(h, h->f->acct2, "INBOX", &kw);
	assert_non_null(strstr(msg, "\r\nX-Postamt-Junk: ham; score="));
	assert_string_equal(kw, "");
	/* a and b: a is untrained, so the spam goes to both INBOXes */
	size_t junk = count(h, h->f->acct2, "Junk");
	const char *to_ab[] = { "a@example.test", "b@example.test" };
	buf_reset(&b);
	corpus_message(&seed, true, "mx.example.test", &b);
	assert_int_equal(send_mx(h, SUBMIT_KIND_MX, to_ab, 2, b.data), SUBMIT_OK);
	assert_int_equal(count(h, h->f->acct2, "Junk"), junk);
	assert_int_equal(count(h, h->f->acct, "Junk"), 0);
	/* once both are trained and agree: Junk for both */
	train(h, h->f->acct, &seed);
	buf_reset(&b);
	corpus_message(&seed, true, "mx.example.test", &b);
	assert_int_equal(send_mx(h, SUBMIT_KIND_MX, to_ab, 2, b.data), SUBMIT_OK);
	assert_int_equal(count(h, h->f->acct2, "Junk"), junk + 1);
	assert_int_equal(count(h, h->f->acct, "Junk"), 1);
	/* submission: no verdict, no header; the recipients become the sender's contacts */
	struct store_junk_stats st;
	const char *err;
	assert_int_equal(store_junk_stats(h->f->s, h->f->a, h->f->acct, 1, &st, &err), 1);
	assert_int_equal(st.ncontacts, 0);
	const char *to_ar[] = { to_a[0], "Someone@Remote.example" };
	assert_int_equal(
		send_mx(h, SUBMIT_KIND_SUBMISSION, to_ar, 2, "From: a@example.test\r\nSubject: x\r\n\r\nhi\r\n"),
		SUBMIT_OK);
	msg = newest(h, h->f->acct, "INBOX", NULL);
	assert_null(strstr(msg, "X-Postamt-Junk"));
	assert_int_equal(store_junk_stats(h->f->s, h->f->a, h->f->acct, 1, &st, &err), 1);
	assert_int_equal(st.ncontacts, 2);
	assert_int_equal(store_junk_is_contact(h->f->s, h->f->acct, "someone@remote.example", &err), 1);
	buf_free(&b);
}

/* Stands in for the mail authentication hook: writes our Authentication-Results
 * with the DMARC result *ctx says. */
static int hook_authres(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	(void)reason_r;
	buf_printf(m->headers, "Authentication-Results: mx.example.test; dmarc=%s header.from=x\r\n",
		   *(const bool *)ctx ? "fail" : "pass");
	return SUBMIT_OK;
}

/* A contact's mail stays out of Junk, unless the earlier hook's
 * Authentication-Results (in m->headers, not in the message) says DMARC failed. */
static void contact_and_earlier_authres(void **state)
{
	struct hfix *h = *state;
	bool fail = false;
	submit_hook_add(h->sp, &(struct submit_hook){ "authres", hook_authres, &fail });
	submit_hook_add(h->sp, &(struct submit_hook){ "junk", junk_hook_run, h->j });
	uint64_t seed = 7;
	train(h, h->f->acct2, &seed);
	const char *err;
	const char *contact[] = { "friend@contact.example" };
	assert_int_equal(junk_contacts_add(h->j, h->f->acct2, contact, 1, &err), 1);
	/* spam from the contact: the score is halved, INBOX */
	struct buf b = { 0 };
	buf_puts(&b, "From: friend@contact.example\r\n");
	corpus_message(&seed, true, "elsewhere.example", &b);
	const char *to_b[] = { "b@example.test" };
	assert_int_equal(send_mx(h, SUBMIT_KIND_MX, to_b, 1, b.data), SUBMIT_OK);
	const char *msg = newest(h, h->f->acct2, "INBOX", NULL);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "X-Postamt-Junk: ham; score="));
	assert_int_equal(count(h, h->f->acct2, "Junk"), 0);
	/* the same with dmarc=fail from the earlier hook: Junk */
	fail = true;
	assert_int_equal(send_mx(h, SUBMIT_KIND_MX, to_b, 1, b.data), SUBMIT_OK);
	assert_int_equal(count(h, h->f->acct2, "Junk"), 1);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(contact_and_earlier_authres, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
