/* store_search.c: evaluating IMAP SEARCH programs (RFC 9051 §6.4.4, RFC 7162 MODSEQ,
 * RFC 5032 OLDER/YOUNGER, RFC 8514 SAVEDBEFORE..., RFC 8474 EMAILID/THREADID).
 *
 * The program is compiled first: validated (shape, depth), needles case-folded once,
 * and the children of each AND ordered by cost (flags, numbers and dates; then the
 * stored decoded header fields; last the keys that need the message file). Then one
 * scan over the mailbox's rows in UID order evaluates it per message, reading the blob
 * only for a message that reaches a HEADER, BODY or TEXT key. BODY and TEXT with a
 * needle of 3 or more characters are answered by the full-text index (store_index.c),
 * asked once per key before the scan; only messages not in the index yet are read for
 * them. Strings match as
 * case-insensitive substrings of decoded UTF-8 (RFC 2047 words, transfer encodings and
 * charsets undone by the mail module). */
#include "store_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mail.h"

#define SEARCH_DEPTH_MAX 256

int32_t store_search_day(int year, int month, int day)
{
	/* days from civil (H. Hinnant's algorithm) */
	year -= month <= 2;
	const int era = (year >= 0 ? year : year - 399) / 400;
	const unsigned yoe = (unsigned)(year - era * 400);
	const unsigned doy = (unsigned)((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1);
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + (int)doe - 719468);
}

static int32_t day_of(int64_t t, int tz_minutes)
{
	int64_t x = t + (int64_t)tz_minutes * 60;
	return (int32_t)(x >= 0 ? x / 86400 : (x - 86399) / 86400);
}

enum cost { COST_ROW = 0, COST_FIELD = 1, COST_BLOB = 2 };

struct cnode {
	const struct store_search *k;
	const char *needle; /* folded */
	int64_t id;         /* EMAILID/THREADID */
	enum cost cost;
	int fts;                 /* BODY/TEXT answered by the full-text index: 1 body, 2 TEXT */
	struct store_idset hits; /* the index's matches (fts) */
	struct cnode **sub;
	size_t nsub;
};

struct sctx {
	struct store *s;
	struct arena *a;   /* the compiled program */
	struct arena *row; /* scratch for one row, cleared after each */
	const struct store_search_ctx *ctx;
	bool need_fields, need_blob;
	bool no_index;                /* PostgreSQL: no full-text index, BODY and TEXT read */
	size_t nfts;                  /* nodes answered by the index */
	struct store_idset unindexed; /* emails of the mailbox not in the index */
	/* current row */
	struct sql_stmt *st;
	uint32_t uid;
	unsigned int flags;
	const char *keywords;
	uint64_t modseq, size;
	int64_t idate, sdate, email_id, thread_id, hdate;
	int itz, htz;
	/* lazy blob data of the current row */
	bool loaded, load_failed;
	char *raw;
	size_t rawlen;
	uint64_t header_size;
	struct buf hdrtext, bodytext;
	bool hdrtext_done, bodytext_done;
};

static bool is_string_key(enum store_search_key k)
{
	return k == STORE_SK_BCC || k == STORE_SK_CC || k == STORE_SK_FROM || k == STORE_SK_TO ||
	       k == STORE_SK_SUBJECT || k == STORE_SK_BODY || k == STORE_SK_TEXT || k == STORE_SK_HEADER;
}

