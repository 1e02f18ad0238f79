/* config.h: postamt.conf, the one read-only configuration.
 *
 * The file is lines of `key = value` with `#` comments and dotted names
 * (DESIGN.md §1). Every key has a default; unknown keys and bad values are errors
 * naming the file and line. A loaded configuration never changes: SIGHUP loads a new
 * one and swaps it in (serve.c). */
#ifndef POSTAMT_CONFIG_H
#define POSTAMT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_route {
	char *domain; /* lower case; "*" for everything non-local */
	char *host;
	uint16_t port;
};

/* route_auth.DOMAIN / route_tls.DOMAIN: how the queue talks to the host of the route
 * for DOMAIN ("*": the default for every route). */
struct config_route_opt {
	char *domain;   /* lower case, or "*" */
	bool has_auth;  /* route_auth given: user NULL means "no login" (an empty value) */
	char *user;     /* route_auth USER, NULL when none */
	char *password; /* route_auth PASSWORD (never logged), NULL when none */
	int tls;        /* route_tls: 0 not given, CONFIG_TLS_STARTTLS, CONFIG_TLS_IMPLICIT */
};
enum { CONFIG_TLS_STARTTLS = 1, CONFIG_TLS_IMPLICIT = 2 };

struct config {
	char *data_dir;   /* absolute path of DIR; not a key, set by the loader */
	char *hostname;   /* hostname */
	char *bind;       /* bind: listen address, "" for all addresses */
	int64_t port_offset;
	char *tls_cert;   /* tls.cert, absolute after loading */
	char *tls_key;    /* tls.key, absolute after loading */
	char *user;       /* user: account to run as when started as root */
	int64_t workers;  /* workers: event-loop threads, 0 = one per core */
	int64_t pool_threads; /* pool_threads: threads for blocking work */
	int64_t pool_threads_messages; /* pool_threads_messages: the pipeline's data stage and hooks */
	char *log_level;  /* log.level */
	/* limits (DESIGN.md §6) */
	int64_t line_max;             /* limits.line_length */
	int64_t imap_command_max;     /* limits.imap_command */
	int64_t message_max;          /* limits.message_size */
	int64_t message_memory;       /* limits.message_memory: message bytes held in memory by all connections */
	int64_t disk_reserve;         /* limits.disk_reserve: free bytes below which new mail is refused */
	int64_t disk_reserve_file;    /* limits.disk_reserve_file: size of DIR/db/reserve */
	int64_t index_text_max;       /* search.index_text_max: larger texts are not indexed */

