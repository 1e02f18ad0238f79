/* jmap_compose.c: an RFC 5322/MIME message from a JMAP Email create object
 * (RFC 8621 §4.6): the address, subject, date and id header properties, "headers"
 * and "header:Name[:asText]" extras, and the body either as bodyStructure or as
 * textBody/htmlBody/attachments with bodyValues (then: text and HTML become
 * multipart/alternative, inline parts with a cid multipart/related around it, other
 * attachments multipart/mixed around everything). Text is sent 7bit when it can be,
 * quoted-printable otherwise; attachments (uploads or parts of stored messages, by
 * blobId) base64. Non-ASCII header text is RFC 2047 encoded. Lines end in CRLF. */
#include "jmap.h"

#include "auth.h"
#include "textfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct composer {
	struct jmap_ctx *ctx;
	struct buf *out;
	json_t *values;   /* bodyValues */
	json_t *err;      /* the SetError, once something is wrong */
	unsigned boundary_seq;
	char boundary_base[32];
};

static bool ascii_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return false;
	}
	return true;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return true;
	}
	return false;
}

/* RFC 2047 B encoding of UTF-8 text, in words of at most 45 input bytes. */
static void encoded_words(struct composer *c, const char *s)
{
	size_t n = strlen(s), i = 0;
	bool first = true;
	while (i < n) {
		size_t take = n - i < 45 ? n - i : 45;
		/* do not split a UTF-8 sequence */
		while (take > 0 && i + take < n && ((unsigned char)s[i + take] & 0xc0) == 0x80)
			take--;
		if (take == 0)
			take = n - i < 45 ? n - i : 45;
		if (!first)
			buf_puts(c->out, "\r\n ");
		buf_printf(c->out, "=?UTF-8?B?%s?=", auth_base64_encode(c->ctx->a, s + i, take));
		i += take;
		first = false;
	}
}

static void header_text(struct composer *c, const char *s)
{
	if (ascii_only(s, strlen(s)))
		buf_puts(c->out, s);
	else
		encoded_words(c, s);
}

static bool email_ok(const char *e)
{
	if (e == NULL || e[0] == '\0' || strlen(e) > STORE_ADDRESS_MAX)
		return false;
	const char *at = strrchr(e, '@');
	if (at == NULL || at == e || at[1] == '\0')
		return false;
	for (const char *p = e; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch <= 0x20 || ch == 0x7f || strchr("<>()[]\\,;:\"", ch) != NULL)
			return false;
	}
	return true;
}

static void fail(struct composer *c, const char *type, const char *prop, const char *desc)
{
	if (c->err != NULL)
		return;
	c->err = jmap_set_error(type, "%s", desc);
	if (prop != NULL)
		json_object_set_new(c->err, "properties", json_pack("[s]", prop));
}

static void addresses(struct composer *c, const char *field, const char *prop, json_t *list)
{
	if (list == NULL || json_is_null(list))
		return;
	if (!json_is_array(list)) {
		fail(c, "invalidProperties", prop, "addresses must be an array");
		return;
	}
	if (json_array_size(list) == 0)
		return;
	buf_printf(c->out, "%s: ", field);
	size_t i;
	json_t *a;
	json_array_foreach(list, i, a) {
		const char *name = json_string_value(json_object_get(a, "name"));
		const char *email = json_string_value(json_object_get(a, "email"));
		if (!email_ok(email) || (name != NULL && has_ctl(name))) {
			fail(c, "invalidProperties", prop, "invalid address");
			return;
		}
		if (i > 0)
			buf_puts(c->out, ",\r\n ");
		if (name != NULL && name[0] != '\0') {
			if (!ascii_only(name, strlen(name))) {
				encoded_words(c, name);
			} else {
				buf_putc(c->out, '"');
				for (const char *p = name; *p; p++) {
					if (*p == '"' || *p == '\\')
						buf_putc(c->out, '\\');
					buf_putc(c->out, *p);
				}
				buf_putc(c->out, '"');
			}
			buf_printf(c->out, " <%s>", email);
		} else {
			buf_puts(c->out, email);
		}
	}
	buf_puts(c->out, "\r\n");
}

