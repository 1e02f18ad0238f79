/* store_index.c: the full-text index that answers SEARCH BODY and TEXT (and JMAP's
 * text, body filters) without reading message files.
 *
 * One SQLite FTS5 table, email_text(hdr, body), with the trigram tokenizer: its rowid
 * is the emails row id (one entry per stored message, shared by every copy), hdr is
 * what TEXT looks at in headers (mail_header_text), body what BODY looks at
 * (mail_body_text), both case-folded with mail_casefold, exactly as the scan folds
 * them. A trigram phrase query is a substring query, so a needle of three or more
 * characters matches a message in the index exactly when the scan would match it
 * (RFC 9051 §6.4.4 substring semantics, i;unicode-casemap folding).
 *
 * A new message is listed in email_unindexed as INDEX_PENDING in the same transaction
 * as its emails row (store_deliver.c), and the server's indexer (serve_index.c) writes
 * its entry moments later, 200 messages per transaction: FTS5 makes a segment per
 * transaction, and one per delivery cost about twice the CPU per message and kept the
 * committer busy. Messages not in the index (INDEX_PENDING; INDEX_TOO_BIG: decoded
 * text over search.index_text_max; INDEX_UNREADABLE: the file could not be read when
 * indexing) are searched by reading their files, as before, so a message is never
 * missing from results; entries go with their emails row (store_rows.c), so a
 * deleted message is never found. `postamt index rebuild` (store_index_rebuild)
 * rewrites entries. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail.h"

enum { INDEX_PENDING = 0, INDEX_TOO_BIG = 1, INDEX_UNREADABLE = 2 };

void store_index_prepare(struct store *s, struct arena *a, const char *msg, size_t len, struct mail_info *mi)
{
	struct buf h = { 0 }, b = { 0 };
	mail_header_text(msg, len, mi->header_len, mi->parts, mi->nparts, &h);
	mail_body_text(msg, len, mi->parts, mi->nparts, &b);
	uint64_t max = s->opt.index_text_max ? s->opt.index_text_max : STORE_INDEX_TEXT_MAX;
	if (h.len + b.len <= max) {
		mi->index_hdr = mail_casefold(a, buf_str(&h), h.len);
		mi->index_body = mail_casefold(a, buf_str(&b), b.len);
	}
	buf_free(&h);
	buf_free(&b);
}

/* Deletes the index entries of up to max stale emails (deleted while the disk was
 * full), the same ones from both tables (ORDER BY). 1 or STORE_ERR. */
static int purge_stale(struct db *c, int max, const char **error_r)
{
	sqlite3_stmt *st = store_db_stmt(c, "DELETE FROM email_text WHERE rowid IN"
					    " (SELECT email_id FROM email_text_stale ORDER BY email_id LIMIT ?)");
	sqlite3_bind_int(st, 1, max);
	if (store_step_done(c, st, error_r) < 0)
		return STORE_ERR;
	st = store_db_stmt(c, "DELETE FROM email_text_stale WHERE email_id IN"
			      " (SELECT email_id FROM email_text_stale ORDER BY email_id LIMIT ?)");
	sqlite3_bind_int(st, 1, max);
	return store_step_done(c, st, error_r);
}

/* Lists email_id as not indexed (reason), replacing an earlier reason. */
static int mark_unindexed(struct db *c, int64_t email_id, int reason, const char **error_r)
{
	sqlite3_stmt *st = store_db_stmt(c, "INSERT OR REPLACE INTO email_unindexed(email_id, reason) VALUES(?, ?)");
	sqlite3_bind_int64(st, 1, email_id);
	sqlite3_bind_int(st, 2, reason);
	return store_step_done(c, st, error_r);
}

