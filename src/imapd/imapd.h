/* imapd.h: the IMAP server (RFC 9051 with RFC 3501 compatibility) on 143 and 993. */
#ifndef POSTAMT_IMAPD_H
#define POSTAMT_IMAPD_H

#include "conn.h"
#include "settings.h"

struct imapd_listener {
	struct settings_ref *settings;
};

extern const struct conn_handler imapd_handler;

#endif
