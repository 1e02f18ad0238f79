/* fetch_put.c: one message's FETCH response (RFC 9051 §7.5.2), shared by FETCH
 * (cmd_fetch.c, which streams the body sections it opens) and the unsolicited FETCH
 * of NOTIFY's MessageNew (view_sync.c, no body sections). It calls the view's and the
 * body sections' helpers only, never a command. */
#include "session.h"

#include "imap_fetch.h"
#include "mail.h"

#include <assert.h>
#include <string.h>

/* The bytes of the message that f's body items read, when that is known to be less
 * than all of it: partial BODY[]<start.count> items and header sections of the whole
 * message ([0, header_size)). The store then reads only those (on PostgreSQL, only
 * the chunks holding them). false: any other item, read the whole message. */
static bool fetch_range(const struct imap_fetch *f, uint64_t header_size, uint64_t *off_r, uint64_t *len_r)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (const struct imap_fetch_body *fb = f->bodies; fb != NULL; fb = fb->next) {
		uint64_t a, z;
		if (fb->kind != IMAP_BODY_SECTION || fb->part[0] != '\0')
			return false;
		if (fb->text == IMAP_SECTION_ALL && fb->partial) {
			a = fb->start;
			z = fb->count > UINT64_MAX - a ? UINT64_MAX : a + fb->count;
		} else if (fb->text == IMAP_SECTION_HEADER || fb->text == IMAP_SECTION_FIELDS ||
			   fb->text == IMAP_SECTION_FIELDS_NOT) {
			a = 0;
			z = header_size;
		} else {
			return false;
		}
		lo = a < lo ? a : lo;
		hi = z > hi ? z : hi;
	}
	*off_r = lo;
	*len_r = hi - lo;
	return lo < hi;
}

/* Appends the FETCH response of view index i (metadata m). Returns 1, or 0 when the
 * message's metadata or bytes are gone (expunged by another session since the list
 * was read): then nothing of it may go out, the caller drops what was appended. */
int imap_fetch_msg(struct imap_session *is, const struct imap_fetch *f, struct fetch_src *src,
		   struct fetch_splice **sp_r, struct buf *b, size_t i, const struct store_msg *m, struct arena *tmp,
		   bool *unknown_cte)
{
	const char *error;
	buf_printf(b, "* %zu FETCH (", i + 1);
	const char *sp = "";
	if (f->atts & IMAP_FA_UID) {
		buf_printf(b, "UID %u", m->uid);
		sp = " ";
	}
	if (f->atts & IMAP_FA_FLAGS) {
		buf_printf(b, "%sFLAGS ", sp);
		imap_put_flags(b, m->flags, m->keywords, !is->rev2 && imap_view_is_recent(is, i));
		sp = " ";
	}
	if (f->atts & IMAP_FA_INTERNALDATE) {
		buf_printf(b, "%sINTERNALDATE ", sp);
		imap_put_datetime(b, m->internal_date, m->internal_tz);
		sp = " ";
	}
	if (f->atts & IMAP_FA_RFC822_SIZE) {
		buf_printf(b, "%sRFC822.SIZE %llu", sp, (unsigned long long)m->size);
		sp = " ";
	}
	if (f->atts & IMAP_FA_MODSEQ) {
		buf_printf(b, "%sMODSEQ (%llu)", sp, (unsigned long long)m->modseq);
		sp = " ";
	}
	if (f->atts & IMAP_FA_EMAILID) {
		char id[24];
		store_id_email(m->email_id, id);
		buf_printf(b, "%sEMAILID (%s)", sp, id);
		sp = " ";
	}
	if (f->atts & IMAP_FA_THREADID) {
		char id[24];
		store_id_thread(m->thread_id, id);
		buf_printf(b, "%sTHREADID (%s)", sp, id);
		sp = " ";
	}
	if (f->atts & IMAP_FA_SAVEDATE) {
		buf_printf(b, "%sSAVEDATE ", sp);
		imap_put_datetime(b, m->save_date, 0);
		sp = " ";
	}
	struct store_msg_meta meta;
	bool have_meta = false;
	if ((f->atts & (IMAP_FA_ENVELOPE | IMAP_FA_BODY | IMAP_FA_BODYSTRUCTURE | IMAP_FA_PREVIEW)) || f->nbodies > 0) {
		have_meta = store_msg_meta(is->env->store, tmp, is->account_id, is->view.mailbox_id, m->uid, &meta,
					   &error) > 0;
		if (!have_meta)
			return 0;
	}
	if (have_meta) {
		if (f->atts & IMAP_FA_ENVELOPE) {
			buf_printf(b, "%sENVELOPE %s", sp, meta.envelope);
			sp = " ";
		}
		if (f->atts & IMAP_FA_BODY) {
			buf_printf(b, "%sBODY %s", sp, meta.body);
			sp = " ";
		}
		if (f->atts & IMAP_FA_BODYSTRUCTURE) {
			buf_printf(b, "%sBODYSTRUCTURE %s", sp, meta.bodystructure);
			sp = " ";
		}
		if (f->atts & IMAP_FA_PREVIEW) {
			/* RFC 8970 §3: the preview computed at ingest, never NIL (LAZY is the same) */
			buf_printf(b, "%sPREVIEW ", sp);
			const char *pv = meta.preview ? meta.preview : "";
			imap_put_string(b, pv, strlen(pv));
			sp = " ";
		}
	}
	if (f->nbodies > 0 && have_meta) {
		/* the bytes are streamed from the open file after the text (fetch_msg_more);
		 * an open fd keeps them readable even if the message is expunged meanwhile */
		struct mail_part *parts = NULL;
		size_t nparts = 0;
		uint64_t size, off, len;
		if (!fetch_range(f, meta.header_size, &off, &len)) {
			off = 0;
			len = UINT64_MAX;
		}
		if (store_msg_open_range(is->env->store, is->account_id, is->view.mailbox_id, m->uid, off, len, &src->fd,
					 &size, &error) <= 0) {
			src->fd = -1;
			return 0;
		}
		if (meta.parts != NULL && mail_parts_decode(tmp, meta.parts, &parts, &nparts) < 0)
			nparts = 0;
		src->size = size;
		src->header_size = meta.header_size;
		src->parts = parts;
		src->nparts = nparts;
		src->tmp = tmp;
		for (const struct imap_fetch_body *fb = f->bodies; fb != NULL; fb = fb->next) {
			buf_puts(b, sp);
			sp = " ";
			size_t mark = b->len;
			struct fetch_splice *keep = *sp_r;
			int r = imap_fetch_body_item(b, fb, src, sp_r, &error);
			if (r == -2)
				return 0;
			if (r < 0) {
				b->len = mark;
				b->data[mark] = '\0';
				*sp_r = keep;
				*unknown_cte = true;
				buf_printf(b, "%s NIL", fb->name);
			}
		}
	}
	buf_puts(b, ")\r\n");
	return 1;
}

/* For unsolicited FETCH responses (NOTIFY's MessageNew, RFC 5465 §5.1): f has no body
 * sections (cmd_notify.c refuses them), so nothing is streamed and no file is opened. */
int imap_fetch_put(struct imap_session *is, const struct imap_fetch *f, struct buf *b, size_t i,
		   const struct store_msg *m, struct arena *tmp)
{
	assert(f->nbodies == 0);
	struct fetch_src src = { .fd = -1 };
	struct fetch_splice *sp = NULL;
	bool unknown_cte = false;
	return imap_fetch_msg(is, f, &src, &sp, b, i, m, tmp, &unknown_cte);
}
