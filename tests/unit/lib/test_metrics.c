/* test_metrics.c: the counter table and the recent-events ring (src/lib/metrics.c):
 * counters add from many threads without losing one, gauges go down, the text form
 * has each family's HELP and TYPE once and cumulative histogram buckets, the ring
 * keeps the newest events (also across a resize), searches case-insensitively and
 * counts by kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define THREADS 4
#define ADDS 100000

static void *adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < ADDS; i++)
		metrics_inc(M_OUT_SENT);
	return NULL;
}

static void test_counters_from_threads(void **state)
{
	(void)state;
	uint64_t before = metrics_get(M_OUT_SENT);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, adder, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(metrics_get(M_OUT_SENT) - before, THREADS * ADDS);
	metrics_gauge_add(M_IMAP_IDLE, 2);
	metrics_gauge_add(M_IMAP_IDLE, -1);
	assert_int_equal(metrics_get(M_IMAP_IDLE), 1);
	metrics_gauge_add(M_IMAP_IDLE, -1);
	assert_int_equal(metrics_proto("imap"), MP_IMAP);
	assert_int_equal(metrics_proto("gopher"), MP_OTHER);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_text_form(void **state)
{
	(void)state;
	metrics_inc(M_LOGIN_FAILED + MP_POP3);
	metrics_observe_latency_ms(3);         /* <= 0.01 s */
	metrics_observe_latency_ms(700);       /* <= 1 s */
	metrics_observe_latency_ms(999999999); /* over every bound: +Inf only */
	struct buf out = { 0 };
	metrics_format(&out);
	metrics_format_gauge(&out, "postamt_test_gauge", "A test.", 1.5);
	const char *s = buf_str(&out);
	assert_int_equal(count(s, "# TYPE postamt_logins_total counter\n"), 1);
	assert_int_equal(count(s, "# HELP postamt_logins_total "), 1);
	assert_non_null(strstr(s, "postamt_logins_total{protocol=\"pop3\",result=\"failed\"} 1\n"));
	assert_non_null(strstr(s, "# TYPE postamt_delivery_seconds histogram\n"));
	assert_non_null(strstr(s, "postamt_delivery_seconds_bucket{le=\"0.01\"} 1\n"));
	assert_non_null(strstr(s, "postamt_delivery_seconds_bucket{le=\"0.5\"} 1\n"));
	assert_non_null(strstr(s, "postamt_delivery_seconds_bucket{le=\"1\"} 2\n"));
	assert_non_null(strstr(s, "postamt_delivery_seconds_bucket{le=\"86400\"} 2\n"));
	assert_non_null(strstr(s, "postamt_delivery_seconds_bucket{le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(s, "postamt_delivery_seconds_count 3\n"));
	assert_non_null(strstr(s, "# TYPE postamt_test_gauge gauge\npostamt_test_gauge 1.5\n"));
	assert_int_equal(s[out.len - 1], '\n');
	buf_free(&out);
}

static void test_ring(void **state)
{
	(void)state;
	struct metrics_ev ev[8];
	metrics_event("sent", "a@x.test", "b@y.test", "before init: dropped");
	assert_int_equal(metrics_events_find(NULL, ev, 8), 0);
	metrics_events_init(3);
	metrics_event("sent", "a@x.test", "b@y.test", "1");
	metrics_event("deferred", "a@x.test", "C@Far.test", "2");
	metrics_event("bounced", "a@x.test", "c@far.test", "3");
	metrics_event("refused", NULL, "d@z.test", "4"); /* pushes out "1" */
	assert_int_equal(metrics_events_find("", ev, 8), 3);
	assert_string_equal(ev[0].detail, "4"); /* newest first */
	assert_string_equal(ev[0].from, "");
	assert_string_equal(ev[2].detail, "2");
	assert_int_equal(metrics_events_find("FAR.TEST", ev, 8), 2);
	assert_int_equal(metrics_events_find("far.test", ev, 1), 1);
	assert_int_equal(metrics_events_find("nobody", ev, 8), 0);
	assert_int_equal(metrics_events_count("bounced", (int64_t)time(NULL) - 60), 1);
	assert_int_equal(metrics_events_count("bounced", (int64_t)time(NULL) + 60), 0);
	metrics_events_init(2); /* keeps the newest two */
	assert_int_equal(metrics_events_find(NULL, ev, 8), 2);
	assert_string_equal(ev[0].detail, "4");
	assert_string_equal(ev[1].detail, "3");
	char longer[600];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	metrics_event("sent", longer, longer, longer); /* cut to fit */
	assert_int_equal(metrics_events_find(NULL, ev, 8), 2);
	assert_int_equal(strlen(ev[0].to), sizeof(ev[0].to) - 1);
	metrics_events_init(0);
	assert_int_equal(metrics_events_find(NULL, ev, 8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_from_threads),
		cmocka_unit_test(test_text_form),
		cmocka_unit_test(test_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
