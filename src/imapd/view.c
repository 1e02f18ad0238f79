/* view.c: the selected mailbox as one session sees it, and live sync.
 *
 * RFC 9051 §2.3.1.2: message sequence numbers are per session; they change only when
 * this session reports EXPUNGE. §7.5.1: EXPUNGE is never sent while answering FETCH,
 * STORE or SEARCH (the UID forms may), so expunges by others wait in `gone` and the
 * messages stay in the sequence map until a later command. §7.4.1/§7.5.2: EXISTS
 * when messages arrive, unsolicited FETCH (FLAGS) when others change flags. The store
 * says what changed since our MODSEQ (store_vanished, store_msg_list changed_since,
 * an index range); per message the view keeps the MODSEQ whose flags the client got
 * last (the STORE answer and FETCH FLAGS count), so a sync reports exactly the changes
 * the client has not seen, whoever made them, each once (issue 16). The keywords of
 * the mailbox are compared with those announced, and a new one brings an untagged
 * FLAGS before the first FETCH that carries it (RFC 9051 §7.3.5). */
#include "session.h"

#include "imap_fetch.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

void imap_view_reported(struct imap_view *v, size_t i, uint64_t modseq)
{
	if (i < v->n && modseq > v->reported[i])
		v->reported[i] = modseq;
}

static void view_grow(struct imap_view *v, size_t need)
{
	if (need <= v->cap)
		return;
	size_t cap = v->cap ? v->cap : 64;
	while (cap < need)
		cap *= 2;
	v->uids = xrealloc(v->uids, cap * sizeof(*v->uids));
	v->reported = xrealloc(v->reported, cap * sizeof(*v->reported));
	v->cap = cap;
}

static void view_add(struct imap_view *v, uint32_t uid, uint64_t modseq)
{
	view_grow(v, v->n + 1);
	v->reported[v->n] = modseq; /* the client learns its flags by FETCH after EXISTS */
	v->uids[v->n++] = uid;
}

void imap_view_close(struct imap_session *is)
{
	struct imap_view *v = &is->view;
	free(v->name);
	free(v->uids);
	free(v->reported);
	free(v->gone);
	memset(v, 0, sizeof(*v));
	imap_search_update_free_all(is); /* RFC 5267 contexts end with the selection */
	is->selected = false;
	free(is->saved);
	is->saved = NULL;
	is->nsaved = 0;
	is->saved_valid = false;
}

/* Runs on a pool thread during SELECT: touches only the view (the caller closed the
 * previous one and sets `selected` back on the loop). */
void imap_view_open(struct imap_session *is, const struct store_mailbox_snapshot *snap, bool readonly)
{
	struct imap_view *v = &is->view;
	v->mailbox_id = snap->mb.id;
	v->name = xstrdup(snap->mb.name);
	v->readonly = readonly;
	v->uidvalidity = snap->mb.uidvalidity;
	v->uidnext = snap->mb.uidnext;
	v->modseq = snap->mb.highestmodseq; /* the sync goes on from the snapshot */
	view_grow(v, snap->nuids);
	if (snap->nuids > 0) {
		memcpy(v->uids, snap->uids, snap->nuids * sizeof(*snap->uids));
		memset(v->reported, 0, snap->nuids * sizeof(*v->reported));
	}
	v->n = snap->nuids;
}

long imap_view_index(const struct imap_view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->n && v->uids[lo] == uid ? (long)lo : -1;
}

