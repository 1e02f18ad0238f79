/* sieve_match.c: comparators and match types (RFC 5228 §2.7, RFC 4790, RFC 5231,
 * the regex draft).
 *
 * Comparators: i;octet (bytes), i;ascii-casemap (ASCII letters folded, the
 * default) and i;ascii-numeric (the value of the leading digits; a string without
 * one is positive infinity). Match types: :is, :contains, :matches (wildcards *
 * and ?, \ escapes; the wildcards capture, shortest first, into ${1}..), :regex
 * (POSIX ERE through regcomp, compiled once per run and cached; captures ${0}..),
 * :value (relational). Every comparison charges the run's step budget by the bytes
 * it looks at, so a hostile pattern runs out of steps rather than CPU. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "sieve_eval.h"

static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* The numeric value of s for i;ascii-numeric: the leading digits (saturating), or
 * infinite. */
static void numeric(const char *s, size_t n, bool *inf_r, uint64_t *v_r, size_t *ndig_r)
{
	size_t i = 0;
	while (i < n && s[i] == '0')
		i++;
	size_t start = i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	*inf_r = n == 0 || s[0] < '0' || s[0] > '9';
	*ndig_r = i - start;
	uint64_t v = 0;
	for (size_t k = start; k < i && k < start + 19; k++)
		v = v * 10 + (uint64_t)(s[k] - '0');
	*v_r = v;
}

/* Orders a and b under the comparator: <0, 0, >0. */
static int compare(enum sieve_cmp cmp, const char *a, size_t alen, const char *b, size_t blen)
{
	if (cmp == CMP_NUMERIC) {
		bool ai, bi;
		uint64_t av, bv;
		size_t ad, bd;
		numeric(a, alen, &ai, &av, &ad);
		numeric(b, blen, &bi, &bv, &bd);
		if (ai || bi)
			return ai && bi ? 0 : ai ? 1 : -1;
		if (ad != bd)
			return ad < bd ? -1 : 1;
		if (ad > 19) {
			/* long numbers: compare the digit strings */
			size_t ia = 0, ib = 0;
			while (a[ia] == '0')
				ia++;
			while (b[ib] == '0')
				ib++;
			int c = memcmp(a + ia, b + ib, ad);
			return c;
		}
		return av < bv ? -1 : av > bv ? 1 : 0;
	}
	size_t n = alen < blen ? alen : blen;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (cmp == CMP_CASEMAP) {
			x = fold(x);
			y = fold(y);
		}
		if (x != y)
			return x < y ? -1 : 1;
	}
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

bool sieve_relational(const struct sieve_node *n, const char *a, size_t alen, const char *b, size_t blen)
{
	int c = compare((enum sieve_cmp)n->cmp, a, alen, b, blen);
	switch ((enum sieve_relop)n->relop) {
	case REL_GT:
		return c > 0;
	case REL_GE:
		return c >= 0;
	case REL_LT:
		return c < 0;
	case REL_LE:
		return c <= 0;
	case REL_EQ:
		return c == 0;
	case REL_NE:
		return c != 0;
	}
	return false;
}

static size_t utf8_len(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	size_t l = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return l <= n ? l : n;
}

struct wm {
	const char *s, *p;
	size_t slen, plen;
	bool icase;
	uint64_t *steps, max;
	const char **caps;
	size_t *caplens;
	unsigned maxcaps;
};

/* The classic iterative glob match: on a mismatch, only the most recent '*' takes
 * one more character (earlier ones keep the shortest span that let the match go
 * on, which is also the shortest-first capture RFC 5229 §3.2 asks for). No
 * recursion, so a pattern of any length cannot exhaust the stack; O(len(s) *
 * len(p)) steps at worst, charged to the run. */
