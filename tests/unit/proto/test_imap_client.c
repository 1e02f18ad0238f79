/* test_imap_client.c: the IMAP client's response parser (src/proto/imap/imap_client.c):
 * status responses with codes, data responses with lists and literals, continuation,
 * "need more" with the byte count that helps, and every bound a hostile server could
 * push against (line, literal, list length, depth); imapc_number's range. */
#include "imap_client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static const struct imapc_limits lim = { .line_max = 200, .literal_max = 64, .items_max = 8, .depth_max = 3 };

static int parse(struct arena *a, const char *s, struct imapc_response *r, size_t *need, const char **err)
{
	*need = 0;
	*err = NULL;
	return imapc_parse(a, s, strlen(s), &lim, r, need, err);
}

static void test_status(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct imapc_response r;
	size_t need;
	const char *err;
	const char *s = "* OK [UIDVALIDITY 3857529045] UIDs valid\r\nnext";
	assert_int_equal(parse(a, s, &r, &need, &err), (int)strlen(s) - 4);
	assert_string_equal(r.tag, "*");
	assert_string_equal(r.status, "OK");
	assert_string_equal(r.code, "UIDVALIDITY 3857529045");
	assert_string_equal(r.text, "UIDs valid");
	assert_int_equal(parse(a, "p1 no [AUTHENTICATIONFAILED] bad\r\n", &r, &need, &err), 34);
	assert_string_equal(r.tag, "p1");
	assert_string_equal(r.status, "NO");
	assert_int_equal(parse(a, "+ go ahead\r\n", &r, &need, &err), 12);
	assert_string_equal(r.tag, "+");
	arena_free(&a);
}

static void test_fetch_with_literal(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct imapc_response r;
	size_t need;
	const char *err;
	const char *s = "* 3 FETCH (UID 7 FLAGS (\\Seen $Label1) BODY[HEADER.FIELDS (MESSAGE-ID)] {5}\r\nab\0cd)\r\n";
	size_t len = 85;
	assert_int_equal(imapc_parse(a, s, len, &lim, &r, &need, &err), (int)len);
	assert_true(r.has_number);
	assert_int_equal(r.number, 3);
	assert_null(r.status);
	assert_int_equal(r.n, 2);
	assert_int_equal(imapc_is(&r.items[0], "fetch"), 1);
	const struct imapc_item *l = &r.items[1];
	assert_int_equal(l->kind, IMAPC_LIST);
	assert_int_equal(l->n, 6);
	uint64_t uid;
	assert_int_equal(imapc_number(&l->items[1], UINT32_MAX, &uid), 1);
	assert_int_equal(uid, 7);
	assert_int_equal(l->items[3].kind, IMAPC_LIST);
	assert_string_equal(l->items[3].items[0].s, "\\Seen");
	assert_string_equal(l->items[4].s, "BODY[HEADER.FIELDS (MESSAGE-ID)]");
	assert_int_equal(l->items[5].kind, IMAPC_STRING);
	assert_int_equal(l->items[5].len, 5);
	assert_memory_equal(l->items[5].s, "ab\0cd", 5);
	/* the same response cut short: need more, and how much */
	assert_int_equal(imapc_parse(a, s, 60, &lim, &r, &need, &err), 0);
	assert_true(need > 60);
	assert_int_equal(imapc_parse(a, s, 80, &lim, &r, &need, &err), 0);
	assert_true(need > 80 && need <= len);
	arena_free(&a);
}

static void test_bounds(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct imapc_response r;
	size_t need;
	const char *err;
	char longline[400];
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	assert_int_equal(parse(a, longline, &r, &need, &err), -1); /* no LF yet, already too long */
	assert_string_equal(err, "response line too long");
	assert_int_equal(parse(a, "* 1 FETCH (BODY[] {65}\r\n", &r, &need, &err), -1);
	assert_string_equal(err, "literal too large");
	assert_int_equal(parse(a, "* 1 FETCH (BODY[] {99999999999999999999999}\r\n", &r, &need, &err), -1);
	assert_int_equal(parse(a, "* 1 FETCH ((((a))))\r\n", &r, &need, &err), -1);
	assert_int_equal(parse(a, "* 1 FETCH (a b c d e f g h i)\r\n", &r, &need, &err), -1);
	assert_int_equal(parse(a, "* 1 FETCH (a \"unterminated)\r\n", &r, &need, &err), -1);
	assert_int_equal(parse(a, "* 1 FETCH (a b\r\n", &r, &need, &err), -1);
	assert_int_equal(parse(a, "* 1 FETCH (a b c d e f g h)\r\n", &r, &need, &err), 29);
	arena_free(&a);
}

static void test_number(void **state)
{
	(void)state;
	struct imapc_item it = { .kind = IMAPC_ATOM };
	uint64_t v;
	it.s = "4294967295", it.len = 10;
	assert_int_equal(imapc_number(&it, UINT32_MAX, &v), 1);
	it.s = "4294967296";
	assert_int_equal(imapc_number(&it, UINT32_MAX, &v), -1);
	it.s = "0", it.len = 1;
	assert_int_equal(imapc_number(&it, UINT32_MAX, &v), -1);
	it.s = "12a", it.len = 3;
	assert_int_equal(imapc_number(&it, UINT32_MAX, &v), -1);
	it.kind = IMAPC_STRING, it.s = "12", it.len = 2;
	assert_int_equal(imapc_number(&it, UINT32_MAX, &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_fetch_with_literal),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_number),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