int store_index_defer(struct store_op *op, struct db *c, int64_t email_id)
{
	const char *err;
	if (mark_unindexed(c, email_id, INDEX_PENDING, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

int store_index_add(struct store_op *op, struct db *c, int64_t email_id, const struct mail_info *mi)
{
	const char *err;
	if (mi->index_hdr == NULL || mi->index_body == NULL) {
		if (mark_unindexed(c, email_id, INDEX_TOO_BIG, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
		return 1;
	}
	if (purge_stale(c, 16, &err) < 0) /* new mail has room: finish old removals */
		return store_op_fail(op, STORE_ERR, "%s", err);
	sqlite3_stmt *st = store_db_stmt(c, "INSERT INTO email_text(rowid, hdr, body) VALUES(?, ?, ?)");
	sqlite3_bind_int64(st, 1, email_id);
	sqlite3_bind_text(st, 2, mi->index_hdr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, mi->index_body, -1, SQLITE_STATIC);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

int store_index_remove(struct store_op *op, struct db *c, int64_t email_id, const char **error_r)
{
	sqlite3_stmt *st;
	if (op != NULL) {
		/* a deletion must work on a full disk (it may run on the reserve), and removing
		 * a big entry from the index can need more pages than the reserve holds: only
		 * note it; deliveries remove a few noted entries each (purge_stale), and a
		 * search never finds an email id that no message row references */
		st = store_db_stmt(c, "INSERT OR IGNORE INTO email_text_stale(email_id) VALUES(?)");
	} else {
		st = store_db_stmt(c, "DELETE FROM email_text WHERE rowid = ?");
	}
	sqlite3_bind_int64(st, 1, email_id);
	if (store_step_done(c, st, error_r) < 0)
		return STORE_ERR;
	st = store_db_stmt(c, "DELETE FROM email_unindexed WHERE email_id = ?");
	sqlite3_bind_int64(st, 1, email_id);
	return store_step_done(c, st, error_r);
}

/* What the entries hold, in meta('search_index'): raised when the text that SEARCH
 * TEXT or BODY looks at changes, so that entries written before are written anew
 * (else the index and the scan would disagree). 1: the first index; 2: header lines
 * unfolded, 8-bit header text taken as UTF-8 or Latin-1 line by line, the body of a
 * single-part message once (it was there twice), HTML's named entities decoded. */
#define INDEX_TEXT_VERSION 2

int store_index_setup(struct db *c, const char **error_r)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT value FROM meta WHERE key = 'search_index'");
	int64_t version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (version >= INDEX_TEXT_VERSION) /* entries of messages deleted since the last start */
		return purge_stale(c, INT32_MAX, error_r);
	/* the store predates the index (version 0: every message not in it is pending), or
	 * its entries hold an older text (every message is pending: the indexer rewrites
	 * their entries in the background; until then they are searched in their files) */
	if (store_db_exec(c, "BEGIN IMMEDIATE", error_r) < 0)
		return STORE_ERR;
	const char *mark = version == 0 ? "INSERT OR IGNORE INTO email_unindexed(email_id, reason)"
					  " SELECT id, 0 FROM emails WHERE id NOT IN (SELECT rowid FROM email_text)"
					: "INSERT OR REPLACE INTO email_unindexed(email_id, reason) SELECT id, 0 FROM emails";
	st = store_db_stmt(c, "INSERT OR REPLACE INTO meta(key, value) VALUES('search_index', ?)");
	sqlite3_bind_int(st, 1, INDEX_TEXT_VERSION);
	if (store_db_exec(c, mark, error_r) < 0 || store_step_done(c, st, error_r) < 0 ||
	    store_db_exec(c, "COMMIT", error_r) < 0) {
		const char *ignored;
		store_db_exec(c, "ROLLBACK", &ignored);
		return STORE_ERR;
	}
	if (version > 0)
		log_info("event=index_text_changed from=%lld to=%d", (long long)version, INDEX_TEXT_VERSION);
	return 1;
}

/* ------------------------------------------------------------------ lookups */

size_t store_index_chars(const char *folded)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)folded; *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Runs a query that yields one integer column into a sorted array in a. */
static int collect_ids(struct db *c, sqlite3_stmt *st, struct arena *a, struct store_idset *out, const char **error_r)
{
	size_t n = 0, cap = 64;
	int64_t *v = xmalloc(cap * sizeof(*v));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_db_fail(c, "index lookup", error_r);
	}
	qsort(v, n, sizeof(*v), cmp_id);
	out->ids = arena_alloc(a, (n + 1) * sizeof(*v));
	memcpy(out->ids, v, n * sizeof(*v));
	out->n = n;
	free(v);
	return 1;
}

/* The FTS5 query string of a substring search: the needle in double quotes, inner
 * quotes doubled, limited to one column or both. */
static void fts_query(struct buf *q, const char *columns, const char *folded)
{
	buf_puts(q, columns);
	buf_puts(q, " : \"");
	for (const char *p = folded; *p; p++) {
		if (*p == '"')
			buf_putc(q, '"');
		buf_putc(q, *p);
	}
	buf_putc(q, '"');
}

int store_index_match(struct db *c, struct arena *a, bool headers_too, const char *folded, int64_t lo, int64_t hi,
		      struct store_idset *out, const char **error_r)
{
	struct buf q = { 0 };
	fts_query(&q, headers_too ? "{hdr body}" : "body", folded);
	/* FTS5 skips to the rowid range in each trigram's list instead of reading all of it;
	 * without a range, the plain query (no bounds for the planner to weigh) */
	bool all = lo == INT64_MIN && hi == INT64_MAX;
	sqlite3_stmt *st = store_db_stmt(c, all ? "SELECT rowid FROM email_text WHERE email_text MATCH ?"
						: "SELECT rowid FROM email_text WHERE email_text MATCH ?"
						  " AND rowid >= ? AND rowid <= ?");
	sqlite3_bind_text(st, 1, buf_str(&q), (int)q.len, SQLITE_TRANSIENT);
	if (!all) {
		sqlite3_bind_int64(st, 2, lo);
		sqlite3_bind_int64(st, 3, hi);
	}
	int r = collect_ids(c, st, a, out, error_r);
	buf_free(&q);
	return r;
}

int store_index_body_has(struct store *s, int64_t email_id, const char *folded, const char **error_r)
{
	if (store_index_chars(folded) < 3)
		return STORE_INDEX_UNKNOWN;
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT EXISTS (SELECT 1 FROM email_unindexed WHERE email_id = ?1),"
					    " EXISTS (SELECT 1 FROM email_text WHERE email_text MATCH ?2 AND rowid = ?1)");
	struct buf q = { 0 };
	fts_query(&q, "body", folded);
	sqlite3_bind_int64(st, 1, email_id);
	sqlite3_bind_text(st, 2, buf_str(&q), (int)q.len, SQLITE_TRANSIENT);
	int r;
	if (sqlite3_step(st) == SQLITE_ROW)
		r = sqlite3_column_int(st, 0) ? STORE_INDEX_UNKNOWN : sqlite3_column_int(st, 1) != 0;
	else
		r = store_db_fail(c, "index lookup", error_r);
	sqlite3_reset(st);
	store_db_put(s, c);
	buf_free(&q);
	return r;
}

int store_index_unindexed(struct db *c, struct arena *a, int64_t mailbox_id, struct store_idset *out,
			  const char **error_r)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT m.email_id FROM email_unindexed u"
					    " JOIN messages m ON m.email_id = u.email_id WHERE m.mailbox_id = ?");
	sqlite3_bind_int64(st, 1, mailbox_id);
	return collect_ids(c, st, a, out, error_r);
}

