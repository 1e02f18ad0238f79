/* commands.c: the SMTP command table and the session-level verbs (EHLO, HELO,
 * STARTTLS, NOOP, RSET, QUIT, HELP, VRFY). The mail transaction verbs live in their
 * own files (smtp_cmd_mail.c, smtp_cmd_rcpt.c, smtp_cmd_data.c, smtp_cmd_auth.c). */
#include "session.h"

#include "log.h"
#include "sasl.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* RFC 5321 §4.1.1.1: ehlo = "EHLO" SP ( Domain / address-literal ) CRLF */
static bool helo_name_valid(struct bytes name)
{
	if (name.len == 0 || name.len > 255)
		return false;
	for (size_t i = 0; i < name.len; i++) {
		unsigned char c = (unsigned char)name.p[i];
		if (c <= ' ' || c >= 0x7f)
			return false;
	}
	return true;
}

static void set_helo(struct smtp_session *ss, struct bytes name, bool esmtp)
{
	/* overwritten in place: repeated EHLOs must not accumulate (a fixed buffer, not
	 * the connection's arena) */
	assert(name.len < sizeof(ss->helo));
	memcpy(ss->helo, name.p, name.len);
	ss->helo[name.len] = '\0';
	ss->esmtp = esmtp;
	smtp_txn_reset(ss); /* RFC 5321 §4.1.4: EHLO/HELO reset the transaction */
}

static void cmd_ehlo(struct smtp_session *ss, const struct smtp_command *cmd)
{
	if (!helo_name_valid(cmd->arg)) {
		smtp_reply(ss, 501, "5.5.4", "Syntax: EHLO hostname");
		smtp_error(ss);
		return;
	}
	set_helo(ss, cmd->arg, true);
	char text[512];
	int n = snprintf(text, sizeof(text),
			 "%s Hello %s [%s]\nPIPELINING\nSIZE %" PRIu64
			 "\n8BITMIME\nENHANCEDSTATUSCODES\nSMTPUTF8\nCHUNKING\nDSN",
			 ss->s->hostname, ss->helo, conn_peer_ip(ss->c), ss->s->message_max);
	if (n > 0 && (size_t)n < sizeof(text) && !conn_is_tls(ss->c))
		n += snprintf(text + n, sizeof(text) - (size_t)n, "\nSTARTTLS");
	/* RFC 4954 §4: AUTH only where a password may travel (TLS or loopback) */
	bool tls_first = ss->l->role == SMTPD_SUBMISSION && !conn_is_tls(ss->c); /* 587: AUTH after STARTTLS */
	if (n > 0 && (size_t)n < sizeof(text) && smtp_auth_allowed(ss) && ss->auth_user == NULL && !tls_first)
		snprintf(text + n, sizeof(text) - (size_t)n, "\nAUTH " AUTH_SASL_MECHS);
	smtp_reply(ss, 250, NULL, "%s", text);
}

static void cmd_helo(struct smtp_session *ss, const struct smtp_command *cmd)
{
	if (!helo_name_valid(cmd->arg)) {
		smtp_reply(ss, 501, "5.5.4", "Syntax: HELO hostname");
		smtp_error(ss);
		return;
	}
	set_helo(ss, cmd->arg, false);
	smtp_reply(ss, 250, NULL, "%s", ss->s->hostname);
}

/* RFC 3207 §4: "STARTTLS" with no parameters; after the handshake the client must
 * start over with EHLO, and the server forgets what it learned before (§4.2). */
