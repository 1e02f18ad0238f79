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
	struct sieve_program *prog = NULL;
	if (sieve_compile(text, len, s->sieve_limits, a, &prog, error_r) < 0)
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
