/* mail_rfc2047.c: RFC 2047 encoded words in header text, decoded to UTF-8.
 *
 * Our own decoder rather than GMime's g_mime_utils_header_decode_text, which drops
 * the text after a padded B-encoded word followed by another one
 * ("=?UTF-8?B?R3LDtg==?= =?UTF-8?B?w59l?=" gave "Grö", not "Größe"); that broke SEARCH
 * SUBJECT and SORT (SUBJECT) for mail that common mailers produce.
 *
 * Rules (RFC 2047 §5, §6.2, with the leniency real mail needs):
 * - an encoded word is =?charset?B|Q?text?=, where charset may carry an RFC 2231
 *   language (*lang, dropped) and text holds no white space or '?';
 * - white space between two encoded words is dropped; anywhere else it is kept;
 * - the bytes of adjacent encoded words in the same charset are joined before the
 *   charset conversion, so a multi-byte character split across words survives; each
 *   word's base64 is decoded on its own (its padding ends it);
 * - words glued to other text ("abc=?utf-8?q?x?=") are decoded too, as mailers write
 *   them and other readers accept them;
 * - anything that does not parse as an encoded word stays as written; 8-bit text
 *   outside encoded words is taken as UTF-8 when it is valid, else as ISO-8859-1,
 *   line by line;
 * - the result is valid UTF-8 with C0 controls other than TAB and LF as spaces. */
#include "mail_int.h"

#include <glib.h>
#include <string.h>
#include <strings.h>

#include "textfmt.h"

#define CHARSET_MAX 64 /* longer charset names are not charsets */

struct word {
	char charset[CHARSET_MAX + 1];
	char enc;            /* 'B' or 'Q' */
	const char *text;    /* encoded text */
	size_t textlen, len; /* len: the whole word, "=?" to "?=" */
};

/* Parses an encoded word at s[0..n). Returns 1 and fills *w, or 0 if s does not start
 * with one. */
static int word_parse(const char *s, size_t n, struct word *w)
{
	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	size_t i = 2, cs = 0;
	while (i < n && s[i] != '?') {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7f || cs >= CHARSET_MAX)
			return 0;
		w->charset[cs++] = (char)c;
		i++;
	}
	if (cs == 0 || i + 3 >= n || s[i + 2] != '?')
		return 0;
	w->charset[cs] = '\0';
	char *star = strchr(w->charset, '*'); /* RFC 2231 language */
	if (star != NULL)
		*star = '\0';
	char e = s[i + 1];
	if (e != 'B' && e != 'b' && e != 'Q' && e != 'q')
		return 0;
	w->enc = (e == 'B' || e == 'b') ? 'B' : 'Q';
	i += 3;
	size_t start = i;
	while (i + 1 < n && !(s[i] == '?' && s[i + 1] == '=')) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == '?' || c >= 0x7f)
			return 0;
		i++;
	}
	if (i + 1 >= n)
		return 0;
	w->text = s + start;
	w->textlen = i - start;
	w->len = i + 2;
	return 1;
}

/* Appends the bytes a word encodes. Base64 stops at its padding; stray characters are
 * skipped; a trailing partial group yields the whole bytes it holds. */
static void word_bytes(const struct word *w, struct buf *out)
{
	if (w->enc == 'Q') {
		for (size_t i = 0; i < w->textlen; i++) {
			char c = w->text[i];
			int h, l;
			if (c == '_') {
				buf_putc(out, ' ');
			} else if (c == '=' && i + 2 < w->textlen &&
				   (h = textfmt_hex_digit((unsigned char)w->text[i + 1])) >= 0 &&
				   (l = textfmt_hex_digit((unsigned char)w->text[i + 2])) >= 0) {
				buf_putc(out, (char)(h << 4 | l));
				i += 2;
			} else {
				buf_putc(out, c);
			}
		}
		return;
	}
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < w->textlen; i++) {
		if (w->text[i] == '=')
			break;
		int v = textfmt_base64_digit((unsigned char)w->text[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (char)((acc >> bits) & 0xff));
		}
	}
}

/* Appends s[0..n) in charset as valid UTF-8 with controls as spaces; charset NULL:
 * UTF-8 if valid, else ISO-8859-1 (8-bit text written without encoded words), decided
 * line by line: one field of a header block in Latin-1 must not turn another's UTF-8
 * into mojibake (a mailer writes each field as it comes). */
static void put_converted(struct buf *out, const char *s, size_t n, const char *charset)
{
	if (charset == NULL) {
		for (size_t i = 0; i < n;) {
			const char *nl = memchr(s + i, '\n', n - i);
			size_t l = nl ? (size_t)(nl - (s + i)) + 1 : n - i;
			char *u = mail_to_utf8(s + i, l, g_utf8_validate(s + i, (gssize)l, NULL) ? NULL : "iso-8859-1");
			buf_puts(out, u);
			mail_free_utf8(u);
			i += l;
		}
		return;
	}
	char *u = mail_to_utf8(s, n, charset);
	buf_puts(out, u);
	mail_free_utf8(u);
}

void mail_rfc2047_decode(const char *s, size_t n, struct buf *out)
{
	struct buf pending = { 0 }; /* bytes of adjacent words in one charset */
	char pcs[CHARSET_MAX + 1] = "";
	size_t raw_start = 0;    /* start of text not yet written */
	bool after_word = false; /* the last thing seen was an encoded word */
	size_t i = 0;
	while (i < n) {
		struct word w;
		if (s[i] == '=' && word_parse(s + i, n - i, &w)) {
			/* the text before: dropped if it is only white space after a word */
			bool only_ws = true;
			for (size_t k = raw_start; k < i; k++) {
				if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r' && s[k] != '\n')
					only_ws = false;
			}
			if (!(after_word && only_ws) || raw_start == i) {
				if (raw_start < i) {
					if (pending.len > 0)
						put_converted(out, pending.data, pending.len, pcs);
					pending.len = 0;
					put_converted(out, s + raw_start, i - raw_start, NULL);
				}
			}
			if (pending.len > 0 && strcasecmp(pcs, w.charset) != 0) {
				put_converted(out, pending.data, pending.len, pcs);
				pending.len = 0;
			}
			memcpy(pcs, w.charset, sizeof(pcs));
			word_bytes(&w, &pending);
			i += w.len;
			raw_start = i;
			after_word = true;
			continue;
		}
		i++;
	}
	if (pending.len > 0)
		put_converted(out, pending.data, pending.len, pcs);
	if (raw_start < n)
		put_converted(out, s + raw_start, n - raw_start, NULL);
	buf_free(&pending);
}
