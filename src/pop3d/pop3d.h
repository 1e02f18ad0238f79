/* pop3d.h: the POP3 server (RFC 1939, 2449, 2595, 5034) on ports 110 and 995. */
#ifndef POSTAMT_POP3D_H
#define POSTAMT_POP3D_H

#include "conn.h"
#include "settings.h"

struct pop3d_listener {
	struct settings_ref *settings;
};

extern const struct conn_handler pop3d_handler;

#endif
