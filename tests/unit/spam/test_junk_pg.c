/* test_junk_pg.c: the junk filter's model and lessons shared by two nodes on one
 * PostgreSQL database (store_junk.c, store_lesson.c, docs/cluster.md): what node A
 * learns, node B's classification uses; the switch, contacts and statistics agree;
 * a message of more tokens than one statement's list (JUNK_CHUNK, 256) is counted
 * whole and unlearned whole; the learner's queue is read and emptied through either
 * node; deleting the account deletes its model. The PostgreSQL half runs when
 * POSTAMT_TEST_PG names a server (scripts/pg-fixture run); the many-token case also
 * runs on SQLite, where both "nodes" are one store. */
#include "../store/helpers.h"
#include "../store/test_pg.h"

#include "buf.h"
#include "junk.h"

#include <libpq-fe.h>

struct jfix {
	char dir[2][256];
	struct store *s[2]; /* node A, node B (the same store on SQLite) */
	int64_t acct;
	struct arena *a;
	PGconn *pg; /* NULL on SQLite */
};

static struct store *open_node(char *dir, const char *pg)
{
	snprintf(dir, 256, "/tmp/postamt-test-XXXXXX");
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp");
	struct store_options opt = { .create = true, .no_fsync = true, .postgresql = pg, .read_conns = 2 };
	struct store *s = NULL;
	const char *err = NULL;
	if (store_open(dir, &opt, &s, &err) < 0)
		fail_msg("store_open: %s", err);
	return s;
}

static void sql(struct jfix *f, const char *q)
{
	PGresult *r = PQexec(f->pg, q);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	PQclear(r);
}

