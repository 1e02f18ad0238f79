/* jmap_email_props.c: the Email properties built from a message (RFC 8621 §4.1),
 * shared by Email/get and Email/parse (jmap_email.c), and the Email/get property
 * options. The header properties come from the message's header block: addresses
 * are parsed with GMime, the other forms (asRaw, asText, asMessageIds, asDate,
 * asURLs, asGroupedAddresses) as §4.1.2 says, "header:Name[:asForm][:all]" included.
 * The body properties come from the part table the store keeps from ingest:
 * bodyStructure, and textBody, htmlBody and attachments by the parseStructure
 * algorithm of §4.1.4; bodyValues decode the text parts (to UTF-8 with LF line ends)
 * and need the whole message. */
#include "jmap.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ headers */

/* The raw header fields of a header block, in order. */
struct hfield {
	const char *name;
	size_t namelen;
	const char *value; /* raw, after the colon, folding kept */
	size_t valuelen;
};

static size_t header_fields(struct arena *a, const char *h, size_t len, struct hfield **out_r)
{
	size_t cap = 32, n = 0;
	struct hfield *v = arena_alloc(a, cap * sizeof(*v));
	size_t i = 0;
	while (i < len) {
		if (h[i] == '\r' || h[i] == '\n')
			break; /* the blank line */
		size_t start = i;
		/* find the end of the field: a line end not followed by WSP */
		size_t end = i;
		for (;;) {
			const char *nl = memchr(h + end, '\n', len - end);
			end = nl ? (size_t)(nl - h) + 1 : len;
			if (end >= len || (h[end] != ' ' && h[end] != '\t'))
				break;
		}
		const char *colon = memchr(h + start, ':', end - start);
		if (colon != NULL) {
			if (n == cap) {
				struct hfield *nv = arena_alloc(a, 2 * cap * sizeof(*v));
				memcpy(nv, v, n * sizeof(*v));
				v = nv;
				cap *= 2;
			}
			size_t vend = end;
			while (vend > (size_t)(colon - h) + 1 && (h[vend - 1] == '\n' || h[vend - 1] == '\r'))
				vend--;
			v[n++] = (struct hfield){ h + start, (size_t)(colon - h) - start, colon + 1,
						  vend - (size_t)(colon - h) - 1 };
		}
		i = end;
	}
	*out_r = v;
	return n;
}

/* Unfolds (drops CR LF before WSP) and trims. */
static char *unfold(struct arena *a, const char *v, size_t len)
{
	char *o = arena_alloc(a, len + 1);
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\r' || v[i] == '\n')
			continue;
		o[k++] = v[i];
	}
	o[k] = '\0';
	char *s = o;
	while (*s == ' ' || *s == '\t')
		s++;
	while (k > 0 && (o[k - 1] == ' ' || o[k - 1] == '\t'))
		o[--k] = '\0';
	return s;
}

static json_t *address_json(InternetAddress *ia, json_t *out)
{
	if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
		const char *name = internet_address_get_name(ia);
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		json_array_append_new(out, json_pack("{soss}", "name", name && *name ? json_string(name) : json_null(),
						     "email", addr ? addr : ""));
	} else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
		InternetAddressList *m = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
		for (int i = 0; m && i < internet_address_list_length(m); i++)
			address_json(internet_address_list_get_address(m, i), out);
	}
	return out;
}

json_t *jmap_addresses(struct arena *a, const char *raw)
{
	mail_init();
	json_t *out = json_array();
	InternetAddressList *l = internet_address_list_parse(NULL, raw);
	if (l == NULL)
		return out;
	for (int i = 0; i < internet_address_list_length(l); i++)
		address_json(internet_address_list_get_address(l, i), out);
	g_object_unref(l);
	/* names may come out with invalid UTF-8 from 8-bit headers: jansson refuses
	 * those, so they were dropped; nothing else to do */
	return out;
}

