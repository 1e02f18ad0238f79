/* test_pg.h: the PostgreSQL database of one unit-test program.
 *
 * POSTAMT_TEST_PG (scripts/pg-fixture run) names a server the tests may use. meson
 * runs test programs in parallel, and each program wipes its database before every
 * test, so each works in a database of its own: test_pg_uri(NAME) drops and creates
 * database NAME on that server once and returns its conninfo, or NULL when
 * POSTAMT_TEST_PG is not set. */
#ifndef POSTAMT_TEST_PG_H
#define POSTAMT_TEST_PG_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_pg_exec(PGconn *c, const char *q)
{
	PGresult *r = PQexec(c, q);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "%s: %s", q, PQresultErrorMessage(r));
		abort();
	}
	PQclear(r);
}

/* conninfo's value quoting: 'value' with \ and ' escaped */
static void test_pg_append(char *out, size_t size, const char *key, const char *value)
{
	size_t n = strlen(out);
	n += (size_t)snprintf(out + n, size - n, "%s%s='", n ? " " : "", key);
	for (const char *p = value; *p != '\0' && n + 3 < size; p++) {
		if (*p == '\\' || *p == '\'')
			out[n++] = '\\';
		out[n++] = *p;
	}
	snprintf(out + n, size - n, "'");
}

static const char *test_pg_uri(const char *name)
{
	static char conninfo[2048];
	const char *base = getenv("POSTAMT_TEST_PG");
	if (base == NULL || *base == '\0')
		return NULL;
	if (conninfo[0] != '\0')
		return conninfo;
	PGconn *c = PQconnectdb(base);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "%s: %s", base, PQerrorMessage(c));
		abort();
	}
	char q[256];
	test_pg_exec(c, "SET client_min_messages TO warning");
	snprintf(q, sizeof(q), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	test_pg_exec(c, q);
	snprintf(q, sizeof(q), "CREATE DATABASE %s", name);
	test_pg_exec(c, q);
	PQfinish(c);
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(base, &err);
	if (opts == NULL) {
		fprintf(stderr, "%s: %s\n", base, err ? err : "cannot parse");
		abort();
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (o->val != NULL && strcmp(o->keyword, "dbname") != 0)
			test_pg_append(conninfo, sizeof(conninfo), o->keyword, o->val);
	test_pg_append(conninfo, sizeof(conninfo), "dbname", name);
	PQconninfoFree(opts);
	return conninfo;
}

/* Empties a test database (every table of the public schema). */
static inline void test_pg_wipe(const char *uri)
{
	PGconn *c = PQconnectdb(uri);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "%s: %s", uri, PQerrorMessage(c));
		abort();
	}
	test_pg_exec(c, "SET client_min_messages TO warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	PQfinish(c);
}

#ifdef TEST_STORE_HELPERS_H
/* helpers.h's fixture on PostgreSQL: the database `name` (test_pg_uri) wiped, a store
 * on it with the same domain, accounts and INBOX as fixture_setup. */
static inline int test_pg_fixture_setup(void **state, const char *name)
{
	const char *uri = test_pg_uri(name);
	if (uri == NULL)
		return -1;
	test_pg_wipe(uri);
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/postamt-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	struct store_options opt = { .create = true, .no_fsync = true, .postgresql = uri, .read_conns = 2 };
	const char *err = NULL;
	if (store_open(f->dir, &opt, &f->s, &err) < 0)
		fail_msg("store_open: %s", err);
	f->a = arena_new();
	if (store_domain_add(f->s, "example.test", &err) < 0 ||
	    store_account_add(f->s, "a@example.test", "$y$x", 0, &f->acct, &err) < 0 ||
	    store_account_add(f->s, "b@example.test", "$y$x", 0, &f->acct2, &err) < 0)
		return -1;
	struct store_mailbox mb;
	if (store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err) != 1)
		return -1;
	f->inbox = mb.id;
	*state = f;
	return 0;
}
#endif

#endif