static int compile(struct sctx *c, const struct store_search *k, int depth, struct cnode **out, const char **error_r)
{
	if (k == NULL || depth > SEARCH_DEPTH_MAX) {
		*error_r = k == NULL ? "empty search key" : "search program nested too deeply";
		return STORE_EINVAL;
	}
	struct cnode *n = arena_alloc(c->a, sizeof(*n));
	n->k = k;
	n->cost = COST_ROW;
	switch (k->key) {
	case STORE_SK_AND:
	case STORE_SK_OR:
	case STORE_SK_NOT: {
		size_t cnt = 0;
		for (const struct store_search *x = k->sub; x != NULL; x = x->next)
			cnt++;
		if ((k->key == STORE_SK_OR && cnt != 2) || (k->key == STORE_SK_NOT && cnt != 1) ||
		    (k->key == STORE_SK_AND && cnt == 0)) {
			*error_r = "malformed search program (OR needs 2 keys, NOT 1, AND 1 or more)";
			return STORE_EINVAL;
		}
		n->sub = arena_alloc(c->a, cnt * sizeof(*n->sub));
		for (const struct store_search *x = k->sub; x != NULL; x = x->next) {
			int r = compile(c, x, depth + 1, &n->sub[n->nsub], error_r);
			if (r < 0)
				return r;
			if (n->sub[n->nsub]->cost > n->cost)
				n->cost = n->sub[n->nsub]->cost;
			n->nsub++;
		}
		if (k->key == STORE_SK_AND) {
			/* an AND inside an AND: its keys are the outer one's (so that the index
			 * drives the scan and a UID key narrows it as at the top) */
			size_t total = 0;
			for (size_t i = 0; i < n->nsub; i++)
				total += n->sub[i]->k->key == STORE_SK_AND ? n->sub[i]->nsub : 1;
			if (total != n->nsub) {
				struct cnode **flat = arena_alloc(c->a, total * sizeof(*flat));
				size_t f = 0;
				for (size_t i = 0; i < n->nsub; i++) {
					struct cnode *x = n->sub[i];
					if (x->k->key != STORE_SK_AND) {
						flat[f++] = x;
						continue;
					}
					for (size_t j = 0; j < x->nsub; j++)
						flat[f++] = x->sub[j];
				}
				assert(f == total);
				n->sub = flat;
				n->nsub = total;
			}
		}
		if (k->key == STORE_SK_AND) { /* cheap keys first (stable) */
			for (size_t i = 1; i < n->nsub; i++) {
				struct cnode *x = n->sub[i];
				size_t j = i;
				while (j > 0 && n->sub[j - 1]->cost > x->cost) {
					n->sub[j] = n->sub[j - 1];
					j--;
				}
				n->sub[j] = x;
			}
		}
		break;
	}
	case STORE_SK_KEYWORD:
	case STORE_SK_UNKEYWORD:
		if (k->str == NULL) {
			*error_r = "KEYWORD without a keyword";
			return STORE_EINVAL;
		}
		break;
	case STORE_SK_EMAILID:
	case STORE_SK_THREADID:
		if (k->str == NULL || store_id_parse(k->str, k->key == STORE_SK_EMAILID ? 'E' : 'T', &n->id) != 1)
			n->id = -1; /* matches nothing */
		break;
	case STORE_SK_UID:
	case STORE_SK_SEQ:
		if (k->set.n > 0 && k->set.r == NULL) {
			*error_r = "malformed set";
			return STORE_EINVAL;
		}
		break;
	case STORE_SK_HEADER:
		if (k->field == NULL || *k->field == '\0') {
			*error_r = "HEADER without a field name";
			return STORE_EINVAL;
		}
		/* fall through */
	default:
		if (is_string_key(k->key)) {
			if (k->str == NULL) {
				*error_r = "search key without its string";
				return STORE_EINVAL;
			}
			n->needle = mail_casefold(c->a, k->str, strlen(k->str));
			bool blob = k->key == STORE_SK_BODY || k->key == STORE_SK_TEXT || k->key == STORE_SK_HEADER;
			if ((k->key == STORE_SK_BODY || k->key == STORE_SK_TEXT) && !c->no_index &&
			    store_index_chars(n->needle) >= 3) {
				/* the trigram index answers it; shorter needles are scanned */
				n->fts = k->key == STORE_SK_TEXT ? 2 : 1;
				n->cost = COST_ROW;
				c->nfts++;
			} else {
				n->cost = blob ? COST_BLOB : COST_FIELD;
				c->need_fields = true;
				c->need_blob |= blob;
			}
		}
		if (k->key == STORE_SK_SENTBEFORE || k->key == STORE_SK_SENTON || k->key == STORE_SK_SENTSINCE) {
			n->cost = COST_FIELD;
			c->need_fields = true;
		}
		if ((int)k->key < 0 || k->key > STORE_SK_THREADID) {
			*error_r = "unknown search key";
			return STORE_EINVAL;
		}
		break;
	}
	*out = n;
	return 1;
}