	int64_t message_memory_per_ip; /* limits.message_memory_per_ip: ... by the connections of one address */
	int64_t jmap_response_max;    /* limits.jmap_response: message bytes one JMAP request may read and return */
	int64_t webmail_identities;   /* limits.webmail_identities: JMAP identities per account */
	int64_t webmail_contacts;     /* limits.webmail_contacts: remembered addresses per account for suggestions */
	int64_t recipients_max;       /* limits.recipients */
	int64_t conns_per_ip;         /* limits.connections_per_ip */
	int64_t conns_total;          /* limits.connections */
	int64_t imap_conns_per_user_ip; /* limits.imap_connections_per_user_ip */
	int64_t auth_failures_per_min; /* limits.auth_failures_per_minute */
	int64_t auth_failures_per_account; /* limits.auth_failures_per_account (per minute) */
	int64_t auth_in_flight_per_ip;     /* limits.auth_in_flight_per_ip */
	int64_t errors_per_session;   /* limits.errors_per_session */
	int64_t commands_per_session; /* limits.commands_per_session */
	int64_t imap_search_updates;  /* limits.imap_search_updates */
	int64_t send_per_hour;        /* limits.send_per_hour: messages per account per hour, 0 = no limit */
	int64_t recipients_per_hour;  /* limits.recipients_per_hour: recipients per account per hour, 0 = no limit */
	int64_t auth_cache_ttl;       /* auth.cache_ttl: seconds a verified password is remembered */
	int64_t auth_scram_iterations; /* auth.scram_iterations: PBKDF2 rounds of new SCRAM secrets */
	int64_t spf_max_dns_lookups;   /* spf.max_dns_lookups: include a mx ptr exists redirect per SPF check */
	int64_t spf_max_void_lookups;  /* spf.max_void_lookups: empty DNS answers per SPF check */
	int64_t spf_max_mx_names;      /* spf.max_mx_names: MX names per SPF mx mechanism */
	int64_t spf_max_ptr_names;     /* spf.max_ptr_names: PTR names per SPF ptr mechanism or %{p} */
	int64_t default_quota;        /* quota.default */
	/* timeouts, in seconds */
	int64_t timeout_smtp;         /* timeout.smtp */
	int64_t timeout_pop3;         /* timeout.pop3 */
	int64_t timeout_imap;         /* timeout.imap */
	int64_t timeout_imap_login;   /* timeout.imap_login */
	int64_t timeout_http;         /* timeout.http */
	int64_t timeout_tls_handshake; /* timeout.tls_handshake */
	int64_t shutdown_grace;       /* timeout.shutdown */
	/* outbound queue */
	int64_t queue_retry_initial;  /* queue.retry_initial */
	int64_t queue_retry_max;      /* queue.retry_max */
	int64_t queue_lifetime;       /* queue.lifetime */
	int64_t queue_conc_per_dest;  /* queue.concurrency_per_destination */
	int64_t queue_conc;           /* queue.concurrency */
	int64_t queue_timeout_connect, queue_timeout_command, queue_timeout_data_init, queue_timeout_data_block,
		queue_timeout_data_end; /* queue.timeout_* */
	bool queue_starttls;          /* queue.starttls */
	int64_t queue_lease;          /* queue.lease: a node's hold on a shared queued message */
	int64_t queue_smtp_port;      /* queue.smtp_port: port of mail exchangers */
	bool smtp_quota_full_temporary; /* smtp.quota_full_temporary */
	/* the store's backend (docs/cluster.md) */
	char *store_backend;          /* store.backend: sqlite or postgresql */
	char *store_postgresql;       /* store.postgresql: libpq conninfo or postgresql:// URI */
	/* DNS (src/dns) */
	char *dns_server;             /* dns.server (queue.dns_server is its old name) */
	int64_t dns_timeout_ms;       /* dns.timeout, milliseconds */
	int64_t dns_cache_entries;    /* dns.cache_entries; 0: no cache */
	char *mailauth_inbound;       /* mailauth.inbound: enforce, report or off */
	int64_t mailauth_timeout;     /* mailauth.timeout: seconds for all DNS questions of one message */
	char *mta_sts_mode;           /* mta_sts.mode: testing, enforce or none (RFC 8461 §5) */
	int64_t mta_sts_max_age;      /* mta_sts.max_age: seconds senders keep the policy */
	/* DKIM verification (struct dkim_verify_opts) */
	int64_t dkim_max_signatures;  /* dkim.max_signatures: signatures checked per message */
	int64_t dkim_clock_skew;      /* dkim.clock_skew: seconds a signature's t= may lie ahead */
	int64_t dkim_publish_delay;   /* dkim.publish_delay: seconds a new key waits before it signs */
	/* spam defence: blocklists and rspamd (src/spam, docs/spam.md) */
	char *spam_dnsbl;                 /* spam.dnsbl: ZONE or ZONE=WEIGHT, separated by commas */
	char *spam_rspamd;                /* spam.rspamd: http://HOST:PORT, "" for none */
	int64_t spam_rspamd_timeout_ms;   /* spam.rspamd_timeout */
	char *spam_rspamd_fail;           /* spam.rspamd_fail: accept or tempfail */
	int64_t spam_rspamd_response_max; /* spam.rspamd_response_max: bytes of an answer */
	/* the junk filter (struct junk_settings) */
	int64_t junk_threshold;       /* spam.junk_threshold: percent score that is spam */
	int64_t junk_min_trained;     /* spam.junk_min_trained: lessons of each kind before verdicts */
	int64_t junk_max_tokens;      /* spam.junk_max_tokens: distinct tokens per message */
	/* certificates by ACME (struct acme_settings, docs/tls.md) */
	char *acme_directory;         /* acme.directory: the CA's directory URL; "" = off */
	char *acme_email;             /* acme.email: the account's contact */
	char *acme_names;             /* acme.names: names besides hostname, separated by commas */
	char *acme_ca_file;           /* acme.ca_file: a CA to trust for the directory */
	char *acme_challenge;         /* acme.challenge: any, tls-alpn-01 or http-01 */
	char *acme_key_type;          /* acme.key_type: ecdsa or rsa */
	int64_t acme_timeout;         /* acme.timeout: seconds for one exchange with the CA */
	int64_t acme_response_max;    /* acme.response_max: bytes of one answer */
	int64_t acme_retry_initial;   /* acme.retry_initial: seconds before the first retry */
	int64_t acme_retry_max;       /* acme.retry_max: longest wait between retries */
	int64_t acme_poll_max;        /* acme.poll_max: polls of an authorization or order */
	int64_t junk_max_bytes;       /* spam.junk_max_bytes: bytes of a message the tokenizer reads */
	int64_t junk_significant;     /* spam.junk_significant: tokens combined into a score */
	int64_t junk_reputation;      /* spam.junk_reputation: one sender's lessons that decide (0: off) */
	/* administration (docs/admin.md) */
	char *metrics_token;          /* metrics.token: Bearer token for /metrics from non-loopback clients */
	int64_t admin_recent_events;  /* admin.recent_events: deliveries and refusals kept for the admin pages */
	char *alert_webhook;          /* alert.webhook: URL that alerts are POSTed to, "" for none */
	int64_t alert_interval;       /* alert.interval: seconds between checks */
	int64_t alert_repeat;         /* alert.repeat: seconds before a lasting problem is posted again */
	int64_t alert_queue_age;      /* alert.queue_age: the oldest queued message's age that alerts */
	int64_t alert_cert_days;      /* alert.cert_days: days before the certificate expires that alert */
	int64_t alert_disk_percent;   /* alert.disk_percent: disk use that alerts */
	bool alert_dns;               /* alert.dns: check every domain's DNS records */
	int64_t learn_batch;          /* spam.learn_batch: lessons the learner applies per pool job */
	/* Sieve (docs/sieve.md) */
	int64_t sieve_max_scripts;        /* sieve.max_scripts: scripts per account */
	int64_t sieve_max_script_size;    /* sieve.max_script_size: bytes of one script */
	int64_t sieve_max_redirects;      /* sieve.max_redirects: redirects per message */
	int64_t sieve_max_actions;        /* sieve.max_actions: actions per message */
	int64_t sieve_max_cpu_steps;      /* sieve.max_cpu_steps: interpreter steps per message */
	int64_t sieve_max_nesting;        /* sieve.max_nesting: depth of nested blocks and tests */
	int64_t sieve_max_regex_size;     /* sieve.max_regex_size: bytes of one regular expression */
	int64_t sieve_max_regexes;        /* sieve.max_regexes: regular expressions compiled per run */
	int64_t sieve_max_variable_size;  /* sieve.max_variable_size: bytes of one variable's value */
	int64_t sieve_max_variables;      /* sieve.max_variables: variables of a script */
	int64_t sieve_max_include_depth;  /* sieve.max_include_depth: nested includes */
	int64_t sieve_max_includes;       /* sieve.max_includes: scripts included per run */
	int64_t sieve_max_body_size;      /* sieve.max_body_size: decoded body bytes the body test reads */
	int64_t sieve_max_memory;         /* sieve.max_memory: bytes one run may allocate */
	int64_t sieve_vacation_min_period; /* sieve.vacation_min_period: seconds */
	int64_t sieve_vacation_max_period; /* sieve.vacation_max_period: seconds */
	int64_t sieve_vacation_default_period; /* sieve.vacation_default_period: seconds (JMAP vacation) */
	char *subaddress_delimiter;       /* sieve.subaddress_delimiter: "" turns subaddressing off */
	char *sieve_srs_key;              /* sieve.srs_key: file of the SRS secret (relative to DIR) */
	int64_t timeout_sieve;            /* timeout.sieve: ManageSieve idle seconds */
	int64_t import_line_max;      /* import.line_max: a line from a foreign IMAP server */
	int64_t import_timeout;       /* import.timeout: seconds to wait for a foreign server */
	int64_t import_batch;         /* import.batch: messages appended per transaction */
	struct config_route *routes;
	size_t nroutes;
	struct config_route_opt *route_opts; /* route_auth.* and route_tls.* keys */
	size_t nroute_opts;
};

