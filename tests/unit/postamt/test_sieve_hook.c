/* test_sieve_hook.c: the Sieve delivery hook (src/postamt/sieve_hook.c) in the real
 * pipeline over a real store and the real interpreter: the JMAP vacation fragment
 * (enabled, within its dates, once per sender), spamtest from the junk filter's
 * field, a script error kept in INBOX, the compiled form refreshed when stale. */
#include "../store/helpers.h"

#include "queue.h"
#include "sieve.h"
#include "sieve_hook.h"
#include "submit.h"

#include <time.h>

static struct settings settings = { .hostname = "mx.example.test",
				    .message_max = 1 << 20,
				    .recipients_max = 5,
				    .subaddress_delimiter = "+",
				    .sieve_max_script_size = 65536,
				    .sieve_max_redirects = 4,
				    .sieve_vacation_min_period = 86400,
				    .sieve_vacation_max_period = 86400 * 90,
				    .sieve_vacation_default_period = 86400 * 7 };
static struct settings_ref sref;

struct hfix {
	struct fixture *f;
	struct queue *q;
	struct submit *sp;
	struct sieve_hook *h;
	char keypath[300];
};

/* A stand-in for the junk filter: its verdict field, as junk_hook writes it. */
static int fake_junk(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	buf_puts(m->headers, "X-Postamt-Junk: spam; score=0.970; tokens=40\r\n");
	if (memmem(m->message.p, m->message.len, "Subject: junkit", 15) != NULL)
		m->mailbox = "Junk"; /* the filter's choice for this one */
	return SUBMIT_OK;
}

static int setup(void **state)
{
	struct hfix *p = calloc(1, sizeof(*p));
	if (fixture_setup((void **)&p->f) < 0)
		return -1;
	settings_publish(&sref, &settings);
	struct queue_settings qs = { .hostname = "mx.example.test", .no_fsync = true };
	const char *err;
	p->q = queue_open(p->f->dir, &qs, &err);
	assert_non_null(p->q);
	p->sp = submit_new(p->f->s, p->q, &sref, NULL);
	snprintf(p->keypath, sizeof(p->keypath), "%s/srs.key", p->f->dir);
	p->h = sieve_hook_new(p->f->s, p->sp, &sref, p->keypath);
	submit_hook_add(p->sp, &(struct submit_hook){ "junk", fake_junk, NULL });
	submit_hook_add(p->sp, &(struct submit_hook){ "sieve", sieve_hook_run, p->h });
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct hfix *p = *state;
	submit_free(&p->sp);
	sieve_hook_free(&p->h);
	queue_close(&p->q);
	void *f = p->f;
	fixture_teardown(&f);
	free(p);
	return 0;
}

/* b@example.test sends to a@example.test over the webmail. */
static int send_b_to_a(struct hfix *p, const char *subject)
{
	struct submit_origin o = { .kind = SUBMIT_KIND_WEBMAIL,
				   .helo = "webmail",
				   .with = "HTTPSA",
				   .auth_user = "b@example.test",
				   .auth_account = p->f->acct2 };
	struct submit_message m = { .origin = &o, .sender = "b@example.test" };
	buf_printf(&m.data,
		   "From: b@example.test\r\nTo: a@example.test\r\nSubject: %s\r\nMessage-ID: <%s@b>\r\n\r\nhi\r\n",
		   subject, subject);
	const char *rcpts[] = { "a@example.test" };
	struct submit_outcome out;
	return submit_send(p->sp, &m, rcpts, 1, p->f->a, &out);
}

/* The messages of a mailbox whose text contains needle. */
static size_t count_with(struct hfix *p, int64_t acct, const char *mailbox, const char *needle)
{
	struct store_mailbox mb;
	const char *err;
	if (store_mailbox_get(p->f->s, p->f->a, acct, mailbox, &mb, &err) <= 0)
		return 0;
	struct store_msg *msgs;
	size_t n, found = 0;
	assert_true(store_msg_list(p->f->s, p->f->a, acct, mb.id, NULL, 0, &msgs, &n, &err) >= 0);
	for (size_t i = 0; i < n; i++) {
		const char *data;
		size_t len;
		assert_int_equal(store_msg_read(p->f->s, p->f->a, acct, mb.id, msgs[i].uid, &data, &len, &err), 1);
		found += strstr(data, needle) != NULL;
	}
	return found;
}

static void put_active(struct hfix *p, const char *text, const void *compiled, size_t clen)
{
	struct store_sieve_limits l = { 0 };
	struct store_sieve_put sp = { .name = "main",
				      .text = text,
				      .text_len = strlen(text),
				      .compiled = compiled,
				      .compiled_len = clen,
				      .activate = true };
	const char *err;
	assert_int_equal(store_sieve_put(p->f->s, p->f->acct, &sp, &l, NULL, &err), 1);
}

