/* spam_wire.c: wires src/spam into the servers (spam_wire.h). smtpd may not include
 * dns or spam (DESIGN.md §3), so the blocklist lookups reach it as a struct
 * smtpd_client_check whose functions call spam_dnsbl_start/cancel; the verdict
 * callback types of the two modules are the same function type. */
#include "spam_wire.h"

#include "spam_dnsbl.h"
#include "spam_hook.h"

#include <stdlib.h>
#include <string.h>

struct spam_wire {
	struct spam_dnsbl *dnsbl;
	struct smtpd_client_check check;
	struct spam_hook *hook;
};

static void *check_start(void *ctx, const char *ip, struct loop *loop, smtpd_client_done_fn *done, void *arg)
{
	return spam_dnsbl_start(ctx, ip, loop, done, arg);
}

static void check_cancel(void *handle)
{
	struct spam_dnsbl_check *k = handle;
	spam_dnsbl_cancel(&k);
}

struct spam_wire *spam_wire_new(const struct config *cfg, struct dns *d, struct settings_ref *settings,
				const char **error_r)
{
	struct spam_wire *w = xcalloc(1, sizeof(*w));
	w->dnsbl = spam_dnsbl_new(d, cfg->spam_dnsbl, (unsigned)cfg->dns_timeout_ms, error_r);
	if (w->dnsbl == NULL) {
		spam_wire_free(&w);
		return NULL;
	}
	w->check = (struct smtpd_client_check){ check_start, check_cancel, w->dnsbl };
	w->hook = spam_hook_new(
		&(struct spam_hook_env){ .settings = settings,
					 .rspamd_url = cfg->spam_rspamd,
					 .rspamd_timeout_ms = (unsigned)cfg->spam_rspamd_timeout_ms,
					 .rspamd_tempfail = strcmp(cfg->spam_rspamd_fail, "tempfail") == 0,
					 .rspamd_response_max = (size_t)cfg->spam_rspamd_response_max },
		error_r);
	if (w->hook == NULL) {
		spam_wire_free(&w);
		return NULL;
	}
	return w;
}

void spam_wire_free(struct spam_wire **wp)
{
	struct spam_wire *w = *wp;
	if (w == NULL)
		return;
	spam_dnsbl_free(&w->dnsbl);
	spam_hook_free(&w->hook);
	free(w);
	*wp = NULL;
}

const struct smtpd_client_check *spam_wire_client_check(struct spam_wire *w)
{
	return spam_dnsbl_enabled(w->dnsbl) ? &w->check : NULL;
}

void spam_wire_add_hook(struct spam_wire *w, struct submit *sp)
{
	submit_hook_add(sp, &(struct submit_hook){ "spam", spam_hook_run, w->hook });
}
