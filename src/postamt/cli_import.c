/* cli_import.c: `postamt import ADDRESS SOURCE [--folder NAME]` (see import.h for the
 * two phases).
 *
 * SOURCE is an IMAP URL (import_imap.c), a directory (a Maildir tree) or a file (an
 * mbox); both of the latter are planned in import_sources.c. The store is opened with
 * store_options.announce, so that a running server's IDLE and push clients see the
 * new messages as if they had been delivered. Message bytes are stored as delivery
 * stores them: bare LF becomes CRLF (store_append with raw false); a message with a NUL
 * byte or over limits.message_size is left out with a report line. On a terminal,
 * stdout shows a progress bar (messages, bytes, rate, time left); at the end a summary
 * line. Exit status 0 when everything planned was imported, 1 when the import stopped
 * (over quota, the source failed) or a message was left out. */
#include "import.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pwd.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
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

/* ------------------------------------------------------------------ progress */

struct progress {
	bool tty;
	struct timespec t0;
	int64_t last_ms;
	uint64_t msgs, bytes, total_msgs, total_bytes;
};

static int64_t elapsed_ms(const struct progress *p)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)(ts.tv_sec - p->t0.tv_sec) * 1000 + (ts.tv_nsec - p->t0.tv_nsec) / 1000000;
}

/* size for people: "980 B", "14.6 MB" (powers of 1024, as quotas are given) */
static void human_size(uint64_t n, char *out, size_t outlen)
{
	static const char *const units[] = { "B", "KB", "MB", "GB", "TB" };
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(out, outlen, "%llu B", (unsigned long long)n);
	else
		snprintf(out, outlen, "%.1f %s", v, units[u]);
}

static void progress_draw(struct progress *p, const char *folder, bool force)
{
	if (!p->tty)
		return;
	int64_t ms = elapsed_ms(p);
	if (!force && ms - p->last_ms < 200)
		return;
	p->last_ms = ms;
	double s = ms > 0 ? (double)ms / 1000.0 : 0.001;
	double rate = (double)p->msgs / s;
	char done[32], total[32];
	human_size(p->bytes, done, sizeof(done));
	human_size(p->total_bytes, total, sizeof(total));
	int width = 24;
	int fill = p->total_bytes > 0 ? (int)((double)p->bytes / (double)p->total_bytes * width) : width;
	if (fill > width)
		fill = width;
	char bar[32];
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(width - fill));
	bar[width] = '\0';
	long eta = rate > 0 && p->total_msgs > p->msgs ? (long)((double)(p->total_msgs - p->msgs) / rate) : 0;
	printf("\r[%s] %llu/%llu msgs %s/%s %.0f msg/s ETA %ld:%02ld %-20.20s", bar, (unsigned long long)p->msgs,
	       (unsigned long long)p->total_msgs, done, total, rate, eta / 60, eta % 60, folder);
	fflush(stdout);
}

/* ------------------------------------------------------------------ importing */

struct batch {
	struct store_append *msgs;
	struct buf *bodies;
	const char *const **keys;
	size_t n, cap;
	uint64_t bytes;
};

/* Appends the batch to the folder's mailbox. 1, or <0 with the store's code. */
static int flush(struct import_run *run, int64_t mailbox_id, const char *scope, struct batch *b, struct progress *pg,
		 const char **error_r)
{
	if (b->n == 0)
		return 1;
	struct store_append_many am = {
		.account_id = run->account_id,
		.mailbox_id = mailbox_id,
		.msgs = b->msgs,
		.n = b->n,
		.import_scope = scope,
		.import_keys = b->keys,
	};
	for (size_t i = 0; i < b->n; i++) {
		b->msgs[i].data = b->bodies[i].data;
		b->msgs[i].len = b->bodies[i].len;
	}
	int r = store_append_many(run->s, &am, error_r);
	if (r > 0) {
		pg->msgs += b->n;
		pg->bytes += b->bytes;
	}
	b->n = 0;
	b->bytes = 0;
	return r;
}

