/* fuzz_pop3.c: libFuzzer target for pop3_parse_command (src/proto/pop3).
 *
 * Each LF-terminated line of the input (and the input as one line) is parsed with the
 * RFC 1939 argument limit (40) and the larger SASL limit (255). Invariants: the result
 * is 1 or -1 with an error text; on success the keyword is 3 or 4 upper-case letters
 * matching the start of the line, the arguments are the nonempty space-separated
 * words of the rest, each inside the line and at most arg_max long; a line accepted
 * with the small limit is accepted with the large one, with the same words.
 * The input is also fed to the multi-line reply stuffer (pop3_stuff), see below. */
#include "fuzz.h"
#include "pop3_parse.h"

#include <string.h>

static int parse(const char *p, size_t len, size_t arg_max, struct pop3_command *cmd)
{
	memset(cmd, 0xa5, sizeof(*cmd));
	const char *error = NULL;
	int r = pop3_parse_command((struct bytes){ p, len }, arg_max, cmd, &error);
	CHECK(r == 1 || r == -1);
	if (r < 0) {
		CHECK(error != NULL && error[0] != '\0');
		return r;
	}
	CHECK(memchr(p, '\0', len) == NULL);
	size_t klen = strlen(cmd->keyword);
	CHECK(klen == 3 || klen == 4);
	for (size_t i = 0; i < klen; i++) {
		CHECK(cmd->keyword[i] >= 'A' && cmd->keyword[i] <= 'Z');
		CHECK((p[i] & ~0x20) == cmd->keyword[i]);
	}
	CHECK(klen == len || p[klen] == ' ');
	CHECK(view_inside(cmd->rest, p, len));
	CHECK(cmd->rest.p + cmd->rest.len == p + len);
	CHECK(cmd->nargs >= 0 && cmd->nargs <= POP3_MAX_ARGS);
	/* re-split rest independently and compare */
	int n = 0;
	size_t i = 0;
	while (i < cmd->rest.len) {
		while (i < cmd->rest.len && cmd->rest.p[i] == ' ')
			i++;
		size_t start = i;
		while (i < cmd->rest.len && cmd->rest.p[i] != ' ')
			i++;
		if (i > start) {
			CHECK(n < cmd->nargs);
			CHECK(cmd->args[n].p == cmd->rest.p + start && cmd->args[n].len == i - start);
			CHECK(cmd->args[n].len <= arg_max);
			n++;
		}
	}
	CHECK(n == cmd->nargs);
	return r;
}

static void one_line(const char *p, size_t len)
{
	struct pop3_command small, large;
	int rs = parse(p, len, 40, &small);
	int rl = parse(p, len, 255, &large);
	if (rs > 0) {
		CHECK(rl > 0);
		CHECK(strcmp(small.keyword, large.keyword) == 0 && small.nargs == large.nargs);
		for (int i = 0; i < small.nargs; i++)
			CHECK(small.args[i].p == large.args[i].p && small.args[i].len == large.args[i].len);
	}
}

/* pop3_stuff (RETR with all lines, TOP with n): the output does not depend on how the
 * input is split, ends in CRLF "." CRLF, and holds no earlier terminator line, so a
 * message can never end the multi-line reply early (RFC 1939 §3). */
static void stuff(const char *p, size_t len, long lines, size_t split, struct buf *out)
{
	struct pop3_stuffer st;
	pop3_stuff_init(&st, lines);
	pop3_stuff(&st, (struct bytes){ p, split }, out);
	pop3_stuff(&st, (struct bytes){ p + split, len - split }, out);
	pop3_stuff_finish(&st, out);
}

static bool crlf_only(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return false;
	}
	return true;
}

static void check_stuffing(const char *p, size_t len)
{
	size_t split = len ? (unsigned char)p[0] % (len + 1) : 0;
	for (long lines = -1; lines <= 2; lines += 3) {
		struct buf whole = { 0 }, parts = { 0 };
		stuff(p, len, lines, len, &whole);
		stuff(p, len, lines, split, &parts);
		CHECK(whole.len == parts.len && memcmp(whole.data, parts.data, whole.len) == 0);
		CHECK(whole.len >= 3 && memcmp(whole.data + whole.len - 3, ".\r\n", 3) == 0);
		/* messages in the store are CRLF; with bare LF the reply may end "\n.\r\n" */
		if (crlf_only(p, len))
			CHECK(whole.len == 3 || (whole.len >= 5 && memcmp(whole.data + whole.len - 5, "\r\n", 2) == 0));
		const char *end = memmem(whole.data, whole.len, "\r\n.\r\n", 5);
		CHECK(end == NULL || end == whole.data + whole.len - 5);
		if (whole.len > 3)
			CHECK(!(whole.data[0] == '.' && whole.data[1] == '\r' && whole.data[2] == '\n'));
		buf_free(&whole);
		buf_free(&parts);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	check_stuffing(p, size);
	one_line(p, size);
	size_t start = 0;
	for (size_t i = 0; i < size; i++) {
		if (p[i] != '\n')
			continue;
		size_t end = i > start && p[i - 1] == '\r' ? i - 1 : i;
		one_line(p + start, end - start);
		start = i + 1;
	}
	return 0;
}
