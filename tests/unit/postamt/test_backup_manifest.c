/* test_backup_manifest.c: the manifest of `postamt backup` (src/postamt/backup_manifest.c):
 * what the writers produce parses back to the same values; every prefix of a finished
 * manifest is "incomplete" (0), never accepted, so a backup killed while writing its
 * manifest is refused; malformed lines (bad digests, sizes, paths that leave the
 * backup, duplicates, a wrong end count, text after the end) are errors naming the line. */
#include "backup_manifest.h"

#include "arena.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

/* A finished manifest as the writers make it (malloc'd; *len_r its length). */
static char *written(size_t *len_r, const char *since)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len_r);
	assert_non_null(f);
	struct manifest m = {
		.version = "0.1.0", .schema = 2, .created = 1796641880, .since = since, .counts = { 1, 6, 5, 5 }
	};
	assert_int_equal(manifest_write_header(f, &m), 1);
	struct manifest_file files[] = {
		{ .path = "db/store.sqlite", .size = 151552, .sha256 = H1 },
		{ .path = "blobs/45/395672030cf3f748f5c053a4a5a19c", .size = 309, .sha256 = H2 },
		{ .path = "postamt.conf", .size = 0, .sha256 = H1 },
	};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(manifest_write_file(f, &files[i]), 1);
	assert_int_equal(manifest_write_end(f, 3), 1);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_round_trip(void **state)
{
	(void)state;
	size_t len;
	char *text = written(&len, "/backups/monday");
	struct arena *a = arena_new();
	struct manifest m;
	const char *err = NULL;
	assert_int_equal(manifest_parse(a, text, len, &m, &err), 1);
	assert_string_equal(m.version, "0.1.0");
	assert_int_equal(m.schema, 2);
	assert_int_equal(m.created, 1796641880);
	assert_string_equal(m.since, "/backups/monday");
	assert_int_equal(m.counts[0], 1);
	assert_int_equal(m.counts[1], 6);
	assert_int_equal(m.counts[2], 5);
	assert_int_equal(m.counts[3], 5);
	assert_int_equal(m.nfiles, 3);
	/* sorted by path for manifest_find */
	assert_string_equal(m.files[0].path, "blobs/45/395672030cf3f748f5c053a4a5a19c");
	assert_string_equal(m.files[2].path, "postamt.conf");
	const struct manifest_file *f = manifest_find(&m, "db/store.sqlite");
	assert_non_null(f);
	assert_int_equal(f->size, 151552);
	assert_string_equal(f->sha256, H1);
	assert_null(manifest_find(&m, "db/store"));
	assert_null(manifest_find(&m, "zzz"));
	free(text);
	arena_free(&a);
}

static void test_without_since(void **state)
{
	(void)state;
	size_t len;
	char *text = written(&len, NULL);
	struct arena *a = arena_new();
	struct manifest m;
	const char *err = NULL;
	assert_int_equal(manifest_parse(a, text, len, &m, &err), 1);
	assert_null(m.since);
	free(text);
	arena_free(&a);
}

/* A manifest cut anywhere (a backup killed while writing it) is incomplete, never done. */
static void test_every_prefix_incomplete(void **state)
{
	(void)state;
	size_t len;
	char *text = written(&len, NULL);
	for (size_t n = 0; n < len; n++) {
		struct arena *a = arena_new();
		struct manifest m;
		const char *err = NULL;
		int ret = manifest_parse(a, text, n, &m, &err);
		if (ret != 0)
			fail_msg("prefix of %zu bytes gave %d (%s)", n, ret, err ? err : "");
		assert_non_null(strstr(err, "incomplete"));
		arena_free(&a);
	}
	free(text);
}

static int parse(const char *text, const char **error_r, struct arena *a)
{
	struct manifest m;
	return manifest_parse(a, text, strlen(text), &m, error_r);
}