static bool in_set(const struct store_uidset *set, uint32_t v)
{
	for (size_t i = 0; i < set->n; i++) {
		if (v >= set->r[i].lo && v <= set->r[i].hi)
			return true;
	}
	return false;
}

static bool has_keyword(const char *list, const char *kw)
{
	size_t n = strlen(kw);
	for (const char *p = list; *p;) {
		const char *sp = strchr(p, ' ');
		size_t l = sp ? (size_t)(sp - p) : strlen(p);
		if (l == n && strncasecmp(p, kw, n) == 0)
			return true;
		if (sp == NULL)
			break;
		p = sp + 1;
	}
	return false;
}

static const char *col(struct sctx *c, int i)
{
	return sql_col_null(c->st, i) ? "" : sql_col_text(c->st, i);
}

static void load_blob(struct sctx *c)
{
	if (c->loaded)
		return;
	c->loaded = true;
	int fd;
	uint64_t size;
	const char *err;
	if (store_msg_open(c->s, c->ctx->account_id, c->ctx->mailbox_id, c->uid, &fd, &size, &err) <= 0) {
		c->load_failed = true;
		return;
	}
	c->raw = xmalloc(size + 1);
	size_t got = 0;
	while (got < size) {
		ssize_t r = pread(fd, c->raw + got, size - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	c->raw[got] = '\0';
	c->rawlen = got;
	if (c->header_size > got)
		c->header_size = got;
}

/* The message's MIME parts (from the row's part table), or 0 if it has none. */
static int row_parts(struct sctx *c, struct mail_part **parts_r, size_t *n_r)
{
	return mail_parts_decode(c->row, col(c, 18), parts_r, n_r);
}

/* What TEXT looks at in headers (mail_header_text), decoded. */
static const char *header_text(struct sctx *c, size_t *len_r)
{
	if (!c->hdrtext_done) {
		c->hdrtext_done = true;
		load_blob(c);
		struct mail_part *parts = NULL;
		size_t n = 0;
		if (!c->load_failed) {
			if (row_parts(c, &parts, &n) <= 0)
				n = 0;
			mail_header_text(c->raw, c->rawlen, c->header_size, parts, n, &c->hdrtext);
		}
	}
	*len_r = c->hdrtext.len;
	return c->hdrtext.data ? c->hdrtext.data : "";
}

static const char *body_text(struct sctx *c, size_t *len_r)
{
	if (!c->bodytext_done) {
		c->bodytext_done = true;
		load_blob(c);
		struct mail_part *parts;
		size_t n;
		if (!c->load_failed && row_parts(c, &parts, &n) > 0)
			mail_body_text(c->raw, c->rawlen, parts, n, &c->bodytext);
	}
	*len_r = c->bodytext.len;
	return c->bodytext.data ? c->bodytext.data : "";
}

static bool contains(struct sctx *c, const char *text, size_t len, const char *needle)
{
	return mail_text_contains(c->row, text, len, needle);
}

static bool eval(struct sctx *c, const struct cnode *n)
{
	const struct store_search *k = n->k;
	const struct store_search_ctx *x = c->ctx;
	bool recent = x->first_recent_uid > 0 && c->uid >= x->first_recent_uid;
	switch (k->key) {
	case STORE_SK_ALL:
		return true;
	case STORE_SK_AND:
		for (size_t i = 0; i < n->nsub; i++) {
			if (!eval(c, n->sub[i]))
				return false;
		}
		return true;
	case STORE_SK_OR:
		return eval(c, n->sub[0]) || eval(c, n->sub[1]);
	case STORE_SK_NOT:
		return !eval(c, n->sub[0]);
	case STORE_SK_ANSWERED:
		return c->flags & STORE_F_ANSWERED;
	case STORE_SK_DELETED:
		return c->flags & STORE_F_DELETED;
	case STORE_SK_DRAFT:
		return c->flags & STORE_F_DRAFT;
	case STORE_SK_FLAGGED:
		return c->flags & STORE_F_FLAGGED;
	case STORE_SK_SEEN:
		return c->flags & STORE_F_SEEN;
	case STORE_SK_UNANSWERED:
		return !(c->flags & STORE_F_ANSWERED);
	case STORE_SK_UNDELETED:
		return !(c->flags & STORE_F_DELETED);
	case STORE_SK_UNDRAFT:
		return !(c->flags & STORE_F_DRAFT);
	case STORE_SK_UNFLAGGED:
		return !(c->flags & STORE_F_FLAGGED);
	case STORE_SK_UNSEEN:
		return !(c->flags & STORE_F_SEEN);
	case STORE_SK_RECENT:
		return recent;
	case STORE_SK_NEW:
		return recent && !(c->flags & STORE_F_SEEN);
	case STORE_SK_OLD:
		return !recent;
	case STORE_SK_KEYWORD:
		return has_keyword(c->keywords, k->str);
	case STORE_SK_UNKEYWORD:
		return !has_keyword(c->keywords, k->str);
	case STORE_SK_FROM:
		return contains(c, col(c, 11), strlen(col(c, 11)), n->needle);
	case STORE_SK_TO:
		return contains(c, col(c, 12), strlen(col(c, 12)), n->needle);
	case STORE_SK_CC:
		return contains(c, col(c, 13), strlen(col(c, 13)), n->needle);
	case STORE_SK_BCC:
		return contains(c, col(c, 14), strlen(col(c, 14)), n->needle);
	case STORE_SK_SUBJECT:
		return contains(c, col(c, 10), strlen(col(c, 10)), n->needle);
	case STORE_SK_HEADER: {
		load_blob(c);
		if (c->load_failed)
			return false;
		struct buf b = { 0 };
		int found = mail_header_values(c->raw, c->header_size, k->field, &b);
		bool r = found > 0 && (*n->needle == '\0' || contains(c, b.data, b.len, n->needle));
		buf_free(&b);
		return r;
	}
	case STORE_SK_BODY: {
		if (n->fts && (store_idset_has(&n->hits, c->email_id) || !store_idset_has(&c->unindexed, c->email_id)))
			return store_idset_has(&n->hits, c->email_id);
		size_t l;
		const char *t = body_text(c, &l);
		return contains(c, t, l, n->needle);
	}
	case STORE_SK_TEXT: {
		if (n->fts && (store_idset_has(&n->hits, c->email_id) || !store_idset_has(&c->unindexed, c->email_id)))
			return store_idset_has(&n->hits, c->email_id);
		size_t l;
		const char *t = header_text(c, &l);
		if (contains(c, t, l, n->needle))
			return true;
		t = body_text(c, &l);
		return contains(c, t, l, n->needle);
	}
	case STORE_SK_BEFORE:
		return day_of(c->idate, c->itz) < k->day;
	case STORE_SK_ON:
		return day_of(c->idate, c->itz) == k->day;
	case STORE_SK_SINCE:
		return day_of(c->idate, c->itz) >= k->day;
	case STORE_SK_SENTBEFORE:
		return day_of(c->hdate, c->htz) < k->day;
	case STORE_SK_SENTON:
		return day_of(c->hdate, c->htz) == k->day;
	case STORE_SK_SENTSINCE:
		return day_of(c->hdate, c->htz) >= k->day;
	case STORE_SK_SAVEDBEFORE:
		return day_of(c->sdate, 0) < k->day;
	case STORE_SK_SAVEDON:
		return day_of(c->sdate, 0) == k->day;
	case STORE_SK_SAVEDSINCE:
		return day_of(c->sdate, 0) >= k->day;
	case STORE_SK_OLDER:
		return (x->now ? x->now : time(NULL)) - c->idate >= k->num;
	case STORE_SK_YOUNGER:
		return (x->now ? x->now : time(NULL)) - c->idate <= k->num;
	case STORE_SK_LARGER:
		return k->num < 0 || c->size > (uint64_t)k->num;
	case STORE_SK_SMALLER:
		return k->num > 0 && c->size < (uint64_t)k->num;
	case STORE_SK_MODSEQ:
		return k->num <= 0 || c->modseq >= (uint64_t)k->num;
	case STORE_SK_UID:
		return in_set(&k->set, c->uid);
	case STORE_SK_SEQ: {
		if (x->seq_uids == NULL)
			return false;
		size_t lo = 0, hi = x->nseq;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (x->seq_uids[mid] < c->uid)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo >= x->nseq || x->seq_uids[lo] != c->uid)
			return false;
		return in_set(&k->set, (uint32_t)(lo + 1));
	}
	case STORE_SK_EMAILID:
		return c->email_id == n->id;
	case STORE_SK_THREADID:
		return c->thread_id == n->id;
	}
	assert(!"a key that compile() let through");
	return false;
}

/* Asks the index for every node it answers, for email ids in [lo, hi]. 1 or <0. */
static int index_lookups(struct sctx *c, struct db *cn, struct cnode *n, int64_t lo, int64_t hi,
			 const char **error_r)
{
	if (n->fts && store_index_match(cn, c->a, n->fts == 2, n->needle, lo, hi, &n->hits, error_r) < 0)
		return STORE_ERR;
	for (size_t i = 0; i < n->nsub; i++) {
		if (index_lookups(c, cn, n->sub[i], lo, hi, error_r) < 0)
			return STORE_ERR;
	}
	return 1;
}

/* The email ids of the messages in the UID set of an AND's UID key (the program's
 * root), as a range: 0 when there is none or the set is empty of messages. A string
 * that is in every message makes the index list every message of the store; within
 * `UID 99001:*` only the ids of those messages need asking for. */
static int uid_bounds(struct db *cn, int64_t mailbox_id, const struct cnode *root, int64_t *lo_r, int64_t *hi_r)
{
	if (root->k->key != STORE_SK_AND)
		return 0;
	for (size_t i = 0; i < root->nsub; i++) {
		const struct store_search *k = root->sub[i]->k;
		if (k->key != STORE_SK_UID || k->set.n == 0)
			continue;
		uint32_t ulo = UINT32_MAX, uhi = 0;
		for (size_t j = 0; j < k->set.n; j++) {
			ulo = k->set.r[j].lo < ulo ? k->set.r[j].lo : ulo;
			uhi = k->set.r[j].hi > uhi ? k->set.r[j].hi : uhi;
		}
		sqlite3_stmt *st = store_db_stmt(cn, "SELECT MIN(email_id), MAX(email_id) FROM messages"
						     " WHERE mailbox_id = ? AND uid >= ? AND uid <= ?");
		sqlite3_bind_int64(st, 1, mailbox_id);
		sqlite3_bind_int64(st, 2, ulo);
		sqlite3_bind_int64(st, 3, uhi);
		int r = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
		if (r) {
			*lo_r = sqlite3_column_int64(st, 0);
			*hi_r = sqlite3_column_int64(st, 1);
		}
		sqlite3_reset(st);
		return r;
	}
	return 0;
}

/* The index lookups of the program: the root's own AND children that the index answers
 * only within the UID key's ids, when the root has one (a row outside its set fails
 * the AND whatever they say), every other node over all ids (under OR or NOT a
 * narrower answer would be wrong). */
static int index_lookups_root(struct sctx *c, struct db *cn, struct cnode *root, const char **error_r)
{
	int64_t lo, hi;
	if (!uid_bounds(cn, c->ctx->mailbox_id, root, &lo, &hi))
		return index_lookups(c, cn, root, INT64_MIN, INT64_MAX, error_r);
	for (size_t i = 0; i < root->nsub; i++) {
		struct cnode *x = root->sub[i];
		if (index_lookups(c, cn, x, x->fts ? lo : INT64_MIN, x->fts ? hi : INT64_MAX, error_r) < 0)
			return STORE_ERR;
	}
	return 1;
}

/* The mailbox's message count (0 when it cannot be read: the scan is then used). */
static uint64_t mbox_count(struct sql_conn *q, int64_t mailbox_id)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT messages FROM mailboxes WHERE id = ?");
	if (st == NULL)
		return 0;
	sql_bind_int64(st, 1, mailbox_id);
	uint64_t n = sql_step(st) == SQL_ROW ? (uint64_t)sql_col_int64(st, 0) : 0;
	sql_reset(st);
	return n;
}

