/* test_disk.c: a full disk (review finding 10): limits.disk_reserve refuses new
 * messages but never deletions, and on a real full file system (a tmpfs mounted by the
 * test: root only, skipped otherwise) deletions give up the reserve file and succeed,
 * other writes fail with STORE_ENOSPACE, and the reserve comes back once space is
 * free. A JMAP Email/set batch on a full disk is all or nothing. */
#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#define MIB (1024u * 1024u)

static struct store *open_opts(const char *dir, uint64_t disk_reserve, uint64_t reserve_file)
{
	struct store_options opt = { .create = true, .no_fsync = true, .disk_reserve = disk_reserve,
				     .reserve_file = reserve_file };
	struct store *s = NULL;
	const char *err = NULL;
	if (store_open(dir, &opt, &s, &err) < 0)
		fail_msg("store_open: %s", err);
	return s;
}

static void setup_account(struct store *s, struct arena *a, int64_t *acct_r, int64_t *inbox_r)
{
	const char *err;
	assert_int_equal(store_domain_add(s, "example.test", &err), 1);
	assert_int_equal(store_account_add(s, "a@example.test", "$y$x", 0, acct_r, &err), 1);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(s, a, *acct_r, "INBOX", &mb, &err), 1);
	*inbox_r = mb.id;
}

static int deliver_text(struct store *s, int64_t acct, const char *text, size_t len)
{
	int res = 0;
	struct store_delivery d = { .data = text, .len = len, .accounts = &acct, .naccounts = 1, .results = &res };
	const char *err = NULL;
	return store_deliver(s, &d, &err);
}

