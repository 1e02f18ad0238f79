/* tagged.c: the tagged completion of a command with the pending untagged updates
 * before it (RFC 9051 §7.1, §7.5.1: the view's sync, then NOTIFY's queued STATUS and
 * LIST lines), and the completions built on it (BAD with the client-error count,
 * store errors as response codes, RFC 5530). Above reply.c, view_sync.c and notify.c,
 * below every command: the plain output helpers in reply.c never call up into the
 * view. */
#include "session.h"

#include "log.h"

#include <stdarg.h>

void imap_tagged(struct imap_session *is, const char *status, const char *fmt, ...)
{
	if (conn_is_closed(is->c))
		return;
	if (is->selected && is->state == IMAP_SELECTED)
		imap_view_sync(is, !(is->cmd_flags & IMAP_CMD_NO_EXPUNGE) || is->cmd_uid);
	if (is->notify != NULL)
		imap_notify_flush(is);
	va_list ap;
	va_start(ap, fmt);
	char *text = arena_vprintf(is->cmd_arena, fmt, ap);
	va_end(ap);
	conn_printf(is->c, "%s %s %s\r\n", is->tag ? is->tag : "*", status, text);
}

void imap_bad_args(struct imap_session *is, struct imap_cmd *cmd)
{
	imap_tagged(is, "BAD", "%s", cmd->args.error ? cmd->args.error : "Invalid arguments");
	imap_client_error(is);
}

void imap_store_error(struct imap_session *is, int r, const char *error)
{
	switch (r) {
	case STORE_ENOTFOUND:
		imap_tagged(is, "NO", "[NONEXISTENT] %s", error ? error : "No such mailbox");
		break;
	case STORE_EEXISTS:
		imap_tagged(is, "NO", "[ALREADYEXISTS] %s", error ? error : "Mailbox already exists");
		break;
	case STORE_EOVERQUOTA:
		conn_log(is->c, LOG_WARN, "event=quota_rejected user=%s", is->user ? is->user : "-");
		imap_tagged(is, "NO", "[OVERQUOTA] Quota exceeded");
		break;
	case STORE_EINVAL:
		imap_tagged(is, "NO", "[CANNOT] %s", error ? error : "Invalid argument");
		break;
	case STORE_ENOTALLOWED:
		imap_tagged(is, "NO", "[CANNOT] %s", error ? error : "Not allowed");
		break;
	case STORE_ETOOBIG:
		imap_tagged(is, "NO", "[TOOBIG] Message too big");
		break;
	case STORE_ELIMIT:
		imap_tagged(is, "NO", "[LIMIT] %s", error ? error : "Limit reached");
		break;
	case STORE_ENOSPACE: /* the server's disk, not the user's quota: see docs/operations.md */
		imap_tagged(is, "NO", "[OVERQUOTA] The server's disk is full, try again later");
		break;
	case STORE_EUNAVAIL: /* the database (PostgreSQL) is away for now: RFC 5530 */
		imap_tagged(is, "NO", "[UNAVAILABLE] %s", error ? error : "Database unavailable, try again later");
		break;
	default:
		conn_log(is->c, LOG_ERROR, "event=store_error error=\"%s\"", error ? error : "");
		imap_tagged(is, "NO", "[SERVERBUG] Internal error, try again later");
		break;
	}
}
