/* cmd_thread.c: RFC 5256 §4 THREAD and UID THREAD.
 *   thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
 *   thread-alg = "ORDEREDSUBJECT" / "REFERENCES"
 *   thread-data = "THREAD" [SP 1*thread-list]
 * The messages matching the search are threaded by src/proto/imap/imap_thread.c
 * from their Message-ID, References (or In-Reply-To), base subject and sent date
 * (the internal date when there is no Date:), on the worker pool (search_job.c). Those
 * come from the keys the store wrote at delivery (store_sortkey.c), not from each
 * message's metadata. */
#include "session.h"

#include "imap_search.h"
#include "imap_thread.h"
#include "log.h"
#include "mail.h"

#include <stdlib.h>
#include <string.h>

#define REFS_MAX 256 /* References ids used per message (the newest ones) */

struct thread_job {
	bool references;
	struct imap_search *prog;
	struct buf out;
};

/* The thread fields from the metadata, derived at each command: the fallback for
 * messages without stored keys (none after migration 3). Returns how many it set. */
static size_t msgs_from_meta(struct imap_session *is, bool references, const uint32_t *uids, size_t n,
			     struct imap_thread_msg *tm, int *r, const char **error_r)
{
	struct arena *a = is->cmd_arena;
	struct store_range *rg = arena_alloc(a, n * sizeof(*rg));
	for (size_t i = 0; i < n; i++)
		rg[i] = (struct store_range){ uids[i], uids[i] };
	struct store_uidset set = { rg, n };
	struct store_msg_meta *metas;
	size_t nm;
	*r = store_msg_meta_list(is->env->store, a, is->account_id, is->view.mailbox_id, &set, &metas, &nm, error_r);
	if (*r < 0)
		return 0;
	size_t k = 0;
	for (size_t i = 0; i < nm; i++) {
		const struct store_msg_meta *mm = &metas[i];
		long x = imap_view_index(&is->view, mm->m.uid);
		if (x < 0)
			continue;
		struct imap_thread_msg *t = &tm[k++];
		t->num = is->cmd_uid ? mm->m.uid : (uint32_t)x + 1;
		t->date = mm->date ? mm->date : mm->m.internal_date;
		t->base = imap_base_subject(a, mm->subject, &t->reply);
		if (!references)
			continue;
		const char **id = mail_msgids(a, mm->message_id, 1);
		t->msgid = id && id[0] ? id[0] : NULL;
		const char **refs = mail_msgids(a, mm->references, 100000);
		size_t nr = 0;
		while (refs && refs[nr])
			nr++;
		if (nr == 0) {
			/* RFC 5256 §4 (1A): the first valid id of In-Reply-To */
			refs = mail_msgids(a, mm->in_reply_to, 1);
		} else if (nr > REFS_MAX) {
			refs += nr - REFS_MAX;
		}
		t->refs = (const char *const *)refs;
	}
	return k;
}

/* "<a> <b>" (store_thread_key.refs) as the NULL-terminated array threading takes */
static const char *const *split_ids(struct arena *a, const char *s)
{
	if (s == NULL)
		return NULL;
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ' ';
	const char **v = arena_alloc(a, (n + 1) * sizeof(*v));
	char *p = arena_strdup(a, s); /* one copy, cut at the spaces */
	size_t k = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, " ");
		v[k++] = p;
		p += len;
		if (*p == ' ')
			*p++ = '\0';
	}
	v[k] = NULL;
	return v;
}

/* On the pool, after the search: threads the matches from the keys stored at delivery
 * (store_thread_keys: sent date, base subject, Message-ID and parent ids). */
static void thread_then(struct imap_session *is, struct imap_search_job *sj, void *arg)
{
	struct thread_job *j = arg;
	struct arena *a = is->cmd_arena;
	size_t n = sj->n;
	if (n == 0)
		return;
	uint32_t *set = sj->uids;
	bool few = false;
	size_t ns = n;
again:
	if (!sj->all) /* THREAD ... ALL: the view's UIDs, ascending */
		ns = imap_sort_set(is, a, sj->uids, n, &set, &few);
	struct store_thread_key *keys;
	size_t nk;
	sj->r = store_thread_keys(is->env->store, a, is->account_id, is->view.mailbox_id, few ? set : NULL,
				  few ? ns : 0, &keys, &nk, &sj->error);
	if (sj->r < 0)
		return;
	struct imap_thread_msg *tm = arena_alloc(a, (ns + 1) * sizeof(*tm));
	size_t k = 0;
	/* both ascending by UID: a merge */
	for (size_t i = 0, s = 0; i < nk && s < ns; i++) {
		while (s < ns && set[s] < keys[i].uid)
			s++;
		if (s == ns || set[s] != keys[i].uid)
			continue;
		const struct store_thread_key *key = &keys[i];
		struct imap_thread_msg *t = &tm[k++];
		t->num = is->cmd_uid ? key->uid : (uint32_t)imap_view_index(&is->view, key->uid) + 1;
		t->date = key->sent;
		t->base = key->subject;
		t->reply = key->reply;
		if (j->references) {
			t->msgid = key->msgid;
			t->refs = split_ids(a, key->refs);
		}
	}
	if (k < ns && sj->all) {
		/* a message of the view without keys or gone: search, then as for any program */
		if (imap_search_job_run(is, sj) < 0)
			return;
		n = sj->n;
		if (n == 0)
			return;
		goto again;
	}
	if (k < ns) {
		log_warn("event=imap_thread_fallback mailbox=%lld missing=%zu", (long long)is->view.mailbox_id, ns - k);
		k = msgs_from_meta(is, j->references, set, ns, tm, &sj->r, &sj->error);
		if (sj->r < 0)
			return;
	}
	buf_puts(&j->out, "* THREAD ");
	if (j->references)
		imap_thread_references(a, tm, k, &j->out);
	else
		imap_thread_orderedsubject(a, tm, k, &j->out);
}

/* On the loop: the answer and the tagged reply. */
static void thread_reply(struct imap_session *is, struct imap_search_job *sj, void *arg)
{
	struct thread_job *j = arg;
	if (sj->r < 0) {
		buf_free(&j->out);
		imap_store_error(is, sj->r, sj->error);
		return;
	}
	if (j->out.len == 0)
		buf_puts(&j->out, "* THREAD ");
	/* "* THREAD" alone when nothing matched */
	if (j->out.data[j->out.len - 1] == ' ')
		j->out.len--;
	buf_puts(&j->out, "\r\n");
	imap_write(is, j->out.data, j->out.len);
	buf_free(&j->out);
	imap_tagged(is, "OK", "%sTHREAD completed", is->cmd_uid ? "UID " : "");
}

void imap_cmd_thread(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct thread_job *j = arena_alloc(is->cmd_arena, sizeof(*j));
	struct imap_str charset;
	const char *cs2;
	if (imap_cur_keyword(c, "REFERENCES")) {
		j->references = true;
	} else if (!imap_cur_keyword(c, "ORDEREDSUBJECT")) {
		c->error = "Unknown threading algorithm";
		imap_bad_args(is, cmd);
		return;
	}
	if (imap_cur_sp(c) < 0 || imap_cur_astring(c, &charset) < 0 || imap_cur_sp(c) < 0 ||
	    imap_search_parse(c, &j->prog, &cs2) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (!imap_charset_ok(charset.s)) {
		imap_tagged(is, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return;
	}
	imap_search_async_keys(is, j->prog, thread_then, thread_reply, j);
}
