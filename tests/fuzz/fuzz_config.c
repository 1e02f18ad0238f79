/* fuzz_config.c: libFuzzer target for config_parse (src/postamt/config.c).
 *
 * The input is configuration text parsed over the defaults. Invariants: the result is
 * 1 or -1; an error is "NAME:LINE: ..." with a line number inside the text; on
 * success every number is inside its key's bounds, strings are set, every route has a
 * lower-case domain, a host and a nonzero port and is found by config_route_for;
 * parsing is deterministic; config_check runs on the result; config_free releases
 * everything either way (ASan's leak check runs after every input). */
#include "fuzz.h"
#include "config.h"

#include <inttypes.h>
#include <string.h>

static size_t count_lines(const char *p, size_t len)
{
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

static void check_config(const struct config *cfg)
{
	CHECK(cfg->data_dir != NULL && strcmp(cfg->data_dir, "/fuzz") == 0);
	CHECK(cfg->hostname && cfg->bind && cfg->tls_cert && cfg->tls_key && cfg->user && cfg->log_level);
	CHECK(cfg->port_offset >= 0 && cfg->port_offset <= 65000);
	CHECK(cfg->workers >= 0 && cfg->workers <= 256);
	CHECK(cfg->pool_threads >= 1 && cfg->pool_threads <= 256);
	CHECK(cfg->line_max >= 512 && cfg->line_max <= 1024 * 1024);
	CHECK(cfg->imap_command_max >= 1024 && cfg->imap_command_max <= 64 * 1024 * 1024);
	CHECK(cfg->message_max >= 1024 && cfg->message_max <= (int64_t)4 * 1024 * 1024 * 1024);
	CHECK(cfg->recipients_max >= 1 && cfg->conns_per_ip >= 1 && cfg->conns_total >= 1);
	CHECK(cfg->default_quota >= 0);
	CHECK(cfg->timeout_smtp >= 1 && cfg->timeout_smtp <= 86400);
	CHECK(cfg->timeout_tls_handshake >= 1 && cfg->timeout_tls_handshake <= 3600);
	CHECK(cfg->shutdown_grace >= 0 && cfg->shutdown_grace <= 3600);
	CHECK(cfg->nroutes == 0 || cfg->routes != NULL);
	for (size_t i = 0; i < cfg->nroutes; i++) {
		const struct config_route *rt = &cfg->routes[i];
		CHECK(rt->domain[0] != '\0' && rt->host[0] != '\0' && rt->port != 0);
		for (const char *c = rt->domain; *c; c++)
			CHECK(!(*c >= 'A' && *c <= 'Z'));
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(cfg->routes[j].domain, rt->domain) != 0);
		if (strcmp(rt->domain, "*") != 0)
			CHECK(config_route_for(cfg, rt->domain) == rt);
	}
	CHECK(config_port(cfg, PORT_SMTP) == 25 + (int)cfg->port_offset);
	char *problems = NULL;
	int n = config_check(cfg, false, &problems);
	CHECK(n >= 0 && (n == 0) == (problems == NULL));
	free(problems);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct config *cfg = config_defaults("/fuzz");
	char *error = NULL;
	int r = config_parse(cfg, "fuzz.conf", text, size, &error);
	CHECK(r == 1 || r == -1);
	if (r < 0) {
		CHECK(error != NULL && strncmp(error, "fuzz.conf:", 10) == 0);
		char *end;
		unsigned long line = strtoul(error + 10, &end, 10);
		CHECK(end != error + 10 && *end == ':');
		CHECK(line >= 1 && line <= count_lines(text, size));
	} else {
		CHECK(error == NULL);
		check_config(cfg);
	}
	/* the same text gives the same answer */
	struct config *again = config_defaults("/fuzz");
	char *error2 = NULL;
	CHECK(config_parse(again, "fuzz.conf", text, size, &error2) == r);
	CHECK((error == NULL && error2 == NULL) || strcmp(error, error2) == 0);
	if (r > 0) {
		CHECK(strcmp(cfg->hostname, again->hostname) == 0 && cfg->nroutes == again->nroutes);
		CHECK(cfg->message_max == again->message_max && cfg->port_offset == again->port_offset);
	}
	free(error);
	free(error2);
	config_free(&cfg);
	config_free(&again);
	CHECK(cfg == NULL && again == NULL);
	return 0;
}