/* The node whose index matches bound the answer, if it is worth looking up their rows
 * one by one rather than reading the mailbox's rows: the root when it is answered by
 * the index, or the AND child so answered with the fewest matches; NULL otherwise.
 * unindexed: the mailbox's messages not in the index (candidates too); rows: all of
 * its messages. */
static const struct cnode *driver(const struct cnode *root, size_t unindexed, uint64_t rows)
{
	const struct cnode *best = root->fts ? root : NULL;
	if (root->k->key == STORE_SK_AND) {
		for (size_t i = 0; i < root->nsub; i++) {
			const struct cnode *x = root->sub[i];
			if (x->fts && (best == NULL || x->hits.n < best->hits.n))
				best = x;
		}
	}
	/* a lookup costs a few row reads: worth it below about a quarter of the rows */
	return best != NULL && (best->hits.n + unindexed) * 4 < rows ? best : NULL;
}

struct matches {
	uint32_t *v;
	size_t n, cap;
	uint64_t hi; /* the highest MODSEQ among them */
};

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Evaluates the program on the statement's current row; a match goes into m. */
static void row_eval(struct sctx *c, const struct cnode *root, struct matches *m)
{
	c->uid = (uint32_t)sql_col_int64(c->st, 0);
	c->flags = (unsigned int)sql_col_int64(c->st, 1);
	c->keywords = col(c, 2);
	c->modseq = (uint64_t)sql_col_int64(c->st, 3);
	c->size = (uint64_t)sql_col_int64(c->st, 4);
	c->idate = sql_col_int64(c->st, 5);
	c->itz = (int)sql_col_int64(c->st, 6);
	c->sdate = sql_col_int64(c->st, 7);
	c->email_id = sql_col_int64(c->st, 8);
	c->thread_id = sql_col_int64(c->st, 9);
	if (c->need_fields) {
		c->hdate = sql_col_int64(c->st, 15);
		c->htz = (int)sql_col_int64(c->st, 16);
		if (c->hdate == 0) { /* no usable Date: use the internal date */
			c->hdate = c->idate;
			c->htz = c->itz;
		}
		c->header_size = (uint64_t)sql_col_int64(c->st, 17);
	}
	c->loaded = c->load_failed = c->hdrtext_done = c->bodytext_done = false;
	bool match = eval(c, root);
	free(c->raw);
	c->raw = NULL;
	buf_reset(&c->hdrtext);
	buf_reset(&c->bodytext);
	if (match) {
		if (m->n == m->cap)
			m->v = xrealloc(m->v, (m->cap *= 2) * sizeof(*m->v));
		m->v[m->n++] = c->uid;
		if (c->modseq > m->hi)
			m->hi = c->modseq;
	}
	arena_clear(c->row);
}

