/* sieved.h: the ManageSieve server (RFC 5804) on 4190 + port_offset.
 *
 * Users log in (AUTHENTICATE with the shared SASL exchange, under the plaintext rules
 * of the other protocols; STARTTLS) and manage their Sieve scripts in the store
 * (store_sieve.h): PUTSCRIPT and CHECKSCRIPT validate with the Sieve compiler
 * (src/sieve/sieve.h) and PUTSCRIPT stores the compiled form next to the text. Every
 * store and compiler call runs on the pool; the loop only parses and writes. */
#ifndef POSTAMT_SIEVED_H
#define POSTAMT_SIEVED_H

#include "conn.h"
#include "pool.h"
#include "settings.h"

struct store;
struct auth_service;

struct sieved_env {
	struct store *store;
	struct auth_service *auth;
	struct pool *pool;
};

struct sieved_listener {
	struct settings_ref *settings;
	const struct sieved_env *env;
};

extern const struct conn_handler sieved_handler;

#endif
