/* log.h: one line per event, key=value pairs, to stderr.
 *
 * Lines look like `2026-11-26T13:04:45.123Z info conn=17 proto=imap event=login user=a@b`.
 * Each line is written with a single write(2), so lines from different threads never
 * interleave. Values that may contain spaces or quotes are written with log_quote(). */
#ifndef POSTAMT_LIB_LOG_H
#define POSTAMT_LIB_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level written: at start-up and on reload. Safe from any thread. */
void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn" or "error". Returns 1, or -1 if unknown. */
int log_level_parse(const char *s, enum log_level *level_r);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Writes s (at most n bytes) into out as a log value: bare when it is a plain token,
 * otherwise in double quotes with \" \\ and control bytes escaped. Truncates to fit
 * outlen (always NUL-terminates). Returns out. */
char *log_quote(const char *s, size_t n, char *out, size_t outlen);
/* A C string as a log value, in a buffer that lives for the enclosing call:
 * log_info("error=%s", LOG_Q(msg)). */
#define LOG_Q(s) log_quote((s), strlen(s), (char[256]){ 0 }, 256)

#endif
