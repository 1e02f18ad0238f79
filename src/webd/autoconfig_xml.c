/* autoconfig_xml.c: see autoconfig.h. Formats: Thunderbird "clientConfig" version
 * 1.1 (wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat), Microsoft
 * Autodiscover POX (responseschema/2006 with outlook/responseschema/2006a) and an
 * Apple com.apple.mail.managed payload in a Configuration profile. */
#include "autoconfig.h"

#include "arena.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define PORT(std) ((std) + p->port_offset)

bool web_autoconfig_email_ok(const char *s)
{
	if (s == NULL || s[0] == '\0' || strlen(s) > 254)
		return false;
	const char *at = strrchr(s, '@');
	if (at == NULL || at == s || at[1] == '\0')
		return false;
	for (const char *c = s; *c; c++) {
		unsigned char ch = (unsigned char)*c;
		if (ch <= 0x20 || ch == 0x7f || strchr("<>&\"'()[]\\,;:", ch) != NULL)
			return false;
	}
	return true;
}

/* XML text with the five entities escaped. */
static void xml(struct buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_puts(out, "&lt;"); break;
		case '>': buf_puts(out, "&gt;"); break;
		case '&': buf_puts(out, "&amp;"); break;
		case '"': buf_puts(out, "&quot;"); break;
		case '\'': buf_puts(out, "&apos;"); break;
		default: buf_putc(out, *s);
		}
	}
}

static const char *domain_of(const struct autoconfig_params *p)
{
	const char *at = p->email ? strrchr(p->email, '@') : NULL;
	return at ? at + 1 : p->hostname;
}

static void tb_server(struct buf *out, const struct autoconfig_params *p, const char *tag, const char *type,
		      int port, const char *socket)
{
	buf_printf(out, "    <%s type=\"%s\">\n      <hostname>", tag, type);
	xml(out, p->hostname);
	buf_printf(out, "</hostname>\n      <port>%d</port>\n      <socketType>%s</socketType>\n"
			"      <authentication>password-cleartext</authentication>\n"
			"      <username>%%EMAILADDRESS%%</username>\n    </%s>\n",
		   port, socket, tag);
}

void web_autoconfig_thunderbird(struct buf *out, const struct autoconfig_params *p)
{
	const char *domain = domain_of(p);
	buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  <emailProvider id=\"");
	xml(out, domain);
	buf_puts(out, "\">\n    <domain>");
	xml(out, domain);
	buf_puts(out, "</domain>\n    <displayName>");
	xml(out, domain);
	buf_puts(out, " (postamt on ");
	xml(out, p->hostname);
	buf_puts(out, ")</displayName>\n    <displayShortName>");
	xml(out, domain);
	buf_puts(out, "</displayShortName>\n");
	tb_server(out, p, "incomingServer", "imap", PORT(993), "SSL");
	tb_server(out, p, "incomingServer", "imap", PORT(143), "STARTTLS");
	tb_server(out, p, "incomingServer", "pop3", PORT(995), "SSL");
	tb_server(out, p, "incomingServer", "pop3", PORT(110), "STARTTLS");
	tb_server(out, p, "outgoingServer", "smtp", PORT(465), "SSL");
	tb_server(out, p, "outgoingServer", "smtp", PORT(587), "STARTTLS");
	buf_puts(out, "  </emailProvider>\n</clientConfig>\n");
}

static void ol_protocol(struct buf *out, const struct autoconfig_params *p, const char *type, int port, bool ssl,
			const char *encryption, bool smtp)
{
	buf_printf(out, "      <Protocol>\n        <Type>%s</Type>\n        <Server>", type);
	xml(out, p->hostname);
	buf_printf(out, "</Server>\n        <Port>%d</Port>\n        <DomainRequired>off</DomainRequired>\n", port);
	if (p->email != NULL) {
		buf_puts(out, "        <LoginName>");
		xml(out, p->email);
		buf_puts(out, "</LoginName>\n");
	}
	buf_printf(out, "        <SPA>off</SPA>\n        <SSL>%s</SSL>\n", ssl ? "on" : "off");
	if (encryption != NULL)
		buf_printf(out, "        <Encryption>%s</Encryption>\n", encryption);
	buf_puts(out, "        <AuthRequired>on</AuthRequired>\n");
	if (smtp)
		buf_puts(out, "        <UsePOPAuth>off</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>\n");
	buf_puts(out, "      </Protocol>\n");
}

