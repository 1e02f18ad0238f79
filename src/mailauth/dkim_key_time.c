/* dkim_key_time.c: when a DKIM key was made and which key signs (dkim_key.h, "Which
 * key signs"): the creation stamp at the top of a key file, the creation time a dated
 * selector implies, and the choice of the signer among a domain's keys of one
 * algorithm. Pure functions of their arguments (no files, no clock), so the rule is
 * tested with a fixed `now` and the stamp parser is fuzzed (tests/fuzz/fuzz_dkim_stamp.c). */
#include "dkim_key.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* n decimal digits at p into *v. */
static bool digits(const char *p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (p[i] - '0');
	}
	return true;
}

/* The UTC calendar date and time as a time_t; false when it is no real date (Feb 30)
 * or before 1970. */
static bool utc_time(int y, int mo, int d, int h, int mi, int s, time_t *t_r)
{
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
		return false;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s };
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1) /* timegm normalised it: not a date */
		return false;
	*t_r = t;
	return true;
}

int dkim_key_stamp_parse(const char *text, size_t len, time_t *created_r, const char **error_r)
{
	size_t pl = strlen(DKIM_KEY_STAMP);
	if (len < pl || memcmp(text, DKIM_KEY_STAMP, pl) != 0)
		return 0;
	const char *p = text + pl, *end = text + len;
	while (p < end && *p == ' ')
		p++;
	/* YYYY-MM-DDTHH:MM:SSZ = 20 bytes, then LF or CRLF */
	int y, mo, d, h, mi, s;
	if (end - p < 21 || !digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
	    !digits(p + 8, 2, &d) || p[10] != 'T' || !digits(p + 11, 2, &h) || p[13] != ':' ||
	    !digits(p + 14, 2, &mi) || p[16] != ':' || !digits(p + 17, 2, &s) || p[19] != 'Z' ||
	    !(p[20] == '\n' || (p[20] == '\r' && end - p >= 22 && p[21] == '\n'))) {
		*error_r = "the " DKIM_KEY_STAMP " line is not YYYY-MM-DDTHH:MM:SSZ";
		return -1;
	}
	if (!utc_time(y, mo, d, h, mi, s, created_r)) {
		*error_r = "the " DKIM_KEY_STAMP " line has no valid date";
		return -1;
	}
	return 1;
}

size_t dkim_key_stamp_format(time_t created, char *out, size_t size)
{
	assert(size >= 48);
	struct tm tm;
	gmtime_r(&created, &tm);
	int n = snprintf(out, size, "%s %04d-%02d-%02dT%02d:%02d:%02dZ\n", DKIM_KEY_STAMP, tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	assert(n > 0 && (size_t)n < size);
	return (size_t)n;
}

time_t dkim_key_selector_time(const char *selector)
{
	size_t n = strlen(selector);
	int y, mo, d;
	if ((n != 9 && n != 10) || (selector[0] != 'e' && selector[0] != 'r') || !digits(selector + 1, 4, &y) ||
	    !digits(selector + 5, 2, &mo) || !digits(selector + 7, 2, &d) ||
	    (n == 10 && !(selector[9] >= 'a' && selector[9] <= 'z')))
		return 0;
	time_t t;
	if (!utc_time(y, mo, d, 0, 0, 0, &t))
		return 0;
	return t + 86400;
}

time_t dkim_key_ripe_at(time_t created, int64_t publish_delay)
{
	assert(publish_delay >= 0);
	time_t max = (time_t)INT64_MAX;
	if (created > 0 && (int64_t)(max - created) < publish_delay)
		return max;
	return created + (time_t)publish_delay;
}

size_t dkim_key_choose(const struct dkim_signer *keys, size_t n, time_t now, int64_t publish_delay)
{
	assert(n > 0);
	for (size_t i = 0; i < n; i++)
		if (dkim_key_ripe_at(keys[i].created, publish_delay) <= now)
			return i;
	return n - 1;
}
