/* config.c: the postamt.conf parser and its defaults (see config.h).
 *
 * One table lists every key with its type, place in struct config, default and
 * bounds; the parser, the defaults and `postamt check` all read that table, so a key
 * exists in exactly one place. route.DOMAIN keys and their options route_auth.DOMAIN
 * (USER:PASSWORD for a smarthost login) and route_tls.DOMAIN (implicit or starttls)
 * are the one family outside it; "*" stands for every route. */
#include "config.h"
#include "config_int.h"

#include "acme_int.h"
#include "arena.h"
#include "buf.h"
#include "dns.h"
#include "spam_dnsbl.h"
#include "spam_rspamd.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum key_type { KEY_STRING, KEY_INT, KEY_SIZE, KEY_SECONDS, KEY_MS, KEY_BOOL };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *def;
	int64_t min, max; /* for numbers */
	/* for strings: returns NULL when the value is acceptable, else why not */
	const char *(*valid)(const char *value);
	bool reload; /* a SIGHUP applies it to the running server (serve.c); else restart */
};


static const char *valid_hostname(const char *v)
{
	return config_domain_valid(v) && strcmp(v, "*") != 0 ? NULL : "not a valid host name";
}

static const char *valid_log_level(const char *v)
{
	static const char *const levels[] = { "debug", "info", "warn", "error" };
	for (size_t i = 0; i < 4; i++)
		if (strcmp(v, levels[i]) == 0)
			return NULL;
	return "expected debug, info, warn or error";
}

static const char *valid_mailauth_mode(const char *v)
{
	return strcmp(v, "enforce") == 0 || strcmp(v, "report") == 0 || strcmp(v, "off") == 0
		       ? NULL
		       : "expected enforce, report or off";
}

static const char *valid_mta_sts_mode(const char *v)
{
	return strcmp(v, "testing") == 0 || strcmp(v, "enforce") == 0 || strcmp(v, "none") == 0
		       ? NULL
		       : "expected testing, enforce or none";
}

static const char *valid_dnsbl(const char *v)
{
	struct arena *a = arena_new();
	struct spam_dnsbl_list list;
	const char *error = NULL;
	spam_dnsbl_parse(v, a, &list, &error);
	arena_free(&a);
	return error;
}

static const char *valid_rspamd_url(const char *v)
{
	struct spam_rspamd_url u;
	const char *error = NULL;
	return v[0] == '\0' || spam_rspamd_url_parse(v, &u, &error) > 0 ? NULL : error;
}

static const char *valid_rspamd_fail(const char *v)
{
	return strcmp(v, "accept") == 0 || strcmp(v, "tempfail") == 0 ? NULL : "expected accept or tempfail";
}

static const char *valid_store_backend(const char *v)
{
	return strcmp(v, "sqlite") == 0 || strcmp(v, "postgresql") == 0 ? NULL : "expected sqlite or postgresql";
}

static const char *valid_nonempty(const char *v)
{
	return v[0] != '\0' ? NULL : "must not be empty";
}

/* sieve.subaddress_delimiter: "" (off) or up to 4 characters, each one a delimiter
 * (as Postfix's recipient_delimiter), none of them "@", a space or a control byte */
static const char *valid_delimiter(const char *v)
{
	if (strlen(v) > 4)
		return "at most 4 delimiter characters";
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '@' || (unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return "delimiters must be printable ASCII other than @";
	}
	return NULL;
}

static const char *valid_dns_server(const char *v)
{
	char out[96];
	return v[0] == '\0' || dns_server_parse(v, out, sizeof(out)) > 0
		       ? NULL
		       : "expected an IP address with an optional port (HOST:PORT, [V6]:PORT)";
}

/* acme.*: certificates by ACME (src/acme, docs/tls.md) */
static const char *valid_acme_directory(const char *v)
{
	struct acme_url u;
	const char *error = NULL;
	return v[0] == '\0' || acme_url_parse(v, &u, &error) > 0 ? NULL : error;
}

