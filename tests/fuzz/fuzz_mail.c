/* fuzz_mail.c: libFuzzer target for the message parser (src/mail, mail_parse).
 *
 * mail.h promises that any bytes give a result and never a crash. Invariants: the
 * result exists, size is the input length, header_len fits, parts[0] is the whole
 * message (section ""), every part's header and body ranges lie inside the message
 * and its depth is within MAIL_MAX_DEPTH, there are at most MAIL_MAX_PARTS parts with
 * distinct sections that mail_part_find finds; ENVELOPE, BODY and BODYSTRUCTURE are
 * well-formed IMAP lists (balanced parentheses outside quoted strings and literals);
 * the part table survives mail_parts_encode/mail_parts_decode; decoding every text
 * part, the body text and header values works; mail_normalize_crlf leaves no bare LF
 * and its result parses too. Arena and buffers are freed after every input, so ASan's
 * leak check sees anything the parser loses. */
#include "fuzz.h"
#include "mail.h"

#include <string.h>

/* Walks one IMAP parenthesised list: atoms, "quoted\" strings", {n}\r\n literals. */
static void check_imap_list(const char *s)
{
	CHECK(s != NULL);
	size_t len = strlen(s), i = 0;
	int depth = 0;
	CHECK(len > 0 && s[0] == '(');
	while (i < len) {
		char c = s[i];
		if (c == '(') {
			depth++;
			i++;
		} else if (c == ')') {
			CHECK(depth > 0);
			depth--;
			i++;
			if (depth == 0)
				break;
		} else if (c == '"') {
			i++;
			while (i < len && s[i] != '"') {
				CHECK(s[i] != '\r' && s[i] != '\n');
				i += s[i] == '\\' ? 2 : 1;
			}
			CHECK(i < len);
			i++;
		} else if (c == '{') {
			char *end;
			unsigned long long n = strtoull(s + i + 1, &end, 10);
			CHECK(end > s + i + 1 && end[0] == '}' && end[1] == '\r' && end[2] == '\n');
			i = (size_t)(end + 3 - s);
			CHECK(n <= len - i);
			i += n;
		} else {
			CHECK(c != '\r' && c != '\n');
			i++;
		}
	}
	CHECK(depth == 0 && i == len);
}

static void check_same_field(const char *decoded, const char *orig)
{
	size_t n = strlen(orig);
	CHECK(strlen(decoded) == n);
	for (size_t i = 0; i < n; i++) {
		char c = orig[i];
		CHECK(decoded[i] == ((c == '\t' || c == '\n' || c == '\r') ? ' ' : c));
	}
}

static void check_info(struct arena *a, const char *data, size_t len, const struct mail_info *mi)
{
	CHECK(mi != NULL);
	CHECK(mi->size == len);
	CHECK(mi->header_len <= len);
	CHECK(mi->nparts >= 1 && mi->nparts <= MAIL_MAX_PARTS + 1);
	CHECK(mi->parts != NULL && strcmp(mi->parts[0].section, "") == 0);
	CHECK(mi->subject && mi->from && mi->to && mi->cc && mi->bcc && mi->reply_to && mi->sender);
	CHECK(mi->message_id && mi->in_reply_to && mi->references && mi->preview);
	check_imap_list(mi->envelope);
	check_imap_list(mi->bodystructure);
	check_imap_list(mi->body);
	for (size_t i = 0; i < mi->nparts; i++) {
		const struct mail_part *p = &mi->parts[i];
		CHECK(p->section && p->type && p->subtype && p->encoding && p->charset && p->disposition &&
		      p->filename && p->content_id);
		CHECK(p->hdr_off <= len && p->hdr_len <= len - p->hdr_off);
		CHECK(p->body_off <= len && p->body_len <= len - p->body_off);
		CHECK(p->msg_hdr_len <= p->body_len);
		CHECK(p->lines <= p->body_len);
		CHECK(p->depth >= 0 && p->depth <= MAIL_MAX_DEPTH + 1);
		if (i < 64)
			CHECK(mail_part_find(mi->parts, mi->nparts, p->section) == p);
	}
	/* the part table as stored */
	const char *enc = mail_parts_encode(a, mi->parts, mi->nparts);
	struct mail_part *back = NULL;
	size_t nback = 0;
	CHECK(mail_parts_decode(a, enc, &back, &nback) == 1);
	CHECK(nback == mi->nparts);
	for (size_t i = 0; i < nback; i++) {
		const struct mail_part *p = &mi->parts[i], *q = &back[i];
		CHECK(p->hdr_off == q->hdr_off && p->hdr_len == q->hdr_len && p->body_off == q->body_off &&
		      p->body_len == q->body_len && p->lines == q->lines && p->msg_hdr_len == q->msg_hdr_len &&
		      p->flags == q->flags && p->depth == q->depth);
		check_same_field(q->section, p->section);
		check_same_field(q->type, p->type);
		check_same_field(q->filename, p->filename);
		check_same_field(q->content_id, p->content_id);
	}
	/* decoding */
	struct buf out = { 0 };
	for (size_t i = 0; i < mi->nparts && i < 32; i++) {
		const struct mail_part *p = &mi->parts[i];
		if (p->flags & MAIL_PART_TEXT) {
			mail_part_text(data, len, p, strcmp(p->subtype, "html") == 0, &out);
			buf_reset(&out);
		}
	}
	mail_body_text(data, len, mi->parts, mi->nparts, &out);
	buf_reset(&out);
	CHECK(mail_header_values(data, (size_t)mi->header_len, "Subject", &out) >= 0);
	CHECK(mail_header_values_raw(data, (size_t)mi->header_len, "Received", &out) >= 0);
	buf_free(&out);
	(void)mail_msgids(a, mi->references, 100);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	mail_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct arena *a = arena_new();
	struct mail_info *mi = mail_parse(a, p, size);
	check_info(a, p, size, mi);
	char *crlf = NULL;
	size_t n = mail_normalize_crlf(p, size, &crlf);
	CHECK(n >= size);
	for (size_t i = 0; i < n; i++) {
		if (crlf[i] == '\n')
			CHECK(i > 0 && crlf[i - 1] == '\r');
	}
	arena_clear(a);
	check_info(a, crlf, n, mail_parse(a, crlf, n));
	free(crlf);
	arena_free(&a);
	CHECK(a == NULL);
	return 0;
}
