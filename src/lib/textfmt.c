/* textfmt.c: RFC 5322 dates, hex identifiers and the header-field test (textfmt.h).
 * Before, the SMTP and JMAP submission paths, the DSN builder and the composer each
 * had their own copy. */
#include "textfmt.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

void textfmt_date(int64_t t, char *out, size_t outlen)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void textfmt_hex(const void *data, size_t len, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;
	size_t o = 0;
	for (size_t i = 0; i < len && o + 2 < outlen; i++) {
		out[o++] = digits[p[i] >> 4];
		out[o++] = digits[p[i] & 15];
	}
	if (outlen > 0)
		out[o] = '\0';
}

void textfmt_random_hex(char *out, size_t outlen, size_t nbytes)
{
	unsigned char r[64];
	if (nbytes > sizeof(r))
		nbytes = sizeof(r);
	if (getrandom(r, nbytes, 0) != (ssize_t)nbytes)
		memset(r, 0, nbytes);
	textfmt_hex(r, nbytes, out, outlen);
}

int textfmt_mta_sts_policy(char *out, size_t outlen, const char *mode, const char *mx, uint32_t max_age)
{
	return snprintf(out, outlen, "version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %u\r\n", mode, mx,
			(unsigned)max_age);
}

bool textfmt_has_header(const char *msg, size_t len, const char *name)
{
	size_t n = strlen(name), i = 0;
	while (i < len) {
		const char *nl = memchr(msg + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - msg) : len;
		size_t linelen = end - i;
		if (linelen == 0 || (linelen == 1 && msg[i] == '\r'))
			return false; /* the end of the header */
		if (linelen > n && strncasecmp(msg + i, name, n) == 0 && msg[i + n] == ':')
			return true;
		i = end + 1;
	}
	return false;
}

int textfmt_hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void textfmt_base64(const void *data, size_t len, char *out, size_t outlen)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	assert(outlen >= TEXTFMT_BASE64_LEN(len));
	(void)outlen;
	const unsigned char *p = data;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

int textfmt_base64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}
