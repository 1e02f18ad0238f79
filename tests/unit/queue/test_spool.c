/* test_spool.c: the queue's files: header and state round trips, escaping, recovery
 * after a crash (temp files, orphan state files, a damaged file), submission and
 * listing without a running queue, the flush trigger and the backoff schedule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"
#include "queue_int.h"

static struct qmsg *sample(void)
{
	struct qmsg *m = calloc(1, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "0000000AB00001ABCDEF");
	m->created = 1700000000;
	m->sender = strdup("\"a b\"@example.test");
	m->envid = strdup("QQ+2B1");
	m->ret = SMTP_RET_FULL;
	m->smtputf8 = true;
	m->auth_user = strdup("alice@example.test");
	m->size = 42;
	m->nrcpts = 3;
	m->rcpts = calloc(3, sizeof(*m->rcpts));
	const char *addr[] = { "bob@remote.test", "-", "carol%x@other.test" };
	for (int i = 0; i < 3; i++) {
		m->rcpts[i].address = strdup(addr[i]);
		m->rcpts[i].domain = strrchr(m->rcpts[i].address, '@') ? strrchr(m->rcpts[i].address, '@') + 1 : "";
	}
	m->rcpts[0].notify = SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY;
	m->rcpts[0].orcpt = strdup("rfc822;bob@remote.test");
	return m;
}

static void test_header_round_trip(void **state)
{
	struct qmsg *m = sample();
	struct buf b = { 0 };
	queue_spool_header_encode(m, &b);
	buf_puts(&b, "message bytes");
	/* a prefix is "need more", never an error */
	for (size_t n = 0; n < b.len - 13; n++) {
		struct qmsg *x = NULL;
		const char *err;
		assert_int_equal(queue_spool_header_decode("X", (struct bytes){ b.data, n }, &x, &err), 0);
	}
	struct qmsg *d = NULL;
	const char *err = NULL;
	assert_int_equal(queue_spool_header_decode(m->id, (struct bytes){ b.data, b.len }, &d, &err), 1);
	assert_string_equal(d->id, m->id);
	assert_int_equal(d->created, m->created);
	assert_string_equal(d->sender, m->sender);
	assert_string_equal(d->envid, m->envid);
	assert_int_equal(d->ret, SMTP_RET_FULL);
	assert_true(d->smtputf8);
	assert_string_equal(d->auth_user, "alice@example.test");
	assert_int_equal(d->size, 42);
	assert_int_equal(d->offset, b.len - 13);
	assert_int_equal(d->nrcpts, 3);
	assert_string_equal(d->rcpts[0].address, "bob@remote.test");
	assert_string_equal(d->rcpts[0].domain, "remote.test");
	assert_int_equal(d->rcpts[0].notify, SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY);
	assert_string_equal(d->rcpts[0].orcpt, "rfc822;bob@remote.test");
	assert_string_equal(d->rcpts[1].address, "-");
	assert_null(d->rcpts[1].orcpt);
	assert_string_equal(d->rcpts[2].address, "carol%x@other.test");
	queue_msg_free(&d);

	/* the null sender */
	free(m->sender);
	m->sender = strdup("");
	buf_reset(&b);
	queue_spool_header_encode(m, &b);
	assert_int_equal(queue_spool_header_decode(m->id, (struct bytes){ b.data, b.len }, &d, &err), 1);
	assert_string_equal(d->sender, "");
	queue_msg_free(&d);

	assert_int_equal(queue_spool_header_decode("X", BYTES("From: someone\r\n\r\n"), &d, &err), -1);
	assert_int_equal(queue_spool_header_decode("X", BYTES("POSTAMT-QUEUE 1\nsize 1\n\nx"), &d, &err), -1);
	buf_free(&b);
	queue_msg_free(&m);
}

