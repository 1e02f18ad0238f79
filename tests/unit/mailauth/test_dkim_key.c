/* test_dkim_key.c: the key store (dkim_key.c) and signing with its keys: selectors by
 * date with a suffix letter, the newest ripe key signs (dkim_key_time.c: a new key
 * waits dkim.publish_delay; a new domain's keys sign at once; the creation stamp in
 * the key file, or the selector's date without it), retire refuses the signer, mode
 * 0600, the fingerprint notices a rotation; a message signed with both keys
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
/* the default dkim.publish_delay, and a time when every key made in these tests is ripe */
#define DELAY ((int64_t)2 * 86400)
#define LATER (DAY1 + 30 * 86400)

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
	assert_int_equal(dkim_key_list(dfd, "sign.test", LATER, DELAY, a, &k, &n, &err), 6);
	assert_string_equal(k[0].selector, "e20261208");
	assert_int_equal(k[0].alg, DKIM_ALG_ED25519);
	assert_int_equal(k[0].state, DKIM_KEY_SIGNING);
	assert_int_equal(k[1].state, DKIM_KEY_PUBLISHED);
	assert_string_equal(k[3].selector, "r20261208");
	assert_int_equal(k[3].alg, DKIM_ALG_RSA);
	assert_int_equal(k[3].state, DKIM_KEY_SIGNING);
	assert_int_equal(strncmp(k[0].txt, "v=DKIM1; k=ed25519; p=", 22), 0);
	assert_int_equal(strlen(k[0].txt), 22 + 44);
	assert_int_equal(strncmp(k[3].txt, "v=DKIM1; k=rsa; p=MIIBIjAN", 26), 0);

	assert_int_equal(dkim_key_retire(dfd, "sign.test", "e20261208", LATER, DELAY, a, &err), -1);
	assert_non_null(strstr(err, "rotate"));
	assert_int_equal(dkim_key_retire(dfd, "sign.test", "e20261207", LATER, DELAY, a, &err), 1);
	assert_int_equal(dkim_key_retire(dfd, "sign.test", "e20261207", LATER, DELAY, a, &err), 0);
	assert_int_equal(dkim_key_retire(dfd, "sign.test", "../../etc", LATER, DELAY, a, &err), 0);
	assert_int_equal(dkim_key_list(dfd, "sign.test", LATER, DELAY, a, &k, &n, &err), 5);
	assert_int_equal(dkim_key_list(dfd, "other.test", LATER, DELAY, a, &k, &n, &err), 0);
	assert_int_equal(dkim_key_list(dfd, "../x", LATER, DELAY, a, &k, &n, &err), -1);
	assert_int_equal(dkim_key_generate(dfd, "a/b", DAY1, (uid_t)-1, (gid_t)-1, a, &ed, &rsa, &err), -1);

	struct dkim_keyset *set;
	char *warn;
	assert_int_equal(dkim_keyset_load(dfd, &set, &warn, &err), 1);
	assert_null(warn);
	assert_int_equal(dkim_keyset_domains(set), 1);
	const struct dkim_signer *e, *r;
	assert_int_equal(dkim_keyset_find(set, "SIGN.test", LATER, DELAY, &e, &r), 2);
	assert_string_equal(e->selector, "e20261208");
	assert_string_equal(r->selector, "r20261208");
	assert_int_equal(dkim_keyset_find(set, "other.test", LATER, DELAY, &e, &r), 0);
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
	assert_int_equal(dkim_keyset_find(set, "bad.test", LATER, DELAY, &e, &r), 2);
	dkim_keyset_free(&set);
	struct dkim_key_info *k;
	size_t n;
	assert_int_equal(dkim_key_list(dfd, "bad.test", LATER, DELAY, a, &k, &n, &err), -1);
	assert_non_null(strstr(err, "zzz.pem"));
	arena_free(&a);
}

/* The rule with a fixed now (dkim_key_choose): the newest ripe key signs; when none
 * is ripe, the oldest (a new domain's only key at once; a key that was signing keeps
 * signing through a second rotation before the first new key ripened). */