/* first index with uid >= x */
static size_t lower_bound(const struct imap_view *v, uint32_t x)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->uids[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool imap_view_is_recent(const struct imap_session *is, size_t i)
{
	const struct imap_view *v = &is->view;
	for (size_t k = 0; k < v->nrecent; k++)
		if (v->uids[i] >= v->recent[k].lo && v->uids[i] < v->recent[k].hi)
			return true;
	return false;
}

void imap_view_recent_add(struct imap_view *v, uint32_t lo, uint32_t hi)
{
	if (lo >= hi)
		return;
	if (v->nrecent > 0 && v->recent[v->nrecent - 1].hi == lo) {
		v->recent[v->nrecent - 1].hi = hi;
		return;
	}
	size_t max = sizeof(v->recent) / sizeof(v->recent[0]);
	if (v->nrecent == max) {
		memmove(v->recent, v->recent + 1, (max - 1) * sizeof(v->recent[0]));
		v->nrecent--;
	}
	v->recent[v->nrecent].lo = lo;
	v->recent[v->nrecent].hi = hi;
	v->nrecent++;
}

/* Messages that arrived while the mailbox is selected are recent in the first
 * read-write IMAP4rev1 session that sees them (RFC 3501 §2.3.2, issue 16): it claims
 * them in the store, which makes them non-recent for every other session and for
 * STATUS. A store write from the loop, but only when something is unclaimed. */
static void claim_new(struct imap_session *is, const struct store_mailbox *mb)
{
	struct imap_view *v = &is->view;
	if (is->rev2 || v->readonly || mb->recent == 0 || v->n == 0)
		return;
	uint32_t lo;
	const char *error;
	if (store_mailbox_claim_recent(is->env->store, is->account_id, v->mailbox_id, &lo, &error) <= 0)
		return;
	/* every message in the view is older than the claim; one that arrived in between
	 * is claimed but not ours: it is recent nowhere rather than twice */
	imap_view_recent_add(v, lo, v->uids[v->n - 1] + 1);
}

int imap_view_resolve(struct imap_session *is, const struct imap_seqset *set, bool uid, size_t **idx_r, size_t *n_r,
		 const char **error_r)
{
	struct imap_view *v = &is->view;
	*idx_r = NULL;
	*n_r = 0;
	if (set->saved) {
		/* "$": the saved result (UIDs); messages expunged since are skipped */
		size_t *idx = arena_alloc(is->cmd_arena, (is->nsaved + 1) * sizeof(*idx));
		size_t k = 0;
		for (size_t i = 0; i < is->nsaved; i++) {
			long x = imap_view_index(v, is->saved[i]);
			if (x >= 0)
				idx[k++] = (size_t)x;
		}
		*idx_r = idx;
		*n_r = k;
		return 1;
	}
	if (v->n == 0) {
		if (!uid) {
			*error_r = "No messages in the mailbox";
			return -1;
		}
		return 1;
	}
	uint8_t *mark = arena_alloc(is->cmd_arena, v->n);
	size_t count = 0;
	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo = set->r[i].lo, hi = set->r[i].hi;
		size_t a, b; /* index range [a, b) */
		if (uid) {
			uint32_t maxuid = v->uids[v->n - 1];
			if (lo == 0)
				lo = maxuid;
			if (hi == 0)
				hi = maxuid;
			if (lo > hi) {
				uint32_t t = lo;
				lo = hi;
				hi = t;
			}
			a = lower_bound(v, lo);
			b = hi == UINT32_MAX ? v->n : lower_bound(v, hi + 1);
		} else {
			uint64_t l = lo ? lo : v->n, h = hi ? hi : v->n;
			if (l > h) {
				uint64_t t = l;
				l = h;
				h = t;
			}
			if (h > v->n) {
				*error_r = "Invalid message sequence number";
				return -1;
			}
			a = (size_t)l - 1;
			b = (size_t)h;
		}
		for (size_t k = a; k < b; k++) {
			if (!mark[k]) {
				mark[k] = 1;
				count++;
			}
		}
	}
	size_t *idx = arena_alloc(is->cmd_arena, (count + 1) * sizeof(*idx));
	size_t k = 0;
	for (size_t i = 0; i < v->n; i++)
		if (mark[i])
			idx[k++] = i;
	*idx_r = idx;
	*n_r = k;
	return 1;
}

struct store_uidset imap_view_uidset(struct imap_session *is, const size_t *idx, size_t n)
{
	struct store_range *r = arena_alloc(is->cmd_arena, (n + 1) * sizeof(*r));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t u = is->view.uids[idx[i]];
		if (k > 0 && r[k - 1].hi + 1 == u)
			r[k - 1].hi = u;
		else
			r[k++] = (struct store_range){ u, u };
	}
	return (struct store_uidset){ r, k };
}