static json_t *grouped_addresses(const char *raw)
{
	mail_init();
	json_t *out = json_array();
	InternetAddressList *l = internet_address_list_parse(NULL, raw);
	if (l == NULL)
		return out;
	json_t *loose = NULL;
	for (int i = 0; i < internet_address_list_length(l); i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			loose = NULL;
			const char *name = internet_address_get_name(ia);
			json_t *members = address_json(ia, json_array());
			json_array_append_new(out, json_pack("{soso}", "name", name ? json_string(name) : json_null(),
							     "addresses", members));
		} else {
			if (loose == NULL) {
				loose = json_array();
				json_array_append_new(out, json_pack("{snso}", "name", "addresses", loose));
			}
			address_json(ia, loose);
		}
	}
	g_object_unref(l);
	return out;
}

static json_t *msgids_json(struct arena *a, const char *value)
{
	const char **ids = mail_msgids(a, value, 1000);
	if (ids == NULL || ids[0] == NULL)
		return json_null();
	json_t *out = json_array();
	for (size_t i = 0; ids[i] != NULL; i++) {
		const char *s = ids[i];
		size_t n = strlen(s);
		if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
			json_array_append_new(out, json_stringn(s + 1, n - 2));
		else
			json_array_append_new(out, json_string(s));
	}
	return out;
}

static json_t *date_json(const char *value)
{
	int64_t t;
	int tz;
	if (mail_parse_date(value, &t, &tz) < 0)
		return json_null();
	char d[40];
	web_local_date(t, tz, d);
	return json_string(d);
}

static json_t *urls_json(const char *value)
{
	json_t *out = json_array();
	const char *p = value;
	while ((p = strchr(p, '<')) != NULL) {
		const char *e = strchr(p, '>');
		if (e == NULL)
			break;
		json_array_append_new(out, json_stringn(p + 1, (size_t)(e - p - 1)));
		p = e + 1;
	}
	if (json_array_size(out) == 0) {
		json_decref(out);
		return json_null();
	}
	return out;
}

static json_t *text_json(struct arena *a, const char *raw)
{
	const char *d = mail_decode_header(a, raw);
	json_t *s = json_string(d);
	return s ? s : json_string("");
}

enum hform { HF_RAW, HF_TEXT, HF_ADDRESSES, HF_GROUPED, HF_MSGIDS, HF_DATE, HF_URLS };

static json_t *form_value(struct arena *a, enum hform f, const char *raw, size_t rawlen)
{
	const char *u = unfold(a, raw, rawlen);
	switch (f) {
	case HF_RAW: {
		json_t *s = json_stringn(raw, rawlen);
		return s ? s : json_string("");
	}
	case HF_TEXT: return text_json(a, u);
	case HF_ADDRESSES: return jmap_addresses(a, u);
	case HF_GROUPED: return grouped_addresses(u);
	case HF_MSGIDS: return msgids_json(a, u);
	case HF_DATE: return date_json(u);
	case HF_URLS: return urls_json(u);
	}
	return json_null();
}

/* The value of field `name` in form f: the last instance, or all as an array. */
static json_t *header_value(struct arena *a, const struct hfield *hf, size_t n, const char *name, enum hform f,
			    bool all)
{
	json_t *arr = all ? json_array() : NULL;
	json_t *last = NULL;
	size_t nl = strlen(name);
	for (size_t i = 0; i < n; i++) {
		if (hf[i].namelen != nl || strncasecmp(hf[i].name, name, nl) != 0)
			continue;
		json_t *v = form_value(a, f, hf[i].value, hf[i].valuelen);
		if (all) {
			json_array_append_new(arr, v);
		} else {
			json_decref(last);
			last = v;
		}
	}
	if (all)
		return arr;
	return last ? last : json_null();
}

