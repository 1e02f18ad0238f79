/* events.c: what happens to an IMAP session besides its commands' own work, shared
 * by the commands and the session (asynchronous steps on the worker pool are async.c):
 * the lines of a continuation, the login
 * (state, autologout timer, the subscription to the account's store events), the
 * store events themselves (they mark the view dirty; during IDLE, RFC 2177, or with
 * NOTIFY for the selected mailbox, RFC 5465, the changes go out at once), the loop's
 * IDLE list with its "* OK Still here", and the end of all of it when the connection
 * closes (imap_session_detach). It calls no command's handler and nothing in
 * session.c. */
#include "metrics.h"
#include "session.h"

#include "log.h"

#include <stdlib.h>
#include <time.h>

#define IDLE_NOTIFY_S 120 /* "* OK Still here" during IDLE, as Dovecot does */
#define IDLE_TICK_MS (15 * 1000)

int imap_continuation_line(struct imap_session *is, const struct conn_continuation *k, struct bytes *line_r)
{
	if (!conn_may_read(is->c, k))
		return 0;
	int r = conn_read_line(is->c, is->s->line_max, line_r);
	if (r < 0) {
		conn_puts(is->c, "* BYE [LIMIT] Line too long\r\n");
		conn_close(is->c);
	}
	return r;
}

static void on_store_event(void *arg, const struct store_event *ev)
{
	struct imap_session *is = arg;
	if (conn_is_closed(is->c))
		return;
	if (is->notify != NULL)
		imap_notify_event(is, ev); /* RFC 5465: the other mailboxes */
	if (!is->selected || (ev->mailbox_id != is->view.mailbox_id && ev->kind != STORE_EV_RESYNC))
		return;
	is->view.dirty = true;
	bool delayed = false;
	if (is->mode == IMAP_MODE_IDLE && conn_holds(is->c) == 0) {
		imap_view_sync(is, true);
		arena_clear(is->cmd_arena);
	} else if (imap_notify_selected(is, &delayed) && imap_notify_may_write(is) && is->state == IMAP_SELECTED) {
		/* NOTIFY (selected ...): at once, also between commands */
		imap_view_sync(is, !delayed);
		arena_clear(is->cmd_arena);
	}
}

void imap_logged_in(struct imap_session *is, int64_t account_id, const char *address)
{
	is->user = arena_strdup(is->arena, address);
	is->account_id = account_id;
	is->state = IMAP_AUTHENTICATED;
	conn_set_timeout(is->c, is->s->timeout_imap);
	/* a command line without literals may now be as long as a whole command (a 31 KB
	 * ID, RFC 2971; issue 16); before login it stays at limits.line_length */
	if (is->s->imap_command_max > is->rd.line_max)
		is->rd.line_max = is->s->imap_command_max;
	is->sub = store_subscribe(is->env->store, account_id, 0, conn_loop(is->c), on_store_event, is);
	conn_log(is->c, LOG_INFO, "event=login user=%s", address);
}

static int64_t mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* Every IDLE_TICK_MS while the loop has IDLE sessions: "still here" to those that
 * heard nothing for IDLE_NOTIFY_S. */
static void idle_tick(void *arg)
{
	struct imapd_idlers *il = arg;
	il->armed = false;
	if (il->head == NULL)
		return;
	int64_t now = mono_seconds();
	for (struct imap_session *is = il->head; is != NULL; is = is->idle_next) {
		if (now - is->idle_notified >= IDLE_NOTIFY_S) {
			conn_puts(is->c, "* OK Still here\r\n");
			is->idle_notified = now;
		}
	}
	il->armed = true;
	loop_post_after(il->loop, IDLE_TICK_MS, idle_tick, il);
}

void imap_idle_start(struct imap_session *is)
{
	is->mode = IMAP_MODE_IDLE;
	if (is->env == NULL || is->env->users == NULL || is->idlers != NULL)
		return;
	struct imapd_idlers *il = imapd_idlers_for(is->env->users, conn_loop(is->c));
	is->idlers = il;
	metrics_gauge_add(M_IMAP_IDLE, 1);
	is->idle_notified = mono_seconds();
	is->idle_prev = NULL;
	is->idle_next = il->head;
	if (il->head != NULL)
		il->head->idle_prev = is;
	il->head = is;
	if (!il->armed) {
		il->armed = true;
		loop_post_after(il->loop, IDLE_TICK_MS, idle_tick, il);
	}
}

void imap_idle_stop(struct imap_session *is)
{
	struct imapd_idlers *il = is->idlers;
	if (il == NULL)
		return;
	if (is->idle_prev != NULL)
		is->idle_prev->idle_next = is->idle_next;
	else
		il->head = is->idle_next;
	if (is->idle_next != NULL)
		is->idle_next->idle_prev = is->idle_prev;
	is->idlers = NULL;
	is->idle_prev = is->idle_next = NULL;
	metrics_gauge_add(M_IMAP_IDLE, -1);
}

void imap_session_detach(struct imap_session *is)
{
	if (is->sub != NULL)
		store_unsubscribe(&is->sub);
	if (is->user_counted)
		imapd_users_release(is->env->users, is->user, conn_peer_ip(is->c));
	is->user_counted = false;
	imap_idle_stop(is);
}

void imap_session_state_free(struct imap_session *is)
{
	imap_view_close(is);
	imap_notify_end(is);
}
