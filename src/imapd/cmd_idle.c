/* cmd_idle.c: RFC 2177 IDLE (RFC 9051 §6.3.13).
 *   idle = "IDLE" CRLF "DONE"
 * After "+ idling", changes to the selected mailbox go out as they happen (the store
 * event handler in session.c syncs the view at once); "* OK Still here" every two
 * minutes keeps NATs open. "DONE" ends it with the tagged OK; commands the client
 * pipelined right after DONE (iOS 18 Mail does) are simply read next. Anything else
 * than DONE ends IDLE with BAD. Until then IDLE owns the input (a continuation,
 * lib/conn). */
#include "session.h"

#include <stdlib.h>

static void idle_input(void *arg);
static const struct conn_continuation idle_k = { .data = idle_input };

static void idle_input(void *arg)
{
	struct imap_session *is = arg;
	struct bytes line;
	if (imap_continuation_line(is, &idle_k, &line) <= 0)
		return;
	conn_continue_end(is->c);
	is->mode = IMAP_MODE_COMMAND;
	imap_idle_stop(is);
	is->tag = arena_strdup(is->cmd_arena, is->idle_tag);
	free(is->idle_tag);
	is->idle_tag = NULL;
	if (bytes_ieq(bytes_trim(line), "DONE")) {
		imap_tagged(is, "OK", "IDLE terminated");
	} else {
		imap_tagged(is, "BAD", "Expected DONE");
		imap_client_error(is);
	}
	imap_reader_reset(&is->rd);
	arena_clear(is->cmd_arena);
	is->tag = NULL;
}

void imap_cmd_idle(struct imap_session *is, struct imap_cmd *cmd)
{
	if (imap_cur_eol(&cmd->args) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	/* pending updates first, then the continuation */
	if (is->selected)
		imap_view_sync(is, true);
	conn_puts(is->c, "+ idling\r\n");
	free(is->idle_tag);
	is->idle_tag = xstrdup(is->tag);
	imap_reader_reset(&is->rd);
	arena_clear(is->cmd_arena);
	is->tag = NULL;
	imap_idle_start(is);
	conn_continue(is->c, &idle_k, is);
}
