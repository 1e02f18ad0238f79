/* test_notify_pg.c: change events between nodes on PostgreSQL (store_pg_listen.c):
 * the notification payload (pure, always runs); two stores on one database playing
 * two nodes, where a mailbox change through A reaches a subscriber on B with the same
 * event A's own subscriber gets (and A's subscriber gets it once); and the listener's
 * connection killed with pg_terminate_backend: it reconnects by itself, each account
 * with subscribers gets STORE_EV_RESYNC, and changes flow again. The PostgreSQL half
 * runs when POSTAMT_TEST_PG names a database that may be wiped (scripts/pg-fixture
 * run). Waits are bounded (WAIT_S) only so that a broken build fails instead of
 * hanging; nothing asserts how long anything took. */
#include "helpers.h"
#include "store_int.h"
#include "test_pg.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <time.h>

#define WAIT_S 20
#define MAXEV 64

/* A subscriber: the events it got (on the listener's or the committer's thread). */
struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct store_event ev[MAXEV];
	size_t n;
};

struct nfix {
	char dir[2][256];
	struct store *s[2]; /* node A, node B */
	struct waiter w[2];
	struct store_sub *sub[2];
	int64_t account;
	PGconn *pg;
};

static void on_event(void *arg, const struct store_event *ev)
{
	struct waiter *w = arg;
	pthread_mutex_lock(&w->mu);
	if (w->n < MAXEV)
		w->ev[w->n++] = *ev;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

/* Waits until w got an event of kind for mailbox (0: any) after index *from; returns
 * it and moves *from past it. Fails after WAIT_S. */
static struct store_event wait_event(struct waiter *w, size_t *from, enum store_event_kind kind, int64_t mailbox)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WAIT_S;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		for (size_t i = *from; i < w->n; i++) {
			if (w->ev[i].kind == kind && (mailbox == 0 || w->ev[i].mailbox_id == mailbox)) {
				struct store_event ev = w->ev[i];
				*from = i + 1;
				pthread_mutex_unlock(&w->mu);
				return ev;
			}
		}
		if (pthread_cond_timedwait(&w->cond, &w->mu, &dl) != 0) {
			pthread_mutex_unlock(&w->mu);
			fail_msg("no event of kind %d for mailbox %lld within %d s", (int)kind, (long long)mailbox,
				 WAIT_S);
		}
	}
}

static size_t count_events(struct waiter *w, enum store_event_kind kind, int64_t mailbox)
{
	size_t c = 0;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->n; i++)
		c += w->ev[i].kind == kind && w->ev[i].mailbox_id == mailbox;
	pthread_mutex_unlock(&w->mu);
	return c;
}

static void assert_same_event(const struct store_event *a, const struct store_event *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->account_id, b->account_id);
	assert_int_equal(a->mailbox_id, b->mailbox_id);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->uid_last, b->uid_last);
	assert_int_equal(a->count, b->count);
	assert_true(a->modseq == b->modseq);
}

static struct store *open_node(char *dir, const char *pg)
{
	snprintf(dir, 256, "/tmp/postamt-test-XXXXXX");
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp");
	/* watch_ms: a server's store, which hears the other nodes */
	struct store_options opt = {
		.create = true, .no_fsync = true, .postgresql = pg, .read_conns = 2, .watch_ms = 1000,
	};
	struct store *s = NULL;
	const char *err = NULL;
	if (store_open(dir, &opt, &s, &err) < 0)
		fail_msg("store_open: %s", err);
	return s;
}

static void sql(PGconn *pg, const char *q)
{
	PGresult *r = PQexec(pg, q);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	PQclear(r);
}

