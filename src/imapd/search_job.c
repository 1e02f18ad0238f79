/* search_job.c: the one way SEARCH, SORT and THREAD reach the store (issue 15 item 5:
 * parse on the loop, store work on the pool, reply on the loop).
 *
 * The command parses its arguments on the session's loop and hands the parsed program
 * to imap_search_async. There, still on the loop, the program becomes the store's
 * (sequence numbers and "*" resolved against the session's view, "$" replaced by the
 * saved UIDs, \Recent by this session's ranges), and the job goes to the worker pool
 * through imap_run_async: the store evaluates it (reading message files for
 * HEADER/BODY/TEXT), the matches are cut to the messages the session knows (its
 * sequence map: a message another session added is not reported before its EXISTS,
 * one it expunged is gone from the store), then the command's own pool step runs
 * (SORT sorts, THREAD threads, SEARCH finds the MODSEQ of MIN/MAX). The reply is
 * written on the loop. While the job is out the session is busy: its input is paused,
 * so a pipelined next command waits, and nothing changes its view (a sync happens only
 * with no step in flight), which is what lets the pool step read the view; the done
 * step checks that. RFC 5267 update contexts evaluate their programs again at each sync,
 * on the loop, through imap_search_uids. */
#include "session.h"

#include "imap_search.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Converts the parsed program to the store's; resolves "*" and "$". */
static struct store_search *convert(struct imap_session *is, const struct imap_search *n)
{
	static const enum store_search_key map[] = {
		[IMAP_SK_ALL] = STORE_SK_ALL, [IMAP_SK_AND] = STORE_SK_AND, [IMAP_SK_OR] = STORE_SK_OR,
		[IMAP_SK_NOT] = STORE_SK_NOT, [IMAP_SK_ANSWERED] = STORE_SK_ANSWERED,
		[IMAP_SK_DELETED] = STORE_SK_DELETED, [IMAP_SK_DRAFT] = STORE_SK_DRAFT,
		[IMAP_SK_FLAGGED] = STORE_SK_FLAGGED, [IMAP_SK_SEEN] = STORE_SK_SEEN,
		[IMAP_SK_UNANSWERED] = STORE_SK_UNANSWERED, [IMAP_SK_UNDELETED] = STORE_SK_UNDELETED,
		[IMAP_SK_UNDRAFT] = STORE_SK_UNDRAFT, [IMAP_SK_UNFLAGGED] = STORE_SK_UNFLAGGED,
		[IMAP_SK_UNSEEN] = STORE_SK_UNSEEN, [IMAP_SK_NEW] = STORE_SK_NEW, [IMAP_SK_OLD] = STORE_SK_OLD,
		[IMAP_SK_RECENT] = STORE_SK_RECENT, [IMAP_SK_KEYWORD] = STORE_SK_KEYWORD,
		[IMAP_SK_UNKEYWORD] = STORE_SK_UNKEYWORD, [IMAP_SK_BCC] = STORE_SK_BCC, [IMAP_SK_CC] = STORE_SK_CC,
		[IMAP_SK_FROM] = STORE_SK_FROM, [IMAP_SK_TO] = STORE_SK_TO, [IMAP_SK_SUBJECT] = STORE_SK_SUBJECT,
		[IMAP_SK_BODY] = STORE_SK_BODY, [IMAP_SK_TEXT] = STORE_SK_TEXT, [IMAP_SK_HEADER] = STORE_SK_HEADER,
		[IMAP_SK_BEFORE] = STORE_SK_BEFORE, [IMAP_SK_ON] = STORE_SK_ON, [IMAP_SK_SINCE] = STORE_SK_SINCE,
		[IMAP_SK_SENTBEFORE] = STORE_SK_SENTBEFORE, [IMAP_SK_SENTON] = STORE_SK_SENTON,
		[IMAP_SK_SENTSINCE] = STORE_SK_SENTSINCE, [IMAP_SK_SAVEDBEFORE] = STORE_SK_SAVEDBEFORE,
		[IMAP_SK_SAVEDON] = STORE_SK_SAVEDON, [IMAP_SK_SAVEDSINCE] = STORE_SK_SAVEDSINCE,
		[IMAP_SK_OLDER] = STORE_SK_OLDER, [IMAP_SK_YOUNGER] = STORE_SK_YOUNGER,
		[IMAP_SK_LARGER] = STORE_SK_LARGER, [IMAP_SK_SMALLER] = STORE_SK_SMALLER,
		[IMAP_SK_MODSEQ] = STORE_SK_MODSEQ, [IMAP_SK_UID] = STORE_SK_UID, [IMAP_SK_SEQ] = STORE_SK_SEQ,
		[IMAP_SK_EMAILID] = STORE_SK_EMAILID, [IMAP_SK_THREADID] = STORE_SK_THREADID,
	};
	struct store_search *s = arena_alloc(is->cmd_arena, sizeof(*s));
	s->key = map[n->key];
	s->str = n->str;
	s->field = n->field;
	s->num = n->num;
	s->day = n->day;
	if (n->key == IMAP_SK_UID || n->key == IMAP_SK_SEQ) {
		struct imap_view *v = &is->view;
		if (n->set.saved) {
			/* "$" is a set of UIDs: search by UID whatever the key was */
			s->key = STORE_SK_UID;
			struct store_range *r = arena_alloc(is->cmd_arena, (is->nsaved + 1) * sizeof(*r));
			for (size_t i = 0; i < is->nsaved; i++)
				r[i] = (struct store_range){ is->saved[i], is->saved[i] };
			s->set = (struct store_uidset){ r, is->nsaved };
		} else {
			uint32_t star = n->key == IMAP_SK_UID ? (v->n ? v->uids[v->n - 1] : 0) : (uint32_t)v->n;
			struct store_range *r = arena_alloc(is->cmd_arena, (n->set.n + 1) * sizeof(*r));
			size_t k = 0;
			for (size_t i = 0; i < n->set.n; i++) {
				uint32_t lo = n->set.r[i].lo ? n->set.r[i].lo : star;
				uint32_t hi = n->set.r[i].hi ? n->set.r[i].hi : star;
				if (lo > hi) {
					uint32_t t = lo;
					lo = hi;
					hi = t;
				}
				if (hi == 0)
					continue; /* "*" in an empty mailbox */
				if (lo == 0)
					lo = 1;
				r[k++] = (struct store_range){ lo, hi };
			}
			s->set = (struct store_uidset){ r, k };
		}
	}
	if (n->key == IMAP_SK_RECENT || n->key == IMAP_SK_NEW || n->key == IMAP_SK_OLD) {
		/* this session's \Recent ranges as a UID key: RECENT = UID ranges, NEW = RECENT
		 * UNSEEN, OLD = NOT RECENT */
		struct imap_view *v = &is->view;
		struct store_range *r = arena_alloc(is->cmd_arena, (v->nrecent + 1) * sizeof(*r));
		size_t k = 0;
		for (size_t i = 0; i < v->nrecent; i++)
			r[k++] = (struct store_range){ v->recent[i].lo, v->recent[i].hi - 1 };
		struct store_search *u = arena_alloc(is->cmd_arena, sizeof(*u));
		memset(u, 0, sizeof(*u));
		u->key = STORE_SK_UID;
		u->set = (struct store_uidset){ k ? r : NULL, k };
		if (n->key == IMAP_SK_RECENT)
			return u;
		memset(s, 0, sizeof(*s));
		s->key = n->key == IMAP_SK_NEW ? STORE_SK_AND : STORE_SK_NOT;
		s->sub = u;
		if (n->key == IMAP_SK_NEW) {
			struct store_search *un = arena_alloc(is->cmd_arena, sizeof(*un));
			memset(un, 0, sizeof(*un));
			un->key = STORE_SK_UNSEEN;
			u->next = un;
		}
		return s;
	}
	struct store_search **tail = &s->sub;
	for (const struct imap_search *c = n->sub; c != NULL; c = c->next) {
		*tail = convert(is, c);
		tail = &(*tail)->next;
	}
	return s;
}