static int wild(struct wm *w)
{
	size_t si = 0, pi = 0;
	unsigned ci = 0;
	bool have_star = false;
	size_t star_pi = 0, star_si = 0;
	unsigned star_ci = 0;
	for (;;) {
		if (++*w->steps > w->max)
			return -1;
		if (pi == w->plen && si == w->slen)
			return 1;
		if (pi < w->plen) {
			char c = w->p[pi];
			if (c == '*') {
				if (ci < w->maxcaps) {
					w->caps[ci] = w->s + si;
					w->caplens[ci] = 0;
				}
				have_star = true;
				star_pi = pi;
				star_si = si;
				star_ci = ci;
				pi++;
				ci++;
				continue;
			}
			if (c == '?' && si < w->slen) {
				size_t l = utf8_len(w->s + si, w->slen - si);
				if (ci < w->maxcaps) {
					w->caps[ci] = w->s + si;
					w->caplens[ci] = l;
				}
				si += l;
				pi++;
				ci++;
				continue;
			}
			if (c != '?' && si < w->slen) {
				size_t pl = c == '\\' && pi + 1 < w->plen ? 2 : 1;
				unsigned char x = (unsigned char)w->s[si], y = (unsigned char)w->p[pi + pl - 1];
				if (w->icase) {
					x = fold(x);
					y = fold(y);
				}
				if (x == y) {
					si++;
					pi += pl;
					continue;
				}
			}
		}
		/* mismatch: the last '*' takes one more character */
		if (!have_star || star_si >= w->slen)
			return 0;
		star_si += utf8_len(w->s + star_si, w->slen - star_si);
		if (star_ci < w->maxcaps)
			w->caplens[star_ci] = (size_t)(w->s + star_si - w->caps[star_ci]);
		si = star_si;
		pi = star_pi + 1;
		ci = star_ci + 1;
	}
}

int sieve_wildmatch(const char *s, size_t slen, const char *p, size_t plen, bool icase, uint64_t *steps,
		    uint64_t max_steps, const char **caps, size_t *caplens, unsigned maxcaps, unsigned *ncaps_r)
{
	struct wm w = { s, p, slen, plen, icase, steps, max_steps, caps, caplens, maxcaps };
	unsigned n = 0;
	for (size_t i = 0; i < plen; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '*' || p[i] == '?')
			n++;
	}
	*ncaps_r = n < maxcaps ? n : maxcaps;
	return wild(&w);
}

static bool contains(enum sieve_cmp cmp, const char *v, size_t vlen, const char *k, size_t klen)
{
	if (klen == 0)
		return true;
	if (cmp == CMP_OCTET)
		return memmem(v, vlen, k, klen) != NULL;
	for (size_t i = 0; i + klen <= vlen; i++) {
		size_t j = 0;
		while (j < klen && fold((unsigned char)v[i + j]) == fold((unsigned char)k[j]))
			j++;
		if (j == klen)
			return true;
	}
	return false;
}

static bool equal(enum sieve_cmp cmp, const char *v, size_t vlen, const char *k, size_t klen)
{
	if (cmp == CMP_NUMERIC)
		return compare(cmp, v, vlen, k, klen) == 0;
	return vlen == klen && compare(cmp, v, vlen, k, klen) == 0;
}

int sieve_regex_check(const char *re, const char **why_r)
{
	enum { MAXD = 64 };
	uint64_t size[MAXD + 1] = { 0 }, last = 0;
	unsigned d = 0;
	const uint64_t cap = 1000000000;
	for (const char *p = re; *p; p++) {
		switch (*p) {
		case '(':
			if (d == MAXD) {
				*why_r = "groups nested too deeply";
				return -1;
			}
			size[++d] = 0;
			last = 0;
			break;
		case ')':
			if (d == 0) {
				last = 1;
				size[0]++;
				break;
			}
			last = size[d] > 0 ? size[d] : 1;
			d--;
			size[d] += last;
			break;
		case '[': {
			const char *q = p + 1;
			if (*q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']')
				q++;
			p = *q ? q : q - 1;
			last = 1;
			size[d]++;
			break;
		}
		case '\\':
			if (p[1] >= '1' && p[1] <= '9') {
				*why_r = "back-references are not supported";
				return -1;
			}
			if (p[1])
				p++;
			last = 1;
			size[d]++;
			break;
		case '{': {
			char *end;
			unsigned long lo = strtoul(p + 1, &end, 10), hi = lo;
			if (*end == ',') {
				hi = end[1] == '}' ? lo + 1 : strtoul(end + 1, &end, 10);
				if (*end != '}')
					end = (char *)strchr(end, '}');
			}
			if (end != NULL && *end == '}') {
				uint64_t f = hi > lo ? hi : lo;
				if (f > 1000)
					f = cap;
				uint64_t grown = last * (f > 0 ? f : 1);
				if (grown > cap)
					grown = cap;
				size[d] += grown - last;
				last = grown;
				p = end;
			} else {
				last = 1;
				size[d]++;
			}
			break;
		}
		case '*':
		case '+':
		case '?':
		case '|':
			break;
		default:
			last = 1;
			size[d]++;
		}
		if (size[d] > 10000) {
			*why_r = "too complex (its repetitions expand to more than 10000 elements)";
			return -1;
		}
	}
	return 0;
}

