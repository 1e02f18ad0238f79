/* bench_pg_bodies.c: how to keep message bodies in PostgreSQL (not a test).
 *   bench_pg_bodies POSTGRESQL-URI [MESSAGES] [KIB] [BIG-MIB]
 * Writes MESSAGES bodies of KIB KiB (default 1,000 x 10 KiB) and one of BIG-MIB MiB
 * (default 20), each in a transaction of its own as a delivery would, then reads them
 * all back by id, in two layouts:
 *   bytea  a table body_chunks(email_id, seq, data bytea), 256 KiB per row, one
 *          INSERT per chunk and one SELECT ... ORDER BY seq to read (binary results);
 *   lo     a large object per body (lo_creat, lo_open, lo_write, lo_close) and its
 *          oid in body_lo(email_id, oid); read with lo_open, lo_read, lo_close.
 * Prints wall time and the space used (pg_total_relation_size; pg_largeobject for
 * lo). The bodies are text-like (words drawn from a small list), so TOAST's
 * compression sees what mail looks like. The database is used as it is: its tables
 * body_chunks and body_lo are dropped first. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <libpq/libpq-fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK (256 * 1024)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(PGconn *c, PGresult *r, const char *what)
{
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		fprintf(stderr, "%s: %s", what, PQerrorMessage(c));
		exit(1);
	}
	PQclear(r);
}

static void exec(PGconn *c, const char *sql)
{
	must(c, PQexec(c, sql), sql);
}

/* Text-like bytes: words and spaces, a line break every ~70 characters. */
static void fill(char *p, size_t n, unsigned *seed)
{
	static const char *const words[] = { "the", "message", "server", "postamt", "mail", "of", "and",
					     "delivery", "to", "a", "store", "quota", "with", "IMAP",
					     "attachment", "Regards,", "meeting", "tomorrow", "please" };
	size_t col = 0;
	for (size_t i = 0; i < n;) {
		const char *w = words[rand_r(seed) % (sizeof(words) / sizeof(words[0]))];
		for (; *w && i < n; w++, col++)
			p[i++] = *w;
		if (i < n)
			p[i++] = col > 70 ? '\n' : ' ';
		if (col > 70)
			col = 0;
	}
}

static int64_t relsize(PGconn *c, const char *rel)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT pg_total_relation_size('%s')", rel);
	PGresult *r = PQexec(c, sql);
	int64_t v = PQresultStatus(r) == PGRES_TUPLES_OK ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
	PQclear(r);
	return v;
}

static void bytea_write(PGconn *c, int64_t id, const char *body, size_t len)
{
	exec(c, "BEGIN");
	for (size_t off = 0, seq = 0; off < len; off += CHUNK, seq++) {
		char ids[24], seqs[24];
		snprintf(ids, sizeof(ids), "%" PRId64, id);
		snprintf(seqs, sizeof(seqs), "%zu", seq);
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		const char *vals[3] = { ids, seqs, body + off };
		int lens[3] = { 0, 0, (int)n }, fmts[3] = { 0, 0, 1 };
		must(c, PQexecPrepared(c, "put", 3, vals, lens, fmts, 0), "insert chunk");
	}
	exec(c, "COMMIT");
}

static size_t bytea_read(PGconn *c, int64_t id, char *out)
{
	char ids[24];
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	const char *vals[1] = { ids };
	PGresult *r = PQexecPrepared(c, "get", 1, vals, NULL, NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "read: %s", PQerrorMessage(c));
		exit(1);
	}
	size_t len = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		memcpy(out + len, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
		len += (size_t)PQgetlength(r, i, 0);
	}
	PQclear(r);
	return len;
}

static void lo_write_body(PGconn *c, int64_t id, const char *body, size_t len)
{
	exec(c, "BEGIN");
	Oid oid = lo_creat(c, INV_READ | INV_WRITE);
	int fd = lo_open(c, oid, INV_WRITE);
	for (size_t off = 0; off < len; off += CHUNK) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		if (lo_write(c, fd, body + off, n) != (int)n) {
			fprintf(stderr, "lo_write: %s", PQerrorMessage(c));
			exit(1);
		}
	}
	lo_close(c, fd);
	char ids[24], oids[24];
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	snprintf(oids, sizeof(oids), "%u", oid);
	const char *vals[2] = { ids, oids };
	must(c, PQexecPrepared(c, "lo_put", 2, vals, NULL, NULL, 0), "insert oid");
	exec(c, "COMMIT");
}

