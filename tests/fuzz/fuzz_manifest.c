/* fuzz_manifest.c: libFuzzer target for a backup's manifest
 * (src/postamt/backup_manifest.h: manifest_parse, manifest_find, the writers).
 *
 * Invariants: the parser returns 1, 0 or -1 with an error text for 0 and -1; a
 * manifest it accepts has sorted, unique file paths that manifest_path_ok accepts and
 * manifest_find finds; written out again by the writers it parses to the same values,
 * and that text cut short by one byte is incomplete (0), never accepted. */
#include "fuzz.h"

#include "arena.h"
#include "backup_manifest.h"

#include <string.h>

static void same(const struct manifest *a, const struct manifest *b)
{
	CHECK(strcmp(a->version, b->version) == 0);
	CHECK(a->schema == b->schema && a->created == b->created);
	CHECK((a->since == NULL) == (b->since == NULL));
	CHECK(a->since == NULL || strcmp(a->since, b->since) == 0);
	CHECK(memcmp(a->counts, b->counts, sizeof(a->counts)) == 0);
	CHECK(a->nfiles == b->nfiles);
	for (size_t i = 0; i < a->nfiles; i++) {
		CHECK(strcmp(a->files[i].path, b->files[i].path) == 0);
		CHECK(a->files[i].size == b->files[i].size);
		CHECK(memcmp(a->files[i].sha256, b->files[i].sha256, 65) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	struct manifest m;
	const char *err = NULL;
	int ret = manifest_parse(a, (const char *)data, size, &m, &err);
	CHECK(ret == 1 || ret == 0 || ret == -1);
	if (ret != 1) {
		CHECK(err != NULL && err[0] != '\0');
		arena_free(&a);
		return 0;
	}
	for (size_t i = 0; i < m.nfiles; i++) {
		CHECK(manifest_path_ok(m.files[i].path, strlen(m.files[i].path)) == 1);
		CHECK(i == 0 || strcmp(m.files[i - 1].path, m.files[i].path) < 0);
		CHECK(manifest_find(&m, m.files[i].path) == &m.files[i]);
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	CHECK(f != NULL);
	CHECK(manifest_write_header(f, &m) == 1);
	for (size_t i = 0; i < m.nfiles; i++)
		CHECK(manifest_write_file(f, &m.files[i]) == 1);
	CHECK(manifest_write_end(f, m.nfiles) == 1);
	CHECK(fclose(f) == 0);
	struct manifest again;
	CHECK(manifest_parse(a, text, len, &again, &err) == 1);
	same(&m, &again);
	CHECK(manifest_parse(a, text, len - 1, &again, &err) == 0);
	free(text);
	arena_free(&a);
	return 0;
}
