/* bench_dkim.c: CPU cost of DKIM signing and verifying one message, per algorithm.
 * Not a test (no timing asserts): `meson test -C build --benchmark dkim-bench` or run
 * build/tests/unit/mailauth/bench_dkim [N [BYTES]]. Prints CPU milliseconds per message
 * for a 4 KB (or BYTES) message (the headers of a typical submission and a text body) with a fresh
 * Ed25519 key and a fresh RSA-2048 key from the key store. */
#include "arena.h"
#include "buf.h"
#include "dkim.h"
#include "dkim_key.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static const char *key_txt;
static int txt(void *ctx, const char *name, struct arena *a, const char ***records_r, size_t *n_r)
{
	(void)ctx, (void)name;
	const char **r = arena_alloc(a, sizeof(*r));
	r[0] = key_txt;
	*records_r = r;
	*n_r = 1;
	return MAILAUTH_DNS_FOUND;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	size_t size = argc > 2 ? (size_t)atol(argv[2]) : 4096; /* message bytes */
	char dir[] = "/tmp/postamt-dkimbench-XXXXXX";
	if (mkdtemp(dir) == NULL)
		return 1;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct arena *a = arena_new();
	const char *ed, *rsa, *err;
	if (dkim_key_generate(dfd, "bench.test", time(NULL), (uid_t)-1, (gid_t)-1, a, &ed, &rsa, &err) < 0)
		return 1;
	struct dkim_keyset *set;
	char *warn;
	dkim_keyset_load(dfd, &set, &warn, &err);
	const struct dkim_signer *keys[2];
	dkim_keyset_find(set, "bench.test", &keys[0], &keys[1]);
	struct dkim_key_info *info;
	size_t ninfo;
	dkim_key_list(dfd, "bench.test", a, &info, &ninfo, &err);
	struct buf m = { 0 };
	buf_puts(
		&m,
		"Received: from client ([127.0.0.1])\r\n\tby mx.bench.test (postamt) with ESMTPSA id 1;\r\n"
		"\tMon, 07 Dec 2026 04:00:00 +0000\r\nFrom: Alice <alice@bench.test>\r\nTo: Bob <bob@example.net>\r\n"
		"Subject: A message of about four kilobytes\r\nDate: Mon, 07 Dec 2026 04:00:00 +0000\r\n"
		"Message-ID: <1.2@bench.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
	while (m.len < size)
		buf_puts(&m, "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n");
	for (int k = 0; k < 2; k++) {
		struct arena *ta = arena_new();
		double t0 = cpu_ms();
		char *field = NULL;
		for (int i = 0; i < n; i++) {
			arena_clear(ta);
			if (dkim_sign(keys[k], NULL, 0, m.data, m.len, time(NULL), ta, &field, &err) < 0)
				return 1;
		}
		double sign = (cpu_ms() - t0) / n;
		/* verify the last signature the same number of times */
		char *msg = arena_printf(a, "%s%s", field, m.data);
		key_txt = info[k == 0 ? 0 : 1].txt;
		struct mailauth_dns dns = { .txt = txt };
		t0 = cpu_ms();
		int pass = 0;
		for (int i = 0; i < n; i++) {
			arena_clear(ta);
			struct dkim_verdict *v;
			size_t nv;
			dkim_verify(&dns, msg, strlen(msg), time(NULL), ta, &v, &nv);
			pass += nv == 1 && v[0].result == MAILAUTH_PASS;
		}
		double verify = (cpu_ms() - t0) / n;
		printf("%s: sign %.4f ms, verify %.4f ms per %zu-byte message (CPU, %d runs, %d passed)\n",
		       k == 0 ? "ed25519-sha256" : "rsa-sha256", sign, verify, m.len, n, pass);
		arena_free(&ta);
	}
	/* what the hook does: both keys over one body hash */
	struct arena *ta = arena_new();
	double t0 = cpu_ms();
	for (int i = 0; i < n; i++) {
		char *fields[2];
		arena_clear(ta);
		if (dkim_sign_many(keys, 2, NULL, 0, m.data, m.len, time(NULL), ta, fields, &err) < 0)
			return 1;
	}
	printf("both (the signing hook): %.4f ms per message (CPU, %d runs)\n", (cpu_ms() - t0) / n, n);
	arena_free(&ta);
	dkim_keyset_free(&set);
	buf_free(&m);
	arena_free(&a);
	close(dfd);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
