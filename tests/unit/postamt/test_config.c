/* test_config.c: the postamt.conf parser: defaults, every value type, routes and
 * their login and TLS options, errors with file and line (never the password), and
 * the semantic checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse(struct config *cfg, const char *text, char **err)
{
	*err = NULL;
	return config_parse(cfg, "test.conf", text, strlen(text), err);
}

static void test_defaults(void **state)
{
	struct config *cfg = config_defaults("/data");
	assert_string_equal(cfg->data_dir, "/data");
	assert_string_equal(cfg->hostname, "localhost");
	assert_string_equal(cfg->bind, "");
	assert_int_equal(cfg->port_offset, 0);
	assert_int_equal(cfg->line_max, 8192);
	assert_int_equal(cfg->imap_command_max, 65536);
	assert_int_equal(cfg->message_max, 50 * 1024 * 1024);
	assert_int_equal(cfg->recipients_max, 500);
	assert_int_equal(cfg->conns_per_ip, 50);
	assert_int_equal(cfg->imap_conns_per_user_ip, 20);
	assert_int_equal(cfg->auth_failures_per_min, 10);
	assert_int_equal(cfg->auth_failures_per_account, 20);
	assert_int_equal(cfg->auth_in_flight_per_ip, 4);
	assert_int_equal(cfg->auth_cache_ttl, 3600);
	assert_int_equal(cfg->errors_per_session, 20);
	assert_int_equal(cfg->message_memory, 1024LL * 1024 * 1024);
	assert_int_equal(cfg->commands_per_session, 1000000);
	assert_int_equal(cfg->timeout_smtp, 300);
	assert_int_equal(cfg->timeout_pop3, 600);
	assert_int_equal(cfg->timeout_imap, 1800);
	assert_int_equal(cfg->timeout_imap_login, 60);
	assert_int_equal(cfg->shutdown_grace, 10);
	assert_int_equal(config_port(cfg, PORT_IMAPS), 993);
	config_free(&cfg);
	assert_null(cfg);
}

static void test_values(void **state)
{
	struct config *cfg = config_defaults("/data");
	char *err;
	const char *text = "# comment\n"
			   "  hostname = mail.example.org  \r\n"
			   "\n"
			   "bind=127.0.0.1\n"
			   "port_offset = 10000\n"
			   "limits.message_size = 20M\n"
			   "limits.line_length = 4K\n"
			   "timeout.smtp = 60   # one minute\n"
			   "route.Example.COM = [2001:db8::1]:2525\n"
			   "route.* = smarthost.example.net:587\n"
			   "route.example.com = 192.0.2.7:25\n";
	assert_int_equal(parse(cfg, text, &err), 1);
	assert_string_equal(cfg->hostname, "mail.example.org");
	assert_string_equal(cfg->bind, "127.0.0.1");
	assert_int_equal(cfg->port_offset, 10000);
	assert_int_equal(config_port(cfg, PORT_SMTP), 10025);
	assert_int_equal(cfg->message_max, 20 * 1024 * 1024);
	assert_int_equal(cfg->line_max, 4096);
	assert_int_equal(cfg->timeout_smtp, 60);
	assert_int_equal(cfg->nroutes, 2); /* the second example.com replaced the first */
	const struct config_route *r = config_route_for(cfg, "EXAMPLE.com");
	assert_non_null(r);
	assert_string_equal(r->host, "192.0.2.7");
	assert_int_equal(r->port, 25);
	r = config_route_for(cfg, "other.org");
	assert_non_null(r);
	assert_string_equal(r->domain, "*");
	assert_string_equal(r->host, "smarthost.example.net");
	assert_int_equal(r->port, 587);
	config_free(&cfg);
}

static void expect_error(const char *text, const char *want)
{
	struct config *cfg = config_defaults("/data");
	char *err;
	assert_int_equal(parse(cfg, text, &err), -1);
	assert_non_null(err);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, want);
	free(err);
	config_free(&cfg);
}

