/* cmd_fetch.c: RFC 9051 §6.4.5 FETCH and §6.4.9 UID FETCH; RFC 3516 BINARY; RFC 7162
 * CONDSTORE/QRESYNC modifiers; RFC 8474 EMAILID/THREADID; RFC 8514 SAVEDATE; RFC 8970
 * PREVIEW.
 *   fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
 *           "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]
 *   fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"
 *   fetch-modifier = "CHANGEDSINCE" SP mod-sequence-value / "VANISHED"
 * (the attributes are parsed in src/proto/imap/imap_fetch.c). CHANGEDSINCE returns
 * only messages with a higher MODSEQ and implies MODSEQ (RFC 7162 §3.1.4.1); VANISHED
 * (UID FETCH only, QRESYNC enabled, with CHANGEDSINCE) first reports the UIDs of the
 * set expunged since then as VANISHED (EARLIER) (§3.2.6). UID FETCH always
 * returns UID. A body item without .PEEK sets \Seen (unless the mailbox is read-only)
 * before the data goes out, and the changed FLAGS come with it. ENVELOPE, BODY and
 * BODYSTRUCTURE are the strings the store computed at ingest; body sections are cut
 * from the stored message with the part table and streamed from its file through a
 * mail_reader (fetch_body.c), one window at a time as the client takes them. A message expunged by another session
 * (before the list was read, or while the responses stream: its metadata or file is
 * gone) gets no FETCH response at all, never one with items missing, and the command
 * ends with NO [EXPUNGEISSUED] (RFC 9051 §7.1, RFC 2180 §4.1.3; docs/imap.md). */
#include "session.h"

#include "imap_fetch.h"
#include "log.h"
#include "mail.h"
#include "mail_reader.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fetch_job {
	struct imap_fetch f;
	size_t *idx;
	size_t n;
	struct store_uidset set;
	struct arena *op;          /* for store_flags_async */
	struct store_flag_change fc;
	bool seen_changed;
	uint64_t changedsince;     /* 0: none */
	bool vanished;
	struct imap_seqset req;    /* the set as requested (for VANISHED) */
	/* streaming the responses */
	struct store_msg *msgs;    /* the metadata of the set (cmd_arena) */
	size_t nmsgs;
	size_t x, k;               /* next index in idx, in msgs */
	size_t missing;
	bool unknown_cte;
	struct arena *tmp;         /* one message's scratch */
	/* the message being written: its response text, the literals spliced into it */
	bool active;
	struct buf text;
	size_t pos;                /* bytes of text written */
	struct fetch_splice *sp;   /* the next literal (in tmp) */
	struct fetch_src src;      /* src.fd: the open message file, or -1 */
	bool reading;              /* rd streams sp's bytes */
	struct mail_reader rd;
	struct buf chunk;          /* one window of rd's output */
};

/* Output queued before the next message's response is built (as POP3 RETR does). */
#define FETCH_OUTPUT_HIGH (256 * 1024)

static bool in_req(const struct imap_seqset *set, uint32_t uid, uint32_t star)
{
	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo = set->r[i].lo ? set->r[i].lo : star, hi = set->r[i].hi ? set->r[i].hi : star;
		if (lo > hi) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		if (uid >= lo && uid <= hi)
			return true;
	}
	return false;
}

/* fetch-modifiers (RFC 7162 §3.1.4, §3.2.6) */
static int fetch_modifiers(struct imap_session *is, struct imap_cmd *cmd, struct fetch_job *j)
{
	struct imap_cur *c = &cmd->args;
	if (imap_cur_end(c))
		return 1;
	if (imap_cur_sp(c) < 0 || !imap_cur_skip(c, '(')) {
		c->error = "Expected ( before the FETCH modifiers";
		return -1;
	}
	bool changed = false;
	for (;;) {
		if (imap_cur_keyword(c, "CHANGEDSINCE")) {
			uint64_t v;
			if (imap_cur_sp(c) < 0 || imap_cur_number(c, 0, INT64_MAX, &v) < 0)
				return -1;
			j->changedsince = v;
			changed = true;
		} else if (imap_cur_keyword(c, "VANISHED")) {
			if (!cmd->uid || !is->qresync) {
				c->error = "VANISHED needs UID FETCH and ENABLE QRESYNC";
				return -1;
			}
			j->vanished = true;
		} else {
			c->error = "Unknown FETCH modifier";
			return -1;
		}
		if (imap_cur_skip(c, ')'))
			break;
		if (imap_cur_sp(c) < 0)
			return -1;
	}
	if (j->vanished && !changed) {
		c->error = "VANISHED needs CHANGEDSINCE";
		return -1;
	}
	if (changed)
		j->f.atts |= IMAP_FA_MODSEQ;
	return imap_cur_eol(c);
}

/* Drops the message being written: its file, its splices and its scratch. */
static void fetch_msg_clear(struct fetch_job *j)
{
	if (j->reading)
		mail_reader_free(&j->rd);
	j->reading = false;
	if (j->src.fd >= 0)
		close(j->src.fd);
	j->src.fd = -1;
	j->sp = NULL;
	j->active = false;
	j->pos = 0;
	buf_reset(&j->text);
	arena_clear(j->tmp);
}

