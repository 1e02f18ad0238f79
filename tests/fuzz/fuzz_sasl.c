/* fuzz_sasl.c: libFuzzer target for the SASL exchange (src/auth/sasl.h) that SMTP
 * AUTH, IMAP AUTHENTICATE and POP3 AUTH share.
 *
 * Input: a flags byte, then LF-separated lines. The first line is the mechanism; with
 * flag 1 the second is the initial response; the rest are the client's responses.
 * With flag 2 the lines go to the exchange as they are (exercising the base64 layer),
 * otherwise the target base64-encodes each one first, so that the fuzzer works on the
 * decoded PLAIN/LOGIN/SCRAM grammar. SCRAM's secret lookup is answered with RFC 7677's
 * secret (user "user", password "pencil") and nonce, so the seeds reach the proof
 * (with flag 4: with no secret, as for an unknown user).
 * Invariants: every status is one of the enum; a challenge is canonical base64; an
 * error has a text; a finished or failed exchange accepts no further line; a PLAIN or
 * LOGIN check carries a nonempty user and password without control bytes within their
 * limits; a SCRAM user is nonempty, at most 255 bytes, without control bytes. */
#include "auth.h"
#include "fuzz.h"
#include "sasl.h"

#include <string.h>

static const char secret[] = "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
			     "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
			     "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
static const unsigned char fake_key[32] = { 7 };
static unsigned flags; /* of the current input */

static bool clean(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Checks a status and, for CHECK, plays the server's part. Returns true while the
 * exchange waits for another line. */
static bool after(struct arena *a, struct auth_sasl *x, int st, const char *text)
{
	CHECK(st == AUTH_SASL_CHALLENGE || st == AUTH_SASL_CHECK || st == AUTH_SASL_BAD ||
	      st == AUTH_SASL_CANCELLED || st == AUTH_SASL_AUTHZID);
	if (st == AUTH_SASL_CHALLENGE) {
		char *dec;
		size_t n;
		const char *err;
		CHECK(text != NULL);
		if (text[0] != '\0') {
			CHECK(auth_base64_decode(a, (struct bytes){ text, strlen(text) }, &dec, &n, &err) == 1);
			CHECK(strcmp(auth_base64_encode(a, dec, n), text) == 0);
		}
		return true;
	}
	if (st != AUTH_SASL_CHECK) {
		CHECK(text != NULL && text[0] != '\0');
		return false;
	}
	switch (auth_sasl_check_kind(x)) {
	case AUTH_SASL_CHECK_PASSWORD:
		CHECK(clean(auth_sasl_user(x), 255));
		CHECK(clean(auth_sasl_password(x), AUTH_PASSWORD_MAX));
		return false;
	case AUTH_SASL_CHECK_SCRAM_LOOKUP:
		CHECK(clean(auth_sasl_user(x), 255));
		CHECK(auth_sasl_scram_server_first(x, (flags & 4) ? NULL : secret, fake_key, 4096,
						   "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", &text) == 1);
		return after(a, x, AUTH_SASL_CHALLENGE, text);
	case AUTH_SASL_CHECK_SCRAM_PROOF:
		if (auth_sasl_scram_verify(x, &text) > 0)
			return after(a, x, AUTH_SASL_CHALLENGE, text);
		return false;
	case AUTH_SASL_CHECK_SCRAM_DONE:
		return false;
	}
	CHECK(false);
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	flags = data[0];
	const char *p = (const char *)data + 1;
	size_t len = size - 1;
	struct arena *a = arena_new();
	struct bytes lines[16];
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len && n < 16; i++) {
		if (i == len || p[i] == '\n') {
			lines[n++] = (struct bytes){ p + start, i - start };
			start = i + 1;
		}
	}
	for (size_t i = 1; i < n && !(flags & 2); i++) {
		const char *e = auth_base64_encode(a, lines[i].p, lines[i].len);
		lines[i] = (struct bytes){ e, strlen(e) };
	}
	struct auth_sasl *x = NULL;
	const char *text = NULL;
	size_t next = 1;
	const struct bytes *ir = (flags & 1) && n > 1 ? &lines[next++] : NULL;
	int st = auth_sasl_start(a, lines[0], ir, &x, &text);
	if (st == AUTH_SASL_NOMECH) {
		CHECK(text != NULL);
		arena_free(&a);
		return 0;
	}
	bool waiting = after(a, x, st, text);
	for (; next < n; next++) {
		st = auth_sasl_step(x, lines[next], &text);
		if (!waiting)
			CHECK(st == AUTH_SASL_BAD); /* nothing is accepted once it ended */
		waiting = after(a, x, st, text);
	}
	arena_free(&a);
	return 0;
}
