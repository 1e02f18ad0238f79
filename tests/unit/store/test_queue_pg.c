/* test_queue_pg.c: the outbound queue's rows on PostgreSQL (store_queue.h): leases,
 * claims with SKIP LOCKED, the heartbeat, a save by a node whose lease was taken
 * over, the end of the lease in the save's transaction, the body as bytea, and the
 * admin's actions. Two stores on one database play two nodes; a lease's expiry is
 * made by moving lease_until back in the database (no sleeping). Runs when
 * POSTAMT_TEST_PG names a database that may be wiped (scripts/pg-fixture run); the
 * SQLite half (the queue is not in the store there) always runs. */
#include "helpers.h"
#include "test_pg.h"

#include <libpq-fe.h>

struct qfix {
	char dir[2][256];
	struct store *s[2]; /* node A, node B */
	struct arena *a;
	PGconn *pg;         /* the test's own connection, to look and to move clocks */
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

static void sql(struct qfix *f, const char *q)
{
	PGresult *r = PQexec(f->pg, q);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	PQclear(r);
}

/* The first column of the first row of q ("" when no row). */
static char *one(struct qfix *f, const char *q)
{
	static char out[256];
	PGresult *r = PQexec(f->pg, q);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	snprintf(out, sizeof(out), "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return out;
}

static int setup(void **state)
{
	const char *uri = test_pg_uri("postamt_test_queue");
	struct qfix *f = calloc(1, sizeof(*f));
	f->pg = PQconnectdb(uri);
	assert_int_equal(PQstatus(f->pg), CONNECTION_OK);
	sql(f, "SET client_min_messages TO warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	f->s[0] = open_node(f->dir[0], uri);
	f->s[1] = open_node(f->dir[1], uri);
	f->a = arena_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct qfix *f = *state;
	for (int i = 0; i < 2; i++) {
		store_close(&f->s[i]);
		rm_rf(f->dir[i]);
	}
	arena_free(&f->a);
	PQfinish(f->pg);
	free(f);
	return 0;
}

/* A message with two recipients, inserted by node A (leased to "A" for 60 s). */
static void insert(struct qfix *f, const char *id, const void *body, size_t len)
{
	struct store_qrcpt r[2] = { { .address = "x@remote.test", .notify = 0, .orcpt = "rfc822;x@remote.test" },
				    { .address = "y@other.test", .notify = 2 } };
	struct store_qmsg m = { .id = id, .created = 1000, .sender = "a@example.test", .ret = 1, .smtputf8 = true,
				.auth_user = "a@example.test", .size = (int64_t)len, .rcpts = r, .nrcpts = 2 };
	const char *err = NULL;
	assert_int_equal(store_queue_insert(f->s[0], &m, body, len, "A", 60, &err), 1);
}

static size_t claim(struct qfix *f, int node, const char *owner, int64_t now, struct store_qmsg **v_r)
{
	size_t n = 99;
	const char *err = NULL;
	struct store_qmsg *v = NULL;
	assert_int_equal(store_queue_claim(f->s[node], owner, 60, 10, now, f->a, &v, &n, &err), 1);
	if (v_r != NULL)
		*v_r = v;
	return n;
}

/* The lease: B cannot take what A holds; once A's lease expired (A died: no
 * heartbeat) B claims it with its recipients; A's late save then writes nothing;
 * B's save ends the lease in the same transaction as the recipients' states. */
static void test_lease_takeover(void **state)
{
	struct qfix *f = *state;
	const char *err = NULL;
	assert_true(store_queue_shared(f->s[0]));
	insert(f, "q1", "hello\r\n", 7);
	assert_string_equal(one(f, "SELECT lease_owner FROM queue_messages WHERE id = 'q1'"), "A");
	assert_int_equal(claim(f, 1, "B", 2000000000, NULL), 0);    /* leased to A */
	assert_int_equal(store_queue_heartbeat(f->s[0], "A", 60, &err), 1);
	assert_int_equal(store_queue_heartbeat(f->s[1], "B", 60, &err), 0);
	assert_int_equal(claim(f, 1, "B", 2000000000, NULL), 0);
	/* A dies: its lease runs out */
	sql(f, "UPDATE queue_messages SET lease_until = lease_until - 120");
	struct store_qmsg *v;
	assert_int_equal(claim(f, 1, "B", 2000000000, &v), 1);
	assert_string_equal(v[0].id, "q1");
	assert_string_equal(v[0].sender, "a@example.test");
	assert_string_equal(v[0].auth_user, "a@example.test");
	assert_null(v[0].envid);
	assert_true(v[0].smtputf8);
	assert_int_equal(v[0].ret, 1);
	assert_int_equal(v[0].nrcpts, 2);
	assert_string_equal(v[0].rcpts[0].address, "x@remote.test");
	assert_string_equal(v[0].rcpts[0].orcpt, "rfc822;x@remote.test");
	assert_null(v[0].rcpts[1].orcpt);
	assert_int_equal(v[0].rcpts[1].notify, 2);
	assert_int_equal(v[0].rcpts[0].state, STORE_Q_PENDING);
	assert_string_equal(one(f, "SELECT lease_owner FROM queue_messages WHERE id = 'q1'"), "B");
	/* nobody claims it a second time while B holds it */
	assert_int_equal(claim(f, 0, "A", 2000000000, NULL), 0);
	assert_int_equal(claim(f, 1, "B", 2000000000, NULL), 0);

	/* A comes back (it was only slow) and saves its outcome: refused, nothing written */
	struct store_qmsg m = v[0];
	m.rcpts[0].state = STORE_Q_DELIVERED;
	assert_int_equal(store_queue_save(f->s[0], "A", &m, true, false, &err), 0);
	assert_string_equal(one(f, "SELECT state FROM queue_recipients WHERE message_id = 'q1' AND idx = 0"), "0");
	assert_string_equal(one(f, "SELECT lease_owner FROM queue_messages WHERE id = 'q1'"), "B");

	/* B: x delivered, y deferred to 2000000100; the lease ends with that write */
	m.rcpts[1].attempts = 1;
	m.rcpts[1].next = 2000000100;
	m.rcpts[1].code = 451;
	m.rcpts[1].enh = "4.3.0";
	m.rcpts[1].diag = "451 4.3.0 later";
	m.rcpts[1].remote_mta = "mx.other.test";
	m.next = 2000000100;
	assert_int_equal(store_queue_save(f->s[1], "B", &m, true, false, &err), 1);
	assert_string_equal(one(f, "SELECT coalesce(lease_owner, '-') || ' ' || next_attempt FROM queue_messages"),
			    "- 2000000100");
	assert_string_equal(one(f, "SELECT string_agg(state || ':' || attempts || ':' || coalesce(last_error, '-'),"
				   " ',' ORDER BY idx) FROM queue_recipients"),
			    "1:0:-,0:1:451 4.3.0 later");
	/* not due before its next attempt, then any node may take it */
	assert_int_equal(claim(f, 0, "A2", 2000000099, NULL), 0);
	assert_int_equal(claim(f, 0, "A2", 2000000100, &v), 1);
	assert_int_equal(v[0].rcpts[0].state, STORE_Q_DELIVERED);
	assert_int_equal(v[0].rcpts[1].attempts, 1);
	assert_string_equal(v[0].rcpts[1].enh, "4.3.0");
	assert_string_equal(v[0].rcpts[1].remote_mta, "mx.other.test");
	/* done: the message and its recipients go, only by the lease's holder */
	assert_int_equal(store_queue_save(f->s[1], "B", &v[0], false, true, &err), 0);
	assert_string_equal(one(f, "SELECT count(*) FROM queue_messages"), "1");
	assert_int_equal(store_queue_save(f->s[0], "A2", &v[0], false, true, &err), 1);
	assert_string_equal(one(f, "SELECT count(*) FROM queue_messages"), "0");
	assert_string_equal(one(f, "SELECT count(*) FROM queue_recipients"), "0");
}

/* A message another node is claiming right now (its row locked) is skipped, not
 * waited for; the others are claimed. */
static void test_skip_locked(void **state)
{
	struct qfix *f = *state;
	insert(f, "q1", "1", 1);
	insert(f, "q2", "2", 1);
	sql(f, "UPDATE queue_messages SET lease_owner = NULL, lease_until = 0");
	sql(f, "BEGIN");
	sql(f, "SELECT id FROM queue_messages WHERE id = 'q1' FOR UPDATE");
	struct store_qmsg *v;
	assert_int_equal(claim(f, 1, "B", 2000000000, &v), 1);
	assert_string_equal(v[0].id, "q2");
	sql(f, "COMMIT");
	assert_int_equal(claim(f, 0, "A", 2000000000, &v), 1);
	assert_string_equal(v[0].id, "q1");
	/* a node does not take back, under its own name, what it still holds after its
	 * lease lapsed (the database was away): it is in its memory already */
	sql(f, "UPDATE queue_messages SET lease_until = 0 WHERE id = 'q1'");
	assert_int_equal(claim(f, 0, "A", 2000000000, NULL), 0);
	assert_int_equal(claim(f, 1, "B", 2000000000, &v), 1);
	assert_string_equal(v[0].id, "q1");
}

/* The body is bytea: every byte value comes back as it went in. */
static void test_body(void **state)
{
	struct qfix *f = *state;
	char body[600];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)(i * 7);
	insert(f, "q1", body, sizeof(body));
	char *d = NULL;
	size_t n = 0;
	const char *err = NULL;
	assert_int_equal(store_queue_body(f->s[1], "q1", &d, &n, &err), 1);
	assert_int_equal(n, sizeof(body));
	assert_memory_equal(d, body, n);
	free(d);
	assert_int_equal(store_queue_body(f->s[1], "nope", &d, &n, &err), 0);
}

/* list, flush and the admin's actions, refused while a node holds the lease. */
static void test_admin(void **state)
{
	struct qfix *f = *state;
	const char *err = NULL;
	insert(f, "q1", "1", 1);
	insert(f, "q2", "2", 1);
	sql(f, "UPDATE queue_recipients SET next_attempt = 2000000500 WHERE message_id = 'q2'");
	sql(f, "UPDATE queue_messages SET next_attempt = 2000000500");
	struct store_qmsg *v;
	size_t n;
	assert_int_equal(store_queue_list(f->s[1], f->a, &v, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].lease_owner, "A");
	assert_int_equal(v[1].rcpts[0].next, 2000000500);
	assert_int_equal(store_queue_flush(f->s[1], &err), 2);
	assert_string_equal(one(f, "SELECT max(next_attempt) FROM queue_recipients"), "0");
	assert_int_equal(store_queue_act(f->s[1], "q1", STORE_QACT_DELETE, &err), STORE_ENOTALLOWED);
	sql(f, "UPDATE queue_messages SET lease_until = 0");
	assert_int_equal(store_queue_act(f->s[1], "q1", STORE_QACT_DELETE, &err), 1);
	assert_int_equal(store_queue_act(f->s[1], "q1", STORE_QACT_DELETE, &err), 0);
	assert_int_equal(store_queue_act(f->s[1], "q2", STORE_QACT_BOUNCE, &err), 1);
	assert_string_equal(one(f, "SELECT string_agg(state || ' ' || enh, ',') FROM queue_recipients"),
			    "2 5.0.0,2 5.0.0");
	assert_int_equal(store_queue_act(f->s[1], "q2", STORE_QACT_RETRY, &err), 1);
	assert_int_equal(store_queue_list(f->s[0], f->a, &v, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].id, "q2");
}

/* SQLite: the queue is not in the store (it keeps DIR/queue). */
static void test_sqlite_not_shared(void **state)
{
	(void)state;
	char dir[256];
	struct store *s = open_node(dir, NULL);
	assert_false(store_queue_shared(s));
	struct store_qmsg m = { .id = "x", .sender = "" };
	const char *err = NULL;
	assert_int_equal(store_queue_insert(s, &m, "", 0, "A", 60, &err), STORE_ERR);
	store_close(&s);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest lite[] = {
		cmocka_unit_test(test_sqlite_not_shared),
	};
	const struct CMUnitTest pg[] = {
		cmocka_unit_test_setup_teardown(test_lease_takeover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin, setup, teardown),
	};
	int failed = cmocka_run_group_tests_name("sqlite", lite, NULL, NULL);
	const char *uri = test_pg_uri("postamt_test_queue");
	if (uri == NULL) {
		printf("postgresql: %zu tests skipped: POSTAMT_TEST_PG is not set"
		       " (run under scripts/pg-fixture run)\n", sizeof(pg) / sizeof(pg[0]));
		return failed;
	}
	return failed + cmocka_run_group_tests_name("postgresql", pg, NULL, NULL);
}