/* Writes the next piece of the active message: text up to the next literal, or one
 * window of the literal's bytes. Returns 1, or -1 when the file cannot be read any
 * more (the client has part of a literal: the connection is closed). */
static int fetch_msg_more(struct imap_session *is, struct fetch_job *j)
{
	if (j->reading) {
		buf_reset(&j->chunk);
		int r = mail_reader_next(&j->rd, &j->chunk);
		if (r < 0)
			return -1;
		if (r > 0) {
			imap_write(is, j->chunk.data, j->chunk.len);
			return 1;
		}
		mail_reader_free(&j->rd);
		j->reading = false;
		j->sp = j->sp->next;
	}
	size_t stop = j->sp != NULL ? j->sp->at : j->text.len;
	if (stop > j->pos) {
		imap_write(is, j->text.data + j->pos, stop - j->pos);
		j->pos = stop;
		return 1;
	}
	if (j->sp != NULL) {
		mail_reader_init(&j->rd, j->src.fd, j->sp->off, j->sp->len, (enum mail_xform)j->sp->x, 0);
		mail_reader_range(&j->rd, j->sp->start, j->sp->count);
		j->reading = true;
		return 1;
	}
	fetch_msg_clear(j);
	return 1;
}

static bool stream_more(struct imap_session *is);
static void stream_drained(void *arg);
static void stream_closed(void *arg);
/* While the responses stream, FETCH holds the connection and owns its drained and
 * close events (a continuation without input: pipelined commands wait). */
static const struct conn_continuation stream_k = { .drained = stream_drained, .closed = stream_closed };

static void fetch_output(struct imap_session *is, struct fetch_job *j)
{
	struct store_msg *msgs;
	size_t n;
	const char *error;
	int r = store_msg_list(is->env->store, is->cmd_arena, is->account_id, is->view.mailbox_id, &j->set,
			       j->changedsince, &msgs, &n, &error);
	if (r < 0) {
		imap_store_error(is, r, error);
		return;
	}
	if (j->vanished) {
		uint32_t *gone;
		size_t ng;
		struct imap_view *v = &is->view;
		uint32_t star = v->n ? v->uids[v->n - 1] : 0;
		if (store_vanished(is->env->store, is->cmd_arena, is->account_id, v->mailbox_id, j->changedsince, &gone,
				   &ng, &error) > 0) {
			size_t k = 0;
			for (size_t i = 0; i < ng; i++)
				if (in_req(&j->req, gone[i], star))
					gone[k++] = gone[i];
			if (k > 0) {
				struct buf vb = { 0 };
				buf_puts(&vb, "* VANISHED (EARLIER) ");
				imap_put_set(&vb, gone, k);
				buf_puts(&vb, "\r\n");
				imap_write(is, vb.data, vb.len);
				buf_free(&vb);
			}
		}
	}
	/* a keyword the client was not told of comes in FLAGS first (RFC 9051 §7.3.5); the
	 * MODSEQs sent make a sync before the tagged reply worthwhile (RFC 7162 §3.1.2.1:
	 * the client takes the highest as its HIGHESTMODSEQ) */
	if (j->f.atts & (IMAP_FA_FLAGS | IMAP_FA_MODSEQ)) {
		struct buf kb = { 0 };
		if (j->f.atts & IMAP_FA_FLAGS)
			imap_view_put_keywords(is, &kb);
		if (kb.len)
			imap_write(is, kb.data, kb.len);
		buf_free(&kb);
		if (j->f.atts & IMAP_FA_MODSEQ)
			is->view.dirty = true;
	}
	/* the responses go out as the client takes them (stream_more) */
	j->msgs = msgs;
	j->nmsgs = n;
	j->tmp = arena_new();
	j->src.fd = -1;
	is->fetch = j;
	if (!stream_more(is)) { /* until the last response is out */
		conn_hold(is->c);
		conn_continue(is->c, &stream_k, is);
	}
}

static void stream_end(struct imap_session *is);

static void stream_drained(void *arg)
{
	struct imap_session *is = arg;
	if (stream_more(is)) {
		conn_continue_end(is->c);
		conn_release(is->c);
	}
}

/* The connection went mid-way (or a read error closed it): the FETCH ends here. */
static void stream_closed(void *arg)
{
	struct imap_session *is = arg;
	stream_end(is);
	conn_release(is->c);
}

/* Writes the next responses while the output is short; after the last one, the tagged
 * reply. Memory: the output queue stays near FETCH_OUTPUT_HIGH plus one message's
 * response text and one reader window (MAIL_READER_WINDOW), whatever the number and
 * the size of the messages: literals are streamed from the file, not held. */
