/* sieve_stub.c: a minimal stand-in for the interpreter (every script keeps).
 *
 * Lets the ManageSieve server and the delivery hook build and link against
 * sieve.h while the parser and evaluator are written; replaced by them. */
#include "sieve.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"

struct sieve_program {
	struct sieve_limits limits;
};

void sieve_limits_default(struct sieve_limits *l_r)
{
	*l_r = (struct sieve_limits){
		.max_script_bytes = 1024 * 1024,
		.max_nesting = 32,
		.max_actions = 32,
		.max_redirects = 4,
		.max_cpu_steps = 5000000,
		.max_regex_bytes = 512,
		.max_regex_per_run = 64,
		.max_variable_bytes = 4096,
		.max_variables = 256,
		.max_include_depth = 5,
		.max_includes = 16,
		.max_body_bytes = 1024 * 1024,
	};
}

const char *sieve_extensions(void)
{
	return "fileinto reject ereject envelope encoded-character imap4flags body variables vacation "
	       "vacation-seconds relational comparator-i;ascii-numeric subaddress copy mailbox date index "
	       "regex duplicate spamtest include";
}

int sieve_compile(const char *text, size_t len, const struct sieve_limits *limits, struct arena *a,
		  struct sieve_program **prog_r, const char **error_r)
{
	struct sieve_program *p = xcalloc(1, sizeof(*p));
	if (limits != NULL)
		p->limits = *limits;
	else
		sieve_limits_default(&p->limits);
	if (len > p->limits.max_script_bytes) {
		*error_r = arena_printf(a, "line 1: script is larger than %zu bytes", p->limits.max_script_bytes);
		free(p);
		return -1;
	}
	*prog_r = p;
	return 1;
}

void sieve_program_free(struct sieve_program **progp)
{
	free(*progp);
	*progp = NULL;
}

void sieve_program_save(const struct sieve_program *prog, struct buf *out)
{
	buf_append(out, "SIEVE0", 6);
}

int sieve_program_load(const void *data, size_t len, const struct sieve_limits *limits,
		       struct sieve_program **prog_r, const char **error_r)
{
	if (len != 6 || memcmp(data, "SIEVE0", 6) != 0) {
		*error_r = "not a compiled Sieve program";
		return -1;
	}
	struct sieve_program *p = xcalloc(1, sizeof(*p));
	if (limits != NULL)
		p->limits = *limits;
	else
		sieve_limits_default(&p->limits);
	*prog_r = p;
	return 1;
}

int sieve_run(const struct sieve_program *prog, const struct sieve_message *msg, struct arena *a,
	      struct sieve_result *r, const char **error_r)
{
	*r = (struct sieve_result){ .implicit_keep = true };
	return 1;
}

void sieve_result_format(const struct sieve_result *r, struct buf *out)
{
	if (r->implicit_keep)
		buf_puts(out, "keep\n");
}
