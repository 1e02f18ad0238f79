/* arena.c: chunked bump allocator and aborting heap helpers (see arena.h). */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 8192
#define ARENA_ALIGN 16

struct chunk {
	struct chunk *next;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
	struct chunk *head;  /* current chunk; older ones follow */
	struct chunk *first; /* the chunk made with the arena, kept by arena_clear */
	size_t used;
};

static void oom(void)
{
	fputs("postamt: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (p == NULL)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom();
	return p;
}

void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (p == NULL)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

static struct chunk *chunk_new(size_t min, size_t floor)
{
	size_t size = min > floor ? min : floor;
	struct chunk *c = xmalloc(sizeof(*c) + size);
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

struct arena *arena_new(void)
{
	return arena_new_sized(ARENA_CHUNK);
}

struct arena *arena_new_sized(size_t first)
{
	struct arena *a = xcalloc(1, sizeof(*a));
	a->head = a->first = chunk_new(first, ARENA_ALIGN);
	return a;
}

void arena_clear(struct arena *a)
{
	for (struct chunk *c = a->head, *next; c != NULL; c = next) {
		next = c->next;
		if (c != a->first)
			free(c);
	}
	a->first->used = 0;
	a->first->next = NULL;
	a->head = a->first;
	a->used = 0;
}

void arena_free(struct arena **ap)
{
	struct arena *a = *ap;
	if (a == NULL)
		return;
	for (struct chunk *c = a->head, *next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
	*ap = NULL;
}

void *arena_alloc(struct arena *a, size_t size)
{
	if (size > SIZE_MAX - 2 * ARENA_ALIGN)
		oom();
	size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	struct chunk *c = a->head;
	if (c->size - c->used < size) {
		if (size > ARENA_CHUNK / 4) {
			/* big block: own chunk, placed behind the current one */
			struct chunk *big = chunk_new(size, ARENA_CHUNK);
			big->used = size;
			big->next = c->next;
			c->next = big;
			a->used += size;
			memset(big->data, 0, size);
			return big->data;
		}
		c = chunk_new(ARENA_CHUNK, ARENA_CHUNK);
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += size;
	a->used += size;
	memset(p, 0, size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0)
		oom();
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

size_t arena_used(const struct arena *a)
{
	return a->used;
}