static bool stream_more(struct imap_session *is)
{
	struct fetch_job *j = is->fetch;
	while (conn_output_len(is->c) < FETCH_OUTPUT_HIGH) {
		if (j->active) {
			if (fetch_msg_more(is, j) < 0) {
				conn_log(is->c, LOG_ERROR, "event=read_error op=fetch error=%s", LOG_Q(strerror(errno)));
				fetch_msg_clear(j);
				conn_want_drained(is->c, false);
				conn_close(is->c); /* the end of the stream: CONN_CLOSED ends the FETCH */
				return false;
			}
			continue;
		}
		if (j->x >= j->n)
			break;
		size_t i = j->idx[j->x++];
		uint32_t uid = is->view.uids[i];
		while (j->k < j->nmsgs && j->msgs[j->k].uid < uid)
			j->k++;
		if (j->k == j->nmsgs || j->msgs[j->k].uid != uid) {
			if (j->changedsince == 0)
				j->missing++; /* expunged meanwhile */
			continue;
		}
		if (imap_fetch_msg(is, &j->f, &j->src, &j->sp, &j->text, i, &j->msgs[j->k], j->tmp, &j->unknown_cte) <= 0) {
			/* never a response with items missing (issue 16) */
			fetch_msg_clear(j);
			j->missing++;
			continue;
		}
		/* the client now knows the flags (and, under CONDSTORE, needs the MODSEQ too) */
		if ((j->f.atts & IMAP_FA_FLAGS) && (!is->condstore || (j->f.atts & IMAP_FA_MODSEQ)))
			imap_view_reported(&is->view, i, j->msgs[j->k].modseq);
		j->active = true;
	}
	if (j->active || j->x < j->n) {
		conn_want_drained(is->c, true);
		return false;
	}
	conn_want_drained(is->c, false);
	stream_end(is);
	if (j->unknown_cte)
		imap_tagged(is, "NO", "[UNKNOWN-CTE] Cannot decode a part's Content-Transfer-Encoding");
	else if (j->missing)
		imap_tagged(is, "NO", "[EXPUNGEISSUED] Some of the requested messages no longer exist");
	else
		imap_tagged(is, "OK", "%sFETCH completed", is->cmd_uid ? "UID " : "");
	return true;
}

static void stream_end(struct imap_session *is)
{
	struct fetch_job *j = is->fetch;
	fetch_msg_clear(j);
	buf_free(&j->text);
	buf_free(&j->chunk);
	arena_free(&j->tmp);
	is->fetch = NULL;
}

struct seen_ctx {
	struct imap_session *is;
	struct fetch_job *j;
};

static void seen_cb(void *arg, int result, const char *error)
{
	struct seen_ctx *sc = arg;
	struct imap_session *is = sc->is;
	struct fetch_job *j = sc->j;
	free(sc);
	arena_free(&j->op);
	if (!conn_is_closed(is->c)) {
		if (result < 0)
			conn_log(is->c, LOG_ERROR, "event=store_error op=seen error=\"%s\"", error ? error : "");
		fetch_output(is, j);
	}
	conn_release(is->c);
}

void imap_cmd_fetch(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct imap_seqset set;
	struct fetch_job *j = arena_alloc(is->cmd_arena, sizeof(*j));
	if (imap_cur_seqset(c, true, SIZE_MAX, &set) < 0 || imap_cur_sp(c) < 0 || imap_fetch_parse(c, &j->f) < 0 ||
	    fetch_modifiers(is, cmd, j) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	j->req = set;
	if (j->f.atts & IMAP_FA_MODSEQ)
		imap_condstore_enable(is);
	const char *error;
	if (imap_view_resolve(is, &set, cmd->uid, &j->idx, &j->n, &error) < 0) {
		imap_tagged(is, "BAD", "%s", error);
		imap_client_error(is);
		return;
	}
	if (cmd->uid)
		j->f.atts |= IMAP_FA_UID;
	if (j->n == 0) {
		imap_tagged(is, "OK", "%sFETCH completed", cmd->uid ? "UID " : "");
		return;
	}
	j->set = imap_view_uidset(is, j->idx, j->n);
	if (j->f.sets_seen && !is->view.readonly) {
		/* the messages not yet \Seen get it, and FLAGS in the response */
		struct store_msg *msgs;
		size_t nm, unseen = 0;
		if (store_msg_list(is->env->store, is->cmd_arena, is->account_id, is->view.mailbox_id, &j->set, 0, &msgs,
				   &nm, &error) > 0) {
			for (size_t x = 0; x < nm; x++)
				unseen += !(msgs[x].flags & STORE_F_SEEN);
		}
		if (unseen > 0) {
			j->f.atts |= IMAP_FA_FLAGS;
			j->op = arena_new();
			j->fc = (struct store_flag_change){
				.account_id = is->account_id,
				.mailbox_id = is->view.mailbox_id,
				.uids = j->set,
				.op = STORE_FLAGS_ADD,
				.flags = STORE_F_SEEN,
			};
			struct seen_ctx *sc = xcalloc(1, sizeof(*sc));
			sc->is = is;
			sc->j = j;
			conn_hold(is->c);
			store_flags_async(is->env->store, j->op, &j->fc, conn_loop(is->c), seen_cb, sc);
			return;
		}
	}
	fetch_output(is, j);
}