static const char *valid_acme_names(const char *v)
{
	char buf[4096];
	if (strlen(v) >= sizeof(buf))
		return "too long";
	strcpy(buf, v);
	size_t n = 0;
	for (char *save, *t = strtok_r(buf, ", \t", &save); t != NULL; t = strtok_r(NULL, ", \t", &save)) {
		if (!config_domain_valid(t) || strchr(t, '*') != NULL || strchr(t, '.') == NULL)
			return "expected host names separated by commas (no wildcards)";
		if (++n > 99)
			return "at most 99 names";
	}
	return NULL;
}

static const char *valid_acme_challenge(const char *v)
{
	return strcmp(v, "any") == 0 || strcmp(v, "tls-alpn-01") == 0 || strcmp(v, "http-01") == 0
		       ? NULL
		       : "expected any, tls-alpn-01 or http-01";
}

static const char *valid_acme_key_type(const char *v)
{
	return strcmp(v, "ecdsa") == 0 || strcmp(v, "rsa") == 0 ? NULL : "expected ecdsa or rsa";
}

static const char *valid_webhook(const char *v)
{
	if (v[0] == '\0')
		return NULL;
	if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) || strpbrk(v, " \t\r\n") != NULL ||
	    strlen(v) > 2000)
		return "expected an http:// or https:// URL";
	return NULL;
}

#define S(name, field, def, valid, r) { name, KEY_STRING, offsetof(struct config, field), def, 0, 0, valid, r }
#define I(name, field, def, lo, hi, r) { name, KEY_INT, offsetof(struct config, field), def, lo, hi, NULL, r }
#define Z(name, field, def, lo, hi, r) { name, KEY_SIZE, offsetof(struct config, field), def, lo, hi, NULL, r }
#define T(name, field, def, lo, hi, r) { name, KEY_SECONDS, offsetof(struct config, field), def, lo, hi, NULL, r }
/* milliseconds: "N" (seconds, as the other durations), "Ns" or "Nms" */
#define M(name, field, def, lo, hi, r) { name, KEY_MS, offsetof(struct config, field), def, lo, hi, NULL, r }
#define B(name, field, def, r) { name, KEY_BOOL, offsetof(struct config, field), def, 0, 0, NULL, r }
#define RELOAD true   /* applied by SIGHUP */
#define RESTART false /* kept at its running value by SIGHUP, logged as needing a restart */