/* Standard ports of the contract; the listener port is this plus port_offset. */
enum {
	PORT_SMTP = 25, PORT_SUBMISSIONS = 465, PORT_SUBMISSION = 587, PORT_POP3 = 110,
	PORT_POP3S = 995, PORT_IMAP = 143, PORT_IMAPS = 993, PORT_HTTP = 80, PORT_HTTPS = 443,
	PORT_SIEVE = 4190
};

/* The PostgreSQL connection string when store.backend = postgresql, else NULL (SQLite). */
static inline const char *config_store_pg(const struct config *cfg)
{
	return cfg->store_backend != NULL && cfg->store_backend[0] == 'p' ? cfg->store_postgresql : NULL;
}

/* Returns a configuration with every default. data_dir is copied. */
struct config *config_defaults(const char *data_dir);
/* Reads path over the defaults. Returns 1 and *cfg_r, or -1 with a message in
 * *error_r ("FILE:LINE: ...", malloc'd, the caller frees). Relative tls paths are
 * resolved against data_dir. */
int config_load(const char *data_dir, const char *path, struct config **cfg_r, char **error_r);
/* Parses configuration text (pure; used by config_load, the tests and the fuzzer).
 * name is used in error messages. Same returns as config_load. */
int config_parse(struct config *cfg, const char *name, const char *text, size_t len, char **error_r);
/* Semantic checks after parsing (ports in range, files present, ...). Appends one
 * line per problem to *problems_r (malloc'd, NULL if none). Returns the count. */
