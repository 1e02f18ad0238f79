/* test_import_parse.c: the pure parsers of `postamt import` (src/postamt/import_parse.c):
 * Maildir folder names in both layouts and both encodings, Maildir file names (flags,
 * keyword letters, ",S="), dovecot-keywords, special use from English and German
 * names, and mbox files (boundaries, the separator line, no final newline, mboxrd and
 * mboxo unescaping, From-line dates, Status:/X-Status:/X-Keywords:). */
#include "import_parse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *name_of(struct arena *a, const char *path, char sep)
{
	const char *name = NULL, *err = NULL;
	return import_folder_name(a, path, sep, &name, &err) > 0 ? name : err;
}

static void test_folder_names(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	assert_string_equal(name_of(a, "Sub.Folder", '.'), "Sub/Folder");
	assert_string_equal(name_of(a, "Sub/Folder", '/'), "Sub/Folder");
	assert_string_equal(name_of(a, "Reisen.K&APY-ln", '.'), "Reisen/K\xc3\xb6ln");    /* mUTF-7 */
	assert_string_equal(name_of(a, "Reisen/K\xc3\xb6ln", '/'), "Reisen/K\xc3\xb6ln"); /* UTF-8 */
	assert_string_equal(name_of(a, "a..b", '.'), "empty level in a folder name");
	assert_string_equal(name_of(a, "bad\x01", '.'), "control character or \"/\" in a folder name");
	assert_string_equal(name_of(a, "x&AAw-y", '.'), "control character or \"/\" in a folder name");
	assert_string_equal(name_of(a, "x&AC8-y", '.'), "x&AC8-y"); /* not canonical mUTF-7: taken as it is */
	assert_string_equal(name_of(a, "\xff\xfe", '.'), "folder name neither modified UTF-7 nor UTF-8");
	arena_free(&a);
}

static void test_maildir_filenames(void **state)
{
	(void)state;
	struct import_maildir_file f;
	assert_int_equal(import_maildir_filename("1700.M1P2.host,S=1234,W=1260:2,FRSac", &f), 1);
	assert_int_equal(f.flags, IMPORT_F_FLAGGED | IMPORT_F_ANSWERED | IMPORT_F_SEEN);
	assert_int_equal(f.keywords, (1u << 0) | (1u << 2));
	assert_true(f.has_size);
	assert_int_equal(f.size, 1234);
	assert_int_equal(f.uniq_len, strlen("1700.M1P2.host,S=1234,W=1260"));
	assert_int_equal(import_maildir_filename("1700.x:2,DTP", &f), 1);
	assert_int_equal(f.flags, IMPORT_F_DRAFT | IMPORT_F_DELETED);
	assert_true(f.passed);
	assert_false(f.has_size);
	assert_int_equal(import_maildir_filename("1700.new", &f), 1); /* new/: no info part */
	assert_int_equal(f.flags, 0);
	assert_int_equal(import_maildir_filename(".hidden", &f), 0);
	assert_int_equal(import_maildir_filename("1700.x:1,S", &f), -1);
	assert_int_equal(import_maildir_filename("1700.x,S=:2,S", &f), -1);
	assert_int_equal(import_maildir_filename("1700.x,S=99999999999999999999999:2,", &f), -1);
}

static void test_dovecot_keywords(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *slots[IMPORT_KEYWORD_SLOTS];
	const char *file = "0 $Label1\r\n1 Rechnung\nbad line\n26 too far\n3 \n25 last";
	assert_int_equal(import_dovecot_keywords(a, file, strlen(file), slots), 3);
	assert_string_equal(slots[0], "$Label1");
	assert_string_equal(slots[1], "Rechnung");
	assert_null(slots[2]);
	assert_null(slots[3]);
	assert_string_equal(slots[25], "last");
	arena_free(&a);
}

