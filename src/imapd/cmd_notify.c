/* cmd_notify.c: RFC 5465 NOTIFY: one connection watches every folder.
 *   notify = "NOTIFY" SP (notify-set / "NONE")
 *   notify-set = "SET" [SP "STATUS"] SP event-group *(SP event-group)
 *   event-group = "(" filter-mailboxes SP events ")"
 *   filter-mailboxes = "selected" / "selected-delayed" / "inboxes" / "personal" /
 *                      "subscribed" / ("subtree" SP one-or-more-mailbox) /
 *                      ("mailboxes" SP one-or-more-mailbox)
 *   one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
 *   events = ("(" event *(SP event) ")") / "NONE"
 *   event = ("MessageNew" [SP "(" fetch-att *(SP fetch-att) ")"]) / "MessageExpunge" /
 *           "FlagChange" / "AnnotationChange" / "MailboxName" / "SubscriptionChange" /
 *           "MailboxMetadataChange" / "ServerMetadataChange"
 * The state and the events are in notify.c (notify.h). */
#include "notify.h"

#include "imap_fetch.h"

#include <stdlib.h>
#include <string.h>

static int parse_events(struct imap_session *is, struct imap_cur *c, struct imap_notify *n, struct nf_group *g,
			const char **badevent_r)
{
	if (imap_cur_keyword(c, "NONE"))
		return 1;
	if (!imap_cur_skip(c, '(')) {
		c->error = "Expected ( or NONE for the events";
		return -1;
	}
	for (bool first = true; !imap_cur_skip(c, ')'); first = false) {
		if (!first && imap_cur_sp(c) < 0)
			return -1;
		if (imap_cur_keyword(c, "MessageNew")) {
			g->events |= NE_NEW;
			if (imap_cur_peek(c) == ' ' && c->pos + 1 < c->len && c->p[c->pos + 1] == '(') {
				/* RFC 5465 §5.1: fetch attributes for the selected mailbox's new
				 * messages; no body sections (a new message may be large and goes
				 * out unasked) */
				imap_cur_sp(c);
				size_t start = c->pos;
				struct imap_fetch f;
				if (imap_fetch_parse(c, &f) < 0)
					return -1;
				if (f.nbodies > 0) {
					c->error = "MessageNew takes fetch attributes without body sections";
					return -1;
				}
				if (g->kind <= NF_SELECTED_DELAYED && n->fetch_atts == NULL)
					n->fetch_atts = xstrndup(c->p + start, c->pos - start);
			}
		} else if (imap_cur_keyword(c, "MessageExpunge")) {
			g->events |= NE_EXPUNGE;
		} else if (imap_cur_keyword(c, "FlagChange")) {
			g->events |= NE_FLAGS;
		} else if (imap_cur_keyword(c, "MailboxName")) {
			g->events |= NE_NAME;
		} else if (imap_cur_keyword(c, "SubscriptionChange")) {
			g->events |= NE_SUBS;
		} else if (imap_cur_keyword(c, "AnnotationChange") || imap_cur_keyword(c, "MailboxMetadataChange") ||
			   imap_cur_keyword(c, "ServerMetadataChange")) {
			*badevent_r = "unsupported";
		} else {
			c->error = "Unknown NOTIFY event";
			return -1;
		}
	}
	(void)is;
	return 1;
}

static int parse_mailbox(struct imap_session *is, struct imap_cur *c, struct nf_group *g)
{
	struct imap_str s;
	const char *name, *error;
	if (imap_cur_astring(c, &s) < 0)
		return -1;
	if (imap_mailbox_arg(is, &s, &name, &error) < 0) {
		c->error = error;
		return -1;
	}
	g->names = xrealloc(g->names, (g->nnames + 1) * sizeof(*g->names));
	g->names[g->nnames++] = xstrdup(name);
	return 1;
}

