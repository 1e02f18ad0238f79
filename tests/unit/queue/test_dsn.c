/* test_dsn.c: the bounce (RFC 3464 in RFC 6522 multipart/report) compared byte for
 * byte with golden files: headers only (the default), the full message (RET=FULL),
 * recipients that asked for no failure report, and never a bounce of a bounce.
 * POSTAMT_UPDATE_GOLDEN=1 rewrites the golden files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "helpers.h"
#include "queue_int.h"

static const char *golden_dir;

static struct qmsg *failed_msg(void)
{
	struct qmsg *m = calloc(1, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "0000000AB00001ABCDEF");
	m->created = 1700000000; /* Tue, 14 Nov 2023 22:13:20 +0000 */
	m->sender = strdup("alice@example.test");
	m->envid = strdup("abc+2Bdef");
	m->nrcpts = 3;
	m->rcpts = calloc(3, sizeof(*m->rcpts));
	m->rcpts[0].address = strdup("bob@remote.test");
	m->rcpts[0].state = QUEUE_RCPT_FAILED;
	m->rcpts[0].code = 550;
	snprintf(m->rcpts[0].enh, 16, "5.1.1");
	m->rcpts[0].diag = strdup("550 5.1.1 <bob@remote.test>: Recipient address rejected");
	m->rcpts[0].remote_mta = strdup("mx.remote.test");
	m->rcpts[0].orcpt = strdup("rfc822;Bob+2Bx@remote.test");
	m->rcpts[1].address = strdup("carol@remote.test");
	m->rcpts[1].state = QUEUE_RCPT_DELIVERED;
	m->rcpts[1].code = 250;
	m->rcpts[2].address = strdup("dave@gone.test");
	m->rcpts[2].state = QUEUE_RCPT_FAILED;
	snprintf(m->rcpts[2].enh, 16, "4.4.7");
	m->rcpts[2].diag = strdup("connect to mx.gone.test [192.0.2.1]: connection refused");
	return m;
}

static void check_golden(const char *name, const struct buf *b)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", golden_dir, name);
	if (getenv("POSTAMT_UPDATE_GOLDEN") != NULL) {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		fwrite(b->data, 1, b->len, f);
		fclose(f);
	}
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *want = calloc(1, 1 << 16);
	size_t n = fread(want, 1, (1 << 16) - 1, f);
	fclose(f);
	if (n != b->len || memcmp(want, b->data, n) != 0)
		fail_msg("%s differs; got:\n%s", name, buf_str(b));
	free(want);
}

static void test_dsn_headers(void **state)
{
	struct qmsg *m = failed_msg();
	struct buf b = { 0 };
	struct dsn_input in = { .hostname = "mx.example.test", .boundary = "0000000AB00001ABCDEF/mx.example.test",
				.now = 1700086400, .m = m, .message = BYTES(TEST_MESSAGE) };
	assert_int_equal(queue_dsn_build(&in, &b), 2);
	check_golden("dsn_hdrs.eml", &b);
	/* the original body is not in it */
	assert_null(strstr(buf_str(&b), "Hello Bob."));
	assert_non_null(strstr(buf_str(&b), "Content-Type: text/rfc822-headers"));
	buf_free(&b);
	queue_msg_free(&m);
}

static void test_dsn_full(void **state)
{
	struct qmsg *m = failed_msg();
	m->ret = SMTP_RET_FULL;
	m->rcpts[2].notify = SMTP_NOTIFY_NEVER; /* not reported */
	struct buf b = { 0 };
	struct dsn_input in = { .hostname = "mx.example.test", .boundary = "B", .now = 1700086400, .m = m,
				.message = BYTES(TEST_MESSAGE) };
	assert_int_equal(queue_dsn_build(&in, &b), 1);
	check_golden("dsn_full.eml", &b);
	assert_non_null(strstr(buf_str(&b), "Content-Type: message/rfc822\r\n\r\n" TEST_MESSAGE));
	assert_null(strstr(buf_str(&b), "dave@gone.test"));
	buf_free(&b);
	queue_msg_free(&m);
}

static void test_no_dsn(void **state)
{
	struct qmsg *m = failed_msg();
	struct buf b = { 0 };
	struct dsn_input in = { .hostname = "h", .boundary = "B", .now = 1, .m = m, .message = BYTES(TEST_MESSAGE) };
	/* notify without FAILURE */
	m->rcpts[0].notify = SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY;
	m->rcpts[2].notify = SMTP_NOTIFY_NEVER;
	assert_int_equal(queue_dsn_build(&in, &b), 0);
	assert_int_equal(b.len, 0);
	/* a bounce is never bounced */
	m->rcpts[0].notify = 0;
	free(m->sender);
	m->sender = strdup("");
	assert_int_equal(queue_dsn_build(&in, &b), 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	queue_msg_free(&m);
}

int main(int argc, char **argv)
{
	golden_dir = argc > 1 ? argv[1] : "golden";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsn_headers),
		cmocka_unit_test(test_dsn_full),
		cmocka_unit_test(test_no_dsn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
