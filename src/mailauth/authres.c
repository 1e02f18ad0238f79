/* authres.c: the Authentication-Results writer (authres.h; RFC 8601 §2.2).
 *
 *   Authentication-Results: mx.example.org;
 *   	spf=pass smtp.mailfrom=alice@example.com;
 *   	dkim=pass header.d=example.com header.s=sel header.b=Ab12Cd34;
 *   	dmarc=pass (p=reject dis=none) header.from=example.com;
 *   	iprev=pass policy.iprev=192.0.2.1 (mail.example.com)
 *
 * A value is written bare when it is an RFC 2045 token, or (a property's pvalue
 * only, not the authserv-id or a reason) local-part@domain with a dot-atom local
 * part; anything else becomes a quoted string.
 * Control characters (CR and LF among them) never reach the output: they become
 * "?", so a hostile MAIL FROM cannot start a header field of its own. */
#include "authres.h"

#include <string.h>

static bool is_tspecial(unsigned char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL && c != '\0';
}

static bool is_token_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && !is_tspecial(c);
}

static bool is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_token_char((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* dot-atom local part "@" a domain of letters, digits, "-" and dots. */
static bool is_plain_address(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	if (at == NULL || at == s || at == s + n - 1 || memchr(at + 1, '@', n - (size_t)(at + 1 - s)) != NULL)
		return false;
	size_t ln = (size_t)(at - s);
	if (s[0] == '.' || s[ln - 1] == '.')
		return false;
	for (size_t i = 0; i < ln; i++) {
		if (!(is_atext((unsigned char)s[i]) || (s[i] == '.' && s[i + 1] != '.')))
			return false;
	}
	for (const char *p = at + 1; p < s + n; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '.'))
			return false;
	}
	return true;
}

/* value (RFC 2045 token or quoted-string); with pvalue, local-part@domain bare too */
static void put_value(struct buf *out, const char *s, bool pvalue)
{
	size_t n = strlen(s);
	bool cut = n > AUTHRES_VALUE_MAX;
	if (cut)
		n = AUTHRES_VALUE_MAX;
	if (!cut && (is_token(s, n) || (pvalue && is_plain_address(s, n)))) {
		buf_append(out, s, n);
		return;
	}
	buf_putc(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			buf_putc(out, '\\');
		buf_putc(out, (char)(c < ' ' || c == 0x7f ? '?' : c));
	}
	if (cut)
		buf_puts(out, "...");
	buf_putc(out, '"');
}

static void put_comment(struct buf *out, const char *s)
{
	size_t n = strlen(s);
	bool cut = n > AUTHRES_VALUE_MAX;
	if (cut)
		n = AUTHRES_VALUE_MAX;
	buf_puts(out, " (");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '(' || c == ')' || c == '\\')
			buf_putc(out, '\\');
		buf_putc(out, (char)(c < ' ' || c == 0x7f ? '?' : c));
	}
	if (cut)
		buf_puts(out, "...");
	buf_putc(out, ')');
}

static void put_method(struct buf *out, const char *method, enum mailauth_result r, const char *reason)
{
	buf_printf(out, ";\r\n\t%s=%s", method, mailauth_result_name(r));
	if (reason != NULL) {
		buf_puts(out, " reason=");
		put_value(out, reason, false);
	}
}

static void put_prop(struct buf *out, const char *name, const char *value)
{
	if (value == NULL)
		return;
	buf_printf(out, " %s=", name);
	put_value(out, value, true);
}

void authres_write(const struct authres *ar, struct buf *out)
{
	buf_puts(out, "Authentication-Results: ");
	put_value(out, ar->authserv_id, false);

	put_method(out, "spf", ar->spf, ar->spf_reason);
	if (ar->spf_mailfrom != NULL)
		put_prop(out, "smtp.mailfrom", ar->spf_mailfrom);
	else
		put_prop(out, "smtp.helo", ar->spf_helo);

	if (ar->ndkim == 0)
		buf_puts(out, ";\r\n\tdkim=none");
	for (size_t i = 0; i < ar->ndkim; i++) {
		const struct authres_dkim *d = &ar->dkim[i];
		put_method(out, "dkim", d->result, d->reason);
		put_prop(out, "header.d", d->domain);
		put_prop(out, "header.s", d->selector);
		if (d->b != NULL) {
			char b8[9];
			size_t k = 0;
			for (const char *p = d->b; *p != '\0' && k < 8; p++) {
				if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
					b8[k++] = *p;
			}
			b8[k] = '\0';
			put_prop(out, "header.b", b8);
		}
	}

	put_method(out, "dmarc", ar->dmarc, ar->dmarc_reason);
	if (ar->dmarc_policy != NULL)
		put_comment(out, ar->dmarc_policy);
	put_prop(out, "header.from", ar->dmarc_from);

	put_method(out, "iprev", ar->iprev, NULL);
	put_prop(out, "policy.iprev", ar->iprev_ip);
	if (ar->iprev_name != NULL)
		put_comment(out, ar->iprev_name);
	buf_puts(out, "\r\n");
}
