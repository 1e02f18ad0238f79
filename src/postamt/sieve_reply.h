/* sieve_reply.h: the pure parts of executing Sieve actions at delivery (the hook is
 * sieve_hook.c): whether an automatic reply may go out at all (RFC 3834 §2, RFC 5230
 * §4.5 and §4.6), the vacation reply and the rejection notice (RFC 5429 §2.1, an
 * MDN) as messages, the Sieve fragment generated from the JMAP VacationResponse
 * settings, the redirect loop header, SRS for redirects of outside senders, and the
 * junk filter's score as spamtest's percent. Bytes in, bytes out: no store, no
 * socket, no clock (the caller passes the time). */
#ifndef POSTAMT_SIEVE_REPLY_H
#define POSTAMT_SIEVE_REPLY_H

#include "arena.h"
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The header field a redirected copy gets (one per hop, the redirecting account's
 * address as its value): a message that already carries one naming the same account
 * is not redirected again, nor one that carries SIEVE_REPLY_MAX_HOPS of them. */
#define SIEVE_REPLY_LOOP_HEADER "X-Postamt-Sieve-Redirect"
#define SIEVE_REPLY_MAX_HOPS 8

/* Whether an automatic reply (vacation, a rejection notice) may go to `sender` for
 * the message whose header block is hdr: not to the null sender, MAILER-DAEMON,
 * owner-*, *-request (RFC 5230 §4.6), nor for a message with Auto-Submitted other
 * than "no", Precedence bulk/list/junk, or any List-* field (RFC 3834 §2). Returns
 * true, or false with *why_r (a static word for the log). */
bool sieve_reply_allowed(const char *sender, const char *hdr, size_t len, const char **why_r);

/* Whether one of the addresses (case-insensitive) is in the message's To, Cc, Bcc,
 * Resent-To or Resent-Cc fields (RFC 5230 §4.5: reply only to mail sent to the
 * user). */
bool sieve_reply_addressed(struct arena *a, const char *msg, size_t len, const char *const *addrs, size_t n);

/* The vacation reply (RFC 5230 §5). */
struct sieve_vacation_reply {
	const char *from;     /* the user's address (or :from, as given) */
	const char *to;       /* the envelope sender of the original */
	const char *subject;  /* :subject, or NULL: "Auto: " + the original's subject */
	const char *body;     /* the reason */
	bool mime;            /* body is a MIME entity (header fields, blank line, body) */
	const char *hostname; /* for the Message-ID */
	int64_t now;
};
/* Appends the whole reply to out (header: Date, From, To, Subject, Message-ID,
 * In-Reply-To and References from the original, Auto-Submitted: auto-replied,
 * MIME-Version, the body as UTF-8 text/plain unless mime). orig is the original
 * message (its header is read). */
void sieve_reply_vacation(struct buf *out, struct arena *a, const struct sieve_vacation_reply *r, const char *orig,
			  size_t orig_len);

/* Appends a rejection notice (RFC 5429 §2.1: a multipart/report MDN with
 * disposition "automatic-action/MDN-sent-automatically; deleted", the reason as its
 * human-readable part and the original's header) from `from` (the recipient) to
 * `to` (the envelope sender). */
void sieve_reply_reject(struct buf *out, struct arena *a, const char *from, const char *to, const char *reason,
			const char *hostname, int64_t now, const char *orig, size_t orig_len);

/* The Sieve script for the JMAP VacationResponse settings: a vacation action with
 * the subject (when set) and the text body, or a multipart/alternative :mime body
 * when there is an HTML body, answering each sender once per `seconds`. */
void sieve_reply_vacation_script(struct buf *out, const char *subject, const char *text_body, const char *html_body,
				 uint64_t seconds);

/* SRS (the Sender Rewriting Scheme, SRS0 form): sender rewritten into an address
 * of `domain`, "SRS0=HHHH=TT=sender-domain=sender-local@domain", HHHH the first
 * four base64 characters of HMAC-SHA256(secret, TT sender-domain sender-local) in
 * lower case, TT the day number (now / 86400) mod 1024 in base 32. Returns 1 with
 * *out_r (arena), or 0 when the sender has no "@" (left as it is). */
int sieve_reply_srs(struct arena *a, const void *secret, size_t secret_len, const char *sender, const char *domain,
		    int64_t now, const char **out_r);

/* The reverse of sieve_reply_srs for a bounce coming back: when address is an SRS0
 * address whose hash matches (case-insensitive) and whose day stamp is at most
 * SIEVE_REPLY_SRS_MAX_AGE days old at now, returns 1 with the original sender in
 * *orig_r (arena); 0 when it is not one (or forged, or expired). */
#define SIEVE_REPLY_SRS_MAX_AGE 21
int sieve_reply_srs_reverse(struct arena *a, const void *secret, size_t secret_len, const char *address, int64_t now,
			    const char **orig_r);

/* The number of SIEVE_REPLY_LOOP_HEADER fields in hdr, and whether one of them
 * names address (case-insensitive) in *seen_r. */
size_t sieve_reply_hops(const char *hdr, size_t len, const char *address, bool *seen_r);

/* spamtest's percent from the junk filter's field (`name`, e.g. "X-Postamt-Junk",
 * "spam; score=0.987; tokens=40") in the header fields hdr: round(score * 100) in
 * 0..100, or -1 when there is no such field or no score. */
int sieve_reply_spam_percent(const char *hdr, size_t len, const char *name);

#endif
