/* test_window.c: store_email_window (JMAP Email/query's common case) against a
 * reference computed from store_msg_list the way the general query path does it
 * (filter each message, one entry per email, sort by internal date then email id in
 * the same direction, then RFC 8620 §5.5 position/anchor/limit): a mailbox with many
 * equal internal dates, emails in it twice (COPY into the same mailbox) with
 * different flags, messages moved out, flag and keyword conditions (keywords in
 * mixed case), every position, anchor and limit; and the errors. */
#include "helpers.h"

#include <strings.h>

#define NMSG 60

struct cond {
	unsigned int on, off;
	const char *kw_on[STORE_WINDOW_KEYWORDS], *kw_off[STORE_WINDOW_KEYWORDS];
};

static bool has_kw(const char *list, const char *kw)
{
	size_t n = strlen(kw);
	for (const char *p = list; *p;) {
		size_t l = strcspn(p, " ");
		if (l == n && strncasecmp(p, kw, n) == 0)
			return true;
		p += l;
		while (*p == ' ')
			p++;
	}
	return false;
}

static bool passes(const struct store_msg *m, const struct cond *c)
{
	if ((m->flags & c->on) != c->on || (m->flags & c->off) != 0)
		return false;
	for (int i = 0; i < STORE_WINDOW_KEYWORDS; i++) {
		if (c->kw_on[i] != NULL && !has_kw(m->keywords, c->kw_on[i]))
			return false;
		if (c->kw_off[i] != NULL && has_kw(m->keywords, c->kw_off[i]))
			return false;
	}
	return true;
}

struct ent {
	int64_t date, id;
};

static bool tl_asc;

static int ent_cmp(const void *pa, const void *pb)
{
	const struct ent *a = pa, *b = pb;
	int r = (a->date > b->date) - (a->date < b->date);
	if (r == 0)
		r = (a->id > b->id) - (a->id < b->id);
	return tl_asc ? r : -r;
}

/* The list as the general path computes it. */
static size_t reference(struct fixture *f, int64_t mailbox, const struct cond *c, bool asc, struct ent *out)
{
	struct store_msg *msgs;
	size_t n, k = 0;
	const char *err;
	assert_int_equal(store_msg_list(f->s, f->a, f->acct, mailbox, NULL, 0, &msgs, &n, &err), 1);
	for (size_t i = 0; i < n; i++) {
		if (!passes(&msgs[i], c))
			continue;
		bool dup = false;
		for (size_t j = 0; j < k; j++)
			dup |= out[j].id == msgs[i].email_id;
		if (!dup)
			out[k++] = (struct ent){ msgs[i].internal_date, msgs[i].email_id };
	}
	tl_asc = asc;
	qsort(out, k, sizeof(*out), ent_cmp);
	return k;
}

static void check_one(struct fixture *f, int64_t mailbox, const struct cond *c, bool asc, const struct ent *ref,
		      size_t nref, int64_t anchor, int64_t position, uint64_t limit, bool want_total)
{
	struct store_window w = { .account_id = f->acct, .mailbox_id = mailbox, .ascending = asc,
				  .flags_on = c->on, .flags_off = c->off, .anchor = anchor,
				  .position = position, .limit = limit, .want_total = want_total };
	memcpy(w.keywords_on, c->kw_on, sizeof(w.keywords_on));
	memcpy(w.keywords_off, c->kw_off, sizeof(w.keywords_off));
	const char *err = NULL;
	int r = store_email_window(f->s, f->a, &w, &err);
	/* the expectation */
	int64_t pos = position;
	if (anchor != 0) {
		size_t idx = nref;
		for (size_t i = 0; i < nref; i++) {
			if (ref[i].id == anchor) {
				idx = i;
				break;
			}
		}
		if (idx == nref) {
			assert_int_equal(r, 0);
			return;
		}
		pos = (int64_t)idx + position;
		if (pos < 0)
			pos = 0;
	} else if (pos < 0) {
		pos = (int64_t)nref + pos;
		if (pos < 0)
			pos = 0;
	}
	if (r != 1)
		fail_msg("store_email_window: %d %s", r, err ? err : "");
	assert_int_equal(w.start, (uint64_t)pos);
	if (want_total)
		assert_int_equal(w.total, nref);
	size_t want = (size_t)pos < nref ? nref - (size_t)pos : 0;
	if (want > limit)
		want = limit;
	if (w.n != want)
		fail_msg("asc %d anchor %lld position %lld limit %llu: %zu ids, want %zu", asc, (long long)anchor,
			 (long long)position, (unsigned long long)limit, w.n, want);
	for (size_t i = 0; i < want; i++)
		assert_int_equal(w.ids[i], ref[(size_t)pos + i].id);
}

