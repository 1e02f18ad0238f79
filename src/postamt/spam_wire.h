/* spam_wire.h: the spam defence wired into the server (the composition root's
 * part): the DNS blocklists as smtpd's connect-time client check, and the spam
 * hook of the message pipeline (src/spam). */
#ifndef POSTAMT_SPAM_WIRE_H
#define POSTAMT_SPAM_WIRE_H

#include "config.h"
#include "settings.h"
#include "smtpd.h"
#include "submit.h"

struct dns;
struct spam_wire;

/* Builds both from the spam.* keys over resolver d (may be NULL: no blocklists).
 * Returns NULL with *error_r (static) on a bad setting (config_check catches those
 * first). Free with spam_wire_free once every loop and the pipeline are idle. */
struct spam_wire *spam_wire_new(const struct config *cfg, struct dns *d, struct settings_ref *settings,
				const char **error_r);
void spam_wire_free(struct spam_wire **wp);
/* Applies changed spam.* keys (blocklists, rspamd) on SIGHUP: new checks and
 * messages use the new ones, those under way finish with the old. Returns 1 when
 * something changed, 0 when nothing did, or -1 with *error_r (the old ones stay). */
int spam_wire_reload(struct spam_wire *w, const struct config *cfg, const char **error_r);
/* smtpd's client check (owned by w); it asks nothing while spam.dnsbl is empty. */
const struct smtpd_client_check *spam_wire_client_check(struct spam_wire *w);
/* Adds the spam hook to the pipeline (after the mail-authentication hook). */
void spam_wire_add_hook(struct spam_wire *w, struct submit *sp);

#endif