static void test_choose_rule(void **state)
{
	(void)state;
	/* newest first, as the key set keeps them */
	struct dkim_signer k[3] = {
		{ .selector = "e20261227", .created = DAY1 + 20 * 86400 },
		{ .selector = "e20261217", .created = DAY1 + 10 * 86400 },
		{ .selector = "e20261207", .created = DAY1 },
	};
	/* a new domain: one key, not ripe, signs */
	assert_int_equal(dkim_key_choose(k + 2, 1, DAY1, DELAY), 0);
	/* rotated on day 10: the old key signs until the new one is DELAY old, to the second */
	assert_int_equal(dkim_key_choose(k + 1, 2, DAY1 + 10 * 86400, DELAY), 1);
	assert_int_equal(dkim_key_choose(k + 1, 2, DAY1 + 12 * 86400 - 1, DELAY), 1);
	assert_int_equal(dkim_key_choose(k + 1, 2, DAY1 + 12 * 86400, DELAY), 0);
	/* with no delay the new key signs at once */
	assert_int_equal(dkim_key_choose(k + 1, 2, DAY1 + 10 * 86400, 0), 0);
	/* three keys: the newest ripe, not the newest */
	assert_int_equal(dkim_key_choose(k, 3, DAY1 + 21 * 86400, DELAY), 1);
	assert_int_equal(dkim_key_choose(k, 3, DAY1 + 22 * 86400, DELAY), 0);
	/* two unripe keys (rotated within DELAY of the domain's creation): the oldest */
	struct dkim_signer young[2] = {
		{ .selector = "e20261207b", .created = DAY1 + 3600 },
		{ .selector = "e20261207", .created = DAY1 },
	};
	assert_int_equal(dkim_key_choose(young, 2, DAY1 + 7200, DELAY), 1);
	assert_int_equal(dkim_key_choose(young, 2, DAY1 + 3600 + DELAY, DELAY), 0);
	/* the delay saturates instead of wrapping */
	assert_true(dkim_key_ripe_at(DAY1, INT64_MAX) > DAY1);
}

/* The creation stamp (first line of a key file) and the selector's date. */
static void test_stamp(void **state)
{
	(void)state;
	char line[64];
	size_t n = dkim_key_stamp_format(DAY1 + 1, line, sizeof(line));
	assert_string_equal(line, "postamt-dkim-created: 2026-12-07T12:00:01Z\n");
	assert_int_equal(n, strlen(line));
	time_t t = 0;
	const char *err = NULL;
	assert_int_equal(dkim_key_stamp_parse(line, n, &t, &err), 1);
	assert_int_equal(t, DAY1 + 1);
	const char *crlf = "postamt-dkim-created: 2026-12-07T12:00:00Z\r\n-----BEGIN";
	assert_int_equal(dkim_key_stamp_parse(crlf, strlen(crlf), &t, &err), 1);
	assert_int_equal(t, DAY1);
	const char *pem = "-----BEGIN PRIVATE KEY-----\n";
	assert_int_equal(dkim_key_stamp_parse(pem, strlen(pem), &t, &err), 0);
	static const char *const bad[] = {
		"postamt-dkim-created: 2026-02-30T12:00:00Z\n", /* no such day */
		"postamt-dkim-created: 2026-12-07 12:00:00Z\n",
		"postamt-dkim-created: 2026-12-07T12:00:00Z", /* no line end */
		"postamt-dkim-created: 2026-12-07T24:00:00Z\n",
		"postamt-dkim-created: 1969-12-31T23:59:59Z\n",
		"postamt-dkim-created: 2026-12-07T12:00:00+01:00\n",
		"postamt-dkim-created:\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(dkim_key_stamp_parse(bad[i], strlen(bad[i]), &t, &err), -1);
		assert_non_null(err);
	}
	/* without a stamp: the end of the selector's UTC day, the latest it can be from */
	assert_int_equal(dkim_key_selector_time("e20261207"), DAY1 + 12 * 3600);
	assert_int_equal(dkim_key_selector_time("r20261207c"), DAY1 + 12 * 3600);
	assert_int_equal(dkim_key_selector_time("e20261232"), 0);
	assert_int_equal(dkim_key_selector_time("mail"), 0);
	assert_int_equal(dkim_key_selector_time("e20261207bb"), 0);
}