void imap_put_flags(struct buf *b, unsigned flags, const char *keywords, bool recent)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = { { STORE_F_SEEN, "\\Seen" },     { STORE_F_ANSWERED, "\\Answered" },
		      { STORE_F_FLAGGED, "\\Flagged" }, { STORE_F_DELETED, "\\Deleted" },
		      { STORE_F_DRAFT, "\\Draft" } };
	bool first = true;
	buf_putc(b, '(');
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].bit) {
			if (!first)
				buf_putc(b, ' ');
			buf_puts(b, names[i].name);
			first = false;
		}
	}
	if (recent) {
		if (!first)
			buf_putc(b, ' ');
		buf_puts(b, "\\Recent");
		first = false;
	}
	if (keywords != NULL && keywords[0] != '\0') {
		if (!first)
			buf_putc(b, ' ');
		buf_puts(b, keywords);
	}
	buf_putc(b, ')');
}

void imap_view_put_fetch_flags(struct imap_session *is, struct buf *b, size_t i, const struct store_msg *m, bool uid,
			  bool flags)
{
	buf_printf(b, "* %zu FETCH (", i + 1);
	const char *sp = "";
	if (uid) {
		buf_printf(b, "UID %u", m->uid);
		sp = " ";
	}
	if (flags) {
		buf_printf(b, "%sFLAGS ", sp);
		imap_put_flags(b, m->flags, m->keywords, !is->rev2 && imap_view_is_recent(is, i));
		sp = " ";
	}
	/* RFC 7162 §3.1.4: once CONDSTORE is enabled, every unsolicited FETCH and every
	 * STORE answer carries MODSEQ */
	if (is->condstore)
		buf_printf(b, "%sMODSEQ (%llu)", sp, (unsigned long long)m->modseq);
	buf_puts(b, ")\r\n");
}

void imap_view_gone(struct imap_view *v, uint32_t uid)
{
	if (v->ngone == 0)
		v->gone_since = v->modseq;
	if (v->ngone == v->gonecap) {
		v->gonecap = v->gonecap ? v->gonecap * 2 : 16;
		v->gone = xrealloc(v->gone, v->gonecap * sizeof(*v->gone));
	}
	v->gone[v->ngone++] = uid;
}

void imap_view_put_keywords(struct imap_session *is, struct buf *b)
{
	struct imap_view *v = &is->view;
	const char **kws;
	const char *error;
	if (store_mailbox_keywords(is->env->store, is->cmd_arena, is->account_id, v->mailbox_id, &kws, &error) <= 0 ||
	    kws == NULL)
		return;
	size_t n = 0;
	while (kws[n] != NULL)
		n++;
	if (n <= v->nkeywords)
		return;
	v->nkeywords = n;
	struct buf kw = { 0 };
	for (size_t i = 0; i < n; i++) {
		buf_putc(&kw, ' ');
		buf_puts(&kw, kws[i]);
	}
	buf_printf(b, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s)\r\n", buf_str(&kw));
	if (!v->readonly)
		buf_printf(b, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s \\*)] Flags permitted\r\n",
			   buf_str(&kw));
	buf_free(&kw);
}

/* Index of uid in the ascending uids, or -1. */
static long uid_pos(const uint32_t *uids, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && uids[lo] == uid ? (long)lo : -1;
}

