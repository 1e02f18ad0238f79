/* request.c: how a request ends and a session goes: the asynchronous steps of a
 * handler (web_busy_begin pauses the conn; the last web_busy_end ends the request,
 * resumes reading, or frees a session whose conn closed meanwhile: the `dead` flag,
 * as in smtpd), and the reset between two requests on one connection (arena,
 * message memory, timeouts). Handlers call down into this file; it calls no handler. */
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
	if (ws->c != NULL) {
		conn_mem_release(ws->c);
		conn_set_timeout(ws->c, ws->s->timeout_http);
	}
	memset(&ws->req, 0, sizeof(ws->req));
	memset(&ws->route, 0, sizeof(ws->route));
	arena_clear(ws->arena);
	ws->next = NULL;
	memset(&ws->user, 0, sizeof(ws->user));
}

void web_session_free(struct web_session *ws)
{
	buf_free(&ws->req.body);
	arena_free(&ws->arena);
	free(ws);
}

void web_busy_begin(struct web_session *ws)
{
	ws->pending++;
	conn_pause(ws->c);
}

bool web_busy_end(struct web_session *ws)
{
	ws->pending--;
	if (ws->dead) {
		if (ws->pending == 0)
			web_session_free(ws);
		return false;
	}
	if (ws->pending == 0 && ws->mode != WS_STREAM) {
		if (ws->mode == WS_READY || ws->mode == WS_AUTH)
			web_request_end(ws); /* answered, or refused by authentication */
		if (ws->stopping && !conn_is_closing(ws->c))
			conn_close(ws->c);
		conn_resume(ws->c);
	}
	return true;
}