static void msgids(struct composer *c, const char *field, const char *prop, json_t *list)
{
	if (list == NULL || json_is_null(list))
		return;
	if (!json_is_array(list)) {
		fail(c, "invalidProperties", prop, "must be an array of ids");
		return;
	}
	if (json_array_size(list) == 0)
		return;
	buf_printf(c->out, "%s:", field);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		const char *id = json_string_value(v);
		if (id == NULL || id[0] == '\0' || strpbrk(id, "<> \t\r\n") != NULL || strlen(id) > 900) {
			fail(c, "invalidProperties", prop, "invalid message id");
			return;
		}
		buf_printf(c->out, "%s<%s>", i > 0 ? "\r\n " : " ", id);
	}
	buf_puts(c->out, "\r\n");
}

/* Appends text with CRLF line ends, as 7bit or quoted-printable; returns the
 * Content-Transfer-Encoding used (written by the caller before). */
static bool needs_qp(const char *s, size_t n)
{
	size_t line = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x80 || (ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n'))
			return true;
		if (ch == '\n') {
			line = 0;
		} else if (++line > 900) {
			return true;
		}
	}
	return false;
}

static void text_7bit(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r')
			continue;
		if (s[i] == '\n')
			buf_puts(out, "\r\n");
		else
			buf_putc(out, s[i]);
	}
}

static void text_qp(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\r')
			continue;
		if (ch == '\n') {
			buf_puts(out, "\r\n");
			col = 0;
			continue;
		}
		bool last_on_line = i + 1 == n || s[i + 1] == '\n' || s[i + 1] == '\r';
		bool plain = (ch >= 33 && ch <= 126 && ch != '=') || ((ch == ' ' || ch == '\t') && !last_on_line);
		size_t w = plain ? 1 : 3;
		if (col + w > 75) {
			buf_puts(out, "=\r\n");
			col = 0;
		}
		if (plain) {
			buf_putc(out, (char)ch);
		} else {
			buf_putc(out, '=');
			buf_putc(out, hex[ch >> 4]);
			buf_putc(out, hex[ch & 15]);
		}
		col += w;
	}
}

static void base64_lines(struct composer *c, const char *data, size_t len)
{
	const char *b = auth_base64_encode(c->ctx->a, data, len);
	size_t n = strlen(b);
	for (size_t i = 0; i < n; i += 76) {
		buf_append(c->out, b + i, n - i < 76 ? n - i : 76);
		buf_puts(c->out, "\r\n");
	}
}

static void new_boundary(struct composer *c, char *out, size_t outlen)
{
	snprintf(out, outlen, "=_%s_%u", c->boundary_base, ++c->boundary_seq);
}