void imap_view_refresh_flags(struct imap_session *is, const struct store_uidset *set, bool silent, bool uid_too,
			const struct store_flag_change *fc)
{
	struct imap_view *v = &is->view;
	struct store_msg *msgs;
	size_t n;
	const char *error;
	if (is->updates != NULL)
		is->updates_stale = true; /* RFC 5267: own STORE changes results too */
	/* changes by others up to the MODSEQs sent here go out before the tagged reply
	 * (RFC 7162 §3.1.2.1: the client takes the highest MODSEQ it saw as its own) */
	if (is->condstore)
		v->dirty = true;
	if (store_msg_list(is->env->store, is->cmd_arena, is->account_id, v->mailbox_id, set, 0, &msgs, &n, &error) < 0)
		return;
	struct buf b = { 0 };
	imap_view_put_keywords(is, &b);
	for (size_t k = 0; k < n; k++) {
		const struct store_msg *m = &msgs[k];
		long i = imap_view_index(v, m->uid);
		if (i < 0)
			continue;
		bool flags = !silent;
		if (silent) {
			/* does the client know the result without being told? */
			uint64_t known = v->reported[i] > v->modseq ? v->reported[i] : v->modseq;
			long c = fc != NULL ? uid_pos(fc->changed, fc->nchanged, m->uid) : -1;
			bool knows;
			if (c >= 0) /* ours, nobody's since, and the client knew the state before */
				knows = m->modseq == fc->modseq && fc->changed_prev != NULL &&
					fc->changed_prev[c] <= known;
			else
				knows = m->modseq <= known;
			flags = !knows;
		}
		/* with CONDSTORE even .SILENT answers with MODSEQ (RFC 7162 §3.1.3, example 3) */
		if (flags || is->condstore)
			imap_view_put_fetch_flags(is, &b, (size_t)i, m, uid_too, flags);
		imap_view_reported(v, (size_t)i, m->modseq);
		if (b.len > 65536) {
			imap_write(is, b.data, b.len);
			buf_reset(&b);
		}
	}
	if (b.len)
		imap_write(is, b.data, b.len);
	buf_free(&b);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void send_expunges(struct imap_session *is, struct buf *b)
{
	struct imap_view *v = &is->view;
	if (v->ngone == 0)
		return;
	qsort(v->gone, v->ngone, sizeof(*v->gone), cmp_u32);
	if (is->updates != NULL)
		imap_search_update_expunged(is, b, v->gone, v->ngone);
	uint8_t *del = xcalloc(v->n ? v->n : 1, 1);
	if (is->qresync) {
		/* RFC 7162 §3.2.10: "* VANISHED uid-set" replaces EXPUNGE */
		size_t k = 0;
		for (size_t x = 0; x < v->ngone; x++) {
			long i = imap_view_index(v, v->gone[x]);
			if (i < 0 || del[i])
				continue;
			del[i] = 1;
			v->gone[k++] = v->gone[x];
		}
		if (k > 0) {
			buf_puts(b, "* VANISHED ");
			imap_put_set(b, v->gone, k);
			buf_puts(b, "\r\n");
		}
	}
	/* descending, so that each number is valid when it is sent */
	for (size_t k = v->ngone; !is->qresync && k-- > 0;) {
		long i = imap_view_index(v, v->gone[k]);
		if (i < 0 || del[i])
			continue;
		del[i] = 1;
		buf_printf(b, "* %ld EXPUNGE\r\n", i + 1);
		if (b->len > 65536) {
			imap_write(is, b->data, b->len);
			buf_reset(b);
		}
	}
	size_t w = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (del[i])
			continue;
		v->reported[w] = v->reported[i];
		v->uids[w++] = v->uids[i];
	}
	v->n = w;
	v->ngone = 0;
	free(del);
	/* the saved search result forgets expunged messages on its own (imap_view_resolve) */
}