static void cmd_starttls(struct smtp_session *ss, const struct smtp_command *cmd)
{
	if (cmd->arg.len > 0) {
		smtp_reply(ss, 501, "5.5.4", "Syntax error (no parameters allowed)");
		smtp_error(ss);
		return;
	}
	if (conn_is_tls(ss->c)) {
		smtp_reply(ss, 503, "5.5.1", "TLS already active");
		smtp_error(ss);
		return;
	}
	smtp_reply(ss, 220, "2.0.0", "Ready to start TLS");
	if (conn_starttls(ss->c) < 0) {
		conn_log(ss->c, LOG_ERROR, "event=starttls_failed");
		conn_close(ss->c);
		return;
	}
	ss->helo[0] = '\0';
	ss->esmtp = false;
	ss->auth_user = NULL;
	ss->auth_account = 0;
	smtp_txn_reset(ss);
}

static void cmd_noop(struct smtp_session *ss, const struct smtp_command *cmd)
{
	smtp_reply(ss, 250, "2.0.0", "OK");
}

static void cmd_rset(struct smtp_session *ss, const struct smtp_command *cmd)
{
	if (cmd->arg.len > 0) {
		smtp_reply(ss, 501, "5.5.4", "Syntax: RSET");
		smtp_error(ss);
		return;
	}
	smtp_txn_reset(ss);
	smtp_reply(ss, 250, "2.0.0", "Flushed");
}

static void cmd_quit(struct smtp_session *ss, const struct smtp_command *cmd)
{
	smtp_reply(ss, 221, "2.0.0", "%s Bye", ss->s->hostname);
	conn_close(ss->c);
}

static void cmd_help(struct smtp_session *ss, const struct smtp_command *cmd)
{
	smtp_reply(ss, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY AUTH STARTTLS");
}

/* RFC 5321 §3.5.3: a server that does not verify answers 252; VRFY would let anyone
 * enumerate the users, so it is off */
static void cmd_vrfy(struct smtp_session *ss, const struct smtp_command *cmd)
{
	smtp_reply(ss, 252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery");
}

static const struct smtp_cmd_def table[SMTP_VERB_COUNT] = {
	[SMTP_HELO] = { SMTP_HELO, cmd_helo, 0 },
	[SMTP_EHLO] = { SMTP_EHLO, cmd_ehlo, 0 },
	[SMTP_MAIL] = { SMTP_MAIL, smtp_cmd_mail, SMTP_CMD_NEEDS_HELO | SMTP_CMD_NEEDS_TLS | SMTP_CMD_NEEDS_AUTH },
	[SMTP_RCPT] = { SMTP_RCPT, smtp_cmd_rcpt, SMTP_CMD_NEEDS_HELO | SMTP_CMD_NEEDS_TLS | SMTP_CMD_NEEDS_AUTH },
	[SMTP_DATA] = { SMTP_DATA, smtp_cmd_data, SMTP_CMD_NEEDS_HELO | SMTP_CMD_NEEDS_TLS | SMTP_CMD_NEEDS_AUTH },
	[SMTP_BDAT] = { SMTP_BDAT, smtp_cmd_bdat, SMTP_CMD_NEEDS_HELO | SMTP_CMD_NEEDS_TLS | SMTP_CMD_NEEDS_AUTH },
	[SMTP_RSET] = { SMTP_RSET, cmd_rset, 0 },
	[SMTP_NOOP] = { SMTP_NOOP, cmd_noop, 0 },
	[SMTP_QUIT] = { SMTP_QUIT, cmd_quit, 0 },
	[SMTP_VRFY] = { SMTP_VRFY, cmd_vrfy, 0 },
	[SMTP_EXPN] = { SMTP_EXPN, NULL, 0 },
	[SMTP_HELP] = { SMTP_HELP, cmd_help, 0 },
	[SMTP_STARTTLS] = { SMTP_STARTTLS, cmd_starttls, 0 },
	[SMTP_AUTH] = { SMTP_AUTH, smtp_cmd_auth, SMTP_CMD_NEEDS_HELO | SMTP_CMD_NEEDS_TLS },
};

const struct smtp_cmd_def *smtp_cmd_lookup(enum smtp_verb verb)
{
	if (verb <= SMTP_UNKNOWN || verb >= SMTP_VERB_COUNT)
		return NULL;
	return &table[verb];
}