static const struct key keys[] = {
	S("hostname", hostname, "localhost", valid_hostname, RELOAD),
	S("bind", bind, "", NULL, RESTART),
	I("port_offset", port_offset, "0", 0, 65000, RESTART),
	S("tls.cert", tls_cert, "tls/cert.pem", valid_nonempty, RELOAD),
	S("tls.key", tls_key, "tls/key.pem", valid_nonempty, RELOAD),
	S("user", user, "postamt", valid_nonempty, RESTART),
	I("workers", workers, "0", 0, 256, RESTART),
	I("pool_threads", pool_threads, "4", 1, 256, RESTART),
	I("pool_threads_messages", pool_threads_messages, "16", 1, 1024, RESTART),
	S("log.level", log_level, "info", valid_log_level, RELOAD),
	S("store.backend", store_backend, "sqlite", valid_store_backend, RESTART),
	S("store.postgresql", store_postgresql, "", NULL, RESTART),
	Z("limits.line_length", line_max, "8K", 512, 1024 * 1024, RELOAD),
	Z("limits.imap_command", imap_command_max, "64K", 1024, 64 * 1024 * 1024, RELOAD),
	Z("limits.message_size", message_max, "50M", 1024, (int64_t)4 * 1024 * 1024 * 1024, RESTART),
	Z("limits.message_memory", message_memory, "1G", 1024 * 1024, INT64_MAX, RELOAD),
	Z("limits.disk_reserve", disk_reserve, "256M", 0, INT64_MAX, RELOAD),
	Z("limits.disk_reserve_file", disk_reserve_file, "8M", 0, (int64_t)1024 * 1024 * 1024, RESTART),
	Z("limits.message_memory_per_ip", message_memory_per_ip, "256M", 1024 * 1024, INT64_MAX, RELOAD),
	Z("limits.jmap_response", jmap_response_max, "64M", 1024 * 1024, INT64_MAX, RELOAD),
	Z("search.index_text_max", index_text_max, "4M", 0, (int64_t)1024 * 1024 * 1024, RESTART),
	I("limits.recipients", recipients_max, "500", 1, 100000, RELOAD),
	I("limits.webmail_identities", webmail_identities, "50", 1, 1000, RELOAD),
	I("limits.webmail_contacts", webmail_contacts, "5000", 1, 1000000, RELOAD),
	I("limits.connections_per_ip", conns_per_ip, "50", 1, 1000000, RELOAD),
	I("limits.connections", conns_total, "10000", 1, 10000000, RELOAD),
	I("limits.imap_connections_per_user_ip", imap_conns_per_user_ip, "20", 1, 1000000, RELOAD),
	I("limits.auth_failures_per_minute", auth_failures_per_min, "10", 1, 1000000, RELOAD),
	I("limits.auth_failures_per_account", auth_failures_per_account, "20", 1, 64, RELOAD),
	I("limits.auth_in_flight_per_ip", auth_in_flight_per_ip, "4", 1, 1000, RELOAD),
	I("limits.errors_per_session", errors_per_session, "20", 1, 1000000, RELOAD),
	I("limits.commands_per_session", commands_per_session, "1000000", 1, INT64_MAX, RELOAD),
	I("limits.imap_search_updates", imap_search_updates, "8", 0, 1000, RELOAD),
	I("limits.send_per_hour", send_per_hour, "1000", 0, 100000000, RELOAD),
	I("limits.recipients_per_hour", recipients_per_hour, "5000", 0, 100000000, RELOAD),
	T("auth.cache_ttl", auth_cache_ttl, "3600", 0, 7 * 86400, RELOAD),
	I("auth.scram_iterations", auth_scram_iterations, "10000", 4096, 10000000, RELOAD),
	/* SPF processing limits (RFC 7208 §4.6.4; struct spf_limits, src/mailauth/spf.h) */
	I("spf.max_dns_lookups", spf_max_dns_lookups, "10", 1, 100, RELOAD),
	I("spf.max_void_lookups", spf_max_void_lookups, "2", 0, 100, RELOAD),
	I("spf.max_mx_names", spf_max_mx_names, "10", 1, 100, RELOAD),
	I("spf.max_ptr_names", spf_max_ptr_names, "10", 1, 100, RELOAD),
	Z("quota.default", default_quota, "0", 0, INT64_MAX, RESTART),
	T("timeout.smtp", timeout_smtp, "300", 1, 86400, RELOAD),
	T("timeout.pop3", timeout_pop3, "600", 1, 86400, RELOAD),
	T("timeout.imap", timeout_imap, "1800", 1, 86400, RELOAD),
	T("timeout.imap_login", timeout_imap_login, "60", 1, 86400, RELOAD),
	T("timeout.http", timeout_http, "60", 1, 86400, RELOAD),
	T("timeout.tls_handshake", timeout_tls_handshake, "30", 1, 3600, RELOAD),
	T("timeout.shutdown", shutdown_grace, "10", 0, 3600, RELOAD),
	T("queue.retry_initial", queue_retry_initial, "300", 1, 86400, RESTART),
	T("queue.retry_max", queue_retry_max, "14400", 1, 7 * 86400, RESTART),
	T("queue.lifetime", queue_lifetime, "432000", 1, 60 * 86400, RESTART),
	I("queue.concurrency_per_destination", queue_conc_per_dest, "4", 1, 1000, RESTART),
	I("queue.concurrency", queue_conc, "20", 1, 10000, RESTART),
	T("queue.timeout_connect", queue_timeout_connect, "30", 1, 3600, RESTART),
	T("queue.timeout_command", queue_timeout_command, "300", 1, 3600, RESTART),
	T("queue.timeout_data_init", queue_timeout_data_init, "120", 1, 3600, RESTART),
	T("queue.timeout_data_block", queue_timeout_data_block, "180", 1, 3600, RESTART),
	T("queue.timeout_data_end", queue_timeout_data_end, "600", 1, 3600, RESTART),
	B("queue.starttls", queue_starttls, "yes", RESTART),
	T("queue.lease", queue_lease, "60", 2, 3600, RESTART),
	B("smtp.quota_full_temporary", smtp_quota_full_temporary, "yes", RELOAD),
	S("dns.server", dns_server, "", valid_dns_server, RESTART),
	S("queue.dns_server", dns_server, "", valid_dns_server, RESTART), /* the old name of dns.server */
	M("dns.timeout", dns_timeout_ms, "5s", 10, 300000, RESTART),
	I("dns.cache_entries", dns_cache_entries, "4096", 0, 10000000, RESTART),
	I("queue.smtp_port", queue_smtp_port, "25", 1, 65535, RESTART),
	S("mailauth.inbound", mailauth_inbound, "enforce", valid_mailauth_mode, RELOAD),
	T("mailauth.timeout", mailauth_timeout, "15", 1, 600, RELOAD),
	S("mta_sts.mode", mta_sts_mode, "testing", valid_mta_sts_mode, RELOAD),
	T("mta_sts.max_age", mta_sts_max_age, "604800", 86400, 31557600, RELOAD),

	I("dkim.max_signatures", dkim_max_signatures, "8", 1, 64, RELOAD),
	T("dkim.clock_skew", dkim_clock_skew, "300", 1, 86400, RELOAD),
	T("dkim.publish_delay", dkim_publish_delay, "172800", 0, 90 * 86400, RELOAD),

	/* spam defence: DNS blocklists and rspamd (src/spam, docs/spam.md) */
	S("spam.dnsbl", spam_dnsbl, "", valid_dnsbl, RELOAD),
	S("spam.rspamd", spam_rspamd, "", valid_rspamd_url, RELOAD),
	M("spam.rspamd_timeout", spam_rspamd_timeout_ms, "10s", 100, 300000, RELOAD),
	S("spam.rspamd_fail", spam_rspamd_fail, "accept", valid_rspamd_fail, RELOAD),
	Z("spam.rspamd_response_max", spam_rspamd_response_max, "1M", 1024, 64 * 1024 * 1024, RELOAD),
	/* the junk filter (src/spam/junk.h, docs/spam.md "The junk filter") */
	I("spam.junk_threshold", junk_threshold, "95", 50, 100, RELOAD),
	I("spam.junk_min_trained", junk_min_trained, "20", 1, 100000, RELOAD),
	I("spam.junk_max_tokens", junk_max_tokens, "1000", 10, 100000, RELOAD),
	Z("spam.junk_max_bytes", junk_max_bytes, "256k", 1024, 64 * 1024 * 1024, RELOAD),
	I("spam.junk_significant", junk_significant, "150", 1, 10000, RELOAD),
	I("spam.junk_reputation", junk_reputation, "2", 0, 100000, RELOAD),
	/* training: the learner's batches (src/spam/junk_learner.h, docs/spam.md "Training the filter") */
	I("spam.learn_batch", learn_batch, "200", 1, 100000, RELOAD),
	/* certificates by ACME (src/acme, docs/tls.md) */
	S("acme.directory", acme_directory, "", valid_acme_directory, RESTART),
	S("acme.email", acme_email, "", NULL, RESTART),
	S("acme.names", acme_names, "", valid_acme_names, RESTART),
	S("acme.ca_file", acme_ca_file, "", NULL, RESTART),
	S("acme.challenge", acme_challenge, "any", valid_acme_challenge, RESTART),
	S("acme.key_type", acme_key_type, "ecdsa", valid_acme_key_type, RESTART),
	T("acme.timeout", acme_timeout, "30", 1, 600, RESTART),
	Z("acme.response_max", acme_response_max, "1M", 16 * 1024, 64 * 1024 * 1024, RESTART),
	T("acme.retry_initial", acme_retry_initial, "60", 1, 86400, RESTART),
	T("acme.retry_max", acme_retry_max, "86400", 1, 7 * 86400, RESTART),
	I("acme.poll_max", acme_poll_max, "60", 1, 10000, RESTART),
	/* Sieve: ManageSieve, delivery, vacation (src/sieved, docs/sieve.md) */
	I("sieve.max_scripts", sieve_max_scripts, "20", 0, 100000, RELOAD),
	Z("sieve.max_script_size", sieve_max_script_size, "256K", 1024, 16 * 1024 * 1024, RELOAD),
	I("sieve.max_redirects", sieve_max_redirects, "4", 0, 64, RELOAD),
	I("sieve.max_actions", sieve_max_actions, "32", 1, 1024, RELOAD),
	I("sieve.max_cpu_steps", sieve_max_cpu_steps, "5000000", 1000, INT64_MAX, RELOAD),
	/* the evaluator recurses over nesting: its bound keeps the stack small */
	I("sieve.max_nesting", sieve_max_nesting, "32", 1, 256, RELOAD),
	Z("sieve.max_regex_size", sieve_max_regex_size, "512", 16, 64 * 1024, RELOAD),
	I("sieve.max_regexes", sieve_max_regexes, "64", 1, 4096, RELOAD),
	Z("sieve.max_variable_size", sieve_max_variable_size, "4K", 64, 1024 * 1024, RELOAD),
	I("sieve.max_variables", sieve_max_variables, "256", 1, 65536, RELOAD),
	I("sieve.max_include_depth", sieve_max_include_depth, "5", 0, 64, RELOAD),
	I("sieve.max_includes", sieve_max_includes, "16", 0, 1024, RELOAD),
	Z("sieve.max_body_size", sieve_max_body_size, "1M", 1024, 64 * 1024 * 1024, RELOAD),
	Z("sieve.max_memory", sieve_max_memory, "64M", 1024 * 1024, 4LL * 1024 * 1024 * 1024, RELOAD),
	T("sieve.vacation_min_period", sieve_vacation_min_period, "86400", 0, 365 * 86400, RELOAD),
	T("sieve.vacation_max_period", sieve_vacation_max_period, "7776000", 0, 3650 * 86400, RELOAD),
	T("sieve.vacation_default_period", sieve_vacation_default_period, "604800", 0, 365 * 86400, RELOAD),
	S("sieve.subaddress_delimiter", subaddress_delimiter, "+", valid_delimiter, RELOAD),
	S("sieve.srs_key", sieve_srs_key, "srs.key", valid_nonempty, RESTART),
	T("timeout.sieve", timeout_sieve, "600", 1, 86400, RELOAD),
	/* administration: /metrics, the admin pages, alerts (docs/admin.md) */
	S("metrics.token", metrics_token, "", NULL, RELOAD),
	I("admin.recent_events", admin_recent_events, "1000", 0, 1000000, RESTART),
	S("alert.webhook", alert_webhook, "", valid_webhook, RESTART),
	T("alert.interval", alert_interval, "300", 1, 86400, RESTART),
	T("alert.repeat", alert_repeat, "21600", 60, 30 * 86400, RESTART),
	T("alert.queue_age", alert_queue_age, "3600", 60, 30 * 86400, RESTART),
	I("alert.cert_days", alert_cert_days, "14", 1, 365, RESTART),
	I("alert.disk_percent", alert_disk_percent, "90", 1, 100, RESTART),
	B("alert.dns", alert_dns, "yes", RESTART),
	/* `postamt import imap://...`: what a foreign IMAP server may send (docs/import.md) */
	Z("import.line_max", import_line_max, "1M", 1024, 64 * 1024 * 1024, RELOAD),
	T("import.timeout", import_timeout, "60", 1, 3600, RELOAD),
	I("import.batch", import_batch, "100", 1, 10000, RELOAD),
};

