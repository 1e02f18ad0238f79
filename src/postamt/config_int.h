/* config_int.h: what config.c and config_route.c share (never included elsewhere). */
#ifndef POSTAMT_CONFIG_INT_H
#define POSTAMT_CONFIG_INT_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

/* A host or domain name (letters, digits, '-', '.'; "*" allowed). */
bool config_domain_valid(const char *d);
/* route.DOMAIN = HOST:PORT. 1, or -1 with *error_r (static text). */
int config_route_set(struct config *cfg, const char *domain, size_t dlen, const char *value, const char **error_r);
/* route_auth.DOMAIN (auth) or route_tls.DOMAIN. 1, or -1 with *error_r (static text). */
int config_route_opt_set(struct config *cfg, bool auth, const char *domain, size_t dlen, const char *value,
			 const char **error_r);

#endif
