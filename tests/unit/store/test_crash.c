/* test_crash.c: durability across SIGKILL. A child process delivers in a loop (fsync
 * on) and reports each delivery it was told is done (UID and a marker) through a pipe;
 * the parent kills it at a random moment, reopens the store with the recovery pass and
 * checks: every reported delivery is present exactly once, PRAGMA integrity_check and
 * the usage/counter checks pass, and no blob file is left without its row. 50 rounds. */
#include "helpers.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static int count_blobs(const char *dir)
{
	int n = 0;
	char p[512];
	for (int i = 0; i < 256; i++) {
		snprintf(p, sizeof(p), "%s/blobs/%02x", dir, i);
		DIR *d = opendir(p);
		if (d == NULL)
			continue;
		struct dirent *de;
		while ((de = readdir(d)) != NULL)
			n += de->d_name[0] != '.';
		closedir(d);
	}
	return n;
}

static void child(const char *dir, int64_t acct, int fd, int round)
{
	struct store_options opt = { .create = false };
	struct store *s;
	const char *err;
	if (store_open(dir, &opt, &s, &err) < 0)
		_exit(2);
	for (int i = 0;; i++) {
		char text[256];
		snprintf(text, sizeof(text), "Subject: r%d-m%d\r\nX-Pad: %0*d\r\n\r\nbody %d\r\n", round, i,
			 (i * 37) % 200, 0, i);
		int res;
		uint32_t uid;
		struct store_delivery d = { .data = text, .len = strlen(text), .accounts = &acct,
					    .naccounts = 1, .results = &res, .uids = &uid };
		if (store_deliver(s, &d, &err) == 1) {
			char line[64];
			int n = snprintf(line, sizeof(line), "%u r%d-m%d\n", uid, round, i);
			if (write(fd, line, (size_t)n) != n)
				_exit(3);
		}
	}
}

static void test_crash(void **state)
{
	(void)state;
	char dir[] = "/tmp/postamt-crash-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct store *s = open_in(dir, true);
	const char *err;
	int64_t acct;
	assert_int_equal(store_domain_add(s, "x.test", &err), 1);
	assert_int_equal(store_account_add(s, "u@x.test", "$y$", 0, &acct, &err), 1);
	store_close(&s);
	srand((unsigned)time(NULL));
	struct arena *a = arena_new();
	/* every delivery ever reported: subject per uid */
	size_t cap = 1 << 16, nrep = 0;
	uint32_t *rep_uid = calloc(cap, sizeof(uint32_t));
	char (*rep_subj)[32] = calloc(cap, 32);
	for (int round = 0; round < 50; round++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			child(dir, acct, p[1], round);
			_exit(0);
		}
		close(p[1]);
		/* Even rounds kill at a random time after the fork (possibly while the store
		 * opens); odd ones after the first reported delivery, so that a loaded machine,
		 * slow to start the child, still has deliveries to check. */
		FILE *in = fdopen(p[0], "r");
		char line[128];
		bool first = round % 2 == 1 && fgets(line, sizeof(line), in) != NULL;
		struct timespec ts = { 0, (long)(5 + rand() % 60) * 1000000L };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		while (first || fgets(line, sizeof(line), in) != NULL) {
			first = false;
			uint32_t uid;
			char subj[32];
			if (sscanf(line, "%u %31s", &uid, subj) == 2 && nrep < cap) {
				rep_uid[nrep] = uid;
				snprintf(rep_subj[nrep], 32, "%s", subj);
				nrep++;
			}
		}
		fclose(in);
		/* restart with recovery, check */
		struct store_options opt = { .recover = true };
		assert_int_equal(store_open(dir, &opt, &s, &err), 1);
		assert_int_equal(store_check(s, &err), 1);
		struct store_mailbox mb;
		assert_int_equal(store_mailbox_get(s, a, acct, "INBOX", &mb, &err), 1);
		struct store_msg *m;
		size_t n;
		assert_int_equal(store_msg_list(s, a, acct, mb.id, NULL, 0, &m, &n, &err), 1);
		for (size_t i = 0; i < nrep; i++) {
			struct store_msg_meta meta;
			int r = store_msg_meta(s, a, acct, mb.id, rep_uid[i], &meta, &err);
			if (r != 1 || strcmp(meta.subject, rep_subj[i]) != 0)
				fail_msg("round %d: reported uid %u (%s) missing", round, rep_uid[i], rep_subj[i]);
		}
		/* exactly once: subjects are unique */
		for (size_t i = 1; i < n; i++)
			assert_true(m[i].uid > m[i - 1].uid);
		/* no blob without a row, no row without a blob */
		struct store_stats st;
		store_get_stats(s, &st);
		store_close(&s);
		int blobs = count_blobs(dir);
		assert_int_equal((size_t)blobs, n);
		arena_clear(a);
	}
	print_message("crash test: %zu reported deliveries survived 50 SIGKILLs\n", nrep);
	assert_true(nrep > 0);
	free(rep_uid);
	free(rep_subj);
	arena_free(&a);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_crash) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