static int import_folder(struct import_run *run, struct import_source *src, struct import_folder *f,
			 struct progress *pg, bool *stop_r)
{
	const char *err;
	struct store_mailbox mb;
	int r = store_mailbox_get(run->s, run->a, run->account_id, f->name, &mb, &err);
	if (r == 0) {
		r = store_mailbox_create(run->s, run->account_id, f->name, f->special_use, NULL, &err);
		if (r == STORE_EEXISTS)
			r = 1;
		if (r > 0)
			r = store_mailbox_get(run->s, run->a, run->account_id, f->name, &mb, &err);
	}
	if (r <= 0) {
		import_report("folder \"%s\": %s", f->source_name, r == 0 ? "cannot be created" : err);
		*stop_r = true;
		return -1;
	}
	if (f->n == 0)
		return 1;
	/* the whole folder fits, or none of it goes in */
	uint64_t usage, limit, nmsgs;
	if (store_quota_get(run->s, run->account_id, &usage, &limit, &nmsgs, &err) < 0) {
		import_report("%s", err);
		*stop_r = true;
		return -1;
	}
	if (limit > 0 && usage + f->bytes > limit) {
		char need[32], have[32], lim[32];
		human_size(f->bytes, need, sizeof(need));
		human_size(limit > usage ? limit - usage : 0, have, sizeof(have));
		human_size(limit, lim, sizeof(lim));
		if (pg->tty)
			printf("\n");
		import_report("over quota: folder \"%s\" needs %s, %s has %s free of its quota of %s; "
			      "stopped before it (nothing of it was imported); raise the quota with "
			      "`postamt user quota %s SIZE` and run the import again",
			      f->source_name, need, run->address, have, lim, run->address);
		*stop_r = true;
		return -1;
	}
	size_t batch_max = run->cfg->import_batch > 0 ? (size_t)run->cfg->import_batch : 100;
	struct batch b = { .cap = batch_max };
	b.msgs = xcalloc(b.cap, sizeof(*b.msgs));
	b.bodies = xcalloc(b.cap, sizeof(*b.bodies));
	b.keys = xcalloc(b.cap, sizeof(*b.keys));
	int result = 1;
	for (size_t i = 0; i < f->n && result > 0; i++) {
		struct import_item *it = &f->items[i];
		struct buf *body = &b.bodies[b.n];
		buf_reset(body);
		if (it->size > (uint64_t)run->cfg->message_max) {
			r = -1;
			err = "it is larger than limits.message_size";
		} else {
			r = src->load(src, f, it, body, &err);
		}
		if (r == -2) {
			import_report("folder \"%s\": %s", f->source_name, err);
			*stop_r = true;
			result = -1;
			break;
		}
		if (r > 0 && body->len > 0 && memchr(body->data, '\0', body->len) != NULL) {
			r = -1;
			err = "it contains NUL bytes";
		}
		if (r > 0 && body->len > (uint64_t)run->cfg->message_max) {
			r = -1;
			err = "it is larger than limits.message_size";
		}
		if (r > 0 && body->len == 0) {
			r = -1;
			err = "it is empty";
		}
		/* as over SMTP, where DATA's last line ends in CRLF before the "." */
		if (r > 0 && body->data[body->len - 1] != '\n')
			buf_append(body, "\r\n", 2);
		if (r < 0) {
			import_report("folder \"%s\": message %s left out: %s", f->source_name, it->keys[0], err);
			run->refused++;
			pg->total_msgs--;
			continue;
		}
		b.msgs[b.n] = (struct store_append){
			.flags = it->flags,
			.keywords = it->keywords,
			.internal_date = it->internal_date,
		};
		b.keys[b.n] = it->keys;
		b.bytes += it->size;
		b.n++;
		if (b.n == b.cap || b.bytes >= 32u * 1024 * 1024) {
			r = flush(run, mb.id, f->name, &b, pg, &err);
			if (r < 0)
				result = r;
		}
		progress_draw(pg, f->name, false);
	}
	if (result > 0) {
		r = flush(run, mb.id, f->name, &b, pg, &err);
		if (r < 0)
			result = r;
	}
	if (result < 0 && !*stop_r) {
		if (pg->tty)
			printf("\n");
		if (result == STORE_EOVERQUOTA)
			import_report("over quota in folder \"%s\" (mail arrived meanwhile): stopped; "
				      "what was imported stays, a second run adds the rest",
				      f->source_name);
		else
			import_report("folder \"%s\": %s", f->source_name, err);
		*stop_r = true;
	}
	for (size_t i = 0; i < b.cap; i++)
		buf_free(&b.bodies[i]);
	free(b.msgs);
	free(b.bodies);
	free(b.keys);
	progress_draw(pg, f->name, true);
	return result;
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "postamt: %s\nusage: postamt import ADDRESS SOURCE [--folder NAME] [--ca FILE] [--insecure]\n",
		msg);
	return 1;
}

