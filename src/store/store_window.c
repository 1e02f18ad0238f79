/* store_window.c: one page of a mailbox's emails in receivedAt order (store.h
 * store_email_window), for JMAP Email/query's common case.
 *
 * The index messages_received on (mailbox_id, internal_date, email_id, flags) holds
 * a mailbox's messages in exactly the order of the list, so a page is an index range
 * read with OFFSET/LIMIT, the total a COUNT over the range, and an anchor's index a
 * COUNT of the entries before it (a row-value bound on the same index). SELECT
 * DISTINCT on (internal_date, email_id) lists an email that is in the mailbox twice
 * once; in index order its rows are neighbours, so SQLite removes them as it reads,
 * without a temporary b-tree. Conditions on system flags are evaluated on the index
 * entry; keyword conditions need the table row, so they have their own statements
 * (three variants: no condition, flags, flags and keywords), each for both
 * directions. Statements are static strings: the connection caches them.
 *
 * A COUNT over a mailbox of 100,000 messages takes ~6 ms, so the last totals are kept
 * (struct window_total, WINDOW_TOTALS of them in the store, least recently used
 * replaced) with the mailbox's highestmodseq, read in the same snapshot: every change
 * to a mailbox's messages (new, expunged, moved, flags and keywords) raises it in the
 * same transaction through store_mbox_adjust, so an unchanged highestmodseq means an
 * unchanged list, and paging through a folder counts it once. */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

#define W_FROM " FROM messages INDEXED BY messages_received WHERE mailbox_id = ?1"
#define W_FLAGS " AND (flags & ?2) = ?3"
#define W_KW_ON(p) " AND (" p " IS NULL OR instr(' ' || lower(keywords) || ' ', " p ") > 0)"
#define W_KW_OFF(p) " AND (" p " IS NULL OR instr(' ' || lower(keywords) || ' ', " p ") = 0)"
#define W_KW W_FLAGS W_KW_ON("?4") W_KW_ON("?5") W_KW_ON("?6") W_KW_OFF("?7") W_KW_OFF("?8") W_KW_OFF("?9")

/* COUNT of the list's entries before the bound (?10, ?11) in list order; with the
 * bound past the end, the total. */
#define W_COUNT(cmp, cond) \
	"SELECT COUNT(*) FROM (SELECT DISTINCT internal_date, email_id" W_FROM \
	" AND (internal_date, email_id) " cmp " (?10, ?11)" cond ")"
/* ?12 entries from index ?13 */
#define W_PAGE(dir, cond) \
	"SELECT DISTINCT internal_date, email_id" W_FROM cond \
	" ORDER BY internal_date " dir ", email_id " dir " LIMIT ?12 OFFSET ?13"

enum { V_NONE, V_FLAGS, V_KEYWORDS, NVARIANTS };

/* [ascending][variant] */
static const char *const sql_count[2][NVARIANTS] = {
	{ W_COUNT(">", ""), W_COUNT(">", W_FLAGS), W_COUNT(">", W_KW) },
	{ W_COUNT("<", ""), W_COUNT("<", W_FLAGS), W_COUNT("<", W_KW) },
};
static const char *const sql_page[2][NVARIANTS] = {
	{ W_PAGE("DESC", ""), W_PAGE("DESC", W_FLAGS), W_PAGE("DESC", W_KW) },
	{ W_PAGE("ASC", ""), W_PAGE("ASC", W_FLAGS), W_PAGE("ASC", W_KW) },
};
/* The anchor's internal date when one of its messages in the mailbox passes. */
static const char *const sql_anchor =
	"SELECT internal_date FROM messages INDEXED BY messages_email"
	" WHERE email_id = ?14 AND account_id = ?15 AND mailbox_id = ?1" W_KW " LIMIT 1";

/* The keywords as bound: " keyword " in lower case (ASCII, as IMAP compares them);
 * v[0] the required ones, v[1] the excluded ones, "" for an unused slot. */
struct kwbind {
	char v[2][STORE_WINDOW_KEYWORDS][STORE_KEYWORD_MAX + 3];
};