static void test_state_round_trip(void **state)
{
	struct qmsg *m = sample();
	m->rcpts[0].state = QUEUE_RCPT_DELIVERED;
	m->rcpts[0].code = 250;
	snprintf(m->rcpts[0].enh, sizeof(m->rcpts[0].enh), "2.0.0");
	m->rcpts[0].diag = strdup("250 2.0.0 Ok: queued as 12345");
	m->rcpts[0].remote_mta = strdup("mx.remote.test");
	m->rcpts[1].state = QUEUE_RCPT_PENDING;
	m->rcpts[1].attempts = 3;
	m->rcpts[1].next = 1700001234;
	m->rcpts[1].diag = strdup("connect to mx [1.2.3.4]: connection refused");
	m->rcpts[2].state = QUEUE_RCPT_FAILED;
	m->rcpts[2].code = 550;
	m->rcpts[2].diag = strdup("550 5.1.1 100% unknown\nsecond line");
	struct buf b = { 0 };
	queue_spool_state_encode(m, &b);

	struct qmsg *d = sample();
	const char *err = NULL;
	assert_int_equal(queue_spool_state_decode(d, (struct bytes){ b.data, b.len }, &err), 1);
	assert_int_equal(d->rcpts[0].state, QUEUE_RCPT_DELIVERED);
	assert_int_equal(d->rcpts[0].code, 250);
	assert_string_equal(d->rcpts[0].enh, "2.0.0");
	assert_string_equal(d->rcpts[0].diag, "250 2.0.0 Ok: queued as 12345");
	assert_string_equal(d->rcpts[0].remote_mta, "mx.remote.test");
	assert_int_equal(d->rcpts[1].state, QUEUE_RCPT_PENDING);
	assert_int_equal(d->rcpts[1].attempts, 3);
	assert_int_equal(d->rcpts[1].next, 1700001234);
	assert_null(d->rcpts[1].remote_mta);
	assert_int_equal(d->rcpts[2].state, QUEUE_RCPT_FAILED);
	assert_string_equal(d->rcpts[2].diag, "550 5.1.1 100% unknown\nsecond line");
	assert_string_equal(d->rcpts[2].enh, "");
	assert_int_equal(d->attempts, 3);
	assert_int_equal(d->next, 1700001234);
	assert_int_equal(queue_spool_state_decode(d, BYTES("garbage"), &err), -1);
	assert_int_equal(queue_spool_state_decode(d, BYTES("POSTAMT-QUEUE-STATE 1\nr 7 failed 0 0 550 - - -\n"), &err), -1);
	buf_free(&b);
	queue_msg_free(&m);
	queue_msg_free(&d);
}

static void test_escape(void **state)
{
	const char *vals[] = { "", "-", "a b", "100%", "x\r\ny", "plain@x", "ü@ß.de", "%41" };
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct buf b = { 0 };
		queue_spool_escape(vals[i], &b);
		assert_null(strpbrk(buf_str(&b), " \r\n"));
		assert_true(b.len > 0);
		char *u = queue_spool_unescape((struct bytes){ b.data, b.len });
		assert_string_equal(u, vals[i]);
		free(u);
		buf_free(&b);
	}
}

static void test_backoff(void **state)
{
	assert_int_equal(queue_backoff(0, 300, 14400), 0);
	assert_int_equal(queue_backoff(1, 300, 14400), 300);
	assert_int_equal(queue_backoff(2, 300, 14400), 600);
	assert_int_equal(queue_backoff(3, 300, 14400), 1200);
	assert_int_equal(queue_backoff(6, 300, 14400), 9600);
	assert_int_equal(queue_backoff(7, 300, 14400), 14400);
	assert_int_equal(queue_backoff(1000, 300, 14400), 14400);
	assert_int_equal(queue_backoff(40, 1, 3), 3);
	/* five days of retries with the defaults: about 35 attempts */
	unsigned long t = 0;
	unsigned n = 0;
	while (t < 5 * 86400) {
		t += queue_backoff(++n, 300, 14400);
	}
	assert_in_range(n, 30, 40);
}

static const struct queue_settings test_settings = { .hostname = "mx.example.test", .no_fsync = false };

static void submit_one(struct queue *q, const char *rcpt, char *id)
{
	struct queue_rcpt r = { .address = rcpt };
	struct queue_msg m = { .sender = "alice@example.test", .rcpts = &r, .nrcpts = 1, .data = TEST_MESSAGE,
			       .len = strlen(TEST_MESSAGE) };
	const char *err = NULL;
	assert_int_equal(queue_submit(q, &m, id, &err), 1);
}

