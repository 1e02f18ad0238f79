/* cli_restore.c: `postamt -d DIR restore SRC` (docs/operations.md).
 *
 * SRC must be a finished backup: its manifest parses and ends with its `end` line
 * (backup_manifest.h). DIR must not exist (DESIGN.md §1: an existing one, even empty,
 * is refused, so nothing is ever overwritten or mixed in). Every file of the
 * manifest goes to DIR.incomplete (message files hard linked when SRC is on the same
 * file system: the store never writes a message file twice; everything else copied),
 * each is checked against its size and SHA-256, the database's counts against the
 * manifest's, and postamt.conf comes last; after a syncfs the directory is renamed to
 * DIR. A restore killed half-way leaves only DIR.incomplete, without a configuration,
 * so no server starts on it; a failed check removes it and says which file. */
#include "backup_manifest.h"
#include "cli_backup.h"

#include "arena.h"
#include "store_backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("postamt: restore: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

static bool empty_dir(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return false;
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)) != NULL)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/* Reads SRC/manifest: 1 with *m, or prints why not and returns -1. */
static int read_manifest(struct arena *a, const char *src, struct manifest *m)
{
	char *path = xasprintf("%s/manifest", src);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		int e = errno;
		struct stat st;
		char *tmp = xasprintf("%s.incomplete", src);
		bool partial = lstat(tmp, &st) == 0;
		fail("%s: %s: %s", src, e == ENOENT ? "no manifest: not a postamt backup, or an incomplete one" : path,
		     partial ? "(an interrupted backup is in .incomplete)" : strerror(e));
		free(tmp);
		free(path);
		return -1;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	fclose(mem);
	fclose(f);
	free(path);
	const char *err;
	int r = manifest_parse(a, text, len, m, &err);
	free(text);
	if (r == 0)
		return fail("%s is an incomplete backup (%s); refusing it", src, err), -1;
	if (r < 0)
		return fail("%s: %s", src, err), -1;
	if (m->schema > STORE_SCHEMA_VERSION)
		return fail("%s was made by a later postamt (database schema %lld, this one knows %d)", src,
			    (long long)m->schema, STORE_SCHEMA_VERSION),
		       -1;
	return 1;
}

/* Restores one file; 1, or -1 (printed). */
static int restore_file(const char *src, const char *tmp, const struct manifest_file *f, size_t *linked)
{
	char from[PATH_MAX + MANIFEST_PATH_MAX], to[PATH_MAX + MANIFEST_PATH_MAX];
	snprintf(from, sizeof(from), "%s/%s", src, f->path);
	snprintf(to, sizeof(to), "%s/%s", tmp, f->path);
	if (backup_make_parents(to) < 0)
		return fail("cannot create the directories of %s: %s", to, strerror(errno)), -1;
	char hex[65];
	uint64_t size = 0;
	int r;
	if (strncmp(f->path, "blobs/", 6) == 0 && link(from, to) == 0) {
		(*linked)++;
		r = store_file_sha256(to, hex, &size);
	} else {
		r = backup_copy_file(from, to, hex, &size);
	}
	if (r <= 0)
		return fail("%s: %s; nothing was restored", from,
			    r == 0 || errno == ENOENT ? "missing" : strerror(errno)),
		       -1;
	if (size != f->size)
		return fail("%s has %llu bytes, the manifest says %llu; nothing was restored", from,
			    (unsigned long long)size, (unsigned long long)f->size),
		       -1;
	if (strcmp(hex, f->sha256) != 0)
		return fail("%s is damaged: its SHA-256 differs from the manifest's; nothing was restored", from), -1;
	return 1;
}

int cli_restore(const char *dir, int argc, char **argv)
{
	if (argc != 2)
		return fail("usage: postamt -d DIR restore SRC");
	const char *src = argv[1];
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	char *target = xstrndup(dir, dl);
	char *tmp = xasprintf("%s.incomplete", target);
	struct arena *a = arena_new();
	int status = 1;
	bool made = false;
	struct stat st;
	if (lstat(target, &st) == 0) {
		fail("%s exists%s; refusing it (restore creates DIR: give a path that does not exist)", target,
		     S_ISDIR(st.st_mode) && empty_dir(target) ? "" : " and is not empty");
		goto out;
	}
	if (lstat(tmp, &st) == 0) {
		fail("%s exists: an interrupted restore? remove it first", tmp);
		goto out;
	}
	struct manifest m;
	if (read_manifest(a, src, &m) < 0)
		goto out;
	double t0 = backup_now();
	if (mkdir(tmp, 0700) < 0) {
		fail("cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	made = true;
	size_t linked = 0;
	const struct manifest_file *conf = NULL;
	for (size_t i = 0; i < m.nfiles; i++) {
		if (strcmp(m.files[i].path, "postamt.conf") == 0) {
			conf = &m.files[i];
			continue;
		}
		if (restore_file(src, tmp, &m.files[i], &linked) < 0)
			goto out;
		if (i == 1)
			backup_test_stop("restore");
	}
	char *db = xasprintf("%s/db/store.sqlite", tmp);
	struct store_counts counts;
	const char *err;
	int r = store_snapshot_blobs(db, NULL, NULL, &counts, &err);
	free(db);
	if (r < 0) {
		fail("%s", err);
		goto out;
	}
	uint64_t have[MANIFEST_COUNTS] = { counts.accounts, counts.mailboxes, counts.messages, counts.emails };
	for (size_t k = 0; k < MANIFEST_COUNTS; k++) {
		if (have[k] != m.counts[k]) {
			fail("the database has %llu %s, the manifest says %llu; nothing was restored",
			     (unsigned long long)have[k], manifest_count_names[k], (unsigned long long)m.counts[k]);
			goto out;
		}
	}
	if (conf == NULL) {
		fail("%s has no postamt.conf; nothing was restored", src);
		goto out;
	}
	if (restore_file(src, tmp, conf, &linked) < 0)
		goto out;
	if (geteuid() == 0) { /* the server runs as its `user`: DIR must be theirs (as init does) */
		char real[PATH_MAX];
		struct config *cfg = NULL;
		char *cerr = NULL, *cpath = xasprintf("%s/postamt.conf", tmp);
		if (realpath(tmp, real) != NULL && config_load(real, cpath, &cfg, &cerr) >= 0 &&
		    backup_give_to(tmp, cfg->user) < 0)
			fprintf(stderr, "postamt: restore: warning: could not give %s to user %s: %s\n", target,
				cfg->user, strerror(errno));
		if (cerr != NULL) {
			fprintf(stderr, "postamt: restore: warning: the restored configuration: %s\n", cerr);
			free(cerr);
		}
		config_free(&cfg);
		free(cpath);
	}
	int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || syncfs(dfd) < 0) {
		fail("cannot sync %s: %s", tmp, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	close(dfd);
	if (rename(tmp, target) < 0) {
		fail("cannot rename %s to %s: %s", tmp, target, strerror(errno));
		goto out;
	}
	made = false;
	printf("restored %s into %s: %zu files (%zu linked), %llu messages in %llu mailboxes of %llu accounts, %.2f s\n",
	       src, target, m.nfiles, linked, (unsigned long long)m.counts[2], (unsigned long long)m.counts[1],
	       (unsigned long long)m.counts[0], backup_now() - t0);
	status = 0;
out:
	if (made) { /* a clear refusal leaves nothing behind */
		backup_remove_tree(tmp);
	}
	arena_free(&a);
	free(tmp);
	free(target);
	return status;
}
