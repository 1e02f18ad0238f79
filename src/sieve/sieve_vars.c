/* sieve_vars.c: variables (RFC 5229) and string expansion.
 *
 * Variables live in the run: a name (case-insensitive), a scope (each included
 * script has its own; scope 0 holds the variables declared `global`, RFC 6609) and
 * a value of at most limits.max_variable_bytes (longer values are cut at a UTF-8
 * character boundary, as RFC 5229 §6 allows); at most limits.max_variables of
 * them. "${name}" and "${N}" (match variables) in strings are replaced when the
 * script required "variables"; unknown names expand to "", malformed references
 * stay as they are. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "buf.h"
#include "sieve_eval.h"

static bool is_ident_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* Resolves name to (scope, bare name). */
static unsigned scope_of(struct sieve_state *run, const char **name)
{
	if (strncasecmp(*name, "global.", 7) == 0) {
		*name += 7;
		return 0;
	}
	for (size_t i = 0; i < run->nglobals; i++)
		if (strcasecmp(run->globals[i], *name) == 0)
			return 0;
	return run->scope;
}

static struct sieve_var *find(struct sieve_state *run, const char *name)
{
	unsigned scope = scope_of(run, &name);
	for (size_t i = 0; i < run->nvars; i++)
		if (run->vars[i].scope == scope && strcasecmp(run->vars[i].name, name) == 0)
			return &run->vars[i];
	return NULL;
}

const char *sieve_var_get(struct sieve_state *run, const char *name)
{
	struct sieve_var *v = find(run, name);
	return v != NULL ? v->value : NULL;
}

int sieve_var_set(struct sieve_state *run, const char *name, const char *value, const char **error_r)
{
	size_t len = strlen(value);
	if (len > run->lim->max_variable_bytes) {
		len = run->lim->max_variable_bytes;
		while (len > 0 && ((unsigned char)value[len] & 0xc0) == 0x80)
			len--;
	}
	struct sieve_var *v = find(run, name);
	if (v == NULL) {
		if (run->nvars >= run->lim->max_variables)
			return sieve_run_error(run, error_r, "more than %u variables", run->lim->max_variables);
		if (run->nvars == run->capvars) {
			size_t nc = run->capvars ? run->capvars * 2 : 16;
			struct sieve_var *nv = arena_alloc(run->a, nc * sizeof(*nv));
			if (run->nvars > 0)
				memcpy(nv, run->vars, run->nvars * sizeof(*nv));
			run->vars = nv;
			run->capvars = nc;
		}
		v = &run->vars[run->nvars++];
		const char *bare = name;
		v->scope = scope_of(run, &bare);
		v->name = arena_strdup(run->a, bare);
	}
	v->value = arena_strndup(run->a, value, len);
	run->steps += 1 + len / 16;
	return 0;
}

/* Appends the expansion of s (len bytes) to out. */
static void expand(struct sieve_state *run, const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len;) {
		if (s[i] == '$' && i + 2 < len && s[i + 1] == '{') {
			const char *close = memchr(s + i + 2, '}', len - i - 2);
			if (close != NULL) {
				const char *nm = s + i + 2;
				size_t nlen = (size_t)(close - nm);
				bool digits = nlen > 0 && strspn(nm, "0123456789") >= nlen;
				bool ident = nlen > 0 && nlen <= 128;
				for (size_t k = 0; ident && k < nlen; k++) {
					bool first = k == 0 || nm[k - 1] == '.';
					if (nm[k] == '.' && k > 0 && k + 1 < nlen && nm[k - 1] != '.')
						continue;
					ident = is_ident_char(nm[k], first);
				}
				if (digits) {
					unsigned long idx = 0;
					for (size_t k = 0; k < nlen && idx < 100; k++)
						idx = idx * 10 + (unsigned long)(nm[k] - '0');
					if (idx < run->nmvar)
						buf_puts(out, run->mvar[idx]);
					i += nlen + 3;
					continue;
				}
				if (ident) {
					char name[129];
					memcpy(name, nm, nlen);
					name[nlen] = '\0';
					const char *dot = strchr(name, '.');
					if (dot == NULL || strncasecmp(name, "global.", 7) == 0) {
						const char *v = sieve_var_get(run, name);
						if (v != NULL)
							buf_puts(out, v);
						i += nlen + 3;
						continue;
					}
				}
			}
		}
		buf_putc(out, s[i]);
		i++;
	}
}

int sieve_strings(struct sieve_state *run, uint32_t sl, const char ***strs_r, const char **error_r)
{
	const struct sieve_program *pr = run->prog;
	if (sl == SIEVE_NONE) {
		*strs_r = arena_alloc(run->a, sizeof(char *));
		return 0;
	}
	const struct sieve_slist *l = &pr->slists[sl - 1];
	const char **v = arena_alloc(run->a, (l->n + 1) * sizeof(char *));
	struct buf b = { 0 };
	for (uint32_t k = 0; k < l->n; k++) {
		const struct sieve_str *s = &pr->strs[l->first + k];
		const char *text = pr->blob + s->off;
		run->steps++;
		if (!s->vars || !(pr->exts & EXT_VARIABLES)) {
			/* copied: results outlive the program (and an included one) */
			v[k] = arena_strndup(run->a, text, s->len);
			run->steps += s->len / 64;
			continue;
		}
		buf_reset(&b);
		expand(run, text, s->len, &b);
		run->steps += b.len / 16;
		v[k] = arena_strndup(run->a, b.len ? b.data : "", b.len);
	}
	buf_free(&b);
	*strs_r = v;
	if (sieve_run_check(run, error_r) < 0)
		return -1;
	return (int)l->n;
}

int sieve_string(struct sieve_state *run, uint32_t sl, const char **s_r, const char **error_r)
{
	const char **v;
	int n = sieve_strings(run, sl, &v, error_r);
	if (n < 0)
		return -1;
	*s_r = n > 0 ? v[0] : "";
	return 0;
}

const char *sieve_set_modifiers(struct sieve_state *run, uint32_t flags, const char *value)
{
	char *s = arena_strdup(run->a, value);
	/* precedence 40, 30, 20, 10 (RFC 5229 §4.1) */
	if (flags & (NF_MOD_LOWER | NF_MOD_UPPER))
		for (char *p = s; *p; p++) {
			if ((flags & NF_MOD_LOWER) && *p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
			else if ((flags & NF_MOD_UPPER) && *p >= 'a' && *p <= 'z')
				*p = (char)(*p - 32);
		}
	if ((flags & NF_MOD_LOWERFIRST) && s[0] >= 'A' && s[0] <= 'Z')
		s[0] = (char)(s[0] + 32);
	if ((flags & NF_MOD_UPPERFIRST) && s[0] >= 'a' && s[0] <= 'z')
		s[0] = (char)(s[0] - 32);
	if (flags & NF_MOD_QUOTEWILDCARD) {
		struct buf b = { 0 };
		for (const char *p = s; *p; p++) {
			if (*p == '*' || *p == '?' || *p == '\\')
				buf_putc(&b, '\\');
			buf_putc(&b, *p);
		}
		s = arena_strdup(run->a, buf_str(&b));
		buf_free(&b);
	}
	if (flags & NF_MOD_LENGTH) {
		size_t n = 0;
		for (const char *p = s; *p; p++)
			if (((unsigned char)*p & 0xc0) != 0x80)
				n++;
		s = arena_printf(run->a, "%zu", n);
	}
	return s;
}
