/* test_index.c: the full-text index gives exactly what the scan gives.
 *
 * A generated mailbox of 1,200 messages (plain UTF-8, quoted-printable with soft line
 * breaks inside words, base64, ISO-8859-1, HTML alternatives, attachments with plain,
 * RFC 2231 and RFC 2047 file names, encoded subjects; German umlauts, ß, emoji) is
 * searched with BODY and TEXT for substrings inside words, across soft breaks, with
 * umlauts and ß/ss folding, emoji, phrases, short needles (the scan's path) and
 * combinations with NOT/OR/flags/SUBJECT. The answers with the index are compared with
 * the answers after the index is emptied (every message pending: the scan), and again
 * after store_index_rebuild indexed them anew. New mail waits for the indexer and is
 * found meanwhile. Also: a message whose text is over
 * index_text_max is found by the scan, deleted messages are never found, and a store
 * made before the index lists its messages as pending. */
#include "helpers.h"

#include <sqlite3.h>

#include "buf.h"

/* A malloc'd copy of b's text; frees b. */
static char *take(struct buf *b)
{
	char *s = xstrdup(buf_str(b));
	buf_free(b);
	return s;
}

#define NMSG 1200

static const char *const words[] = {
	"Größe",    "Straße",  "strasse",   "Müller",    "ÄRGER",   "naïve", "café",   "emoji😀",    "🎉party",
	"Rechnung", "invoice", "meeting",   "Zürich",    "Köln",    "über",  "Apfel",  "quarterly", "numbers",
	"the",      "and",     "Übersicht", "FUSSBALL",  "fußball", "señor", "Ελλάδα", "пример",    "x",
	"ab",       "Bericht", "Termin",    "Lieferung", "déjà",    "vu",    "Schöne", "Grüße",     "Kostenvoranschlag",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static uint32_t rnd(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return (*x >> 8) & 0xffffff;
}

static bool latin1_ok(const char *w)
{
	for (const unsigned char *p = (const unsigned char *)w; *p; p++) {
		if (*p >= 0x80 && *p != 0xc3 && *p != 0xc2)
			return false;
		if (*p == 0xc3 || *p == 0xc2)
			p++;
	}
	return true;
}

/* Some words as UTF-8 text (latin1: only those ISO-8859-1 can hold). */
static void text_words(uint32_t *x, struct buf *b, int n, bool latin1)
{
	for (int i = 0; i < n; i++) {
		const char *w = words[rnd(x) % NWORDS];
		if (latin1 && !latin1_ok(w))
			w = "plain";
		buf_printf(b, "%s%s", i ? (rnd(x) % 9 == 0 ? "\n" : " ") : "", w);
	}
}

static void to_latin1(const char *s, struct buf *out)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p == 0xc3 || *p == 0xc2) && p[1]) {
			buf_putc(out, (char)(*p == 0xc3 ? p[1] + 0x40 : p[1]));
			p++;
		} else {
			buf_putc(out, (char)*p);
		}
	}
}

/* Quoted-printable with a soft line break every 17 output characters (inside words). */
static void qp(const char *s, size_t n, struct buf *out)
{
	int col = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n') {
			buf_puts(out, "\r\n");
			col = 0;
			continue;
		}
		if (col >= 17) {
			buf_puts(out, "=\r\n");
			col = 0;
		}
		if (c >= 0x80 || c == '=') {
			buf_printf(out, "=%02X", c);
			col += 3;
		} else {
			buf_putc(out, (char)c);
			col++;
		}
	}
}

static void b64(const char *s, size_t n, struct buf *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int col = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		buf_putc(out, t[v >> 18 & 63]);
		buf_putc(out, t[v >> 12 & 63]);
		buf_putc(out, i + 1 < n ? t[v >> 6 & 63] : '=');
		buf_putc(out, i + 2 < n ? t[v & 63] : '=');
		if ((col += 4) >= 72) {
			buf_puts(out, "\r\n");
			col = 0;
		}
	}
	buf_puts(out, "\r\n");
}

