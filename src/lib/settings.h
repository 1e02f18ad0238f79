/* settings.h: the part of the configuration that protocol sessions read.
 *
 * The servers (smtpd, imapd, pop3d, webd) may not include the configuration module
 * (DESIGN.md §3), so serve.c copies what they need into a struct settings. A settings
 * value is immutable once published; reload publishes a new one through the
 * settings_ref and keeps the old ones alive until exit, so a session may hold the
 * pointer it read at connect time for its whole life. */
#ifndef POSTAMT_LIB_SETTINGS_H
#define POSTAMT_LIB_SETTINGS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sieve_limits;

struct settings {
	const char *hostname;
	size_t line_max;         /* limits.line_length */
	size_t imap_command_max; /* limits.imap_command */
	uint64_t message_max;    /* limits.message_size */
	uint64_t jmap_response_max; /* limits.jmap_response */
	size_t webmail_identities;  /* limits.webmail_identities */
	size_t webmail_contacts;    /* limits.webmail_contacts */
	size_t recipients_max;   /* limits.recipients */
	size_t imap_conns_per_user_ip;
	size_t auth_failures_per_min;
	size_t imap_search_updates; /* limits.imap_search_updates: RFC 5267 contexts per session */
	bool quota_full_temporary; /* smtp.quota_full_temporary: port 25 answers a full mailbox 452 4.2.2 */
	/* spf.max_*: the port-25 SPF check's struct spf_limits (RFC 7208 §4.6.4) */
	unsigned spf_max_dns_lookups, spf_max_void_lookups, spf_max_mx_names, spf_max_ptr_names;
	/* dkim.max_signatures, dkim.clock_skew: the port-25 DKIM check's struct dkim_verify_opts */
	unsigned dkim_max_signatures, dkim_clock_skew;

	uint64_t send_per_hour;    /* limits.send_per_hour: messages an account may submit per hour, 0 = no limit */
	uint64_t recipients_per_hour; /* limits.recipients_per_hour: their recipients per hour, 0 = no limit */
	int timeout_smtp, timeout_pop3, timeout_imap, timeout_imap_login, timeout_http;
	/* listener ports after port_offset, for redirects and client settings */
	int port_https;
	int mailauth_inbound;          /* mailauth.inbound: enum settings_mailauth */
	unsigned mailauth_timeout_ms;  /* mailauth.timeout: all DNS questions of one message */
	const char *mta_sts_mode;      /* mta_sts.mode: testing, enforce or none */
	uint32_t mta_sts_max_age;      /* mta_sts.max_age, seconds */
	double junk_threshold;         /* spam.junk_threshold / 100: what JunkSettings/get shows */
	unsigned junk_min_trained;     /* spam.junk_min_trained */
	/* Sieve (docs/sieve.md): ManageSieve's limits and capabilities */
	size_t sieve_max_scripts;      /* sieve.max_scripts: scripts per account, 0 = no limit */
	size_t sieve_max_script_size;  /* sieve.max_script_size: bytes of one script */
	unsigned sieve_max_redirects;  /* sieve.max_redirects: redirects per message (MAXREDIRECTS) */
	int timeout_sieve;             /* timeout.sieve: ManageSieve idle seconds */
	const char *subaddress_delimiter; /* sieve.subaddress_delimiter: "" = no subaddressing */
	/* every sieve.max_* key as the interpreter's limits (sieve.h); NULL: its defaults */
	const struct sieve_limits *sieve_limits;
	int64_t sieve_vacation_min_period, sieve_vacation_max_period; /* seconds */
	int64_t sieve_vacation_default_period; /* seconds: the JMAP vacation fragment's period */
	const char *metrics_token;     /* metrics.token: "" means loopback clients only */
};

/* mailauth.inbound: what port 25 does with SPF, DKIM, DMARC and iprev. */
enum settings_mailauth {
	SETTINGS_MAILAUTH_ENFORCE = 0, /* the default: check, write Authentication-Results, apply DMARC */
	SETTINGS_MAILAUTH_REPORT,      /* check and write, refuse and file nothing */
	SETTINGS_MAILAUTH_OFF,         /* no checks */
};

struct settings_ref {
	_Atomic(const struct settings *) cur;
};

static inline const struct settings *settings_get(struct settings_ref *r)
{
	return atomic_load_explicit(&r->cur, memory_order_acquire);
}

static inline void settings_publish(struct settings_ref *r, const struct settings *s)
{
	atomic_store_explicit(&r->cur, s, memory_order_release);
}

#endif
