/* cli_sieve.c: `postamt sieve check FILE` and `postamt sieve test FILE MESSAGE`.
 *
 * check compiles a script and prints "FILE: OK" or the error ("line N: ...") the
 * ManageSieve server would give. test runs a script over a message file and
 * prints the actions in the stable text form of sieve_result_format(), one per
 * line; with a run error it prints the error on stderr and "keep" (what delivery
 * does then) and exits 1. Options of test: --from ADDR and --to ADDR (the
 * envelope; default: the message's From and To), --spam PERCENT (the junk
 * filter's score for spamtest), --mailbox NAME (repeatable: mailboxes that exist
 * for mailboxexists; INBOX always does). include finds NAME in the script's
 * directory as NAME.sieve (:personal) or in its "global" subdirectory (:global).
 * Reads files only; no data directory, no store. */
#include "cli.h"

#include "arena.h"
#include "buf.h"
#include "mail.h"
#include "sieve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Reads a whole file into b. Returns 0, or -1 with errno. */
static int read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(b, tmp, n);
	int bad = ferror(f);
	fclose(f);
	return bad ? -1 : 0;
}

struct cli_ctx {
	const char *dir; /* the script's directory */
	char **mailboxes;
	int nmailboxes;
	struct arena *a;
};

static int cb_mailbox_exists(void *ctx, const char *mailbox)
{
	struct cli_ctx *c = ctx;
	if (strcasecmp(mailbox, "INBOX") == 0)
		return 1;
	for (int i = 0; i < c->nmailboxes; i++)
		if (strcmp(c->mailboxes[i], mailbox) == 0)
			return 1;
	return 0;
}

static int cb_include(void *ctx, bool global, const char *name, const char **text_r, size_t *len_r)
{
	struct cli_ctx *c = ctx;
	const char *path = arena_printf(c->a, "%s/%s%s.sieve", c->dir, global ? "global/" : "", name);
	struct buf b = { 0 };
	if (read_file(path, &b) < 0) {
		buf_free(&b);
		return errno == ENOENT ? 0 : -1;
	}
	*text_r = arena_strndup(c->a, b.len ? b.data : "", b.len);
	*len_r = b.len;
	buf_free(&b);
	return 1;
}

/* The first addr-spec of header `name`, or "". */
static const char *header_addr(struct arena *a, const char *msg, size_t len, const char *name)
{
	const char **addrs;
	size_t n;
	if (mail_header_mailboxes(a, msg, len, name, &addrs, &n) != 0 && n > 0)
		return addrs[0];
	return "";
}

static int sieve_usage(void)
{
	fputs("postamt: usage: postamt sieve check FILE | postamt sieve test FILE MESSAGE [--from ADDR] "
	      "[--to ADDR] [--spam PERCENT] [--mailbox NAME]...\n",
	      stderr);
	return 1;
}

int cli_sieve(int argc, char **argv)
{
	if (argc < 2)
		return sieve_usage();
	bool test = strcmp(argv[0], "test") == 0;
	if (!test && (strcmp(argv[0], "check") != 0 || argc != 2))
		return sieve_usage();
	if (test && argc < 3)
		return sieve_usage();
	struct cli_ctx c = { .a = arena_new() };
	struct sieve_message m = {
		.spam_percent = -1, .ctx = &c, .mailbox_exists = cb_mailbox_exists, .include = cb_include
	};
	c.mailboxes = calloc((size_t)argc, sizeof(char *));
	for (int i = 3; test && i < argc; i++) {
		if (i + 1 >= argc)
			goto bad_usage;
		if (strcmp(argv[i], "--from") == 0) {
			m.env_from = argv[++i];
		} else if (strcmp(argv[i], "--to") == 0) {
			m.env_to = argv[++i];
		} else if (strcmp(argv[i], "--spam") == 0) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end != '\0' || v < 0 || v > 100)
				goto bad_usage;
			m.spam_percent = (int)v;
		} else if (strcmp(argv[i], "--mailbox") == 0) {
			c.mailboxes[c.nmailboxes++] = argv[++i];
		} else {
			goto bad_usage;
		}
	}
	const char *file = argv[1];
	const char *slash = strrchr(file, '/');
	c.dir = slash != NULL ? arena_strndup(c.a, file, (size_t)(slash - file)) : ".";
	int status = 1;
	struct buf script = { 0 }, msg = { 0 }, out = { 0 };
	struct sieve_program *prog = NULL;
	const char *err;
	if (read_file(file, &script) < 0) {
		fprintf(stderr, "postamt: %s: %s\n", file, strerror(errno));
		goto done;
	}
	if (sieve_compile(script.data != NULL ? script.data : "", script.len, NULL, c.a, &prog, &err) < 0) {
		fprintf(stderr, "postamt: %s: %s\n", file, err);
		goto done;
	}
	if (!test) {
		printf("%s: OK\n", file);
		status = 0;
		goto done;
	}
	if (read_file(argv[2], &msg) < 0) {
		fprintf(stderr, "postamt: %s: %s\n", argv[2], strerror(errno));
		goto done;
	}
	buf_putc(&msg, '\0'); /* the header parsers want a terminator; not part of the message */
	m.data = msg.data;
	m.len = msg.len - 1;
	if (m.env_from == NULL)
		m.env_from = header_addr(c.a, m.data, m.len, "From");
	if (m.env_to == NULL)
		m.env_to = header_addr(c.a, m.data, m.len, "To");
	m.now = (int64_t)time(NULL);
	struct tm tm;
	time_t now = (time_t)m.now;
	if (localtime_r(&now, &tm) != NULL)
		m.tz_minutes = (int)(tm.tm_gmtoff / 60);
	struct sieve_result r;
	if (sieve_run(prog, &m, c.a, &r, &err) < 0) {
		fprintf(stderr, "postamt: %s: %s\n", file, err);
		fputs("keep\n", stdout);
		goto done;
	}
	sieve_result_format(&r, &out);
	fwrite(out.data, 1, out.len, stdout);
	status = 0;
done:
	sieve_program_free(&prog);
	buf_free(&script);
	buf_free(&msg);
	buf_free(&out);
	free(c.mailboxes);
	arena_free(&c.a);
	return status;
bad_usage:
	free(c.mailboxes);
	arena_free(&c.a);
	return sieve_usage();
}
