/* fuzz_sieve_load.c: libFuzzer target for loading a saved Sieve program
 * (src/sieve, sieve_program_load): the store keeps the compiled form, so a
 * damaged or hostile one must be refused or load into a program that runs
 * without crashing. Invariants: load gives exactly a program or an error; a
 * loaded program saves to the same bytes and runs to a result or an error. */
#include "fuzz.h"
#include "arena.h"
#include "sieve.h"

#include <string.h>

static const char msg[] = "From: a@b.c\r\nTo: d+e@f.g\r\nSubject: s\r\nDate: Mon, 07 Dec 2026 09:30:15 +0100\r\n"
			  "\r\nbody\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sieve_limits lim;
	sieve_limits_default(&lim);
	lim.max_cpu_steps = 200000;
	struct sieve_program *p = NULL;
	const char *err = NULL;
	if (sieve_program_load(data, size, &lim, &p, &err) < 0) {
		CHECK(p == NULL && err != NULL);
		return 0;
	}
	CHECK(p != NULL);
	struct buf b = { 0 };
	sieve_program_save(p, &b);
	CHECK(b.len == size && memcmp(b.data, data, size) == 0);
	buf_free(&b);
	struct arena *a = arena_new();
	struct sieve_message m = { .data = msg,
				   .len = sizeof(msg) - 1,
				   .env_from = "a@b.c",
				   .env_to = "d+e@f.g",
				   .spam_percent = -1,
				   .now = 1796638800 };
	struct sieve_result res;
	if (sieve_run(p, &m, a, &res, &err) < 0)
		CHECK(err != NULL);
	sieve_program_free(&p);
	arena_free(&a);
	return 0;
}
