/* conn_session.c: the session core (see conn.h): holds that keep a connection and its
 * session alive while asynchronous work is out, the continuations that let a command
 * take over the input, and the per-session limits (limits.commands_per_session,
 * limits.errors_per_session) that every protocol shares.
 *
 * A hold pauses input and delays CONN_SHUTDOWN; the last release on an open conn
 * delivers CONN_RELEASED (the session ends its command), then the delayed
 * CONN_SHUTDOWN, then resumes input. A conn that closes while held keeps its struct
 * (conn_finish counts it in its server's held_closed) until the last release, which
 * runs the handler's free callback. conn_release() itself lives in conn.c, next to
 * conn_finish() and conn_destroy() that it pairs with, so that this file only sits
 * above conn.c (no file cycle). Loop thread only. */
#include "conn_int.h"

#include "log.h"

#include <assert.h>
#include <limits.h>

void conn_hold(struct conn *c)
{
	assert(c->holds < UINT_MAX);
	c->holds++;
}

unsigned conn_holds(const struct conn *c)
{
	return c->holds;
}

bool conn_is_closed(const struct conn *c)
{
	return c->closed;
}

bool conn_is_stopping(const struct conn *c)
{
	return c->stopping;
}

void conn_continue(struct conn *c, const struct conn_continuation *k, void *arg)
{
	assert(k != NULL);
	c->cont = k;
	c->cont_arg = arg;
}

void conn_continue_end(struct conn *c)
{
	c->cont = NULL;
	c->cont_arg = NULL;
}

bool conn_may_read(const struct conn *c, const struct conn_continuation *k)
{
	return !c->closing && c->holds == 0 && c->cont == k;
}

int conn_command(struct conn *c)
{
	if (++c->commands > c->commands_max) {
		conn_log(c, LOG_WARN, "event=too_many_commands limit=%zu", c->commands_max);
		return -1;
	}
	return 1;
}

int conn_client_error(struct conn *c)
{
	if (++c->errors >= c->errors_max && !c->closing) {
		conn_log(c, LOG_WARN, "event=too_many_errors");
		return -1;
	}
	return 1;
}