/* Parses "header:Name[:asForm][:all]". */
static bool parse_header_prop(const char *prop, char *name, size_t namelen, enum hform *f_r, bool *all_r)
{
	if (strncmp(prop, "header:", 7) != 0)
		return false;
	const char *p = prop + 7;
	size_t n = strcspn(p, ":");
	if (n == 0 || n >= namelen)
		return false;
	memcpy(name, p, n);
	name[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)name[i] <= 0x20 || (unsigned char)name[i] >= 0x7f)
			return false;
	}
	p += n;
	*f_r = HF_RAW;
	*all_r = false;
	if (*p == ':') {
		p++;
		size_t m = strcspn(p, ":");
		static const struct { const char *s; enum hform f; } forms[] = {
			{ "asRaw", HF_RAW }, { "asText", HF_TEXT }, { "asAddresses", HF_ADDRESSES },
			{ "asGroupedAddresses", HF_GROUPED }, { "asMessageIds", HF_MSGIDS }, { "asDate", HF_DATE },
			{ "asURLs", HF_URLS },
		};
		bool found = false;
		if (m == 3 && strncmp(p, "all", 3) == 0 && p[3] == '\0') {
			*all_r = true;
			return true;
		}
		for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
			if (strlen(forms[i].s) == m && strncmp(forms[i].s, p, m) == 0) {
				*f_r = forms[i].f;
				found = true;
			}
		}
		if (!found)
			return false;
		p += m;
		if (*p == ':') {
			if (strcmp(p + 1, "all") != 0)
				return false;
			*all_r = true;
		} else if (*p != '\0') {
			return false;
		}
	}
	return true;
}

static json_t *all_headers(const struct hfield *hf, size_t n)
{
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *name = json_stringn(hf[i].name, hf[i].namelen);
		json_t *value = json_stringn(hf[i].value, hf[i].valuelen);
		json_array_append_new(out, json_pack("{soso}", "name", name ? name : json_string(""), "value",
						     value ? value : json_string("")));
	}
	return out;
}

/* ------------------------------------------------------------------ body parts */

struct blists {
	int *text, *html, *att;
	size_t ntext, nhtml, natt;
};

static bool is_inline_media(const struct mail_part *p)
{
	return strcmp(p->type, "image") == 0 || strcmp(p->type, "audio") == 0 || strcmp(p->type, "video") == 0;
}

static bool is_type(const struct mail_part *p, const char *t, const char *s)
{
	return strcmp(p->type, t) == 0 && strcmp(p->subtype, s) == 0;
}

/* Children of part i: indexes into kids (arena). */
static size_t children(struct arena *a, const struct mail_part *parts, size_t n, size_t i, int **kids_r)
{
	size_t cnt = 0;
	for (size_t j = i + 1; j < n && parts[j].depth > parts[i].depth; j++)
		cnt += parts[j].depth == parts[i].depth + 1;
	int *k = arena_alloc(a, (cnt + 1) * sizeof(int));
	size_t m = 0;
	for (size_t j = i + 1; j < n && parts[j].depth > parts[i].depth; j++) {
		if (parts[j].depth == parts[i].depth + 1)
			k[m++] = (int)j;
	}
	*kids_r = k;
	return m;
}

