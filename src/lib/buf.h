/* buf.h: bytes with lengths (DESIGN.md §4.6).
 *
 * struct bytes is a view: a pointer and a length, owned by someone else.
 * struct buf is a growable, heap-owned byte buffer that always keeps a NUL after
 * its data so that it can also be read as text. Growth aborts on allocation failure.
 * The str_* helpers are small pure functions on views used by every parser. */
#ifndef POSTAMT_LIB_BUF_H
#define POSTAMT_LIB_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bytes {
	const char *p;
	size_t len;
};

#define BYTES(lit) ((struct bytes){ (lit), sizeof(lit) - 1 })
#define BYTES_STR(s) ((struct bytes){ (s), strlen(s) })

struct buf {
	char *data; /* NUL-terminated; NULL until the first append */
	size_t len, cap;
};

/* Makes room for n more bytes. */
void buf_reserve(struct buf *b, size_t n);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
/* Appends code point cp (at most 0x10ffff) in UTF-8. */
void buf_put_utf8(struct buf *b, uint32_t cp);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Empties the buffer, keeps the memory. */
void buf_reset(struct buf *b);
/* Drops the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);
/* Returns the contents as text ("" when empty); valid until the next change. */
const char *buf_str(const struct buf *b);

/* ASCII case-insensitive comparisons of a view with a C string. */
bool bytes_eq(struct bytes a, const char *s);
bool bytes_ieq(struct bytes a, const char *s);
/* True if a starts with prefix, case-insensitively. */
bool bytes_iprefix(struct bytes a, const char *prefix);
/* Trims ASCII spaces and tabs on both ends. */
struct bytes bytes_trim(struct bytes a);
/* Finds the first CRLF or LF. Returns the index of the line end and sets *eol_len_r
 * to 1 or 2; returns -1 when there is no line end in a. */
ptrdiff_t bytes_find_eol(struct bytes a, size_t *eol_len_r);

/* Parses a decimal unsigned number that fills all of a; no sign, no spaces.
 * Returns 1 and *out_r, or -1 on an empty, non-digit or overflowing value. */
int buf_parse_uint64(struct bytes a, uint64_t max, uint64_t *out_r);
/* Parses a size: digits with an optional K, M or G suffix (powers of 1024). "0"
 * means no limit. Returns 1, or -1 with *error_r set. */
int buf_parse_size(const char *s, uint64_t *out_r, const char **error_r);
/* Formats a size the way buf_parse_size reads it (largest exact suffix). */
void buf_format_size(uint64_t size, char *out, size_t outlen);

#endif
