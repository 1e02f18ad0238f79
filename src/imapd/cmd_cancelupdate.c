/* cmd_cancelupdate.c: the command side of RFC 5267 §4 CONTEXT=SEARCH and CONTEXT=SORT:
 * the check that SEARCH/SORT RETURN (UPDATE) criteria keep their meaning, and
 * CANCELUPDATE.
 *   cancelupdate = "CANCELUPDATE" 1*(SP tag-string)
 * Criteria with message sequence numbers or "$" would change meaning as the mailbox
 * changes: UPDATE then answers NO [CANNOT] (UID sets are fine). The contexts
 * themselves live in search_update.c. */
#include "session.h"

#include "imap_search.h"

static bool uses_numbers(const struct imap_search *n)
{
	if (n->key == IMAP_SK_SEQ || ((n->key == IMAP_SK_UID) && n->set.saved))
		return true;
	for (const struct imap_search *c = n->sub; c != NULL; c = c->next)
		if (uses_numbers(c))
			return true;
	return false;
}

int imap_search_update_check(struct imap_session *is, const struct imap_search *prog)
{
	if (uses_numbers(prog)) {
		imap_tagged(is, "NO",
			    "[CANNOT] UPDATE needs criteria without message sequence numbers or $ (use UID sets)");
		return -1;
	}
	return 0;
}

void imap_cmd_cancelupdate(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	size_t unknown = 0;
	for (bool first = true;; first = false) {
		if (!first && imap_cur_end(c))
			break;
		if (!first && imap_cur_sp(c) < 0) {
			imap_bad_args(is, cmd);
			return;
		}
		struct imap_str tag;
		if (imap_cur_string(c, &tag) < 0) {
			imap_bad_args(is, cmd);
			return;
		}
		if (!imap_search_update_cancel(is, tag.s))
			unknown++;
	}
	if (unknown > 0)
		imap_tagged(is, "NO", "Unknown search context tag");
	else
		imap_tagged(is, "OK", "CANCELUPDATE completed");
}