static long long count(struct jfix *f, const char *q)
{
	PGresult *r = PQexec(f->pg, q);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	long long n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

static int setup_common(void **state, const char *uri)
{
	struct jfix *f = calloc(1, sizeof(*f));
	if (uri != NULL) {
		f->pg = PQconnectdb(uri);
		assert_int_equal(PQstatus(f->pg), CONNECTION_OK);
		sql(f, "SET client_min_messages TO warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	}
	f->s[0] = open_node(f->dir[0], uri);
	f->s[1] = uri != NULL ? open_node(f->dir[1], uri) : f->s[0];
	const char *err = NULL;
	if (store_domain_add(f->s[0], "example.test", &err) < 0 ||
	    store_account_add(f->s[0], "u@example.test", "$y$x", 0, &f->acct, &err) < 0)
		fail_msg("account: %s", err);
	f->a = arena_new();
	*state = f;
	return 0;
}

static int setup_pg(void **state)
{
	return setup_common(state, test_pg_uri("postamt_test_junk"));
}

static int setup_lite(void **state)
{
	return setup_common(state, NULL);
}

static int teardown(void **state)
{
	struct jfix *f = *state;
	if (f->s[1] != f->s[0])
		store_close(&f->s[1]);
	store_close(&f->s[0]);
	for (int i = 0; i < 2; i++)
		if (f->dir[i][0] != '\0')
			rm_rf(f->dir[i]);
	arena_free(&f->a);
	if (f->pg != NULL)
		PQfinish(f->pg);
	free(f);
	return 0;
}

static const char spam_msg[] = "From: Prize Desk <win@lottery.example>\r\nTo: u@example.test\r\n"
			       "Subject: You won a prize, claim your casino bonus now\r\n\r\n"
			       "Claim your free casino bonus prize now, winner. Click the link to claim.\r\n";
static const char ham_msg[] = "From: Anna <anna@colleague.example>\r\nTo: u@example.test\r\n"
			      "Subject: Minutes of the project meeting\r\n\r\n"
			      "Attached are the minutes of the project meeting; the review is on Tuesday.\r\n";

static struct junk *filter(struct store *s, unsigned min_trained)
{
	struct junk_settings set;
	junk_settings_default(&set);
	set.hostname = "mx.example.test";
	set.min_trained = min_trained;
	return junk_new(s, &set);
}

/* Lessons through node A, verdicts and statistics through node B. */
static void test_learn_a_judge_b(void **state)
{
	struct jfix *f = *state;
	struct junk *ja = filter(f->s[0], 2), *jb = filter(f->s[1], 2);
	const char *err;
	struct junk_verdict v;
	assert_int_equal(junk_classify(jb, f->acct, spam_msg, sizeof(spam_msg) - 1, &v, &err), 1);
	assert_false(v.trained);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(junk_train(ja, f->acct, spam_msg, sizeof(spam_msg) - 1, 1, 0, &err), 1);
		assert_int_equal(junk_train(ja, f->acct, ham_msg, sizeof(ham_msg) - 1, 0, 1, &err), 1);
	}
	assert_int_equal(junk_classify(jb, f->acct, spam_msg, sizeof(spam_msg) - 1, &v, &err), 1);
	assert_true(v.trained);
	assert_true(v.spam);
	assert_true(v.score > 0.95);
	assert_int_equal(junk_classify(jb, f->acct, ham_msg, sizeof(ham_msg) - 1, &v, &err), 1);
	assert_false(v.spam);
	assert_true(v.score < 0.05);
	struct store_junk_stats sa, sb;
	assert_int_equal(store_junk_stats(f->s[0], f->a, f->acct, 3, &sa, &err), 1);
	assert_int_equal(store_junk_stats(f->s[1], f->a, f->acct, 3, &sb, &err), 1);
	assert_int_equal(sb.model.nspam, 2);
	assert_int_equal(sb.model.nham, 2);
	assert_int_equal(sa.ntokens, sb.ntokens);
	assert_int_equal(sb.ntop_spam, 3);
	for (size_t i = 0; i < 3; i++) /* the same order (token text bytewise on ties) */
		assert_string_equal(sa.top_spam[i].token, sb.top_spam[i].token);
	/* a lesson undone through B: A's next verdict sees it */
	for (int i = 0; i < 2; i++)
		assert_int_equal(junk_train(jb, f->acct, spam_msg, sizeof(spam_msg) - 1, -1, 1, &err), 1);
	assert_int_equal(junk_classify(ja, f->acct, spam_msg, sizeof(spam_msg) - 1, &v, &err), 1);
	assert_false(v.trained); /* 0 spam, 4 ham */
	assert_int_equal(store_junk_stats(f->s[0], f->a, f->acct, 3, &sa, &err), 1);
	assert_int_equal(sa.model.nspam, 0);
	assert_int_equal(sa.model.nham, 4);
	/* an unknown account is refused on either node */
	assert_int_equal(junk_train(jb, 999999, spam_msg, sizeof(spam_msg) - 1, 1, 0, &err), STORE_ENOTFOUND);
	junk_free(&ja);
	junk_free(&jb);
}

/* 700 distinct tokens: three statements' lists, each token counted once. */
static void test_many_tokens(void **state)
{
	struct jfix *f = *state;
	enum { N = 700 };
	const char **toks = arena_alloc(f->a, N * sizeof(*toks));
	struct store_junk_token *rd = arena_alloc(f->a, (N + 1) * sizeof(*rd));
	for (int i = 0; i < N; i++) {
		toks[i] = arena_printf(f->a, "w:word%04d", i);
		rd[i].token = toks[i];
	}
	rd[N].token = "w:unknown"; /* never learned */
	const char *err;
	assert_int_equal(store_junk_learn(f->s[0], f->acct, toks, N, 1, 0, &err), 1);
	assert_int_equal(store_junk_learn(f->s[0], f->acct, toks, N / 2, 1, 0, &err), 1);
	assert_int_equal(store_junk_learn(f->s[0], f->acct, toks + N / 2, N / 2, 0, 1, &err), 1);
	struct store_junk_model m;
	assert_int_equal(store_junk_read(f->s[1], f->acct, rd, N + 1, &m, &err), 1);
	assert_int_equal(m.nspam, 2);
	assert_int_equal(m.nham, 1);
	assert_true(m.enabled);
	for (int i = 0; i < N; i++) {
		assert_int_equal(rd[i].nspam, i < N / 2 ? 2 : 1);
		assert_int_equal(rd[i].nham, i < N / 2 ? 0 : 1);
	}
	assert_int_equal(rd[N].nspam, 0);
	assert_int_equal(rd[N].nham, 0);
	/* unlearned whole: every token at 0/0 goes */
	assert_int_equal(store_junk_learn(f->s[1], f->acct, toks, N / 2, -1, 0, &err), 1);
	assert_int_equal(store_junk_learn(f->s[1], f->acct, toks, N, -1, 0, &err), 1);
	assert_int_equal(store_junk_learn(f->s[1], f->acct, toks + N / 2, N / 2, 0, -1, &err), 1);
	struct store_junk_stats st;
	assert_int_equal(store_junk_stats(f->s[0], f->a, f->acct, 3, &st, &err), 1);
	assert_int_equal(st.ntokens, 0);
	assert_int_equal(st.model.nspam, 0);
	assert_int_equal(st.model.nham, 0);
	/* counts never go below zero */
	assert_int_equal(store_junk_learn(f->s[0], f->acct, toks, 3, -1, -1, &err), 1);
	assert_int_equal(store_junk_stats(f->s[1], f->a, f->acct, 3, &st, &err), 1);
	assert_int_equal(st.model.nspam, 0);
	assert_int_equal(st.ntokens, 0);
}

/* The switch, contacts, the learner's queue and the account's end, across nodes. */
static void test_switch_contacts_lessons(void **state)
{
	struct jfix *f = *state;
	const char *err;
	struct store_junk_model m;
	assert_int_equal(store_junk_set_enabled(f->s[0], f->acct, false, &err), 1);
	assert_int_equal(store_junk_read(f->s[1], f->acct, NULL, 0, &m, &err), 1);
	assert_false(m.enabled);
	assert_int_equal(store_junk_set_enabled(f->s[1], f->acct, true, &err), 1);
	assert_int_equal(store_junk_read(f->s[0], f->acct, NULL, 0, &m, &err), 1);
	assert_true(m.enabled);
	const char *addrs[] = { "anna@colleague.example", "bob@colleague.example" };
	assert_int_equal(store_junk_contacts_add(f->s[1], f->acct, addrs, 2, &err), 1);
	assert_int_equal(store_junk_contacts_add(f->s[0], f->acct, addrs, 1, &err), 1); /* again: kept once */
	assert_int_equal(store_junk_is_contact(f->s[0], f->acct, "bob@colleague.example", &err), 1);
	assert_int_equal(store_junk_is_contact(f->s[0], f->acct, "eve@colleague.example", &err), 0);
	/* what a classification reads: the model and the contact in one statement */
	bool is_contact = false;
	struct store_junk_token tok = { .token = "w:x" };
	assert_int_equal(store_junk_read_with(f->s[0], f->acct, &tok, 1, "bob@colleague.example", &m, &is_contact, &err),
			 1);
	assert_true(is_contact);
	assert_int_equal(store_junk_read_with(f->s[1], f->acct, &tok, 1, "eve@colleague.example", &m, &is_contact, &err),
			 1);
	assert_false(is_contact);
	assert_true(m.enabled);
	struct store_junk_stats st;
	assert_int_equal(store_junk_stats(f->s[0], f->a, f->acct, 3, &st, &err), 1);
	assert_int_equal(st.ncontacts, 2);
	/* a lesson as the message code records it (junk_marks, junk_lessons) */
	char q[512];
	snprintf(q, sizeof(q),
		 "INSERT INTO junk_marks(account_id, email_id, class) VALUES(%lld, 42, 1);"
		 "INSERT INTO junk_lessons(account_id, email_id, spam, ham) VALUES(%lld, 42, 1, 0)",
		 (long long)f->acct, (long long)f->acct);
	sql(f, q);
	int cls;
	assert_int_equal(store_lesson_get(f->s[1], f->acct, 42, &cls, &err), 1);
	assert_int_equal(cls, STORE_LESSON_SPAM);
	assert_int_equal(store_lesson_get(f->s[1], f->acct, 43, &cls, &err), 1);
	assert_int_equal(cls, STORE_LESSON_NONE);
	struct store_lesson *v;
	size_t n;
	assert_int_equal(store_lessons_next(f->s[1], f->a, 10, &v, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].email_id, 42);
	assert_int_equal(v[0].spam, 1);
	assert_int_equal(v[0].ham, 0);
	assert_int_equal(store_lessons_done(f->s[0], v, n, &err), 1);
	assert_int_equal(store_lessons_next(f->s[1], f->a, 10, &v, &n, &err), 1);
	assert_int_equal(n, 0);
	/* the account goes, its model and marks with it */
	const char *words[] = { "w:x", "w:y" };
	assert_int_equal(store_junk_learn(f->s[1], f->acct, words, 2, 1, 0, &err), 1);
	assert_int_equal(store_account_del(f->s[0], "u@example.test", &err), 1);
	assert_int_equal(count(f, "SELECT (SELECT count(*) FROM junk_token) + (SELECT count(*) FROM junk_count)"
				  " + (SELECT count(*) FROM junk_contact) + (SELECT count(*) FROM junk_marks)"),
			 0);
	assert_int_equal(store_junk_read(f->s[1], f->acct, NULL, 0, &m, &err), 1);
	assert_int_equal(m.nspam, 0);
}

int main(void)
{
	const struct CMUnitTest lite[] = {
		cmocka_unit_test_setup_teardown(test_many_tokens, setup_lite, teardown),
		cmocka_unit_test_setup_teardown(test_learn_a_judge_b, setup_lite, teardown),
	};
	const struct CMUnitTest pg[] = {
		cmocka_unit_test_setup_teardown(test_learn_a_judge_b, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_many_tokens, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_switch_contacts_lessons, setup_pg, teardown),
	};
	int failed = cmocka_run_group_tests_name("sqlite", lite, NULL, NULL);
	if (test_pg_uri("postamt_test_junk") == NULL) {
		printf("postgresql: %zu tests skipped: POSTAMT_TEST_PG is not set"
		       " (run under scripts/pg-fixture run)\n", sizeof(pg) / sizeof(pg[0]));
		return failed;
	}
	return failed + cmocka_run_group_tests_name("postgresql", pg, NULL, NULL);
}
