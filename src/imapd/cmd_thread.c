/* cmd_thread.c: RFC 5256 §4 THREAD and UID THREAD.
 *   thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
 *   thread-alg = "ORDEREDSUBJECT" / "REFERENCES"
 *   thread-data = "THREAD" [SP 1*thread-list]
 * The messages matching the search are threaded by src/proto/imap/imap_thread.c
 * from their Message-ID, References (or In-Reply-To), base subject and sent date
 * (the internal date when there is no Date:), on the worker pool (search_job.c). */
#include "session.h"

#include "imap_search.h"
#include "imap_thread.h"
#include "mail.h"

#include <stdlib.h>
#include <string.h>

#define REFS_MAX 256 /* References ids used per message (the newest ones) */

struct thread_job {
	bool references;
	struct imap_search *prog;
	struct buf out;
};

/* On the pool, after the search: threads the matches. */
static void thread_then(struct imap_session *is, struct imap_search_job *sj, void *arg)
{
	struct thread_job *j = arg;
	struct arena *a = is->cmd_arena;
	const uint32_t *uids = sj->uids;
	size_t n = sj->n;
	if (n == 0)
		return;
	struct store_range *r = arena_alloc(a, n * sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = (struct store_range){ uids[i], uids[i] };
	struct store_uidset set = { r, n };
	struct store_msg_meta *metas;
	size_t nm;
	sj->r = store_msg_meta_list(is->env->store, a, is->account_id, is->view.mailbox_id, &set, &metas, &nm,
				    &sj->error);
	if (sj->r < 0)
		return;
	struct imap_thread_msg *tm = arena_alloc(a, (nm + 1) * sizeof(*tm));
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
		if (!j->references)
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
	imap_search_async(is, j->prog, thread_then, thread_reply, j);
}
