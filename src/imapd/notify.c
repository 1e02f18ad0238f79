/* notify.c: the state of RFC 5465 NOTIFY (the command itself is parsed in cmd_notify.c).
 * Every session already gets the store's events for all mailboxes of its account
 * (store_subscribe with mailbox 0); without NOTIFY it ignores those of other mailboxes.
 * With NOTIFY, an event for a mailbox that a group matches (the first group that
 * matches decides; "inboxes" is INBOX, "personal" every mailbox) and whose events
 * include the kind queues a STATUS for that mailbox (MessageNew/MessageExpunge:
 * MESSAGES UIDNEXT UIDVALIDITY UNSEEN; FlagChange: UNSEEN; HIGHESTMODSEQ too under
 * CONDSTORE), written from the store's counts at once when no command is in progress,
 * else just before the next tagged reply; several events for one mailbox give one
 * STATUS. MailboxName gives "* LIST () "/" name" for a new mailbox, with ("OLDNAME"
 * (old)) for a rename, "(\NonExistent)" for a deleted one; SubscriptionChange gives
 * LIST with or without \Subscribed. For the selected mailbox, a "selected" group makes
 * its changes go out as soon as they happen, also between commands (EXISTS, FETCH,
 * EXPUNGE; "selected-delayed" keeps EXPUNGE for a command that may carry it), and
 * MessageNew's fetch attributes (any but body sections, which a large new message
 * would make costly unasked) add a FETCH for each new message. Without a "selected" group the selected mailbox behaves
 * as without NOTIFY. AnnotationChange, MailboxMetadataChange and ServerMetadataChange
 * are not supported: NO [BADEVENT (...)]. NOTIFY NONE (or a new SELECT of nothing)
 * ends it. The state (groups, a name cache of the account's mailboxes, the queue)
 * exists only for sessions that sent NOTIFY SET; others carry one NULL pointer. */
#include "notify.h"

#include <stdlib.h>
#include <string.h>

void imap_notify_free(struct imap_notify *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->ngroups; i++) {
		for (size_t k = 0; k < n->groups[i].nnames; k++)
			free(n->groups[i].names[k]);
		free(n->groups[i].names);
	}
	free(n->groups);
	for (size_t i = 0; i < n->nboxes; i++)
		free(n->boxes[i].name);
	free(n->boxes);
	buf_free(&n->lines);
	free(n->fetch_atts);
	free(n);
}

void imap_notify_end(struct imap_session *is)
{
	imap_notify_free(is->notify);
	is->notify = NULL;
}

bool imap_notify_may_write(const struct imap_session *is)
{
	return !conn_is_closed(is->c) && conn_holds(is->c) == 0 && is->fetch == NULL && is->mode != IMAP_MODE_AUTH;
}

const struct nf_group *imap_notify_match(const struct imap_notify *n, const char *name, bool subscribed)
{
	for (size_t i = 0; i < n->ngroups; i++) {
		const struct nf_group *g = &n->groups[i];
		switch (g->kind) {
		case NF_SELECTED:
		case NF_SELECTED_DELAYED:
			break;
		case NF_INBOXES:
			if (strcmp(name, "INBOX") == 0)
				return g;
			break;
		case NF_PERSONAL:
			return g;
		case NF_SUBSCRIBED:
			if (subscribed)
				return g;
			break;
		case NF_SUBTREE:
		case NF_MAILBOXES:
			for (size_t k = 0; k < g->nnames; k++) {
				size_t len = strlen(g->names[k]);
				if (strcmp(name, g->names[k]) == 0 ||
				    (g->kind == NF_SUBTREE && strncmp(name, g->names[k], len) == 0 && name[len] == '/'))
					return g;
			}
			break;
		}
	}
	return NULL;
}

static struct nf_box *box_find(struct imap_notify *n, int64_t id)
{
	for (size_t i = 0; i < n->nboxes; i++)
		if (n->boxes[i].id == id)
			return &n->boxes[i];
	return NULL;
}

struct nf_box *imap_notify_box_add(struct imap_notify *n, const struct store_mailbox *mb)
{
	n->boxes = xrealloc(n->boxes, (n->nboxes + 1) * sizeof(*n->boxes));
	struct nf_box *b = &n->boxes[n->nboxes++];
	*b = (struct nf_box){ mb->id, xstrdup(mb->name), mb->subscribed, 0 };
	return b;
}

bool imap_notify_selected_id(const struct imap_session *is, int64_t id)
{
	return is->selected && is->view.mailbox_id == id;
}

/* The STATUS of a mailbox with pending message events. */
void imap_notify_put_status(struct imap_session *is, const struct store_mailbox *mb, unsigned what)
{
	unsigned items = ST_UNSEEN;
	if (what & (NE_NEW | NE_EXPUNGE))
		items |= ST_MESSAGES | ST_UIDNEXT | ST_UIDVALIDITY;
	if (is->condstore)
		items |= ST_HIGHESTMODSEQ;
	imap_status_write(is, mb, items);
}

void imap_notify_flush(struct imap_session *is)
{
	struct imap_notify *n = is->notify;
	if (n == NULL || conn_is_closed(is->c))
		return;
	if (n->lines.len > 0) {
		imap_write(is, n->lines.data, n->lines.len);
		buf_reset(&n->lines);
	}
	if (!n->any_pending)
		return;
	n->any_pending = false;
	for (size_t i = 0; i < n->nboxes; i++) {
		struct nf_box *b = &n->boxes[i];
		if (b->pending == 0)
			continue;
		unsigned what = b->pending;
		b->pending = 0;
		if (imap_notify_selected_id(is, b->id))
			continue;
		struct store_mailbox mb;
		const char *error;
		if (store_mailbox_get_by_id(is->env->store, is->cmd_arena, is->account_id, b->id, &mb, &error) > 0)
			imap_notify_put_status(is, &mb, what);
	}
}

