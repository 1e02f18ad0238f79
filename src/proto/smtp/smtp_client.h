/* smtp_client.h: pure codecs for the client side of SMTP (RFC 5321 §4.2, §4.5.2).
 *
 * The outbound queue talks to other servers; these functions hold the parts of that
 * conversation that need no socket: an incremental parser for (multi-line) replies
 * that can be fed any number of bytes at a time, the reading of an EHLO reply into
 * the extensions postamt uses, the AUTH PLAIN response for a smarthost login, and
 * the dot-stuffing of a message for DATA. */
#ifndef POSTAMT_SMTP_CLIENT_H
#define POSTAMT_SMTP_CLIENT_H

#include "buf.h"

#include <stdbool.h>
#include <stdint.h>

#define SMTP_REPLY_LINE_MAX 2048 /* RFC 5321 §4.5.3.1.5 says 512; be lenient */
#define SMTP_REPLY_LINES_MAX 100

/* One complete reply. text holds the text of every line (after "NNN-" / "NNN "),
 * joined with "\n". enh is the enhanced status code (RFC 3463) of the first line,
 * "" when the server sent none; it is not removed from text. */
struct smtp_reply {
	int code;
	char enh[16];
	struct buf text;
	unsigned nlines;
};

struct smtp_reply_parser {
	struct buf line;         /* the line being read */
	struct smtp_reply reply; /* the reply being assembled / just completed */
	bool complete;           /* reply holds a finished reply */
};

void smtp_reply_init(struct smtp_reply_parser *p);
void smtp_reply_free(struct smtp_reply_parser *p);
/* Feeds bytes. Returns 1 when a reply is complete (p->reply; valid until the next
 * feed) with *used_r the bytes consumed (input after the reply is left alone), 0 when
 * all of in was consumed and more is needed, -1 with *error_r on a malformed reply
 * (no 3-digit code, codes differing between lines, a line or a reply too long). CRLF
 * and bare LF both end a line. */
int smtp_reply_feed(struct smtp_reply_parser *p, struct bytes in, size_t *used_r, const char **error_r);

/* The extensions of an EHLO reply (RFC 5321 §4.1.1.1) that postamt's client uses. */
struct smtp_ehlo {
	bool starttls, pipelining, eightbitmime, dsn, smtputf8, enhancedstatuscodes, chunking;
	bool has_size;
	uint64_t size; /* SIZE n; 0: no limit announced */
	bool auth_plain; /* AUTH (RFC 4954 §3) lists PLAIN; the old "AUTH=" form counts too */
};
/* Reads the text of a 250 EHLO reply (first line: the server's name, then one
 * keyword with parameters per line). Unknown keywords are ignored. */
void smtp_ehlo_parse(const char *text, struct smtp_ehlo *r);

/* Appends the initial response of AUTH PLAIN (RFC 4616 §2, RFC 4954 §4): base64 of
 * an empty authzid, NUL, user, NUL, password; no CRLF. Returns 1, or -1 when user
 * or password is empty or holds a NUL (which PLAIN cannot carry). */
int smtp_auth_plain(const char *user, const char *password, struct buf *out);

/* Appends msg to out dot-stuffed (a "." starting a line is doubled), with every line
 * ending (CRLF, a bare CR, a bare LF) written as CRLF, ends it with CRLF when it does
 * not end so, and appends the terminating ".\r\n". Whatever msg holds, the only
 * CRLF "." CRLF in the output is the terminator (no SMTP smuggling through us). */
void smtp_dot_stuff(struct bytes msg, struct buf *out);

/* Enhanced status code at the start of text ("5.1.1 ..."): copies it into enh (size
 * >= 16) and returns 1, or returns 0 when text does not start with one. */
int smtp_enhanced_code(const char *text, size_t len, char enh[16]);

#endif
