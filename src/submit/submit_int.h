/* submit_int.h: what the pipeline's files share (not for other modules). */
#ifndef POSTAMT_SUBMIT_INT_H
#define POSTAMT_SUBMIT_INT_H

#include "submit.h"

struct submit {
	struct store *store;
	struct queue *queue;          /* NULL: no outbound delivery */
	struct settings_ref *settings;
	struct pool *pool;
	struct submit_hook *hooks;    /* in order; fixed once the servers run */
	size_t nhooks;
};

#endif
