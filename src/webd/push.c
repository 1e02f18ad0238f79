/* push.c: JMAP push over EventSource (RFC 8620 §7.3).
 *
 * GET /jmap/eventsource?types=...&closeafter=state|no&ping=N answers 200
 * text/event-stream and keeps the connection: the session subscribes to the store's
 * change events of the account on the connection's own loop, and every event (an
 * SMTP delivery, an IMAP STORE or EXPUNGE, a JMAP change) is written at once as
 * `event: state` with a StateChange object whose states are the MODSEQ the change
 * got, once per MODSEQ: the events one operation makes in several mailboxes (a
 * move, a bulk Email/set) share it, and a state already sent is not repeated.
 * Nothing is buffered beyond the conn's output. A ticker per loop (one for all
 * streams of the loop, like IMAP IDLE's) writes `event: ping` every N seconds. */
#include "webd_int.h"

#include "http_util.h"
#include "log.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUSH_TICK_MS 1000
#define PUSH_PING_MIN 1
#define PUSH_PING_MAX 3600

enum {
	T_EMAIL = 1 << 0,
	T_MAILBOX = 1 << 1,
	T_THREAD = 1 << 2,
	T_DELIVERY = 1 << 3,
	T_ALL = 0xf,
};

struct web_push {
	struct web_session *ws;
	struct web_pushers *list;
	struct web_push *prev, *next;
	struct store_sub *sub;
	unsigned types;
	bool close_after_state;
	int ping;            /* seconds; 0: none */
	int64_t last_write;  /* monotonic ms */
	uint64_t last_modseq; /* the state last sent, and for which types */
	unsigned last_types;
};

static void send_event(struct web_push *p, const char *event, const char *data)
{
	conn_printf(p->ws->c, "event: %s\ndata: %s\n\n", event, data);
	p->last_write = web_now_ms();
}

static void send_state(struct web_push *p, uint64_t modseq, unsigned types)
{
	types &= p->types;
	if (types == 0)
		return;
	/* one commit is one StateChange: its events for other mailboxes or kinds carry
	 * the same MODSEQ and would repeat it */
	if (modseq != 0 && modseq == p->last_modseq && (types & ~p->last_types) == 0)
		return;
	if (modseq != p->last_modseq)
		p->last_types = 0;
	p->last_modseq = modseq;
	p->last_types |= types;
	char state[32];
	snprintf(state, sizeof(state), "%" PRIu64, modseq);
	json_t *changes = json_object();
	if (types & T_EMAIL)
		json_object_set_new(changes, "Email", json_string(state));
	if (types & T_MAILBOX)
		json_object_set_new(changes, "Mailbox", json_string(state));
	if (types & T_THREAD)
		json_object_set_new(changes, "Thread", json_string(state));
	if (types & T_DELIVERY)
		json_object_set_new(changes, "EmailDelivery", json_string(state));
	json_t *sc = json_pack("{sss{so}}", "@type", "StateChange", "changed", p->ws->user.account_id_str, changes);
	char *s = json_dumps(sc, JSON_COMPACT);
	json_decref(sc);
	if (s != NULL) {
		send_event(p, "state", s);
		free(s);
	}
	if (p->close_after_state)
		conn_close(p->ws->c);
}

static void on_event(void *arg, const struct store_event *ev)
{
	struct web_push *p = arg;
	if (conn_is_closing(p->ws->c))
		return;
	unsigned types = 0;
	switch (ev->kind) {
	case STORE_EV_NEW: types = T_EMAIL | T_MAILBOX | T_THREAD | T_DELIVERY; break;
	case STORE_EV_FLAGS: types = T_EMAIL | T_MAILBOX; break;
	case STORE_EV_EXPUNGE: types = T_EMAIL | T_MAILBOX | T_THREAD; break;
	case STORE_EV_MAILBOX_CREATED:
	case STORE_EV_MAILBOX_RENAMED:
	case STORE_EV_MAILBOX_DELETED:
	case STORE_EV_MAILBOX_CHANGED: types = T_MAILBOX; break;
	case STORE_EV_RESYNC: types = T_ALL; break; /* changes may have been missed */
	}
	uint64_t modseq = ev->modseq;
	if (modseq == 0) {
		struct arena *a = arena_new();
		struct store_account acct;
		const char *error;
		if (store_account_get_by_id(p->ws->env->store, a, p->ws->user.account_id, &acct, &error) > 0)
			modseq = acct.modseq;
		arena_free(&a);
	}
	conn_log(p->ws->c, LOG_DEBUG, "event=push_state modseq=%" PRIu64, modseq);
	send_state(p, modseq, types);
}

