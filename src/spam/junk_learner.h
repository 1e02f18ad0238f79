/* junk_learner.h: applies the lessons the store records to the junk filter's models.
 *
 * The store records a lesson in the same transaction as the user's action (a message
 * moved into or out of Junk, $Junk/$NotJunk set; store.h "junk filter lessons").
 * The learner drains them on the worker pool in batches: one pool job reads at most
 * `batch` pending lessons, reads each message through the store (at most max_bytes of
 * it), calls junk_train with the lesson's deltas and then marks the batch applied
 * (store_lessons_done), and queues the next job while lessons remain. So a retrain of
 * 50,000 messages holds one pool thread for one batch at a time, and the IMAP command
 * that moved them returned as soon as its own transaction committed.
 *
 * Woken by the store after every commit that recorded a lesson
 * (store_set_lesson_notify), and by junk_learner_kick (at start, for lessons left
 * from before, and periodically for lessons another process recorded).
 *
 * At least once: a lesson is marked applied only after junk_train returned, so a
 * crash in between applies that batch's lessons again at the next start (at most
 * `batch` messages counted twice; never a lost one). A lesson that cannot be applied
 * (message file unreadable, junk_train fails) is logged and dropped, so one bad
 * message never blocks the queue. */
#ifndef POSTAMT_SPAM_JUNK_LEARNER_H
#define POSTAMT_SPAM_JUNK_LEARNER_H

#include <stddef.h>
#include <stdint.h>

#include "junk.h"
#include "pool.h"
#include "store.h"

struct junk_learner_settings {
	size_t batch;     /* lessons per pool job (spam.learn_batch, default 200) */
	size_t max_bytes; /* bytes of a message read for training (0: all); the filter reads no more */
};

struct junk_learner;

/* Makes the learner (store, junk and pool are borrowed and must outlive it) and
 * registers it with store_set_lesson_notify. pool may be NULL: then nothing runs in
 * the background and only junk_learner_run_once applies lessons (tests, tools). */
struct junk_learner *junk_learner_new(struct store *store, struct junk *junk, struct pool *pool,
				      const struct junk_learner_settings *set);
/* Changes the batch size and bytes read (SIGHUP); the next batch uses them. Any thread. */
void junk_learner_set(struct junk_learner *l, const struct junk_learner_settings *set);
/* Starts a pool job unless one is out (then that one goes on afterwards). Any thread;
 * never blocks on the store. Nothing after junk_learner_stop. */
void junk_learner_kick(struct junk_learner *l);
/* No job is started from now on; the one out finishes its batch (the server's drain
 * waits for the pool). Pending lessons stay in the store for the next start. */
void junk_learner_stop(struct junk_learner *l);
/* Unregisters from the store and frees *lp (NULL is fine). After the pool is idle. */
void junk_learner_free(struct junk_learner **lp);
/* Applies one batch now, on the calling thread (blocks). Returns the number of
 * lessons taken from the store (0: none pending), or <0 with *error_r when the store
 * could not be read or the batch not marked applied. */
int junk_learner_run_once(struct junk_learner *l, const char **error_r);
/* Lessons applied to a model since the learner was made (for tests and logs). */
uint64_t junk_learner_applied(struct junk_learner *l);

#endif
