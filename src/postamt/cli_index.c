/* cli_index.c: `postamt index rebuild [ADDRESS]` and `postamt index status`: the
 * full-text index of the store (docs/search.md).
 *
 * rebuild writes every index entry anew, of one account or of all, in batches of 200
 * messages, one transaction each: safe while the server runs (searches give the same
 * answers throughout, from the index or, for a message being rewritten, from the
 * file). It prints its progress to stderr and the counts at the end. status prints
 * how many messages wait to be indexed (a store made before the index; the server
 * indexes them in the background) and how many are over search.index_text_max. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "store.h"

static int fail(const char *what, const char *msg)
{
	fprintf(stderr, "postamt: %s: %s\n", what, msg);
	return 1;
}

static int progress(void *arg, const struct store_index_counts *c)
{
	(void)arg;
	fprintf(stderr, "postamt: index rebuild: %llu messages indexed so far\n", (unsigned long long)c->indexed);
	return 0;
}

int cli_index(const struct config *cfg, int argc, char **argv)
{
	bool rebuild = argc >= 1 && strcmp(argv[0], "rebuild") == 0 && argc <= 2;
	bool status = argc == 1 && strcmp(argv[0], "status") == 0;
	if (!rebuild && !status)
		return fail("index", "usage: index rebuild [ADDRESS] | index status");
	if (config_store_pg(cfg) != NULL)
		return fail("index", STORE_PG_MISSING);
	struct store_options opt = { .index_text_max = (uint64_t)cfg->index_text_max };
	struct store *s;
	const char *err;
	if (store_open(cfg->data_dir, &opt, &s, &err) < 0)
		return fail("index", err);
	int ret = 0;
	if (status) {
		int64_t pending, too_big;
		if (store_index_pending(s, &pending, &too_big, &err) < 0) {
			ret = fail("index status", err);
		} else {
			printf("pending=%lld too_big=%lld\n", (long long)pending, (long long)too_big);
		}
		store_close(&s);
		return ret;
	}
	int64_t account_id = 0;
	struct arena *a = arena_new();
	if (argc == 2) {
		struct store_account acct;
		int r = store_account_get(s, a, argv[1], &acct, &err);
		if (r <= 0) {
			ret = fail("index rebuild", r == 0 ? "no such account" : err);
			goto out;
		}
		account_id = acct.id;
	}
	struct store_index_counts c;
	if (store_index_rebuild(s, account_id, true, 0, progress, NULL, &c, &err) < 0) {
		ret = fail("index rebuild", err);
		goto out;
	}
	printf("indexed=%llu too_big=%llu unreadable=%llu\n", (unsigned long long)c.indexed,
	       (unsigned long long)c.too_big, (unsigned long long)c.unreadable);
	ret = c.unreadable > 0;
	if (ret)
		fprintf(stderr, "postamt: index rebuild: %llu message files could not be read (postamt verify)\n",
			(unsigned long long)c.unreadable);
out:
	arena_free(&a);
	store_close(&s);
	return ret;
}