static void tick(void *arg)
{
	struct web_pushers *l = arg;
	l->armed = false;
	if (l->head == NULL)
		return;
	int64_t now = web_now_ms();
	for (struct web_push *p = l->head; p != NULL; p = p->next) {
		if (p->ping > 0 && now - p->last_write >= (int64_t)p->ping * 1000) {
			char data[48];
			snprintf(data, sizeof(data), "{\"interval\":%d}", p->ping);
			send_event(p, "ping", data);
		}
	}
	l->armed = true;
	loop_post_after(l->loop, PUSH_TICK_MS, tick, l);
}

static unsigned parse_types(const char *s)
{
	if (s[0] == '\0' || strcmp(s, "*") == 0)
		return T_ALL;
	unsigned t = 0;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *tok = strtok(buf, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (strcmp(tok, "Email") == 0)
			t |= T_EMAIL;
		else if (strcmp(tok, "Mailbox") == 0)
			t |= T_MAILBOX;
		else if (strcmp(tok, "Thread") == 0)
			t |= T_THREAD;
		else if (strcmp(tok, "EmailDelivery") == 0)
			t |= T_DELIVERY;
		else if (strcmp(tok, "*") == 0)
			t |= T_ALL;
	}
	return t;
}

void web_push_start(struct web_session *ws)
{
	char types[256] = "", closeafter[16] = "", ping[16] = "";
	if (http_query_get(ws->req.query, "types", types, sizeof(types)) < 0 ||
	    http_query_get(ws->req.query, "closeafter", closeafter, sizeof(closeafter)) < 0 ||
	    http_query_get(ws->req.query, "ping", ping, sizeof(ping)) < 0) {
		web_reply_error(ws, 400, "bad types, closeafter or ping");
		return;
	}
	char *end;
	long pv = ping[0] ? strtol(ping, &end, 10) : 0;
	if ((ping[0] && *end != '\0') || pv < 0 ||
	    (closeafter[0] && strcmp(closeafter, "state") != 0 && strcmp(closeafter, "no") != 0)) {
		web_reply_error(ws, 400, "bad closeafter or ping");
		return;
	}
	if (pv > 0 && pv < PUSH_PING_MIN)
		pv = PUSH_PING_MIN;
	if (pv > PUSH_PING_MAX)
		pv = PUSH_PING_MAX;
	struct web_push *p = xcalloc(1, sizeof(*p));
	p->ws = ws;
	p->types = parse_types(types);
	p->close_after_state = strcmp(closeafter, "state") == 0;
	p->ping = (int)pv;
	ws->push = p;
	conn_set_timeout(ws->c, 0);
	web_reply_stream_head(ws, "text/event-stream");
	/* a retry hint, and the state now so that the client can compare */
	conn_puts(ws->c, "retry: 5000\n\n");
	p->last_write = web_now_ms();
	p->list = web_pushers_for(ws->env->state, conn_loop(ws->c));
	p->next = p->list->head;
	if (p->list->head != NULL)
		p->list->head->prev = p;
	p->list->head = p;
	if (!p->list->armed) {
		p->list->armed = true;
		loop_post_after(p->list->loop, PUSH_TICK_MS, tick, p->list);
	}
	p->sub = store_subscribe(ws->env->store, ws->user.account_id, 0, conn_loop(ws->c), on_event, p);
	conn_log(ws->c, LOG_INFO, "event=push_start user=%s types=%s ping=%d", ws->user.address,
		 types[0] ? types : "*", p->ping);
	if (!p->close_after_state) {
		struct arena *a = arena_new();
		struct store_account acct;
		const char *error;
		if (store_account_get_by_id(ws->env->store, a, ws->user.account_id, &acct, &error) > 0)
			send_state(p, acct.modseq, T_ALL);
		arena_free(&a);
	}
}

void web_push_stop(struct web_session *ws)
{
	struct web_push *p = ws->push;
	if (p == NULL)
		return;
	store_unsubscribe(&p->sub);
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		p->list->head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	free(p);
	ws->push = NULL;
}