static void jmap_vacation(void **state)
{
	struct hfix *p = *state;
	const char *err;
	int64_t now = (int64_t)time(NULL);
	struct store_sieve_vacation v = {
		.enabled = true, .from_date = now + 3600, .subject = "Out of office", .text_body = "Back soon."
	};
	assert_int_equal(store_sieve_vacation_set(p->f->s, p->f->acct, &v, &err), 1);
	assert_int_equal(send_b_to_a(p, "early"), SUBMIT_OK); /* before fromDate: no reply */
	assert_int_equal(count_with(p, p->f->acct2, "INBOX", "Subject: Out of office"), 0);
	v.from_date = now - 3600;
	v.to_date = now + 3600;
	assert_int_equal(store_sieve_vacation_set(p->f->s, p->f->acct, &v, &err), 1);
	assert_int_equal(send_b_to_a(p, "first"), SUBMIT_OK);
	assert_int_equal(send_b_to_a(p, "second"), SUBMIT_OK);
	assert_int_equal(count_with(p, p->f->acct2, "INBOX", "Subject: Out of office"), 1);
	assert_int_equal(count_with(p, p->f->acct2, "INBOX", "In-Reply-To: <first@b>"), 1);
	assert_int_equal(count_with(p, p->f->acct2, "INBOX", "Back soon."), 1);
	assert_int_equal(count_with(p, p->f->acct, "INBOX", "Subject: "), 3); /* all kept */
	/* with an HTML body: a multipart/alternative reply; new texts make a new :handle, so the
	 * same sender gets this one within the period */
	v.html_body = "<p>Back <b>soon</b>.</p>";
	v.subject = "HTML away";
	assert_int_equal(store_sieve_vacation_set(p->f->s, p->f->acct, &v, &err), 1);
	assert_int_equal(send_b_to_a(p, "third"), SUBMIT_OK);
	assert_int_equal(count_with(p, p->f->acct2, "INBOX", "multipart/alternative"), 1);
}

static void spamtest_and_errors(void **state)
{
	struct hfix *p = *state;
	put_active(
		p,
		"require [\"spamtest\", \"relational\", \"comparator-i;ascii-numeric\", \"fileinto\", \"mailbox\"];\r\n"
		"if spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"9\" { fileinto :create \"Spam\"; }\r\n",
		"stale", 5); /* a saved form that does not load: compiled again */
	assert_int_equal(send_b_to_a(p, "spammy"), SUBMIT_OK);
	assert_int_equal(count_with(p, p->f->acct, "Spam", "Subject: spammy"), 1);
	struct store_sieve_script sc;
	const char *err;
	assert_int_equal(store_sieve_get_active(p->f->s, p->f->a, p->f->acct, &sc, &err), 1);
	assert_true(sc.compiled_len > 5); /* refreshed */
	/* a run-time limit hit: kept in INBOX */
	struct settings s2 = settings;
	struct sieve_limits lim;
	sieve_limits_default(&lim);
	lim.max_cpu_steps = 1;
	s2.sieve_limits = &lim;
	settings_publish(&sref, &s2);
	assert_int_equal(send_b_to_a(p, "limited"), SUBMIT_OK);
	settings_publish(&sref, &settings);
	assert_int_equal(count_with(p, p->f->acct, "INBOX", "Subject: limited"), 1);
}

/* The vacation memory is per (script, :handle, sender): the same handle in another
 * script answers again. */
static void vacation_memory_per_script(void **state)
{
	struct hfix *p = *state;
	static const char text[] = "require \"vacation\";\r\nvacation :handle \"h\" :subject \"Gone\" \"Gone.\";\r\n";
	put_active(p, text, NULL, 0);
	assert_int_equal(send_b_to_a(p, "one"), SUBMIT_OK);
	assert_int_equal(send_b_to_a(p, "two"), SUBMIT_OK);
	assert_int_equal(count_with(p, p->f->acct2, "INBOX", "Subject: Gone"), 1);
	struct store_sieve_limits l = { 0 };
	struct store_sieve_put sp = { .name = "other", .text = text, .text_len = strlen(text), .activate = true };
	const char *err;
	assert_int_equal(store_sieve_put(p->f->s, p->f->acct, &sp, &l, NULL, &err), 1);
	assert_int_equal(send_b_to_a(p, "three"), SUBMIT_OK);
	assert_int_equal(count_with(p, p->f->acct2, "INBOX", "Subject: Gone"), 2);
}

/* A keep (explicit or implicit) goes where the junk filter put the message; fileinto
 * overrides it. */
static void keep_follows_junk(void **state)
{
	struct hfix *p = *state;
	const char *err;
	assert_true(store_mailbox_delete(p->f->s, p->f->acct, "Junk", &err) >= 0); /* made again */
	put_active(
		p,
		"require \"fileinto\";\r\nif header :contains \"subject\" \"filed\" { fileinto \"INBOX\"; stop; }\r\nkeep;\r\n",
		NULL, 0);
	assert_int_equal(send_b_to_a(p, "junkit-kept"), SUBMIT_OK);
	assert_int_equal(send_b_to_a(p, "junkit-filed"), SUBMIT_OK);
	assert_int_equal(count_with(p, p->f->acct, "Junk", "Subject: junkit-kept"), 1);
	assert_int_equal(count_with(p, p->f->acct, "INBOX", "Subject: junkit-filed"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(jmap_vacation, setup, teardown),
		cmocka_unit_test_setup_teardown(spamtest_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(vacation_memory_per_script, setup, teardown),
		cmocka_unit_test_setup_teardown(keep_follows_junk, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