static const struct key *key_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i].name) == len && strncmp(keys[i].name, name, len) == 0)
			return &keys[i];
	}
	return NULL;
}

/* Sets one key from text; returns 1, or -1 with a static message in *error_r. */
static int key_set(struct config *cfg, const struct key *k, const char *value, const char **error_r)
{
	void *field = (char *)cfg + k->offset;
	uint64_t v = 0;
	switch (k->type) {
	case KEY_STRING: {
		char **s = field;
		if (k->valid != NULL && (*error_r = k->valid(value)) != NULL)
			return -1;
		free(*s);
		*s = xstrdup(value);
		return 1;
	}
	case KEY_MS: {
		size_t n = strlen(value), scale = 1000;
		if (n > 2 && strcmp(value + n - 2, "ms") == 0) {
			n -= 2;
			scale = 1;
		} else if (n > 1 && value[n - 1] == 's') {
			n--;
		}
		if (buf_parse_uint64((struct bytes){ value, n }, INT64_MAX / 1000, &v) < 0) {
			*error_r = "expected a duration (5s, 1500ms)";
			return -1;
		}
		v *= scale;
		break;
	}
	case KEY_INT:
	case KEY_SECONDS:
		if (buf_parse_uint64((struct bytes){ value, strlen(value) }, INT64_MAX, &v) < 0) {
			*error_r = "expected a whole number";
			return -1;
		}
		break;
	case KEY_BOOL:
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "on") == 0)
			*(bool *)field = true;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 || strcmp(value, "off") == 0)
			*(bool *)field = false;
		else {
			*error_r = "expected yes or no";
			return -1;
		}
		return 1;
	case KEY_SIZE:
		if (buf_parse_size(value, &v, error_r) < 0)
			return -1;
		if (v > INT64_MAX) {
			*error_r = "size too large";
			return -1;
		}
		break;
	}
	if ((int64_t)v < k->min || (int64_t)v > k->max) {
		*error_r = "value out of range";
		return -1;
	}
	*(int64_t *)field = (int64_t)v;
	return 1;
}

