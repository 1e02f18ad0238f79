/* sasl.h: one SASL exchange for every protocol (SMTP AUTH, IMAP AUTHENTICATE, POP3
 * AUTH), sans I/O.
 *
 * The protocol hands over the mechanism name and the initial response, then each
 * line the client sends; the exchange answers what to do next: send a challenge,
 * check credentials (auth_sasl_check in login.h, which runs the account lookup, the
 * failed-login limiter and the password or proof check, and may itself answer with
 * a further challenge), or end with an error. The protocol only frames: "334 " in
 * SMTP, "+ " in IMAP and POP3, and maps the outcomes to its replies. All the rules
 * live here once: base64 (RFC 4648, "=" as an empty initial response), "*" to
 * cancel (RFC 4954, RFC 9051, RFC 5034), field limits and control bytes, and the
 * authorization identity (empty or equal to the authentication identity).
 *
 * Mechanisms: PLAIN (RFC 4616), LOGIN (the "Username:"/"Password:" dialogue Outlook
 * uses), SCRAM-SHA-256 (RFC 5802, RFC 7677; no channel binding, so no -PLUS: a
 * client's "y" flag is accepted, "p=" is refused). SCRAM's server-final message is
 * sent as a last challenge that the client answers with an empty line (RFC 4422
 * §5, "additional data with success"), the same in the three protocols. */
#ifndef POSTAMT_AUTH_SASL_H
#define POSTAMT_AUTH_SASL_H

#include "arena.h"
#include "buf.h"
#include "scram.h"

#include <stdbool.h>
#include <stdint.h>

/* The mechanisms, in the order servers list them. */
#define AUTH_SASL_MECHS "SCRAM-SHA-256 PLAIN LOGIN"
/* SCRAM nonces, user names and other attributes: the longest accepted (bytes). */
#define AUTH_SASL_SCRAM_FIELD_MAX 512

enum auth_sasl_status {
	AUTH_SASL_CHALLENGE = 1, /* send *text_r (base64, may be "") and feed the answer to auth_sasl_step */
	AUTH_SASL_CHECK = 2,     /* hand the exchange to auth_sasl_check (login.h) */
	AUTH_SASL_BAD = -1,      /* malformed response: *text_r says why; the exchange is over */
	AUTH_SASL_CANCELLED = -2,/* the client sent "*" */
	AUTH_SASL_AUTHZID = -3,  /* authorization identity neither empty nor the user */
	AUTH_SASL_NOMECH = -4,   /* unknown mechanism */
};

/* What auth_sasl_check has to do for an exchange that returned AUTH_SASL_CHECK. */
enum auth_sasl_check_kind {
	AUTH_SASL_CHECK_PASSWORD = 1, /* PLAIN, LOGIN: auth_sasl_user + auth_sasl_password */
	AUTH_SASL_CHECK_SCRAM_LOOKUP, /* SCRAM: fetch the user's secret, then auth_sasl_scram_server_first */
	AUTH_SASL_CHECK_SCRAM_PROOF,  /* SCRAM: the client's proof arrived: auth_sasl_scram_verify */
	AUTH_SASL_CHECK_SCRAM_DONE,   /* SCRAM: the client took the server's signature: logged in */
};

struct auth_sasl;

/* Starts an exchange for mechanism mech (case-insensitive). ir is the initial
 * response, NULL when the client sent none. The exchange lives in arena a (the
 * protocol's command arena: it must outlive the exchange). Returns an enum
 * auth_sasl_status, *x_r (set unless AUTH_SASL_NOMECH) and *text_r (the challenge or
 * the error text; static or arena memory). */
int auth_sasl_start(struct arena *a, struct bytes mech, const struct bytes *ir, struct auth_sasl **x_r,
		    const char **text_r);
/* Feeds one client line (without CRLF) to an exchange that asked for it with
 * AUTH_SASL_CHALLENGE (or whose check answered AUTH_LOGIN_CONTINUE). Returns an enum
 * auth_sasl_status and *text_r as auth_sasl_start. */
int auth_sasl_step(struct auth_sasl *x, struct bytes line, const char **text_r);

/* For auth_sasl_check (login.c) and tests. */
enum auth_sasl_check_kind auth_sasl_check_kind(const struct auth_sasl *x);
const char *auth_sasl_mech_name(const struct auth_sasl *x);
/* The authentication identity (the user name as typed), once known. */
const char *auth_sasl_user(const struct auth_sasl *x);
/* PLAIN and LOGIN: the password. */
const char *auth_sasl_password(const struct auth_sasl *x);

/* SCRAM, after AUTH_SASL_CHECK_SCRAM_LOOKUP: builds the server-first message from the
 * user's secret (its text form, scram.h), or, when secret is NULL (no such user, or
 * no SCRAM secret stored yet), from a salt derived from fake_key and the user name, so
 * that the answer does not tell which users exist (RFC 5802 §9); the proof then never
 * verifies. iterations: the count of the fake secret. nonce: the server's nonce
 * (printable, no ","), NULL for a fresh random one (tests pass RFC 7677's). Returns 1
 * with the challenge in *text_r, or -1 with *text_r (a secret that cannot be parsed). */
int auth_sasl_scram_server_first(struct auth_sasl *x, const char *secret, const unsigned char fake_key[32],
				 unsigned iterations, const char *nonce, const char **text_r);
/* SCRAM, after AUTH_SASL_CHECK_SCRAM_PROOF: checks the client's proof in constant
 * time. Returns 1 when it verifies, with the server-final challenge in *text_r (send
 * it; the client's empty answer ends the exchange with AUTH_SASL_CHECK_SCRAM_DONE),
 * 0 when it does not. */
int auth_sasl_scram_verify(struct auth_sasl *x, const char **text_r);

/* The account an exchange logged into, kept by auth_sasl_check between the proof and
 * the client's last (empty) line. */
void auth_sasl_set_account(struct auth_sasl *x, int64_t account_id, const char *address);
int64_t auth_sasl_account_id(const struct auth_sasl *x);
const char *auth_sasl_address(const struct auth_sasl *x);

#endif
