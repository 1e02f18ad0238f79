/* fuzz_smtp_args.c: libFuzzer target for the MAIL FROM / RCPT TO argument parser
 * (src/proto/smtp/smtp_args.h: smtp_parse_mail, smtp_parse_rcpt, smtp_parse_mailbox).
 *
 * The first byte selects the flags (utf8_ok / utf8), the rest is the argument.
 * Invariants: the result is 1 or -1; an error carries a 4xx/5xx code, an enhanced
 * status and a text; on success the canonical mailbox is NUL-terminated, within
 * SMTP_MAILBOX_MAX, has no control characters, is "local@domain" with local and domain
 * views inside it, or "" only for the null path (RCPT TO:<Postmaster> gives
 * "postmaster" without a domain); the domain has no ASCII upper case, spaces, "@" or
 * angle brackets; non-ASCII only with the utf8 flag set (and SMTPUTF8 for MAIL); the
 * parameter views lie inside the argument and ENVID is xtext; the canonical form is a
 * fixed point (smtp_parse_mailbox gives it back unchanged) and "FROM:<canonical>"
 * parses to the same mailbox. */
#include "fuzz.h"
#include "smtp_args.h"

#include <string.h>

static void check_error(const struct smtp_error *e)
{
	CHECK(e->code >= 400 && e->code <= 599);
	CHECK(e->enh != NULL && (e->enh[0] == '4' || e->enh[0] == '5') && e->enh[0] - '0' == e->code / 100);
	CHECK(e->text != NULL && e->text[0] != '\0');
}

static bool has_8bit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return true;
	}
	return false;
}

static void check_mailbox(const struct smtp_mailbox *m, bool utf8_allowed, bool may_be_empty)
{
	size_t n = strnlen(m->mailbox, sizeof(m->mailbox));
	CHECK(n < sizeof(m->mailbox) && n <= SMTP_MAILBOX_MAX);
	if (n == 0) {
		CHECK(may_be_empty);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)m->mailbox[i];
		CHECK(c >= 0x20 && c != 0x7f);
	}
	CHECK(view_inside(m->local, m->mailbox, n) && view_inside(m->domain, m->mailbox, n));
	CHECK(m->local.p == m->mailbox && m->local.len > 0 && m->local.len <= SMTP_LOCAL_MAX + 2);
	CHECK(m->local.p[m->local.len] == '@');
	CHECK(m->domain.p == m->local.p + m->local.len + 1 && m->domain.p + m->domain.len == m->mailbox + n);
	CHECK(m->domain.len > 0 && m->domain.len <= SMTP_DOMAIN_MAX);
	if (!m->domain_literal) {
		for (size_t i = 0; i < m->domain.len; i++) {
			char c = m->domain.p[i];
			CHECK(!(c >= 'A' && c <= 'Z') && c != '<' && c != '>' && c != '@' && c != ' ');
		}
	} else {
		CHECK(m->domain.p[0] == '[' && m->domain.p[m->domain.len - 1] == ']');
	}
	CHECK(m->utf8 == has_8bit(m->mailbox, n));
	if (m->utf8)
		CHECK(utf8_allowed);
}

/* The canonical form must parse back to itself. */
static void check_fixed_point(const struct smtp_mailbox *m)
{
	size_t n = strlen(m->mailbox);
	if (n == 0)
		return;
	struct smtp_mailbox again;
	memset(&again, 0x5a, sizeof(again));
	CHECK(smtp_parse_mailbox((struct bytes){ m->mailbox, n }, m->utf8, &again) == 1);
	CHECK(strcmp(again.mailbox, m->mailbox) == 0);
	CHECK(again.local.len == m->local.len && again.domain.len == m->domain.len);
	CHECK(again.domain_literal == m->domain_literal && again.utf8 == m->utf8);

	char arg[SMTP_MAILBOX_MAX + 32];
	int len = snprintf(arg, sizeof(arg), "FROM:<%s>%s", m->mailbox, m->utf8 ? " SMTPUTF8" : "");
	struct smtp_mail_args ma;
	struct smtp_error err = { 0 };
	int r = smtp_parse_mail((struct bytes){ arg, (size_t)len }, m->utf8, &ma, &err);
	if (r < 0) /* a canonical mailbox may still be over the path limit */
		CHECK(n + 2 > SMTP_PATH_MAX);
	else
		CHECK(strcmp(ma.from.mailbox, m->mailbox) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool utf8 = data[0] & 1;
	const char *p = (const char *)data + 1;
	size_t len = size - 1;
	struct bytes arg = { p, len };

	struct smtp_mail_args ma;
	memset(&ma, 0xa5, sizeof(ma));
	struct smtp_error err = { 0 };
	int r = smtp_parse_mail(arg, utf8, &ma, &err);
	CHECK(r == 1 || r == -1);
	if (r < 0) {
		check_error(&err);
	} else {
		CHECK(memchr(p, '\0', len) == NULL);
		check_mailbox(&ma.from, utf8, ma.null_path);
		CHECK(ma.null_path == (ma.from.mailbox[0] == '\0'));
		CHECK(ma.body >= SMTP_BODY_7BIT && ma.body <= SMTP_BODY_BINARYMIME);
		CHECK(ma.ret >= SMTP_RET_NONE && ma.ret <= SMTP_RET_HDRS);
		if (ma.smtputf8)
			CHECK(utf8);
		if (ma.from.utf8)
			CHECK(ma.smtputf8);
		if (ma.envid.len > 0) {
			CHECK(view_inside(ma.envid, p, len));
			CHECK(smtp_xtext_valid(ma.envid));
		}
		if (ma.auth.len > 0)
			CHECK(view_inside(ma.auth, p, len));
		check_fixed_point(&ma.from);
	}

	struct smtp_rcpt_args ra;
	memset(&ra, 0xa5, sizeof(ra));
	memset(&err, 0, sizeof(err));
	r = smtp_parse_rcpt(arg, utf8, &ra, &err);
	CHECK(r == 1 || r == -1);
	if (r < 0) {
		check_error(&err);
	} else {
		CHECK(memchr(p, '\0', len) == NULL);
		if (ra.postmaster) {
			CHECK(strcmp(ra.to.mailbox, "postmaster") == 0 && ra.to.domain.len == 0);
		} else {
			check_mailbox(&ra.to, true, false);
			if (ra.to.utf8 && !utf8)
				CHECK(false); /* non-ASCII recipient without SMTPUTF8: must be an error */
			check_fixed_point(&ra.to);
		}
		CHECK((ra.notify & ~15u) == 0);
		if (ra.notify & SMTP_NOTIFY_NEVER)
			CHECK(ra.notify == SMTP_NOTIFY_NEVER);
		if (ra.orcpt.len > 0)
			CHECK(view_inside(ra.orcpt, p, len));
	}

	struct smtp_mailbox mb;
	memset(&mb, 0xa5, sizeof(mb));
	r = smtp_parse_mailbox(arg, utf8, &mb);
	CHECK(r == 1 || r == -1);
	if (r > 0) {
		check_mailbox(&mb, utf8, false);
		check_fixed_point(&mb);
	}
	(void)smtp_xtext_valid(arg);
	return 0;
}
