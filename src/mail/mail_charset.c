/* mail_charset.c: bytes in a charset to valid UTF-8, the bottom of the module's text
 * decoding (mail_text.c for bodies, mail_rfc2047.c for header words).
 *
 * Never fails: an unknown charset or a failed conversion falls back to ISO-8859-1,
 * invalid UTF-8 becomes U+FFFD, NUL and the other C0 controls except TAB and LF become
 * spaces (the text goes into IMAP strings, JSON and the search index). */
#include "mail_int.h"

#include <gmime/gmime.h>
#include <string.h>
#include <strings.h>

char *mail_utf8_valid(const char *s, size_t len)
{
	char *v;
	if (memchr(s, '\0', len) != NULL) { /* g_utf8_make_valid would make NUL U+FFFD */
		char *c = g_malloc(len + 1);
		memcpy(c, s, len);
		c[len] = '\0';
		for (size_t i = 0; i < len; i++)
			c[i] = c[i] == '\0' ? ' ' : c[i];
		v = g_utf8_make_valid(c, (gssize)len);
		g_free(c);
	} else {
		v = g_utf8_make_valid(s, (gssize)len);
	}
	for (char *p = v; *p; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n')
			*p = ' ';
	}
	return v;
}

void mail_free_utf8(char *s)
{
	g_free(s);
}

char *mail_to_utf8(const char *s, size_t len, const char *charset)
{
	if (charset == NULL || *charset == '\0' || strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "us-ascii") == 0 || strcasecmp(charset, "utf8") == 0)
		return mail_utf8_valid(s, len);
	const char *name = g_mime_charset_iconv_name(charset);
	gsize outlen = 0;
	char *c = g_convert(s, (gssize)len, "UTF-8", name ? name : charset, NULL, &outlen, NULL);
	if (c == NULL)
		c = g_convert(s, (gssize)len, "UTF-8", "ISO-8859-1", NULL, &outlen, NULL);
	if (c == NULL)
		return mail_utf8_valid(s, len);
	char *v = mail_utf8_valid(c, outlen);
	g_free(c);
	return v;
}
