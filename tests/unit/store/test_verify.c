/* test_verify.c: the store's part of `postamt verify` and `postamt backup`
 * (store_verify.c, store_backup.c): a sound store has no problem; a message kept only
 * by a pending junk filter lesson is no orphan (store_lesson.c pins it on purpose);
 * a wrong counter, an orphan email row and an orphan file are found, one line each, and
 * --repair fixes them without deleting mail (the files go to lost+found); a
 * snapshot has what the store had, and its blob walk lists every message file. */
#include "helpers.h"

#include "store_backup.h"
#include "store_junk.h"

#include <sqlite3.h>
#include <sys/stat.h>

static const char msg[] = "From: x@example.org\r\nTo: a@example.test\r\nSubject: hi\r\n\r\nbody\r\n";

struct lines {
	char text[16][256];
	size_t n;
};

static void collect(void *arg, const char *line)
{
	struct lines *l = arg;
	if (l->n < 16)
		snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", line);
}

static bool has(const struct lines *l, const char *needle)
{
	for (size_t i = 0; i < l->n; i++)
		if (strstr(l->text[i], needle) != NULL)
			return true;
	return false;
}

static struct store_verify_result verify(struct fixture *f, bool repair, struct lines *l)
{
	struct store_verify_result r;
	const char *err = NULL;
	memset(l, 0, sizeof(*l));
	if (store_verify(f->s, repair, collect, l, &r, &err) != 1)
		fail_msg("store_verify: %s", err ? err : "");
	return r;
}

static void sql(struct fixture *f, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/db/store.sqlite", f->dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	char *err = NULL;
	if (sqlite3_exec(db, text, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", text, err);
	sqlite3_close(db);
}

static void test_sound_store(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 3; i++)
		deliver1(f, f->acct, msg);
	struct lines l;
	struct store_verify_result r = verify(f, false, &l);
	if (r.problems != 0)
		fail_msg("%s", l.text[0]);
	assert_int_equal(l.n, 0);
}

static void test_pending_lesson_is_no_orphan(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox junk;
	const char *err;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct, "Junk", &junk, &err), 1);
	uint32_t uid = deliver1(f, f->acct, msg);
	struct store_range rg = { uid, uid };
	struct store_copy c = { .account_id = f->acct,
				.src_mailbox_id = f->inbox,
				.dst_mailbox_id = junk.id,
				.uids = { &rg, 1 },
				.move = true };
	assert_int_equal(store_copy(f->s, f->a, &c, &err), 1);
	struct store_range all = { 1, STORE_UID_MAX };
	struct store_uidset set = { &all, 1 };
	assert_int_equal(store_expunge(f->s, NULL, f->acct, junk.id, &set, false, NULL, NULL, &err), 1);
	/* the email row has no message now, only its lesson */
	struct lines l;
	struct store_verify_result r = verify(f, true, &l);
	if (r.problems != 0)
		fail_msg("%s", l.text[0]);
	struct store_lesson *v;
	size_t n;
	assert_int_equal(store_lessons_next(f->s, f->a, 4, &v, &n, &err), 1);
	assert_int_equal(n, 1); /* --repair left it for the learner */
}

