/* import_plan.c: the plan of an import (import.h), shared by the sources
 * (import_sources.c, import_imap.c) and the command (cli_import.c): folders mapped to
 * the account's mailboxes and special uses, messages with their keys looked up in the
 * store (known ones skipped, copies within a folder kept once), report lines; and how
 * the commands open the store as the service user (import_store_open). */
#include "import.h"

#include <assert.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include "import_parse.h"
static_assert((int)IMPORT_F_SEEN == (int)STORE_F_SEEN && (int)IMPORT_F_ANSWERED == (int)STORE_F_ANSWERED &&
		      (int)IMPORT_F_FLAGGED == (int)STORE_F_FLAGGED && (int)IMPORT_F_DELETED == (int)STORE_F_DELETED &&
		      (int)IMPORT_F_DRAFT == (int)STORE_F_DRAFT,
	      "import_parse.h flags agree with store.h");
static_assert((int)IMPORT_SU_DRAFTS == (int)STORE_SU_DRAFTS && (int)IMPORT_SU_SENT == (int)STORE_SU_SENT &&
		      (int)IMPORT_SU_TRASH == (int)STORE_SU_TRASH && (int)IMPORT_SU_JUNK == (int)STORE_SU_JUNK &&
		      (int)IMPORT_SU_ARCHIVE == (int)STORE_SU_ARCHIVE,
	      "import_parse.h special uses agree with store.h");

void import_report(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("postamt: import: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int import_fs_service(const struct config *cfg, const char **error_r)
{
	if (geteuid() != 0 || cfg->user == NULL)
		return 1;
	struct passwd *pw = getpwnam(cfg->user);
	if (pw == NULL || pw->pw_uid == 0)
		return 1;
	/* setfsuid returns the previous value; a second call tells whether it took */
	setfsgid(pw->pw_gid);
	setfsuid(pw->pw_uid);
	if ((uid_t)setfsuid(pw->pw_uid) != pw->pw_uid || (gid_t)setfsgid(pw->pw_gid) != pw->pw_gid) {
		*error_r = "cannot act as the service user";
		return -1;
	}
	return 1;
}

void import_fs_root(void)
{
	if (geteuid() != 0)
		return;
	setfsuid(0);
	setfsgid(0);
}

int import_store_open(const struct config *cfg, const struct store_options *opt, struct store **s_r,
		      const char **error_r)
{
	if (config_store_pg(cfg) != NULL) {
		*error_r = STORE_PG_MISSING;
		return -1;
	}
	if (chdir(cfg->data_dir) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	int r = import_fs_service(cfg, error_r);
	if (r > 0)
		r = store_open(".", opt, s_r, error_r) < 0 ? -1 : 1;
	import_fs_root();
	return r;
}

const char *import_abs_path(struct arena *a, const char *path)
{
	char *cwd = path[0] == '/' ? NULL : getcwd(NULL, 0);
	if (cwd == NULL)
		return path;
	const char *abs = arena_printf(a, "%s/%s", cwd, path);
	free(cwd);
	return abs;
}

struct import_folder *import_add_folder(struct import_run *run, const char *source_name, const char *name,
					unsigned int special_use)
{
	const char *canon, *err;
	if (store_mailbox_name_check(run->a, name, &canon, &err) < 0) {
		import_report("folder \"%s\" skipped: %s", source_name, err);
		return NULL;
	}
	if (special_use == 0)
		special_use = import_special_use_of(canon);
	const char *target = canon;
	if (special_use != 0 && strcmp(canon, "INBOX") != 0) {
		struct store_mailbox *mbs;
		size_t n;
		if (store_mailbox_list(run->s, run->a, run->account_id, &mbs, &n, &err) < 0) {
			import_report("cannot list mailboxes: %s", err);
			return NULL;
		}
		for (size_t i = 0; i < n; i++) {
			if (mbs[i].special_use & special_use) {
				target = mbs[i].name;
				break;
			}
		}
	}
	/* two source folders may map to one target (Sent and "Gesendet"): one plan */
	for (size_t i = 0; i < run->nfolders; i++) {
		if (strcmp(run->folders[i].name, target) == 0)
			return &run->folders[i];
	}
	if (run->nfolders == run->capfolders) {
		run->capfolders = run->capfolders ? run->capfolders * 2 : 16;
		run->folders = xrealloc(run->folders, run->capfolders * sizeof(*run->folders));
	}
	struct import_folder *f = &run->folders[run->nfolders++];
	memset(f, 0, sizeof(*f));
	f->source_name = arena_strdup(run->a, source_name);
	f->name = target;
	f->special_use = special_use;
	return f;
}

static size_t key_hash(const char *k)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *k != '\0'; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ull;
	return (size_t)h;
}

static bool seen_has(const struct import_folder *f, const char *key)
{
	if (f->seen_cap == 0)
		return false;
	for (size_t i = key_hash(key) & (f->seen_cap - 1);; i = (i + 1) & (f->seen_cap - 1)) {
		if (f->seen[i] == NULL)
			return false;
		if (strcmp(f->seen[i], key) == 0)
			return true;
	}
}

static void seen_add(struct import_folder *f, const char *key)
{
	if ((f->seen_n + 1) * 2 > f->seen_cap) {
		size_t cap = f->seen_cap ? f->seen_cap * 2 : 256;
		const char **old = f->seen;
		size_t old_cap = f->seen_cap;
		f->seen = xcalloc(cap, sizeof(*f->seen));
		f->seen_cap = cap;
		f->seen_n = 0;
		for (size_t i = 0; i < old_cap; i++) {
			if (old[i] != NULL)
				seen_add(f, old[i]);
		}
		free(old);
	}
	size_t i = key_hash(key) & (f->seen_cap - 1);
	while (f->seen[i] != NULL)
		i = (i + 1) & (f->seen_cap - 1);
	f->seen[i] = key;
	f->seen_n++;
}

int import_add_item(struct import_run *run, struct import_folder *f, struct import_item *it, const char *source_key,
		    const char *message_id)
{
	size_t nk = 0;
	if (source_key != NULL)
		it->keys[nk++] = source_key;
	if (message_id != NULL && message_id[0] != '\0')
		it->keys[nk++] = arena_printf(run->a, "mid %s %llu", message_id, (unsigned long long)it->size);
	it->keys[nk] = NULL;
	for (size_t i = 0; i < nk; i++) {
		const char *err;
		int r = store_import_known(run->s, run->account_id, f->name, it->keys[i], &err);
		if (r < 0) {
			import_report("%s", err);
			return r;
		}
		if (r > 0) {
			run->skipped++;
			return 0;
		}
	}
	/* the same message twice in one source folder (a copy): once */
	for (size_t k = 0; k < nk; k++) {
		if (seen_has(f, it->keys[k])) {
			run->skipped++;
			return 0;
		}
	}
	for (size_t k = 0; k < nk; k++)
		seen_add(f, it->keys[k]);
	/* keep valid keywords only */
	size_t nkw = 0;
	for (size_t i = 0; it->keywords != NULL && it->keywords[i] != NULL; i++) {
		if (store_keyword_valid(it->keywords[i]) && nkw < STORE_KEYWORDS_PER_MESSAGE)
			it->keywords[nkw++] = it->keywords[i];
	}
	if (it->keywords != NULL)
		it->keywords[nkw] = NULL;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->items = xrealloc(f->items, f->cap * sizeof(*f->items));
	}
	f->items[f->n++] = *it;
	f->bytes += it->size;
	run->total_msgs++;
	run->total_bytes += it->size;
	return 1;
}