void web_autoconfig_outlook(struct buf *out, const struct autoconfig_params *p)
{
	buf_puts(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		      "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n"
		      "  <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n"
		      "    <Account>\n      <AccountType>email</AccountType>\n      <Action>settings</Action>\n");
	ol_protocol(out, p, "IMAP", PORT(993), true, "SSL", false);
	ol_protocol(out, p, "IMAP", PORT(143), false, "TLS", false);
	ol_protocol(out, p, "POP3", PORT(995), true, "SSL", false);
	ol_protocol(out, p, "POP3", PORT(110), false, "TLS", false);
	ol_protocol(out, p, "SMTP", PORT(465), true, "SSL", true);
	ol_protocol(out, p, "SMTP", PORT(587), false, "TLS", true);
	buf_puts(out, "    </Account>\n  </Response>\n</Autodiscover>\n");
}

/* A stable UUID (name-based) for the profile, so that installing it again replaces it. */
static void uuid_for(const char *a, const char *b, const char *c, char out[37])
{
	char in[1024];
	snprintf(in, sizeof(in), "postamt\n%s\n%s\n%s", a, b, c);
	unsigned char h[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)in, strlen(in), h);
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x50);
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", h[0], h[1], h[2], h[3],
		 h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

static void plist_string(struct buf *out, const char *key, const char *value)
{
	buf_printf(out, "      <key>%s</key>\n      <string>", key);
	xml(out, value);
	buf_puts(out, "</string>\n");
}

/* The certificate payload: the DER in a <data> element (base64, lines of 64). */
static void apple_certificate(struct buf *out, const struct autoconfig_params *p, const char *rev, const char *email)
{
	char uuid[37], id[400];
	uuid_for(p->hostname, email, "certificate", uuid);
	buf_puts(out, "    <dict>\n");
	char file[300];
	snprintf(file, sizeof(file), "%s.cer", p->hostname);
	plist_string(out, "PayloadCertificateFileName", file);
	buf_puts(out, "      <key>PayloadContent</key>\n      <data>\n");
	size_t b64len = 4 * ((p->cert_der_len + 2) / 3) + 1;
	char *b64 = xmalloc(b64len);
	int n = EVP_EncodeBlock((unsigned char *)b64, p->cert_der, (int)p->cert_der_len);
	for (int i = 0; i < n; i += 64)
		buf_printf(out, "      %.*s\n", n - i < 64 ? n - i : 64, b64 + i);
	free(b64);
	buf_puts(out, "      </data>\n");
	plist_string(out, "PayloadDescription", "The self-signed certificate of the mail server");
	plist_string(out, "PayloadDisplayName", p->hostname);
	snprintf(id, sizeof(id), "%s.postamt.certificate", rev);
	plist_string(out, "PayloadIdentifier", id);
	plist_string(out, "PayloadType", "com.apple.security.root");
	plist_string(out, "PayloadUUID", uuid);
	buf_puts(out, "      <key>PayloadVersion</key>\n      <integer>1</integer>\n    </dict>\n");
}