static void test_errors(void **state)
{
	expect_error("hostname = a\nfrobnicate = 1\n", "test.conf:2: frobnicate: unknown key");
	expect_error("\n\n\njust words\n", "test.conf:4: expected 'key = value'");
	expect_error("port_offset = ten\n", "test.conf:1: port_offset: expected a whole number");
	expect_error("port_offset = 70000\n", "port_offset: value out of range");
	expect_error("port_offset = -1\n", "port_offset: expected a whole number");
	expect_error("limits.message_size = 5X\n", "limits.message_size: invalid size");
	expect_error("limits.line_length = 10\n", "limits.line_length: value out of range");
	expect_error("route.example.com = nohost\n", "route value must be HOST:PORT");
	expect_error("route.example.com = host:0\n", "route value must be HOST:PORT");
	expect_error("route.example.com = host:99999\n", "route value must be HOST:PORT");
	expect_error("route.-bad- = host:25\n", "invalid domain in route key");
	expect_error("route. = host:25\n", "unknown key");
	expect_error("bad key = 1\n", "invalid key");
	expect_error("bind = \nlog.level = loud\n", "test.conf:2: log.level: expected debug, info, warn or error");
	expect_error("hostname = -x\n", "test.conf:1: hostname: not a valid host name");
	expect_error("user =\n", "test.conf:1: user: must not be empty");
	expect_error(" = 1\n", "invalid key");
	/* a NUL inside the text passed with its length */
	struct config *cfg = config_defaults("/data");
	char *err;
	assert_int_equal(config_parse(cfg, "x.conf", "hostname = a\0b\n", 15, &err), -1);
	assert_non_null(strstr(err, "x.conf:1: NUL byte"));
	free(err);
	config_free(&cfg);
}

/* The DKIM verification limits: defaults, a value, the range. */
static void test_dkim_keys(void **state)
{
	(void)state;
	struct config *cfg = config_defaults("/data");
	assert_int_equal(cfg->dkim_max_signatures, 8);
	assert_int_equal(cfg->dkim_clock_skew, 300);
	char *err;
	assert_int_equal(parse(cfg, "dkim.max_signatures = 3\ndkim.clock_skew = 60\n", &err), 1);
	assert_int_equal(cfg->dkim_max_signatures, 3);
	assert_int_equal(cfg->dkim_clock_skew, 60);
	config_free(&cfg);
	expect_error("dkim.max_signatures = 65\n", "dkim.max_signatures");
	expect_error("dkim.max_signatures = 0\n", "dkim.max_signatures");
}

static void test_mailauth_keys(void **state)
{
	(void)state;
	struct config *cfg = config_defaults("/data");
	assert_string_equal(cfg->mailauth_inbound, "enforce");
	assert_int_equal(cfg->mailauth_timeout, 15);
	char *err;
	assert_int_equal(parse(cfg, "mailauth.inbound = report\nmailauth.timeout = 4\n", &err), 1);
	assert_string_equal(cfg->mailauth_inbound, "report");
	assert_int_equal(cfg->mailauth_timeout, 4);
	assert_int_equal(parse(cfg, "mailauth.inbound = off\n", &err), 1);
	assert_true(config_key_reloadable("mailauth.inbound") && config_key_reloadable("mailauth.timeout"));
	config_free(&cfg);
	expect_error("mailauth.inbound = reject\n", "mailauth.inbound");
	expect_error("mailauth.inbound = Enforce\n", "mailauth.inbound");
	expect_error("mailauth.timeout = 0\n", "mailauth.timeout");
	expect_error("mailauth.timeout = 601\n", "mailauth.timeout");
}

