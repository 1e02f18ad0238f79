/* serve_hooks.h: the message pipeline's hooks, made from the configuration and added
 * in their fixed order (docs/architecture.md, "The hook contract"): mailauth (SPF,
 * DKIM, DMARC, iprev: its Authentication-Results is the first field of the stored
 * copy) → spam (blocklist score, rspamd) → junk (the per-account filter; it reads our
 * Authentication-Results) → sieve (each recipient's script, sieve_hook.h) → dkim_sign (last, so it signs the message as it leaves,
 * with every field added above). The composition root's part: only serve.c uses it. */
#ifndef POSTAMT_SERVE_HOOKS_H
#define POSTAMT_SERVE_HOOKS_H

#include "config.h"
#include "settings.h"

struct dns;
struct dkim_hook;
struct junk;
struct sieve_hook;
struct mailauth_inbound;
struct smtpd_client_check;
struct spam_wire;
struct store;
struct submit;

struct serve_hooks {
	struct mailauth_inbound *mailauth; /* the port-25 checks */
	struct spam_wire *spam;            /* blocklists (smtpd's client check) and the spam hook */
	struct junk *junk;                 /* the junk filter: its hook, and the model the learner trains */
	struct sieve_hook *sieve;          /* the recipients' Sieve scripts and vacation */
	struct dkim_hook *dkim;            /* DKIM signing of outgoing mail */
};

/* Makes every hook into *h and adds them to sp in order. The store and d must outlive
 * them. Returns 1, or -1 with *error_r (static) on a bad spam setting; what was made
 * is freed by serve_hooks_free either way. */
int serve_hooks_add(struct serve_hooks *h, const struct config *cfg, struct submit *sp, struct store *store,
		    struct dns *d, struct settings_ref *settings, const char **error_r);
/* SIGHUP: the hooks' reloadable keys (dkim.publish_delay) and the DKIM keys at once,
 * without waiting for the signing hook's watch. (The other hooks read the settings
 * they need per message.) */
void serve_hooks_reload(struct serve_hooks *h, const struct config *cfg);
/* smtpd's connect-time client check (the DNS blocklists), or NULL when there is none. */
const struct smtpd_client_check *serve_hooks_client_check(struct serve_hooks *h);
/* Frees the hooks; only once the pipeline is idle and freed. */
void serve_hooks_free(struct serve_hooks *h);

#endif
