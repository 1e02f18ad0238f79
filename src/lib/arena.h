/* arena.h: memory with a protocol lifetime.
 *
 * An arena hands out memory from large chunks and frees it all at once with
 * arena_clear() or arena_free(). Sessions own one arena per connection and one per
 * command (DESIGN.md §4.5). Allocation failure aborts: callers never check for NULL.
 * The xmalloc family is the same convention for memory that outlives any arena. */
#ifndef POSTAMT_LIB_ARENA_H
#define POSTAMT_LIB_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/* Returns a new, empty arena. Never NULL. Free with arena_free(). */
struct arena *arena_new(void);
/* The same with a first chunk (the one arena_clear keeps) of `first` bytes; later
 * chunks have the usual size. For arenas that most connections barely use while
 * they wait (an IMAP session in IDLE), so that an idle connection stays small. */
struct arena *arena_new_sized(size_t first);
/* Frees every allocation and the arena itself; sets *ap to NULL. NULL-safe. */
void arena_free(struct arena **ap);
/* Frees every allocation, keeps the arena (and its first chunk) for reuse. */
void arena_clear(struct arena *a);
/* Returns size bytes aligned for any type; zeroed. Valid until clear/free. */
void *arena_alloc(struct arena *a, size_t size);
/* Copies n bytes of s and appends a NUL. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Bytes handed out since the last clear (for limits and tests). */
size_t arena_used(const struct arena *a);

/* Heap allocation that aborts on failure. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
