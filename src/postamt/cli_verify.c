/* cli_verify.c: `postamt verify [--repair]` and `postamt upgrade [--dry-run]`
 * (docs/operations.md).
 *
 * Both take DIR's lock (DIR/postamt.lock, the one `serve` holds, serve_dir.h) for as
 * long as they run: a running server's DIR is refused, because its counters and files
 * move while they are read, and no server can start meanwhile. `upgrade --dry-run`
 * works on a copy of the database and so runs next to a server as well. */
#include "cli_backup.h"
#include "serve_dir.h"

#include "store.h"
#include "store_backup.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "postamt: %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

/* Takes DIR's lock: the fd (close to release), or -1 after printing why not. */
static int lock_dir(const char *cmd, const char *dir)
{
	char *path = xasprintf("%s/%s", dir, SERVE_LOCK_FILE);
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		fail(cmd, "cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char text[32] = "";
		ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
		text[n > 0 ? n : 0] = '\0';
		long pid = strtol(text, NULL, 10);
		if (errno == EWOULDBLOCK && pid > 0)
			fail(cmd,
			     "%s is in use by a running postamt serve (pid %ld): stop it first, or check a backup"
			     " restored elsewhere",
			     dir, pid);
		else
			fail(cmd,
			     "%s is in use by a running postamt serve: stop it first, or check a backup restored"
			     " elsewhere",
			     dir);
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	return fd;
}

static void print_line(void *arg, const char *line)
{
	const char *prefix = arg;
	printf("%s%s\n", prefix, line);
	fflush(stdout);
}

int cli_verify(const struct config *cfg, int argc, char **argv)
{
	bool repair = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--repair") == 0)
			repair = true;
		else
			return fail("verify", "usage: postamt verify [--repair]");
	}
	if (config_store_pg(cfg) != NULL)
		return fail("verify", "%s", STORE_PG_MISSING);
	int lock = lock_dir("verify", cfg->data_dir);
	if (lock < 0)
		return 1;
	struct store_options opt = { .create = false, .read_conns = 1 };
	struct store *s = NULL;
	const char *err;
	if (store_open(cfg->data_dir, &opt, &s, &err) < 0) {
		close(lock);
		return fail("verify", "%s", err);
	}
	struct store_verify_result r;
	int ret = store_verify(s, repair, print_line, "", &r, &err);
	store_close(&s);
	close(lock);
	if (ret < 0)
		return fail("verify", "%s", err);
	if (r.problems == 0) {
		printf("%s: OK\n", cfg->data_dir);
		return 0;
	}
	if (repair && r.repaired == r.problems) {
		fprintf(stderr, "postamt: verify: %u problems, all repaired\n", r.problems);
		return 0;
	}
	fprintf(stderr, "postamt: verify: %u problems%s\n", r.problems - r.repaired,
		repair ? " left that --repair cannot fix" : " (postamt verify --repair fixes counters and orphans)");
	return 1;
}

int cli_upgrade(const struct config *cfg, int argc, char **argv)
{
	bool dry = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			dry = true;
		else
			return fail("upgrade", "usage: postamt upgrade [--dry-run]");
	}
	int lock = -1;
	if (!dry && (lock = lock_dir("upgrade", cfg->data_dir)) < 0)
		return 1;
	int ran;
	const char *err;
	int ret = store_upgrade(cfg->data_dir, dry, print_line, dry ? "would migrate: " : "migrated: ", &ran, &err);
	if (lock >= 0)
		close(lock);
	if (ret < 0)
		return fail("upgrade", "%s", err);
	if (ran == 0)
		printf("the database has schema %d, this postamt's: nothing to do\n", STORE_SCHEMA_VERSION);
	else if (dry)
		printf("dry run: %d migrations would run; the database is unchanged\n", ran);
	else
		printf("the database now has schema %d (the copy from before is in %s/db)\n", STORE_SCHEMA_VERSION,
		       cfg->data_dir);
	return 0;
}
