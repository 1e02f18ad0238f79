/* fuzz_sieve.c: libFuzzer target for the Sieve parser and compiler (src/sieve,
 * sieve_compile).
 *
 * Any bytes give a program or "line N: ..." and never a crash. Invariants: exactly
 * one of the two; the error names a line within the input's line count + 1; a
 * program's saved form loads back and saves to the same bytes; a program runs
 * over a fixed message without crashing (a run error is fine). Small limits keep
 * each input fast. */
#include "fuzz.h"
#include "arena.h"
#include "sieve.h"

#include <string.h>

static const char msg[] = "From: Alice <alice@example.org>\r\nTo: bob+x@example.com\r\n"
			  "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= [dev]\r\nDate: Mon, 07 Dec 2026 09:30:15 +0100\r\n"
			  "Message-ID: <m@x>\r\n\r\nHello body\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sieve_limits lim;
	sieve_limits_default(&lim);
	lim.max_cpu_steps = 200000;
	struct arena *a = arena_new();
	struct sieve_program *p = NULL;
	const char *err = NULL;
	int r = sieve_compile((const char *)data, size, &lim, a, &p, &err);
	if (r < 0) {
		CHECK(p == NULL && err != NULL);
		CHECK(strncmp(err, "line ", 5) == 0);
		unsigned long line = strtoul(err + 5, NULL, 10);
		size_t nl = 1;
		for (size_t i = 0; i < size; i++)
			nl += data[i] == '\n';
		CHECK(line >= 1 && line <= nl + 1);
	} else {
		CHECK(r == 1 && p != NULL);
		struct buf b1 = { 0 }, b2 = { 0 };
		sieve_program_save(p, &b1);
		struct sieve_program *q = NULL;
		CHECK(sieve_program_load(b1.data, b1.len, &lim, &q, &err) == 1);
		sieve_program_save(q, &b2);
		CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
		struct sieve_message m = { .data = msg,
					   .len = sizeof(msg) - 1,
					   .env_from = "alice@example.org",
					   .env_to = "bob+x@example.com",
					   .spam_percent = 50,
					   .now = 1796638800 };
		struct sieve_result res;
		if (sieve_run(q, &m, a, &res, &err) > 0) {
			struct buf out = { 0 };
			sieve_result_format(&res, &out);
			buf_free(&out);
		} else {
			CHECK(err != NULL);
		}
		sieve_program_free(&q);
		buf_free(&b1);
		buf_free(&b2);
		sieve_program_free(&p);
	}
	arena_free(&a);
	return 0;
}
