/* pool.c: threads for blocking work with completions posted back to loops (pool.h). */
#include "pool.h"

#include "arena.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct job {
	struct job *next;
	pool_work_fn *work;
	loop_fn *done;
	struct loop *back;
	void *arg;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t idle; /* signalled when the queue is empty and no job runs */
	struct job *head, *tail;
	int busy;          /* jobs taken by a thread and not finished */
	uint64_t finished; /* jobs done, their completion posted or run */
	bool stopping;
	int nthreads;
	pthread_t *threads;
};

static void *pool_main(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		struct job *j = p->head;
		if (j == NULL) { /* stopping and drained */
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		p->head = j->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->busy++;
		pthread_mutex_unlock(&p->lock);
		j->work(j->arg);
		if (j->done != NULL) {
			if (j->back != NULL)
				loop_post(j->back, j->done, j->arg);
			else
				j->done(j->arg);
		}
		free(j);
		pthread_mutex_lock(&p->lock);
		assert(p->busy > 0);
		p->busy--;
		p->finished++;
		if (p->busy == 0 && p->head == NULL)
			pthread_cond_broadcast(&p->idle);
		pthread_mutex_unlock(&p->lock);
	}
}

struct pool *pool_new(int nthreads)
{
	struct pool *p = xcalloc(1, sizeof(*p));
	if (nthreads < 1)
		nthreads = 1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->threads = xcalloc((size_t)nthreads, sizeof(*p->threads));
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0)
			abort();
		p->nthreads++;
	}
	return p;
}

void pool_free(struct pool **pp)
{
	struct pool *p = *pp;
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	pthread_cond_destroy(&p->idle);
	free(p->threads);
	free(p);
	*pp = NULL;
}

void pool_submit(struct pool *p, pool_work_fn *work, loop_fn *done, struct loop *back, void *arg)
{
	struct job *j = xmalloc(sizeof(*j));
	*j = (struct job){ NULL, work, done, back, arg };
	pthread_mutex_lock(&p->lock);
	if (p->tail != NULL)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

uint64_t pool_wait_idle(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->busy > 0 || p->head != NULL)
		pthread_cond_wait(&p->idle, &p->lock);
	uint64_t n = p->finished;
	pthread_mutex_unlock(&p->lock);
	return n;
}

size_t pool_queued(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	size_t n = 0;
	for (struct job *j = p->head; j != NULL; j = j->next)
		n++;
	pthread_mutex_unlock(&p->lock);
	return n;
}