static size_t count_blobs(const char *dir)
{
	size_t n = 0;
	for (int i = 0; i < 256; i++) {
		char p[512];
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

/* limits.disk_reserve above the free space: new messages get STORE_ENOSPACE and leave
 * no file behind; flags, expunge and mailbox removal still work; 0 turns it off. */
static void test_disk_reserve_refuses_new_messages_only(void **state)
{
	(void)state;
	char dir[] = "/tmp/postamt-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct store *s = open_opts(dir, 0, 0);
	struct arena *a = arena_new();
	int64_t acct, inbox;
	setup_account(s, a, &acct, &inbox);
	const char *msg = "Subject: one\r\n\r\nbody\r\n";
	assert_int_equal(deliver_text(s, acct, msg, strlen(msg)), 1);
	assert_int_equal(deliver_text(s, acct, msg, strlen(msg)), 1);
	const char *err = NULL;
	assert_int_equal(store_space_check(s, 1000, &err), 1);

	store_set_disk_reserve(s, UINT64_MAX / 4); /* more than any disk has */
	assert_int_equal(store_space_check(s, 0, &err), STORE_ENOSPACE);
	assert_non_null(strstr(err, "disk"));
	assert_int_equal(deliver_text(s, acct, msg, strlen(msg)), STORE_ENOSPACE);
	struct store_append ap = { .account_id = acct, .mailbox_id = inbox, .data = msg, .len = strlen(msg) };
	assert_int_equal(store_append(s, &ap, &err), STORE_ENOSPACE);
	assert_int_equal(count_blobs(dir), 2);
	struct store_range r;
	struct store_flag_change fc = { .account_id = acct, .mailbox_id = inbox, .uids = uidset1(&r, 1, 2),
					.op = STORE_FLAGS_ADD, .flags = STORE_F_DELETED };
	assert_int_equal(store_flags(s, a, &fc, &err), 1);
	size_t n = 0;
	assert_int_equal(store_expunge(s, a, acct, inbox, NULL, true, NULL, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_int_equal(count_blobs(dir), 0);

	store_set_disk_reserve(s, 0);
	assert_int_equal(deliver_text(s, acct, msg, strlen(msg)), 1);
	assert_int_equal(store_check(s, &err), 1);
	store_close(&s);
	arena_free(&a);
	rm_rf(dir);
}

/* Fills the file system of dir (as the test's user) until no byte is left. */
static void fill(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_true(fd >= 0);
	static char zero[65536];
	for (size_t size = sizeof(zero); size >= 1; size /= 2) {
		while (write(fd, zero, size) > 0)
			;
		assert_true(errno == ENOSPC);
	}
	close(fd);
}

static uint64_t free_bytes(const char *dir)
{
	struct statvfs v;
	assert_int_equal(statvfs(dir, &v), 0);
	return (uint64_t)v.f_bavail * v.f_frsize;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Mounts a 48 MiB tmpfs on a new directory dir (root only: false otherwise) and
 * names the reserve file and a filler file in it. */
static bool small_tmpfs(char *dir, char reserve[300], char filler[300])
{
	assert_non_null(mkdtemp(dir));
	if (geteuid() != 0 || mount("tmpfs", dir, "tmpfs", 0, "size=48m,mode=0700") < 0) {
		rmdir(dir);
		return false;
	}
	snprintf(reserve, 300, "%s/db/reserve", dir);
	snprintf(filler, 300, "%s/filler", dir);
	return true;
}

/* A real full disk: a 48 MiB tmpfs (room for the full-text index of the 256 KiB messages) with a 2 MiB reserve file. */
static void test_full_disk_deletions_use_the_reserve(void **state)
{
	(void)state;
	char dir[] = "/tmp/postamt-test-XXXXXX", reserve[300], filler[300];
	if (!small_tmpfs(dir, reserve, filler))
		skip(); /* needs root (CI runs these as root) */
	struct store *s = open_opts(dir, 0, 2 * MIB);
	assert_true(exists(reserve));
	struct arena *a = arena_new();
	int64_t acct, inbox;
	setup_account(s, a, &acct, &inbox);
	size_t len = 256 * 1024;
	char *big = malloc(len);
	memset(big, 'x', len);
	memcpy(big, "Subject: big\r\n\r\n", 16);
	for (int i = 0; i < 8; i++)
		assert_int_equal(deliver_text(s, acct, big, len), 1);
	/* start over with an empty WAL (store_close checkpoints and truncates it), so
	 * that every later write of the database needs new space */
	store_close(&s);
	s = open_opts(dir, 0, 2 * MIB);
	fill(filler);
	assert_int_equal(free_bytes(dir), 0);

	const char *err = NULL;
	uint32_t first_recent = 0;
	assert_int_equal(store_mailbox_claim_recent(s, acct, inbox, &first_recent, &err), STORE_ENOSPACE);
	assert_true(exists(reserve)); /* a write that does not delete leaves the reserve */
	assert_int_equal(deliver_text(s, acct, big, len), STORE_ENOSPACE);
	assert_int_equal(count_blobs(dir), 8);

	/* setting \Deleted: fails, gives up the reserve, runs again */
	struct store_range r;
	struct store_flag_change fc = { .account_id = acct, .mailbox_id = inbox, .uids = uidset1(&r, 1, 8),
					.op = STORE_FLAGS_ADD, .flags = STORE_F_DELETED };
	assert_int_equal(store_flags(s, a, &fc, &err), 1);
	assert_int_equal(fc.nchanged, 8);
	assert_false(exists(reserve));
	size_t n = 0;
	assert_int_equal(store_expunge(s, a, acct, inbox, NULL, true, NULL, &n, &err), 1);
	assert_int_equal(n, 8);
	assert_int_equal(count_blobs(dir), 0);
	assert_true(free_bytes(dir) >= 8 * len);

	/* with the space back the committer re-creates the reserve (it looks once a second) */
	unlink(filler);
	for (int i = 0; i < 100 && !exists(reserve); i++)
		usleep(100 * 1000);
	assert_true(exists(reserve));
	assert_int_equal(deliver_text(s, acct, big, len), 1);
	assert_int_equal(store_check(s, &err), 1);
	store_close(&s);
	arena_free(&a);
	free(big);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* JMAP Email/set on a real full disk (issue 15 item 6): a batch of keyword changes
 * fails as a whole with STORE_ENOSPACE and leaves nothing changed (no flag, no
 * MODSEQ); a batch that moves to Trash gives up the reserve and applies entirely. */
static void test_full_disk_email_batch_all_or_nothing(void **state)
{
	(void)state;
	char dir[] = "/tmp/postamt-test-XXXXXX", reserve[300], filler[300];
	if (!small_tmpfs(dir, reserve, filler))
		skip(); /* needs root (CI runs these as root) */
	struct store *s = open_opts(dir, 0, 2 * MIB);
	struct arena *a = arena_new();
	int64_t acct, inbox;
	setup_account(s, a, &acct, &inbox);
	const char *msg = "Subject: one\r\n\r\nbody\r\n";
	for (int i = 0; i < 20; i++)
		assert_int_equal(deliver_text(s, acct, msg, strlen(msg)), 1);
	store_close(&s);
	s = open_opts(dir, 0, 2 * MIB);
	fill(filler);
	const char *err = NULL;
	struct store_msg *m;
	size_t n;
	assert_int_equal(store_msg_list(s, a, acct, inbox, NULL, 0, &m, &n, &err), 1);
	assert_int_equal(n, 20);
	struct store_account before;
	assert_int_equal(store_account_get_by_id(s, a, acct, &before, &err), 1);
	const char *kws[] = { "work", NULL };
	struct store_email_update items[20];
	for (size_t i = 0; i < n; i++)
		items[i] = (struct store_email_update){ .email_id = m[i].email_id, .add_flags = STORE_F_SEEN,
							.add_keywords = kws };
	struct store_email_update_batch b = { .account_id = acct, .items = items, .n = n };
	assert_int_equal(store_email_update_batch(s, a, &b, &err), STORE_ENOSPACE);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(items[i].result, STORE_ENOSPACE);
	assert_true(exists(reserve));
	struct store_account after;
	assert_int_equal(store_account_get_by_id(s, a, acct, &after, &err), 1);
	assert_int_equal(after.modseq, before.modseq);
	assert_int_equal(store_msg_list(s, a, acct, inbox, NULL, 0, &m, &n, &err), 1);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(m[i].flags & STORE_F_SEEN, 0);
		assert_string_equal(m[i].keywords, "");
	}
	/* moving them to Trash deletes: it may use the reserve, and applies to all */
	struct store_mailbox trash;
	assert_int_equal(store_mailbox_get(s, a, acct, "Trash", &trash, &err), 1);
	int64_t to_trash[] = { trash.id };
	for (size_t i = 0; i < n; i++)
		items[i] = (struct store_email_update){ .email_id = m[i].email_id, .add_flags = STORE_F_SEEN,
							.mailbox_ids = to_trash, .nmailboxes = 1 };
	assert_int_equal(store_email_update_batch(s, a, &b, &err), 1);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(items[i].result, 1);
	assert_false(exists(reserve));
	assert_int_equal(store_msg_list(s, a, acct, trash.id, NULL, 0, &m, &n, &err), 1);
	assert_int_equal(n, 20);
	assert_int_equal(store_msg_list(s, a, acct, inbox, NULL, 0, &m, &n, &err), 1);
	assert_int_equal(n, 0);
	unlink(filler);
	assert_int_equal(store_check(s, &err), 1);
	store_close(&s);
	arena_free(&a);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_reserve_refuses_new_messages_only),
		cmocka_unit_test(test_full_disk_deletions_use_the_reserve),
		cmocka_unit_test(test_full_disk_email_batch_all_or_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