/* Evaluates the converted program sp with ctx; keeps the matches the view knows. */
static int evaluate(struct imap_session *is, const struct store_search_ctx *ctx, const struct store_search *sp,
		    uint32_t **uids_r, size_t *n_r, uint64_t *highest_r, const char **error_r)
{
	uint32_t *uids;
	size_t n;
	int r = store_search(is->env->store, is->cmd_arena, ctx, sp, &uids, &n, highest_r, error_r);
	if (r < 0)
		return r;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (imap_view_index(&is->view, uids[i]) >= 0)
			uids[k++] = uids[i];
	*uids_r = uids;
	*n_r = k;
	return 1;
}

static struct store_search_ctx view_ctx(const struct imap_session *is)
{
	return (struct store_search_ctx){
		.account_id = is->account_id,
		.mailbox_id = is->view.mailbox_id,
		.seq_uids = is->view.uids,
		.nseq = is->view.n,
	};
}

int imap_search_uids(struct imap_session *is, const struct imap_search *prog, uint32_t **uids_r, size_t *n_r,
		     uint64_t *highest_r, const char **error_r)
{
	struct store_search_ctx ctx = view_ctx(is);
	return evaluate(is, &ctx, convert(is, prog), uids_r, n_r, highest_r, error_r);
}

struct search_async {
	struct imap_search_job job; /* first: imap_search_job_run finds the rest from it */
	struct store_search *prog;
	struct store_search_ctx ctx;
	imap_search_step_fn *then, *reply;
	void *arg;
	bool keys; /* imap_search_async_keys */
	/* the view as the job saw it (checked when it returns) */
	const uint32_t *view_uids;
	size_t view_n;
};