static void check_all(struct fixture *f, int64_t mailbox, const struct cond *c)
{
	static const int64_t positions[] = { INT64_MIN, -100, -61, -5, -1, 0, 1, 5, 30, 59, 60, 100, INT64_MAX };
	static const uint64_t limits[] = { 0, 1, 7, 50, 1000, UINT64_MAX };
	struct ent ref[4 * NMSG];
	for (int asc = 0; asc < 2; asc++) {
		size_t nref = reference(f, mailbox, c, asc, ref);
		/* anchors: none, the first, one in the middle, the last, and emails that are
		 * not in the list (unknown, or failing the conditions) */
		int64_t anchors[8] = { 0, 999999, -1 };
		size_t na = 3;
		if (nref > 0) {
			anchors[na++] = ref[0].id;
			anchors[na++] = ref[nref / 2].id;
			anchors[na++] = ref[nref - 1].id;
		}
		for (size_t ai = 0; ai < na; ai++) {
			for (size_t pi = 0; pi < sizeof(positions) / sizeof(positions[0]); pi++) {
				for (size_t li = 0; li < sizeof(limits) / sizeof(limits[0]); li++) {
					int64_t pos = positions[pi];
					if (anchors[ai] != 0 && (pos == INT64_MIN || pos == INT64_MAX))
						continue; /* the JMAP layer never asks that */
					check_one(f, mailbox, c, asc, ref, nref, anchors[ai], pos, limits[li], li % 2 == 0);
					arena_clear(f->a);
				}
			}
		}
	}
}

/* INBOX: NMSG messages with 7 distinct internal dates, flags and keywords by number;
 * every 8th copied into INBOX again (the copy gets \Seen and "Copied"), every 9th
 * moved to the mailbox Window. Returns its id. */
static int64_t fill(struct fixture *f)
{
	const char *err;
	int64_t archive;
	assert_int_equal(store_mailbox_create(f->s, f->acct, "Window", 0, &archive, &err), 1);
	for (int i = 0; i < NMSG; i++) {
		char text[200];
		snprintf(text, sizeof(text), "From: x@example.test\r\nSubject: window %d\r\n\r\nbody %d\r\n", i, i);
		const char *kws[3] = { NULL };
		int nk = 0;
		if (i % 4 == 0)
			kws[nk++] = i % 8 == 0 ? "$Label1" : "$label1";
		if (i % 6 == 0)
			kws[nk++] = "Work";
		struct store_append ap = {
			.account_id = f->acct, .mailbox_id = f->inbox, .data = text, .len = strlen(text),
			.flags = (i % 3 == 0 ? STORE_F_SEEN : 0) | (i % 5 == 0 ? STORE_F_FLAGGED : 0),
			.keywords = kws, .internal_date = 1700000000 + (i * 5 % 7) * 60,
		};
		assert_int_equal(store_append(f->s, &ap, &err), 1);
	}
	for (uint32_t uid = 1; uid <= NMSG; uid += 8) {
		struct store_range r;
		struct store_copy cp = { .account_id = f->acct, .src_mailbox_id = f->inbox,
					 .dst_mailbox_id = f->inbox, .uids = uidset1(&r, uid, uid) };
		assert_int_equal(store_copy(f->s, f->a, &cp, &err), 1);
		const char *kw[] = { "Copied", NULL };
		struct store_range r2;
		struct store_flag_change fc = { .account_id = f->acct, .mailbox_id = f->inbox,
						.uids = uidset1(&r2, cp.dst_uids[0], cp.dst_uids[0]),
						.op = STORE_FLAGS_ADD, .flags = STORE_F_SEEN, .keywords = kw };
		assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
	}
	for (uint32_t uid = 2; uid <= NMSG; uid += 9) {
		struct store_range r;
		struct store_copy mv = { .account_id = f->acct, .src_mailbox_id = f->inbox,
					 .dst_mailbox_id = archive, .uids = uidset1(&r, uid, uid), .move = true };
		assert_int_equal(store_copy(f->s, f->a, &mv, &err), 1);
	}
	arena_clear(f->a);
	return archive;
}

static void test_window_matches_reference(void **state)
{
	struct fixture *f = *state;
	int64_t archive = fill(f);
	const struct cond conds[] = {
		{ 0 },
		{ .on = STORE_F_SEEN },
		{ .off = STORE_F_SEEN },
		{ .on = STORE_F_FLAGGED, .off = STORE_F_SEEN },
		{ .on = STORE_F_SEEN, .off = STORE_F_SEEN }, /* empty */
		{ .kw_on = { "$LABEL1" } },
		{ .kw_off = { "work" } },
		{ .kw_on = { "copied" } },
		{ .on = STORE_F_SEEN, .kw_on = { "$label1", "WORK" }, .kw_off = { "nothing" } },
		{ .kw_on = { "work" }, .kw_off = { "Work" } }, /* empty */
	};
	for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
		check_all(f, f->inbox, &conds[i]);
		check_all(f, archive, &conds[i]);
	}
	/* an empty mailbox */
	int64_t empty;
	const char *err;
	assert_int_equal(store_mailbox_create(f->s, f->acct, "Empty", 0, &empty, &err), 1);
	check_all(f, empty, &conds[0]);
}