static void test_counter_and_orphans_repaired(void **state)
{
	struct fixture *f = *state;
	deliver1(f, f->acct, msg);
	uint32_t gone = deliver1(f, f->acct, msg);
	deliver1(f, f->acct, msg);
	/* a wrong counter, an email row whose message went, a file nothing names */
	sql(f, "UPDATE mailboxes SET unseen = unseen + 5 WHERE name = 'INBOX'");
	sql(f, "UPDATE mailboxes SET uidnext = 2 WHERE name = 'INBOX' AND account_id = (SELECT id FROM accounts"
	       " WHERE address = 'a@example.test')");
	char text[256];
	snprintf(text, sizeof(text), "DELETE FROM messages WHERE uid = %u", gone);
	sql(f, text);
	char orphan[512];
	snprintf(orphan, sizeof(orphan), "%s/blobs/ab/cdef0123456789abcdef0123456789", f->dir);
	char sub[512];
	snprintf(sub, sizeof(sub), "%s/blobs/ab", f->dir);
	mkdir(sub, 0700); /* may exist */
	FILE *o = fopen(orphan, "w");
	assert_non_null(o);
	fputs("nobody's\r\n", o);
	fclose(o);
	struct lines l;
	struct store_verify_result r = verify(f, false, &l);
	assert_true(has(&l, "unseen counter is"));
	assert_true(has(&l, "INBOX: UID 3 is not below UIDNEXT 2"));
	assert_true(has(&l, "orphan message: email"));
	assert_true(has(&l, "orphan file blobs/ab/cdef0123456789abcdef0123456789"));
	assert_true(r.problems >= 3);
	assert_int_equal(r.repaired, 0);
	r = verify(f, true, &l);
	assert_true(r.problems >= 3);
	if (r.repaired != r.problems) {
		for (size_t i = 0; i < l.n; i++)
			fprintf(stderr, "%s\n", l.text[i]);
		fail_msg("%u of %u repaired", r.repaired, r.problems);
	}
	assert_true(has(&l, "lost+found"));
	assert_true(has(&l, "UIDNEXT raised to 4"));
	char lf[512];
	snprintf(lf, sizeof(lf), "%s/lost+found/abcdef0123456789abcdef0123456789", f->dir);
	struct stat st;
	assert_int_equal(stat(lf, &st), 0);
	assert_int_equal(stat(orphan, &st), -1);
	r = verify(f, false, &l);
	if (r.problems != 0)
		fail_msg("after --repair: %s", l.text[0]);
}

/* A file of the right size with other bytes: found by the digest recorded at delivery,
 * and left reported by --repair (only a backup has the right bytes). */
static void test_damaged_file(void **state)
{
	struct fixture *f = *state;
	uint32_t uid = deliver1(f, f->acct, msg);
	struct store_msg_meta meta;
	const char *err;
	assert_int_equal(store_msg_meta(f->s, f->a, f->acct, f->inbox, uid, &meta, &err), 1);
	char path[512];
	snprintf(path, sizeof(path), "%s/blobs", f->dir);
	char cmd[700];
	/* the one message file: overwrite its first byte in place */
	snprintf(cmd, sizeof(cmd), "f=$(find %s -type f) && printf X | dd of=$f bs=1 count=1 conv=notrunc 2>/dev/null",
		 path);
	assert_int_equal(system(cmd), 0);
	struct lines l;
	struct store_verify_result r = verify(f, true, &l);
	assert_int_equal(r.problems, 1);
	assert_int_equal(r.repaired, 0);
	assert_true(
		has(&l, "is damaged: its SHA-256 differs from the one recorded at delivery (a@example.test INBOX UID"));
}

static int count_blob(void *arg, const struct store_blob_info *b)
{
	size_t *n = arg;
	assert_non_null(b->sha256);
	assert_int_equal(strncmp(b->relpath, "blobs/", 6), 0);
	(*n)++;
	return 1;
}

static void test_snapshot(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 4; i++)
		deliver1(f, f->acct, msg);
	deliver1(f, f->acct2, msg);
	char path[512];
	snprintf(path, sizeof(path), "%s/snap.sqlite", f->dir);
	const char *err = NULL;
	assert_int_equal(store_snapshot(f->s, path, &err), 1);
	assert_true(store_snapshot(f->s, path, &err) < 0); /* never over an existing file */
	size_t n = 0;
	struct store_counts counts;
	assert_int_equal(store_snapshot_blobs(path, count_blob, &n, &counts, &err), 1);
	assert_int_equal(n, 5);
	assert_int_equal(counts.messages, 5);
	assert_int_equal(counts.emails, 5);
	assert_int_equal(counts.accounts, 2);
	assert_int_equal(counts.schema, STORE_SCHEMA_VERSION);
	int64_t version;
	assert_int_equal(store_schema_version(path, &version, &err), 1);
	assert_int_equal(version, STORE_SCHEMA_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sound_store, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_pending_lesson_is_no_orphan, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_counter_and_orphans_repaired, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_damaged_file, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