void imap_view_sync(struct imap_session *is, bool allow_expunge)
{
	struct imap_view *v = &is->view;
	if (!is->selected || conn_is_closed(is->c))
		return;
	struct buf b = { 0 };
	bool changed = v->dirty || is->updates_stale;
	if (v->dirty) {
		v->dirty = false;
		const char *error;
		struct store_mailbox mb;
		int r = store_mailbox_get_by_id(is->env->store, is->cmd_arena, is->account_id, v->mailbox_id, &mb,
						&error);
		if (r <= 0) {
			/* the mailbox was deleted or renamed away under us */
			if (r == 0) {
				imap_write(is, "* BYE [UNAVAILABLE] The selected mailbox was deleted\r\n", 54);
				conn_close(is->c);
			}
			buf_free(&b);
			return;
		}
		uint64_t since = v->modseq;
		/* changes first, expunges second: an expunge below a MODSEQ this sync sends is
		 * then always found too (a QRESYNC client takes the highest MODSEQ it saw) */
		struct store_msg *msgs;
		size_t n = 0;
		if (store_msg_list(is->env->store, is->cmd_arena, is->account_id, v->mailbox_id, NULL, since, &msgs, &n,
				   &error) <= 0)
			n = 0;
		uint32_t *vanished;
		size_t nv;
		if (store_vanished(is->env->store, is->cmd_arena, is->account_id, v->mailbox_id, since, &vanished, &nv,
				   &error) > 0) {
			for (size_t k = 0; k < nv; k++) {
				if (imap_view_index(v, vanished[k]) < 0)
					continue;
				imap_view_gone(v, vanished[k]);
			}
		}
		if (allow_expunge)
			send_expunges(is, &b);
		size_t before = v->n;
		if (n > 0)
			imap_view_put_keywords(is, &b);
		uint32_t maxuid = v->n ? v->uids[v->n - 1] : 0;
		size_t first_new = n; /* msgs[first_new..] are the new messages */
		for (size_t k = 0; k < n; k++) {
			const struct store_msg *m = &msgs[k];
			if (m->uid > maxuid) {
				view_add(v, m->uid, m->modseq);
				maxuid = m->uid;
				if (first_new == n)
					first_new = k;
				continue;
			}
			long i = imap_view_index(v, m->uid);
			if (i < 0 || m->modseq <= v->reported[i])
				continue;
			imap_view_put_fetch_flags(is, &b, (size_t)i, m, true, true);
			v->reported[i] = m->modseq;
		}
		if (v->n > before)
			claim_new(is, &mb);
		if (mb.highestmodseq > v->modseq)
			v->modseq = mb.highestmodseq;
		if (v->n != before) {
			buf_printf(&b, "* %zu EXISTS\r\n", v->n);
			if (!is->rev2) {
				size_t recent = 0;
				for (size_t i = 0; i < v->n; i++)
					recent += imap_view_is_recent(is, i);
				buf_printf(&b, "* %zu RECENT\r\n", recent);
			}
			/* RFC 5465 §5.1: MessageNew with fetch attributes */
			const char *atts = is->notify != NULL ? imap_notify_new_fetch(is) : NULL;
			struct imap_fetch f;
			struct imap_cur cur;
			if (atts != NULL)
				imap_cur_init(&cur, is->cmd_arena, (struct bytes){ atts, strlen(atts) });
			if (atts != NULL && imap_fetch_parse(&cur, &f) > 0) {
				/* RFC 7162 §3.1.4: unsolicited FETCH carries MODSEQ under CONDSTORE */
				if (is->condstore)
					f.atts |= IMAP_FA_MODSEQ;
				for (size_t k = first_new; k < n; k++) {
					long i = imap_view_index(v, msgs[k].uid);
					if (i < (long)before)
						continue;
					size_t mark = b.len;
					if (imap_fetch_put(is, &f, &b, (size_t)i, &msgs[k], is->cmd_arena) <= 0) {
						b.len = mark; /* gone meanwhile: its EXPUNGE follows */
						if (b.data != NULL)
							b.data[mark] = '\0';
						continue;
					}
					if (f.atts & IMAP_FA_FLAGS)
						imap_view_reported(v, (size_t)i, msgs[k].modseq);
				}
			}
		}
		v->uidnext = mb.uidnext;
	} else if (allow_expunge) {
		send_expunges(is, &b);
	}
	/* RFC 5267: the contexts after EXISTS, so that ADDTO names known messages */
	if (is->updates != NULL && changed)
		imap_search_update_sync(is, &b);
	/* RFC 7162 §3.2.10 (errata 1810): while expunges wait (FETCH, STORE, SEARCH), the
	 * MODSEQs sent may pass theirs; a HIGHESTMODSEQ below them keeps a client that
	 * reconnects with QRESYNC from missing them */
	if (v->ngone > 0 && is->qresync)
		buf_printf(&b, "* OK [HIGHESTMODSEQ %llu] Expunges pending\r\n", (unsigned long long)v->gone_since);
	if (b.len)
		imap_write(is, b.data, b.len);
	buf_free(&b);
}
