/* sieve_state.c: the state of one run, its errors and its limits.
 *
 * The bottom of the evaluator: the files that read the message (sieve_msg.c),
 * compare (sieve_match.c) and expand strings (sieve_vars.c) report run-time
 * errors and check limits.max_cpu_steps and limits.max_memory through these
 * functions, which read only struct sieve_state (sieve_eval.h). They never call
 * up into the tests (sieve_tests.c) or the commands (sieve_eval.c). */
#include <stdarg.h>

#include "arena.h"
#include "sieve_eval.h"

int sieve_run_error(struct sieve_state *run, const char **error_r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *m = arena_vprintf(run->a, fmt, ap);
	va_end(ap);
	*error_r = arena_printf(run->a, "line %u: %s", run->line, m);
	return -1;
}

int sieve_steps_error(struct sieve_state *run, const char **error_r)
{
	return sieve_run_error(run, error_r, "the script used more than %llu steps",
			       (unsigned long long)run->lim->max_cpu_steps);
}

int sieve_run_check(struct sieve_state *run, const char **error_r)
{
	if (run->steps > run->lim->max_cpu_steps)
		return sieve_steps_error(run, error_r);
	if (arena_used(run->a) - run->mem_base > run->lim->max_memory)
		return sieve_run_error(run, error_r, "the script used more than %zu bytes of memory",
				       run->lim->max_memory);
	return 0;
}