struct config *config_defaults(const char *data_dir)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	cfg->data_dir = xstrdup(data_dir);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *error;
		int r = key_set(cfg, &keys[i], keys[i].def, &error);
		assert(r > 0); /* a default outside its own bounds is a bug in the table */
		(void)r;
	}
	return cfg;
}

void config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].type == KEY_STRING) {
			char **sp = (char **)((char *)cfg + keys[i].offset);
			free(*sp);
			*sp = NULL; /* an old name shares its field with the new one */
		}
	}
	for (size_t i = 0; i < cfg->nroutes; i++) {
		free(cfg->routes[i].domain);
		free(cfg->routes[i].host);
	}
	free(cfg->routes);
	for (size_t i = 0; i < cfg->nroute_opts; i++) {
		struct config_route_opt *o = &cfg->route_opts[i];
		free(o->domain);
		free(o->user);
		if (o->password != NULL)
			explicit_bzero(o->password, strlen(o->password));
		free(o->password);
	}
	free(cfg->route_opts);
	free(cfg->data_dir);
	free(cfg);
	*cfgp = NULL;
}

static bool is_key_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-' || c == '*';
}

int config_parse(struct config *cfg, const char *name, const char *text, size_t len, char **error_r)
{
	size_t lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		lineno++;
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t linelen = nl ? (size_t)(nl - line) : len - pos;
		pos += linelen + (nl ? 1 : 0);
		struct bytes l = { line, linelen };
		if (l.len > 0 && l.p[l.len - 1] == '\r')
			l.len--;
		if (memchr(l.p, '\0', l.len) != NULL) {
			*error_r = xasprintf("%s:%zu: NUL byte in line", name, lineno);
			return -1;
		}
		l = bytes_trim(l);
		if (l.len == 0 || l.p[0] == '#')
			continue;
		const char *eq = memchr(l.p, '=', l.len);
		if (eq == NULL) {
			*error_r = xasprintf("%s:%zu: expected 'key = value'", name, lineno);
			return -1;
		}
		struct bytes k = bytes_trim((struct bytes){ l.p, (size_t)(eq - l.p) });
		struct bytes v = { eq + 1, l.len - (size_t)(eq - l.p) - 1 };
		/* a '#' after white space starts a comment */
		for (size_t i = 1; i < v.len; i++) {
			if (v.p[i] == '#' && (v.p[i - 1] == ' ' || v.p[i - 1] == '\t')) {
				v.len = i;
				break;
			}
		}
		v = bytes_trim(v);
		bool key_ok = k.len > 0 && k.len < 300;
		for (size_t i = 0; i < k.len && key_ok; i++)
			key_ok = is_key_char(k.p[i]);
		if (!key_ok) {
			*error_r = xasprintf("%s:%zu: invalid key", name, lineno);
			return -1;
		}
		char *value = xstrndup(v.p, v.len);
		const char *error = NULL;
		int r;
		const struct key *key = key_find(k.p, k.len);
		if (key != NULL)
			r = key_set(cfg, key, value, &error);
		else if (bytes_iprefix(k, "route.") && k.len > 6)
			r = config_route_set(cfg, k.p + 6, k.len - 6, value, &error);
		else if (bytes_iprefix(k, "route_auth.") && k.len > 11)
			r = config_route_opt_set(cfg, true, k.p + 11, k.len - 11, value, &error);
		else if (bytes_iprefix(k, "route_tls.") && k.len > 10)
			r = config_route_opt_set(cfg, false, k.p + 10, k.len - 10, value, &error);
		else {
			r = -1;
			error = "unknown key";
		}
		explicit_bzero(value, strlen(value)); /* it may be a password */
		free(value);
		if (r < 0) {
			*error_r = xasprintf("%s:%zu: %.*s: %s", name, lineno, (int)k.len, k.p, error);
			return -1;
		}
	}
	return 1;
}