/* Binds the conditions (a parameter a statement does not use is harmless). */
static void bind_conds(sqlite3_stmt *st, const struct store_window *w, const struct kwbind *kw)
{
	sqlite3_bind_int64(st, 1, w->mailbox_id);
	sqlite3_bind_int64(st, 2, w->flags_on | w->flags_off);
	sqlite3_bind_int64(st, 3, w->flags_on);
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < STORE_WINDOW_KEYWORDS; i++) {
			if (kw->v[k][i][0] != '\0')
				sqlite3_bind_text(st, 4 + 3 * k + i, kw->v[k][i], -1, SQLITE_TRANSIENT);
		}
	}
}

/* One COUNT (in *n_r); 1 or STORE_ERR. */
static int count_before(struct db *c, sqlite3_stmt *st, const struct store_window *w,
			const struct kwbind *kw, int64_t date, int64_t email_id, uint64_t *n_r,
			const char **error_r)
{
	if (st == NULL)
		return store_db_fail(c, "email_window", error_r);
	bind_conds(st, w, kw);
	sqlite3_bind_int64(st, 10, date);
	sqlite3_bind_int64(st, 11, email_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		int r = store_db_fail(c, "email_window", error_r);
		sqlite3_reset(st);
		return r;
	}
	*n_r = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 1;
}

/* The remembered total of w's list at the mailbox's highestmodseq: true with *total_r. */
static bool total_get(struct store *s, const struct store_window *w, uint64_t hms, uint64_t *total_r)
{
	bool hit = false;
	pthread_mutex_lock(&s->wt_mu);
	for (size_t i = 0; i < WINDOW_TOTALS && !hit; i++) {
		struct window_total *t = &s->wt[i];
		if (t->mailbox_id == w->mailbox_id && t->flags_on == w->flags_on && t->flags_off == w->flags_off &&
		    t->highestmodseq == hms) {
			t->used = ++s->wt_tick;
			*total_r = t->total;
			hit = true;
		}
	}
	pthread_mutex_unlock(&s->wt_mu);
	return hit;
}

/* Remembers a total, in the slot of the same list or the least recently used one. */
static void total_put(struct store *s, const struct store_window *w, uint64_t hms, uint64_t total)
{
	pthread_mutex_lock(&s->wt_mu);
	struct window_total *slot = &s->wt[0];
	for (size_t i = 0; i < WINDOW_TOTALS; i++) {
		struct window_total *t = &s->wt[i];
		if (t->mailbox_id == w->mailbox_id && t->flags_on == w->flags_on && t->flags_off == w->flags_off) {
			slot = t;
			break;
		}
		if (t->used < slot->used)
			slot = t;
	}
	/* a reader with an older snapshot does not replace a newer total */
	if (slot->mailbox_id != w->mailbox_id || slot->flags_on != w->flags_on || slot->flags_off != w->flags_off ||
	    slot->highestmodseq <= hms)
		*slot = (struct window_total){ .mailbox_id = w->mailbox_id, .highestmodseq = hms,
					       .flags_on = w->flags_on, .flags_off = w->flags_off,
					       .total = total, .used = ++s->wt_tick };
	pthread_mutex_unlock(&s->wt_mu);
}

