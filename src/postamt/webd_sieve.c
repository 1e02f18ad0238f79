/* webd_sieve.c: see webd_sieve.h. Scripts are compiled with the limits of the
 * current settings generation (sieve.max_script_size, max_redirects, max_actions,
 * max_cpu_steps, as ManageSieve and delivery use); the compiled form goes to the
 * store next to the text, as ManageSieve's PUTSCRIPT does, so delivery need not
 * compile them again. */
#include "webd_sieve.h"

#include "buf.h"
#include "settings.h"
#include "sieve.h"

static int compile(const struct settings *s, const char *text, size_t len, struct arena *a, struct buf *compiled,
		   const char **error_r)
{
	struct sieve_limits lim;
	sieve_limits_default(&lim);
	lim.max_script_bytes = s->sieve_max_script_size;
	lim.max_actions = s->sieve_max_actions;
	lim.max_redirects = s->sieve_max_redirects;
	lim.max_cpu_steps = s->sieve_max_cpu_steps;
	struct sieve_program *prog = NULL;
	if (sieve_compile(text, len, &lim, a, &prog, error_r) < 0)
		return -1;
	if (compiled != NULL)
		sieve_program_save(prog, compiled);
	sieve_program_free(&prog);
	return 1;
}

void webd_sieve_init(struct webd_sieve *w)
{
	*w = (struct webd_sieve){ .compile = compile, .extensions = sieve_extensions() };
}
