/* request.c: how a request ends and a session goes: the reset between two requests
 * on one connection (arena, message memory, timeouts), at once or, after an
 * asynchronous step that held the conn, at CONN_RELEASED (session.c); and the free
 * callback that lib/conn runs once the conn is gone and no step holds it. Handlers
 * call down into this file; it calls no handler. */
#include "webd_int.h"

#include <stdlib.h>
#include <string.h>

void web_request_end(struct web_session *ws)
{
	if (ws->mode == WS_STREAM)
		return;
	ws->mode = WS_HEAD;
	ws->req_started = 0;
	ws->body_left = 0;
	buf_free(&ws->req.body);
	conn_mem_release(ws->c);
	conn_set_timeout(ws->c, ws->s->timeout_http);
	memset(&ws->req, 0, sizeof(ws->req));
	memset(&ws->route, 0, sizeof(ws->route));
	arena_clear(ws->arena);
	ws->next = NULL;
	memset(&ws->user, 0, sizeof(ws->user));
}

void web_session_free(void *session)
{
	struct web_session *ws = session;
	buf_free(&ws->req.body);
	arena_free(&ws->arena);
	free(ws);
}