static void crlf(const char *s, struct buf *out)
{
	for (; *s; s++) {
		if (*s == '\n')
			buf_putc(out, '\r');
		buf_putc(out, *s);
	}
}

/* Message i of the generated mailbox. */
static char *gen(uint32_t *x, int i)
{
	struct buf m = { 0 }, t = { 0 }, s = { 0 };
	text_words(x, &s, 3, false);
	buf_printf(&m, "From: sender%d@example.test\r\nTo: a@example.test\r\n", i % 17);
	if (i % 3 == 0) {
		struct buf e = { 0 };
		b64(buf_str(&s), s.len, &e);
		char *enc = xstrdup(buf_str(&e));
		enc[strcspn(enc, "\r\n")] = '\0';
		buf_printf(&m, "Subject: =?UTF-8?B?%s?=\r\n", enc);
		free(enc);
		buf_free(&e);
	} else {
		for (char *p = s.data; *p; p++)
			*p = *p == '\n' ? ' ' : *p;
		buf_printf(&m, "Subject: %s\r\n", buf_str(&s));
	}
	buf_printf(&m, "Message-ID: <m%d@example.test>\r\nMIME-Version: 1.0\r\n", i);
	int kind = (int)(rnd(x) % 5);
	text_words(x, &t, 8 + (int)(rnd(x) % 40), kind == 3);
	switch (kind) {
	case 0:
		buf_puts(&m, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
		crlf(buf_str(&t), &m);
		break;
	case 1:
		buf_puts(&m, "Content-Type: text/plain; charset=utf-8\r\n"
			     "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		qp(t.data, t.len, &m);
		break;
	case 2:
		buf_puts(&m, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
		b64(t.data, t.len, &m);
		break;
	case 3: {
		struct buf l = { 0 };
		to_latin1(buf_str(&t), &l);
		buf_puts(&m, "Content-Type: text/plain; charset=iso-8859-1\r\n"
			     "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		qp(l.data, l.len, &m);
		buf_free(&l);
		break;
	}
	default: {
		static const char *const names[] = {
			"filename=\"Bericht-2026.pdf\"",
			"filename*=utf-8''%C3%9Cbersicht%20Kosten.pdf",
			"filename=\"=?utf-8?q?Lieferschein_K=C3=B6ln?=.pdf\"",
		};
		buf_puts(&m, "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
			     "Content-Type: multipart/alternative; boundary=\"c\"\r\n\r\n--c\r\n"
			     "Content-Type: text/plain; charset=utf-8\r\n\r\n");
		crlf(buf_str(&t), &m);
		buf_puts(&m, "\r\n--c\r\nContent-Type: text/html; charset=utf-8\r\n"
			     "Content-Transfer-Encoding: base64\r\n\r\n");
		struct buf h = { 0 };
		buf_printf(&h, "<html><body><p>%s</p><p>Termin &amp; &uuml;ber</p></body></html>", buf_str(&t));
		b64(h.data, h.len, &m);
		buf_free(&h);
		buf_printf(&m,
			   "--c--\r\n--b\r\nContent-Type: application/pdf\r\n"
			   "Content-Disposition: attachment; %s\r\nContent-Transfer-Encoding: base64\r\n\r\n"
			   "JVBERi0xLjQK\r\n--b--\r\n",
			   names[rnd(x) % 3]);
		break;
	}
	}
	buf_free(&t);
	buf_free(&s);
	return take(&m);
}

static const char *const needles[] = {
	"röß",
	"straße",
	"strasse",
	"STRASSE",
	"ller",
	"MÜLLER",
	"mueller",
	"ärger",
	"😀",
	"emoji😀",
	"🎉p",
	"party",
	"ech",
	"rechnung köln",
	"invoice meeting",
	"zür",
	"über",
	"quart",
	"ab",
	"x",
	"the",
	"nn",
	"bericht",
	"übersicht kosten",
	"lieferschein köln",
	"example.test",
	"subject",
	"multipart",
	"charset",
	"fussball",
	"fußb",
	"SEÑOR",
	"ελλ",
	"ΕΛΛΆΔΑ",
	"прим",
	"déjà vu",
	"ne grü",
	"termin & über",
	"kostenvoranschlag",
	"nschl",
	"e\ns",
	"zzzz",
	"sender1@",
};
#define NNEEDLES (sizeof(needles) / sizeof(needles[0]))

struct q {
	struct store_search root, k1, k2, k3, k4;
	struct store_range r;
};

/* Query j: BODY, TEXT, or a combination, over needle j / 4 etc. */
static const struct store_search *query(struct q *q, size_t j)
{
	memset(q, 0, sizeof(*q));
	const char *n = needles[j % NNEEDLES];
	const char *m = needles[(j * 7 + 3) % NNEEDLES];
	switch (j / NNEEDLES) {
	case 0:
		q->root = (struct store_search){ .key = STORE_SK_BODY, .str = n };
		return &q->root;
	case 1:
		q->root = (struct store_search){ .key = STORE_SK_TEXT, .str = n };
		return &q->root;
	case 2: /* BODY n AND NOT TEXT m */
		q->k2 = (struct store_search){ .key = STORE_SK_TEXT, .str = m };
		q->k3 = (struct store_search){ .key = STORE_SK_NOT, .sub = &q->k2 };
		q->k1 = (struct store_search){ .key = STORE_SK_BODY, .str = n, .next = &q->k3 };
		q->root = (struct store_search){ .key = STORE_SK_AND, .sub = &q->k1 };
		return &q->root;
	case 4: /* UID 300:700 BODY n NOT TEXT m: the index asked for the UIDs' ids only for BODY */
		q->r = (struct store_range){ 300, 700 };
		q->k2 = (struct store_search){ .key = STORE_SK_TEXT, .str = m };
		q->k3 = (struct store_search){ .key = STORE_SK_NOT, .sub = &q->k2 };
		q->k1 = (struct store_search){ .key = STORE_SK_BODY, .str = n, .next = &q->k3 };
		q->k4 = (struct store_search){ .key = STORE_SK_UID, .set = { &q->r, 1 }, .next = &q->k1 };
		q->root = (struct store_search){ .key = STORE_SK_AND, .sub = &q->k4 };
		return &q->root;
	case 5: /* OR (UID 1:100) (TEXT n): not narrowed */
		q->r = (struct store_range){ 1, 100 };
		q->k2 = (struct store_search){ .key = STORE_SK_TEXT, .str = n };
		q->k1 = (struct store_search){ .key = STORE_SK_UID, .set = { &q->r, 1 }, .next = &q->k2 };
		q->k3 = (struct store_search){ .key = STORE_SK_OR, .sub = &q->k1 };
		q->root = (struct store_search){ .key = STORE_SK_AND, .sub = &q->k3 };
		return &q->root;
	case 6: /* BODY n UID 1000:* (the last 201 messages) */
		q->r = (struct store_range){ 1000, UINT32_MAX };
		q->k2 = (struct store_search){ .key = STORE_SK_UID, .set = { &q->r, 1 } };
		q->k1 = (struct store_search){ .key = STORE_SK_BODY, .str = n, .next = &q->k2 };
		q->root = (struct store_search){ .key = STORE_SK_AND, .sub = &q->k1 };
		return &q->root;
	default: /* OR (TEXT n) (SUBJECT m) AND LARGER 900 */
		q->k2 = (struct store_search){ .key = STORE_SK_SUBJECT, .str = m };
		q->k1 = (struct store_search){ .key = STORE_SK_TEXT, .str = n, .next = &q->k2 };
		q->k4 = (struct store_search){ .key = STORE_SK_LARGER, .num = 900 };
		q->k3 = (struct store_search){ .key = STORE_SK_OR, .sub = &q->k1, .next = &q->k4 };
		q->root = (struct store_search){ .key = STORE_SK_AND, .sub = &q->k3 };
		return &q->root;
	}
}
#define NQUERIES (NNEEDLES * 7)

static char *answer(struct fixture *f, const struct store_search *prog)
{
	struct store_search_ctx sc = { .account_id = f->acct, .mailbox_id = f->inbox };
	uint32_t *uids;
	size_t n;
	const char *err = NULL;
	struct arena *a = arena_new();
	int r = store_search(f->s, a, &sc, prog, &uids, &n, NULL, &err);
	if (r != 1)
		fail_msg("search: %d %s", r, err ? err : "");
	struct buf b = { 0 };
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%u,", uids[i]);
	arena_free(&a);
	buf_puts(&b, "");
	return take(&b);
}

static void sql(struct fixture *f, const char *q)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/db/store.sqlite", f->dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	char *err = NULL;
	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err);
	sqlite3_close(db);
}

static void test_index_equals_scan(void **state)
{
	struct fixture *f = *state;
	uint32_t x = 20261207;
	for (int i = 0; i < NMSG; i++) {
		char *m = gen(&x, i);
		deliver1(f, f->acct, m);
		free(m);
	}
	/* new mail waits for the indexer (the server's runs every second) */
	int64_t pending = 0, too_big = 0;
	const char *err = NULL;
	assert_int_equal(store_index_pending(f->s, &pending, &too_big, &err), 1);
	assert_int_equal(pending, NMSG);
	struct store_index_counts cnt;
	assert_int_equal(store_index_rebuild(f->s, 0, false, 0, NULL, NULL, &cnt, &err), 1);
	assert_int_equal(cnt.indexed, NMSG);
	char *indexed[NQUERIES];
	size_t nonempty = 0, all = 0;
	for (size_t j = 0; j < NQUERIES; j++) {
		struct q q;
		indexed[j] = answer(f, query(&q, j));
		nonempty += indexed[j][0] != '\0';
		all += strlen(indexed[j]) > 3 * NMSG; /* roughly every message */
	}
	/* the queries select: most find something, few find (nearly) everything */
	assert_true(nonempty > NQUERIES * 2 / 3);
	assert_true(all < NQUERIES / 4);

	/* the scan: every message pending, as in a store made before the index */
	sql(f, "DELETE FROM email_text; INSERT INTO email_unindexed(email_id, reason) SELECT id, 0 FROM emails");
	assert_int_equal(store_index_pending(f->s, &pending, &too_big, &err), 1);
	assert_int_equal(pending, NMSG);
	for (size_t j = 0; j < NQUERIES; j++) {
		struct q q;
		char *scanned = answer(f, query(&q, j));
		if (strcmp(scanned, indexed[j]) != 0)
			fail_msg("query %zu (needle \"%s\"): index %s, scan %s", j, needles[j % NNEEDLES], indexed[j],
				 scanned);
		free(scanned);
	}

	/* indexed anew */
	assert_int_equal(store_index_rebuild(f->s, 0, false, 0, NULL, NULL, &cnt, &err), 1);
	assert_int_equal(cnt.indexed, NMSG);
	assert_int_equal(store_index_pending(f->s, &pending, &too_big, &err), 1);
	assert_int_equal(pending, 0);
	for (size_t j = 0; j < NQUERIES; j++) {
		struct q q;
		char *again = answer(f, query(&q, j));
		assert_string_equal(again, indexed[j]);
		free(again);
		free(indexed[j]);
	}
}

/* A message whose text is over the limit is not indexed and still found; expunged
 * messages are never found. */
static void test_too_big_and_deleted(void **state)
{
	struct fixture *f = *state;
	store_close(&f->s);
	struct store_options opt = { .create = true, .no_fsync = true, .index_text_max = 200 };
	const char *err = NULL;
	assert_int_equal(store_open(f->dir, &opt, &f->s, &err), 1);
	deliver1(f, f->acct, "Subject: small\r\n\r\nkleiner Kostenvoranschlag\r\n");
	struct buf big = { 0 };
	buf_puts(&big, "Subject: big\r\n\r\n");
	for (int i = 0; i < 40; i++)
		buf_puts(&big, "lange Zeile ohne Inhalt\r\n");
	buf_puts(&big, "ganz unten: Kostenvoranschlag\r\n");
	deliver1(f, f->acct, buf_str(&big));
	buf_free(&big);
	struct store_search k = { .key = STORE_SK_BODY, .str = "kostenvoranschlag" };
	char *r = answer(f, &k); /* both waiting for the indexer: read from their files */
	assert_string_equal(r, "1,2,");
	free(r);
	struct store_index_counts cnt;
	assert_int_equal(store_index_rebuild(f->s, 0, false, 0, NULL, NULL, &cnt, &err), 1);
	assert_int_equal(cnt.indexed, 1);
	assert_int_equal(cnt.too_big, 1);
	int64_t pending = -1, too_big = -1;
	assert_int_equal(store_index_pending(f->s, &pending, &too_big, &err), 1);
	assert_int_equal(pending, 0);
	assert_int_equal(too_big, 1);
	r = answer(f, &k);
	assert_string_equal(r, "1,2,");
	free(r);

	struct store_range rg;
	struct store_flag_change fc = { .account_id = f->acct,
					.mailbox_id = f->inbox,
					.uids = uidset1(&rg, 1, 1),
					.op = STORE_FLAGS_ADD,
					.flags = STORE_F_DELETED };
	assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
	size_t n = 0;
	assert_int_equal(store_expunge(f->s, f->a, f->acct, f->inbox, NULL, true, NULL, &n, &err), 1);
	assert_int_equal(n, 1);
	r = answer(f, &k);
	assert_string_equal(r, "2,");
	free(r);
	/* the same text delivered again is a new message, found once */
	deliver1(f, f->acct, "Subject: small\r\n\r\nkleiner Kostenvoranschlag\r\n");
	r = answer(f, &k);
	assert_string_equal(r, "2,3,");
	free(r);
	assert_int_equal(store_index_rebuild(f->s, 0, false, 0, NULL, NULL, &cnt, &err), 1);
	assert_int_equal(cnt.indexed, 1);
	r = answer(f, &k);
	assert_string_equal(r, "2,3,");
	free(r);
}

/* A store made before the index (no 'search_index' mark) lists its messages as
 * pending at the next open; the scan answers for them meanwhile. */
static void test_old_store_is_pending(void **state)
{
	struct fixture *f = *state;
	deliver1(f, f->acct, "Subject: one\r\n\r\nalte Nachricht\r\n");
	deliver1(f, f->acct, "Subject: two\r\n\r\nnoch eine alte Nachricht\r\n");
	store_close(&f->s);
	sql(f, "DELETE FROM email_text; DELETE FROM meta WHERE key = 'search_index'");
	f->s = open_in(f->dir, false);
	int64_t pending = 0, too_big = 0;
	const char *err = NULL;
	assert_int_equal(store_index_pending(f->s, &pending, &too_big, &err), 1);
	assert_int_equal(pending, 2);
	struct store_search k = { .key = STORE_SK_TEXT, .str = "alte nachricht" };
	char *r = answer(f, &k);
	assert_string_equal(r, "1,2,");
	free(r);
	struct store_index_counts cnt;
	assert_int_equal(store_index_rebuild(f->s, f->acct, false, 0, NULL, NULL, &cnt, &err), 1);
	assert_int_equal(cnt.indexed, 2);
	r = answer(f, &k);
	assert_string_equal(r, "1,2,");
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_index_equals_scan, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_too_big_and_deleted, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_old_store_is_pending, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