/* RFC 8621 §4.1.4 parseStructure over the part indexes list. */
static void parse_structure(struct arena *a, const struct mail_part *parts, size_t n, const int *list, size_t cnt,
			    const char *multipart_type, bool in_alt, bool text_on, bool html_on, struct blists *b)
{
	size_t text_len = text_on ? b->ntext : (size_t)-1, html_len = html_on ? b->nhtml : (size_t)-1;
	for (size_t i = 0; i < cnt; i++) {
		const struct mail_part *p = &parts[list[i]];
		bool multipart = (p->flags & MAIL_PART_MULTIPART) != 0;
		bool named = p->filename[0] != '\0';
		bool is_inline = strcmp(p->disposition, "attachment") != 0 &&
				 (is_type(p, "text", "plain") || is_type(p, "text", "html") || is_inline_media(p)) &&
				 (i == 0 || (strcmp(multipart_type, "related") != 0 && (is_inline_media(p) || !named)));
		if (multipart) {
			int *kids;
			size_t nk = children(a, parts, n, (size_t)list[i], &kids);
			parse_structure(a, parts, n, kids, nk, p->subtype, in_alt || strcmp(p->subtype, "alternative") == 0,
					text_on, html_on, b);
		} else if (is_inline) {
			if (strcmp(multipart_type, "alternative") == 0) {
				if (is_type(p, "text", "plain"))
					b->text[b->ntext++] = list[i];
				else if (is_type(p, "text", "html"))
					b->html[b->nhtml++] = list[i];
				else
					b->att[b->natt++] = list[i];
				continue;
			} else if (in_alt) {
				if (is_type(p, "text", "plain"))
					html_on = false;
				if (is_type(p, "text", "html"))
					text_on = false;
			}
			if (text_on)
				b->text[b->ntext++] = list[i];
			if (html_on)
				b->html[b->nhtml++] = list[i];
			if ((!text_on || !html_on) && is_inline_media(p))
				b->att[b->natt++] = list[i];
		} else {
			b->att[b->natt++] = list[i];
		}
	}
	if (strcmp(multipart_type, "alternative") == 0 && text_on && html_on) {
		if (text_len == b->ntext && html_len != b->nhtml) {
			for (size_t k = html_len; k < b->nhtml; k++)
				b->text[b->ntext++] = b->html[k];
		}
		if (html_len == b->nhtml && text_len != b->ntext) {
			for (size_t k = text_len; k < b->ntext; k++)
				b->html[b->nhtml++] = b->text[k];
		}
	}
}

static const char *part_id(const struct mail_part *parts, int idx)
{
	/* a single-part message's body is section 1 (the whole-message entry has "") */
	const char *s = parts[idx].section;
	return s[0] ? s : "1";
}

static bool bp_wanted(json_t *props, const char *name)
{
	static const char *const defaults[] = { "partId", "blobId", "size", "name", "type", "charset",
						"disposition", "cid", "language", "location", NULL };
	return props == NULL ? jmap_str_in(defaults, name) : jmap_array_has(props, name);
}

static json_t *part_json(struct jmap_ctx *ctx, const struct jmap_email_src *src, int idx, json_t *props,
			 bool with_sub)
{
	const struct mail_part *p = &src->parts[idx];
	bool multipart = (p->flags & MAIL_PART_MULTIPART) != 0;
	json_t *o = json_object();
	const char *pid = part_id(src->parts, idx);
	if (bp_wanted(props, "partId"))
		json_object_set_new(o, "partId", multipart ? json_null() : json_string(pid));
	if (bp_wanted(props, "blobId")) {
		char blob[128];
		if (multipart || (src->email_id == 0 && src->blob_id == NULL)) {
			json_object_set_new(o, "blobId", json_null());
		} else {
			if (src->email_id != 0)
				jmap_blob_id(src->email_id, pid, blob, sizeof(blob));
			else
				snprintf(blob, sizeof(blob), "%s", src->blob_id);
			json_object_set_new(o, "blobId", json_string(blob));
		}
	}
	if (bp_wanted(props, "size")) {
		uint64_t size = multipart ? 0 : mail_part_decoded_size(src->data, src->len, p);
		json_object_set_new(o, "size", json_integer((json_int_t)size));
	}
	if (bp_wanted(props, "name")) {
		json_t *n = p->filename[0] ? json_string(p->filename) : NULL;
		json_object_set_new(o, "name", n ? n : json_null());
	}
	if (bp_wanted(props, "type"))
		json_object_set_new(o, "type", json_string(arena_printf(ctx->a, "%s/%s", p->type, p->subtype)));
	if (bp_wanted(props, "charset")) {
		const char *cs = p->charset[0] ? p->charset : strcmp(p->type, "text") == 0 ? "us-ascii" : NULL;
		json_object_set_new(o, "charset", cs ? json_string(cs) : json_null());
	}
	if (bp_wanted(props, "disposition"))
		json_object_set_new(o, "disposition", p->disposition[0] ? json_string(p->disposition) : json_null());
	if (bp_wanted(props, "cid")) {
		const char *c = p->content_id;
		size_t n = strlen(c);
		json_t *v = NULL;
		if (n >= 2 && c[0] == '<' && c[n - 1] == '>')
			v = json_stringn(c + 1, n - 2);
		else if (n > 0)
			v = json_string(c);
		json_object_set_new(o, "cid", v ? v : json_null());
	}
	if (bp_wanted(props, "language"))
		json_object_set_new(o, "language", json_null());
	if (bp_wanted(props, "location"))
		json_object_set_new(o, "location", json_null());
	if (bp_wanted(props, "headers") && src->whole && p->hdr_off + p->hdr_len <= src->len) {
		struct hfield *hf;
		size_t n = header_fields(ctx->a, src->data + p->hdr_off, (size_t)p->hdr_len, &hf);
		json_object_set_new(o, "headers", all_headers(hf, n));
	}
	if (with_sub && multipart && (props == NULL || bp_wanted(props, "subParts"))) {
		int *kids;
		size_t nk = children(ctx->a, src->parts, src->nparts, (size_t)idx, &kids);
		json_t *sub = json_array();
		for (size_t k = 0; k < nk; k++)
			json_array_append_new(sub, part_json(ctx, src, kids[k], props, true));
		json_object_set_new(o, "subParts", sub);
	}
	return o;
}

