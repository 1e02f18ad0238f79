/* cli_queue.c: `postamt queue list` and `postamt queue flush` (see cli_queue.h).
 *
 * Both work on DIR/queue alone and never open the queue for delivery, so they are
 * safe while a server runs: list reads the message and state files (each replaced
 * atomically by the server, so it sees either the old or the new state), flush
 * creates DIR/queue/flush, which the running server's queue notices within a second
 * (it deletes the file and makes every message due). Without a running server the
 * file waits for the next start. */
#include "cli_queue.h"

#include "arena.h"
#include "buf.h"
#include "queue.h"

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

static int queue_list_cmd(const struct config *cfg)
{
	struct arena *a = arena_new();
	struct queue_entry *e;
	size_t n;
	const char *err;
	if (queue_list(cfg->data_dir, a, &e, &n, &err) < 0) {
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

static int queue_flush_cmd(const struct config *cfg)
{
	struct arena *a = arena_new();
	struct queue_entry *e;
	size_t n = 0;
	const char *err;
	if (queue_list(cfg->data_dir, a, &e, &n, &err) < 0 || queue_flush(cfg->data_dir, &err) < 0) {
		arena_free(&a);
		return fail("queue flush", err);
	}
	arena_free(&a);
	printf("flush requested: %zu message%s will be retried now (within a second by a running server, "
	       "else at the next start)\n",
	       n, n == 1 ? "" : "s");
	return 0;
}

int cli_queue(const struct config *cfg, int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return queue_list_cmd(cfg);
	if (argc == 1 && strcmp(argv[0], "flush") == 0)
		return queue_flush_cmd(cfg);
	return fail("queue", "usage: queue list | queue flush");
}
