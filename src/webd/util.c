/* util.c: small helpers of webd: random tokens, RFC 3339 dates, the monotonic clock. */
#include "webd_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void web_random_token(char *out, size_t outlen, size_t n)
{
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char r[64];
	if (n > sizeof(r))
		n = sizeof(r);
	size_t got = 0;
	while (got < n) {
		ssize_t k = getrandom(r + got, n - got, 0);
		if (k <= 0)
			abort(); /* no randomness: no session may be made */
		got += (size_t)k;
	}
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | r[i];
		bits += 8;
		while (bits >= 6 && o + 1 < outlen) {
			out[o++] = b64url[(acc >> (bits - 6)) & 63];
			bits -= 6;
		}
	}
	if (bits > 0 && o + 1 < outlen)
		out[o++] = b64url[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	explicit_bzero(r, sizeof(r));
}

void web_utc_date(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void web_local_date(int64_t t, int tz, char out[40])
{
	time_t tt = (time_t)(t + (int64_t)tz * 60);
	struct tm tm;
	gmtime_r(&tt, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (tz == 0) {
		snprintf(out, 40, "%sZ", base);
		return;
	}
	int a = tz < 0 ? -tz : tz;
	snprintf(out, 40, "%.19s%c%02d:%02d", base, tz < 0 ? '-' : '+', a / 60, a % 60);
}

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int web_parse_date(const char *s, int64_t *t_r)
{
	int y, mo, d, h, mi, sec, n = 0;
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	const char *p = s + n;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om, k = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5)
			return -1;
		off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	*t_r = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return 1;
}

int64_t web_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