static char *resolve_path(const char *dir, const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", dir, path);
}

int config_load(const char *data_dir, const char *path, struct config **cfg_r, char **error_r)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	struct buf text = { 0 };
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf_append(&text, chunk, n);
		if (text.len > 1024 * 1024) {
			fclose(f);
			buf_free(&text);
			*error_r = xasprintf("%s: file too large", path);
			return -1;
		}
	}
	bool failed = ferror(f);
	fclose(f);
	if (failed) {
		buf_free(&text);
		*error_r = xasprintf("%s: read error", path);
		return -1;
	}
	struct config *cfg = config_defaults(data_dir);
	int r = config_parse(cfg, path, buf_str(&text), text.len, error_r);
	buf_free(&text);
	if (r < 0) {
		config_free(&cfg);
		return -1;
	}
	char *p = resolve_path(data_dir, cfg->tls_cert);
	free(cfg->tls_cert);
	cfg->tls_cert = p;
	p = resolve_path(data_dir, cfg->tls_key);
	free(cfg->tls_key);
	cfg->tls_key = p;
	*cfg_r = cfg;
	return 1;
}

static void problem(struct buf *out, int *count, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(struct buf *out, int *count, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(out, fmt, ap);
	va_end(ap);
	buf_putc(out, '\n');
	(*count)++;
}

int config_check(const struct config *cfg, bool check_files, char **problems_r)
{
	struct buf out = { 0 };
	int count = 0;
	static const int ports[] = { PORT_SMTP, PORT_SUBMISSIONS, PORT_SUBMISSION, PORT_POP3, PORT_POP3S,
				     PORT_IMAP, PORT_IMAPS, PORT_HTTP, PORT_HTTPS, PORT_SIEVE };
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		if (config_port(cfg, ports[i]) > 65535)
			problem(&out, &count, "port_offset %" PRId64 " puts port %d beyond 65535", cfg->port_offset,
				ports[i]);
	}
	for (size_t i = 0; i < cfg->nroute_opts; i++) {
		const struct config_route_opt *o = &cfg->route_opts[i];
		/* DOMAIN's own route, or route.* (the option then applies to DOMAIN's mail there) */
		if (strcmp(o->domain, "*") != 0 && config_route_for(cfg, o->domain) == NULL)
			problem(&out, &count, "%s.%s has neither route.%s nor route.* (a login and TLS mode belong to a route)",
				o->has_auth ? "route_auth" : "route_tls", o->domain, o->domain);
	}
	if (strcmp(cfg->store_backend, "postgresql") == 0 && cfg->store_postgresql[0] == '\0')
		problem(&out, &count, "store.backend = postgresql needs store.postgresql (a libpq connection string)");
	if (check_files) {
		struct stat st;
		if (stat(cfg->tls_cert, &st) < 0)
			problem(&out, &count, "tls.cert %s: %s", cfg->tls_cert, strerror(errno));
		if (stat(cfg->tls_key, &st) < 0)
			problem(&out, &count, "tls.key %s: %s", cfg->tls_key, strerror(errno));
		else if ((st.st_mode & 077) != 0)
			problem(&out, &count, "tls.key %s is readable by group or others (chmod 600)", cfg->tls_key);
	}
	*problems_r = count ? xstrdup(buf_str(&out)) : NULL;
	buf_free(&out);
	return count;
}

