/* test_pool.c: the worker pool with completions posted to a running loop, and the
 * helpers of the server's stop sequence (pool_wait_idle, loop_call). Meant to run
 * under ThreadSanitizer too (build-tsan/): the counters below are loop-only state. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"
#include "loop.h"
#include "pool.h"

#include <stdatomic.h>
#include <time.h>

struct counts {
	struct loop *loop;
	struct pool *pool;
	atomic_int worked; /* pool threads */
	int done;	   /* the loop only */
	int chained;	   /* the loop only */
	bool on_loop;	   /* every done ran on the loop */
};

static void work(void *arg)
{
	struct counts *c = arg;
	struct timespec ts = { 0, 200 * 1000 };
	nanosleep(&ts, NULL);
	atomic_fetch_add(&c->worked, 1);
}

static void done(void *arg)
{
	struct counts *c = arg;
	c->on_loop = c->on_loop && loop_is_current(c->loop);
	c->done++;
}

static void chained_done(void *arg)
{
	struct counts *c = arg;
	c->chained++;
}

/* a completion that queues the next step, as a login's lookup queues its hash */
static void first_step_done(void *arg)
{
	struct counts *c = arg;
	done(c);
	pool_submit(c->pool, work, chained_done, c->loop, c);
}

/* loop_call(nothing): every call posted before has run, and what they wrote is
 * visible to the caller afterwards */
static void nothing(void *arg)
{
}

static void test_wait_idle_and_loop_call(void **state)
{
	struct counts c = { .on_loop = true };
	c.loop = loop_new(0);
	const char *err;
	assert_int_equal(loop_start(c.loop, &err), 1);
	c.pool = pool_new(3);
	assert_int_equal(pool_wait_idle(c.pool), 0);
	for (int i = 0; i < 50; i++)
		pool_submit(c.pool, work, done, c.loop, &c);
	uint64_t n = pool_wait_idle(c.pool);
	assert_int_equal(n, 50);
	assert_int_equal(atomic_load(&c.worked), 50);
	/* every completion was posted before pool_wait_idle returned: one loop_call runs them */
	loop_call(c.loop, nothing, NULL);
	assert_int_equal(c.done, 50);
	assert_true(c.on_loop);

	/* the stop sequence's rounds: a completion that queues more work is seen by the
	 * finished count changing, until a round where nothing ran */
	for (int i = 0; i < 10; i++)
		pool_submit(c.pool, work, first_step_done, c.loop, &c);
	uint64_t ran = n, rounds = 0;
	for (;;) {
		uint64_t m = pool_wait_idle(c.pool);
		loop_call(c.loop, nothing, NULL);
		rounds++;
		if (m == ran)
			break;
		ran = m;
	}
	assert_int_equal(ran, 70);
	assert_int_equal(c.done, 60);
	assert_int_equal(c.chained, 10);
	assert_true(rounds >= 2);
	pool_free(&c.pool);
	assert_null(c.pool);
	loop_free(&c.loop);
	assert_null(c.loop);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_idle_and_loop_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