static int setup(void **state)
{
	const char *uri = test_pg_uri("postamt_test_notify");
	struct nfix *f = calloc(1, sizeof(*f));
	f->pg = PQconnectdb(uri);
	assert_int_equal(PQstatus(f->pg), CONNECTION_OK);
	sql(f->pg, "SET client_min_messages TO warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	const char *err = NULL;
	for (int i = 0; i < 2; i++) {
		f->s[i] = open_node(f->dir[i], uri);
		pthread_mutex_init(&f->w[i].mu, NULL);
		pthread_cond_init(&f->w[i].cond, NULL);
	}
	assert_int_equal(store_domain_add(f->s[0], "example.test", &err), 1);
	assert_int_equal(store_account_add(f->s[0], "u@example.test", "$y$h", 0, &f->account, &err), 1);
	for (int i = 0; i < 2; i++)
		f->sub[i] = store_subscribe(f->s[i], f->account, 0, NULL, on_event, &f->w[i]);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct nfix *f = *state;
	for (int i = 0; i < 2; i++) {
		store_unsubscribe(&f->sub[i]);
		store_close(&f->s[i]);
		rm_rf(f->dir[i]);
		pthread_cond_destroy(&f->w[i].cond);
		pthread_mutex_destroy(&f->w[i].mu);
	}
	PQfinish(f->pg);
	free(f);
	return 0;
}

/* The payload: events of one account in order, split where the next would not fit,
 * parsed back field by field; malformed payloads are refused. */
static void test_payload(void **state)
{
	(void)state;
	struct store_event ev[400], back[700];
	for (size_t i = 0; i < 400; i++)
		ev[i] = (struct store_event){ .kind = (enum store_event_kind)(i % (STORE_EV_MAILBOX_CHANGED + 1)),
					      .account_id = i < 300 ? 7 : 8, .mailbox_id = INT64_MAX - (int64_t)i,
					      .uid = UINT32_MAX, .uid_last = (uint32_t)i, .count = 3,
					      .modseq = UINT64_MAX - i };
	char out[STORE_PG_PAYLOAD], origin[STORE_PG_ORIGIN];
	const char *me = "0123456789abcdef";
	size_t done = 0, payloads = 0;
	while (done < 400) {
		size_t k = store_pg_payload_format(out, sizeof(out), me, ev + done, 400 - done);
		assert_true(k > 0 && strlen(out) < STORE_PG_PAYLOAD);
		int n = store_pg_payload_parse(out, origin, back, 700);
		assert_int_equal(n, (int)k);
		assert_string_equal(origin, me);
		for (size_t i = 0; i < k; i++)
			assert_same_event(&back[i], &ev[done + i]);
		done += k;
		payloads++;
	}
	assert_true(payloads > 2); /* 300 long events do not fit in one; account 8 starts a new one */
	struct store_event one = { .kind = STORE_EV_MAILBOX_CREATED, .account_id = 5, .mailbox_id = 9, .modseq = 4 };
	assert_int_equal(store_pg_payload_format(out, sizeof(out), me, &one, 1), 1);
	assert_string_equal(out, "1 0123456789abcdef 5 3,9,0,0,0,4");
	static const char *const bad[] = {
		"", "2 0123456789abcdef 5 3,9,0,0,0,4", "1 0123456789abcde 5 3,9,0,0,0,4",
		"1 0123456789ABCDEF 5 3,9,0,0,0,4", "1 0123456789abcdef 5", "1 0123456789abcdef 5 ",
		"1 0123456789abcdef 0 3,9,0,0,0,4", "1 0123456789abcdef 5 3,9,0,0,0,4 ",
		"1 0123456789abcdef 5 3,9,0,0,0", "1 0123456789abcdef 5 7,9,0,0,0,4", /* RESYNC is never sent */
		"1 0123456789abcdef 5 3,9,4294967296,0,0,4", "1 0123456789abcdef 5 3,9,0,0,0,18446744073709551616",
		"1 0123456789abcdef 9223372036854775808 3,9,0,0,0,4", "1 0123456789abcdef 5 3,-9,0,0,0,4",
		"1 0123456789abcdef 5 3,9,0,0,0,4x", "1 0123456789abcdef 5  3,9,0,0,0,4",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (store_pg_payload_parse(bad[i], origin, back, 700) != -1)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	assert_int_equal(store_pg_payload_parse("1 0123456789abcdef 5 3,9,0,0,0,4 1,2,3,4,5,6", origin, back, 1), -1);
}

/* A mailbox created, subscribed and renamed through A reaches B's subscriber as the
 * same events A's own subscriber gets; a change through B reaches A. A hears its own
 * notifications too but publishes nothing for them: its subscriber has each once. */
static void test_cross_node(void **state)
{
	struct nfix *f = *state;
	const char *err = NULL;
	int64_t id;
	size_t from[2] = { 0, 0 };
	assert_int_equal(store_mailbox_create(f->s[0], f->account, "Work", 0, &id, &err), 1);
	struct store_event a = wait_event(&f->w[0], &from[0], STORE_EV_MAILBOX_CREATED, id);
	struct store_event b = wait_event(&f->w[1], &from[1], STORE_EV_MAILBOX_CREATED, id);
	assert_same_event(&a, &b);
	assert_int_equal(b.account_id, f->account);
	assert_true(b.modseq > 0);

	assert_int_equal(store_mailbox_subscribe(f->s[0], f->account, "Work", true, &err), 1);
	b = wait_event(&f->w[1], &from[1], STORE_EV_MAILBOX_CHANGED, id);
	assert_true(b.modseq > a.modseq);
	assert_int_equal(store_mailbox_rename(f->s[0], f->account, "Work", "Play", &err), 1);
	wait_event(&f->w[1], &from[1], STORE_EV_MAILBOX_RENAMED, id);

	/* the other way; once A heard it, A's listener has read its own earlier
	 * notifications as well (one connection receives in commit order) */
	int64_t id2;
	assert_int_equal(store_mailbox_create(f->s[1], f->account, "Other", 0, &id2, &err), 1);
	wait_event(&f->w[0], &from[0], STORE_EV_MAILBOX_CREATED, id2);
	assert_int_equal(count_events(&f->w[0], STORE_EV_MAILBOX_CREATED, id), 1);
	assert_int_equal(count_events(&f->w[0], STORE_EV_MAILBOX_RENAMED, id), 1);
	assert_int_equal(count_events(&f->w[1], STORE_EV_MAILBOX_CREATED, id), 1);
}

/* The listeners' backends killed: each node reconnects by itself, tells its
 * subscribers to resync (STORE_EV_RESYNC for the account, mailbox 0), and hears the
 * other node again. */
static void test_listener_killed(void **state)
{
	struct nfix *f = *state;
	const char *err = NULL;
	size_t from[2] = { 0, 0 };
	sql(f->pg, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
		   " WHERE application_name = 'postamt listen' AND datname = current_database()");
	for (int i = 0; i < 2; i++) {
		struct store_event ev = wait_event(&f->w[i], &from[i], STORE_EV_RESYNC, 0);
		assert_int_equal(ev.account_id, f->account);
		assert_int_equal(ev.mailbox_id, 0);
	}
	/* listening again (the resync comes after LISTEN) */
	int64_t id;
	assert_int_equal(store_mailbox_create(f->s[0], f->account, "After", 0, &id, &err), 1);
	wait_event(&f->w[1], &from[1], STORE_EV_MAILBOX_CREATED, id);
	PGresult *r = PQexec(f->pg, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'postamt listen'"
				    " AND datname = current_database()");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(r, 0, 0), "2");
	PQclear(r);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_payload),
	};
	const struct CMUnitTest pg[] = {
		cmocka_unit_test_setup_teardown(test_cross_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listener_killed, setup, teardown),
	};
	int failed = cmocka_run_group_tests_name("payload", pure, NULL, NULL);
	const char *uri = test_pg_uri("postamt_test_notify");
	if (uri == NULL) {
		printf("postgresql: %zu tests skipped: POSTAMT_TEST_PG is not set"
		       " (run under scripts/pg-fixture run)\n", sizeof(pg) / sizeof(pg[0]));
		return failed;
	}
	return failed + cmocka_run_group_tests_name("postgresql", pg, NULL, NULL);
}
