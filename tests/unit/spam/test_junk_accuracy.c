/* test_junk_accuracy.c: the junk filter against the generated corpus
 * (tests/corpus): one account learns 50 spam and 50 ham messages through
 * junk_train, then judges 250 new spam and 250 new ham messages. At least 95% of
 * the new spam must be caught and at most 1% of the new ham misfiled. Prints
 * precision, recall, the CPU time per verdict and the model's size (docs/spam.md). */
#include "../store/helpers.h"

#include "corpus.h"
#include "junk.h"

#include <sqlite3.h>
#include <time.h>

#define TRAIN 50
#define TEST 250

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Bytes of the account's model on disk: the pages of junk_token (dbstat), or -1. */
static long long model_bytes(const char *path)
{
	sqlite3 *db;
	long long n = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "SELECT SUM(pgsize) FROM dbstat WHERE name = 'junk_token'", -1, &st, NULL) ==
		    SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				n = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(db);
	return n;
}

static void accuracy(void **state)
{
	struct fixture *f = *state;
	struct junk_settings set;
	junk_settings_default(&set);
	set.hostname = "mx.example.test";
	struct junk *j = junk_new(f->s, &set);
	const char *err = NULL;
	uint64_t seed = 0x9E3779B97F4A7C15ULL;
	struct buf b = { 0 };
	for (int i = 0; i < 2 * TRAIN; i++) {
		bool spam = i % 2 == 0;
		buf_reset(&b);
		corpus_message(&seed, spam, "mx.example.test", &b);
		if (junk_train(j, f->acct, b.data, b.len, spam ? 1 : 0, spam ? 0 : 1, &err) != 1)
			fail_msg("junk_train: %s", err);
	}
	struct store_junk_stats st;
	assert_int_equal(store_junk_stats(f->s, f->a, f->acct, 5, &st, &err), 1);
	assert_int_equal(st.model.nspam, TRAIN);
	assert_int_equal(st.model.nham, TRAIN);
	for (size_t i = 0; i < st.ntop_spam; i++)
		printf("top spam token: %lld %lld %s\n", (long long)st.top_spam[i].nspam,
		       (long long)st.top_spam[i].nham, st.top_spam[i].token);
	for (size_t i = 0; i < st.ntop_ham; i++)
		printf("top ham token: %lld %lld %s\n", (long long)st.top_ham[i].nspam, (long long)st.top_ham[i].nham,
		       st.top_ham[i].token);
	unsigned caught = 0, missed = 0, ham_ok = 0, misfiled = 0;
	double ms = 0, spam_low = 1, ham_high = 0;
	for (int i = 0; i < 2 * TEST; i++) {
		bool spam = i % 2 == 0;
		buf_reset(&b);
		const char *kind = corpus_message(&seed, spam, "mx.example.test", &b);
		struct junk_verdict v;
		double t0 = cpu_ms();
		assert_int_equal(junk_classify(j, f->acct, b.data, b.len, &v, &err), 1);
		ms += cpu_ms() - t0;
		assert_true(v.trained);
		if (spam && v.score < spam_low)
			spam_low = v.score;
		if (!spam && v.score > ham_high)
			ham_high = v.score;
		if (spam && v.spam)
			caught++;
		else if (spam)
			missed++, printf("missed spam (%s) score %.3f\n", kind, v.score);
		else if (v.spam)
			misfiled++, printf("misfiled ham (%s) score %.3f\n", kind, v.score);
		else
			ham_ok++;
	}
	buf_free(&b);
	double recall = (double)caught / TEST, precision = caught + misfiled ? (double)caught / (caught + misfiled) : 1;
	char path[300];
	snprintf(path, sizeof(path), "%s/db/store.sqlite", f->dir);
	printf("junk accuracy: %u/%d spam caught (recall %.3f), %u/%d ham misfiled (precision %.3f)\n", caught, TEST,
	       recall, misfiled, TEST, precision);
	printf("junk scores: lowest spam %.4f, highest ham %.4f\n", spam_low, ham_high);
	printf("junk cost: %.2f CPU-ms per verdict; model: %lld tokens, %lld bytes of junk_token pages after %d+%d "
	       "lessons\n",
	       ms / (2 * TEST), (long long)st.ntokens, model_bytes(path), TRAIN, TRAIN);
	assert_true(caught * 100 >= 95 * TEST);
	assert_true(misfiled * 100 <= 1 * TEST);
	junk_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(accuracy, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
