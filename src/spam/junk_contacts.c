/* junk_contacts.c: recipients of sent mail become known contacts (junk_contacts.h). */
#include "junk_contacts.h"

#include <inttypes.h>
#include <string.h>

#include "arena.h"
#include "log.h"

int junk_contacts_run(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	(void)reason_r;
	struct junk *j = ctx;
	const struct submit_origin *o = m->origin;
	if (o->kind != SUBMIT_KIND_SUBMISSION && o->kind != SUBMIT_KIND_WEBMAIL)
		return SUBMIT_OK;
	if (o->auth_account <= 0 || m->nrcpts == 0)
		return SUBMIT_OK;
	const char **addrs = arena_alloc(m->arena, m->nrcpts * sizeof(*addrs));
	for (size_t i = 0; i < m->nrcpts; i++)
		addrs[i] = m->rcpts[i].address;
	const char *error = NULL;
	if (junk_contacts_add(j, o->auth_account, addrs, m->nrcpts, &error) < 0)
		log_warn("event=junk_contacts_failed account=%" PRId64 " error=%s", o->auth_account,
			 LOG_Q(error != NULL ? error : "?"));
	else
		log_debug("event=junk_contacts account=%" PRId64 " added=%zu", o->auth_account, m->nrcpts);
	return SUBMIT_OK;
}