static void put_list(struct imap_session *is, struct buf *b, const char *attrs, const char *name, const char *oldname)
{
	buf_printf(b, "* LIST (%s) \"/\" ", attrs);
	imap_put_mailbox_name(is, b, name);
	if (oldname != NULL) {
		buf_puts(b, " (\"OLDNAME\" (");
		imap_put_mailbox_name(is, b, oldname);
		buf_puts(b, "))");
	}
	buf_puts(b, "\r\n");
}

bool imap_notify_selected(const struct imap_session *is, bool *delayed_r)
{
	const struct imap_notify *n = is->notify;
	if (n == NULL || n->selected == NULL || (n->selected->events & NE_MESSAGE) == 0)
		return false;
	*delayed_r = n->selected->kind == NF_SELECTED_DELAYED;
	return true;
}

const char *imap_notify_new_fetch(const struct imap_session *is)
{
	const struct imap_notify *n = is->notify;
	if (n == NULL || n->selected == NULL || !(n->selected->events & NE_NEW))
		return NULL;
	return n->fetch_atts;
}

/* The bookkeeping of one event; a (its own arena: cmd_arena may be in use by a
 * command step on the pool). */
static void note_event(struct imap_session *is, struct imap_notify *n, struct arena *a, const struct store_event *ev)
{
	struct store_mailbox mb;
	const char *error;
	struct nf_box *b = box_find(n, ev->mailbox_id);
	const struct nf_group *g;
	switch (ev->kind) {
	case STORE_EV_NEW:
	case STORE_EV_FLAGS:
	case STORE_EV_EXPUNGE: {
		if (imap_notify_selected_id(is, ev->mailbox_id))
			return; /* the view reports it */
		if (b == NULL) {
			if (store_mailbox_get_by_id(is->env->store, a, is->account_id, ev->mailbox_id, &mb,
						    &error) <= 0)
				return;
			b = imap_notify_box_add(n, &mb);
		}
		unsigned bit = ev->kind == STORE_EV_NEW ? NE_NEW : ev->kind == STORE_EV_EXPUNGE ? NE_EXPUNGE : NE_FLAGS;
		g = imap_notify_match(n, b->name, b->subscribed);
		if (g == NULL || !(g->events & bit))
			return;
		b->pending |= bit;
		n->any_pending = true;
		break;
	}
	case STORE_EV_MAILBOX_CREATED:
		if (store_mailbox_get_by_id(is->env->store, a, is->account_id, ev->mailbox_id, &mb, &error) <= 0)
			return;
		if (b == NULL)
			b = imap_notify_box_add(n, &mb);
		g = imap_notify_match(n, b->name, b->subscribed);
		if (g != NULL && (g->events & NE_NAME))
			put_list(is, &n->lines, b->subscribed ? "\\Subscribed" : "", b->name, NULL);
		break;
	case STORE_EV_MAILBOX_RENAMED: {
		if (store_mailbox_get_by_id(is->env->store, a, is->account_id, ev->mailbox_id, &mb, &error) <= 0)
			return;
		if (b == NULL) {
			b = imap_notify_box_add(n, &mb);
			return; /* the old name is unknown */
		}
		char *old = b->name;
		b->name = xstrdup(mb.name);
		g = imap_notify_match(n, b->name, b->subscribed);
		if (g == NULL)
			g = imap_notify_match(n, old, b->subscribed);
		if (g != NULL && (g->events & NE_NAME))
			put_list(is, &n->lines, "", b->name, old);
		free(old);
		break;
	}
	case STORE_EV_MAILBOX_DELETED:
		if (b == NULL)
			return;
		g = imap_notify_match(n, b->name, b->subscribed);
		if (g != NULL && (g->events & NE_NAME))
			put_list(is, &n->lines, "\\NonExistent", b->name, NULL);
		free(b->name);
		*b = n->boxes[--n->nboxes];
		break;
	case STORE_EV_MAILBOX_CHANGED:
		if (store_mailbox_get_by_id(is->env->store, a, is->account_id, ev->mailbox_id, &mb, &error) <= 0)
			return;
		if (b == NULL)
			b = imap_notify_box_add(n, &mb);
		if (b->subscribed == mb.subscribed)
			return;
		b->subscribed = mb.subscribed;
		g = imap_notify_match(n, b->name, true);
		if (g != NULL && (g->events & NE_SUBS))
			put_list(is, &n->lines, b->subscribed ? "\\Subscribed" : "", b->name, NULL);
		break;
	case STORE_EV_RESYNC: /* changes may have been missed: a STATUS of each mailbox watched */
		for (size_t i = 0; i < n->nboxes; i++) {
			g = imap_notify_match(n, n->boxes[i].name, n->boxes[i].subscribed);
			if (g != NULL && (g->events & NE_MESSAGE)) {
				n->boxes[i].pending |= g->events & NE_MESSAGE;
				n->any_pending = true;
			}
		}
		break;
	}
}

void imap_notify_event(struct imap_session *is, const struct store_event *ev)
{
	struct imap_notify *n = is->notify;
	if (n == NULL || conn_is_closed(is->c))
		return;
	struct arena *a = arena_new();
	note_event(is, n, a, ev);
	arena_free(&a);
	if (imap_notify_may_write(is)) {
		imap_notify_flush(is);
		arena_clear(is->cmd_arena);
	}
}

/* ------------------------------------------------------------ NOTIFY SET / NONE */
