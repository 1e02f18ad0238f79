/* spam_rspamd.h: a client of rspamd's HTTP API (`POST /checkv2`) for port-25 mail
 * (`spam.rspamd = URL`).
 *
 * The pure half: the URL, the request head with the fields rspamd reads (IP, Helo,
 * From, one Rcpt per recipient, Queue-Id, MTA-Name), and the response (HTTP/1.x
 * status, Content-Length or the end of the stream, then a JSON object of which
 * "action" and "score" are read), parsed as untrusted input and fuzzed. The
 * blocking half (spam_rspamd_check) sends one request over a new TCP connection
 * with one deadline for everything; it runs in the pipeline's hook on a message
 * pool thread, where waiting is allowed and never stalls an event loop. */
#ifndef POSTAMT_SPAM_RSPAMD_H
#define POSTAMT_SPAM_RSPAMD_H

#include "arena.h"
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

/* rspamd's actions, in its own words. */
enum spam_rspamd_action {
	SPAM_RSPAMD_NO_ACTION = 0,   /* "no action" */
	SPAM_RSPAMD_GREYLIST,        /* "greylist" */
	SPAM_RSPAMD_ADD_HEADER,      /* "add header" */
	SPAM_RSPAMD_REWRITE_SUBJECT, /* "rewrite subject" */
	SPAM_RSPAMD_SOFT_REJECT,     /* "soft reject" */
	SPAM_RSPAMD_REJECT,          /* "reject" */
};

/* The name rspamd uses for an action ("soft reject"). */
const char *spam_rspamd_action_name(enum spam_rspamd_action a);

/* What postamt does with an action: 0 deliver to INBOX, 1 deliver to Junk, 2 refuse
 * for now (451 4.7.1), 3 refuse (550 5.7.1). */
enum spam_rspamd_verdict {
	SPAM_RSPAMD_INBOX = 0,
	SPAM_RSPAMD_JUNK,
	SPAM_RSPAMD_TEMP,
	SPAM_RSPAMD_REFUSE,
};
enum spam_rspamd_verdict spam_rspamd_verdict(enum spam_rspamd_action a);

/* Where rspamd listens. */
struct spam_rspamd_url {
	char host[256]; /* a name or an address (IPv6 without brackets) */
	char port[8];
};

/* Parses "http://HOST:PORT" (HOST a name, an IPv4 address or [IPv6]; an optional
 * "/" at the end; the port defaults to 11333). Returns 1, or -1 with *error_r
 * (static). https and paths are refused. */
int spam_rspamd_url_parse(const char *url, struct spam_rspamd_url *u_r, const char **error_r);

/* The envelope of one message, as rspamd's request header fields. */
struct spam_rspamd_req {
	const char *ip;   /* the client's address */
	const char *helo; /* its EHLO name, may be NULL */
	const char *from; /* the envelope sender, "" for the null sender */
	const char *const *rcpts;
	size_t nrcpts;
	const char *queue_id; /* may be NULL */
	const char *mta_name; /* our host name, may be NULL */
	const char *user;     /* the authenticated user, NULL for none */
};

/* Appends the request head (`POST /checkv2 HTTP/1.1`, Host, Connection: close,
 * Content-Length: body_len, the fields of r, the empty line) to out. Values
 * with bytes below 0x20 or 0x7f lose those bytes (a field never spans lines). */
void spam_rspamd_request(struct buf *out, const struct spam_rspamd_url *u, const struct spam_rspamd_req *r,
			 size_t body_len);

/* rspamd's answer. */
struct spam_rspamd_result {
	enum spam_rspamd_action action;
	double score;
	double required; /* "required_score", 0 when absent */
};

/* Parses a response: data[0..len) is what arrived so far; eof says the peer closed
 * (a body without Content-Length then ends there). At most max bytes are accepted
 * (head and body). Returns 1 with *result_r, 0 when more is needed, -1 with
 * *error_r (static) for anything else: a status other than 200, a malformed head,
 * chunked or compressed bodies (never asked for), over max, JSON that is not an
 * object with a known "action" and a numeric "score". Pure. */
int spam_rspamd_response(const char *data, size_t len, bool eof, size_t max, struct spam_rspamd_result *result_r,
			 const char **error_r);

/* Sends the request (head from r, then the body parts in order) to u and reads the
 * answer, blocking for at most timeout_ms in total (connect, send, receive); at
 * most response_max bytes are read. Returns 1 with *result_r, or -1 with *error_r
 * (in a) on any failure: unreachable, timeout, a bad answer. Thread-safe. */
int spam_rspamd_check(const struct spam_rspamd_url *u, unsigned timeout_ms, size_t response_max,
		      const struct spam_rspamd_req *r, const struct bytes *body, size_t nbody, struct arena *a,
		      struct spam_rspamd_result *result_r, const char **error_r);

#endif
