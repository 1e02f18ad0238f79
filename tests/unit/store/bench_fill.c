/* bench_fill.c: fills a data directory for measurements (not a test).
 *   bench_fill DIR ADDRESS N
 * Delivers N generated messages of about 1.7 KB to ADDRESS's INBOX (the account must
 * exist: `postamt user add`) with fsyncs off and 4 writer threads, so that `postamt
 * backup` and `restore` can be timed on a store of that size (docs/operations.md,
 * the figures of the backup section). Never run it on a DIR a server serves. */
#include "helpers.h"

#include <pthread.h>

struct job {
	struct store *s;
	int64_t acct;
	int first, n;
};

static void *writer(void *arg)
{
	struct job *j = arg;
	char text[2048];
	for (int i = j->first; i < j->first + j->n; i++) {
		int len = snprintf(
			text, sizeof(text),
			"From: bench@example.test\r\nTo: u@example.test\r\nSubject: fill %d\r\n"
			"Message-ID: <fill-%d@example.test>\r\n\r\n%.*s\r\n",
			i, i, 1500,
			"Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum dolor sit amet, consectetur adipiscing elit. ");
		struct store_delivery d = { .data = text, .len = (size_t)len, .accounts = &j->acct, .naccounts = 1 };
		const char *err;
		if (store_deliver(j->s, &d, &err) != 1) {
			fprintf(stderr, "deliver: %s\n", err);
			exit(1);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: bench_fill DIR ADDRESS N\n");
		return 2;
	}
	struct store_options opt = { .no_fsync = true };
	struct store *s = NULL;
	const char *err;
	if (store_open(argv[1], &opt, &s, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct arena *a = arena_new();
	struct store_account acc;
	if (store_account_get(s, a, argv[2], &acc, &err) != 1) {
		fprintf(stderr, "no account %s\n", argv[2]);
		return 1;
	}
	int n = atoi(argv[3]);
	struct job jobs[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct job){ s, acc.id, i * (n / 4), i < 3 ? n / 4 : n - 3 * (n / 4) };
		pthread_create(&t[i], NULL, writer, &jobs[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	store_close(&s);
	arena_free(&a);
	return 0;
}
