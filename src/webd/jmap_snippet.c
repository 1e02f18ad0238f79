/* jmap_snippet.c: SearchSnippet/get (RFC 8621 §5). The terms come from the text,
 * body and subject conditions of the filter (not under NOT). Matches are found with
 * the search's own folding (i;unicode-casemap, mail_casefold) and marked in the
 * original text through mail_fold_map, so the marks are the spans SEARCH matched:
 * "STRASSE" marks "Straße". The subject is shown whole with every match in <mark>;
 * the preview is at most 255 octets of the body text (RFC 8621 §5.1, mark tags not
 * counted) starting shortly before the first match. Everything is HTML-escaped; no
 * match gives null.
 *
 * The full-text index says first whether a term is in a message's body text; only a
 * message whose body matches is read to cut its preview. The index cannot give the
 * preview itself: it holds the folded text (lower case, "ß" as "ss"), not what the
 * user wrote. */
#include "jmap.h"

#include <string.h>
#include <strings.h>

/* at most this many octets of body text in a preview (RFC 8621 §5.1), and how far
 * before the first match it may start */
#define PREVIEW_MAX 255
#define PREVIEW_LEAD 60

struct terms {
	const char **v; /* folded */
	size_t n;
};

static void add_term(struct jmap_ctx *ctx, struct terms *t, json_t *v)
{
	const char *s = json_string_value(v);
	if (s == NULL || *s == '\0' || t->n >= 64)
		return;
	if (t->n % 8 == 0) {
		const char **nv = arena_alloc(ctx->a, (t->n + 8) * sizeof(*nv));
		if (t->n > 0)
			memcpy(nv, t->v, t->n * sizeof(*nv));
		t->v = nv;
	}
	t->v[t->n++] = mail_casefold(ctx->a, s, strlen(s));
}

static void collect_terms(struct jmap_ctx *ctx, json_t *f, struct terms *body, struct terms *subj, int depth)
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
			collect_terms(ctx, c, body, subj, depth + 1);
		return;
	}
	json_t *v;
	if ((v = json_object_get(f, "text")) != NULL) {
		add_term(ctx, body, v);
		add_term(ctx, subj, v);
	}
	if ((v = json_object_get(f, "body")) != NULL)
		add_term(ctx, body, v);
	if ((v = json_object_get(f, "subject")) != NULL)
		add_term(ctx, subj, v);
}

/* Appends s[0..n) HTML-escaped, white space runs as one space, while the octets
 * written stay within *budget (decremented). False when the budget ran out. */
static bool put_escaped(struct buf *b, const char *s, size_t n, size_t *budget)
{
	for (size_t i = 0; i < n;) {
		size_t cl = 1;
		while (i + cl < n && ((unsigned char)s[i + cl] & 0xc0) == 0x80)
			cl++;
		const char *rep = NULL;
		switch (s[i]) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		case '\r': case '\n': case '\t': case ' ':
			rep = b->len > 0 && b->data[b->len - 1] == ' ' ? "" : " ";
			break;
		default: break;
		}
		size_t l = rep ? strlen(rep) : cl;
		if (l > *budget)
			return false;
		if (rep)
			buf_puts(b, rep);
		else
			buf_append(b, s + i, cl);
		*budget -= l;
		i += cl;
	}
	return true;
}

/* The earliest match of any term at or after `from` (the longest of those starting
 * there). */
static bool first_match(const struct mail_folded *f, const struct terms *t, size_t from, size_t *s_r, size_t *e_r)
{
	bool found = false;
	for (size_t i = 0; i < t->n; i++) {
		size_t s, e;
		if (mail_fold_find(f, from, t->v[i], &s, &e) &&
		    (!found || s < *s_r || (s == *s_r && e > *e_r))) {
			*s_r = s;
			*e_r = e;
			found = true;
		}
	}
	return found;
}

/* f's text from `from` with every match in <mark>, at most budget octets of text;
 * null when nothing matches. */
static json_t *marked(const struct mail_folded *f, const struct terms *t, size_t from, size_t budget)
{
	size_t s, e;
	if (!first_match(f, t, from, &s, &e))
		return json_null();
	struct buf b = { 0 };
	size_t pos = from;
	for (;;) {
		bool more = first_match(f, t, pos, &s, &e);
		size_t upto = more ? s : f->text_len;
		if (!put_escaped(&b, f->text + pos, upto - pos, &budget) || !more)
			break;
		struct buf m = { 0 };
		size_t left = budget;
		bool whole = put_escaped(&m, f->text + s, e - s, &left);
		if (whole) { /* a match cut by the budget is left out, not half marked */
			buf_puts(&b, "<mark>");
			buf_append(&b, m.data, m.len);
			buf_puts(&b, "</mark>");
			budget = left;
		}
		buf_free(&m);
		if (!whole)
			break;
		pos = e;
	}
	while (b.len > 0 && b.data[b.len - 1] == ' ') /* a preview does not end in white space */
		b.data[--b.len] = '\0';
	json_t *r = json_string(buf_str(&b));
	buf_free(&b);
	return r ? r : json_null();
}

/* The preview of a message whose body may match: null when it does not. */
static json_t *preview(struct jmap_ctx *ctx, int64_t eid, const struct store_msg_meta *meta, const struct terms *t)
{
	/* the index says whether any term is in the body, without reading the file */
	bool maybe = false;
	for (size_t i = 0; i < t->n && !maybe; i++) {
		const char *err;
		int r = store_index_body_has(ctx->store, eid, t->v[i], &err);
		maybe = r != 0; /* a match, an answer the index cannot give, or an error */
	}
	if (!maybe)
		return json_null();
	const char *msg;
	size_t len;
	struct mail_part *parts;
	size_t np;
	if (jmap_email_read(ctx, eid, &msg, &len) <= 0 || mail_parts_decode(ctx->a, meta->parts, &parts, &np) < 0)
		return json_null();
	struct buf body = { 0 };
	mail_body_text(msg, len, parts, np, &body);
	json_t *out = json_null();
	struct mail_folded f;
	size_t s, e;
	if (mail_fold_map(ctx->a, buf_str(&body), body.len, &f) > 0 && first_match(&f, t, 0, &s, &e)) {
		/* start a little before the match, at a word if there is one */
		size_t from = s > PREVIEW_LEAD ? s - PREVIEW_LEAD : 0;
		while (from > 0 && ((unsigned char)f.text[from] & 0xc0) == 0x80)
			from--;
		if (from > 0) {
			const char *sp = memchr(f.text + from, ' ', s - from);
			if (sp != NULL)
				from = (size_t)(sp - f.text) + 1;
		}
		while (from < s && strchr(" \t\r\n", f.text[from]) != NULL)
			from++;
		json_decref(out);
		out = marked(&f, t, from, PREVIEW_MAX);
	}
	buf_free(&body);
	return out;
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
	struct terms body = { 0 }, subj = { 0 };
	collect_terms(ctx, json_object_get(args, "filter"), &body, &subj, 0);
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
		json_t *subject = json_null();
		struct mail_folded f;
		if (subj.n > 0 && mail_fold_map(ctx->a, meta.subject, strlen(meta.subject), &f) > 0) {
			json_decref(subject);
			subject = marked(&f, &subj, 0, SIZE_MAX);
		}
		json_t *prev = body.n > 0 ? preview(ctx, eid, &meta, &body) : json_null();
		json_array_append_new(list, json_pack("{sssoso}", "emailId", s, "subject", subject, "preview", prev));
	}
	return json_pack("{sssoso}", "accountId", ctx->account_id_str, "list", list, "notFound", not_found);
}