static size_t lo_read_body(PGconn *c, int64_t id, char *out, size_t cap)
{
	char ids[24];
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	const char *vals[1] = { ids };
	PGresult *r = PQexecPrepared(c, "lo_get", 1, vals, NULL, NULL, 0);
	Oid oid = (Oid)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	exec(c, "BEGIN"); /* large object descriptors live in a transaction */
	int fd = lo_open(c, oid, INV_READ);
	size_t len = 0;
	int n;
	while ((n = lo_read(c, fd, out + len, cap - len < CHUNK ? cap - len : CHUNK)) > 0)
		len += (size_t)n;
	lo_close(c, fd);
	exec(c, "COMMIT");
	return len;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_pg_bodies POSTGRESQL-URI [MESSAGES] [KIB] [BIG-MIB]\n");
		return 2;
	}
	int nmsg = argc > 2 ? atoi(argv[2]) : 1000;
	size_t small = (size_t)(argc > 3 ? atoi(argv[3]) : 10) * 1024;
	size_t big = (size_t)(argc > 4 ? atoi(argv[4]) : 20) * 1024 * 1024;
	PGconn *c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "%s", PQerrorMessage(c));
		return 1;
	}
	exec(c, "SET client_min_messages TO warning");
	exec(c, "DROP TABLE IF EXISTS body_chunks; DROP TABLE IF EXISTS body_lo");
	exec(c, "SELECT lo_unlink(oid) FROM pg_largeobject_metadata");
	exec(c, "CREATE TABLE body_chunks(email_id bigint, seq int, data bytea NOT NULL, PRIMARY KEY(email_id, seq))");
	exec(c, "CREATE TABLE body_lo(email_id bigint PRIMARY KEY, oid oid NOT NULL)");
	must(c, PQprepare(c, "put", "INSERT INTO body_chunks(email_id, seq, data) VALUES($1, $2, $3)", 0, NULL), "prep");
	must(c, PQprepare(c, "get", "SELECT data FROM body_chunks WHERE email_id = $1 ORDER BY seq", 0, NULL), "prep");
	must(c, PQprepare(c, "lo_put", "INSERT INTO body_lo(email_id, oid) VALUES($1, $2)", 0, NULL), "prep");
	must(c, PQprepare(c, "lo_get", "SELECT oid FROM body_lo WHERE email_id = $1", 0, NULL), "prep");
	unsigned seed = 42;
	char *bodies = malloc((size_t)nmsg * small);
	fill(bodies, (size_t)nmsg * small, &seed);
	char *bigbody = malloc(big), *out = malloc(big);
	fill(bigbody, big, &seed);
	double t0, t;

	printf("layout  what                          wall      per message\n");
	t0 = now_s();
	for (int i = 0; i < nmsg; i++)
		bytea_write(c, i + 1, bodies + (size_t)i * small, small);
	t = now_s() - t0;
	printf("bytea   write %d x %zu KiB        %7.3f s  %7.3f ms\n", nmsg, small / 1024, t, t * 1000 / nmsg);
	t0 = now_s();
	for (int i = 0; i < nmsg; i++) {
		if (bytea_read(c, i + 1, out) != small || memcmp(out, bodies + (size_t)i * small, small) != 0)
			return fprintf(stderr, "bytea: body %d differs\n", i), 1;
	}
	t = now_s() - t0;
	printf("bytea   read  %d x %zu KiB        %7.3f s  %7.3f ms\n", nmsg, small / 1024, t, t * 1000 / nmsg);
	t0 = now_s();
	bytea_write(c, 0, bigbody, big);
	printf("bytea   write 1 x %zu MiB           %7.3f s\n", big >> 20, now_s() - t0);
	t0 = now_s();
	if (bytea_read(c, 0, out) != big || memcmp(out, bigbody, big) != 0)
		return fprintf(stderr, "bytea: the big body differs\n"), 1;
	printf("bytea   read  1 x %zu MiB           %7.3f s\n", big >> 20, now_s() - t0);
	printf("bytea   space %.1f MiB (body_chunks with TOAST)\n", (double)relsize(c, "body_chunks") / 1048576);

	t0 = now_s();
	for (int i = 0; i < nmsg; i++)
		lo_write_body(c, i + 1, bodies + (size_t)i * small, small);
	t = now_s() - t0;
	printf("lo      write %d x %zu KiB        %7.3f s  %7.3f ms\n", nmsg, small / 1024, t, t * 1000 / nmsg);
	t0 = now_s();
	for (int i = 0; i < nmsg; i++) {
		if (lo_read_body(c, i + 1, out, big) != small || memcmp(out, bodies + (size_t)i * small, small) != 0)
			return fprintf(stderr, "lo: body %d differs\n", i), 1;
	}
	t = now_s() - t0;
	printf("lo      read  %d x %zu KiB        %7.3f s  %7.3f ms\n", nmsg, small / 1024, t, t * 1000 / nmsg);
	t0 = now_s();
	lo_write_body(c, 0, bigbody, big);
	printf("lo      write 1 x %zu MiB           %7.3f s\n", big >> 20, now_s() - t0);
	t0 = now_s();
	if (lo_read_body(c, 0, out, big) != big || memcmp(out, bigbody, big) != 0)
		return fprintf(stderr, "lo: the big body differs\n"), 1;
	printf("lo      read  1 x %zu MiB           %7.3f s\n", big >> 20, now_s() - t0);
	printf("lo      space %.1f MiB (pg_largeobject)\n", (double)relsize(c, "pg_largeobject") / 1048576);
	printf("raw     %.1f MiB of bodies\n", (double)((size_t)nmsg * small + big) / 1048576);
	free(bodies);
	free(bigbody);
	free(out);
	PQfinish(c);
	return 0;
}
