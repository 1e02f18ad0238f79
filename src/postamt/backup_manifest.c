/* backup_manifest.c: parsing and writing a backup's manifest (format in
 * backup_manifest.h). Pure: bytes in, a struct out; the writers take a FILE. */
#include "backup_manifest.h"

#include "arena.h"
#include "buf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char *const manifest_count_names[MANIFEST_COUNTS] = { "accounts", "mailboxes", "messages", "emails" };

int manifest_path_ok(const char *path, size_t len)
{
	if (len == 0 || len > MANIFEST_PATH_MAX || path[0] == '/' || path[len - 1] == '/' || path[0] == ' ' ||
	    path[len - 1] == ' ')
		return 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && ((unsigned char)path[i] < 0x20 || path[i] == 0x7f))
			return 0;
		if (i == len || path[i] == '/') {
			size_t n = i - start;
			if (n == 0 || (n == 1 && path[start] == '.') ||
			    (n == 2 && path[start] == '.' && path[start + 1] == '.'))
				return 0;
			start = i + 1;
		}
	}
	return 1;
}

static bool is_hex64(struct bytes b)
{
	if (b.len != 64)
		return false;
	for (size_t i = 0; i < 64; i++) {
		char c = b.p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/* Splits off the first space-separated word of *rest. */
static struct bytes word(struct bytes *rest)
{
	size_t i = 0;
	while (i < rest->len && rest->p[i] != ' ')
		i++;
	struct bytes w = { rest->p, i };
	size_t skip = i < rest->len ? i + 1 : i;
	rest->p += skip;
	rest->len -= skip;
	return w;
}

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct manifest_file *)a)->path, ((const struct manifest_file *)b)->path);
}

static int bad(struct arena *a, size_t lineno, const char *what, const char **error_r)
{
	*error_r = arena_printf(a, "manifest line %zu: %s", lineno, what);
	return -1;
}

