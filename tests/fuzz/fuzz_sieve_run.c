/* fuzz_sieve_run.c: libFuzzer target for running Sieve scripts over messages
 * (src/sieve, sieve_run over src/mail).
 *
 * The input is a script, a NUL byte, and a message; the script's require list is
 * prefixed with every extension so that the evaluator's paths are reached. The
 * run must end with a result or an error (never a crash), within the step limit;
 * a result's text form has one line per action plus the keep. Callbacks answer
 * duplicate, mailboxexists and include (include returns the script itself, so
 * the depth limit is exercised). */
#include "fuzz.h"
#include "arena.h"
#include "sieve.h"

#include <string.h>

struct ctx {
	const char *script;
	size_t len;
};

static int cb_dup(void *c, const char *handle, const char *id, uint64_t seconds)
{
	(void)c;
	(void)handle;
	(void)seconds;
	return id[0] != '\0' && (id[0] & 1);
}

static int cb_mbox(void *c, const char *mailbox)
{
	(void)c;
	return strlen(mailbox) % 2;
}

static int cb_inc(void *c, bool global, const char *name, const char **text_r, size_t *len_r)
{
	const struct ctx *x = c;
	if (global)
		return 0;
	*text_r = x->script;
	*len_r = x->len;
	return name[0] != 'x';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t slen = nul != NULL ? (size_t)(nul - data) : size;
	const char *msg = nul != NULL ? (const char *)nul + 1 : "";
	size_t mlen = nul != NULL ? size - slen - 1 : 0;
	static const char req[] =
		"require [\"fileinto\", \"reject\", \"ereject\", \"envelope\", \"encoded-character\", \"imap4flags\","
		" \"body\", \"variables\", \"vacation\", \"vacation-seconds\", \"relational\","
		" \"comparator-i;ascii-numeric\", \"subaddress\", \"copy\", \"mailbox\", \"date\", \"index\", \"regex\","
		" \"duplicate\", \"spamtestplus\", \"include\"];\n";
	struct buf script = { 0 };
	buf_puts(&script, req);
	buf_append(&script, data, slen);
	char *m = malloc(mlen + 1); /* a copy, NUL-terminated as sieve_message asks */
	if (mlen > 0)
		memcpy(m, msg, mlen);
	m[mlen] = '\0';
	struct sieve_limits lim;
	sieve_limits_default(&lim);
	lim.max_cpu_steps = 200000;
	struct arena *a = arena_new();
	struct sieve_program *p = NULL;
	const char *err = NULL;
	if (sieve_compile(buf_str(&script), script.len, &lim, a, &p, &err) > 0) {
		struct ctx x = { buf_str(&script), script.len };
		struct sieve_message sm = { .data = m,
					    .len = mlen,
					    .env_from = "a@b.c",
					    .env_to = "u+d@e.f",
					    .auth = "u@e.f",
					    .spam_percent = (int)(mlen % 101),
					    .now = 1796638800,
					    .tz_minutes = 60,
					    .duplicate = cb_dup,
					    .mailbox_exists = cb_mbox,
					    .include = cb_inc,
					    .ctx = &x };
		struct sieve_result res;
		if (sieve_run(p, &sm, a, &res, &err) > 0) {
			CHECK(res.steps <= lim.max_cpu_steps + 1);
			CHECK(res.nactions <= lim.max_actions);
			struct buf out = { 0 };
			sieve_result_format(&res, &out);
			size_t lines = 0;
			for (size_t i = 0; i < out.len; i++)
				lines += out.data[i] == '\n';
			CHECK(lines == res.nactions + (res.implicit_keep ? 1 : 0));
			buf_free(&out);
		} else {
			CHECK(err != NULL);
		}
		sieve_program_free(&p);
	}
	arena_free(&a);
	buf_free(&script);
	free(m);
	return 0;
}
