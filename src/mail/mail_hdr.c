/* mail_hdr.c: the header block of a message or part (RFC 5322 §2.2, read leniently):
 * its fields, found by name, and their values unfolded. The bottom of the mail module:
 * mail_text.c, mail_envelope.c, mail_addr.c and mail_parse.c all use it, and it uses
 * none of them.
 *
 * Rules: the header ends at the first empty line (included in it); lines that are not
 * fields (no colon, a bad name) are part of the header but name no field; an mbox
 * "From " line first is skipped; beyond HDR_MAX_FIELDS fields the rest are not looked
 * up. Pure: no I/O; everything returned lives in the caller's arena or points into
 * the input. */
#include "mail_int.h"

#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ headers */

char *mail_lower(struct arena *a, const char *s)
{
	char *o = arena_strdup(a, s);
	for (char *p = o; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return o;
}

/* End of the line starting at i (index of the CR LF or LF, or len), and the next line start. */
size_t mail_line_end(const char *p, size_t len, size_t i, size_t *next_r)
{
	const char *lf = memchr(p + i, '\n', len - i);
	if (lf == NULL) {
		*next_r = len;
		return len;
	}
	size_t e = (size_t)(lf - p);
	*next_r = e + 1;
	if (e > i && p[e - 1] == '\r')
		e--;
	return e;
}

static bool is_field_line(const char *p, size_t n, size_t *colon_r)
{
	size_t i = 0;
	while (i < n && p[i] != ':') {
		unsigned char c = (unsigned char)p[i];
		if (c <= 32 || c >= 127) {
			/* allow spaces between the name and the colon ("Subject : x") */
			if (c == ' ' || c == '\t') {
				size_t j = i;
				while (j < n && (p[j] == ' ' || p[j] == '\t'))
					j++;
				if (j < n && p[j] == ':' && i > 0) {
					*colon_r = j;
					return true;
				}
			}
			return false;
		}
		i++;
	}
	if (i == 0 || i >= n)
		return false;
	*colon_r = i;
	return true;
}

void mail_hdr_parse(struct arena *a, const char *p, size_t len, struct hblock *hb)
{
	size_t cap = 16;
	hb->f = arena_alloc(a, cap * sizeof(*hb->f));
	hb->n = 0;
	size_t i = 0;
	struct hfield *cur = NULL;
	while (i < len) {
		size_t next;
		size_t e = mail_line_end(p, len, i, &next);
		if (e == i) { /* empty line: end of header, included */
			hb->len = next;
			return;
		}
		if ((p[i] == ' ' || p[i] == '\t') && cur != NULL) {
			cur->vlen = e - (size_t)(cur->val - p);
			i = next;
			continue;
		}
		if (i == 0 && e >= 5 && memcmp(p, "From ", 5) == 0) { /* mbox separator line */
			i = next;
			continue;
		}
		size_t colon;
		if (!is_field_line(p + i, e - i, &colon)) {
			/* not a field (no colon, bad name, continuation without a field): part
			 * of the header all the same, which only an empty line ends (as in
			 * Dovecot), but not a field anyone can look up */
			cur = NULL;
			i = next;
			continue;
		}
		size_t nlen = colon;
		while (nlen > 0 && (p[i + nlen - 1] == ' ' || p[i + nlen - 1] == '\t'))
			nlen--;
		if (hb->n < HDR_MAX_FIELDS) {
			if (hb->n == cap) {
				struct hfield *nf = arena_alloc(a, cap * 2 * sizeof(*nf));
				memcpy(nf, hb->f, hb->n * sizeof(*nf));
				hb->f = nf;
				cap *= 2;
			}
			cur = &hb->f[hb->n++];
			cur->name = p + i;
			cur->nlen = nlen;
			cur->val = p + i + colon + 1;
			cur->vlen = e - (i + colon + 1);
		} else {
			cur = NULL;
		}
		i = next;
	}
	hb->len = len;
}

const struct hfield *mail_hdr_get(const struct hblock *hb, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < hb->n; i++) {
		if (hb->f[i].nlen == n && strncasecmp(hb->f[i].name, name, n) == 0)
			return &hb->f[i];
	}
	return NULL;
}

char *mail_unfold(struct arena *a, const char *v, size_t n, size_t max)
{
	char *o = arena_alloc(a, (n < max ? n : max) + 1);
	size_t k = 0;
	for (size_t i = 0; i < n && k < max; i++) {
		char c = v[i];
		if (c == '\r' || c == '\n')
			continue;
		o[k++] = c == '\0' ? ' ' : c;
	}
	size_t s = 0;
	while (s < k && (o[s] == ' ' || o[s] == '\t'))
		s++;
	while (k > s && (o[k - 1] == ' ' || o[k - 1] == '\t'))
		k--;
	o[k] = '\0';
	return o + s;
}

const char *mail_hdr_value(struct arena *a, const struct hblock *hb, const char *name, size_t max)
{
	const struct hfield *f = mail_hdr_get(hb, name);
	return f ? mail_unfold(a, f->val, f->vlen, max) : NULL;
}
