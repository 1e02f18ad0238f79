/* fuzz_msieve.c: libFuzzer target for the ManageSieve parser (src/proto/sieve).
 *
 * The input is parsed as a stream of commands with small limits (line 64, literal
 * 128) and as one SASL response line. Invariants: each result is 1, 0 or one of
 * enum msieve_error with an error text; a parsed command uses at least one byte and
 * no more than the input, has an upper-case name of at most MSIEVE_NAME_MAX bytes and
 * at most MSIEVE_ARGS_MAX arguments, no string over the literal limit; a syntax error
 * skips at least one byte (so the server always advances); "need more" on a prefix
 * never turns into a different command with more input. Formatting any parsed string
 * with msieve_put_string and parsing it back as an argument yields the same bytes. */
#include "fuzz.h"
#include "msieve.h"

#include <string.h>

static void roundtrip(struct arena *a, struct bytes s)
{
	struct buf b = { 0 };
	buf_puts(&b, "X ");
	msieve_put_string(&b, s.p, s.len);
	buf_puts(&b, "\r\n");
	struct msieve_limits big = { .line_max = b.len + 16, .literal_max = s.len + 1 };
	struct msieve_command cmd;
	size_t used = 0;
	const char *error = NULL;
	int r = msieve_parse_command((struct bytes){ b.data, b.len }, &big, a, &cmd, &used, &error);
	CHECK(r == 1);
	CHECK(used == b.len);
	CHECK(cmd.nargs == 1 && cmd.args[0].type == MSIEVE_STRING);
	CHECK(cmd.args[0].str.len == s.len && memcmp(cmd.args[0].str.p, s.p, s.len) == 0);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct msieve_limits lim = { .line_max = 64, .literal_max = 128 };
	struct arena *a = arena_new();
	size_t pos = 0;
	for (int guard = 0; pos < size && guard < 1000; guard++) {
		struct msieve_command cmd;
		size_t used = 0;
		const char *error = NULL;
		int r = msieve_parse_command((struct bytes){ in + pos, size - pos }, &lim, a, &cmd, &used, &error);
		CHECK(r == 1 || r == 0 || r == MSIEVE_ESYNTAX || r == MSIEVE_ELINE || r == MSIEVE_ELITERAL);
		if (r == 0 || r == MSIEVE_ELINE || r == MSIEVE_ELITERAL) {
			CHECK(r == 0 || (error != NULL && error[0] != '\0'));
			break;
		}
		CHECK(used > 0 && used <= size - pos);
		if (r == MSIEVE_ESYNTAX) {
			CHECK(error != NULL && error[0] != '\0');
		} else {
			size_t nl = strlen(cmd.name);
			CHECK(nl > 0 && nl <= MSIEVE_NAME_MAX);
			for (size_t i = 0; i < nl; i++)
				CHECK(!(cmd.name[i] >= 'a' && cmd.name[i] <= 'z'));
			CHECK(cmd.nargs <= MSIEVE_ARGS_MAX);
			for (size_t i = 0; i < cmd.nargs; i++) {
				if (cmd.args[i].type == MSIEVE_STRING) {
					CHECK(cmd.args[i].str.len <= lim.literal_max || !cmd.args[i].literal);
					roundtrip(a, cmd.args[i].str);
				}
			}
		}
		pos += used;
		arena_clear(a);
	}
	struct bytes s;
	size_t used = 0;
	const char *error = NULL;
	int r = msieve_parse_response((struct bytes){ in, size }, &lim, a, &s, &used, &error);
	CHECK(r == 1 || r == 0 || r == MSIEVE_ESYNTAX || r == MSIEVE_ELINE || r == MSIEVE_ELITERAL);
	if (r == 1)
		CHECK(used > 0 && used <= size);
	arena_free(&a);
	return 0;
}
