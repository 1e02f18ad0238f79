/* config_route.c: the route.DOMAIN keys of postamt.conf and their options
 * route_auth.DOMAIN (USER:PASSWORD for a smarthost login) and route_tls.DOMAIN
 * (implicit or starttls), the one family of keys outside config.c's table, and the
 * lookups the queue makes in them; "*" stands for every route. Also the host-name
 * check config.c's validators share. */
#include "config.h"
#include "config_int.h"

#include "arena.h"
#include "buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parses "HOST:PORT" or "[V6]:PORT". Returns 1, or -1. */
static int parse_hostport(const char *value, char **host_r, uint16_t *port_r)
{
	const char *colon;
	const char *host = value;
	size_t hostlen;
	if (value[0] == '[') {
		const char *end = strchr(value, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		host = value + 1;
		hostlen = (size_t)(end - host);
		colon = end + 1;
	} else {
		colon = strrchr(value, ':');
		if (colon == NULL)
			return -1;
		hostlen = (size_t)(colon - value);
	}
	uint64_t port;
	if (hostlen == 0 || buf_parse_uint64(BYTES_STR(colon + 1), 65535, &port) < 0 || port == 0)
		return -1;
	for (size_t i = 0; i < hostlen; i++) {
		unsigned char c = (unsigned char)host[i];
		if (!(isalnum(c) || c == '.' || c == '-' || c == ':' || c == '_'))
			return -1;
	}
	*host_r = xstrndup(host, hostlen);
	*port_r = (uint16_t)port;
	return 1;
}

bool config_domain_valid(const char *d)
{
	if (strcmp(d, "*") == 0)
		return true;
	size_t n = strlen(d);
	if (n == 0 || n > 253 || d[0] == '.' || d[0] == '-' || d[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (!(isalnum(c) || c == '.' || c == '-' || c >= 0x80))
			return false;
	}
	return true;
}

/* The DOMAIN of a route key (route.D, route_auth.D, route_tls.D) in lower case (heap),
 * or NULL with *error_r when it is not a domain ("*" is one here: domain_valid). */
static char *route_key_domain(const char *domain, size_t dlen, const char *error, const char **error_r)
{
	char *d = xstrndup(domain, dlen);
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!config_domain_valid(d)) {
		free(d);
		*error_r = error;
		return NULL;
	}
	return d;
}

int config_route_set(struct config *cfg, const char *domain, size_t dlen, const char *value, const char **error_r)
{
	char *d = route_key_domain(domain, dlen, "invalid domain in route key", error_r);
	if (d == NULL)
		return -1;
	char *host;
	uint16_t port;
	if (parse_hostport(value, &host, &port) < 0) {
		free(d);
		*error_r = "route value must be HOST:PORT";
		return -1;
	}
	for (size_t i = 0; i < cfg->nroutes; i++) {
		if (strcmp(cfg->routes[i].domain, d) == 0) {
			free(cfg->routes[i].host);
			cfg->routes[i].host = host;
			cfg->routes[i].port = port;
			free(d);
			return 1;
		}
	}
	cfg->routes = xrealloc(cfg->routes, (cfg->nroutes + 1) * sizeof(*cfg->routes));
	cfg->routes[cfg->nroutes++] = (struct config_route){ d, host, port };
	return 1;
}

/* The options of a route key, made on first use. d is lower case and valid. */
static struct config_route_opt *route_opt(struct config *cfg, const char *d)
{
	for (size_t i = 0; i < cfg->nroute_opts; i++)
		if (strcmp(cfg->route_opts[i].domain, d) == 0)
			return &cfg->route_opts[i];
	cfg->route_opts = xrealloc(cfg->route_opts, (cfg->nroute_opts + 1) * sizeof(*cfg->route_opts));
	struct config_route_opt *o = &cfg->route_opts[cfg->nroute_opts++];
	*o = (struct config_route_opt){ .domain = xstrdup(d) };
	return o;
}

/* route_auth.DOMAIN = USER:PASSWORD (split at the first ':'; empty: no login for this
 * route, overriding route_auth.*) and route_tls.DOMAIN = implicit|starttls. The
 * messages never repeat the value: it holds a password. */
int config_route_opt_set(struct config *cfg, bool auth, const char *domain, size_t dlen, const char *value,
			 const char **error_r)
{
	char *d = route_key_domain(
		domain, dlen, auth ? "invalid domain in route_auth key" : "invalid domain in route_tls key", error_r);
	if (d == NULL)
		return -1;
	if (!auth) {
		int tls = strcmp(value, "implicit") == 0   ? CONFIG_TLS_IMPLICIT
			  : strcmp(value, "starttls") == 0 ? CONFIG_TLS_STARTTLS
							   : 0;
		if (tls == 0) {
			free(d);
			*error_r = "expected implicit or starttls";
			return -1;
		}
		route_opt(cfg, d)->tls = tls;
		free(d);
		return 1;
	}
	const char *colon = strchr(value, ':');
	if (value[0] != '\0' && (colon == NULL || colon == value || colon[1] == '\0')) {
		free(d);
		*error_r = "route_auth value must be USER:PASSWORD (or empty for no login)";
		return -1;
	}
	for (const char *p = value; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			free(d);
			*error_r = "control character in route_auth value";
			return -1;
		}
	}
	struct config_route_opt *o = route_opt(cfg, d);
	free(d);
	free(o->user);
	if (o->password != NULL)
		explicit_bzero(o->password, strlen(o->password));
	free(o->password);
	o->has_auth = true;
	o->user = value[0] != '\0' ? xstrndup(value, (size_t)(colon - value)) : NULL;
	o->password = value[0] != '\0' ? xstrdup(colon + 1) : NULL;
	return 1;
}

const struct config_route *config_route_for(const struct config *cfg, const char *domain)
{
	const struct config_route *star = NULL;
	for (size_t i = 0; i < cfg->nroutes; i++) {
		if (strcasecmp(cfg->routes[i].domain, domain) == 0)
			return &cfg->routes[i];
		if (strcmp(cfg->routes[i].domain, "*") == 0)
			star = &cfg->routes[i];
	}
	return star;
}

/* The options of route_domain, else those of "*", for which `has` holds. */
static const struct config_route_opt *opt_for(const struct config *cfg, const char *route_domain, bool auth)
{
	const struct config_route_opt *star = NULL;
	for (size_t i = 0; i < cfg->nroute_opts; i++) {
		const struct config_route_opt *o = &cfg->route_opts[i];
		if (auth ? !o->has_auth : o->tls == 0)
			continue;
		if (strcasecmp(o->domain, route_domain) == 0)
			return o;
		if (strcmp(o->domain, "*") == 0)
			star = o;
	}
	return star;
}

int config_route_login(const struct config *cfg, const char *route_domain, const char **user_r, const char **password_r)
{
	const struct config_route_opt *o = opt_for(cfg, route_domain, true);
	if (o == NULL || o->user == NULL)
		return 0;
	*user_r = o->user;
	*password_r = o->password;
	return 1;
}

bool config_route_implicit_tls(const struct config *cfg, const char *route_domain)
{
	const struct config_route_opt *o = opt_for(cfg, route_domain, false);
	return o != NULL && o->tls == CONFIG_TLS_IMPLICIT;
}
