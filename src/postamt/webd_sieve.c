/* webd_sieve.c: see webd_sieve.h. Scripts are compiled with the language's default
 * limits; the compiled form goes to the store next to the text, as ManageSieve's
 * PUTSCRIPT does, so delivery need not compile them again. */
#include "webd_sieve.h"

#include "buf.h"
#include "sieve.h"

static int compile(const char *text, size_t len, struct arena *a, struct buf *compiled, const char **error_r)
{
	struct sieve_program *prog = NULL;
	if (sieve_compile(text, len, NULL, a, &prog, error_r) < 0)
		return -1;
	if (compiled != NULL)
		sieve_program_save(prog, compiled);
	sieve_program_free(&prog);
	return 1;
}

void webd_sieve_init(struct webd_sieve *w, const struct config *cfg)
{
	(void)cfg;
	struct sieve_limits l;
	sieve_limits_default(&l);
	*w = (struct webd_sieve){ .compile = compile,
				  .extensions = sieve_extensions(),
				  .max_redirects = l.max_redirects,
				  .max_scripts = 32,
				  .max_script_size = l.max_script_bytes };
}