static int window_read(struct store *s, struct db *c, struct arena *a, struct store_window *w,
		       const struct kwbind *kw, int variant, uint64_t hms, const char **error_r)
{
	int asc = w->ascending ? 1 : 0;
	/* past the end of the list in its order: every entry is before it */
	int64_t end = asc ? INT64_MAX : INT64_MIN;
	int64_t pos = w->position;
	if (w->anchor != 0) {
		sqlite3_stmt *st = store_db_stmt(c, sql_anchor);
		if (st == NULL)
			return store_db_fail(c, "email_window", error_r);
		bind_conds(st, w, kw);
		sqlite3_bind_int64(st, 14, w->anchor);
		sqlite3_bind_int64(st, 15, w->account_id);
		int rc = sqlite3_step(st);
		int64_t date = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return store_db_fail(c, "email_window", error_r);
		uint64_t idx;
		if (count_before(c, store_db_stmt(c, sql_count[asc][variant]), w, kw, date, w->anchor, &idx,
				 error_r) < 0)
			return STORE_ERR;
		/* idx < 2^32: no overflow below INT64_MAX - 2^32 */
		pos = w->position > INT64_MAX - (int64_t)idx ? INT64_MAX : (int64_t)idx + w->position;
		if (pos < 0)
			pos = 0;
	}
	if (w->want_total || pos < 0) {
		/* a keyword condition is not part of the key: such totals are not kept */
		bool keep = variant != V_KEYWORDS;
		if (!keep || !total_get(s, w, hms, &w->total)) {
			if (count_before(c, store_db_stmt(c, sql_count[asc][variant]), w, kw, end, end, &w->total,
					 error_r) < 0)
				return STORE_ERR;
			if (keep)
				total_put(s, w, hms, w->total);
		}
		if (pos < 0) {
			pos = (int64_t)w->total + pos;
			if (pos < 0)
				pos = 0;
		}
	}
	w->start = (uint64_t)pos;
	if (w->limit == 0)
		return 1;
	sqlite3_stmt *st = store_db_stmt(c, sql_page[asc][variant]);
	if (st == NULL)
		return store_db_fail(c, "email_window", error_r);
	bind_conds(st, w, kw);
	sqlite3_bind_int64(st, 12, w->limit > INT64_MAX ? INT64_MAX : (int64_t)w->limit);
	sqlite3_bind_int64(st, 13, pos);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (w->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			int64_t *v = arena_alloc(a, ncap * sizeof(*v));
			if (w->n)
				memcpy(v, w->ids, w->n * sizeof(*v));
			w->ids = v;
			cap = ncap;
		}
		w->ids[w->n++] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(c, "email_window", error_r);
	return 1;
}

int store_email_window(struct store *s, struct arena *a, struct store_window *w,
		       const char **error_r)
{
	w->ids = NULL;
	w->n = 0;
	w->start = 0;
	w->total = 0;
	struct kwbind kw;
	bool any_kw = false;
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < STORE_WINDOW_KEYWORDS; i++) {
			const char *src = k == 0 ? w->keywords_on[i] : w->keywords_off[i];
			kw.v[k][i][0] = '\0';
			if (src == NULL)
				continue;
			if (!store_keyword_valid(src)) {
				*error_r = "invalid keyword";
				return STORE_EINVAL;
			}
			size_t n = strlen(src);
			kw.v[k][i][0] = ' ';
			for (size_t j = 0; j < n; j++)
				kw.v[k][i][1 + j] = (char)(src[j] >= 'A' && src[j] <= 'Z' ? src[j] + 32 : src[j]);
			kw.v[k][i][1 + n] = ' ';
			kw.v[k][i][2 + n] = '\0';
			any_kw = true;
		}
	}
	int variant = any_kw ? V_KEYWORDS : (w->flags_on | w->flags_off) != 0 ? V_FLAGS : V_NONE;
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	/* one snapshot for the anchor, the total and the page (store_db_put ends it) */
	sqlite3_stmt *begin = store_db_stmt(c, "BEGIN");
	int ret = begin != NULL ? store_step_done(c, begin, error_r) : store_db_fail(c, "email_window", error_r);
	uint64_t hms = 0;
	if (ret > 0) {
		sqlite3_stmt *st = store_db_stmt(c, "SELECT highestmodseq FROM mailboxes WHERE id = ? AND account_id = ?");
		if (st == NULL) {
			ret = store_db_fail(c, "email_window", error_r);
		} else {
			sqlite3_bind_int64(st, 1, w->mailbox_id);
			sqlite3_bind_int64(st, 2, w->account_id);
			int rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				hms = (uint64_t)sqlite3_column_int64(st, 0);
			} else if (rc == SQLITE_DONE) {
				*error_r = "no such mailbox";
				ret = STORE_ENOTFOUND;
			} else {
				ret = store_db_fail(c, "email_window", error_r);
			}
			sqlite3_reset(st);
		}
	}
	if (ret > 0 && (w->flags_on & w->flags_off) != 0) {
		/* a flag both required and excluded: the list is empty */
		if (w->anchor != 0)
			ret = 0;
		else
			w->start = w->position > 0 ? (uint64_t)w->position : 0;
	} else if (ret > 0) {
		ret = window_read(s, c, a, w, &kw, variant, hms, error_r);
	}
	store_db_put(s, c);
	return ret;
}
