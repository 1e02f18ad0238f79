/* cli_backup.c: `postamt backup DEST [--since PREVIOUS]` (docs/operations.md).
 *
 * Works next to a running server. The database is copied first, in one read
 * transaction (store_snapshot); then every message file that copy references is hard
 * linked into DEST (copied when DEST is on another file system; with --since, linked or
 * copied from PREVIOUS when it has the file already, so only new files are read from
 * DIR); then the rest of DIR (configuration, certificates, DKIM keys) is copied. A
 * file the server expunged between the copy of the database and its link is missing:
 * then the pass starts again with a new copy of the database (at most BACKUP_TRIES
 * times), so the backup never names a file it lacks. Everything goes to
 * DEST.incomplete; the manifest (backup_manifest.h) gets its `end` line after a
 * syncfs, and only then is the directory renamed to DEST. A backup killed half-way
 * leaves DEST.incomplete without an end line, which restore refuses. The outbound
 * queue is not part of a backup (docs/operations.md says why). */
#include "backup_manifest.h"
#include "cli_backup.h"

#include "arena.h"
#include "store.h"
#include "store_backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BACKUP_TRIES 5

struct backup {
	const char *src;      /* DIR, absolute */
	const char *tmp;      /* DEST.incomplete */
	const char *prev_dir; /* --since, or NULL */
	struct manifest prev;
	struct store_counts counts; /* of the database copy */
	FILE *mf;                   /* tmp/manifest */
	bool subdir_made[256];
	size_t nfiles, missing, linked, copied, reused, warnings;
	uint64_t bytes;
	const char *error; /* set with a negative callback result */
	char errbuf[3 * PATH_MAX];
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("postamt: backup: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

static int add_line(struct backup *b, const char *rel, uint64_t size, const char *hex)
{
	struct manifest_file f = { .path = rel, .size = size };
	memcpy(f.sha256, hex, 65);
	if (manifest_write_file(b->mf, &f) < 0) {
		snprintf(b->errbuf, sizeof(b->errbuf), "cannot write the manifest line of %s: %s", rel,
			 strerror(errno));
		b->error = b->errbuf;
		return -1;
	}
	b->nfiles++;
	b->bytes += size;
	return 1;
}

/* Links (or copies) one file to tmp/rel; the source is `from`. 1 with the copy's
 * digest (NULL: linked, not read), 0 when from is gone, -1 on error. */
static int link_or_copy(struct backup *b, const char *from, const char *to, char hex[65], uint64_t *size_r,
			bool *linked_r)
{
	*linked_r = false;
	if (link(from, to) == 0) {
		*linked_r = true;
		return 1;
	}
	if (errno == ENOENT)
		return 0;
	if (errno != EXDEV && errno != EPERM && errno != EMLINK) {
		snprintf(b->errbuf, sizeof(b->errbuf), "cannot link %s to %s: %s", from, to, strerror(errno));
		b->error = b->errbuf;
		return -1;
	}
	if (backup_copy_file(from, to, hex, size_r) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(b->errbuf, sizeof(b->errbuf), "cannot copy %s to %s: %s", from, to, strerror(errno));
		b->error = b->errbuf;
		return -1;
	}
	return 1;
}

static int one_blob(void *arg, const struct store_blob_info *info)
{
	struct backup *b = arg;
	unsigned int sub = (unsigned int)strtoul(info->relpath + 6, NULL, 16) & 0xff;
	char to[PATH_MAX], from[PATH_MAX];
	snprintf(to, sizeof(to), "%s/%s", b->tmp, info->relpath);
	if (!b->subdir_made[sub]) {
		if (backup_make_parents(to) < 0) {
			snprintf(b->errbuf, sizeof(b->errbuf), "cannot create the directories of %s: %s", to,
				 strerror(errno));
			b->error = b->errbuf;
			return -1;
		}
		b->subdir_made[sub] = true;
	}
	char hex[65];
	uint64_t size = 0;
	bool linked;
	int r;
	/* --since: the previous backup's copy, when it has the file (names are never reused) */
	const struct manifest_file *pf = b->prev_dir != NULL ? manifest_find(&b->prev, info->relpath) : NULL;
	if (pf != NULL && pf->size == info->size) {
		snprintf(from, sizeof(from), "%s/%s", b->prev_dir, info->relpath);
		r = link_or_copy(b, from, to, hex, &size, &linked);
		if (r < 0)
			return r;
		if (r > 0 && !linked && strcmp(hex, pf->sha256) != 0) {
			unlink(to); /* damaged in PREVIOUS: take DIR's */
			r = 0;
		}
		if (r > 0) {
			if (linked)
				memcpy(hex, pf->sha256, 65);
			b->reused++;
			return add_line(b, info->relpath, pf->size, hex);
		}
	}
	snprintf(from, sizeof(from), "%s/%s", b->src, info->relpath);
	r = link_or_copy(b, from, to, hex, &size, &linked);
	if (r <= 0) {
		if (r == 0)
			b->missing++; /* expunged since the copy of the database: another pass */
		return r;
	}
	if (b->linked + b->copied == 0)
		backup_test_stop("backup");
	if (linked) {
		b->linked++;
		struct stat st;
		if (info->sha256 != NULL && stat(to, &st) == 0 && (uint64_t)st.st_size == info->size) {
			/* the same file as DIR's: its digest is the one recorded at delivery */
			memcpy(hex, info->sha256, 65);
			size = info->size;
		} else if (store_file_sha256(to, hex, &size) <= 0) {
			snprintf(b->errbuf, sizeof(b->errbuf), "cannot read %s: %s", to, strerror(errno));
			b->error = b->errbuf;
			return -1;
		}
	} else {
		b->copied++;
	}
	if (size != info->size) {
		fprintf(stderr,
			"postamt: backup: warning: %s has %llu bytes, the database says %llu (run postamt verify)\n",
			info->relpath, (unsigned long long)size, (unsigned long long)info->size);
		b->warnings++;
	} else if (info->sha256 != NULL && strcmp(info->sha256, hex) != 0) {
		fprintf(stderr,
			"postamt: backup: warning: %s differs from its SHA-256 recorded at delivery (run postamt verify)\n",
			info->relpath);
		b->warnings++;
	}
	return add_line(b, info->relpath, size, hex);
}

/* Copies DIR's other files (configuration, tls/, dkim/, ...) below rel ("" = DIR). */
static int copy_rest(struct backup *b, const char *rel)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s%s%s", b->src, rel[0] ? "/" : "", rel);
	DIR *d = opendir(dir);
	if (d == NULL) {
		snprintf(b->errbuf, sizeof(b->errbuf), "cannot read %s: %s", dir, strerror(errno));
		b->error = b->errbuf;
		return -1;
	}
	/* DIR's own: the database (copied above), the message files (linked above), the
	 * lock, the queue (not backed up), lost+found (verify's), leftovers of a restore */
	static const char *const skip[] = { "db", "blobs", "postamt.lock", "queue", "lost+found", "manifest", NULL };
	int ret = 1;
	struct dirent *e;
	while (ret > 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		bool skipped = false;
		for (size_t i = 0; rel[0] == '\0' && skip[i] != NULL; i++)
			skipped |= strcmp(e->d_name, skip[i]) == 0;
		if (skipped)
			continue;
		char sub[PATH_MAX], from[PATH_MAX + 256], to[PATH_MAX + 256];
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		snprintf(from, sizeof(from), "%s/%s", b->src, sub);
		snprintf(to, sizeof(to), "%s/%s", b->tmp, sub);
		struct stat st;
		if (lstat(from, &st) < 0)
			continue; /* gone meanwhile */
		if (S_ISDIR(st.st_mode)) {
			if (mkdir(to, 0700) < 0 && errno != EEXIST) {
				snprintf(b->errbuf, sizeof(b->errbuf), "cannot create %s: %s", to, strerror(errno));
				b->error = b->errbuf;
				ret = -1;
			} else {
				ret = copy_rest(b, sub);
			}
			continue;
		}
		if (!S_ISREG(st.st_mode) || !manifest_path_ok(sub, strlen(sub))) {
			fprintf(stderr,
				"postamt: backup: warning: %s left out (not a regular file or an unusable name)\n",
				from);
			b->warnings++;
			continue;
		}
		char hex[65];
		uint64_t size;
		if (backup_copy_file(from, to, hex, &size) < 0) {
			snprintf(b->errbuf, sizeof(b->errbuf), "cannot copy %s: %s", from, strerror(errno));
			b->error = b->errbuf;
			ret = -1;
			continue;
		}
		chmod(to, st.st_mode & 07777);
		b->copied++;
		ret = add_line(b, sub, size, hex);
	}
	closedir(d);
	return ret;
}

/* One pass: the database, its files, the rest. 1 done, 0 a file was missing (try
 * again), -1 error (printed). */
static int pass(struct backup *b, struct store *s, const char *since)
{
	char db[PATH_MAX], mpath[PATH_MAX];
	snprintf(db, sizeof(db), "%s/db", b->tmp);
	snprintf(mpath, sizeof(mpath), "%s/manifest", b->tmp);
	if (mkdir(db, 0700) < 0)
		return fail("cannot create %s: %s", db, strerror(errno)), -1;
	snprintf(db, sizeof(db), "%s/db/store.sqlite", b->tmp);
	const char *err;
	if (store_snapshot(s, db, &err) < 0)
		return fail("%s", err), -1;
	struct store_counts counts;
	if (store_snapshot_blobs(db, NULL, NULL, &b->counts, &err) < 0)
		return fail("%s", err), -1;
	b->mf = fopen(mpath, "wx");
	if (b->mf == NULL)
		return fail("cannot create %s: %s", mpath, strerror(errno)), -1;
	counts = b->counts;
	struct manifest m = { .version = POSTAMT_VERSION,
			      .schema = counts.schema,
			      .created = (int64_t)time(NULL),
			      .since = since,
			      .counts = { counts.accounts, counts.mailboxes, counts.messages, counts.emails } };
	char hex[65];
	uint64_t size;
	if (manifest_write_header(b->mf, &m) < 0 || store_file_sha256(db, hex, &size) <= 0 ||
	    add_line(b, "db/store.sqlite", size, hex) < 0)
		return fail("cannot write %s: %s", mpath, strerror(errno)), -1;
	int r = store_snapshot_blobs(db, one_blob, b, NULL, &err);
	if (r < 0)
		return fail("%s", b->error != NULL ? b->error : err), -1;
	if (b->missing > 0)
		return 0;
	if (copy_rest(b, "") < 0)
		return fail("%s", b->error), -1;
	return 1;
}

/* Undoes a pass that found a file missing. */
static void reset_pass(struct backup *b)
{
	if (b->mf != NULL)
		fclose(b->mf);
	b->mf = NULL;
	char p[PATH_MAX];
	static const char *const parts[] = { "db", "blobs", "manifest" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", b->tmp, parts[i]);
		backup_remove_tree(p);
	}
	memset(b->subdir_made, 0, sizeof(b->subdir_made));
	b->nfiles = b->missing = b->linked = b->copied = b->reused = 0;
	b->bytes = 0;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

static char *parent_of(const char *path)
{
	char *p = xstrdup(path);
	char *slash = strrchr(p, '/');
	if (slash == NULL) {
		free(p);
		return xstrdup(".");
	}
	if (slash == p)
		slash[1] = '\0';
	else
		*slash = '\0';
	return p;
}

/* True when dst (which does not exist) would lie inside dir: the backup would copy
 * itself. Decided on the real path of dst's parent; false when that does not exist
 * (creating DEST fails then, with its own message). */
static bool inside_dir(const char *dir, const char *dst)
{
	char *parent = parent_of(dst);
	char real_parent[PATH_MAX], real_dir[PATH_MAX];
	bool inside = false;
	if (realpath(parent, real_parent) != NULL && realpath(dir, real_dir) != NULL) {
		size_t n = strlen(real_dir);
		inside = strncmp(real_parent, real_dir, n) == 0 &&
			 (real_parent[n] == '\0' || real_parent[n] == '/' || strcmp(real_dir, "/") == 0);
	}
	free(parent);
	return inside;
}

int cli_backup(const struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = { { "since", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 } };
	const char *since = NULL;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's')
			return fail("usage: postamt backup DEST [--since PREVIOUS]");
		since = optarg;
	}
	if (optind + 1 != argc)
		return fail("usage: postamt backup DEST [--since PREVIOUS]");
	const char *dest = argv[optind];
	size_t dl = strlen(dest);
	while (dl > 1 && dest[dl - 1] == '/')
		dl--;
	char *dst = xstrndup(dest, dl);
	struct stat st;
	if (lstat(dst, &st) == 0) {
		fail("%s exists; a backup goes to a new path (nothing was written)", dst);
		free(dst);
		return 1;
	}
	if (inside_dir(cfg->data_dir, dst)) {
		fail("%s is inside the data directory %s: a backup goes outside it (nothing was written)", dst,
		     cfg->data_dir);
		free(dst);
		return 1;
	}
	char *tmp = xasprintf("%s.incomplete", dst);
	if (lstat(tmp, &st) == 0) {
		fail("%s exists: an interrupted backup? remove it first (nothing was written)", tmp);
		free(dst);
		free(tmp);
		return 1;
	}
	struct arena *a = arena_new();
	struct backup b = { .src = cfg->data_dir, .tmp = tmp };
	int status = 1;
	struct store *s = NULL;
	bool made = false;
	double t0 = backup_now();
	if (since != NULL) {
		char *mp = xasprintf("%s/manifest", since);
		char *text = NULL;
		size_t len = 0;
		FILE *f = fopen(mp, "r");
		if (f != NULL) {
			FILE *mem = open_memstream(&text, &len);
			char buf[65536];
			size_t n;
			while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
				fwrite(buf, 1, n, mem);
			fclose(mem);
			fclose(f);
		}
		const char *err = NULL;
		int r = text != NULL ? manifest_parse(a, text, len, &b.prev, &err) : -1;
		free(text);
		free(mp);
		if (r <= 0) {
			fail("--since %s: %s", since, text == NULL && err == NULL ? "no manifest there" : err);
			goto out;
		}
		b.prev_dir = since;
	}
	struct store_options opt = { .create = false, .read_conns = 1 };
	const char *err;
	if (config_store_pg(cfg) != NULL) { /* the database's own backup tools, docs/cluster.md */
		fail("%s", STORE_PG_MISSING);
		goto out;
	}
	if (store_open(cfg->data_dir, &opt, &s, &err) < 0) {
		fail("%s", err);
		goto out;
	}
	if (mkdir(tmp, 0700) < 0) {
		fail("cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	made = true;
	int r = 0;
	for (int i = 0; i < BACKUP_TRIES && r == 0; i++) {
		if (i > 0) {
			fprintf(stderr,
				"postamt: backup: %zu message files were expunged while the backup ran; starting again"
				" with a new copy of the database\n",
				b.missing);
			reset_pass(&b);
		}
		r = pass(&b, s, since);
	}
	if (r == 0)
		fail("message files kept disappearing while the backup ran (%d tries); try again later", BACKUP_TRIES);
	if (r <= 0)
		goto out;
	/* everything on disk before the end line says so */
	if (fflush(b.mf) != 0 || syncfs(fileno(b.mf)) < 0 || manifest_write_end(b.mf, b.nfiles) < 0 ||
	    fflush(b.mf) != 0 || fsync(fileno(b.mf)) < 0) {
		fail("cannot write %s/manifest: %s", tmp, strerror(errno));
		goto out;
	}
	fclose(b.mf);
	b.mf = NULL;
	if (rename(tmp, dst) < 0) {
		fail("cannot rename %s to %s: %s", tmp, dst, strerror(errno));
		goto out;
	}
	made = false;
	char *parent = parent_of(dst);
	fsync_dir(parent);
	free(parent);
	printf("backup %s: %zu files, %llu bytes (%zu linked, %zu copied, %zu from --since), %llu messages in %llu"
	       " mailboxes of %llu accounts, %.2f s%s\n",
	       dst, b.nfiles, (unsigned long long)b.bytes, b.linked, b.copied, b.reused,
	       (unsigned long long)b.counts.messages, (unsigned long long)b.counts.mailboxes,
	       (unsigned long long)b.counts.accounts, backup_now() - t0, b.warnings > 0 ? " (with warnings)" : "");
	status = 0;
out:
	if (b.mf != NULL)
		fclose(b.mf);
	if (made)
		fprintf(stderr, "postamt: backup: %s is incomplete and can be removed\n", tmp);
	store_close(&s);
	arena_free(&a);
	free(tmp);
	free(dst);
	return status;
}