static void test_submit_list_recover(void **state)
{
	char *dir = make_tmpdir();
	const char *err = NULL;
	struct queue *q = queue_open(dir, &test_settings, &err);
	assert_non_null(q);
	char id1[QUEUE_ID_MAX], id2[QUEUE_ID_MAX];
	submit_one(q, "bob@remote.test", id1);
	submit_one(q, "carol@other.test", id2);
	assert_string_not_equal(id1, id2);
	queue_close(&q);
	assert_null(q);

	char qdir[300];
	snprintf(qdir, sizeof(qdir), "%s/queue", dir);
	assert_int_equal(count_files(qdir, ""), 2);
	/* a crash leaves: a half-written message, a half-written state file, the state
	 * file of a message whose data file was already removed, and a damaged file */
	char path[400];
	snprintf(path, sizeof(path), "%s/tmp.0000000FF00000000000.123", qdir);
	write_text(path, "POSTAMT-QUEUE 1\ncreated 1\nsender a@b\nrcpt x@y 0 -\nsize 100\n\nhalf");
	snprintf(path, sizeof(path), "%s/tmp.%s.st.456", qdir, id1);
	write_text(path, "POSTAMT-QUEUE-STATE 1\nr 0 deliv");
	snprintf(path, sizeof(path), "%s/0000000EE00000000000.st", qdir);
	write_text(path, "POSTAMT-QUEUE-STATE 1\n");
	snprintf(path, sizeof(path), "%s/0000000DD00000000000", qdir);
	write_text(path, "POSTAMT-QUEUE 1\ncreated 1\nsender a@b\nrcpt x@y 0 -\nsize 100\n\ntoo short");

	/* the CLI view does not touch anything */
	struct arena *a = arena_new();
	struct queue_entry *e;
	size_t n;
	assert_int_equal(queue_list(dir, NULL, a, &e, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].id, id1);
	assert_string_equal(e[0].sender, "alice@example.test");
	assert_int_equal(e[0].nrcpts, 1);
	assert_string_equal(e[0].rcpts[0].address, "bob@remote.test");
	assert_int_equal(e[0].rcpts[0].state, QUEUE_RCPT_PENDING);
	assert_int_equal(e[0].size, strlen(TEST_MESSAGE));
	assert_string_equal(e[1].id, id2);
	assert_int_equal(count_files(qdir, "tmp."), 2);

	/* reopening recovers: temp files and orphan state go, the damaged file stays */
	q = queue_open(dir, &test_settings, &err);
	assert_non_null(q);
	assert_int_equal(q->nmsgs, 2);
	assert_int_equal(count_files(qdir, "tmp."), 0);
	assert_int_equal(count_files(qdir, "0000000EE"), 0);
	assert_int_equal(count_files(qdir, "0000000DD"), 1);
	struct buf data = { 0 };
	assert_int_equal(queue_spool_read_data(qdir, q->msgs, &data, &err), 1);
	assert_int_equal(data.len, strlen(TEST_MESSAGE));
	assert_memory_equal(data.data, TEST_MESSAGE, data.len);
	buf_free(&data);

	/* a state update is atomic and survives a reopen */
	q->msgs->rcpts[0].attempts = 2;
	q->msgs->rcpts[0].next = 1900000000;
	q->msgs->rcpts[0].diag = strdup("451 4.3.0 later");
	assert_int_equal(queue_spool_write_state(qdir, q->msgs, true, &err), 1);
	queue_close(&q);
	arena_clear(a);
	assert_int_equal(queue_list(dir, NULL, a, &e, &n, &err), 1);
	assert_int_equal(e[0].attempts, 2);
	assert_int_equal(e[0].next_attempt, 1900000000);
	assert_string_equal(e[0].rcpts[0].last_error, "451 4.3.0 later");

	/* flush leaves the trigger file */
	assert_int_equal(queue_flush(dir, NULL, &err), 1);
	assert_int_equal(count_files(qdir, "flush"), 1);

	/* removal */
	assert_int_equal(queue_spool_remove(qdir, id1, true, &err), 1);
	arena_clear(a);
	assert_int_equal(queue_list(dir, NULL, a, &e, &n, &err), 1);
	assert_int_equal(n, 1);
	arena_free(&a);
	rm_rf(dir);
	free(dir);
}

static void test_submit_rejects_bad_input(void **state)
{
	char *dir = make_tmpdir();
	const char *err = NULL;
	struct queue *q = queue_open(dir, &test_settings, &err);
	struct queue_rcpt r = { .address = "no-at-sign" };
	struct queue_msg m = { .sender = "a@b", .rcpts = &r, .nrcpts = 1, .data = "x", .len = 1 };
	assert_int_equal(queue_submit(q, &m, NULL, &err), -1);
	m.nrcpts = 0;
	assert_int_equal(queue_submit(q, &m, NULL, &err), -1);
	r.address = "a@b";
	m.nrcpts = 1;
	m.sender = "a\r\nb@c";
	assert_int_equal(queue_submit(q, &m, NULL, &err), -1);
	queue_close(&q);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_round_trip), cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_escape),            cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_submit_list_recover), cmocka_unit_test(test_submit_rejects_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
