/* serve_settings.c: the parts of the configuration that sessions, the session core
 * and the resolver read, copied out of struct config (serve_settings.h). */
#include "serve_settings.h"

#include "arena.h"
#include "sieve.h"

#include <stdlib.h>
#include <string.h>

/* One published settings value and the strings it points to. */
struct settings_gen {
	struct settings_gen *prev;
	struct settings s;
	char *hostname;
	char *mta_sts_mode;
	char *subaddress_delimiter;
	char *metrics_token;
	struct sieve_limits sieve_limits;
};

void serve_settings_publish(struct settings_gen **gens, struct settings_ref *ref, const struct config *cfg)
{
	struct settings_gen *g = xcalloc(1, sizeof(*g));
	g->hostname = xstrdup(cfg->hostname);
	g->mta_sts_mode = xstrdup(cfg->mta_sts_mode);
	g->subaddress_delimiter = xstrdup(cfg->subaddress_delimiter);
	g->metrics_token = xstrdup(cfg->metrics_token);
	/* the defaults first: a field without a key keeps its default */
	struct sieve_limits *l = &g->sieve_limits;
	sieve_limits_default(l);
	l->max_script_bytes = (size_t)cfg->sieve_max_script_size;
	l->max_nesting = (unsigned)cfg->sieve_max_nesting;
	l->max_actions = (unsigned)cfg->sieve_max_actions;
	l->max_redirects = (unsigned)cfg->sieve_max_redirects;
	l->max_cpu_steps = (uint64_t)cfg->sieve_max_cpu_steps;
	l->max_regex_bytes = (size_t)cfg->sieve_max_regex_size;
	l->max_regex_per_run = (unsigned)cfg->sieve_max_regexes;
	l->max_variable_bytes = (size_t)cfg->sieve_max_variable_size;
	l->max_variables = (unsigned)cfg->sieve_max_variables;
	l->max_include_depth = (unsigned)cfg->sieve_max_include_depth;
	l->max_includes = (unsigned)cfg->sieve_max_includes;
	l->max_body_bytes = (size_t)cfg->sieve_max_body_size;
	l->max_memory = (size_t)cfg->sieve_max_memory;
	g->s = (struct settings){
		.hostname = g->hostname,
		.line_max = (size_t)cfg->line_max,
		.imap_command_max = (size_t)cfg->imap_command_max,
		.message_max = (uint64_t)cfg->message_max,
		.jmap_response_max = (uint64_t)cfg->jmap_response_max,
		.webmail_identities = (size_t)cfg->webmail_identities,
		.webmail_contacts = (size_t)cfg->webmail_contacts,
		.recipients_max = (size_t)cfg->recipients_max,
		.imap_conns_per_user_ip = (size_t)cfg->imap_conns_per_user_ip,
		.auth_failures_per_min = (size_t)cfg->auth_failures_per_min,
		.imap_search_updates = (size_t)cfg->imap_search_updates,
		.quota_full_temporary = cfg->smtp_quota_full_temporary,
		.spf_max_dns_lookups = (unsigned)cfg->spf_max_dns_lookups,
		.spf_max_void_lookups = (unsigned)cfg->spf_max_void_lookups,
		.spf_max_mx_names = (unsigned)cfg->spf_max_mx_names,
		.spf_max_ptr_names = (unsigned)cfg->spf_max_ptr_names,
		.dkim_max_signatures = (unsigned)cfg->dkim_max_signatures,
		.dkim_clock_skew = (unsigned)cfg->dkim_clock_skew,

		.send_per_hour = (uint64_t)cfg->send_per_hour,
		.recipients_per_hour = (uint64_t)cfg->recipients_per_hour,
		.timeout_smtp = (int)cfg->timeout_smtp,
		.timeout_pop3 = (int)cfg->timeout_pop3,
		.timeout_imap = (int)cfg->timeout_imap,
		.timeout_imap_login = (int)cfg->timeout_imap_login,
		.timeout_http = (int)cfg->timeout_http,
		.port_https = config_port(cfg, PORT_HTTPS),
		.mailauth_inbound = strcmp(cfg->mailauth_inbound, "off") == 0      ? SETTINGS_MAILAUTH_OFF
				    : strcmp(cfg->mailauth_inbound, "report") == 0 ? SETTINGS_MAILAUTH_REPORT
										    : SETTINGS_MAILAUTH_ENFORCE,
		.mailauth_timeout_ms = (unsigned)cfg->mailauth_timeout * 1000u,
		.mta_sts_mode = g->mta_sts_mode,
		.mta_sts_max_age = (uint32_t)cfg->mta_sts_max_age,
		.junk_threshold = (double)cfg->junk_threshold / 100.0,
		.junk_min_trained = (unsigned)cfg->junk_min_trained,
		.sieve_max_scripts = (size_t)cfg->sieve_max_scripts,
		.sieve_max_script_size = (size_t)cfg->sieve_max_script_size,
		.sieve_max_redirects = (unsigned)cfg->sieve_max_redirects,
		.timeout_sieve = (int)cfg->timeout_sieve,
		.subaddress_delimiter = g->subaddress_delimiter,
		.sieve_limits = &g->sieve_limits,
		.sieve_vacation_min_period = cfg->sieve_vacation_min_period,
		.sieve_vacation_max_period = cfg->sieve_vacation_max_period,
		.sieve_vacation_default_period = cfg->sieve_vacation_default_period,
		.metrics_token = g->metrics_token,
	};
	g->prev = *gens;
	*gens = g;
	settings_publish(ref, &g->s);
}

struct conn_limits serve_conn_limits(const struct config *cfg)
{
	return (struct conn_limits){
		.per_ip = (size_t)cfg->conns_per_ip,
		.total = (size_t)cfg->conns_total,
		.handshake_timeout = (int)cfg->timeout_tls_handshake,
		.message_memory = (uint64_t)cfg->message_memory,
		.message_memory_per_ip = (uint64_t)cfg->message_memory_per_ip,
		.errors_per_session = (size_t)cfg->errors_per_session,
		.commands_per_session = (size_t)cfg->commands_per_session,
	};
}

void serve_settings_free(struct settings_gen **gens)
{
	while (*gens != NULL) {
		struct settings_gen *g = *gens;
		*gens = g->prev;
		free(g->hostname);
		free(g->mta_sts_mode);
		free(g->subaddress_delimiter);
		free(g->metrics_token);
		free(g);
	}
}

struct dns_settings serve_dns_settings(const struct config *cfg)
{
	return (struct dns_settings){
		.server = cfg->dns_server,
		.timeout_ms = (unsigned)cfg->dns_timeout_ms,
		.cache_entries = cfg->dns_cache_entries == 0 ? DNS_CACHE_OFF : (unsigned)cfg->dns_cache_entries,
	};
}
