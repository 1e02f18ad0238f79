/* serve_settings.h: what the servers read of the configuration. The servers may not
 * include config.h (DESIGN.md §3), so serve.c publishes a struct settings for them
 * (lib/settings.h) at start and at every SIGHUP; each published value stays alive
 * until exit, since a session may hold the pointer it read at connect time. Also the
 * session core's limits (struct conn_limits) and the resolver's (struct
 * dns_settings). serve.c uses this, and `postamt dns --check` for the resolver. */
#ifndef POSTAMT_SERVE_SETTINGS_H
#define POSTAMT_SERVE_SETTINGS_H

#include "config.h"
#include "conn.h"
#include "dns.h"
#include "settings.h"

/* The published values, newest first. */
struct settings_gen;

/* Makes a struct settings from cfg, keeps it in *gens and publishes it through ref. */
void serve_settings_publish(struct settings_gen **gens, struct settings_ref *ref, const struct config *cfg);
/* Frees every published value: only once no session is left. */
void serve_settings_free(struct settings_gen **gens);
/* The session core's limits from the limits.* and timeout keys. */
struct conn_limits serve_conn_limits(const struct config *cfg);
/* The resolver's settings from the dns.* keys (strings point into cfg). */
struct dns_settings serve_dns_settings(const struct config *cfg);

#endif
