/* smtp_args.c: MAIL and RCPT arguments (see smtp_args.h).
 *
 * Grammar, RFC 5321 §4.1.2 (with RFC 6531 §3.3 for UTF-8):
 *   Path = "<" [ A-d-l ":" ] Mailbox ">"        A-d-l = At-domain *( "," At-domain )
 *   Mailbox = Local-part "@" ( Domain / address-literal )
 *   Local-part = Dot-string / Quoted-string     Dot-string = Atom *("." Atom)
 *   Domain = sub-domain *("." sub-domain)       sub-domain = Let-dig [Ldh-str]
 *   Mail-parameters = esmtp-param *(SP esmtp-param)
 *   esmtp-param = esmtp-keyword ["=" esmtp-value]
 * One leniency, as every major server has it: a space after "FROM:" or "TO:". */
#include "smtp_args.h"

#include <string.h>

static const struct smtp_error err_syntax_from = { 501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]" };
static const struct smtp_error err_syntax_to = { 501, "5.5.4", "Syntax: RCPT TO:<address> [parameters]" };
static const struct smtp_error err_sender = { 501, "5.1.7", "Bad sender address syntax" };
static const struct smtp_error err_rcpt = { 501, "5.1.3", "Bad recipient address syntax" };
static const struct smtp_error err_param = { 555, "5.5.4", "Unsupported or malformed parameter" };
static const struct smtp_error err_utf8 = { 553, "5.6.7", "Non-ASCII address requires SMTPUTF8" };
static const struct smtp_error err_too_long = { 501, "5.5.4", "Address too long" };

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 5322 atext, plus UTF-8 bytes when allowed (RFC 6531 atext =/ UTF8-non-ascii) */
static bool is_atext(unsigned char c, bool utf8)
{
	if (c >= 0x80)
		return utf8;
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Parses a Domain at in[*pos]; returns false if there is none. */
static bool parse_domain(struct bytes in, size_t *pos, bool utf8)
{
	size_t i = *pos;
	for (;;) {
		size_t start = i;
		while (i < in.len) {
			unsigned char c = (unsigned char)in.p[i];
			if (!(is_alpha(c) || is_digit(c) || c == '-' || (utf8 && c >= 0x80)))
				break;
			i++;
		}
		if (i == start || in.p[start] == '-' || in.p[i - 1] == '-' || i - start > 63)
			return false;
		if (i < in.len && in.p[i] == '.') {
			i++;
			continue;
		}
		break;
	}
	*pos = i;
	return true;
}

/* address-literal: "[" IPv4 / "IPv6:" ... / General "]"; checked loosely but safely:
 * only [0-9A-Za-z.:-] inside. */
static bool parse_literal(struct bytes in, size_t *pos)
{
	size_t i = *pos;
	if (i >= in.len || in.p[i] != '[')
		return false;
	i++;
	size_t start = i;
	while (i < in.len && in.p[i] != ']') {
		unsigned char c = (unsigned char)in.p[i];
		if (!(is_alpha(c) || is_digit(c) || c == '.' || c == ':' || c == '-'))
			return false;
		i++;
	}
	if (i >= in.len || i == start)
		return false;
	*pos = i + 1;
	return true;
}

/* Copies the local part in canonical form: a quoted string whose content is a valid
 * dot-string loses its quotes; otherwise quotes are kept with minimal escaping.
 * Returns the local part's length in out, or -1. */
static int parse_local(struct bytes in, size_t *pos, bool utf8, char *out, size_t outmax, bool *nonascii)
{
	size_t i = *pos, o = 0;
	if (i < in.len && in.p[i] == '"') {
		char content[SMTP_LOCAL_MAX * 2 + 1];
		size_t n = 0;
		i++;
		for (;;) {
			if (i >= in.len)
				return -1;
			unsigned char c = (unsigned char)in.p[i];
			if (c == '"')
				break;
			if (c == '\\') {
				if (i + 1 >= in.len)
					return -1;
				c = (unsigned char)in.p[i + 1];
				if (c < 32 || c > 126)
					return -1;
				i++;
			} else if (c >= 0x80) {
				if (!utf8)
					return -1;
				*nonascii = true;
			} else if (c < 32 || c > 126) {
				return -1;
			}
			if (n >= sizeof(content))
				return -1;
			content[n++] = (char)c;
			i++;
		}
		i++; /* closing quote */
		if (n > SMTP_LOCAL_MAX)
			return -1;
		/* can it go without quotes? */
		bool dot_string = n > 0 && content[0] != '.' && content[n - 1] != '.';
		for (size_t k = 0; k < n && dot_string; k++) {
			unsigned char c = (unsigned char)content[k];
			if (c == '.' ? (k > 0 && content[k - 1] == '.') : !is_atext(c, utf8))
				dot_string = false;
		}
		if (!dot_string && o < outmax)
			out[o++] = '"';
		for (size_t k = 0; k < n; k++) {
			if (!dot_string && (content[k] == '"' || content[k] == '\\')) {
				if (o >= outmax)
					return -1;
				out[o++] = '\\';
			}
			if (o >= outmax)
				return -1;
			out[o++] = content[k];
		}
		if (!dot_string) {
			if (o >= outmax)
				return -1;
			out[o++] = '"';
		}
	} else {
		bool atom = false;
		while (i < in.len) {
			unsigned char c = (unsigned char)in.p[i];
			if (c == '.') {
				if (!atom)
					return -1;
				atom = false;
			} else if (is_atext(c, utf8)) {
				atom = true;
				if (c >= 0x80)
					*nonascii = true;
			} else {
				break;
			}
			if (o >= outmax)
				return -1;
			out[o++] = (char)c;
			i++;
		}
		if (!atom || o > SMTP_LOCAL_MAX)
			return -1; /* empty, ends with a dot, or too long */
	}
	*pos = i;
	return (int)o;
}

/* Mailbox at in[*pos] into r (canonical). Returns 1, or -1. */
static int parse_mailbox_at(struct bytes in, size_t *pos, bool utf8, struct smtp_mailbox *r)
{
	bool nonascii = false;
	int llen = parse_local(in, pos, utf8, r->mailbox, SMTP_LOCAL_MAX + 2, &nonascii);
	if (llen < 0 || *pos >= in.len || in.p[*pos] != '@')
		return -1;
	(*pos)++;
	size_t dstart = *pos;
	r->domain_literal = false;
	if (*pos < in.len && in.p[*pos] == '[') {
		if (!parse_literal(in, pos))
			return -1;
		r->domain_literal = true;
	} else if (!parse_domain(in, pos, utf8)) {
		return -1;
	}
	size_t dlen = *pos - dstart;
	if (dlen > SMTP_DOMAIN_MAX)
		return -1;
	char *m = r->mailbox;
	m[llen] = '@';
	for (size_t k = 0; k < dlen; k++) {
		unsigned char c = (unsigned char)in.p[dstart + k];
		if (c >= 0x80)
			nonascii = true;
		m[llen + 1 + k] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	m[llen + 1 + dlen] = '\0';
	r->local = (struct bytes){ m, (size_t)llen };
	r->domain = (struct bytes){ m + llen + 1, dlen };
	r->utf8 = nonascii;
	return 1;
}

int smtp_parse_mailbox(struct bytes in, bool utf8, struct smtp_mailbox *r)
{
	size_t pos = 0;
	memset(r, 0, sizeof(*r));
	if (parse_mailbox_at(in, &pos, utf8, r) < 0 || pos != in.len)
		return -1;
	return 1;
}

/* Path at in[*pos]: "<" [A-d-l ":"] Mailbox ">" or "<>" when allow_null. */
static int parse_path(struct bytes in, size_t *pos, bool allow_null, bool utf8, struct smtp_mailbox *r, bool *null_r)
{
	size_t i = *pos;
	memset(r, 0, sizeof(*r));
	*null_r = false;
	if (i >= in.len || in.p[i] != '<')
		return -1;
	i++;
	if (i < in.len && in.p[i] == '>') {
		if (!allow_null)
			return -1;
		*null_r = true;
		*pos = i + 1;
		return 1;
	}
	size_t path_start = i;
	if (i < in.len && in.p[i] == '@') { /* source route: parsed, then ignored */
		for (;;) {
			i++;
			if (!parse_domain(in, &i, utf8))
				return -1;
			if (i < in.len && in.p[i] == ',') {
				i++;
				if (i >= in.len || in.p[i] != '@')
					return -1;
				continue;
			}
			if (i >= in.len || in.p[i] != ':')
				return -1;
			i++;
			break;
		}
	}
	if (parse_mailbox_at(in, &i, utf8, r) < 0)
		return -1;
	if (i >= in.len || in.p[i] != '>')
		return -1;
	if (i - path_start > SMTP_PATH_MAX)
		return -2;
	*pos = i + 1;
	return 1;
}

/* The path of MAIL or RCPT at arg[*pos], followed by a space or the end. Returns 1,
 * or -1 with *err_r: too long, or `bad` for any other fault. */
static int path_arg(struct bytes arg, size_t *pos, bool allow_null, struct smtp_mailbox *mb, bool *null_r,
		    const struct smtp_error *bad, struct smtp_error *err_r)
{
	int pr = parse_path(arg, pos, allow_null, true, mb, null_r);
	if (pr == -1 || (pr > 0 && *pos < arg.len && arg.p[*pos] != ' ')) {
		*err_r = *bad;
		return -1;
	}
	if (pr < 0) {
		*err_r = err_too_long;
		return -1;
	}
	return 1;
}

bool smtp_xtext_valid(struct bytes x)
{
	for (size_t i = 0; i < x.len; i++) {
		unsigned char c = (unsigned char)x.p[i];
		if (c == '+') {
			if (i + 2 >= x.len)
				return false;
			for (int k = 1; k <= 2; k++) {
				unsigned char h = (unsigned char)x.p[i + (size_t)k];
				if (!(is_digit(h) || (h >= 'A' && h <= 'F')))
					return false;
			}
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return false;
		}
	}
	return true;
}

/* Splits "KEY[=VALUE]" parameters after the path; calls back for each. */
struct param {
	struct bytes key, value;
	bool has_value;
};

/* Reads the next parameter at in[*pos] (after single spaces). Returns 1, 0 at the
 * end, -1 on bad syntax. */
static int next_param(struct bytes in, size_t *pos, struct param *p)
{
	size_t i = *pos;
	while (i < in.len && in.p[i] == ' ')
		i++;
	if (i == in.len)
		return 0;
	size_t ks = i;
	while (i < in.len && in.p[i] != '=' && in.p[i] != ' ') {
		unsigned char c = (unsigned char)in.p[i];
		if (!(is_alpha(c) || is_digit(c) || (c == '-' && i > ks)))
			return -1;
		i++;
	}
	if (i == ks)
		return -1;
	p->key = (struct bytes){ in.p + ks, i - ks };
	p->has_value = false;
	p->value = (struct bytes){ in.p + i, 0 };
	if (i < in.len && in.p[i] == '=') {
		i++;
		size_t vs = i;
		while (i < in.len && in.p[i] != ' ') {
			unsigned char c = (unsigned char)in.p[i];
			if (c < 33 || c == 127 || c == '=')
				return -1;
			i++;
		}
		p->value = (struct bytes){ in.p + vs, i - vs };
		p->has_value = true;
	}
	*pos = i;
	return 1;
}

/* Skips "FROM:" / "TO:" and one optional space. */
static bool skip_prefix(struct bytes arg, const char *prefix, size_t *pos)
{
	if (!bytes_iprefix(arg, prefix))
		return false;
	*pos = strlen(prefix);
	if (*pos < arg.len && arg.p[*pos] == ' ')
		(*pos)++;
	return true;
}

int smtp_parse_mail(struct bytes arg, bool utf8_ok, struct smtp_mail_args *r, struct smtp_error *err_r)
{
	memset(r, 0, sizeof(*r));
	size_t pos;
	if (arg.len == 0 || memchr(arg.p, '\0', arg.len) != NULL || !skip_prefix(arg, "FROM:", &pos)) {
		*err_r = err_syntax_from;
		return -1;
	}
	/* the path may hold UTF-8; whether SMTPUTF8 allows that is checked at the end */
	if (path_arg(arg, &pos, true, &r->from, &r->null_path, &err_sender, err_r) < 0)
		return -1;
	struct param p;
	int n;
	while ((n = next_param(arg, &pos, &p)) > 0) {
		uint64_t v;
		if (bytes_ieq(p.key, "SIZE") && p.has_value && !r->has_size &&
		    buf_parse_uint64(p.value, UINT64_MAX, &v) > 0) {
			r->has_size = true;
			r->size = v;
		} else if (bytes_ieq(p.key, "BODY") && p.has_value) {
			if (bytes_ieq(p.value, "7BIT"))
				r->body = SMTP_BODY_7BIT;
			else if (bytes_ieq(p.value, "8BITMIME"))
				r->body = SMTP_BODY_8BITMIME;
			else if (bytes_ieq(p.value, "BINARYMIME"))
				r->body = SMTP_BODY_BINARYMIME;
			else
				goto bad_param;
		} else if (bytes_ieq(p.key, "SMTPUTF8") && !p.has_value && utf8_ok) {
			r->smtputf8 = true;
		} else if (bytes_ieq(p.key, "RET") && p.has_value && r->ret == SMTP_RET_NONE) {
			if (bytes_ieq(p.value, "FULL"))
				r->ret = SMTP_RET_FULL;
			else if (bytes_ieq(p.value, "HDRS"))
				r->ret = SMTP_RET_HDRS;
			else
				goto bad_param;
		} else if (bytes_ieq(p.key, "ENVID") && p.has_value && r->envid.len == 0 && p.value.len <= 100 &&
			   smtp_xtext_valid(p.value)) {
			r->envid = p.value;
		} else if (bytes_ieq(p.key, "AUTH") && p.has_value && r->auth.len == 0 && smtp_xtext_valid(p.value)) {
			r->auth = p.value;
		} else {
			goto bad_param;
		}
	}
	if (n < 0)
		goto bad_param;
	if (r->from.utf8 && !r->smtputf8) {
		*err_r = err_utf8;
		return -1;
	}
	return 1;
bad_param:
	*err_r = err_param;
	return -1;
}

int smtp_parse_rcpt(struct bytes arg, bool utf8, struct smtp_rcpt_args *r, struct smtp_error *err_r)
{
	memset(r, 0, sizeof(*r));
	size_t pos;
	if (arg.len == 0 || memchr(arg.p, '\0', arg.len) != NULL || !skip_prefix(arg, "TO:", &pos)) {
		*err_r = err_syntax_to;
		return -1;
	}
	bool null_path;
	/* RFC 5321 §4.1.1.3: "<Postmaster>" without a domain, case-insensitive */
	if (arg.len - pos >= 12 && bytes_iprefix((struct bytes){ arg.p + pos, arg.len - pos }, "<postmaster>")) {
		r->postmaster = true;
		memcpy(r->to.mailbox, "postmaster", 11);
		r->to.local = (struct bytes){ r->to.mailbox, 10 };
		r->to.domain = (struct bytes){ r->to.mailbox + 10, 0 };
		pos += 12;
	} else if (path_arg(arg, &pos, false, &r->to, &null_path, &err_rcpt, err_r) < 0) {
		return -1;
	}
	if (pos < arg.len && arg.p[pos] != ' ') {
		*err_r = err_rcpt;
		return -1;
	}
	struct param p;
	int n;
	while ((n = next_param(arg, &pos, &p)) > 0) {
		if (bytes_ieq(p.key, "NOTIFY") && p.has_value && r->notify == 0) {
			/* NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY (RFC 3461 §4.1) */
			size_t i = 0;
			while (i <= p.value.len) {
				size_t s = i;
				while (i < p.value.len && p.value.p[i] != ',')
					i++;
				struct bytes item = { p.value.p + s, i - s };
				unsigned bit = bytes_ieq(item, "NEVER")	    ? SMTP_NOTIFY_NEVER
					       : bytes_ieq(item, "SUCCESS") ? SMTP_NOTIFY_SUCCESS
					       : bytes_ieq(item, "FAILURE") ? SMTP_NOTIFY_FAILURE
					       : bytes_ieq(item, "DELAY")   ? SMTP_NOTIFY_DELAY
									    : 0;
				if (bit == 0 || (r->notify & bit))
					goto bad_param;
				r->notify |= bit;
				i++;
			}
			if ((r->notify & SMTP_NOTIFY_NEVER) && r->notify != SMTP_NOTIFY_NEVER)
				goto bad_param;
		} else if (bytes_ieq(p.key, "ORCPT") && p.has_value && r->orcpt.len == 0 && p.value.len <= 500) {
			const char *semi = memchr(p.value.p, ';', p.value.len);
			if (semi == NULL || semi == p.value.p)
				goto bad_param;
			struct bytes x = { semi + 1, p.value.len - (size_t)(semi + 1 - p.value.p) };
			if (x.len == 0 || !smtp_xtext_valid(x))
				goto bad_param;
			r->orcpt = p.value;
		} else {
			goto bad_param;
		}
	}
	if (n < 0)
		goto bad_param;
	if (r->to.utf8 && !utf8) {
		*err_r = err_utf8;
		return -1;
	}
	return 1;
bad_param:
	*err_r = err_param;
	return -1;
}