static void test_spam_keys(void **state)
{
	(void)state;
	struct config *cfg = config_defaults("/data");
	assert_string_equal(cfg->spam_dnsbl, "");
	assert_string_equal(cfg->spam_rspamd, "");
	assert_int_equal(cfg->spam_rspamd_timeout_ms, 10000);
	assert_string_equal(cfg->spam_rspamd_fail, "accept");
	assert_int_equal(cfg->spam_rspamd_response_max, 1024 * 1024);
	char *err;
	assert_int_equal(
		parse(cfg,
		      "spam.dnsbl = zen.spamhaus.org, bl.test=2.5\nspam.rspamd = http://127.0.0.1:11333\n"
		      "spam.rspamd_timeout = 1500ms\nspam.rspamd_fail = tempfail\nspam.rspamd_response_max = 64K\n",
		      &err),
		1);
	assert_string_equal(cfg->spam_dnsbl, "zen.spamhaus.org, bl.test=2.5");
	assert_string_equal(cfg->spam_rspamd, "http://127.0.0.1:11333");
	assert_int_equal(cfg->spam_rspamd_timeout_ms, 1500);
	assert_string_equal(cfg->spam_rspamd_fail, "tempfail");
	assert_int_equal(cfg->spam_rspamd_response_max, 64 * 1024);
	/* every spam.* key applies at SIGHUP (docs/configuration.md) */
	static const char *const spam_keys[] = { "spam.dnsbl",
						 "spam.rspamd",
						 "spam.rspamd_timeout",
						 "spam.rspamd_fail",
						 "spam.rspamd_response_max",
						 "spam.junk_threshold",
						 "spam.junk_min_trained",
						 "spam.junk_max_tokens",
						 "spam.junk_max_bytes",
						 "spam.junk_significant",
						 "spam.junk_reputation",
						 "spam.learn_batch" };
	for (size_t i = 0; i < sizeof(spam_keys) / sizeof(spam_keys[0]); i++)
		assert_true(config_key_reloadable(spam_keys[i]));
	assert_int_equal(cfg->junk_reputation, 2);
	config_free(&cfg);
	expect_error("spam.dnsbl = bl..test\n", "spam.dnsbl");
	expect_error("spam.dnsbl = bl.test=0\n", "spam.dnsbl");
	expect_error("spam.rspamd = https://127.0.0.1:11333\n", "spam.rspamd");
	expect_error("spam.rspamd = http://127.0.0.1:11333/checkv2\n", "spam.rspamd");
	expect_error("spam.rspamd_fail = reject\n", "spam.rspamd_fail");
	expect_error("spam.rspamd_timeout = 50ms\n", "spam.rspamd_timeout");
	expect_error("spam.rspamd_response_max = 100\n", "spam.rspamd_response_max");
	expect_error("spam.junk_reputation = -1\n", "spam.junk_reputation");
	expect_error("sieve.subaddress_delimiter = a@\n", "sieve.subaddress_delimiter");
	expect_error("sieve.subaddress_delimiter = +-_=.\n", "sieve.subaddress_delimiter");
	expect_error("sieve.max_script_size = 100\n", "sieve.max_script_size");
	expect_error("sieve.max_redirects = 65\n", "sieve.max_redirects");
	expect_error("sieve.srs_key =\n", "sieve.srs_key");
}

static void test_check(void **state)
{
	struct config *cfg = config_defaults("/nonexistent");
	char *err, *problems;
	assert_int_equal(parse(cfg, "port_offset = 65000\n", &err), 1);
	int n = config_check(cfg, false, &problems);
	assert_int_equal(n, 4); /* 587, 993, 995 and ManageSieve's 4190 pass 65535 */
	assert_non_null(strstr(problems, "port 587 beyond 65535"));
	assert_non_null(strstr(problems, "port 4190 beyond 65535"));
	free(problems);
	config_free(&cfg);
	cfg = config_defaults("/nonexistent");
	assert_int_equal(config_check(cfg, false, &problems), 0);
	assert_null(problems);
	config_free(&cfg);
}

static void test_load(void **state)
{
	char dir[] = "/tmp/postamt-test-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/postamt.conf", dir);
	FILE *f = fopen(path, "w");
	fputs("tls.cert = certs/c.pem\ntls.key = /abs/k.pem\n", f);
	fclose(f);
	struct config *cfg;
	char *err;
	assert_int_equal(config_load(dir, path, &cfg, &err), 1);
	char want[160];
	snprintf(want, sizeof(want), "%s/certs/c.pem", dir);
	assert_string_equal(cfg->tls_cert, want);
	assert_string_equal(cfg->tls_key, "/abs/k.pem");
	config_free(&cfg);
	unlink(path);
	assert_int_equal(config_load(dir, path, &cfg, &err), -1);
	assert_non_null(strstr(err, "No such file"));
	free(err);
	rmdir(dir);
}

/* config_diff names every changed key of each type and route.*; config_copy_key
 * copies one back (SIGHUP keeps the running value of keys that need a restart). */
static void test_diff(void **state)
{
	struct config *a = config_defaults("/data"), *b = config_defaults("/data");
	const char *names[8];
	assert_int_equal(config_diff(a, b, names, 8), 0);
	char *err;
	assert_int_equal(parse(b,
			       "port_offset = 5\nbind = ::1\nqueue.starttls = no\n"
			       "limits.message_size = 2M\nroute.x.test = 127.0.0.1:2525\n",
			       &err),
			 1);
	assert_int_equal(config_diff(a, b, names, 8), 5);
	assert_string_equal(names[0], "bind");
	assert_string_equal(names[1], "port_offset");
	assert_string_equal(names[2], "limits.message_size");
	assert_string_equal(names[3], "queue.starttls");
	assert_string_equal(names[4], "route.*");
	assert_int_equal(config_diff(a, b, names, 2), 5); /* counts past max */
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(config_copy_key(b, a,
						 i == 0   ? "bind"
						 : i == 1 ? "port_offset"
						 : i == 2 ? "limits.message_size"
							  : "queue.starttls"),
				 1);
	assert_int_equal(config_copy_key(b, a, "route.*"), -1);
	assert_int_equal(config_copy_key(b, a, "no.such.key"), -1);
	assert_int_equal(config_diff(a, b, names, 8), 1);
	assert_string_equal(names[0], "route.*");
	assert_string_equal(b->bind, "");
	assert_int_equal(b->port_offset, 0);
	/* a different route to the same domain is a change too */
	assert_int_equal(parse(a, "route.x.test = 127.0.0.1:2526\n", &err), 1);
	assert_int_equal(config_diff(a, b, names, 8), 1);
	/* the table says which keys a SIGHUP applies */
	assert_true(config_key_reloadable("route.*"));
	assert_true(config_key_reloadable("limits.message_memory"));
	assert_false(config_key_reloadable("port_offset"));
	assert_false(config_key_reloadable("limits.message_size"));
	assert_false(config_key_reloadable("no.such.key"));
	config_free(&a);
	config_free(&b);
}