int cli_import(const struct config *cfg, int argc, char **argv)
{
	/* argv[0] is "import" */
	const char *address = NULL, *source = NULL, *folder = NULL, *ca_file = NULL;
	bool insecure = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--folder") == 0 && i + 1 < argc)
			folder = argv[++i];
		else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
			ca_file = argv[++i];
		else if (strcmp(argv[i], "--insecure") == 0)
			insecure = true;
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			return usage_error("unknown option");
		else if (address == NULL)
			address = argv[i];
		else if (source == NULL)
			source = argv[i];
		else
			return usage_error("too many arguments");
	}
	if (address == NULL || source == NULL)
		return usage_error("import needs an address and a source");
	struct store_options opt = { .announce = true,
				     .message_max = (uint64_t)cfg->message_max + 64 * 1024,
				     .disk_reserve = (uint64_t)cfg->disk_reserve };
	struct store *s;
	const char *err;
	struct arena *a = arena_new();
	if (strstr(source, "://") == NULL)
		source = import_abs_path(a, source);
	if (ca_file != NULL)
		ca_file = import_abs_path(a, ca_file);
	/* the store's threads create its files as the service user; this thread reads
	 * the source as the caller */
	if (import_store_open(cfg, &opt, &s, &err) < 0) {
		fprintf(stderr, "postamt: cannot open the store in %s: %s\n", cfg->data_dir, err);
		arena_free(&a);
		return 1;
	}
	struct import_run run = { .cfg = cfg, .s = s, .a = a, .tty = isatty(STDOUT_FILENO) == 1 };
	struct import_source src = { 0 };
	struct store_account acct;
	int status = 1;
	int r = store_account_get(s, run.a, address, &acct, &err);
	if (r <= 0) {
		fprintf(stderr, "postamt: %s: %s\n", address, r == 0 ? "no such user" : err);
		goto out;
	}
	run.account_id = acct.id;
	run.address = acct.address;
	if (strncmp(source, "imap://", 7) == 0 || strncmp(source, "imaps://", 8) == 0) {
		if (folder != NULL) {
			fprintf(stderr, "postamt: --folder is for an mbox source\n");
			goto out;
		}
		r = import_plan_imap(&run, &src, source, ca_file, insecure);
	} else {
		struct stat sb;
		if (stat(source, &sb) < 0) {
			fprintf(stderr, "postamt: %s: %s\n", source, strerror(errno));
			goto out;
		}
		if (S_ISDIR(sb.st_mode)) {
			if (folder != NULL) {
				fprintf(stderr, "postamt: --folder is for an mbox source\n");
				goto out;
			}
			r = import_plan_maildir(&run, &src, source);
		} else {
			r = import_plan_mbox(&run, &src, source, folder != NULL ? folder : "INBOX");
		}
	}
	if (r < 0)
		goto out;
	struct progress pg = { .tty = run.tty, .total_msgs = run.total_msgs, .total_bytes = run.total_bytes };
	clock_gettime(CLOCK_MONOTONIC, &pg.t0);
	bool stop = false;
	size_t folders_done = 0;
	for (size_t i = 0; i < run.nfolders && !stop; i++) {
		if (import_folder(&run, &src, &run.folders[i], &pg, &stop) > 0)
			folders_done++;
	}
	if (pg.tty)
		printf("\n");
	int64_t ms = elapsed_ms(&pg);
	char bytes[32];
	human_size(pg.bytes, bytes, sizeof(bytes));
	printf("imported %llu messages (%s) into %zu folders of %s in %.1f s (%.0f msg/s); %llu already there, "
	       "%llu left out%s\n",
	       (unsigned long long)pg.msgs, bytes, folders_done, run.address, (double)ms / 1000.0,
	       ms > 0 ? (double)pg.msgs * 1000.0 / (double)ms : 0.0, (unsigned long long)run.skipped,
	       (unsigned long long)run.refused, stop ? "; stopped early" : "");
	status = stop || run.refused > 0 ? 1 : 0;
out:
	import_source_close(&src);
	for (size_t i = 0; i < run.nfolders; i++) {
		free(run.folders[i].items);
		free(run.folders[i].seen);
	}
	free(run.folders);
	arena_free(&run.a);
	store_close(&s);
	return status;
}
