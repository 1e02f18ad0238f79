/* jmap_snippet.c: SearchSnippet/get (RFC 8621 §5). The terms come from the text,
 * body and subject conditions of the filter (not under NOT); the subject is shown
 * with every match in <mark>, the preview is up to 240 bytes of the body text
 * around the first match. Everything is HTML-escaped; no match gives null. */
#include "jmap.h"

#include <string.h>
#include <strings.h>

static void collect_terms(json_t *f, json_t *terms, json_t *subject_terms, int depth)
{
	if (!json_is_object(f) || depth > 64)
		return;
	json_t *conds = json_object_get(f, "conditions");
	if (json_is_array(conds)) {
		const char *op = json_string_value(json_object_get(f, "operator"));
		if (op && strcmp(op, "NOT") == 0)
			return;
		size_t i;
		json_t *c;
		json_array_foreach(conds, i, c)
			collect_terms(c, terms, subject_terms, depth + 1);
		return;
	}
	json_t *v;
	if ((v = json_object_get(f, "text")) && json_is_string(v)) {
		json_array_append(terms, v);
		json_array_append(subject_terms, v);
	}
	if ((v = json_object_get(f, "body")) && json_is_string(v))
		json_array_append(terms, v);
	if ((v = json_object_get(f, "subject")) && json_is_string(v))
		json_array_append(subject_terms, v);
}

static void html_escape(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '&': buf_puts(b, "&amp;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\r': case '\n': case '\t': buf_putc(b, ' '); break;
		default: buf_putc(b, s[i]);
		}
	}
}

/* The first case-insensitive match of any term in text[0..len): position and length. */
static bool find_term(const char *text, size_t len, json_t *terms, size_t *pos_r, size_t *tlen_r)
{
	bool found = false;
	size_t i;
	json_t *t;
	json_array_foreach(terms, i, t) {
		const char *term = json_string_value(t);
		size_t tl = strlen(term);
		if (tl == 0 || tl > len)
			continue;
		for (size_t p = 0; p + tl <= len; p++) {
			if (strncasecmp(text + p, term, tl) == 0) {
				if (!found || p < *pos_r) {
					*pos_r = p;
					*tlen_r = tl;
					found = true;
				}
				break;
			}
		}
	}
	return found;
}

/* Text with every term match in <mark>, HTML-escaped; NULL when nothing matches. */
static json_t *highlight(const char *text, size_t len, json_t *terms)
{
	size_t pos, tl;
	if (!find_term(text, len, terms, &pos, &tl))
		return json_null();
	struct buf b = { 0 };
	size_t i = 0;
	while (i < len) {
		if (!find_term(text + i, len - i, terms, &pos, &tl)) {
			html_escape(&b, text + i, len - i);
			break;
		}
		html_escape(&b, text + i, pos);
		buf_puts(&b, "<mark>");
		html_escape(&b, text + i + pos, tl);
		buf_puts(&b, "</mark>");
		i += pos + tl;
	}
	json_t *s = json_string(buf_str(&b));
	buf_free(&b);
	return s ? s : json_null();
}

json_t *jmap_snippet_get(struct jmap_ctx *ctx, json_t *args)
{
	if (!jmap_check_account(ctx, args))
		return NULL;
	json_t *ids = json_object_get(args, "emailIds");
	if (!json_is_array(ids))
		return jmap_fail(ctx, "invalidArguments", "emailIds must be an array");
	if (json_array_size(ids) > JMAP_MAX_OBJECTS)
		return jmap_fail(ctx, "requestTooLarge", "at most %d ids", JMAP_MAX_OBJECTS);
	json_t *terms = json_array(), *sterms = json_array();
	collect_terms(json_object_get(args, "filter"), terms, sterms, 0);
	json_t *list = json_array(), *not_found = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) {
		int64_t eid;
		struct store_msg_meta meta;
		int64_t mbid;
		const char *error;
		const char *s = json_string_value(v);
		if (s == NULL || store_id_parse(s, 'E', &eid) <= 0 ||
		    store_email_meta(ctx->store, ctx->a, ctx->account_id, eid, &meta, &mbid, &error) <= 0) {
			json_array_append_new(not_found, json_is_string(v) ? json_copy(v) : json_null());
			continue;
		}
		json_t *subj = highlight(meta.subject, strlen(meta.subject), sterms);
		json_t *prev = json_null();
		if (json_array_size(terms) > 0) {
			const char *msg;
			size_t len;
			struct mail_part *parts;
			size_t np;
			if (jmap_email_read(ctx, eid, &msg, &len) > 0 && mail_parts_decode(ctx->a, meta.parts, &parts, &np) >= 0) {
				struct buf body = { 0 };
				mail_body_text(msg, len, parts, np, &body);
				size_t pos, tl;
				if (body.len > 0 && find_term(body.data, body.len, terms, &pos, &tl)) {
					size_t start = pos > 80 ? pos - 80 : 0;
					while (start > 0 && ((unsigned char)body.data[start] & 0xc0) == 0x80)
						start--;
					size_t endp = pos + tl + 160 < body.len ? pos + tl + 160 : body.len;
					while (endp < body.len && ((unsigned char)body.data[endp] & 0xc0) == 0x80)
						endp++;
					json_decref(prev);
					prev = highlight(body.data + start, endp - start, terms);
				}
				buf_free(&body);
			}
		}
		json_array_append_new(list, json_pack("{sssoso}", "emailId", s, "subject", subj, "preview", prev));
	}
	json_decref(terms);
	json_decref(sterms);
	return json_pack("{sssoso}", "accountId", ctx->account_id_str, "list", list, "notFound", not_found);
}