bool store_idset_has(const struct store_idset *set, int64_t id)
{
	size_t lo = 0, hi = set->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (set->ids[mid] == id)
			return true;
		if (set->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* ------------------------------------------------------------------ rebuild */

#define REBUILD_BATCH 200
/* A batch also ends once its messages hold this many bytes: the batch's decoded texts
 * are in memory together until its transaction. */
#define REBUILD_BATCH_BYTES (8 * 1024 * 1024)

struct rebuild_item {
	int64_t email_id;
	struct mail_info *mi; /* NULL: the file could not be read (left pending) */
};

struct rebuild_req {
	struct rebuild_item *items;
	size_t n;
	size_t indexed, too_big, gone;
};

static int apply_rebuild(struct store *s, struct store_op *op)
{
	struct rebuild_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	for (size_t i = 0; i < r->n; i++) {
		struct rebuild_item *it = &r->items[i];
		sqlite3_stmt *st = store_db_stmt(c, "SELECT 1 FROM emails WHERE id = ?");
		sqlite3_bind_int64(st, 1, it->email_id);
		bool exists = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
		if (!exists) { /* deleted since it was read */
			r->gone++;
			continue;
		}
		if (it->mi == NULL) { /* searched from its file (if it ever comes back); verify says more */
			if (mark_unindexed(c, it->email_id, INDEX_UNREADABLE, &err) < 0)
				return store_op_fail(op, STORE_ERR, "%s", err);
			continue;
		}
		if (store_index_remove(NULL, c, it->email_id, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
		if (store_index_add(op, c, it->email_id, it->mi) < 0)
			return op->result;
		if (it->mi->index_hdr != NULL)
			r->indexed++;
		else
			r->too_big++;
	}
	return 1;
}

/* Reads and parses the message file of blob; NULL if it cannot be read. */
static struct mail_info *read_parse(struct store *s, struct arena *a, const char *blob)
{
	char *path = store_blob_path(s, blob);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return NULL;
	struct stat sb;
	struct mail_info *mi = NULL;
	if (fstat(fd, &sb) == 0) {
		size_t size = (size_t)sb.st_size, got = 0;
		char *data = xmalloc(size + 1);
		while (got < size) {
			ssize_t n = read(fd, data + got, size - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got == size) {
			mi = mail_parse(a, data, size);
			store_index_prepare(s, a, data, size, mi);
		}
		free(data);
	}
	close(fd);
	return mi;
}

int store_index_rebuild(struct store *s, int64_t account_id, bool all, int64_t after_id,
			store_index_progress_fn *progress, void *arg, struct store_index_counts *counts_r,
			const char **error_r)
{
	/* the waiting list drives (CROSS JOIN keeps it outer): SQLite would otherwise walk
	 * every email for the ORDER BY, 0.1 s a second on an idle 100,000-message store */
	static const char sql_pending[] =
		"SELECT e.id, e.blob, e.size FROM email_unindexed u CROSS JOIN emails e ON e.id = u.email_id"
		" WHERE u.reason = 0 AND u.email_id > ? AND (?2 = 0 OR EXISTS (SELECT 1 FROM messages m"
		" WHERE m.email_id = e.id AND m.account_id = ?2)) ORDER BY u.email_id LIMIT 200";
	static const char sql_all[] =
		"SELECT e.id, e.blob, e.size FROM emails e WHERE e.id > ? AND (?2 = 0 OR EXISTS (SELECT 1"
		" FROM messages m WHERE m.email_id = e.id AND m.account_id = ?2)) ORDER BY e.id LIMIT 200";
	memset(counts_r, 0, sizeof(*counts_r));
	int64_t last = after_id;
	for (;;) {
		struct arena *a = arena_new();
		struct rebuild_req req = { .items = arena_alloc(a, REBUILD_BATCH * sizeof(*req.items)) };
		struct db *c = store_db_get(s);
		sqlite3_stmt *st = store_db_stmt(c, all ? sql_all : sql_pending);
		sqlite3_bind_int64(st, 1, last);
		sqlite3_bind_int64(st, 2, account_id);
		const char **blobs = arena_alloc(a, REBUILD_BATCH * sizeof(*blobs));
		uint64_t bytes = 0;
		while (req.n < REBUILD_BATCH && bytes < REBUILD_BATCH_BYTES && sqlite3_step(st) == SQLITE_ROW) {
			req.items[req.n].email_id = sqlite3_column_int64(st, 0);
			blobs[req.n] = store_col_text(a, st, 1);
			bytes += (uint64_t)sqlite3_column_int64(st, 2);
			req.n++;
		}
		sqlite3_reset(st);
		store_db_put(s, c);
		if (req.n == 0) {
			arena_free(&a);
			return 1;
		}
		last = req.items[req.n - 1].email_id;
		for (size_t i = 0; i < req.n; i++) {
			req.items[i].mi = read_parse(s, a, blobs[i]);
			if (req.items[i].mi == NULL)
				counts_r->unreadable++;
		}
		struct store_op *op = store_op_new(NULL, apply_rebuild, NULL, &req, NULL);
		int r = store_op_run(s, op, error_r);
		arena_free(&a);
		if (r < 0)
			return r;
		counts_r->indexed += req.indexed;
		counts_r->too_big += req.too_big;
		counts_r->last_id = last;
		if (progress != NULL && progress(arg, counts_r) < 0)
			return 0;
	}
}

int store_index_pending(struct store *s, int64_t *pending_r, int64_t *too_big_r, const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT COUNT(*) FILTER (WHERE reason = 0),"
					    " COUNT(*) FILTER (WHERE reason <> 0) FROM email_unindexed");
	int r = 1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*pending_r = sqlite3_column_int64(st, 0);
		*too_big_r = sqlite3_column_int64(st, 1);
	} else {
		r = store_db_fail(c, "index status", error_r);
	}
	sqlite3_reset(st);
	store_db_put(s, c);
	return r;
}