/* The SPF limits of RFC 7208 §4.6.4: the RFC's values by default, settable in range. */
static void test_spf_keys(void **state)
{
	(void)state;
	struct config *cfg = config_defaults("/data");
	char *err;
	assert_int_equal(cfg->spf_max_dns_lookups, 10);
	assert_int_equal(cfg->spf_max_void_lookups, 2);
	assert_int_equal(cfg->spf_max_mx_names, 10);
	assert_int_equal(cfg->spf_max_ptr_names, 10);
	assert_int_equal(parse(cfg,
			       "spf.max_dns_lookups = 20\nspf.max_void_lookups = 0\nspf.max_mx_names = 5\n"
			       "spf.max_ptr_names = 3\n",
			       &err),
			 1);
	assert_int_equal(cfg->spf_max_dns_lookups, 20);
	assert_int_equal(cfg->spf_max_void_lookups, 0);
	assert_int_equal(cfg->spf_max_mx_names, 5);
	assert_int_equal(cfg->spf_max_ptr_names, 3);
	assert_true(config_key_reloadable("spf.max_dns_lookups"));
	config_free(&cfg);
	expect_error("spf.max_dns_lookups = 0\n", "spf.max_dns_lookups: value out of range");
	expect_error("spf.max_dns_lookups = 101\n", "spf.max_dns_lookups: value out of range");
	expect_error("spf.max_mx_names = 0\n", "spf.max_mx_names: value out of range");
	expect_error("spf.max_void_lookups = -1\n", "spf.max_void_lookups: expected a whole number");
}

/* dns.server with its old name, dns.timeout in seconds or milliseconds, the cache size;
 * a changed server is reported once by config_diff, under its new name. */
static void test_dns_keys(void **state)
{
	(void)state;
	struct config *cfg = config_defaults("/data");
	char *err;
	assert_string_equal(cfg->dns_server, "");
	assert_int_equal(cfg->dns_timeout_ms, 5000);
	assert_int_equal(cfg->dns_cache_entries, 4096);
	assert_int_equal(cfg->queue_smtp_port, 25);
	assert_int_equal(parse(cfg, "queue.dns_server = 127.0.0.1:5353\ndns.timeout = 1500ms\n", &err), 1);
	assert_string_equal(cfg->dns_server, "127.0.0.1:5353");
	assert_int_equal(cfg->dns_timeout_ms, 1500);
	assert_int_equal(parse(cfg, "dns.server = [::1]:53\ndns.timeout = 2\ndns.cache_entries = 0\n", &err), 1);
	assert_string_equal(cfg->dns_server, "[::1]:53");
	assert_int_equal(cfg->dns_timeout_ms, 2000);
	assert_int_equal(cfg->dns_cache_entries, 0);
	assert_int_equal(parse(cfg, "dns.timeout = 3s\n", &err), 1);
	assert_int_equal(cfg->dns_timeout_ms, 3000);
	struct config *def = config_defaults("/data");
	const char *names[8];
	assert_int_equal(config_diff(def, cfg, names, 8), 3);
	assert_string_equal(names[0], "dns.server");
	assert_string_equal(names[1], "dns.timeout");
	assert_string_equal(names[2], "dns.cache_entries");
	config_free(&def);
	config_free(&cfg); /* the two names share one string: freed once */
	expect_error("dns.server = ns.example.test:53\n", "dns.server: expected an IP address");
	expect_error("queue.dns_server = 127.0.0.1:0\n", "queue.dns_server: expected an IP address");
	expect_error("dns.timeout = 5ms\n", "dns.timeout: value out of range");
	expect_error("dns.timeout = 301s\n", "dns.timeout: value out of range");
	expect_error("dns.timeout = fast\n", "dns.timeout: expected a duration");
}

