/* log.c: key=value event lines on stderr (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The threshold is set at start-up and again on reload (SIGHUP, main thread) while
 * the loops and pools log: an atomic, read relaxed (a line logged under the old
 * level just after a reload is fine; a torn or cached read is not). */
static _Atomic int log_threshold = LOG_INFO;

void log_set_level(enum log_level level)
{
	atomic_store_explicit(&log_threshold, (int)level, memory_order_relaxed);
}

int log_level_parse(const char *s, enum log_level *level_r)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 1;
		}
	}
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	if ((int)level < atomic_load_explicit(&log_threshold, memory_order_relaxed))
		return;
	char line[2048];
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ %s ", (int)(tv.tv_usec / 1000),
			      names[level]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += (size_t)m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

char *log_quote(const char *s, size_t n, char *out, size_t outlen)
{
	bool plain = n > 0;
	for (size_t i = 0; i < n && plain; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == '"' || c == '\\' || c == '=' || c >= 0x7f)
			plain = false;
	}
	size_t o = 0;
	if (plain) {
		for (size_t i = 0; i < n && o + 1 < outlen; i++)
			out[o++] = s[i];
		out[o] = '\0';
		return out;
	}
	if (outlen < 3) {
		if (outlen > 0)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[5];
		size_t k;
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			k = 2;
		} else if (c < ' ' || c == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			k = 4;
		} else {
			tmp[0] = (char)c;
			k = 1;
		}
		if (o + k + 2 > outlen)
			break;
		memcpy(out + o, tmp, k);
		o += k;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}