void web_autoconfig_apple(struct buf *out, const struct autoconfig_params *p)
{
	const char *email = p->email ? p->email : "";
	char u1[37], u2[37];
	uuid_for(p->hostname, email, "account", u1);
	uuid_for(p->hostname, email, "profile", u2);
	/* reverse-DNS identifiers from the hostname */
	char rev[300] = "";
	const char *h = p->hostname;
	const char *end = h + strlen(h);
	while (end > h) {
		const char *dot = end - 1;
		while (dot > h && *dot != '.')
			dot--;
		const char *label = *dot == '.' ? dot + 1 : dot;
		size_t n = strlen(rev);
		snprintf(rev + n, sizeof(rev) - n, "%s%.*s", n ? "." : "", (int)(end - label), label);
		end = *dot == '.' ? dot : h;
	}
	buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
		      "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
		      "<plist version=\"1.0\">\n<dict>\n  <key>PayloadContent</key>\n  <array>\n    <dict>\n");
	plist_string(out, "EmailAccountDescription", email[0] ? email : p->hostname);
	plist_string(out, "EmailAccountName", email);
	plist_string(out, "EmailAccountType", "EmailTypeIMAP");
	plist_string(out, "EmailAddress", email);
	plist_string(out, "IncomingMailServerAuthentication", "EmailAuthPassword");
	plist_string(out, "IncomingMailServerHostName", p->hostname);
	buf_printf(out, "      <key>IncomingMailServerPortNumber</key>\n      <integer>%d</integer>\n"
			"      <key>IncomingMailServerUseSSL</key>\n      <true/>\n",
		   PORT(993));
	plist_string(out, "IncomingMailServerUsername", email);
	plist_string(out, "OutgoingMailServerAuthentication", "EmailAuthPassword");
	plist_string(out, "OutgoingMailServerHostName", p->hostname);
	buf_printf(out, "      <key>OutgoingMailServerPortNumber</key>\n      <integer>%d</integer>\n"
			"      <key>OutgoingMailServerUseSSL</key>\n      <true/>\n",
		   PORT(465));
	plist_string(out, "OutgoingMailServerUsername", email);
	buf_puts(out, "      <key>OutgoingPasswordSameAsIncomingPassword</key>\n      <true/>\n");
	plist_string(out, "PayloadDescription", "Email account");
	plist_string(out, "PayloadDisplayName", email[0] ? email : p->hostname);
	char id[400];
	snprintf(id, sizeof(id), "%s.postamt.account", rev);
	plist_string(out, "PayloadIdentifier", id);
	plist_string(out, "PayloadType", "com.apple.mail.managed");
	plist_string(out, "PayloadUUID", u1);
	buf_puts(out, "      <key>PayloadVersion</key>\n      <integer>1</integer>\n"
		      "      <key>PreventAppSheet</key>\n      <false/>\n      <key>PreventMove</key>\n      <false/>\n"
		      "      <key>SMIMEEnabled</key>\n      <false/>\n    </dict>\n");
	if (p->cert_der != NULL && p->cert_der_len > 0)
		apple_certificate(out, p, rev, email);
	buf_puts(out, "  </array>\n");
	buf_puts(out, "  <key>PayloadDescription</key>\n  <string>Mail settings for ");
	xml(out, email[0] ? email : p->hostname);
	buf_puts(out, "</string>\n  <key>PayloadDisplayName</key>\n  <string>Mail on ");
	xml(out, p->hostname);
	snprintf(id, sizeof(id), "%s.postamt", rev);
	buf_puts(out, "</string>\n  <key>PayloadIdentifier</key>\n  <string>");
	xml(out, id);
	buf_printf(out, "</string>\n  <key>PayloadRemovalDisallowed</key>\n  <false/>\n"
			"  <key>PayloadType</key>\n  <string>Configuration</string>\n"
			"  <key>PayloadUUID</key>\n  <string>%s</string>\n"
			"  <key>PayloadVersion</key>\n  <integer>1</integer>\n</dict>\n</plist>\n",
		   u2);
}

int web_autoconfig_request_email(const char *body, size_t len, char *out, size_t outlen)
{
	static const char open[] = "<EMailAddress>", close[] = "</EMailAddress>";
	const char *s = memmem(body, len, open, sizeof(open) - 1);
	if (s == NULL)
		return 0;
	s += sizeof(open) - 1;
	const char *e = memmem(s, len - (size_t)(s - body), close, sizeof(close) - 1);
	if (e == NULL)
		return 0;
	struct bytes v = bytes_trim((struct bytes){ s, (size_t)(e - s) });
	if (v.len == 0 || v.len >= outlen)
		return 0;
	memcpy(out, v.p, v.len);
	out[v.len] = '\0';
	return web_autoconfig_email_ok(out) ? 1 : 0;
}

int web_autoconfig_email_domain(const char *email, char *out, size_t outlen)
{
	const char *at = email ? strrchr(email, '@') : NULL;
	if (at == NULL || at[1] == '\0' || strlen(at + 1) >= outlen)
		return 0;
	size_t i = 0;
	for (const char *c = at + 1; *c; c++)
		out[i++] = (char)tolower((unsigned char)*c);
	out[i] = '\0';
	return 1;
}