/* The decoded text of a part as UTF-8 with LF line ends (mail_part_text turns CR
 * into spaces, which a body value must not show). */
static void part_text(const char *msg, size_t len, const struct mail_part *p, struct buf *out)
{
	struct buf raw = { 0 };
	mail_part_binary(msg, len, p, &raw);
	size_t k = 0;
	for (size_t i = 0; i < raw.len; i++) {
		if (raw.data[i] == '\r' && i + 1 < raw.len && raw.data[i + 1] == '\n')
			continue;
		raw.data[k++] = raw.data[i];
	}
	raw.len = k;
	const char *cs = p->charset;
	char *u = NULL;
	if (cs[0] != '\0' && strcasecmp(cs, "utf-8") != 0 && strcasecmp(cs, "utf8") != 0 &&
	    strcasecmp(cs, "us-ascii") != 0) {
		const char *name = g_mime_charset_iconv_name(cs);
		gsize outlen = 0;
		char *c = g_convert(raw.data ? raw.data : "", (gssize)raw.len, "UTF-8", name ? name : cs, NULL, &outlen, NULL);
		if (c == NULL)
			c = g_convert(raw.data ? raw.data : "", (gssize)raw.len, "UTF-8", "ISO-8859-1", NULL, &outlen, NULL);
		if (c != NULL) {
			u = g_utf8_make_valid(c, (gssize)outlen);
			g_free(c);
		}
	}
	if (u == NULL)
		u = g_utf8_make_valid(raw.data ? raw.data : "", (gssize)raw.len);
	buf_free(&raw);
	for (char *q = u; *q; q++) {
		if ((unsigned char)*q < 0x20 && *q != '\t' && *q != '\n')
			*q = ' ';
	}
	buf_puts(out, u);
	g_free(u);
}

static json_t *body_value(struct jmap_ctx *ctx, const struct jmap_email_src *src, int idx, uint64_t max)
{
	struct buf out = { 0 };
	const struct mail_part *p = &src->parts[idx];
	if (p->body_off + p->body_len <= src->len)
		part_text(src->data, src->len, p, &out);
	size_t len = out.len;
	bool truncated = false;
	if (max > 0 && len > max) {
		len = (size_t)max;
		while (len > 0 && ((unsigned char)out.data[len] & 0xc0) == 0x80)
			len--; /* do not cut a UTF-8 sequence */
		truncated = true;
	}
	json_t *v = json_stringn(out.data ? out.data : "", len);
	buf_free(&out);
	return json_pack("{sosbsb}", "value", v ? v : json_string(""), "isEncodingProblem", v == NULL, "isTruncated",
			 truncated);
}

