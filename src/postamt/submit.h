/* submit.h: sending for webd (JMAP EmailSubmission/set) as SMTP submission does:
 * the webd_submit_fn hook serve.c puts into webd_env. */
#ifndef POSTAMT_SUBMIT_H
#define POSTAMT_SUBMIT_H

#include "settings.h"
#include "webd.h"

struct store;
struct queue;

/* What the hook needs; owned by serve.c, outlives the loops and the pool. */
struct postamt_submit {
	struct store *store;
	struct queue *queue;
	struct settings_ref *settings;
};

/* webd_submit_fn; ctx is a struct postamt_submit. */
int postamt_webd_submit(void *ctx, const struct webd_submission *m, char *id_r, size_t idlen,
			const char **bad_rcpt_r, const char **error_r);

#endif
