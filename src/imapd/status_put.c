/* status_put.c: the STATUS items (their parse) and the untagged STATUS response (RFC
 * 9051 §7.2.4), for STATUS (cmd_status.c), LIST ... RETURN (STATUS) (cmd_list.c, RFC
 * 5819) and NOTIFY's mailbox events (notify.c, RFC 5465). It calls nothing but
 * reply.c. */
#include "session.h"

void imap_status_write(struct imap_session *is, const struct store_mailbox *mb, unsigned st)
{
	struct buf b = { 0 };
	buf_puts(&b, "* STATUS ");
	imap_put_mailbox_name(is, &b, mb->name);
	buf_puts(&b, " (");
	const char *sp = "";
	if (st & ST_MESSAGES) {
		buf_printf(&b, "%sMESSAGES %u", sp, mb->messages);
		sp = " ";
	}
	if (st & ST_UIDNEXT) {
		buf_printf(&b, "%sUIDNEXT %u", sp, mb->uidnext);
		sp = " ";
	}
	if (st & ST_UIDVALIDITY) {
		buf_printf(&b, "%sUIDVALIDITY %u", sp, mb->uidvalidity);
		sp = " ";
	}
	if (st & ST_UNSEEN) {
		buf_printf(&b, "%sUNSEEN %u", sp, mb->unseen);
		sp = " ";
	}
	if (st & ST_DELETED) {
		buf_printf(&b, "%sDELETED %u", sp, mb->deleted);
		sp = " ";
	}
	if (st & ST_SIZE) {
		buf_printf(&b, "%sSIZE %llu", sp, (unsigned long long)mb->size);
		sp = " ";
	}
	if (st & ST_RECENT) {
		buf_printf(&b, "%sRECENT %u", sp, mb->recent);
		sp = " ";
	}
	if (st & ST_APPENDLIMIT) {
		buf_printf(&b, "%sAPPENDLIMIT %llu", sp, (unsigned long long)is->s->message_max);
		sp = " ";
	}
	if (st & ST_HIGHESTMODSEQ) {
		buf_printf(&b, "%sHIGHESTMODSEQ %llu", sp, (unsigned long long)mb->highestmodseq);
		sp = " ";
	}
	if (st & ST_MAILBOXID) {
		char id[24];
		store_id_mailbox(mb->id, id);
		buf_printf(&b, "%sMAILBOXID (%s)", sp, id);
		sp = " ";
	}
	buf_puts(&b, ")\r\n");
	imap_write(is, b.data, b.len);
	buf_free(&b);
}

static const struct {
	const char *name;
	unsigned bit;
} items[] = {
	{ "MESSAGES", ST_MESSAGES }, { "UIDNEXT", ST_UIDNEXT }, { "UIDVALIDITY", ST_UIDVALIDITY },
	{ "UNSEEN", ST_UNSEEN },     { "DELETED", ST_DELETED }, { "SIZE", ST_SIZE },
	{ "RECENT", ST_RECENT },     { "APPENDLIMIT", ST_APPENDLIMIT },
	{ "HIGHESTMODSEQ", ST_HIGHESTMODSEQ }, { "MAILBOXID", ST_MAILBOXID },
};

int imap_status_items(struct imap_cur *c, unsigned *items_r)
{
	*items_r = 0;
	if (!imap_cur_skip(c, '(')) {
		c->error = "Expected ( before the status items";
		return -1;
	}
	for (;;) {
		struct bytes a;
		if (imap_cur_atom(c, &a) < 0)
			return -1;
		size_t i;
		for (i = 0; i < sizeof(items) / sizeof(items[0]); i++)
			if (bytes_ieq(a, items[i].name))
				break;
		if (i == sizeof(items) / sizeof(items[0])) {
			c->error = "Unknown status item";
			return -1;
		}
		*items_r |= items[i].bit;
		if (imap_cur_skip(c, ')'))
			return 1;
		if (imap_cur_sp(c) < 0)
			return -1;
	}
}
