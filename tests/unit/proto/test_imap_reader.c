/* test_imap_reader.c: imap_reader (src/proto/imap/imap_reader.c), RFC 9051 §4.3 literals,
 * RFC 7888 LITERAL+, RFC 3516 literal8; every input also fed one byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "imap_reader.h"

#include <stdio.h>
#include <string.h>

struct event {
	int kind;           /* IMAP_READ_* */
	uint64_t lit_size;
	bool sync, lit8;
	char cmd[256];
};

/* Feeds input in chunks of `step` bytes (0: all at once), accepting every literal
 * up to max; records the events. Returns the number of events. */
static size_t run(const char *in, size_t len, size_t step, uint64_t max, struct event *ev, size_t nev)
{
	struct imap_reader r;
	imap_reader_init(&r, 100);
	size_t k = 0, pos = 0;
	while (pos < len && k < nev) {
		size_t chunk = step == 0 ? len - pos : (len - pos < step ? len - pos : step);
		size_t used;
		int res = imap_reader_feed(&r, in + pos, chunk, &used);
		pos += used;
		if (res == IMAP_READ_MORE)
			continue;
		memset(&ev[k], 0, sizeof(ev[k]));
		ev[k].kind = res;
		struct bytes c = imap_reader_command(&r);
		snprintf(ev[k].cmd, sizeof(ev[k].cmd), "%.*s", (int)c.len, c.p);
		if (res == IMAP_READ_LITERAL) {
			ev[k].lit_size = r.lit_size;
			ev[k].sync = r.lit_sync;
			ev[k].lit8 = r.lit8;
			if (r.lit_size <= max)
				imap_reader_literal_accept(&r);
			else
				imap_reader_reset(&r);
		} else if (res == IMAP_READ_COMMAND) {
			imap_reader_reset(&r);
		} else {
			k++;
			break;
		}
		k++;
	}
	imap_reader_free(&r);
	return k;
}

static void both(const char *in, uint64_t max, const struct event *want, size_t nwant)
{
	for (size_t step = 0; step <= 1; step++) {
		struct event ev[16];
		size_t n = run(in, strlen(in), step, max, ev, 16);
		assert_int_equal(n, nwant);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(ev[i].kind, want[i].kind);
			assert_string_equal(ev[i].cmd, want[i].cmd);
			if (want[i].kind == IMAP_READ_LITERAL) {
				assert_int_equal(ev[i].lit_size, want[i].lit_size);
				assert_int_equal(ev[i].sync, want[i].sync);
				assert_int_equal(ev[i].lit8, want[i].lit8);
			}
		}
	}
}

static void test_plain_lines(void **state)
{
	(void)state;
	struct event want[] = {
		{ IMAP_READ_COMMAND, 0, false, false, "a NOOP" },
		{ IMAP_READ_COMMAND, 0, false, false, "b LOGIN x y" },
		{ IMAP_READ_COMMAND, 0, false, false, "" },
	};
	both("a NOOP\r\nb LOGIN x y\n\r\n", 1000, want, 3);
}

static void test_literals(void **state)
{
	(void)state;
	struct event want[] = {
		{ IMAP_READ_LITERAL, 5, true, false, "a LOGIN {5}\r\n" },
		{ IMAP_READ_LITERAL, 3, false, false, "a LOGIN {5}\r\nhello {3+}\r\n" },
		{ IMAP_READ_COMMAND, 0, false, false, "a LOGIN {5}\r\nhello {3+}\r\na\r\n" },
		{ IMAP_READ_LITERAL, 4, true, true, "b APPEND x ~{4}\r\n" },
		{ IMAP_READ_COMMAND, 0, false, false, "b APPEND x ~{4}\r\n\0\0\0\0" },
		{ IMAP_READ_LITERAL, 0, true, false, "c X {0}\r\n" },
		{ IMAP_READ_COMMAND, 0, false, false, "c X {0}\r\n" },
	};
	/* the literal "a\r\n" keeps its CRLF; the command's own final CRLF is dropped */
	const char in[] = "a LOGIN {5}\r\nhello {3+}\r\na\r\n\r\nb APPEND x ~{4}\r\n\0\0\0\0\r\nc X {0}\r\n\r\n";
	for (size_t step = 0; step <= 1; step++) {
		struct event ev[16];
		size_t n = run(in, sizeof(in) - 1, step, 1000, ev, 16);
		assert_int_equal(n, 7);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(ev[i].kind, want[i].kind);
			if (want[i].kind == IMAP_READ_LITERAL) {
				assert_int_equal(ev[i].lit_size, want[i].lit_size);
				assert_int_equal(ev[i].sync, want[i].sync);
				assert_int_equal(ev[i].lit8, want[i].lit8);
			}
		}
		assert_string_equal(ev[2].cmd, "a LOGIN {5}\r\nhello {3+}\r\na\r\n");
	}
}

static void test_rejected_literal_is_not_read(void **state)
{
	(void)state;
	/* over the limit: the reader drops the command; the next line is a command */
	struct event want[] = {
		{ IMAP_READ_LITERAL, 4294967296ULL, true, false, "a APPEND x {4294967296}\r\n" },
		{ IMAP_READ_COMMAND, 0, false, false, "b NOOP" },
	};
	both("a APPEND x {4294967296}\r\nb NOOP\r\n", 1000, want, 2);
	/* a size that does not fit 64 bits */
	struct event huge[] = {
		{ IMAP_READ_LITERAL, UINT64_MAX, true, false, "a X {99999999999999999999999}\r\n" },
	};
	both("a X {99999999999999999999999}\r\n", 1000, huge, 1);
}

static void test_not_literals(void **state)
{
	(void)state;
	struct event want[] = {
		{ IMAP_READ_COMMAND, 0, false, false, "a X {-1}" },
		{ IMAP_READ_COMMAND, 0, false, false, "b X {}" },
		{ IMAP_READ_COMMAND, 0, false, false, "c X {1}x" },
		{ IMAP_READ_COMMAND, 0, false, false, "d X {1+ }" },
	};
	both("a X {-1}\r\nb X {}\r\nc X {1}x\r\nd X {1+ }\r\n", 1000, want, 4);
}

static void test_line_limit(void **state)
{
	(void)state;
	char in[300];
	memset(in, 'x', sizeof(in));
	memcpy(in, "a ", 2);
	struct event ev[4];
	for (size_t step = 0; step <= 1; step++) {
		size_t n = run(in, sizeof(in), step, 1000, ev, 4);
		assert_int_equal(n, 1);
		assert_int_equal(ev[0].kind, IMAP_READ_TOO_LONG);
	}
	/* exactly line_max bytes plus CRLF is fine */
	char ok[103];
	memset(ok, 'y', 100);
	memcpy(ok + 100, "\r\n", 3);
	struct event want[] = { { IMAP_READ_COMMAND, 0, false, false, "" } };
	size_t n = run(ok, 102, 1, 1000, ev, 4);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].kind, want[0].kind);
	/* literal bytes do not count against the line limit */
	char big[400];
	int len = snprintf(big, sizeof(big), "a X {250}\r\n");
	memset(big + len, 'z', 250);
	memcpy(big + len + 250, "\r\n", 2);
	n = run(big, (size_t)len + 252, 1, 1000, ev, 4);
	assert_int_equal(n, 2);
	assert_int_equal(ev[1].kind, IMAP_READ_COMMAND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_lines),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_rejected_literal_is_not_read),
		cmocka_unit_test(test_not_literals),
		cmocka_unit_test(test_line_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