int manifest_parse(struct arena *a, const char *data, size_t len, struct manifest *m_r, const char **error_r)
{
	memset(m_r, 0, sizeof(*m_r));
	bool seen_count[MANIFEST_COUNTS] = { false };
	size_t cap = 0, lineno = 0, pos = 0;
	bool have_version = false, have_schema = false, have_created = false;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		lineno++;
		if (nl == NULL) /* a last line without its LF: cut short while written */
			break;
		struct bytes line = { data + pos, (size_t)(nl - (data + pos)) };
		pos = (size_t)(nl - data) + 1;
		if (line.len > MANIFEST_LINE_MAX)
			return bad(a, lineno, "too long", error_r);
		if (memchr(line.p, '\0', line.len) != NULL)
			return bad(a, lineno, "contains a NUL byte", error_r);
		struct bytes rest = line;
		struct bytes key = word(&rest);
		uint64_t v;
		if (lineno == 1) {
			if (!bytes_eq(key, "postamt-backup"))
				return bad(a, lineno, "not a postamt backup manifest", error_r);
			if (buf_parse_uint64(rest, UINT32_MAX, &v) < 0 || v != MANIFEST_FORMAT)
				return bad(a, lineno, "unknown manifest format", error_r);
			continue;
		}
		if (bytes_eq(key, "file")) {
			struct bytes hash = word(&rest);
			struct bytes size = word(&rest);
			if (!is_hex64(hash))
				return bad(a, lineno, "bad SHA-256", error_r);
			if (buf_parse_uint64(size, INT64_MAX, &v) < 0)
				return bad(a, lineno, "bad size", error_r);
			if (!manifest_path_ok(rest.p, rest.len))
				return bad(a, lineno, "bad path", error_r);
			if (m_r->nfiles == cap) {
				size_t ncap = cap == 0 ? 64 : cap * 2;
				struct manifest_file *nf = arena_alloc(a, ncap * sizeof(*nf));
				if (cap > 0)
					memcpy(nf, m_r->files, cap * sizeof(*nf));
				m_r->files = nf;
				cap = ncap;
			}
			struct manifest_file *f = &m_r->files[m_r->nfiles++];
			f->path = arena_strndup(a, rest.p, rest.len);
			f->size = v;
			memcpy(f->sha256, hash.p, 64);
			f->sha256[64] = '\0';
		} else if (bytes_eq(key, "end")) {
			if (buf_parse_uint64(rest, UINT64_MAX, &v) < 0)
				return bad(a, lineno, "bad end line", error_r);
			if (v != m_r->nfiles)
				return bad(a, lineno, "the end line's file count differs from the file lines", error_r);
			if (pos != len)
				return bad(a, lineno + 1, "text after the end line", error_r);
			if (!have_version || !have_schema || !have_created)
				return bad(a, lineno, "postamt, schema or created line missing", error_r);
			if (m_r->nfiles > 1)
				qsort(m_r->files, m_r->nfiles, sizeof(*m_r->files), cmp_files);
			for (size_t i = 1; i < m_r->nfiles; i++) {
				if (strcmp(m_r->files[i - 1].path, m_r->files[i].path) == 0) {
					*error_r = arena_printf(a, "manifest: %s is listed twice", m_r->files[i].path);
					return -1;
				}
			}
			return 1;
		} else if (m_r->nfiles > 0) {
			return bad(a, lineno, "header line after the file lines", error_r);
		} else if (bytes_eq(key, "postamt")) {
			if (rest.len == 0 || have_version)
				return bad(a, lineno, "bad postamt line", error_r);
			m_r->version = arena_strndup(a, rest.p, rest.len);
			have_version = true;
		} else if (bytes_eq(key, "schema")) {
			if (buf_parse_uint64(rest, INT32_MAX, &v) < 0 || have_schema)
				return bad(a, lineno, "bad schema line", error_r);
			m_r->schema = (int64_t)v;
			have_schema = true;
		} else if (bytes_eq(key, "created")) {
			if (buf_parse_uint64(rest, INT64_MAX, &v) < 0 || have_created)
				return bad(a, lineno, "bad created line", error_r);
			m_r->created = (int64_t)v;
			have_created = true;
		} else if (bytes_eq(key, "since")) {
			if (rest.len == 0 || rest.len > MANIFEST_PATH_MAX || m_r->since != NULL)
				return bad(a, lineno, "bad since line", error_r);
			m_r->since = arena_strndup(a, rest.p, rest.len);
		} else if (bytes_eq(key, "count")) {
			struct bytes name = word(&rest);
			size_t k = 0;
			while (k < MANIFEST_COUNTS && !bytes_eq(name, manifest_count_names[k]))
				k++;
			if (k == MANIFEST_COUNTS || seen_count[k] || buf_parse_uint64(rest, INT64_MAX, &v) < 0)
				return bad(a, lineno, "bad count line", error_r);
			m_r->counts[k] = v;
			seen_count[k] = true;
		} else {
			return bad(a, lineno, "unknown line", error_r);
		}
	}
	if (lineno == 0) {
		*error_r = "the manifest is empty: the backup is incomplete";
		return 0;
	}
	*error_r = "the manifest has no end line: the backup is incomplete";
	return 0;
}

const struct manifest_file *manifest_find(const struct manifest *m, const char *path)
{
	struct manifest_file key = { .path = path };
	if (m->nfiles == 0)
		return NULL;
	return bsearch(&key, m->files, m->nfiles, sizeof(*m->files), cmp_files);
}

int manifest_write_header(FILE *f, const struct manifest *m)
{
	if (fprintf(f, "postamt-backup %d\npostamt %s\nschema %lld\ncreated %lld\n", MANIFEST_FORMAT, m->version,
		    (long long)m->schema, (long long)m->created) < 0)
		return -1;
	if (m->since != NULL && fprintf(f, "since %s\n", m->since) < 0)
		return -1;
	for (size_t k = 0; k < MANIFEST_COUNTS; k++) {
		if (fprintf(f, "count %s %llu\n", manifest_count_names[k], (unsigned long long)m->counts[k]) < 0)
			return -1;
	}
	return 1;
}

int manifest_write_file(FILE *f, const struct manifest_file *file)
{
	if (!manifest_path_ok(file->path, strlen(file->path))) {
		errno = EINVAL;
		return -1;
	}
	return fprintf(f, "file %s %llu %s\n", file->sha256, (unsigned long long)file->size, file->path) < 0 ? -1 : 1;
}

int manifest_write_end(FILE *f, size_t nfiles)
{
	return fprintf(f, "end %zu\n", nfiles) < 0 ? -1 : 1;
}