/* The totals the store keeps (by mailbox highestmodseq) follow every change. */
static void test_window_totals_follow_changes(void **state)
{
	struct fixture *f = *state;
	int64_t other = fill(f);
	const char *err;
	const struct cond conds[] = {
		{ 0 }, { .on = STORE_F_SEEN }, { .off = STORE_F_SEEN }, { .on = STORE_F_FLAGGED, .off = STORE_F_DRAFT },
	};
	struct ent ref[4 * NMSG];
	for (int step = 0; step < 8; step++) {
		struct store_range r;
		switch (step) {
		case 1: /* a new message */
			deliver1(f, f->acct, "Subject: new\r\n\r\nx\r\n");
			break;
		case 2: /* flags on and off */
		case 3: {
			struct store_flag_change fc = { .account_id = f->acct, .mailbox_id = f->inbox,
							.uids = uidset1(&r, 1, 7),
							.op = step == 2 ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE,
							.flags = STORE_F_SEEN | STORE_F_FLAGGED };
			assert_int_equal(store_flags(f->s, f->a, &fc, &err), 1);
			break;
		}
		case 4: { /* a copy into the same mailbox: no new entry */
			struct store_copy cp = { .account_id = f->acct, .src_mailbox_id = f->inbox,
						 .dst_mailbox_id = f->inbox, .uids = uidset1(&r, 3, 4) };
			assert_int_equal(store_copy(f->s, f->a, &cp, &err), 1);
			break;
		}
		case 5: { /* moved out, moved in */
			struct store_copy mv = { .account_id = f->acct, .src_mailbox_id = f->inbox, .dst_mailbox_id = other,
						 .uids = uidset1(&r, 10, 14), .move = true };
			assert_int_equal(store_copy(f->s, f->a, &mv, &err), 1);
			struct store_range r2;
			struct store_copy back = { .account_id = f->acct, .src_mailbox_id = other,
						   .dst_mailbox_id = f->inbox, .uids = uidset1(&r2, 1, 2), .move = true };
			assert_int_equal(store_copy(f->s, f->a, &back, &err), 1);
			break;
		}
		case 6: /* expunged */
		case 7: { /* the mailbox emptied */
			struct store_uidset set = step == 6 ? uidset1(&r, 20, 25) : uidset1(&r, 1, STORE_UID_MAX);
			assert_int_equal(store_expunge(f->s, f->a, f->acct, f->inbox, &set, false, NULL, NULL, &err), 1);
			break;
		}
		}
		for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
			for (int asc = 0; asc < 2; asc++) {
				for (int64_t mb = 0; mb < 2; mb++) {
					int64_t id = mb ? other : f->inbox;
					size_t nref = reference(f, id, &conds[i], asc, ref);
					check_one(f, id, &conds[i], asc, ref, nref, 0, 0, 5, true);
					check_one(f, id, &conds[i], asc, ref, nref, 0, -3, 5, false);
					arena_clear(f->a);
				}
			}
		}
	}
}

static void test_window_errors(void **state)
{
	struct fixture *f = *state;
	const char *err;
	deliver1(f, f->acct, "Subject: one\r\n\r\nx\r\n");
	/* another account's mailbox, and one that does not exist */
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(f->s, f->a, f->acct2, "INBOX", &mb, &err), 1);
	struct store_window w = { .account_id = f->acct, .mailbox_id = mb.id, .limit = 10, .want_total = true };
	assert_int_equal(store_email_window(f->s, f->a, &w, &err), STORE_ENOTFOUND);
	w.mailbox_id = 987654;
	assert_int_equal(store_email_window(f->s, f->a, &w, &err), STORE_ENOTFOUND);
	/* a bad keyword */
	w.mailbox_id = f->inbox;
	w.keywords_on[0] = "a b";
	assert_int_equal(store_email_window(f->s, f->a, &w, &err), STORE_EINVAL);
	w.keywords_on[0] = NULL;
	assert_int_equal(store_email_window(f->s, f->a, &w, &err), 1);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.total, 1);
	/* the anchor of another account is not found */
	uint32_t uid2 = deliver1(f, f->acct2, "Subject: two\r\n\r\ny\r\n");
	struct store_msg *m;
	size_t n;
	struct store_range r;
	struct store_uidset set = uidset1(&r, uid2, uid2);
	assert_int_equal(store_msg_list(f->s, f->a, f->acct2, mb.id, &set, 0, &m, &n, &err), 1);
	assert_int_equal(n, 1);
	w.anchor = m[0].email_id;
	assert_int_equal(store_email_window(f->s, f->a, &w, &err), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_window_matches_reference),
		T(test_window_totals_follow_changes),
		T(test_window_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
