/* cli_queue.c: `postamt queue list`, `queue flush` and `queue delete` (cli_queue.h).
 *
 * With the files backend they work on DIR/queue alone and never open the queue for
 * delivery, so they are safe while a server runs: list reads the message and state
 * files (each replaced atomically by the server, so it sees either the old or the new
 * state), flush creates DIR/queue/flush, which the running server's queue notices
 * within a second (it deletes the file and makes every message due). Without a
 * running server the file waits for the next start. With store.backend = postgresql
 * the queue is the database's (docs/cluster.md): list reads it, flush makes every
 * pending recipient due there, delete removes a message no node is delivering. On
 * the files backend a message is deleted through the admin API of the running
 * server (which holds it in memory), so `queue delete` refuses there. */
#include "cli_queue.h"

#include "arena.h"
#include "buf.h"
#include "queue.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int fail(const char *what, const char *msg)
{
	fprintf(stderr, "postamt: %s: %s\n", what, msg);
	return 1;
}

/* "45s", "12m", "3h05m", "2d04h"; negative durations print as "0s". */
static void duration(long long s, char *out, size_t n)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, n, "%llds", s);
	else if (s < 3600)
		snprintf(out, n, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(out, n, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, n, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* The store when the queue is in it (PostgreSQL); NULL for the files. */
static int open_store(const struct config *cfg, struct store **s_r)
{
	*s_r = NULL;
	const char *pg = config_store_pg(cfg);
	if (pg == NULL)
		return 1;
	struct store_options opt = { .postgresql = pg };
	const char *err;
	if (store_open(cfg->data_dir, &opt, s_r, &err) < 0) {
		fprintf(stderr, "postamt: cannot open the store: %s\n", err);
		return -1;
	}
	return 1;
}

static int queue_list_cmd(const struct config *cfg, struct store *s)
{
	struct arena *a = arena_new();
	struct queue_entry *e;
	size_t n;
	const char *err;
	if (queue_list(cfg->data_dir, s, a, &e, &n, &err) < 0) {
		arena_free(&a);
		return fail("queue list", err);
	}
	if (n == 0) {
		printf("queue is empty\n");
		arena_free(&a);
		return 0;
	}
	time_t now = time(NULL);
	size_t pending_total = 0;
	printf("%-22s %-7s %-7s %s\n", "ID", "AGE", "SIZE", "SENDER");
	for (size_t i = 0; i < n; i++) {
		char age[32], size[32];
		duration((long long)(now - e[i].created), age, sizeof(age));
		buf_format_size(e[i].size, size, sizeof(size));
		printf("%-22s %-7s %-7s <%s>\n", e[i].id, age, size, e[i].sender);
		for (size_t j = 0; j < e[i].nrcpts; j++) {
			const struct queue_entry_rcpt *r = &e[i].rcpts[j];
			printf("    <%s> ", r->address);
			if (r->state == QUEUE_RCPT_DELIVERED) {
				printf("delivered");
			} else if (r->state == QUEUE_RCPT_FAILED) {
				printf("failed (bounced)");
			} else {
				pending_total++;
				char next[32];
				if (r->next_attempt <= now) {
					printf("pending, due now");
				} else {
					duration((long long)(r->next_attempt - now), next, sizeof(next));
					printf("deferred, next attempt in %s", next);
				}
				if (r->attempts > 0)
					printf(" (%u attempt%s)", r->attempts, r->attempts == 1 ? "" : "s");
			}
			if (r->last_error[0] != '\0' && r->state != QUEUE_RCPT_DELIVERED)
				printf(": %s", r->last_error);
			printf("\n");
		}
	}
	printf("%zu message%s, %zu recipient%s pending\n", n, n == 1 ? "" : "s", pending_total,
	       pending_total == 1 ? "" : "s");
	arena_free(&a);
	return 0;
}

static int queue_flush_cmd(const struct config *cfg, struct store *s)
{
	struct arena *a = arena_new();
	struct queue_entry *e;
	size_t n = 0;
	const char *err;
	if (queue_list(cfg->data_dir, s, a, &e, &n, &err) < 0 || queue_flush(cfg->data_dir, s, &err) < 0) {
		arena_free(&a);
		return fail("queue flush", err);
	}
	arena_free(&a);
	printf("flush requested: %zu message%s will be retried now (within a second by a running server, "
	       "else at the next start)\n",
	       n, n == 1 ? "" : "s");
	return 0;
}

static int queue_delete_cmd(struct store *s, const char *id)
{
	if (s == NULL)
		return fail("queue delete", "with the files backend, delete through the running server's admin page"
					    " or API (it holds the message)");
	const char *err = NULL;
	int r = store_queue_act(s, id, STORE_QACT_DELETE, &err);
	if (r == 0)
		return fail("queue delete", "no such message");
	if (r < 0)
		return fail("queue delete", err);
	printf("deleted %s\n", id);
	return 0;
}

int cli_queue(const struct config *cfg, int argc, char **argv)
{
	bool list = argc == 1 && strcmp(argv[0], "list") == 0;
	bool flush = argc == 1 && strcmp(argv[0], "flush") == 0;
	bool del = argc == 2 && strcmp(argv[0], "delete") == 0;
	if (!list && !flush && !del)
		return fail("queue", "usage: queue list | queue flush | queue delete ID");
	struct store *s = NULL;
	if (open_store(cfg, &s) < 0)
		return 1;
	int r = list ? queue_list_cmd(cfg, s) : flush ? queue_flush_cmd(cfg, s) : queue_delete_cmd(s, argv[1]);
	store_close(&s);
	return r;
}
