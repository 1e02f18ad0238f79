/* serve_hooks.c: the pipeline's hooks made from the configuration, in their fixed
 * order (serve_hooks.h). */
#include "serve_hooks.h"

#include "dkim_hook.h"
#include "inbound.h"
#include "junk_hook.h"
#include "log.h"
#include "sieve_hook.h"
#include "spam_wire.h"
#include "store.h"
#include "submit.h"

#include <fcntl.h>

/* mailauth: is the domain one of ours (a From: domain that outsiders may not use)? */
static bool local_domain(void *ctx, const char *domain)
{
	const char *error;
	return store_domain_exists(ctx, domain, &error) > 0;
}

/* The junk filter's settings from the spam.junk_* keys; hostname is borrowed. */
static void junk_settings_from_config(const struct config *cfg, struct junk_settings *js)
{
	junk_settings_default(js);
	js->threshold = (double)cfg->junk_threshold / 100.0;
	js->min_trained = (unsigned)cfg->junk_min_trained;
	js->max_tokens = (unsigned)cfg->junk_max_tokens;
	js->max_bytes = (size_t)cfg->junk_max_bytes;
	js->significant = (unsigned)cfg->junk_significant;
	js->reputation = (unsigned)cfg->junk_reputation;
	js->hostname = cfg->hostname;
}

int serve_hooks_add(struct serve_hooks *h, const struct config *cfg, struct submit *sp, struct store *store,
		    struct dns *d, struct settings_ref *settings, const char **error_r)
{
	h->mailauth = mailauth_inbound_new(&(struct mailauth_inbound_env){
		.dns = d, .lookup_timeout_ms = (unsigned)cfg->dns_timeout_ms, .settings = settings,
		.is_local = local_domain, .local_ctx = store });
	submit_hook_add(sp, &(struct submit_hook){ "mailauth", mailauth_inbound_run, h->mailauth });
	h->spam = spam_wire_new(cfg, d, settings, error_r);
	if (h->spam == NULL)
		return -1;
	spam_wire_add_hook(h->spam, sp);
	struct junk_settings js;
	junk_settings_from_config(cfg, &js);
	h->junk = junk_new(store, &js);
	submit_hook_add(sp, &(struct submit_hook){ "junk", junk_hook_run, h->junk });
	h->sieve = sieve_hook_new(store, sp, settings, cfg->sieve_srs_key); /* DIR is the working directory */
	submit_hook_add(sp, &(struct submit_hook){ "sieve", sieve_hook_run, h->sieve });
	submit_set_rewrite(sp, sieve_hook_srs_reverse, h->sieve);
	h->dkim = dkim_hook_new(AT_FDCWD, store, cfg->dkim_publish_delay); /* DIR is the working directory */
	submit_hook_add(sp, &(struct submit_hook){ "dkim_sign", dkim_hook_run, h->dkim });
	return 1;
}

void serve_hooks_reload(struct serve_hooks *h, const struct config *cfg)
{
	const char *err;
	if (spam_wire_reload(h->spam, cfg, &err) < 0)
		log_error("event=reload_failed keys=spam.* error=%s keeping=old-spam-settings", LOG_Q(err));
	struct junk_settings js;
	junk_settings_from_config(cfg, &js);
	junk_set_settings(h->junk, &js);
	dkim_hook_set_publish_delay(h->dkim, cfg->dkim_publish_delay);
	dkim_hook_reload(h->dkim);
}

const struct smtpd_client_check *serve_hooks_client_check(struct serve_hooks *h)
{
	return spam_wire_client_check(h->spam);
}

void serve_hooks_free(struct serve_hooks *h)
{
	mailauth_inbound_free(&h->mailauth);
	dkim_hook_free(&h->dkim);
	spam_wire_free(&h->spam);
	junk_free(&h->junk);
	if (h->sieve != NULL)
		sieve_hook_free(&h->sieve);
}
