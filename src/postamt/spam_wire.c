/* spam_wire.c: wires src/spam into the servers (spam_wire.h). smtpd may not include
 * dns or spam (DESIGN.md §3), so the blocklist lookups reach it as a struct
 * smtpd_client_check whose functions call spam_dnsbl_start/cancel; the verdict
 * callback types of the two modules are the same function type.
 *
 * Reload: the blocklists and the rspamd hook made from one configuration are a
 * generation; SIGHUP publishes a new one (an atomic pointer) and keeps the old ones
 * until exit, like struct settings, so a check or a message that started with one
 * finishes with it. A generation is made only when a spam.* key changed. */
#include "spam_wire.h"

#include "spam_dnsbl.h"
#include "spam_hook.h"

#include "buf.h"

#include <inttypes.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The blocklists and the hook of one configuration. */
struct spam_gen {
	struct spam_gen *prev;
	struct spam_dnsbl *dnsbl;
	struct spam_hook *hook;
	char *key; /* the spam.* values it was made from (to see whether a reload changed them) */
};

struct spam_wire {
	struct dns *dns;
	struct settings_ref *settings;
	_Atomic(struct spam_gen *) cur;
	struct spam_gen *gens; /* every generation made, newest first (reload thread only) */
	struct smtpd_client_check check;
};

static struct spam_gen *current(struct spam_wire *w)
{
	return atomic_load_explicit(&w->cur, memory_order_acquire);
}

static void *check_start(void *ctx, const char *ip, struct loop *loop, smtpd_client_done_fn *done, void *arg)
{
	return spam_dnsbl_start(current(ctx)->dnsbl, ip, loop, done, arg);
}

static int hook_run(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	return spam_hook_run(current(ctx)->hook, m, reason_r);
}

static void check_cancel(void *handle)
{
	struct spam_dnsbl_check *k = handle;
	spam_dnsbl_cancel(&k);
}

static void gen_free(struct spam_gen *g)
{
	spam_dnsbl_free(&g->dnsbl);
	spam_hook_free(&g->hook);
	free(g->key);
	free(g);
}

/* The spam.* values a generation depends on, as one string. */
static char *gen_key(const struct config *cfg)
{
	struct buf b = { 0 };
	buf_printf(&b, "%s\n%" PRId64 "\n%s\n%" PRId64 "\n%s\n%" PRId64, cfg->spam_dnsbl, cfg->dns_timeout_ms,
		   cfg->spam_rspamd, cfg->spam_rspamd_timeout_ms, cfg->spam_rspamd_fail, cfg->spam_rspamd_response_max);
	char *k = xstrdup(buf_str(&b));
	buf_free(&b);
	return k;
}

static struct spam_gen *gen_new(struct spam_wire *w, const struct config *cfg, const char **error_r)
{
	struct spam_gen *g = xcalloc(1, sizeof(*g));
	g->key = gen_key(cfg);
	g->dnsbl = spam_dnsbl_new(w->dns, cfg->spam_dnsbl, (unsigned)cfg->dns_timeout_ms, error_r);
	if (g->dnsbl == NULL) {
		gen_free(g);
		return NULL;
	}
	g->hook = spam_hook_new(
		&(struct spam_hook_env){ .settings = w->settings,
					 .rspamd_url = cfg->spam_rspamd,
					 .rspamd_timeout_ms = (unsigned)cfg->spam_rspamd_timeout_ms,
					 .rspamd_tempfail = strcmp(cfg->spam_rspamd_fail, "tempfail") == 0,
					 .rspamd_response_max = (size_t)cfg->spam_rspamd_response_max },
		error_r);
	if (g->hook == NULL) {
		gen_free(g);
		return NULL;
	}
	return g;
}

struct spam_wire *spam_wire_new(const struct config *cfg, struct dns *d, struct settings_ref *settings,
				const char **error_r)
{
	struct spam_wire *w = xcalloc(1, sizeof(*w));
	w->dns = d;
	w->settings = settings;
	w->gens = gen_new(w, cfg, error_r);
	if (w->gens == NULL) {
		free(w);
		return NULL;
	}
	atomic_store_explicit(&w->cur, w->gens, memory_order_release);
	w->check = (struct smtpd_client_check){ check_start, check_cancel, w };
	return w;
}

int spam_wire_reload(struct spam_wire *w, const struct config *cfg, const char **error_r)
{
	char *key = gen_key(cfg);
	bool same = strcmp(key, w->gens->key) == 0;
	free(key);
	if (same)
		return 0;
	struct spam_gen *g = gen_new(w, cfg, error_r);
	if (g == NULL)
		return -1;
	g->prev = w->gens;
	w->gens = g;
	atomic_store_explicit(&w->cur, g, memory_order_release);
	return 1;
}

void spam_wire_free(struct spam_wire **wp)
{
	struct spam_wire *w = *wp;
	if (w == NULL)
		return;
	while (w->gens != NULL) {
		struct spam_gen *g = w->gens;
		w->gens = g->prev;
		gen_free(g);
	}
	free(w);
	*wp = NULL;
}

const struct smtpd_client_check *spam_wire_client_check(struct spam_wire *w)
{
	return &w->check;
}

void spam_wire_add_hook(struct spam_wire *w, struct submit *sp)
{
	submit_hook_add(sp, &(struct submit_hook){ "spam", hook_run, w });
}