static void test_special_use(void **state)
{
	(void)state;
	assert_int_equal(import_special_use_of("Sent"), IMPORT_SU_SENT);
	assert_int_equal(import_special_use_of("gesendet"), IMPORT_SU_SENT);
	assert_int_equal(import_special_use_of("INBOX/Sent Items"), IMPORT_SU_SENT);
	assert_int_equal(import_special_use_of("Entw\xc3\xbcrfe"), IMPORT_SU_DRAFTS);
	assert_int_equal(import_special_use_of("Papierkorb"), IMPORT_SU_TRASH);
	assert_int_equal(import_special_use_of("Gel\xc3\xb6scht"), IMPORT_SU_TRASH);
	assert_int_equal(import_special_use_of("Spam"), IMPORT_SU_JUNK);
	assert_int_equal(import_special_use_of("Archiv"), IMPORT_SU_ARCHIVE);
	assert_int_equal(import_special_use_of("Projekte/Sent"), 0); /* only top-level folders */
	assert_int_equal(import_special_use_of("Urlaub"), 0);
}

static char *msg_of(const char *data, const struct import_mbox_msg *m)
{
	struct buf b = { 0 };
	import_mbox_unescape(&b, data + m->start, m->end - m->start);
	char *s = strndup(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

static void test_mbox(void **state)
{
	(void)state;
	const char *d = "From a@b Tue Dec  1 10:00:00 2026\nSubject: one\n\n>From x\n>>From y\nFrom-z\n\n"
			"From c@d Wed Dec  2 11:30:00 2026\n\nlast";
	size_t len = strlen(d), pos = 0;
	struct import_mbox_msg m;
	assert_int_equal(import_mbox_next(d, len, &pos, &m), 1);
	char *s = msg_of(d, &m);
	assert_string_equal(s, "Subject: one\n\nFrom x\n>From y\nFrom-z\n");
	free(s);
	assert_int_equal(import_mbox_date(m.from_line, m.from_len), 1796119200);
	assert_int_equal(import_mbox_next(d, len, &pos, &m), 1);
	s = msg_of(d, &m);
	assert_string_equal(s, "\nlast"); /* no final newline: kept as it is */
	free(s);
	assert_int_equal(import_mbox_date(m.from_line, m.from_len), 1796211000);
	assert_int_equal(import_mbox_next(d, len, &pos, &m), 0);

	/* the blank line after the last message is a separator too; CRLF files */
	const char *e = "From x Thu Jan  1 00:00:00 2026\r\nA: b\r\n\r\nbody\r\n\r\n";
	pos = 0;
	assert_int_equal(import_mbox_next(e, strlen(e), &pos, &m), 1);
	s = msg_of(e, &m);
	assert_string_equal(s, "A: b\r\n\r\nbody\r\n");
	free(s);
	assert_int_equal(import_mbox_next(e, strlen(e), &pos, &m), 0);

	pos = 0;
	assert_int_equal(import_mbox_next("Subject: x\n", 11, &pos, &m), -1);
	assert_int_equal(import_mbox_date("From x no date", 14), 0);
}

static void test_mbox_flags(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *msg = "Status: RO\nX-Status: AFT\nX-Keywords: projekt, $Label1\n important\n\nX-Status: D\n";
	unsigned int flags;
	const char **kw;
	import_mbox_flags(a, msg, strlen(msg), &flags, &kw);
	assert_int_equal(flags, IMPORT_F_SEEN | IMPORT_F_ANSWERED | IMPORT_F_FLAGGED | IMPORT_F_DRAFT);
	assert_string_equal(kw[0], "projekt");
	assert_string_equal(kw[1], "$Label1");
	assert_string_equal(kw[2], "important");
	assert_null(kw[3]);
	assert_string_equal(import_header_value(a, msg, strlen(msg), "x-status"), "AFT");
	assert_null(import_header_value(a, msg, strlen(msg), "Message-ID"));
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folder_names),
		cmocka_unit_test(test_maildir_filenames),
		cmocka_unit_test(test_dovecot_keywords),
		cmocka_unit_test(test_special_use),
		cmocka_unit_test(test_mbox),
		cmocka_unit_test(test_mbox_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
