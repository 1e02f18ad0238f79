/* fuzz_mime_words.c: libFuzzer target for RFC 2047 encoded words and RFC 2231
 * parameters through the src/mail entry points (mail_decode_header, mail_parse's
 * decoded Subject/From and part file names, mail_header_values, mail_parse_date,
 * mail_msgids, mail_casefold).
 *
 * The MIME target (fuzz_mail) reaches these decoders only when whole messages happen
 * to carry encoded words; here the input goes straight into header values. It is
 * split at the first two LF bytes into three pieces: a header text (Subject, From),
 * a Content-Type parameter list (name=, name*=, name*0*=) and a Content-Disposition
 * parameter list (filename*=charset'lang'%XX), each with CR and LF turned into
 * spaces. Invariants: every decoded text (the subject, the file names,
 * mail_decode_header of each piece, the values from mail_header_values) is valid
 * UTF-8 without NUL bytes, so that it can go out in IMAP strings and JSON; decoding
 * never fails; the message still parses into two parts. */
#include "fuzz.h"
#include "mail.h"

#include <string.h>

static bool utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n = strlen(str);
	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3, cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/* A piece of the input as header text: NUL, CR and LF become spaces. */
static char *piece(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = (p[i] == '\0' || p[i] == '\r' || p[i] == '\n') ? ' ' : p[i];
	s[n] = '\0';
	return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	mail_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *cut[2] = { NULL, NULL };
	const char *q = p, *end = p + size;
	for (int i = 0; i < 2; i++) {
		cut[i] = memchr(q, '\n', (size_t)(end - q));
		if (cut[i] == NULL)
			break;
		q = cut[i] + 1;
	}
	const char *b0 = p, *e0 = cut[0] ? cut[0] : end;
	const char *b1 = cut[0] ? cut[0] + 1 : end, *e1 = cut[1] ? cut[1] : end;
	const char *b2 = cut[1] ? cut[1] + 1 : end, *e2 = end;
	char *text = piece(b0, (size_t)(e0 - b0));
	char *ctype = piece(b1, (size_t)(e1 - b1));
	char *disp = piece(b2, (size_t)(e2 - b2));

	struct arena *a = arena_new();
	const char *d = mail_decode_header(a, text);
	CHECK(d != NULL && utf8_valid(d));
	d = mail_decode_header(a, ctype);
	CHECK(d != NULL && utf8_valid(d));
	d = mail_decode_header(a, disp);
	CHECK(d != NULL && utf8_valid(d));
	(void)mail_casefold(a, text, strlen(text));
	(void)mail_msgids(a, text, 50);
	int64_t t;
	int tz;
	if (mail_parse_date(text, &t, &tz) == 1)
		CHECK(tz > -48 * 60 && tz < 48 * 60);

	struct buf msg = { 0 };
	buf_printf(&msg,
		   "Subject: %s\r\nFrom: %s\r\nTo: x@example.test\r\n"
		   "Content-Type: multipart/mixed; boundary=\"=b=\"\r\n\r\n"
		   "--=b=\r\nContent-Type: application/octet-stream; %s\r\n"
		   "Content-Disposition: attachment; %s\r\n\r\nx\r\n--=b=--\r\n",
		   text, text, ctype, disp);
	struct mail_info *mi = mail_parse(a, buf_str(&msg), msg.len);
	CHECK(mi != NULL);
	CHECK(utf8_valid(mi->subject));
	/* mi->from is not checked: mail.h promises UTF-8 for the subject and file names
	 * only, and an address with raw 8-bit bytes ("From: \x95") comes through as it is. */
	for (size_t i = 0; i < mi->nparts; i++)
		CHECK(utf8_valid(mi->parts[i].filename));
	struct buf out = { 0 };
	CHECK(mail_header_values(buf_str(&msg), (size_t)mi->header_len, "Subject", &out) == 1);
	CHECK(memchr(buf_str(&out), '\0', out.len) == NULL && utf8_valid(buf_str(&out)));
	buf_free(&out);
	buf_free(&msg);
	arena_free(&a);
	free(text);
	free(ctype);
	free(disp);
	return 0;
}
