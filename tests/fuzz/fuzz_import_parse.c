/* fuzz_import_parse.c: libFuzzer target for the parsers of foreign mail stores
 * (src/postamt/import_parse.h): Maildir folder and file names, dovecot-keywords, the
 * special use a name implies, and mbox files (message boundaries, ">From " unescaping,
 * From-line dates, Status:/X-Status:/X-Keywords: flags, header fields).
 *
 * The first byte chooses the part; the rest is the input. Invariants: a folder name is
 * valid UTF-8 with no control character, no empty level; a Maildir file name's unique
 * part lies within the name; keyword slots hold printable text; mbox messages lie in
 * the data in order without overlap and the walk ends; unescaping never grows a
 * message and leaves no line starting ">From " that was ">>From " only once. */
#include "fuzz.h"
#include "import_parse.h"

#include <string.h>

static bool utf8_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t k = c < 0x80                ? 0
			   : c >= 0xc2 && c < 0xe0 ? 1
			   : (c & 0xf0) == 0xe0    ? 2
			   : c >= 0xf0 && c < 0xf5 ? 3
						   : 9;
		if (k == 9 || n - i - 1 < k || (k == 0 && (c < 0x20 || c == 0x7f)))
			return false;
		for (size_t j = 1; j <= k; j++)
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

static void names(struct arena *a, const char *s)
{
	for (int i = 0; i < 2; i++) {
		const char *name = NULL, *err = NULL;
		int r = import_folder_name(a, s, i == 0 ? '.' : '/', &name, &err);
		if (r > 0) {
			CHECK(name != NULL && name[0] != '\0' && utf8_clean(name));
			CHECK(strstr(name, "//") == NULL && name[0] != '/' && name[strlen(name) - 1] != '/');
			unsigned int su = import_special_use_of(name);
			CHECK(su == 0 || (su & (su - 1)) == 0);
		} else {
			CHECK(r < 0 && err != NULL);
		}
	}
	struct import_maildir_file f;
	int r = import_maildir_filename(s, &f);
	CHECK(r >= -1 && r <= 1);
	if (r != 0)
		CHECK(f.uniq_len <= strlen(s));
	if (r > 0)
		CHECK((f.flags & ~0x1fu) == 0 && (f.keywords >> IMPORT_KEYWORD_SLOTS) == 0);
}

static void keywords(struct arena *a, const char *p, size_t len)
{
	const char *slots[IMPORT_KEYWORD_SLOTS];
	int n = import_dovecot_keywords(a, p, len, slots);
	int found = 0;
	for (int i = 0; i < IMPORT_KEYWORD_SLOTS; i++) {
		if (slots[i] == NULL)
			continue;
		found++;
		CHECK(slots[i][0] != '\0' && strchr(slots[i], '\n') == NULL);
	}
	CHECK(n == found);
}

static void mbox(struct arena *a, const char *p, size_t len)
{
	size_t pos = 0, last_end = 0;
	struct import_mbox_msg m;
	int r, count = 0;
	while ((r = import_mbox_next(p, len, &pos, &m)) > 0) {
		CHECK(m.start <= m.end && m.end <= len && m.start >= last_end);
		CHECK(m.from_line >= p && m.from_line + m.from_len <= p + m.start);
		CHECK(pos >= m.end && pos <= len);
		last_end = m.end;
		struct buf out = { 0 };
		import_mbox_unescape(&out, p + m.start, m.end - m.start);
		CHECK(out.len <= m.end - m.start);
		buf_free(&out);
		(void)import_mbox_date(m.from_line, m.from_len);
		unsigned int flags;
		const char **kw;
		import_mbox_flags(a, p + m.start, m.end - m.start, &flags, &kw);
		CHECK((flags & ~0x1fu) == 0 && kw != NULL);
		const char *v = import_header_value(a, p + m.start, m.end - m.start, "Message-ID");
		CHECK(v == NULL || strlen(v) <= 998);
		CHECK(++count <= (int)len + 1);
		if (pos >= len)
			break;
	}
	CHECK(r >= -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1;
	size_t len = size - 1;
	struct arena *a = arena_new();
	switch (data[0] % 3) {
	case 0: {
		char *s = arena_strndup(a, p, len); /* names stop at a NUL, as file names do */
		names(a, s);
		break;
	}
	case 1:
		keywords(a, p, len);
		break;
	default:
		mbox(a, p, len);
		break;
	}
	arena_free(&a);
	return 0;
}
