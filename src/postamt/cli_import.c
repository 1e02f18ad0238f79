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
 * (over quota, the source failed) or a message was left out. The plan itself is built
 * with import_plan.c. */
#include "import.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "import_parse.h"

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
