/* loop.h: event loops (one libevent base per worker thread) and cross-thread calls.
 *
 * A struct loop is one worker thread running one event base. Connections are pinned
 * to the loop that accepted them. loop_post() is how any thread (the worker pool, the
 * store's committer, another loop) hands a function to a loop's thread: the store's
 * change events and the pool's completions come back this way. */
#ifndef POSTAMT_LIB_LOOP_H
#define POSTAMT_LIB_LOOP_H

#include <stdbool.h>

struct event_base;
struct loop;

typedef void loop_fn(void *arg);

/* Creates a loop with its own event base; the thread starts with loop_start(). */
struct loop *loop_new(int id);
/* Starts the loop's thread. Returns 1, or -1 with *error_r. */
int loop_start(struct loop *l, const char **error_r);
/* Asks the loop to leave its dispatch; joins the thread. */
void loop_stop_and_join(struct loop *l);
void loop_free(struct loop **lp);
/* Runs fn(arg) on the loop's thread, soon. Safe from any thread; never blocks on the
 * target loop. Calls posted before loop_stop_and_join() returns are run or dropped:
 * fn must not own resources that only it frees (use loop_post only with state whose
 * owner outlives the loop). */
void loop_post(struct loop *l, loop_fn *fn, void *arg);
/* Runs fn(arg) on the loop's thread after ms milliseconds. Safe from any thread.
 * Like loop_post, a call still pending when the loop is freed is dropped. */
void loop_post_after(struct loop *l, unsigned ms, loop_fn *fn, void *arg);
/* Runs fn(arg) on the running loop l's thread and waits until it returned; every call
 * posted to l before has run by then. For the main thread's stop sequence: never from
 * l's own thread, never on a loop that is not started. */
void loop_call(struct loop *l, loop_fn *fn, void *arg);
/* The libevent base (for src/lib and serve.c only; sessions never see it). */
struct event_base *loop_base(struct loop *l);
int loop_id(const struct loop *l);
/* True when called on l's own thread. */
bool loop_is_current(const struct loop *l);
/* The loop running on this thread, or NULL (pool threads, main thread). */
struct loop *loop_current(void);

#endif
