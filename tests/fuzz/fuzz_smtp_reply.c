/* fuzz_smtp_reply.c: libFuzzer target for the SMTP client's reply parser
 * (src/proto/smtp/smtp_client.h: smtp_reply_feed, smtp_ehlo_parse, smtp_enhanced_code).
 *
 * The first byte seeds the split; the rest is what a remote server sends. The stream
 * is parsed whole, one byte at a time and in random pieces, each time reading reply
 * after reply until an error or the end; the three must give the same replies (code,
 * enhanced code, text, number of lines), the same bytes consumed per reply and the
 * same error. They are also compared with an independent reading of RFC 5321 §4.2
 * (lines end at LF, a CR before it dropped; "NNN-" continues, "NNN" or "NNN " ends; the
 * code is 2xx-5xx and the same on every line). Every reply text goes through
 * smtp_ehlo_parse, and the enhanced code is checked to be class.subject.detail. */
#include "fuzz.h"
#include "smtp_client.h"

#include <ctype.h>
#include <string.h>

#define MAX_REPLIES 64

struct reply {
	int code;
	char enh[16];
	unsigned nlines;
	size_t text_off, text_len; /* into the run's text buffer */
	size_t end;                /* stream offset just after the reply */
};

struct run {
	struct reply r[MAX_REPLIES];
	size_t n;
	bool error;
	size_t consumed;
	struct buf text;
};

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void check_enh(const char *enh, int code)
{
	size_t n = strlen(enh);
	CHECK(n < 16);
	if (n == 0)
		return;
	CHECK(n >= 5 && (enh[0] == '2' || enh[0] == '4' || enh[0] == '5') && enh[1] == '.');
	int dots = 0;
	for (size_t i = 2; i < n; i++) {
		if (enh[i] == '.')
			dots++;
		else
			CHECK(isdigit((unsigned char)enh[i]));
	}
	CHECK(dots == 1);
	(void)code;
}

static void parse(const char *p, size_t len, size_t step, uint32_t seed, struct run *out)
{
	memset(out, 0, sizeof(*out));
	struct smtp_reply_parser rp;
	smtp_reply_init(&rp);
	size_t pos = 0, chunk_end = 0;
	uint32_t s = seed | 1;
	while (pos < len && out->n < MAX_REPLIES) {
		if (pos >= chunk_end) {
			size_t n = step ? step : 1 + rng_next(&s) % 300;
			chunk_end = pos + (n > len - pos ? len - pos : n);
		}
		size_t used = (size_t)-1;
		const char *error = NULL;
		int r = smtp_reply_feed(&rp, (struct bytes){ p + pos, chunk_end - pos }, &used, &error);
		if (r < 0) {
			CHECK(error != NULL && error[0] != '\0');
			out->error = true;
			break;
		}
		CHECK(r == 0 || r == 1);
		CHECK(used <= chunk_end - pos);
		pos += used;
		if (r == 0) {
			CHECK(pos == chunk_end);
			continue;
		}
		CHECK(rp.complete);
		const struct smtp_reply *rep = &rp.reply;
		CHECK(rep->code >= 200 && rep->code <= 599);
		CHECK(rep->nlines >= 1 && rep->nlines <= SMTP_REPLY_LINES_MAX);
		CHECK(rep->text.len <= (size_t)rep->nlines * (SMTP_REPLY_LINE_MAX + 1));
		check_enh(rep->enh, rep->code);
		struct reply *o = &out->r[out->n++];
		o->code = rep->code;
		memcpy(o->enh, rep->enh, sizeof(o->enh));
		o->nlines = rep->nlines;
		o->text_off = out->text.len;
		o->text_len = rep->text.len;
		buf_append(&out->text, buf_str(&rep->text), rep->text.len);
		o->end = pos;
		struct smtp_ehlo e;
		smtp_ehlo_parse(buf_str(&rep->text), &e);
		if (!e.has_size)
			CHECK(e.size == 0);
	}
	out->consumed = pos;
	smtp_reply_free(&rp);
}

/* The reference: whole lines only. */
static void reference(const char *p, size_t len, struct run *out)
{
	memset(out, 0, sizeof(*out));
	size_t pos = 0;
	struct reply cur = { 0 };
	size_t cur_text = 0;
	while (pos < len && out->n < MAX_REPLIES) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (p + pos)) : len - pos;
		if (n > SMTP_REPLY_LINE_MAX) {
			out->error = true;
			break;
		}
		if (nl == NULL)
			break;
		const char *l = p + pos;
		if (n > 0 && l[n - 1] == '\r')
			n--;
		pos = (size_t)(nl - p) + 1;
		if (n < 3 || !isdigit((unsigned char)l[0]) || !isdigit((unsigned char)l[1]) ||
		    !isdigit((unsigned char)l[2]) || l[0] < '2' || l[0] > '5' ||
		    (n > 3 && l[3] != ' ' && l[3] != '-')) {
			out->error = true;
			break;
		}
		int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
		if (cur.nlines == 0) {
			cur.code = code;
			cur_text = out->text.len;
		} else if (code != cur.code) {
			out->error = true;
			break;
		}
		if (++cur.nlines > SMTP_REPLY_LINES_MAX) {
			out->error = true;
			break;
		}
		if (cur.nlines > 1)
			buf_putc(&out->text, '\n');
		if (n > 4)
			buf_append(&out->text, l + 4, n - 4);
		if (n == 3 || l[3] == ' ') {
			cur.text_off = cur_text;
			cur.text_len = out->text.len - cur_text;
			cur.end = pos;
			const char *t = buf_str(&out->text) + cur.text_off;
			const char *nl1 = memchr(t, '\n', cur.text_len);
			size_t first = nl1 ? (size_t)(nl1 - t) : cur.text_len;
			if (smtp_enhanced_code(t, first, cur.enh) == 0)
				cur.enh[0] = '\0';
			out->r[out->n++] = cur;
			memset(&cur, 0, sizeof(cur));
		}
	}
}

static void same(const struct run *a, const struct run *b)
{
	CHECK(a->n == b->n && a->error == b->error);
	for (size_t i = 0; i < a->n; i++) {
		const struct reply *x = &a->r[i], *y = &b->r[i];
		CHECK(x->code == y->code && strcmp(x->enh, y->enh) == 0 && x->nlines == y->nlines);
		CHECK(x->end == y->end && x->text_len == y->text_len);
		CHECK(memcmp(buf_str(&a->text) + x->text_off, buf_str(&b->text) + y->text_off, x->text_len) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint32_t seed = data[0] * 2654435761u;
	const char *p = (const char *)data + 1;
	size_t len = size - 1;
	struct run whole, bytewise, pieces, ref;
	parse(p, len, len ? len : 1, 0, &whole);
	parse(p, len, 1, 0, &bytewise);
	parse(p, len, 0, seed, &pieces);
	reference(p, len, &ref);
	same(&whole, &bytewise);
	same(&whole, &pieces);
	same(&whole, &ref);
	if (!whole.error)
		CHECK(bytewise.consumed == whole.consumed && pieces.consumed == whole.consumed);
	buf_free(&whole.text);
	buf_free(&bytewise.text);
	buf_free(&pieces.text);
	buf_free(&ref.text);

	/* smtp_enhanced_code on the raw bytes */
	char enh[16];
	if (smtp_enhanced_code(p, len, enh) == 1)
		check_enh(enh, 0);
	/* smtp_ehlo_parse on arbitrary text */
	char *t = malloc(len + 1);
	memcpy(t, p, len);
	t[len] = '\0';
	struct smtp_ehlo e;
	smtp_ehlo_parse(t, &e);
	free(t);
	return 0;
}
