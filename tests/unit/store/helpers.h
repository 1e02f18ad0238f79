/* helpers.h: shared set-up for the store tests: a fresh data directory per test and
 * a store opened in it (fsync off unless a test asks for durability). */
#ifndef TEST_STORE_HELPERS_H
#define TEST_STORE_HELPERS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

struct fixture {
	char dir[256];
	struct store *s;
	struct arena *a;
	int64_t acct;   /* a@example.test */
	int64_t acct2;  /* b@example.test */
	int64_t inbox;
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void rm_rf(const char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static inline struct store *open_in(const char *dir, bool fsync_on)
{
	struct store_options opt = { .create = true, .no_fsync = !fsync_on };
	struct store *s = NULL;
	const char *err = NULL;
	int r = store_open(dir, &opt, &s, &err);
	if (r < 0)
		fail_msg("store_open: %s", err);
	return s;
}

static inline int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/postamt-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->s = open_in(f->dir, false);
	f->a = arena_new();
	const char *err;
	if (store_domain_add(f->s, "example.test", &err) < 0 ||
	    store_account_add(f->s, "a@example.test", "$y$x", 0, &f->acct, &err) < 0 ||
	    store_account_add(f->s, "b@example.test", "$y$x", 0, &f->acct2, &err) < 0)
		return -1;
	struct store_mailbox mb;
	if (store_mailbox_get(f->s, f->a, f->acct, "INBOX", &mb, &err) != 1)
		return -1;
	f->inbox = mb.id;
	*state = f;
	return 0;
}

static inline int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	const char *err = NULL;
	if (f->s != NULL && store_check(f->s, &err) < 0)
		fprintf(stderr, "store_check: %s\n", err);
	store_close(&f->s);
	arena_free(&f->a);
	rm_rf(f->dir);
	free(f);
	return 0;
}

/* Delivers text to one account's INBOX; returns the UID. */
static inline uint32_t deliver1(struct fixture *f, int64_t acct, const char *text)
{
	int res = 0;
	uint32_t uid = 0;
	struct store_delivery d = { .data = text, .len = strlen(text), .accounts = &acct,
				    .naccounts = 1, .results = &res, .uids = &uid };
	const char *err = NULL;
	int r = store_deliver(f->s, &d, &err);
	if (r != 1)
		fail_msg("deliver: %d %s", r, err ? err : "");
	return uid;
}

static inline struct store_uidset uidset1(struct store_range *r, uint32_t lo, uint32_t hi)
{
	r->lo = lo;
	r->hi = hi;
	return (struct store_uidset){ r, 1 };
}

#endif