/* ------------------------------------------------------------------ properties */

bool jmap_email_prop_wanted(json_t *props, const char *name)
{
	static const char *const defaults[] = {
		"id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt", "messageId",
		"inReplyTo", "references", "sender", "from", "to", "cc", "bcc", "replyTo", "subject", "sentAt",
		"hasAttachment", "preview", "bodyValues", "textBody", "htmlBody", "attachments", NULL,
	};
	return props == NULL ? jmap_str_in(defaults, name) : jmap_array_has(props, name);
}

bool jmap_props_need_body(json_t *properties, const struct jmap_get_opts *o)
{
	bool values = jmap_email_prop_wanted(properties, "bodyValues") && (o->fetch_text || o->fetch_html || o->fetch_all);
	bool part_headers = o->body_properties != NULL && bp_wanted(o->body_properties, "headers");
	return values || part_headers;
}

bool jmap_get_opts_parse(struct jmap_ctx *ctx, json_t *args, struct jmap_get_opts *o)
{
	memset(o, 0, sizeof(*o));
	json_t *p = json_object_get(args, "properties"), *bp = json_object_get(args, "bodyProperties");
	if ((p != NULL && !json_is_null(p) && !json_is_array(p)) || (bp != NULL && !json_is_null(bp) && !json_is_array(bp))) {
		jmap_fail(ctx, "invalidArguments", "properties and bodyProperties must be arrays");
		return false;
	}
	o->properties = json_is_array(p) ? p : NULL;
	o->body_properties = json_is_array(bp) ? bp : NULL;
	size_t i;
	json_t *v;
	json_array_foreach(o->properties, i, v) {
		const char *s = json_string_value(v);
		char name[256];
		enum hform f;
		bool all;
		static const char *const known[] = {
			"id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt", "messageId",
			"inReplyTo", "references", "sender", "from", "to", "cc", "bcc", "replyTo", "subject", "sentAt",
			"hasAttachment", "preview", "bodyValues", "textBody", "htmlBody", "attachments", "headers",
			"bodyStructure", NULL,
		};
		bool ok = s != NULL && (parse_header_prop(s, name, sizeof(name), &f, &all) || jmap_str_in(known, s));
		if (!ok) {
			jmap_fail(ctx, "invalidArguments", "unknown property %s", s ? s : "(not a string)");
			return false;
		}
	}
	o->fetch_text = json_is_true(json_object_get(args, "fetchTextBodyValues"));
	o->fetch_html = json_is_true(json_object_get(args, "fetchHTMLBodyValues"));
	o->fetch_all = json_is_true(json_object_get(args, "fetchAllBodyValues"));
	if (!jmap_arg_uint(ctx, args, "maxBodyValueBytes", &o->max_body_bytes, NULL))
		return false;
	/* RFC 8621 §4.2 means "no truncation" by 0 (the default); we cut at a server
	 * default instead, with isTruncated set (clients that want more, as the webmail's
	 * reader, ask for it), so that a small request cannot return huge bodies */
	if (o->max_body_bytes == 0)
		o->max_body_bytes = JMAP_BODY_VALUE_DEFAULT;
	return true;
}

