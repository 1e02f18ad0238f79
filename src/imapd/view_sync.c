/* view_sync.c: the view's live sync and its end (RFC 9051 §7.4.1, §7.5.1, §7.5.2).
 * imap_view_sync reads what changed in the store since the view's MODSEQ and sends
 * the untagged EXPUNGE/VANISHED, EXISTS (with RECENT for IMAP4rev1), FETCH (FLAGS) and
 * FLAGS, then NOTIFY's MessageNew FETCH (RFC 5465 §5.1, through fetch_put.c) and the
 * RFC 5267 update contexts' ADDTO/REMOVEFROM (search_update.c); imap_view_close ends
 * the selection with its contexts. It sits above view.c (the sequence map and its
 * output helpers), fetch_put.c, notify.c and search_update.c, and below tagged.c and
 * events.c, which call it; it calls no command. */
#include "session.h"

#include "imap_fetch.h"

#include <stdlib.h>
#include <string.h>

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
				imap_view_add(v, m->uid, m->modseq);
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