int config_check(const struct config *cfg, bool check_files, char **problems_r);
void config_free(struct config **cfgp);
/* Names the keys whose values differ between a and b, in the table's order, with
 * "route.*" standing for any change of the routes. Writes at most max names (static
 * strings) to names; returns how many keys differ. */
size_t config_diff(const struct config *a, const struct config *b, const char **names, size_t max);
/* Whether a SIGHUP applies the key called name (a table key or "route.*") to the
 * running server; the others keep their running value until a restart. */
bool config_key_reloadable(const char *name);
/* Copies the value of the key called name (a table key, not "route.*") from src to
 * dst. Returns 1, or -1 when there is no such key. */
int config_copy_key(struct config *dst, const struct config *src, const char *name);
/* The route for an address's domain, or the "*" route, or NULL. */
const struct config_route *config_route_for(const struct config *cfg, const char *domain);
/* The login for the route whose key is route_domain (route_auth.DOMAIN, else
 * route_auth.*): 1 with *user_r and *password_r (owned by cfg), 0 when none. */
int config_route_login(const struct config *cfg, const char *route_domain, const char **user_r,
		       const char **password_r);
/* Whether the route whose key is route_domain uses implicit TLS (route_tls.DOMAIN,
 * else route_tls.*, = implicit); else STARTTLS as for any destination. */
bool config_route_implicit_tls(const struct config *cfg, const char *route_domain);
/* The port a service listens on: standard port + port_offset. */
int config_port(const struct config *cfg, int standard_port);

#endif
