/* import_sources.c: planning and loading for the file sources of `postamt import`: a
 * Maildir tree and an mbox file (see import.h).
 *
 * Maildir: the root is INBOX when it has cur/; its ".Sub.Folder" directories are
 * Maildir++ folders (Dovecot's and Courier's default), other directories with cur/
 * below it are folders of the fs layout ("Sub/Folder"). Every file in cur/ and new/
 * is a message: flags and keyword letters from its name (dovecot-keywords maps the
 * letters), the internal date from its mtime, the import key from its unique part.
 * mbox: the file is mapped; messages are split and unescaped by import_parse.c, the
 * internal date comes from the "From " line; without a Message-ID a digest of the
 * bytes is the key. */
#include "import.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import_parse.h"

#define MAILDIR_DEPTH_MAX 32
#define HEADER_PEEK (64 * 1024) /* bytes read to find a Message-ID while planning */

/* snprintf into a path buffer: false when it does not fit (the entry is skipped) */
#define PATHF(buf, ...) (snprintf((buf), sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

static bool has_cur(const char *dir)
{
	char p[4096];
	struct stat sb;
	if (!PATHF(p, "%s/cur", dir))
		return false;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Reads at most max bytes of a file into out (reset first): 1, or -1 with errno. */
static int read_file(const char *path, size_t max, struct buf *out)
{
	buf_reset(out);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	for (;;) {
		buf_reserve(out, 65536);
		size_t want = out->cap - out->len - 1;
		if (out->len + want > max)
			want = max - out->len;
		if (want == 0)
			break;
		ssize_t n = read(fd, out->data + out->len, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
	}
	close(fd);
	return 1;
}

static int load_maildir(struct import_source *src, const struct import_folder *f, const struct import_item *it,
			struct buf *out, const char **error_r)
{
	(void)src;
	(void)f;
	/* one byte over the limit is enough to refuse it */
	if (read_file(it->path, (size_t)it->size + 1, out) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return 1;
}

static int plan_maildir_folder(struct import_run *run, const char *dir, const char *source_name, const char *name)
{
	struct import_folder *f = import_add_folder(run, source_name, name, 0);
	if (f == NULL)
		return 0;
	const char *slots[IMPORT_KEYWORD_SLOTS];
	struct buf kw = { 0 };
	char path[4096];
	if (PATHF(path, "%s/dovecot-keywords", dir) && read_file(path, 1024 * 1024, &kw) > 0)
		import_dovecot_keywords(run->a, kw.data != NULL ? kw.data : "", kw.len, slots);
	else
		import_dovecot_keywords(run->a, "", 0, slots);
	buf_free(&kw);
	struct buf head = { 0 };
	int result = 1;
	static const char *const subs[] = { "cur", "new" };
	for (size_t k = 0; k < 2 && result >= 0; k++) {
		struct dirent **ents;
		/* in delivery order: names start "SECONDS.M<microseconds>P<pid>Q<n>" with the numbers
		 * not zero-padded, so digits compare as numbers (versionsort), not as text */
		int n = PATHF(path, "%s/%s", dir, subs[k]) ? scandir(path, &ents, NULL, versionsort) : -1;
		if (n < 0)
			continue; /* new/ may be missing */
		for (int i = 0; i < n; i++) {
			const char *fn = ents[i]->d_name;
			struct import_maildir_file mf;
			int r = import_maildir_filename(fn, &mf);
			char file[4096];
			struct stat sb;
			if (r == 0 || !PATHF(file, "%s/%s", path, fn) || stat(file, &sb) < 0 || !S_ISREG(sb.st_mode))
				continue;
			if (r < 0) {
				import_report("folder \"%s\": %s: unusual name, imported without flags", source_name,
					      fn);
				memset(&mf, 0, sizeof(mf));
				mf.uniq_len = strlen(fn);
			}
			struct import_item it = { .size = (uint64_t)sb.st_size, .internal_date = (int64_t)sb.st_mtime };
			it.path = arena_strdup(run->a, file);
			it.flags = mf.flags; /* Python's mailbox writes flags into new/ too */
			size_t nkw = 0;
			const char **kws = arena_alloc(run->a, (IMPORT_KEYWORD_SLOTS + 2) * sizeof(*kws));
			if (mf.passed)
				kws[nkw++] = "$Forwarded";
			for (int b = 0; b < IMPORT_KEYWORD_SLOTS; b++) {
				if ((mf.keywords & (1u << b)) && slots[b] != NULL)
					kws[nkw++] = slots[b];
			}
			kws[nkw] = NULL;
			it.keywords = kws;
			const char *key = arena_printf(run->a, "maildir %.*s", (int)mf.uniq_len, fn);
			const char *mid = NULL;
			if (read_file(file, HEADER_PEEK, &head) > 0 && head.len > 0)
				mid = import_header_value(run->a, head.data, head.len, "Message-ID");
			if (import_add_item(run, f, &it, key, mid) < 0)
				result = -1;
		}
		for (int i = 0; i < n; i++)
			free(ents[i]);
		free(ents);
	}
	buf_free(&head);
	return result;
}

/* The fs layout below dir: rel is the path from the root ("" at the root). */
static int walk_fs(struct import_run *run, const char *root, const char *rel, int depth)
{
	if (depth > MAILDIR_DEPTH_MAX)
		return 0;
	char dir[4096];
	struct dirent **ents;
	int n = PATHF(dir, "%s%s%s", root, rel[0] ? "/" : "", rel) ? scandir(dir, &ents, NULL, alphasort) : -1;
	if (n < 0)
		return 0;
	int result = 1;
	for (int i = 0; i < n && result >= 0; i++) {
		const char *nm = ents[i]->d_name;
		if (nm[0] == '.' || strcmp(nm, "cur") == 0 || strcmp(nm, "new") == 0 || strcmp(nm, "tmp") == 0)
			continue;
		char sub[4096], subrel[4096];
		struct stat sb;
		if (!PATHF(sub, "%s/%s", dir, nm) || !PATHF(subrel, "%s%s%s", rel, rel[0] ? "/" : "", nm) ||
		    stat(sub, &sb) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		if (has_cur(sub)) {
			const char *name, *err;
			if (import_folder_name(run->a, subrel, '/', &name, &err) < 0)
				import_report("folder \"%s\" skipped: %s", subrel, err);
			else if (plan_maildir_folder(run, sub, subrel, name) < 0)
				result = -1;
		}
		if (result >= 0 && walk_fs(run, root, subrel, depth + 1) < 0)
			result = -1;
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return result;
}

int import_plan_maildir(struct import_run *run, struct import_source *src, const char *root)
{
	src->load = load_maildir;
	bool any = false;
	if (has_cur(root)) {
		any = true;
		if (plan_maildir_folder(run, root, "INBOX", "INBOX") < 0)
			return -1;
	}
	struct dirent **ents;
	int n = scandir(root, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "postamt: %s: %s\n", root, strerror(errno));
		return -1;
	}
	int result = 1;
	for (int i = 0; i < n && result >= 0; i++) {
		const char *nm = ents[i]->d_name;
		if (nm[0] != '.' || strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
			continue;
		char sub[4096];
		if (!PATHF(sub, "%s/%s", root, nm) || !has_cur(sub))
			continue;
		any = true;
		const char *name, *err;
		if (import_folder_name(run->a, nm + 1, '.', &name, &err) < 0)
			import_report("folder \"%s\" skipped: %s", nm, err);
		else if (plan_maildir_folder(run, sub, nm + 1, name) < 0)
			result = -1;
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	size_t before = run->nfolders;
	if (result >= 0 && walk_fs(run, root, "", 0) < 0)
		result = -1;
	any |= run->nfolders > before;
	if (result >= 0 && !any) {
		fprintf(stderr, "postamt: %s is not a Maildir (no cur/ in it or in a folder below it)\n", root);
		return -1;
	}
	return result;
}

/* ------------------------------------------------------------------ mbox */

static int load_mbox(struct import_source *src, const struct import_folder *f, const struct import_item *it,
		     struct buf *out, const char **error_r)
{
	(void)f;
	(void)error_r;
	buf_reset(out);
	import_mbox_unescape(out, src->mbox_data + it->off, (size_t)it->len);
	return 1;
}

static void close_mbox(struct import_source *src)
{
	if (src->mbox_data != NULL && src->mbox_len > 0)
		munmap((void *)src->mbox_data, src->mbox_len);
	src->mbox_data = NULL;
}

int import_plan_mbox(struct import_run *run, struct import_source *src, const char *path, const char *folder)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		fprintf(stderr, "postamt: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	src->load = load_mbox;
	src->close = close_mbox;
	src->mbox_len = (size_t)sb.st_size;
	if (src->mbox_len > 0) {
		void *m = mmap(NULL, src->mbox_len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			fprintf(stderr, "postamt: %s: %s\n", path, strerror(errno));
			close(fd);
			src->mbox_len = 0;
			return -1;
		}
		src->mbox_data = m;
	}
	close(fd);
	struct import_folder *f = import_add_folder(run, folder, folder, 0);
	if (f == NULL)
		return -1;
	size_t pos = 0;
	struct import_mbox_msg m;
	int r;
	while ((r = import_mbox_next(src->mbox_data != NULL ? src->mbox_data : "", src->mbox_len, &pos, &m)) > 0) {
		const char *msg = src->mbox_data + m.start;
		size_t len = m.end - m.start;
		struct import_item it = { .off = m.start, .len = len, .size = len };
		import_mbox_flags(run->a, msg, len, &it.flags, &it.keywords);
		it.internal_date = import_mbox_date(m.from_line, m.from_len);
		const char *mid = import_header_value(run->a, msg, len, "Message-ID");
		const char *key = NULL;
		if (mid == NULL || mid[0] == '\0') {
			uint64_t h = 1469598103934665603ull; /* FNV-1a */
			for (size_t i = 0; i < len; i++)
				h = (h ^ (unsigned char)msg[i]) * 1099511628211ull;
			key = arena_printf(run->a, "sum %016llx %zu", (unsigned long long)h, len);
		}
		if (import_add_item(run, f, &it, key, mid) < 0)
			return -1;
	}
	if (r < 0) {
		fprintf(stderr, "postamt: %s is not an mbox file (it does not begin with \"From \")\n", path);
		return -1;
	}
	return 1;
}

void import_source_close(struct import_source *src)
{
	if (src->close != NULL)
		src->close(src);
	src->close = NULL;
}
