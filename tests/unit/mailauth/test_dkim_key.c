/* test_dkim_key.c: the key store (dkim_key.c) and signing with its keys: selectors by
 * date with a suffix letter, the greatest selector signs, retire refuses the signer,
 * mode 0600, the fingerprint notices a rotation; a message signed with both keys
 * (and with fields an earlier hook adds) verifies against the listed TXT records,
 * From is over-signed, repeated fields are signed bottom-up. */
#include "helpers.h"

#include "buf.h"
#include "dkim_key.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static int dfd = -1;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/postamt-dkimkey-XXXXXX");
	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	return dfd < 0;
}

static int teardown(void **state)
{
	(void)state;
	close(dfd);
	rm_rf(dir);
	return 0;
}

/* 2026-12-07 12:00 UTC */
#define DAY1 ((time_t)1796644800)

static void test_generate_list_retire(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *ed, *rsa, *err;
	assert_int_equal(dkim_key_generate(dfd, "Sign.TEST", DAY1, (uid_t)-1, (gid_t)-1, a, &ed, &rsa, &err), 1);
	assert_string_equal(ed, "e20261207");
	assert_string_equal(rsa, "r20261207");
	struct stat st;
	assert_int_equal(fstatat(dfd, "dkim/sign.test/e20261207.pem", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	unsigned long long fp1, fp2;
	assert_int_equal(dkim_key_fingerprint(dfd, &fp1), 1);

	assert_int_equal(dkim_key_generate(dfd, "sign.test", DAY1 + 60, (uid_t)-1, (gid_t)-1, a, &ed, &rsa, &err), 1);
	assert_string_equal(ed, "e20261207b");
	assert_string_equal(rsa, "r20261207b");
	assert_int_equal(dkim_key_fingerprint(dfd, &fp2), 1);
	assert_true(fp1 != fp2);
	assert_int_equal(dkim_key_generate(dfd, "sign.test", DAY1 + 86400, (uid_t)-1, (gid_t)-1, a, &ed, NULL, &err),
			 1);
	assert_string_equal(ed, "e20261208");

	struct dkim_key_info *k;
	size_t n;
	assert_int_equal(dkim_key_list(dfd, "sign.test", a, &k, &n, &err), 6);
	assert_string_equal(k[0].selector, "e20261208");
	assert_int_equal(k[0].alg, DKIM_ALG_ED25519);
	assert_true(k[0].active);
	assert_false(k[1].active);
	assert_string_equal(k[3].selector, "r20261208");
	assert_int_equal(k[3].alg, DKIM_ALG_RSA);
	assert_true(k[3].active);
	assert_int_equal(strncmp(k[0].txt, "v=DKIM1; k=ed25519; p=", 22), 0);
	assert_int_equal(strlen(k[0].txt), 22 + 44);
	assert_int_equal(strncmp(k[3].txt, "v=DKIM1; k=rsa; p=MIIBIjAN", 26), 0);

	assert_int_equal(dkim_key_retire(dfd, "sign.test", "e20261208", a, &err), -1);
	assert_non_null(strstr(err, "rotate"));
	assert_int_equal(dkim_key_retire(dfd, "sign.test", "e20261207", a, &err), 1);
	assert_int_equal(dkim_key_retire(dfd, "sign.test", "e20261207", a, &err), 0);
	assert_int_equal(dkim_key_retire(dfd, "sign.test", "../../etc", a, &err), 0);
	assert_int_equal(dkim_key_list(dfd, "sign.test", a, &k, &n, &err), 5);
	assert_int_equal(dkim_key_list(dfd, "other.test", a, &k, &n, &err), 0);
	assert_int_equal(dkim_key_list(dfd, "../x", a, &k, &n, &err), -1);
	assert_int_equal(dkim_key_generate(dfd, "a/b", DAY1, (uid_t)-1, (gid_t)-1, a, &ed, &rsa, &err), -1);

	struct dkim_keyset *set;
	char *warn;
	assert_int_equal(dkim_keyset_load(dfd, &set, &warn, &err), 1);
	assert_null(warn);
	assert_int_equal(dkim_keyset_domains(set), 1);
	const struct dkim_signer *e, *r;
	assert_int_equal(dkim_keyset_find(set, "SIGN.test", &e, &r), 2);
	assert_string_equal(e->selector, "e20261208");
	assert_string_equal(r->selector, "r20261208");
	assert_int_equal(dkim_keyset_find(set, "other.test", &e, &r), 0);
	dkim_keyset_free(&set);
	assert_null(set);
	arena_free(&a);
}

/* A file that is not a key is reported, the others still load. */
static void test_keyset_bad_file(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *ed, *rsa, *err;
	assert_int_equal(dkim_key_generate(dfd, "bad.test", DAY1, (uid_t)-1, (gid_t)-1, a, &ed, &rsa, &err), 1);
	int fd = openat(dfd, "dkim/bad.test/zzz.pem", O_WRONLY | O_CREAT, 0600);
	assert_true(write(fd, "garbage\n", 8) == 8);
	close(fd);
	struct dkim_keyset *set;
	char *warn;
	assert_int_equal(dkim_keyset_load(dfd, &set, &warn, &err), 1);
	assert_non_null(warn);
	assert_non_null(strstr(warn, "zzz.pem"));
	free(warn);
	const struct dkim_signer *e, *r;
	assert_int_equal(dkim_keyset_find(set, "bad.test", &e, &r), 2);
	dkim_keyset_free(&set);
	struct dkim_key_info *k;
	size_t n;
	assert_int_equal(dkim_key_list(dfd, "bad.test", a, &k, &n, &err), -1);
	assert_non_null(strstr(err, "zzz.pem"));
	arena_free(&a);
}

static const char message[] = "Received: from x ([127.0.0.1])\r\n\tby h (postamt) with ESMTPSA id 1;\r\n"
			      "\tMon, 07 Dec 2026 04:00:00 +0000\r\n"
			      "From: Alice <alice@sign.test>\r\n"
			      "To: bob@example.net\r\n"
			      "Cc: carol@example.net\r\n"
			      "To:   dave@example.net\r\n"
			      "Subject: Hello\r\n\tthere\r\n"
			      "Date: Mon, 07 Dec 2026 04:00:00 +0000\r\n"
			      "Message-ID: <1@sign.test>\r\n"
			      "List-Unsubscribe: <mailto:u@sign.test>\r\n"
			      "X-Unsigned: yes\r\n"
			      "\r\n"
			      "Hi  Bob, \r\n\r\n.leading dot\r\n\r\n\r\n";

static void test_sign_and_verify(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *ed, *rsa, *err;
	assert_int_equal(dkim_key_generate(dfd, "sign.test", DAY1, (uid_t)-1, (gid_t)-1, a, &ed, &rsa, &err), 1);
	struct dkim_key_info *k;
	size_t n;
	assert_int_equal(dkim_key_list(dfd, "sign.test", a, &k, &n, &err), 2);
	struct dns_table t = { 0 };
	dns_table_add(&t, arena_printf(a, "%s._domainkey.sign.test", k[0].selector), k[0].txt);
	dns_table_add(&t, arena_printf(a, "%s._domainkey.sign.test", k[1].selector), k[1].txt);
	struct dkim_keyset *set;
	char *warn;
	assert_int_equal(dkim_keyset_load(dfd, &set, &warn, &err), 1);
	const struct dkim_signer *e, *r;
	assert_int_equal(dkim_keyset_find(set, "sign.test", &e, &r), 2);

	const char *prefix = "List-Id: <l.sign.test>\r\n"; /* a field an earlier hook adds */
	char *f1, *f2;
	time_t now = time(NULL);
	assert_int_equal(dkim_sign(e, prefix, strlen(prefix), message, strlen(message), now, a, &f1, &err), 1);
	assert_int_equal(dkim_sign(r, prefix, strlen(prefix), message, strlen(message), now, a, &f2, &err), 1);
	for (const char *p = f1; (p = strstr(p, "\r\n")) != NULL; p += 2) /* folded, short lines */
		assert_true(p[2] == '\t' || p[2] == '\0');
	struct buf unf = { 0 };
	for (const char *p = f1; *p; p++)
		if (*p != '\r' && *p != '\n' && *p != '\t')
			buf_putc(&unf, *p);
	f1 = arena_strdup(a, unf.data);
	buf_free(&unf);
	assert_non_null(strstr(f1, "a=ed25519-sha256; c=relaxed/relaxed; d=sign.test; s=e20261207;"));
	assert_non_null(strstr(f2, "a=rsa-sha256;"));
	assert_non_null(strstr(f1, arena_printf(a, "t=%lld;", (long long)now)));
	assert_null(strstr(f1, "l="));
	assert_non_null(strstr(f1, "h=From:From:To:To:Cc:Subject:Date:Message-ID:"));
	assert_non_null(strstr(f1, "List-Id:List-Unsubscribe"));
	assert_null(strstr(f1, "X-Unsigned"));
	assert_null(strstr(f1, "Received"));
	assert_int_equal(dkim_sign(e, prefix, strlen(prefix), message, strlen(message), now, a, &f1, &err), 1);
	char *msg = arena_printf(a, "%s%s%s%s", f2, f1, prefix, message);
	struct dkim_verdict *v;
	struct mailauth_dns dns = dns_of(&t);
	assert_int_equal(dkim_verify(&dns, msg, strlen(msg), now, a, &v, &n), 2);
	assert_int_equal(v[0].result, MAILAUTH_PASS);
	assert_string_equal(v[0].algorithm, "rsa-sha256");
	assert_int_equal(v[1].result, MAILAUTH_PASS);
	assert_string_equal(v[1].algorithm, "ed25519-sha256");
	assert_string_equal(v[1].selector, "e20261207");

	/* the same with LF line ends (what a client might hand to a local tool) */
	struct buf lf = { 0 };
	for (const char *p = msg; *p; p++)
		if (*p != '\r')
			buf_putc(&lf, *p);
	assert_int_equal(dkim_verify(&dns, lf.data, lf.len, now, a, &v, &n), 2);
	assert_int_equal(v[0].result, MAILAUTH_PASS);
	assert_int_equal(v[1].result, MAILAUTH_PASS);
	buf_free(&lf);

	/* a second From added above (over-signing) or the To order swapped: fail */
	char *m2 = arena_printf(a, "%s%sFrom: mallory@evil.test\r\n%s%s", f2, f1, prefix, message);
	assert_int_equal(dkim_verify(&dns, m2, strlen(m2), now, a, &v, &n), 2);
	assert_int_equal(v[0].result, MAILAUTH_FAIL);
	assert_int_equal(v[1].result, MAILAUTH_FAIL);
	char *m3 = arena_printf(a, "%s%s%s%s", f2, f1, prefix, message);
	char *to1 = strstr(m3, "To: bob@example.net"), *to2 = strstr(m3, "To:   dave@example.net");
	memcpy(to1, "To: dave@example.net", 20); /* same length, swapped values */
	memcpy(to2, "To:   bob@example.net ", 22);
	assert_int_equal(dkim_verify(&dns, m3, strlen(m3), now, a, &v, &n), 2);
	assert_int_equal(v[1].result, MAILAUTH_FAIL);
	/* an unsigned field changed or added: still pass */
	char *m4 = arena_printf(a, "%s%sX-Spam: no\r\n%s%s", f2, f1, prefix, message);
	*strstr(m4, "X-Unsigned: yes") = 'Y';
	assert_int_equal(dkim_verify(&dns, m4, strlen(m4), now, a, &v, &n), 2);
	assert_int_equal(v[1].result, MAILAUTH_PASS);
	/* both keys in one call (what the hook does): one body hash, two valid fields */
	const struct dkim_signer *both[2] = { e, r };
	char *fs[2];
	assert_int_equal(dkim_sign_many(both, 2, NULL, 0, message, strlen(message), now, a, fs, &err), 1);
	char *m5 = arena_printf(a, "%s%s%s", fs[0], fs[1], message);
	assert_int_equal(dkim_verify(&dns, m5, strlen(m5), now, a, &v, &n), 2);
	assert_int_equal(v[0].result, MAILAUTH_PASS);
	assert_string_equal(v[0].algorithm, "ed25519-sha256");
	assert_int_equal(v[1].result, MAILAUTH_PASS);
	assert_string_equal(v[1].algorithm, "rsa-sha256");
	assert_int_equal(dkim_sign_many(both, 2, NULL, 0, "no header", 9, now, a, fs, &err), -1);
	dkim_keyset_free(&set);
	arena_free(&a);
}

int test_key_store_main(void);
int test_key_store_main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_generate_list_retire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyset_bad_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_and_verify, setup, teardown),
	};
	return cmocka_run_group_tests_name("dkim_key", tests, NULL, NULL);
}
