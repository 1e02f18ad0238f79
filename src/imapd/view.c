/* view.c: the selected mailbox as one session sees it (its live sync is view_sync.c,
 * above this file: view.c calls nothing but reply.c).
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

void imap_view_add(struct imap_view *v, uint32_t uid, uint64_t modseq)
{
	view_grow(v, v->n + 1);
	v->reported[v->n] = modseq; /* the client learns its flags by FETCH after EXISTS */
	v->uids[v->n++] = uid;
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