/* True for a key that is the old name of an earlier one (the same field). */
static bool key_is_old_name(const struct key *k)
{
	for (const struct key *e = keys; e < k; e++)
		if (e->offset == k->offset)
			return true;
	return false;
}

static bool key_equal(const struct config *a, const struct config *b, const struct key *k)
{
	const char *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;
	switch (k->type) {
	case KEY_STRING: return strcmp(*(char *const *)fa, *(char *const *)fb) == 0;
	case KEY_BOOL: return *(const bool *)fa == *(const bool *)fb;
	case KEY_INT:
	case KEY_SIZE:
	case KEY_SECONDS:
	case KEY_MS: return *(const int64_t *)fa == *(const int64_t *)fb;
	}
	return false;
}

size_t config_diff(const struct config *a, const struct config *b, const char **names, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (key_equal(a, b, &keys[i]) || key_is_old_name(&keys[i]))
			continue;
		if (n < max)
			names[n] = keys[i].name;
		n++;
	}
	bool routes_same = a->nroutes == b->nroutes;
	for (size_t i = 0; routes_same && i < a->nroutes; i++)
		routes_same = strcmp(a->routes[i].domain, b->routes[i].domain) == 0 &&
			      strcmp(a->routes[i].host, b->routes[i].host) == 0 && a->routes[i].port == b->routes[i].port;
	routes_same = routes_same && a->nroute_opts == b->nroute_opts;
	for (size_t i = 0; routes_same && i < a->nroute_opts; i++) {
		const struct config_route_opt *x = &a->route_opts[i], *y = &b->route_opts[i];
		routes_same = strcmp(x->domain, y->domain) == 0 && x->has_auth == y->has_auth && x->tls == y->tls &&
			      (x->user == NULL) == (y->user == NULL) &&
			      (x->user == NULL || strcmp(x->user, y->user) == 0) &&
			      (x->password == NULL || strcmp(x->password, y->password) == 0);
	}
	if (!routes_same) {
		if (n < max)
			names[n] = "route.*";
		n++;
	}
	return n;
}

bool config_key_reloadable(const char *name)
{
	if (strcmp(name, "route.*") == 0)
		return true;
	const struct key *k = key_find(name, strlen(name));
	return k != NULL && k->reload;
}

int config_copy_key(struct config *dst, const struct config *src, const char *name)
{
	const struct key *k = key_find(name, strlen(name));
	if (k == NULL)
		return -1;
	char *fd = (char *)dst + k->offset;
	const char *fs = (const char *)src + k->offset;
	switch (k->type) {
	case KEY_STRING:
		free(*(char **)fd);
		*(char **)fd = xstrdup(*(char *const *)fs);
		break;
	case KEY_BOOL: *(bool *)fd = *(const bool *)fs; break;
	case KEY_INT:
	case KEY_SIZE:
	case KEY_SECONDS:
	case KEY_MS: *(int64_t *)fd = *(const int64_t *)fs; break;
	}
	return 1;
}

int config_port(const struct config *cfg, int standard_port)
{
	return standard_port + (int)cfg->port_offset;
}