static const char sql_rows[] = "SELECT uid, flags, keywords, modseq, size, internal_date, internal_tz, save_date,"
			       " email_id, thread_id FROM messages WHERE mailbox_id = ? ORDER BY uid";
/* one email's rows in the mailbox (INDEXED BY: without statistics SQLite would read
 * the mailbox's range of another index instead) */
static const char sql_rows_email[] =
	"SELECT uid, flags, keywords, modseq, size, internal_date, internal_tz, save_date,"
	" email_id, thread_id FROM messages INDEXED BY messages_email WHERE mailbox_id = ? AND email_id = ?";
static const char sql_rows_fields_email[] =
	"SELECT m.uid, m.flags, m.keywords, m.modseq, m.size, m.internal_date, m.internal_tz,"
	" m.save_date, m.email_id, m.thread_id, e.subject, e.from_, e.to_, e.cc, e.bcc, e.date,"
	" e.date_tz, e.header_size, e.parts FROM messages m INDEXED BY messages_email"
	" JOIN emails e ON e.id = m.email_id WHERE m.mailbox_id = ? AND m.email_id = ?";
static const char sql_rows_fields[] =
	"SELECT m.uid, m.flags, m.keywords, m.modseq, m.size, m.internal_date, m.internal_tz,"
	" m.save_date, m.email_id, m.thread_id, e.subject, e.from_, e.to_, e.cc, e.bcc, e.date,"
	" e.date_tz, e.header_size, e.parts FROM messages m JOIN emails e ON e.id = m.email_id"
	" WHERE m.mailbox_id = ? ORDER BY m.uid";