static int parse_group(struct imap_session *is, struct imap_cur *c, struct imap_notify *n, const char **badevent_r)
{
	static const struct {
		const char *word;
		enum nf_kind kind;
	} kinds[] = {
		{ "selected-delayed", NF_SELECTED_DELAYED }, { "selected", NF_SELECTED },
		{ "inboxes", NF_INBOXES },		     { "personal", NF_PERSONAL },
		{ "subscribed", NF_SUBSCRIBED },	     { "subtree", NF_SUBTREE },
		{ "mailboxes", NF_MAILBOXES },
	};
	if (!imap_cur_skip(c, '(')) {
		c->error = "Expected ( before an event group";
		return -1;
	}
	size_t k;
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (imap_cur_keyword(c, kinds[k].word))
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0])) {
		c->error = "Unknown NOTIFY mailbox filter";
		return -1;
	}
	n->groups = xrealloc(n->groups, (n->ngroups + 1) * sizeof(*n->groups));
	struct nf_group *g = &n->groups[n->ngroups++];
	*g = (struct nf_group){ .kind = kinds[k].kind };
	if (imap_cur_sp(c) < 0)
		return -1;
	if (g->kind == NF_SUBTREE || g->kind == NF_MAILBOXES) {
		if (imap_cur_skip(c, '(')) {
			for (bool first = true; !imap_cur_skip(c, ')'); first = false) {
				if ((!first && imap_cur_sp(c) < 0) || parse_mailbox(is, c, g) < 0)
					return -1;
			}
		} else if (parse_mailbox(is, c, g) < 0) {
			return -1;
		}
		if (imap_cur_sp(c) < 0)
			return -1;
	}
	if (parse_events(is, c, n, g, badevent_r) < 0)
		return -1;
	if (!imap_cur_skip(c, ')')) {
		c->error = "Expected ) after an event group";
		return -1;
	}
	return 1;
}

void imap_cmd_notify(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	if (imap_cur_keyword(c, "NONE")) {
		if (imap_cur_eol(c) < 0) {
			imap_bad_args(is, cmd);
			return;
		}
		imap_notify_end(is);
		imap_tagged(is, "OK", "NOTIFY completed");
		return;
	}
	if (!imap_cur_keyword(c, "SET") || imap_cur_sp(c) < 0) {
		c->error = "Expected NOTIFY SET or NOTIFY NONE";
		imap_bad_args(is, cmd);
		return;
	}
	bool status = false;
	if (imap_cur_keyword(c, "STATUS")) {
		status = true;
		if (imap_cur_sp(c) < 0) {
			imap_bad_args(is, cmd);
			return;
		}
	}
	struct imap_notify *n = xcalloc(1, sizeof(*n));
	const char *badevent = NULL;
	for (bool first = true; first || !imap_cur_end(c); first = false) {
		if ((!first && imap_cur_sp(c) < 0) || parse_group(is, c, n, &badevent) < 0) {
			imap_notify_free(n);
			imap_bad_args(is, cmd);
			return;
		}
	}
	if (badevent != NULL) {
		imap_notify_free(n);
		imap_tagged(is, "NO",
			    "[BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)] "
			    "Unsupported NOTIFY event");
		return;
	}
	for (size_t i = 0; i < n->ngroups; i++)
		if (n->groups[i].kind <= NF_SELECTED_DELAYED && n->selected == NULL)
			n->selected = &n->groups[i];
	struct store_mailbox *mbs;
	size_t nmb;
	const char *error;
	int r = store_mailbox_list(is->env->store, is->cmd_arena, is->account_id, &mbs, &nmb, &error);
	if (r < 0) {
		imap_notify_free(n);
		imap_store_error(is, r, error);
		return;
	}
	for (size_t i = 0; i < nmb; i++)
		imap_notify_box_add(n, &mbs[i]);
	imap_notify_end(is);
	is->notify = n;
	if (status) {
		/* RFC 5465 §3.1: the current STATUS of every watched mailbox */
		for (size_t i = 0; i < nmb; i++) {
			const struct nf_group *g = imap_notify_match(n, mbs[i].name, mbs[i].subscribed);
			if (g != NULL && (g->events & NE_MESSAGE) && !imap_notify_selected_id(is, mbs[i].id))
				imap_notify_put_status(is, &mbs[i], NE_NEW);
		}
	}
	imap_tagged(is, "OK", "NOTIFY completed");
}