/* True if the program matches every message (ALL, an AND of such). */
static bool matches_all(const struct store_search *s)
{
	if (s->key == STORE_SK_ALL)
		return true;
	if (s->key != STORE_SK_AND)
		return false;
	for (const struct store_search *c = s->sub; c != NULL; c = c->next)
		if (!matches_all(c))
			return false;
	return true;
}

int imap_search_job_run(struct imap_session *is, struct imap_search_job *j)
{
	struct search_async *a = (struct search_async *)j;
	assert(j->all && &a->job == j);
	j->all = false;
	j->r = evaluate(is, &a->ctx, a->prog, &j->uids, &j->n, &j->highest, &j->error);
	return j->r;
}

static void search_work(struct imap_session *is, void *arg)
{
	struct search_async *a = arg;
	struct imap_search_job *j = &a->job;
	if (a->keys && matches_all(a->prog)) {
		/* the step reads the keys of every message: it finds out whether the view's
		 * messages are all there */
		j->all = true;
		j->uids = arena_alloc(is->cmd_arena, (is->view.n + 1) * sizeof(*j->uids));
		if (is->view.n > 0)
			memcpy(j->uids, is->view.uids, is->view.n * sizeof(*j->uids));
		j->n = is->view.n;
		j->r = 1;
	} else {
		j->r = evaluate(is, &a->ctx, a->prog, &j->uids, &j->n, &j->highest, &j->error);
	}
	if (j->r >= 0 && a->then != NULL)
		a->then(is, j, a->arg);
}

static void search_done(struct imap_session *is, void *arg)
{
	struct search_async *a = arg;
	/* the session was busy: nothing may have synced its view meanwhile */
	assert(is->view.uids == a->view_uids && is->view.n == a->view_n);
	a->reply(is, &a->job, a->arg);
}

static void start(struct imap_session *is, const struct imap_search *prog, imap_search_step_fn *then,
		  imap_search_step_fn *reply, void *arg, bool keys)
{
	assert(reply != NULL);
	struct search_async *a = arena_alloc(is->cmd_arena, sizeof(*a));
	memset(a, 0, sizeof(*a));
	a->prog = convert(is, prog);
	a->ctx = view_ctx(is);
	a->then = then;
	a->reply = reply;
	a->arg = arg;
	a->keys = keys;
	a->view_uids = is->view.uids;
	a->view_n = is->view.n;
	imap_run_async(is, search_work, search_done, a);
}

void imap_search_async(struct imap_session *is, const struct imap_search *prog, imap_search_step_fn *then,
		       imap_search_step_fn *reply, void *arg)
{
	start(is, prog, then, reply, arg, false);
}

void imap_search_async_keys(struct imap_session *is, const struct imap_search *prog, imap_search_step_fn *then,
			    imap_search_step_fn *reply, void *arg)
{
	assert(then != NULL);
	start(is, prog, then, reply, arg, true);
}

bool imap_charset_ok(const char *charset)
{
	return charset == NULL || strcasecmp(charset, "UTF-8") == 0 || strcasecmp(charset, "US-ASCII") == 0;
}
