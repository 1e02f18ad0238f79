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
#include "session.h"

#include "imap_fetch.h"

#include <stdlib.h>
#include <string.h>

enum {
	NE_NEW = 1,
	NE_EXPUNGE = 2,
	NE_FLAGS = 4,
	NE_NAME = 8,
	NE_SUBS = 16,
	NE_MESSAGE = NE_NEW | NE_EXPUNGE | NE_FLAGS,
};

enum nf_kind { NF_SELECTED, NF_SELECTED_DELAYED, NF_INBOXES, NF_PERSONAL, NF_SUBSCRIBED, NF_SUBTREE, NF_MAILBOXES };

struct nf_group {
	enum nf_kind kind;
	unsigned events;
	char **names; /* SUBTREE / MAILBOXES (heap, UTF-8) */
	size_t nnames;
};

struct nf_box {
	int64_t id;
	char *name; /* heap */
	bool subscribed;
	unsigned pending; /* NE_* bits waiting for a STATUS */
};

struct imap_notify {
	struct nf_group *groups;
	size_t ngroups;
	const struct nf_group *selected; /* the "selected"/"selected-delayed" group or NULL */
	char *fetch_atts;                /* MessageNew (fetch-att ...) of that group (heap) */
	struct nf_box *boxes;            /* the account's mailboxes as last seen */
	size_t nboxes;
	bool any_pending;
	struct buf lines;                /* LIST lines waiting */
};

static void notify_free(struct imap_notify *n)
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
	notify_free(is->notify);
	is->notify = NULL;
}

bool imap_notify_may_write(const struct imap_session *is)
{
	return !conn_is_closed(is->c) && conn_holds(is->c) == 0 && is->fetch == NULL && is->mode != IMAP_MODE_AUTH;
}

static const struct nf_group *match(const struct imap_notify *n, const char *name, bool subscribed)
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

static struct nf_box *box_add(struct imap_notify *n, const struct store_mailbox *mb)
{
	n->boxes = xrealloc(n->boxes, (n->nboxes + 1) * sizeof(*n->boxes));
	struct nf_box *b = &n->boxes[n->nboxes++];
	*b = (struct nf_box){ mb->id, xstrdup(mb->name), mb->subscribed, 0 };
	return b;
}

static bool selected_id(const struct imap_session *is, int64_t id)
{
	return is->selected && is->view.mailbox_id == id;
}

/* The STATUS of a mailbox with pending message events. */
static void put_status(struct imap_session *is, const struct store_mailbox *mb, unsigned what)
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
		if (selected_id(is, b->id))
			continue;
		struct store_mailbox mb;
		const char *error;
		if (store_mailbox_get_by_id(is->env->store, is->cmd_arena, is->account_id, b->id, &mb, &error) > 0)
			put_status(is, &mb, what);
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
		if (selected_id(is, ev->mailbox_id))
			return; /* the view reports it */
		if (b == NULL) {
			if (store_mailbox_get_by_id(is->env->store, a, is->account_id, ev->mailbox_id, &mb,
						    &error) <= 0)
				return;
			b = box_add(n, &mb);
		}
		unsigned bit = ev->kind == STORE_EV_NEW ? NE_NEW : ev->kind == STORE_EV_EXPUNGE ? NE_EXPUNGE : NE_FLAGS;
		g = match(n, b->name, b->subscribed);
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
			b = box_add(n, &mb);
		g = match(n, b->name, b->subscribed);
		if (g != NULL && (g->events & NE_NAME))
			put_list(is, &n->lines, b->subscribed ? "\\Subscribed" : "", b->name, NULL);
		break;
	case STORE_EV_MAILBOX_RENAMED: {
		if (store_mailbox_get_by_id(is->env->store, a, is->account_id, ev->mailbox_id, &mb, &error) <= 0)
			return;
		if (b == NULL) {
			b = box_add(n, &mb);
			return; /* the old name is unknown */
		}
		char *old = b->name;
		b->name = xstrdup(mb.name);
		g = match(n, b->name, b->subscribed);
		if (g == NULL)
			g = match(n, old, b->subscribed);
		if (g != NULL && (g->events & NE_NAME))
			put_list(is, &n->lines, "", b->name, old);
		free(old);
		break;
	}
	case STORE_EV_MAILBOX_DELETED:
		if (b == NULL)
			return;
		g = match(n, b->name, b->subscribed);
		if (g != NULL && (g->events & NE_NAME))
			put_list(is, &n->lines, "\\NonExistent", b->name, NULL);
		free(b->name);
		*b = n->boxes[--n->nboxes];
		break;
	case STORE_EV_MAILBOX_CHANGED:
		if (store_mailbox_get_by_id(is->env->store, a, is->account_id, ev->mailbox_id, &mb, &error) <= 0)
			return;
		if (b == NULL)
			b = box_add(n, &mb);
		if (b->subscribed == mb.subscribed)
			return;
		b->subscribed = mb.subscribed;
		g = match(n, b->name, true);
		if (g != NULL && (g->events & NE_SUBS))
			put_list(is, &n->lines, b->subscribed ? "\\Subscribed" : "", b->name, NULL);
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
			notify_free(n);
			imap_bad_args(is, cmd);
			return;
		}
	}
	if (badevent != NULL) {
		notify_free(n);
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
		notify_free(n);
		imap_store_error(is, r, error);
		return;
	}
	for (size_t i = 0; i < nmb; i++)
		box_add(n, &mbs[i]);
	imap_notify_end(is);
	is->notify = n;
	if (status) {
		/* RFC 5465 §3.1: the current STATUS of every watched mailbox */
		for (size_t i = 0; i < nmb; i++) {
			const struct nf_group *g = match(n, mbs[i].name, mbs[i].subscribed);
			if (g != NULL && (g->events & NE_MESSAGE) && !selected_id(is, mbs[i].id))
				put_status(is, &mbs[i], NE_NEW);
		}
	}
	imap_tagged(is, "OK", "NOTIFY completed");
}
