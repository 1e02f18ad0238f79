/* test_cli_queue.c: `postamt queue list` and `queue flush` (cli_queue.c) on a spool with a
 * pending, a deferred, a delivered and a failed recipient; usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli_queue.h"
#include "helpers.h"
#include "queue_int.h"

/* Runs cli_queue with stdout captured into out. */
static int run(struct config *cfg, const char *a0, char *out, size_t outlen)
{
	char path[] = "/tmp/postamt-queue-cli-XXXXXX";
	int fd = mkstemp(path);
	fflush(stdout);
	int saved = dup(1);
	dup2(fd, 1);
	char *argv[] = { (char *)a0, NULL };
	int r = cli_queue(cfg, a0 != NULL ? 1 : 0, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, out, outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return r;
}

static void test_list_and_flush(void **state)
{
	char *dir = make_tmpdir();
	struct config cfg = { .data_dir = dir };
	char out[8192];
	assert_int_equal(run(&cfg, "list", out, sizeof(out)), 0);
	assert_string_equal(out, "queue is empty\n");

	const char *err = NULL;
	struct queue_settings s = { .hostname = "h", .no_fsync = true };
	struct queue *q = queue_open(dir, &s, &err);
	struct queue_rcpt r[] = { { .address = "a@x.test" }, { .address = "b@x.test" }, { .address = "c@y.test" },
				  { .address = "d@y.test" } };
	struct queue_msg m = { .sender = "alice@example.test", .rcpts = r, .nrcpts = 4, .data = TEST_MESSAGE,
			       .len = strlen(TEST_MESSAGE) };
	char id[QUEUE_ID_MAX];
	assert_int_equal(queue_submit(q, &m, id, &err), 1);
	queue_close(&q);
	/* give it a history as the server would */
	q = queue_open(dir, &s, &err);
	struct qmsg *qm = q->msgs;
	qm->rcpts[1].attempts = 2;
	qm->rcpts[1].next = time(NULL) + 3 * 3600 + 60;
	qm->rcpts[1].diag = strdup("451 4.3.0 try again later");
	qm->rcpts[2].state = QUEUE_RCPT_DELIVERED;
	qm->rcpts[2].diag = strdup("250 ok");
	qm->rcpts[3].state = QUEUE_RCPT_FAILED;
	qm->rcpts[3].reported = true;
	qm->rcpts[3].diag = strdup("550 5.1.1 no such user");
	char qdir[300];
	snprintf(qdir, sizeof(qdir), "%s/queue", dir);
	assert_int_equal(queue_spool_write_state(qdir, qm, false, &err), 1);
	queue_close(&q);

	assert_int_equal(run(&cfg, "list", out, sizeof(out)), 0);
	assert_non_null(strstr(out, id));
	assert_non_null(strstr(out, "<alice@example.test>"));
	assert_non_null(strstr(out, "    <a@x.test> pending, due now\n"));
	assert_non_null(strstr(out, "    <b@x.test> deferred, next attempt in 3h0"));
	assert_non_null(strstr(out, "(2 attempts): 451 4.3.0 try again later\n"));
	assert_non_null(strstr(out, "    <c@y.test> delivered\n"));
	assert_non_null(strstr(out, "    <d@y.test> failed (bounced): 550 5.1.1 no such user\n"));
	assert_non_null(strstr(out, "1 message, 2 recipients pending\n"));

	assert_int_equal(run(&cfg, "flush", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "flush requested: 1 message"));
	assert_int_equal(count_files(qdir, "flush"), 1);

	assert_int_equal(run(&cfg, "bogus", out, sizeof(out)), 1);
	assert_int_equal(run(&cfg, NULL, out, sizeof(out)), 1);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_and_flush),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
