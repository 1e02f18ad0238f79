/* textfmt.h: small text formatters every module shares, written once: the RFC 5322
 * date of a moment, random hex identifiers (Message-ID local parts, transaction
 * ids) and the header-field test that decides whether a message already has a
 * Date: or Message-ID:. Pure functions apart from the clock and the random source. */
#ifndef POSTAMT_LIB_TEXTFMT_H
#define POSTAMT_LIB_TEXTFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEXTFMT_DATE_MAX 40 /* "Sun, 07 Dec 2026 01:30:00 +0000" and the NUL, with room */

/* Writes the RFC 5322 §3.3 date-time of t (seconds since the epoch) in UTC, e.g.
 * "Mon, 07 Dec 2026 01:30:00 +0000", into out (outlen >= TEXTFMT_DATE_MAX). */
void textfmt_date(int64_t t, char *out, size_t outlen);

/* Writes nbytes random bytes as 2 * nbytes lowercase hex digits and a NUL into out
 * (outlen >= 2 * nbytes + 1, else the output is cut). Falls back to zeros when the
 * kernel has no randomness (identifiers stay well-formed; they are not secrets). */
void textfmt_random_hex(char *out, size_t outlen, size_t nbytes);

/* Writes len bytes of data as lowercase hex and a NUL into out (outlen >= 2 * len + 1,
 * else the output is cut at a whole byte). */
void textfmt_hex(const void *data, size_t len, char *out, size_t outlen);

/* True when the header block of msg (up to the first empty line) has a field called
 * name (ASCII case-insensitive), e.g. textfmt_has_header(m, n, "Message-ID"). */
bool textfmt_has_header(const char *msg, size_t len, const char *name);

/* Writes len bytes of data as base64 (RFC 4648 §4, with '=' padding) and a NUL into
 * out. outlen must be at least TEXTFMT_BASE64_LEN(len). */
#define TEXTFMT_BASE64_LEN(len) (((len) + 2) / 3 * 4 + 1)
void textfmt_base64(const void *data, size_t len, char *out, size_t outlen);

/* Writes the MTA-STS policy (RFC 8461 §3.2) of a server whose only MX is mx into out
 * (NUL-terminated, cut at outlen): "version: STSv1", "mode: MODE" (testing, enforce
 * or none), "mx: MX", "max_age: SECONDS", each line ending in CRLF. Returns the
 * length it needed (as snprintf). webd serves it; `postamt dns` derives the policy
 * id of the _mta-sts TXT record from it, so the id changes whenever the policy does. */
int textfmt_mta_sts_policy(char *out, size_t outlen, const char *mode, const char *mx, uint32_t max_age);

/* The value of one hexadecimal digit (either case), or -1. */
int textfmt_hex_digit(unsigned char c);
/* The value of one base64 digit of RFC 4648 §4 (A-Z a-z 0-9 + /), or -1 ('=' too). */
int textfmt_base64_digit(unsigned char c);

#endif
