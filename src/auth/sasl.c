/* sasl.c: base64 and the SASL PLAIN and LOGIN decoders (see auth.h).
 *
 * Pure functions over client bytes: no sockets, no global state. Every field is
 * checked for length and control bytes here, so protocol code can pass the results
 * straight to the account lookup. */
#include "auth.h"
#include "textfmt.h"

#include <string.h>

int auth_base64_decode(struct arena *a, struct bytes in, char **out_r, size_t *len_r,
		       const char **error_r)
{
	if (in.len == 1 && in.p[0] == '=') {
		*out_r = arena_strndup(a, "", 0);
		*len_r = 0;
		return 1;
	}
	size_t n = in.len;
	size_t pad = 0;
	while (n > 0 && in.p[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (pad > 0 && (n + pad) % 4 != 0) {
		*error_r = "invalid base64 padding";
		return -1;
	}
	if (n % 4 == 1) {
		*error_r = "invalid base64 length";
		return -1;
	}
	char *out = arena_alloc(a, n / 4 * 3 + 4);
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = textfmt_base64_digit((unsigned char)in.p[i]);
		if (v < 0) {
			*error_r = "invalid base64 character";
			return -1;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	/* Leftover bits must be zero (canonical encoding). */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
		*error_r = "invalid base64 trailing bits";
		return -1;
	}
	out[o] = '\0';
	*out_r = out;
	*len_r = o;
	return 1;
}

char *auth_base64_encode(struct arena *a, const void *data, size_t len)
{
	char *out = arena_alloc(a, TEXTFMT_BASE64_LEN(len));
	textfmt_base64(data, len, out, TEXTFMT_BASE64_LEN(len));
	return out;
}

static bool has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

int auth_sasl_plain_parse(struct arena *a, struct bytes msg, struct auth_sasl_plain *out_r,
			  const char **error_r)
{
	const char *nul1 = memchr(msg.p, '\0', msg.len);
	if (nul1 == NULL) {
		*error_r = "PLAIN response has no NUL separator";
		return -1;
	}
	size_t zlen = (size_t)(nul1 - msg.p);
	const char *rest = nul1 + 1;
	size_t restlen = msg.len - zlen - 1;
	const char *nul2 = memchr(rest, '\0', restlen);
	if (nul2 == NULL) {
		*error_r = "PLAIN response has only one NUL separator";
		return -1;
	}
	size_t clen = (size_t)(nul2 - rest);
	const char *pw = nul2 + 1;
	size_t plen = restlen - clen - 1;
	if (memchr(pw, '\0', plen) != NULL) {
		*error_r = "PLAIN response has too many NUL separators";
		return -1;
	}
	if (clen == 0) {
		*error_r = "empty authentication identity";
		return -1;
	}
	if (plen == 0) {
		*error_r = "empty password";
		return -1;
	}
	if (zlen > 255 || clen > 255 || plen > AUTH_PASSWORD_MAX) {
		*error_r = "PLAIN field too long";
		return -1;
	}
	if (has_ctl(msg.p, zlen) || has_ctl(rest, clen) || has_ctl(pw, plen)) {
		*error_r = "control character in PLAIN response";
		return -1;
	}
	out_r->authzid = arena_strndup(a, msg.p, zlen);
	out_r->authcid = arena_strndup(a, rest, clen);
	out_r->password = arena_strndup(a, pw, plen);
	return 1;
}

int auth_sasl_plain_decode(struct arena *a, struct bytes b64, struct auth_sasl_plain *out_r,
			   const char **error_r)
{
	char *dec;
	size_t n;
	if (auth_base64_decode(a, b64, &dec, &n, error_r) < 0)
		return -1;
	return auth_sasl_plain_parse(a, (struct bytes){ dec, n }, out_r, error_r);
}

int auth_sasl_login_decode(struct arena *a, struct bytes b64, const char **out_r,
			   const char **error_r)
{
	char *dec;
	size_t n;
	if (auth_base64_decode(a, b64, &dec, &n, error_r) < 0)
		return -1;
	if (n == 0) {
		*error_r = "empty LOGIN response";
		return -1;
	}
	if (n > AUTH_PASSWORD_MAX) {
		*error_r = "LOGIN response too long";
		return -1;
	}
	if (memchr(dec, '\0', n) != NULL || has_ctl(dec, n)) {
		*error_r = "control character in LOGIN response";
		return -1;
	}
	*out_r = dec;
	return 1;
}

bool auth_sasl_is_cancel(struct bytes line)
{
	return line.len == 1 && line.p[0] == '*';
}
