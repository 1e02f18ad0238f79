/* reply.c: what the IMAP commands and the session share for replies: writing (nothing
 * once the connection is gone), the client-error count and its BYE
 * (limits.errors_per_session, counted by lib/conn), the capability list, and mailbox
 * names in the client's encoding (RFC 3501 §5.1.3 modified UTF-7, or UTF-8 after
 * ENABLE). The bottom of the module: it calls no other file of it (the tagged
 * completion, which first syncs the view and flushes NOTIFY's queue, is tagged.c). */
#include "session.h"

#include "log.h"
#include "sasl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void imap_write(struct imap_session *is, const char *s, size_t len)
{
	conn_write(is->c, s, len);
}

void imap_printf(struct imap_session *is, const char *fmt, ...)
{
	if (conn_is_closed(is->c))
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s = arena_vprintf(is->cmd_arena, fmt, ap);
	va_end(ap);
	conn_write(is->c, s, strlen(s));
}

void imap_client_error(struct imap_session *is)
{
	if (conn_client_error(is->c) < 0) {
		conn_puts(is->c, "* BYE Too many invalid commands\r\n");
		conn_close(is->c);
	}
}

void imap_condstore_enable(struct imap_session *is)
{
	if (is->condstore)
		return;
	is->condstore = true;
	if (is->selected)
		imap_printf(is, "* OK [HIGHESTMODSEQ %llu] Highest\r\n", (unsigned long long)is->view.modseq);
}

void imap_write_capabilities(struct imap_session *is)
{
	conn_puts(is->c, "IMAP4rev1 IMAP4rev2");
	if (is->state == IMAP_NOT_AUTHENTICATED) {
		if (!conn_is_tls(is->c))
			conn_puts(is->c, " STARTTLS");
		if (!conn_may_send_password(is->c))
			conn_puts(is->c, " LOGINDISABLED");
		else
			for (const char *m = AUTH_SASL_MECHS; *m != '\0';) { /* AUTH=SCRAM-SHA-256 AUTH=PLAIN ... */
			size_t n = strcspn(m, " ");
			conn_printf(is->c, " AUTH=%.*s", (int)n, m);
			m += n + (m[n] == ' ');
		}
	}
	conn_puts(is->c, " SASL-IR LITERAL+ LITERAL- UTF8=ACCEPT ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MULTIAPPEND MOVE REPLACE CHILDREN"
			 " SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE BINARY CATENATE"
			 " QUOTA QUOTA=RES-STORAGE CONDSTORE QRESYNC ESEARCH SEARCHRES WITHIN OBJECTID"
			 " SAVEDATE PREVIEW SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT"
			 " CONTEXT=SEARCH CONTEXT=SORT NOTIFY"
			 " THREAD=REFERENCES COMPRESS=DEFLATE");
	conn_printf(is->c, " APPENDLIMIT=%llu", (unsigned long long)is->s->message_max);
}

int imap_mailbox_arg(struct imap_session *is, const struct imap_str *in, const char **name_r, const char **error_r)
{
	if (memchr(in->s, '\0', in->len) != NULL) {
		*error_r = "Mailbox name contains NUL";
		return -1;
	}
	const char *utf8 = in->s;
	if (!is->rev2 && !is->utf8) {
		/* IMAP4rev1: modified UTF-7 (RFC 3501 §5.1.3), strictly */
		struct buf b = { 0 };
		int r = imap_utf7_decode(&b, in->s, in->len);
		if (r > 0)
			utf8 = arena_strndup(is->cmd_arena, buf_str(&b), b.len);
		buf_free(&b);
		if (r < 0) {
			*error_r = "Mailbox name is not valid modified UTF-7";
			return -1;
		}
	}
	const char *canon, *err;
	if (store_mailbox_name_check(is->cmd_arena, utf8, &canon, &err) < 0) {
		*error_r = arena_strdup(is->cmd_arena, err);
		return -1;
	}
	*name_r = canon;
	return 1;
}

void imap_put_mailbox_name(struct imap_session *is, struct buf *b, const char *utf8)
{
	if (is->rev2 || is->utf8)
		imap_put_string(b, utf8, strlen(utf8));
	else
		imap_put_mailbox(b, utf8);
}