/* Replaces the first line of the key file at path (its stamp) by `first`: "" gives a
 * key as an older postamt or an admin wrote it. */
static void rewrite_first_line(const char *path, const char *first)
{
	int fd = openat(dfd, path, O_RDONLY);
	assert_true(fd >= 0);
	char text[8192];
	ssize_t len = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_true(len > 0);
	text[len] = '\0';
	assert_int_equal(strncmp(text, DKIM_KEY_STAMP, strlen(DKIM_KEY_STAMP)), 0);
	char *nl = strchr(text, '\n');
	assert_non_null(nl);
	fd = openat(dfd, path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_true(write(fd, first, strlen(first)) == (ssize_t)strlen(first));
	assert_true(write(fd, nl + 1, strlen(nl + 1)) == (ssize_t)strlen(nl + 1));
	close(fd);
}

/* The selectors of the keys that sign for rot.test at now. */
static void signers_at(const struct dkim_keyset *set, time_t now, const char **ed_r, const char **rsa_r)
{
	const struct dkim_signer *e, *r;
	assert_int_equal(dkim_keyset_find(set, "rot.test", now, DELAY, &e, &r), 2);
	*ed_r = e->selector;
	*rsa_r = r->selector;
}

/* Through the files: a new domain signs at once; a rotation waits DELAY (list says
 * until when; the key set, loaded once, changes its choice as the time passes);
 * retire refuses the signer and names its successor; a second rotation before the
 * first ripened; a key file without its stamp counts from its selector's date. */
static void test_rotation_waits(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *ed1, *rsa1, *ed2, *rsa2, *ed3, *rsa3, *err, *e, *r;
	assert_int_equal(dkim_key_generate(dfd, "rot.test", DAY1, (uid_t)-1, (gid_t)-1, a, &ed1, &rsa1, &err), 1);
	struct dkim_key_info *k;
	size_t n;
	assert_int_equal(dkim_key_list(dfd, "rot.test", DAY1, DELAY, a, &k, &n, &err), 2);
	assert_int_equal(k[0].created, DAY1);
	assert_int_equal(k[0].state, DKIM_KEY_SIGNING); /* nothing older: at once */
	assert_int_equal(k[1].state, DKIM_KEY_SIGNING);

	/* first rotation, on day 10 */
	time_t t2 = DAY1 + 10 * 86400;
	assert_int_equal(dkim_key_generate(dfd, "rot.test", t2, (uid_t)-1, (gid_t)-1, a, &ed2, &rsa2, &err), 1);
	assert_int_equal(dkim_key_list(dfd, "rot.test", t2, DELAY, a, &k, &n, &err), 4);
	assert_string_equal(k[0].selector, ed2);
	assert_int_equal(k[0].state, DKIM_KEY_WAITING);
	assert_int_equal(k[0].ripe_at, t2 + DELAY);
	assert_int_equal(k[1].state, DKIM_KEY_SIGNING);
	assert_int_equal(k[2].state, DKIM_KEY_WAITING);
	assert_int_equal(k[3].state, DKIM_KEY_SIGNING);
	/* with dkim.publish_delay = 0 the new keys sign at once */
	assert_int_equal(dkim_key_list(dfd, "rot.test", t2, 0, a, &k, &n, &err), 4);
	assert_int_equal(k[0].state, DKIM_KEY_SIGNING);
	assert_int_equal(k[1].state, DKIM_KEY_PUBLISHED);

	struct dkim_keyset *set;
	char *warn;
	assert_int_equal(dkim_keyset_load(dfd, &set, &warn, &err), 1);
	assert_null(warn);
	signers_at(set, t2, &e, &r);
	assert_string_equal(e, ed1);
	assert_string_equal(r, rsa1);
	signers_at(set, t2 + DELAY - 1, &e, &r);
	assert_string_equal(e, ed1);
	signers_at(set, t2 + DELAY, &e, &r); /* the same loaded set: no reload needed */
	assert_string_equal(e, ed2);
	assert_string_equal(r, rsa2);
	dkim_keyset_free(&set);

	/* the old key still signs: retire refuses it and says when it may go */
	assert_int_equal(dkim_key_retire(dfd, "rot.test", ed1, t2, DELAY, a, &err), -1);
	assert_non_null(strstr(err, ed2));
	assert_non_null(strstr(err, "2026-12-19T12:00:00Z"));

	/* a second rotation on day 11, before the first ripened: ed1 keeps signing */
	time_t t3 = t2 + 86400;
	assert_int_equal(dkim_key_generate(dfd, "rot.test", t3, (uid_t)-1, (gid_t)-1, a, &ed3, &rsa3, &err), 1);
	assert_int_equal(dkim_keyset_load(dfd, &set, &warn, &err), 1);
	signers_at(set, t3, &e, &r);
	assert_string_equal(e, ed1);
	assert_string_equal(r, rsa1);
	signers_at(set, t2 + DELAY, &e, &r);
	assert_string_equal(e, ed2);
	signers_at(set, t3 + DELAY, &e, &r);
	assert_string_equal(e, ed3);
	assert_string_equal(r, rsa3);
	dkim_keyset_free(&set);
	assert_int_equal(dkim_key_list(dfd, "rot.test", t2 + DELAY, DELAY, a, &k, &n, &err), 6);
	assert_string_equal(k[0].selector, ed3);
	assert_int_equal(k[0].state, DKIM_KEY_WAITING);
	assert_int_equal(k[1].state, DKIM_KEY_SIGNING);
	assert_int_equal(k[2].state, DKIM_KEY_PUBLISHED);
	/* now ed1 may go; a waiting key may be withdrawn */
	assert_int_equal(dkim_key_retire(dfd, "rot.test", ed1, t2 + DELAY, DELAY, a, &err), 1);
	assert_int_equal(dkim_key_retire(dfd, "rot.test", ed3, t2 + DELAY, DELAY, a, &err), 1);

	/* a key file without the stamp line counts from the end of its selector's day */
	rewrite_first_line(arena_printf(a, "dkim/rot.test/%s.pem", rsa3), "");
	assert_int_equal(dkim_key_list(dfd, "rot.test", t3, DELAY, a, &k, &n, &err), 4);
	assert_string_equal(k[1].selector, rsa3); /* ed2, then rsa3 rsa2 rsa1 */
	assert_int_equal(k[1].created, DAY1 + 12 * 3600 + 11 * 86400);
	/* a broken stamp makes the file unreadable, named */
	rewrite_first_line(arena_printf(a, "dkim/rot.test/%s.pem", ed2), "postamt-dkim-created: yesterday\n");
	assert_int_equal(dkim_key_list(dfd, "rot.test", t3, DELAY, a, &k, &n, &err), -1);
	assert_non_null(strstr(err, ed2));
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
	assert_int_equal(dkim_key_list(dfd, "sign.test", LATER, DELAY, a, &k, &n, &err), 2);
	struct dns_table t = { 0 };
	dns_table_add(&t, arena_printf(a, "%s._domainkey.sign.test", k[0].selector), k[0].txt);
	dns_table_add(&t, arena_printf(a, "%s._domainkey.sign.test", k[1].selector), k[1].txt);
	struct dkim_keyset *set;
	char *warn;
	assert_int_equal(dkim_keyset_load(dfd, &set, &warn, &err), 1);
	const struct dkim_signer *e, *r;
	assert_int_equal(dkim_keyset_find(set, "sign.test", LATER, DELAY, &e, &r), 2);

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

/* Keys as PEM text (the PostgreSQL store's rows): selectors of the day, the listing
 * and its states as for files, the retire check, a key set over two domains with an
 * unreadable row skipped and named. */
static void test_pem_keys(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	char sel[32];
	assert_int_equal(dkim_key_day_selector(DKIM_ALG_ED25519, DAY1, 0, sel, sizeof(sel)), 1);
	assert_string_equal(sel, "e20261207");
	assert_int_equal(dkim_key_day_selector(DKIM_ALG_RSA, DAY1, 1, sel, sizeof(sel)), 1);
	assert_string_equal(sel, "r20261207b");
	assert_int_equal(dkim_key_day_selector(DKIM_ALG_RSA, DAY1, 25, sel, sizeof(sel)), 1);
	assert_string_equal(sel, "r20261207z");
	assert_int_equal(dkim_key_day_selector(DKIM_ALG_RSA, DAY1, 26, sel, sizeof(sel)), 0);
	const char *ed1, *rsa1, *ed2, *err;
	assert_int_equal(dkim_key_new_pem(DKIM_ALG_ED25519, a, &ed1, &err), 1);
	assert_int_equal(dkim_key_new_pem(DKIM_ALG_RSA, a, &rsa1, &err), 1);
	assert_int_equal(dkim_key_new_pem(DKIM_ALG_ED25519, a, &ed2, &err), 1);
	assert_non_null(strstr(ed1, "-----BEGIN PRIVATE KEY-----"));
	assert_string_not_equal(ed1, ed2);
	const struct dkim_key_pem rows[] = {
		{ "rot.test", "e20261207", ed1, DAY1 },
		{ "rot.test", "r20261207", rsa1, DAY1 },
		{ "rot.test", "e20261210", ed2, DAY1 + 3 * 86400 },
		{ "other.test", "e20261207", ed2, DAY1 },
		{ "other.test", "bad", "not a key", DAY1 },
	};
	struct dkim_key_info *k;
	size_t n;
	/* an hour after the rotation: the new Ed25519 key waits, the old one signs */
	time_t now = DAY1 + 3 * 86400 + 3600;
	assert_int_equal(dkim_key_list_pem(rows, 3, "ROT.test", now, DELAY, a, &k, &n, &err), 3);
	assert_int_equal(n, 3);
	assert_string_equal(k[0].selector, "e20261210");
	assert_int_equal(k[0].state, DKIM_KEY_WAITING);
	assert_int_equal(k[0].ripe_at, DAY1 + 5 * 86400);
	assert_string_equal(k[1].selector, "e20261207");
	assert_int_equal(k[1].state, DKIM_KEY_SIGNING);
	assert_string_equal(k[2].selector, "r20261207");
	assert_int_equal(k[2].alg, DKIM_ALG_RSA);
	assert_int_equal(k[2].state, DKIM_KEY_SIGNING);
	assert_true(strncmp(k[0].txt, "v=DKIM1; k=ed25519; p=", 22) == 0);
	assert_true(strncmp(k[2].txt, "v=DKIM1; k=rsa; p=", 18) == 0);
	assert_int_equal(dkim_key_retire_check(k, n, "rot.test", "e20261207", a, &err), -1);
	assert_non_null(strstr(err, "e20261210 takes over at"));
	assert_int_equal(dkim_key_retire_check(k, n, "rot.test", "e20261210", a, &err), 1);
	assert_int_equal(dkim_key_retire_check(k, n, "rot.test", "e19990101", a, &err), 0);
	/* a row that is no key is an error for its domain's listing */
	assert_int_equal(dkim_key_list_pem(rows, 5, "other.test", now, DELAY, a, &k, &n, &err), -1);
	assert_non_null(strstr(err, "bad"));
	struct dkim_keyset *set;
	char *warn;
	dkim_keyset_from_pem(rows, 5, &set, &warn);
	assert_non_null(warn);
	assert_non_null(strstr(warn, "bad"));
	free(warn);
	assert_int_equal(dkim_keyset_domains(set), 2);
	const struct dkim_signer *e, *r;
	assert_int_equal(dkim_keyset_find(set, "rot.test", now, DELAY, &e, &r), 2);
	assert_string_equal(e->selector, "e20261207");
	assert_int_equal(dkim_keyset_find(set, "rot.test", LATER, DELAY, &e, &r), 2);
	assert_string_equal(e->selector, "e20261210");
	assert_string_equal(r->selector, "r20261207");
	assert_int_equal(dkim_keyset_find(set, "Other.Test", LATER, DELAY, &e, &r), 1);
	assert_null(r);
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
		cmocka_unit_test(test_choose_rule),
		cmocka_unit_test(test_stamp),
		cmocka_unit_test_setup_teardown(test_rotation_waits, setup, teardown),
		cmocka_unit_test(test_pem_keys),
	};
	return cmocka_run_group_tests_name("dkim_key", tests, NULL, NULL);
}