/* route_auth.DOMAIN / route_auth.* and route_tls: the login of a route falls back to
 * "*", an empty value means no login, the password may hold ':' and '#'-less text,
 * errors never repeat the value, options need a route, and a change is a route change
 * (reloadable). */
static void test_route_options(void **state)
{
	struct config *cfg = config_defaults("/data");
	char *err;
	const char *text = "route.* = smarthost.example.net:587\n"
			   "route.relay.test = 127.0.0.1:465\n"
			   "route.internal.test = 10.0.0.5:25\n"
			   "route_auth.* = me@example.org:pa:ss w=rd\n"
			   "route_auth.Relay.TEST = other@example.org:x\n"
			   "route_auth.internal.test =\n"
			   "route_tls.relay.test = implicit\n"
			   "route_tls.internal.test = starttls\n"
			   "limits.send_per_hour = 0\n"
			   "limits.recipients_per_hour = 20\n";
	assert_int_equal(parse(cfg, text, &err), 1);
	assert_int_equal(cfg->send_per_hour, 0);
	assert_int_equal(cfg->recipients_per_hour, 20);
	const char *user, *password;
	assert_int_equal(config_route_login(cfg, "*", &user, &password), 1);
	assert_string_equal(user, "me@example.org");
	assert_string_equal(password, "pa:ss w=rd"); /* split at the first ':' */
	assert_int_equal(config_route_login(cfg, "relay.test", &user, &password), 1);
	assert_string_equal(user, "other@example.org");
	assert_string_equal(password, "x");
	assert_int_equal(config_route_login(cfg, "internal.test", &user, &password), 0); /* empty: none */
	assert_int_equal(config_route_login(cfg, "unrouted.test", &user, &password), 1); /* the default */
	assert_true(config_route_implicit_tls(cfg, "relay.test"));
	assert_false(config_route_implicit_tls(cfg, "internal.test"));
	assert_false(config_route_implicit_tls(cfg, "*"));
	char *problems;
	assert_int_equal(config_check(cfg, false, &problems), 0);
	/* a change of a password is a change of the routes: SIGHUP applies it */
	struct config *b = config_defaults("/data");
	assert_int_equal(parse(b, text, &err), 1);
	const char *names[4];
	assert_int_equal(config_diff(cfg, b, names, 4), 0);
	assert_int_equal(parse(b, "route_auth.relay.test = other@example.org:y\n", &err), 1);
	assert_int_equal(config_diff(cfg, b, names, 4), 1);
	assert_string_equal(names[0], "route.*");
	config_free(&b);
	config_free(&cfg);
	/* an option without its route (nor route.*) */
	cfg = config_defaults("/data");
	assert_int_equal(
		parse(cfg, "route.a.test = h:25\nroute_auth.b.test = u:p\nroute_tls.c.test = implicit\n", &err), 1);
	assert_int_equal(config_check(cfg, false, &problems), 2);
	assert_non_null(strstr(problems, "route_auth.b.test has neither route.b.test nor route.*"));
	assert_non_null(strstr(problems, "route_tls.c.test has neither route.c.test nor route.*"));
	assert_null(strstr(problems, ":p"));
	free(problems);
	/* with route.* they apply to those domains' mail there */
	assert_int_equal(parse(cfg, "route.* = relay:587\n", &err), 1);
	assert_int_equal(config_check(cfg, false, &problems), 0);
	config_free(&cfg);
	/* bad values: the message names the key, never the value */
	expect_error("route_auth.x.test = nocolon-secret\n",
		     "test.conf:1: route_auth.x.test: route_auth value must be");
	expect_error("route_auth.x.test = :secret\n", "route_auth value must be USER:PASSWORD");
	expect_error("route_auth.x.test = user:\n", "route_auth value must be USER:PASSWORD");
	expect_error("route_auth.-x- = u:p\n", "invalid domain in route_auth key");
	expect_error("route_tls.x.test = yes\n", "route_tls.x.test: expected implicit or starttls");
	cfg = config_defaults("/data");
	assert_int_equal(parse(cfg, "route_auth.x.test = nocolon-secret\n", &err), -1);
	assert_null(strstr(err, "secret"));
	free(err);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),      cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),        cmocka_unit_test(test_check),
		cmocka_unit_test(test_load),          cmocka_unit_test(test_diff),
		cmocka_unit_test(test_spf_keys),      cmocka_unit_test(test_dkim_keys),
		cmocka_unit_test(test_route_options), cmocka_unit_test(test_mailauth_keys),
		cmocka_unit_test(test_spam_keys),     cmocka_unit_test(test_dns_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
