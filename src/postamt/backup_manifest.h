/* backup_manifest.h: the manifest of a backup (DIR/manifest of `postamt backup DEST`).
 *
 * A manifest is text, one item per line (LF), in this order:
 *
 *   postamt-backup 1                       format version (always first)
 *   postamt VERSION                        the release that wrote it
 *   schema N                               the database's schema version
 *   created UNIXTIME
 *   since PATH                             only for --since: the previous backup (informational)
 *   count NAME N                           accounts, mailboxes, messages, emails
 *   file SHA256 SIZE PATH                  one per file, PATH relative to the backup
 *   end N                                  N = the number of file lines; written last
 *
 * A manifest without its `end` line belongs to a backup that never finished: the
 * parser says so (0) and restore refuses it. Paths are relative, without `.`/`..`
 * components, empty components, a leading '/', control characters or spaces at the
 * ends, each at most MANIFEST_PATH_MAX bytes; the parser is pure (bytes in) and
 * fuzzed (tests/fuzz/fuzz_manifest.c). */
#ifndef POSTAMT_BACKUP_MANIFEST_H
#define POSTAMT_BACKUP_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct arena;

#define MANIFEST_FORMAT 1
#define MANIFEST_PATH_MAX 1024
#define MANIFEST_LINE_MAX (MANIFEST_PATH_MAX + 128)
#define MANIFEST_COUNTS 4

struct manifest_file {
	const char *path;
	uint64_t size;
	char sha256[65]; /* lower-case hex */
};

struct manifest {
	const char *version; /* the postamt release */
	int64_t schema;
	int64_t created;
	const char *since; /* NULL unless --since */
	/* accounts, mailboxes, messages, emails (manifest_count_names order) */
	uint64_t counts[MANIFEST_COUNTS];
	struct manifest_file *files; /* sorted by path (manifest_find) */
	size_t nfiles;
};

/* The names of manifest.counts, in order. */
extern const char *const manifest_count_names[MANIFEST_COUNTS];

/* Parses a whole manifest (data, len; need not be NUL-terminated). Returns 1 with
 * *m_r filled (strings and the file array in a), 0 when the manifest is cut short
 * (no `end` line: the backup is incomplete; *error_r says so), <0 on anything
 * malformed (*error_r names the line). */
int manifest_parse(struct arena *a, const char *data, size_t len, struct manifest *m_r, const char **error_r);

/* The file entry for path, or NULL (binary search over the sorted files). */
const struct manifest_file *manifest_find(const struct manifest *m, const char *path);

/* True when path is one the manifest accepts (see the top of this file). */
int manifest_path_ok(const char *path, size_t len);

/* Writers: the header lines (everything up to the first file line), a file line, and
 * the end line. Each returns 1, or -1 when writing failed (errno) or path is not
 * acceptable (EINVAL). */
int manifest_write_header(FILE *f, const struct manifest *m);
int manifest_write_file(FILE *f, const struct manifest_file *file);
int manifest_write_end(FILE *f, size_t nfiles);

#endif