/* The compiled regex for key (cached for the run). */
static int get_regex(struct sieve_state *run, const char *key, bool icase, regex_t **re_r, const char **error_r)
{
	for (struct sieve_regex *r = run->regexes; r != NULL; r = r->next)
		if (r->icase == icase && strcmp(r->key, key) == 0) {
			*re_r = &r->re;
			return r->ok ? 1 : sieve_run_error(run, error_r, "invalid regular expression \"%s\"", key);
		}
	if (strlen(key) > run->lim->max_regex_bytes)
		return sieve_run_error(run, error_r, "regular expression longer than %zu bytes",
				       run->lim->max_regex_bytes);
	if (run->nregexes >= run->lim->max_regex_per_run)
		return sieve_run_error(run, error_r, "more than %u regular expressions in one run",
				       run->lim->max_regex_per_run);
	const char *why;
	if (sieve_regex_check(key, &why) < 0)
		return sieve_run_error(run, error_r, "regular expression \"%s\": %s", key, why);
	struct sieve_regex *r = xcalloc(1, sizeof(*r));
	r->key = xstrdup(key);
	r->icase = icase;
	r->ok = regcomp(&r->re, key, REG_EXTENDED | (icase ? REG_ICASE : 0)) == 0;
	r->next = run->regexes;
	run->regexes = r;
	run->nregexes++;
	/* compiling costs about as much as matching the pattern against itself */
	run->steps += strlen(key) * 16;
	*re_r = &r->re;
	return r->ok ? 1 : sieve_run_error(run, error_r, "invalid regular expression \"%s\"", key);
}

void sieve_regex_free_all(struct sieve_state *run)
{
	struct sieve_regex *r = run->regexes;
	while (r != NULL) {
		struct sieve_regex *nx = r->next;
		if (r->ok)
			regfree(&r->re);
		free(r->key);
		free(r);
		r = nx;
	}
	run->regexes = NULL;
}

static void set_matchvars(struct sieve_state *run, const char *whole, size_t wlen, const char **caps, size_t *lens,
			  unsigned n)
{
	if (!(run->prog->exts & EXT_VARIABLES))
		return;
	run->mvar[0] = arena_strndup(run->a, whole, wlen);
	for (unsigned i = 1; i < 10; i++)
		run->mvar[i] = i - 1 < n ? arena_strndup(run->a, caps[i - 1], lens[i - 1]) : "";
	run->nmvar = 10;
}

int sieve_match_one(struct sieve_state *run, const struct sieve_node *n, const char *v, size_t vlen, const char *k,
		    size_t klen, const char **error_r)
{
	enum sieve_cmp cmp = (enum sieve_cmp)n->cmp;
	run->steps += 1 + (vlen + klen) / 16;
	if (run->steps > run->lim->max_cpu_steps)
		return sieve_steps_error(run, error_r);
	switch ((enum sieve_match)n->match) {
	case MATCH_IS:
		return equal(cmp, v, vlen, k, klen);
	case MATCH_CONTAINS:
		run->steps += vlen / 4;
		return contains(cmp, v, vlen, k, klen);
	case MATCH_VALUE:
		return sieve_relational(n, v, vlen, k, klen);
	case MATCH_COUNT:
		return 0; /* handled by the caller */
	case MATCH_MATCHES: {
		const char *caps[9];
		size_t lens[9];
		unsigned nc;
		int r = sieve_wildmatch(v, vlen, k, klen, cmp == CMP_CASEMAP, &run->steps, run->lim->max_cpu_steps,
					caps, lens, 9, &nc);
		if (r < 0)
			return sieve_steps_error(run, error_r);
		if (r > 0)
			set_matchvars(run, v, vlen, caps, lens, nc);
		return r;
	}
	case MATCH_REGEX: {
		regex_t *re = NULL;
		if (get_regex(run, k, cmp == CMP_CASEMAP, &re, error_r) < 0)
			return -1;
		run->steps += vlen * (klen / 8 + 1);
		if (run->steps > run->lim->max_cpu_steps)
			return sieve_steps_error(run, error_r);
		regmatch_t m[10];
		char *val = arena_strndup(run->a, v, vlen);
		if (regexec(re, val, 10, m, 0) != 0)
			return 0;
		const char *caps[9];
		size_t lens[9];
		unsigned nc = 0;
		for (unsigned i = 1; i < 10; i++, nc++) {
			caps[i - 1] = m[i].rm_so >= 0 ? val + m[i].rm_so : "";
			lens[i - 1] = m[i].rm_so >= 0 ? (size_t)(m[i].rm_eo - m[i].rm_so) : 0;
		}
		set_matchvars(run, val + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so), caps, lens, nc);
		return 1;
	}
	}
	return 0;
}