json_t *jmap_email_props(struct jmap_ctx *ctx, const struct jmap_email_src *src, const struct jmap_get_opts *o)
{
	json_t *props = o->properties;
	json_t *e = json_object();
	const struct mail_part *root = &src->parts[0];
	size_t hlen = (size_t)(root->hdr_len < src->len ? root->hdr_len : src->len);
	struct hfield *hf;
	size_t nh = header_fields(ctx->a, src->data, hlen, &hf);
	if (jmap_email_prop_wanted(props, "headers"))
		json_object_set_new(e, "headers", all_headers(hf, nh));
	static const struct { const char *prop, *field; enum hform f; } std[] = {
		{ "messageId", "Message-ID", HF_MSGIDS }, { "inReplyTo", "In-Reply-To", HF_MSGIDS },
		{ "references", "References", HF_MSGIDS }, { "sender", "Sender", HF_ADDRESSES },
		{ "from", "From", HF_ADDRESSES }, { "to", "To", HF_ADDRESSES }, { "cc", "Cc", HF_ADDRESSES },
		{ "bcc", "Bcc", HF_ADDRESSES }, { "replyTo", "Reply-To", HF_ADDRESSES },
		{ "subject", "Subject", HF_TEXT }, { "sentAt", "Date", HF_DATE },
	};
	for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
		if (!jmap_email_prop_wanted(props, std[i].prop))
			continue;
		json_t *v = header_value(ctx->a, hf, nh, std[i].field, std[i].f, false);
		if (std[i].f == HF_ADDRESSES && json_is_array(v) && json_array_size(v) == 0) {
			json_decref(v);
			v = json_null();
		}
		json_object_set_new(e, std[i].prop, v);
	}
	size_t i;
	json_t *v;
	json_array_foreach(props, i, v) {
		char name[256];
		enum hform f;
		bool all;
		const char *s = json_string_value(v);
		if (s && parse_header_prop(s, name, sizeof(name), &f, &all))
			json_object_set_new(e, s, header_value(ctx->a, hf, nh, name, f, all));
	}
	bool want_text = jmap_email_prop_wanted(props, "textBody"), want_html = jmap_email_prop_wanted(props, "htmlBody"),
	     want_att = jmap_email_prop_wanted(props, "attachments"), want_values = jmap_email_prop_wanted(props, "bodyValues");
	if (jmap_email_prop_wanted(props, "bodyStructure"))
		json_object_set_new(e, "bodyStructure", part_json(ctx, src, 0, o->body_properties, true));
	if (want_text || want_html || want_att || want_values) {
		struct blists b = { 0 };
		b.text = arena_alloc(ctx->a, (src->nparts + 1) * sizeof(int) * 2);
		b.html = arena_alloc(ctx->a, (src->nparts + 1) * sizeof(int) * 2);
		b.att = arena_alloc(ctx->a, (src->nparts + 1) * sizeof(int) * 2);
		int root_idx = 0;
		parse_structure(ctx->a, src->parts, src->nparts, &root_idx, 1, "mixed", false, true, true, &b);
		/* a single-part message: its body part is index 0 but partId "1" */
		if (want_text) {
			json_t *a = json_array();
			for (size_t k = 0; k < b.ntext; k++)
				json_array_append_new(a, part_json(ctx, src, b.text[k], o->body_properties, false));
			json_object_set_new(e, "textBody", a);
		}
		if (want_html) {
			json_t *a = json_array();
			for (size_t k = 0; k < b.nhtml; k++)
				json_array_append_new(a, part_json(ctx, src, b.html[k], o->body_properties, false));
			json_object_set_new(e, "htmlBody", a);
		}
		if (want_att) {
			json_t *a = json_array();
			for (size_t k = 0; k < b.natt; k++)
				json_array_append_new(a, part_json(ctx, src, b.att[k], o->body_properties, false));
			json_object_set_new(e, "attachments", a);
		}
		if (want_values) {
			json_t *vals = json_object();
			if (src->whole) {
				for (int pass = 0; pass < 2; pass++) {
					const int *l = pass == 0 ? b.text : b.html;
					size_t n = pass == 0 ? b.ntext : b.nhtml;
					bool on = o->fetch_all || (pass == 0 ? o->fetch_text : o->fetch_html);
					for (size_t k = 0; on && k < n; k++) {
						const struct mail_part *p = &src->parts[l[k]];
						const char *pid = part_id(src->parts, l[k]);
						if (strcmp(p->type, "text") != 0 || json_object_get(vals, pid))
							continue;
						json_object_set_new(vals, pid, body_value(ctx, src, l[k], o->max_body_bytes));
					}
				}
			}
			json_object_set_new(e, "bodyValues", vals);
		}
	}
	return e;
}