#define HEAD "postamt-backup 1\npostamt 0.1.0\nschema 2\ncreated 5\n"

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *text, *error;
	} cases[] = {
		{ "postamt-backup 2\n", "line 1: unknown manifest format" },
		{ "tar archive\n", "line 1: not a postamt backup manifest" },
		{ HEAD "file " H1 " 12 ../etc/passwd\nend 1\n", "line 5: bad path" },
		{ HEAD "file " H1 " 12 /etc/passwd\nend 1\n", "line 5: bad path" },
		{ HEAD "file " H1 " 12 blobs//x\nend 1\n", "line 5: bad path" },
		{ HEAD "file " H1 " 12 blobs/./x\nend 1\n", "line 5: bad path" },
		{ HEAD "file " H1 " 12 blobs/x/\nend 1\n", "line 5: bad path" },
		{ HEAD "file " H1 " 12 bl\tobs\nend 1\n", "line 5: bad path" },
		{ HEAD "file " H1 " 12 \nend 1\n", "line 5: bad path" },
		{ HEAD "file " H1 "0 12 x\nend 1\n", "line 5: bad SHA-256" },
		{ HEAD "file ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789 12 x\nend 1\n",
		  "line 5: bad SHA-256" },
		{ HEAD "file " H1 " -1 x\nend 1\n", "line 5: bad size" },
		{ HEAD "file " H1 " 99999999999999999999 x\nend 1\n", "line 5: bad size" },
		{ HEAD "file " H1 " 1 x\nfile " H2 " 2 x\nend 2\n", "x is listed twice" },
		{ HEAD "file " H1 " 1 x\nend 2\n", "line 6: the end line's file count differs" },
		{ HEAD "file " H1 " 1 x\nend 1\nend 1\n", "line 7: text after the end line" },
		{ HEAD "file " H1 " 1 x\nschema 3\nend 1\n", "line 6: header line after the file lines" },
		{ HEAD "schema 3\nend 0\n", "line 5: bad schema line" },
		{ HEAD "count messages 1\ncount messages 2\nend 0\n", "line 6: bad count line" },
		{ HEAD "count letters 1\nend 0\n", "line 5: bad count line" },
		{ HEAD "colour blue\nend 0\n", "line 5: unknown line" },
		{ "postamt-backup 1\nschema 2\ncreated 5\nend 0\n", "line 4: postamt, schema or created line missing" },
		{ HEAD "file " H1 " 1 a\0b\nend 1\n", NULL /* strlen stops at the NUL: cut short */ },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct arena *a = arena_new();
		const char *err = NULL;
		int ret = parse(cases[i].text, &err, a);
		if (cases[i].error == NULL) {
			assert_int_equal(ret, 0);
		} else {
			if (ret != -1 || strstr(err, cases[i].error) == NULL)
				fail_msg("case %zu: %d (%s), wanted %s", i, ret, err ? err : "", cases[i].error);
		}
		arena_free(&a);
	}
	/* a NUL byte inside a line (the length says it is there) */
	static const char nul[] = HEAD "file " H1 " 1 a\0b\nend 1\n";
	struct arena *a = arena_new();
	struct manifest m;
	const char *err = NULL;
	assert_int_equal(manifest_parse(a, nul, sizeof(nul) - 1, &m, &err), -1);
	assert_non_null(strstr(err, "line 5: contains a NUL byte"));
	/* a line longer than MANIFEST_LINE_MAX */
	size_t n = strlen(HEAD) + MANIFEST_LINE_MAX + 16;
	char *big = malloc(n);
	assert_non_null(big);
	memcpy(big, HEAD, strlen(HEAD));
	memset(big + strlen(HEAD), 'x', n - strlen(HEAD) - 1);
	big[n - 1] = '\n';
	assert_int_equal(manifest_parse(a, big, n, &m, &err), -1);
	assert_non_null(strstr(err, "line 5: too long"));
	free(big);
	arena_free(&a);
}

static void test_path_ok(void **state)
{
	(void)state;
	static const char *const good[] = { "db/store.sqlite", "blobs/00/abc", "postamt.conf", "a..b",
					    ".hidden/x",       "tls/cert.pem" };
	static const char *const bad[] = { "",     "/abs",  "a/", "a//b", "./a",  "a/..",
					   "../a", "a/./b", " a", "a ",   "a\nb", "a\x7f" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(manifest_path_ok(good[i], strlen(good[i])), 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(manifest_path_ok(bad[i], strlen(bad[i])), 0);
	char *longp = malloc(MANIFEST_PATH_MAX + 2);
	assert_non_null(longp);
	memset(longp, 'a', MANIFEST_PATH_MAX + 1);
	assert_int_equal(manifest_path_ok(longp, MANIFEST_PATH_MAX), 1);
	assert_int_equal(manifest_path_ok(longp, MANIFEST_PATH_MAX + 1), 0);
	free(longp);
}

/* The writer refuses a path the parser would refuse, rather than writing it. */
static void test_writer_refuses_bad_path(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	struct manifest_file bad = { .path = "../outside", .size = 1, .sha256 = H1 };
	assert_int_equal(manifest_write_file(f, &bad), -1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(len, 0);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_without_since),
		cmocka_unit_test(test_every_prefix_incomplete),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_path_ok),
		cmocka_unit_test(test_writer_refuses_bad_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
