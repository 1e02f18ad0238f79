/* test_golden.c: ENVELOPE, BODYSTRUCTURE, BODY, decoded fields and the part table of
 * every message in tests/golden/mail/ against its reviewed .expected file. Run with
 * UPDATE_GOLDEN=1 to rewrite the .expected files (then review the diff). Each message
 * is parsed after CRLF normalisation, as the store does at ingest. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mail.h"

static char *slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct buf b = { 0 };
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	*len_r = b.len;
	if (b.data == NULL)
		buf_append(&b, "", 0);
	return b.data;
}

static void describe(const char *data, size_t len, struct buf *out)
{
	struct arena *a = arena_new();
	struct mail_info *mi = mail_parse(a, data, len);
	buf_printf(out, "SIZE %llu HEADER %llu\n", (unsigned long long)mi->size,
		   (unsigned long long)mi->header_len);
	buf_printf(out, "ENVELOPE %s\n", mi->envelope);
	buf_printf(out, "BODYSTRUCTURE %s\n", mi->bodystructure);
	buf_printf(out, "BODY %s\n", mi->body);
	buf_printf(out, "SUBJECT %s\n", mi->subject);
	buf_printf(out, "FROM %s\nTO %s\nCC %s\n", mi->from, mi->to, mi->cc);
	buf_printf(out, "MESSAGE-ID %s\nIN-REPLY-TO %s\nREFERENCES %s\n", mi->message_id,
		   mi->in_reply_to, mi->references);
	buf_printf(out, "DATE %lld %d\n", (long long)mi->date, mi->date_tz);
	buf_printf(out, "PREVIEW %s\n", mi->preview);
	buf_printf(out, "ATTACHMENT %d\n", mi->has_attachment);
	size_t shown = mi->nparts > 12 ? 12 : mi->nparts;
	buf_printf(out, "PARTS %zu\n", mi->nparts);
	for (size_t i = 0; i < shown; i++) {
		const struct mail_part *p = &mi->parts[i];
		buf_printf(out, "PART \"%s\" hdr=%llu+%llu body=%llu+%llu lines=%llu msghdr=%llu "
			   "type=%s/%s enc=%s charset=%s disp=%s filename=%s cid=%s flags=%u\n",
			   p->section, (unsigned long long)p->hdr_off, (unsigned long long)p->hdr_len,
			   (unsigned long long)p->body_off, (unsigned long long)p->body_len,
			   (unsigned long long)p->lines, (unsigned long long)p->msg_hdr_len, p->type,
			   p->subtype, p->encoding, p->charset, p->disposition, p->filename,
			   p->content_id, (unsigned)p->flags);
	}
	/* the decoded body text of the first text part */
	for (size_t i = 0; i < mi->nparts; i++) {
		if (mi->parts[i].flags & MAIL_PART_TEXT) {
			struct buf t = { 0 };
			mail_part_text(data, len, &mi->parts[i], false, &t);
			if (t.len > 200)
				t.len = 200;
			buf_printf(out, "TEXT %.*s\n", (int)t.len, t.data ? t.data : "");
			buf_free(&t);
			break;
		}
	}
	arena_free(&a);
}

static void test_golden(void **state)
{
	(void)state;
	bool update = getenv("UPDATE_GOLDEN") != NULL;
	DIR *d = opendir(GOLDEN_DIR);
	assert_non_null(d);
	struct dirent *de;
	int count = 0, failed = 0;
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		if (nl < 5 || strcmp(de->d_name + nl - 4, ".eml") != 0)
			continue;
		char path[1024], exp_path[1024];
		snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, de->d_name);
		snprintf(exp_path, sizeof(exp_path), "%s/%.*s.expected", GOLDEN_DIR, (int)(nl - 4), de->d_name);
		size_t len;
		char *raw = slurp(path, &len);
		assert_non_null(raw);
		char *norm;
		size_t nlen = mail_normalize_crlf(raw, len, &norm);
		struct buf out = { 0 };
		describe(norm, nlen, &out);
		if (update) {
			FILE *f = fopen(exp_path, "wb");
			assert_non_null(f);
			fwrite(out.data, 1, out.len, f);
			fclose(f);
		} else {
			size_t elen;
			char *exp = slurp(exp_path, &elen);
			if (exp == NULL || elen != out.len || memcmp(exp, out.data, elen) != 0) {
				fprintf(stderr, "golden mismatch: %s\n--- got:\n%s\n", de->d_name, buf_str(&out));
				failed++;
			}
			free(exp);
		}
		buf_free(&out);
		free(norm);
		free(raw);
		count++;
	}
	closedir(d);
	assert_true(count >= 40);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
