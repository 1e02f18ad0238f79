/* mail_fold.c: case-folded text that remembers where each folded byte came from, so
 * that a match found with the search's folding (mail_casefold, i;unicode-casemap) can
 * be shown in the original text: JMAP SearchSnippet/get marks "Straße" for the term
 * "STRASSE" and "GRÖSSE" for "größe", exactly the spans SEARCH matched. Folding a
 * whole string and folding it character by character give the same bytes
 * (g_utf8_casefold has no context rules), which is what makes the map possible. */
#include "mail_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

int mail_fold_map(struct arena *a, const char *text, size_t len, struct mail_folded *out)
{
	memset(out, 0, sizeof(*out));
	if (len >= UINT32_MAX)
		return -1;
	if (!g_utf8_validate(text, (gssize)len, NULL) || memchr(text, '\0', len) != NULL) {
		char *v = mail_utf8_valid(text, len); /* as the search sees it */
		len = strlen(v);
		text = arena_strndup(a, v, len);
		mail_free_utf8(v);
		if (len >= UINT32_MAX)
			return -1;
	}
	/* a character folds to at most 3 characters of at most 4 bytes each (e.g. U+0390);
	 * ASCII (the common case) to one byte */
	size_t cap = len + 16;
	struct buf f = { 0 };
	uint32_t *map = xmalloc((cap + 1) * sizeof(*map));
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)text[i];
		size_t cl = c < 0x80 ? 1 : (size_t)(g_utf8_next_char(text + i) - (text + i));
		if (cl > len - i)
			cl = len - i;
		size_t before = f.len;
		if (c < 0x80) {
			buf_putc(&f, (char)g_ascii_tolower((char)c));
		} else {
			char *g = g_utf8_casefold(text + i, (gssize)cl);
			buf_puts(&f, g);
			g_free(g);
		}
		if (f.len > cap) {
			cap = f.len * 2;
			map = xrealloc(map, (cap + 1) * sizeof(*map));
		}
		for (size_t j = before; j < f.len; j++)
			map[j] = (uint32_t)i;
		i += cl;
	}
	map[f.len] = (uint32_t)len;
	out->len = f.len;
	out->s = arena_strndup(a, f.data ? f.data : "", f.len);
	out->map = arena_alloc(a, (f.len + 1) * sizeof(*map));
	memcpy(out->map, map, (f.len + 1) * sizeof(*map));
	out->text = text;
	out->text_len = len;
	buf_free(&f);
	free(map);
	return 1;
}

bool mail_fold_find(const struct mail_folded *f, size_t from, const char *folded_needle, size_t *start_r,
		    size_t *end_r)
{
	size_t nl = strlen(folded_needle);
	if (nl == 0 || f->s == NULL || from >= f->text_len)
		return false;
	/* the first folded byte at or after `from` in the original */
	size_t lo = 0, hi = f->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->map[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo + nl > f->len)
		return false;
	const char *hit = memmem(f->s + lo, f->len - lo, folded_needle, nl);
	if (hit == NULL)
		return false;
	/* the span of whole original characters whose folding holds the match (the "se"
	 * of "grösse" marks "ße" of "Größe") */
	size_t fs = (size_t)(hit - f->s), last = f->map[fs + nl - 1];
	*start_r = f->map[fs];
	*end_r = (size_t)(g_utf8_next_char(f->text + last) - f->text);
	assert(*end_r <= f->text_len && *start_r < *end_r);
	return true;
}