/* Content-Type parameters: charset, name (RFC 2231 for non-ASCII). */
static void name_param(struct composer *c, const char *param, const char *name)
{
	if (name == NULL || name[0] == '\0')
		return;
	if (ascii_only(name, strlen(name)) && strpbrk(name, "\"\\\r\n") == NULL) {
		buf_printf(c->out, ";\r\n %s=\"%s\"", param, name);
		return;
	}
	buf_printf(c->out, ";\r\n %s*=UTF-8''", param);
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			buf_putc(c->out, (char)*p);
		else
			buf_printf(c->out, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
}

/* The METHOD property of an iCalendar object (RFC 5545 §3.7.2), a token, into out;
 * false when there is none. iMIP wants it repeated as a Content-Type parameter. */
static bool ical_method(const char *text, char *out, size_t outlen)
{
	for (const char *p = text; p != NULL; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncasecmp(p, "METHOD:", 7) != 0)
			continue;
		p += 7;
		size_t n = 0;
		while (n + 1 < outlen && ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' && p[n] <= 'z') || p[n] == '-'))
			n++;
		if (n == 0 || (p[n] != '\r' && p[n] != '\n' && p[n] != '\0'))
			return false;
		memcpy(out, p, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

static bool type_ok(const char *t)
{
	if (t == NULL)
		return false;
	const char *slash = strchr(t, '/');
	if (slash == NULL || slash == t || slash[1] == '\0' || strlen(t) > 127)
		return false;
	for (const char *p = t; *p; p++) {
		char ch = *p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      strchr("!#$&^_.+-", ch) || (ch == '/' && p == slash)))
			return false;
	}
	return true;
}

/* One leaf part (EmailBodyPart with partId+bodyValues or blobId). */
static void leaf(struct composer *c, json_t *part)
{
	const char *type = json_string_value(json_object_get(part, "type"));
	const char *part_id = json_string_value(json_object_get(part, "partId"));
	const char *blob_id = json_string_value(json_object_get(part, "blobId"));
	const char *name = json_string_value(json_object_get(part, "name"));
	const char *disp = json_string_value(json_object_get(part, "disposition"));
	const char *cid = json_string_value(json_object_get(part, "cid"));
	if ((name && has_ctl(name)) || (disp && (has_ctl(disp) || strpbrk(disp, " ;\"") != NULL)) ||
	    (cid && (has_ctl(cid) || strpbrk(cid, "<> ") != NULL))) {
		fail(c, "invalidProperties", "bodyStructure", "invalid part property");
		return;
	}
	if (part_id != NULL) {
		json_t *v = json_object_get(c->values, part_id);
		const char *text = json_string_value(json_object_get(v, "value"));
		if (text == NULL) {
			fail(c, "invalidProperties", "bodyValues", "a partId without a bodyValues entry");
			return;
		}
		if (type == NULL)
			type = "text/plain";
		if (strncasecmp(type, "text/", 5) != 0 || !type_ok(type)) {
			fail(c, "invalidProperties", "bodyStructure", "a part with a value must be text/*");
			return;
		}
		size_t n = strlen(text);
		bool qp = needs_qp(text, n);
		buf_printf(c->out, "Content-Type: %s; charset=%s", type, qp ? "utf-8" : "us-ascii");
		char method[32];
		if (strcasecmp(type, "text/calendar") == 0 && ical_method(text, method, sizeof(method)))
			buf_printf(c->out, "; method=%s", method); /* RFC 6047 §2.4: the METHOD property's */
		name_param(c, "name", name);
		buf_printf(c->out, "\r\nContent-Transfer-Encoding: %s\r\n", qp ? "quoted-printable" : "7bit");
		if (disp != NULL) {
			buf_printf(c->out, "Content-Disposition: %s", disp);
			name_param(c, "filename", name);
			buf_puts(c->out, "\r\n");
		}
		if (cid != NULL)
			buf_printf(c->out, "Content-ID: <%s>\r\n", cid);
		buf_puts(c->out, "\r\n");
		if (qp)
			text_qp(c->out, text, n);
		else
			text_7bit(c->out, text, n);
		buf_puts(c->out, "\r\n");
		return;
	}
	if (blob_id == NULL) {
		fail(c, "invalidProperties", "bodyStructure", "a part needs a partId or a blobId");
		return;
	}
	const char *data, *btype, *bname;
	size_t len;
	if (jmap_blob_read(c->ctx, jmap_resolve_id(c->ctx, blob_id) ?: blob_id, &data, &len, &btype, &bname) <= 0) {
		if (c->err == NULL) {
			c->err = jmap_set_error("blobNotFound", "no such blob: %s", blob_id);
			json_object_set_new(c->err, "notFound", json_pack("[s]", blob_id));
		}
		return;
	}
	if (type == NULL)
		type = btype && type_ok(btype) ? btype : "application/octet-stream";
	if (!type_ok(type)) {
		fail(c, "invalidProperties", "bodyStructure", "invalid type");
		return;
	}
	if (name == NULL)
		name = bname;
	buf_printf(c->out, "Content-Type: %s", type);
	name_param(c, "name", name);
	buf_puts(c->out, "\r\nContent-Transfer-Encoding: base64\r\n");
	buf_printf(c->out, "Content-Disposition: %s", disp ? disp : "attachment");
	name_param(c, "filename", name);
	buf_puts(c->out, "\r\n");
	if (cid != NULL)
		buf_printf(c->out, "Content-ID: <%s>\r\n", cid);
	buf_puts(c->out, "\r\n");
	base64_lines(c, data, len);
}

static void structure(struct composer *c, json_t *part, int depth)
{
	if (!json_is_object(part) || depth > 20) {
		fail(c, "invalidProperties", "bodyStructure", "a body part must be an object");
		return;
	}
	json_t *sub = json_object_get(part, "subParts");
	if (!json_is_array(sub)) {
		leaf(c, part);
		return;
	}
	const char *type = json_string_value(json_object_get(part, "type"));
	if (type == NULL)
		type = "multipart/mixed";
	if (strncasecmp(type, "multipart/", 10) != 0 || !type_ok(type)) {
		fail(c, "invalidProperties", "bodyStructure", "a part with subParts must be multipart/*");
		return;
	}
	char b[64];
	new_boundary(c, b, sizeof(b));
	buf_printf(c->out, "Content-Type: %s;\r\n boundary=\"%s\"\r\n\r\n", type, b);
	size_t i;
	json_t *p;
	json_array_foreach(sub, i, p) {
		buf_printf(c->out, "--%s\r\n", b);
		structure(c, p, depth + 1);
	}
	buf_printf(c->out, "--%s--\r\n", b);
}

/* textBody/htmlBody/attachments into a structure object (new reference). */
static json_t *flat_structure(struct composer *c, json_t *email)
{
	json_t *text = json_array_get(json_object_get(email, "textBody"), 0);
	json_t *html = json_array_get(json_object_get(email, "htmlBody"), 0);
	json_t *atts = json_object_get(email, "attachments");
	json_t *body;
	if (text && html) {
		json_t *t = json_deep_copy(text), *h = json_deep_copy(html);
		if (!json_object_get(t, "type"))
			json_object_set_new(t, "type", json_string("text/plain"));
		if (!json_object_get(h, "type"))
			json_object_set_new(h, "type", json_string("text/html"));
		body = json_pack("{sss[oo]}", "type", "multipart/alternative", "subParts", t, h);
	} else if (html) {
		body = json_deep_copy(html);
		if (!json_object_get(body, "type"))
			json_object_set_new(body, "type", json_string("text/html"));
	} else if (text) {
		body = json_deep_copy(text);
	} else {
		json_object_set_new(c->values, "__empty", json_pack("{ss}", "value", ""));
		body = json_pack("{ssss}", "partId", "__empty", "type", "text/plain");
	}
	if (!json_is_array(atts) || json_array_size(atts) == 0)
		return body;
	json_t *inl = json_array(), *other = json_array();
	size_t i;
	json_t *a;
	json_array_foreach(atts, i, a) {
		const char *disp = json_string_value(json_object_get(a, "disposition"));
		if (json_object_get(a, "cid") && disp && strcasecmp(disp, "inline") == 0)
			json_array_append(inl, a);
		else
			json_array_append(other, a);
	}
	if (json_array_size(inl) > 0) {
		json_array_insert_new(inl, 0, body);
		body = json_pack("{ssso}", "type", "multipart/related", "subParts", inl);
	} else {
		json_decref(inl);
	}
	if (json_array_size(other) > 0) {
		json_array_insert_new(other, 0, body);
		body = json_pack("{ssso}", "type", "multipart/mixed", "subParts", other);
	} else {
		json_decref(other);
	}
	return body;
}

char *jmap_compose(struct jmap_ctx *ctx, json_t *email, size_t *len_r, json_t **err_r)
{
	struct buf out = { 0 };
	struct composer c = { .ctx = ctx, .out = &out };
	web_random_token(c.boundary_base, sizeof(c.boundary_base), 12);
	json_t *values = json_object_get(email, "bodyValues");
	c.values = json_is_object(values) ? json_deep_copy(values) : json_object();
	static const char *const allowed[] = {
		"mailboxIds", "keywords", "receivedAt", "messageId", "inReplyTo", "references", "sender", "from", "to",
		"cc", "bcc", "replyTo", "subject", "sentAt", "headers", "bodyStructure", "bodyValues", "textBody",
		"htmlBody", "attachments", NULL,
	};
	const char *key;
	json_t *v;
	json_object_foreach(email, key, v) {
		bool ok = strncmp(key, "header:", 7) == 0;
		for (size_t i = 0; !ok && allowed[i]; i++)
			ok = strcmp(allowed[i], key) == 0;
		if (!ok)
			fail(&c, "invalidProperties", key, "this property cannot be set");
	}
	json_t *ts = json_object_get(email, "sentAt");
	int64_t t = time(NULL);
	if (json_is_string(ts) && web_parse_date(json_string_value(ts), &t) < 0)
		fail(&c, "invalidProperties", "sentAt", "invalid date");
	char date[64];
	textfmt_date(t, date, sizeof(date));
	buf_printf(&out, "Date: %s\r\n", date);
	addresses(&c, "From", "from", json_object_get(email, "from"));
	addresses(&c, "Sender", "sender", json_object_get(email, "sender"));
	addresses(&c, "Reply-To", "replyTo", json_object_get(email, "replyTo"));
	addresses(&c, "To", "to", json_object_get(email, "to"));
	addresses(&c, "Cc", "cc", json_object_get(email, "cc"));
	addresses(&c, "Bcc", "bcc", json_object_get(email, "bcc"));
	const char *subject = json_string_value(json_object_get(email, "subject"));
	if (subject != NULL) {
		if (has_ctl(subject))
			fail(&c, "invalidProperties", "subject", "control characters in the subject");
		buf_puts(&out, "Subject: ");
		header_text(&c, subject);
		buf_puts(&out, "\r\n");
	}
	json_t *mid = json_object_get(email, "messageId");
	if (json_is_array(mid) && json_array_size(mid) > 0) {
		msgids(&c, "Message-ID", "messageId", mid);
	} else {
		char r[32];
		web_random_token(r, sizeof(r), 15);
		buf_printf(&out, "Message-ID: <%s@%s>\r\n", r, ctx->s->hostname);
	}
	msgids(&c, "In-Reply-To", "inReplyTo", json_object_get(email, "inReplyTo"));
	msgids(&c, "References", "references", json_object_get(email, "references"));
	json_object_foreach(email, key, v) {
		if (strncmp(key, "header:", 7) != 0)
			continue;
		char name[128];
		size_t n = strcspn(key + 7, ":");
		const char *form = key + 7 + n;
		if (n == 0 || n >= sizeof(name) || !json_is_string(v) ||
		    (*form && strcmp(form, ":asText") != 0 && strcmp(form, ":asRaw") != 0)) {
			fail(&c, "invalidProperties", key, "only header:Name, :asRaw and :asText can be set");
			continue;
		}
		memcpy(name, key + 7, n);
		name[n] = '\0';
		const char *val = json_string_value(v);
		if (strpbrk(name, " \t\r\n") || strncasecmp(name, "Content-", 8) == 0 || has_ctl(val)) {
			fail(&c, "invalidProperties", key, "invalid header");
			continue;
		}
		buf_printf(&out, "%s:%s", name, strcmp(form, ":asText") == 0 ? " " : "");
		if (strcmp(form, ":asText") == 0)
			header_text(&c, val);
		else
			buf_puts(&out, val);
		buf_puts(&out, "\r\n");
	}
	buf_puts(&out, "MIME-Version: 1.0\r\n");
	json_t *bs = json_object_get(email, "bodyStructure");
	if (bs != NULL && (json_object_get(email, "textBody") || json_object_get(email, "htmlBody") ||
			   json_object_get(email, "attachments")))
		fail(&c, "invalidProperties", "bodyStructure", "bodyStructure and textBody/htmlBody/attachments together");
	json_t *built = bs ? json_incref(bs) : flat_structure(&c, email);
	if (c.err == NULL)
		structure(&c, built, 0);
	json_decref(built);
	json_decref(c.values);
	if (c.err != NULL) {
		*err_r = c.err;
		buf_free(&out);
		return NULL;
	}
	*len_r = out.len;
	char *msg = arena_alloc(ctx->a, out.len + 1);
	memcpy(msg, out.data, out.len);
	buf_free(&out);
	return msg;
}