/* the same within a UID range (store_search_ctx.only) */
static const char sql_rows_range[] = "SELECT uid, flags, keywords, modseq, size, internal_date, internal_tz, save_date,"
				     " email_id, thread_id FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ?"
				     " ORDER BY uid";
static const char sql_rows_fields_range[] =
	"SELECT m.uid, m.flags, m.keywords, m.modseq, m.size, m.internal_date, m.internal_tz,"
	" m.save_date, m.email_id, m.thread_id, e.subject, e.from_, e.to_, e.cc, e.bcc, e.date,"
	" e.date_tz, e.header_size, e.parts FROM messages m JOIN emails e ON e.id = m.email_id"
	" WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid";

int store_search(struct store *s, struct arena *a, const struct store_search_ctx *ctx, const struct store_search *prog,
		 uint32_t **uids_r, size_t *n_r, uint64_t *highest_modseq_r, const char **error_r)
{
	*uids_r = NULL;
	*n_r = 0;
	if (highest_modseq_r)
		*highest_modseq_r = 0;
	struct sctx c = { .s = s, .ctx = ctx, .a = arena_new(), .row = arena_new(), .no_index = s->pg_conninfo != NULL };
	struct cnode *root;
	int ret = compile(&c, prog, 0, &root, error_r);
	if (ret < 0) {
		arena_free(&c.a);
		arena_free(&c.row);
		return ret;
	}
	struct db *cn;
	struct sql_conn *q = store_sql_get(s, &cn, error_r);
	if (q == NULL) {
		arena_free(&c.a);
		arena_free(&c.row);
		return STORE_EUNAVAIL;
	}
	ret = store_mbox_owned(q, ctx->account_id, ctx->mailbox_id);
	if (ret <= 0) {
		*error_r = ret == 0 ? "no such mailbox" : "database error";
		ret = ret == 0 ? STORE_ENOTFOUND : STORE_ERR;
		store_sql_put(s, q, cn);
		arena_free(&c.a);
		arena_free(&c.row);
		return ret;
	}
	/* the index is SQLite's: on PostgreSQL c.nfts is 0 (compile, no_index) */
	if (c.nfts > 0 && (store_index_unindexed(cn, c.a, ctx->mailbox_id, &c.unindexed, error_r) < 0 ||
			   index_lookups_root(&c, cn, root, error_r) < 0)) {
		store_sql_put(s, q, cn);
		arena_free(&c.a);
		arena_free(&c.row);
		return STORE_ERR;
	}
	if (c.unindexed.n > 0) /* messages not in the index yet are read as before */
		c.need_fields = c.need_blob = true;
	const struct cnode *drive = driver(root, c.unindexed.n, mbox_count(q, ctx->mailbox_id));
	struct matches m = { .cap = 64 };
	m.v = xmalloc(m.cap * sizeof(*m.v));
	int rc;
	if (drive != NULL) {
		/* only the index's matches can match: look up their rows instead of reading
		 * every row of the mailbox (SQLite only: INDEXED BY) */
		struct sql_stmt *byid = sql_prepare(q, c.need_fields ? sql_rows_fields_email : sql_rows_email);
		rc = byid != NULL ? SQL_DONE : SQL_ERR;
		/* the index's matches and the messages it does not hold, both sorted: merged */
		const struct store_idset *h = &drive->hits, *u = &c.unindexed;
		size_t i = 0, j = 0;
		while ((i < h->n || j < u->n) && rc == SQL_DONE) {
			int64_t id;
			if (j >= u->n || (i < h->n && h->ids[i] < u->ids[j]))
				id = h->ids[i++];
			else if (i >= h->n || u->ids[j] < h->ids[i])
				id = u->ids[j++];
			else
				id = (j++, h->ids[i++]);
			sql_bind_int64(byid, 1, ctx->mailbox_id);
			sql_bind_int64(byid, 2, id);
			c.st = byid;
			while ((rc = sql_step(byid)) == SQL_ROW)
				row_eval(&c, root, &m);
			sql_reset(byid);
		}
		qsort(m.v, m.n, sizeof(*m.v), cmp_uid);
	} else if (ctx->only != NULL) {
		/* the caller's candidates: their UID ranges, ascending */
		c.st = sql_prepare(q, c.need_fields ? sql_rows_fields_range : sql_rows_range);
		rc = c.st != NULL ? SQL_DONE : SQL_ERR;
		for (size_t i = 0; i < ctx->only->n && rc == SQL_DONE; i++) {
			assert(ctx->only->r[i].lo <= ctx->only->r[i].hi);
			sql_bind_int64(c.st, 1, ctx->mailbox_id);
			sql_bind_int64(c.st, 2, ctx->only->r[i].lo);
			sql_bind_int64(c.st, 3, ctx->only->r[i].hi);
			while ((rc = sql_step(c.st)) == SQL_ROW)
				row_eval(&c, root, &m);
			sql_reset(c.st);
		}
		qsort(m.v, m.n, sizeof(*m.v), cmp_uid);
	} else {
		c.st = sql_prepare(q, c.need_fields ? sql_rows_fields : sql_rows);
		rc = SQL_ERR;
		if (c.st != NULL) {
			sql_bind_int64(c.st, 1, ctx->mailbox_id);
			while ((rc = sql_step(c.st)) == SQL_ROW)
				row_eval(&c, root, &m);
			sql_reset(c.st);
		}
	}
	if (rc != SQL_DONE)
		ret = store_sql_fail(q, rc, "search", error_r);
	else
		ret = 1;
	store_sql_put(s, q, cn);
	buf_free(&c.hdrtext);
	buf_free(&c.bodytext);
	arena_free(&c.a);
	arena_free(&c.row);
	if (ret > 0) {
		*uids_r = arena_alloc(a, (m.n + 1) * sizeof(uint32_t));
		memcpy(*uids_r, m.v, m.n * sizeof(uint32_t));
		*n_r = m.n;
		if (highest_modseq_r)
			*highest_modseq_r = m.hi;
	}
	free(m.v);
	return ret;
}
