/* smtp_args.h: pure parsing of MAIL FROM and RCPT TO arguments (RFC 5321 §4.1.2,
 * §4.1.1.2-3) with the ESMTP parameters postamt implements: SIZE (RFC 1870), BODY
 * (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531), RET and ENVID, NOTIFY and ORCPT
 * (RFC 3461), AUTH (RFC 4954 §5).
 *
 * Results are views into the argument, except the mailbox, which is written in
 * canonical form into the caller's buffer: quotes removed where they are not needed,
 * source routes dropped (RFC 5321 §4.1.2 lets a server ignore them; the final mailbox
 * alone decides where mail goes), the domain in lower case. */
#ifndef POSTAMT_SMTP_ARGS_H
#define POSTAMT_SMTP_ARGS_H

#include "buf.h"

#include <stdbool.h>
#include <stdint.h>

#define SMTP_LOCAL_MAX 64   /* RFC 5321 §4.5.3.1.1 */
#define SMTP_DOMAIN_MAX 255 /* §4.5.3.1.2 */
#define SMTP_PATH_MAX 256   /* §4.5.3.1.3 */
#define SMTP_MAILBOX_MAX (SMTP_LOCAL_MAX + 1 + SMTP_DOMAIN_MAX + 2)

enum smtp_body { SMTP_BODY_7BIT, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };
enum smtp_ret { SMTP_RET_NONE, SMTP_RET_FULL, SMTP_RET_HDRS };
enum { SMTP_NOTIFY_NEVER = 1, SMTP_NOTIFY_SUCCESS = 2, SMTP_NOTIFY_FAILURE = 4, SMTP_NOTIFY_DELAY = 8 };

/* A mailbox split in its two parts; local and domain point into mailbox. */
struct smtp_mailbox {
	char mailbox[SMTP_MAILBOX_MAX + 1]; /* "local@domain", "" for the null path */
	struct bytes local, domain;
	bool domain_literal; /* [192.0.2.1] or [IPv6:...] */
	bool utf8;           /* non-ASCII in local part or domain */
};

struct smtp_mail_args {
	struct smtp_mailbox from;
	bool null_path; /* MAIL FROM:<> */
	bool has_size;
	uint64_t size;
	enum smtp_body body;
	bool smtputf8;
	enum smtp_ret ret;
	struct bytes envid; /* xtext as sent; empty when absent */
	struct bytes auth;  /* AUTH=... as sent; empty when absent */
};

struct smtp_rcpt_args {
	struct smtp_mailbox to;
	bool postmaster;   /* RCPT TO:<Postmaster> without a domain (§4.1.1.3) */
	unsigned notify;   /* SMTP_NOTIFY_* bits, 0 when absent */
	struct bytes orcpt; /* "rfc822;xtext" as sent; empty when absent */
};

/* An error with its reply code and enhanced status (RFC 3463). */
struct smtp_error {
	int code;
	const char *enh;
	const char *text;
};

/* Parses the argument of MAIL ("FROM:<path> params"). utf8_ok: SMTPUTF8 is offered.
 * Returns 1, or -1 with *err_r. */
int smtp_parse_mail(struct bytes arg, bool utf8_ok, struct smtp_mail_args *r, struct smtp_error *err_r);
/* Parses the argument of RCPT ("TO:<path> params"). utf8: the transaction declared
 * SMTPUTF8. Returns 1, or -1 with *err_r. */
int smtp_parse_rcpt(struct bytes arg, bool utf8, struct smtp_rcpt_args *r, struct smtp_error *err_r);
/* Parses a bare mailbox "local@domain" (no angle brackets) into canonical form, e.g.
 * an AUTH identity or a configured address. Returns 1, or -1. */
int smtp_parse_mailbox(struct bytes in, bool utf8, struct smtp_mailbox *r);
/* RFC 3461 §4: xtext is printable ASCII but "+" and "=", with "+HH" escapes. */
bool smtp_xtext_valid(struct bytes x);

#endif
