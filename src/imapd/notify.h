/* notify.h: the RFC 5465 NOTIFY state shared by notify.c (the events, the queue, the
 * flush before a tagged reply) and cmd_notify.c (NOTIFY SET/NONE); private to the two. */
#ifndef POSTAMT_IMAPD_NOTIFY_H
#define POSTAMT_IMAPD_NOTIFY_H

#include "session.h"

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

/* Frees n and all it owns (NULL is fine). */
void imap_notify_free(struct imap_notify *n);
/* Adds mb to n's name cache; returns the entry (owned by n). */
struct nf_box *imap_notify_box_add(struct imap_notify *n, const struct store_mailbox *mb);
/* The first group of n that matches the mailbox, or NULL. */
const struct nf_group *imap_notify_match(const struct imap_notify *n, const char *name, bool subscribed);
/* Whether the mailbox with this id is the one selected. */
bool imap_notify_selected_id(const struct imap_session *is, int64_t id);
/* Writes the STATUS that the events in what (NE_* bits) call for. */
void imap_notify_put_status(struct imap_session *is, const struct store_mailbox *mb, unsigned what);

#endif
