/* autoconfig.h: the client autoconfiguration documents, as pure functions of the
 * configured hostname, the port offset and the user's address (unit-tested):
 * Thunderbird's config-v1.1.xml, Outlook's POX Autodiscover response and an Apple
 * configuration profile (.mobileconfig, unsigned). Every document lists exactly
 * IMAP 993 (TLS) and 143 (STARTTLS), POP3 995 and 110, SMTP 465 (TLS) and 587
 * (STARTTLS), each plus the port offset, on the configured hostname. */
#ifndef POSTAMT_WEBD_AUTOCONFIG_H
#define POSTAMT_WEBD_AUTOCONFIG_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

struct autoconfig_params {
	const char *hostname;
	int port_offset;
	const char *email;  /* the user's address, or NULL when unknown */
	/* The server's certificate (DER) for the Apple profile to install as trusted, or
	 * NULL: given only when it is self-signed (autoconfig.c). */
	const unsigned char *cert_der;
	size_t cert_der_len;
};

/* True if s looks like local@domain without characters that need escaping in a
 * header or that no address has. */
bool web_autoconfig_email_ok(const char *s);
void web_autoconfig_thunderbird(struct buf *out, const struct autoconfig_params *p);
void web_autoconfig_outlook(struct buf *out, const struct autoconfig_params *p);
/* With p->cert_der, the profile has a second payload, com.apple.security.root, that
 * holds the certificate, so that the device can trust a self-signed server. */
void web_autoconfig_apple(struct buf *out, const struct autoconfig_params *p);
/* The <EMailAddress> of an Autodiscover request body into out. 1, or 0 if absent or
 * implausible. */
int web_autoconfig_request_email(const char *body, size_t len, char *out, size_t outlen);
/* The domain of a local@domain address (after its last '@'), lower-cased into out.
 * 1, or 0 when there is none or it does not fit. */
int web_autoconfig_email_domain(const char *email, char *out, size_t outlen);

#endif
