/* webd.h: the HTTP server: HTTPS on 443 (webmail, JMAP, autoconfig) and HTTP on 80
 * (redirects to HTTPS, except the autoconfiguration paths). */
#ifndef POSTAMT_WEBD_H
#define POSTAMT_WEBD_H

#include "conn.h"
#include "settings.h"

#include <stdbool.h>

struct webd_listener {
	bool https; /* false: the port-80 listener that redirects */
	struct settings_ref *settings;
};

extern const struct conn_handler webd_handler;

#endif
