/* sasl_exchange.c: the SASL exchange state machine (see sasl.h).
 *
 * Pure: the exchange reads client lines and writes challenges into its arena; the
 * only outside inputs are the account's SCRAM secret and the server nonce, handed in
 * by auth_sasl_check (login.c) or by tests. PLAIN and LOGIN reuse the decoders of
 * sasl.c; SCRAM's messages (RFC 5802 §7) are parsed here with every attribute
 * checked: the GS2 header (no channel binding), the user name's =2C/=3D escapes, the
 * nonces (printable, no ","), the channel-binding echo and the proof length. */
#include "sasl.h"

#include "auth.h"

#include <openssl/sha.h>
#include <sodium.h>
#include <string.h>

enum phase {
	PH_PLAIN,       /* waiting for PLAIN's response */
	PH_LOGIN_USER,  /* waiting for LOGIN's user name */
	PH_LOGIN_PASS,  /* waiting for LOGIN's password */
	PH_PASSWORD,    /* PLAIN/LOGIN complete: check the password */
	PH_SCRAM_FIRST, /* waiting for the client-first message */
	PH_SCRAM_LOOKUP,/* client-first parsed: fetch the secret */
	PH_SCRAM_FINAL, /* server-first sent: waiting for the client-final message */
	PH_SCRAM_PROOF, /* client-final parsed: verify the proof */
	PH_SCRAM_ACK,   /* server-final sent: waiting for the empty answer */
	PH_SCRAM_DONE,  /* logged in */
	PH_OVER,        /* failed or cancelled */
};

enum mech { MECH_PLAIN, MECH_LOGIN, MECH_SCRAM };

struct auth_sasl {
	struct arena *a;
	enum mech mech;
	enum phase phase;
	const char *user, *password;
	/* SCRAM */
	const char *gs2;          /* the GS2 header as sent ("n,,"), for the c= echo */
	size_t gs2_len;
	const char *first_bare;   /* client-first-message-bare */
	const char *cnonce;
	const char *nonce;        /* client nonce + server nonce */
	const char *server_first;
	const char *final_bare;   /* client-final-message-without-proof */
	unsigned char proof[AUTH_SCRAM_KEY_LEN];
	struct auth_scram_secret secret;
	bool real_secret;
	/* the account, between the proof and the last line */
	int64_t account_id;
	const char *address;
};

static const char *const mech_names[] = { "PLAIN", "LOGIN", "SCRAM-SHA-256" };

static int fail(struct auth_sasl *x, int status, const char *why, const char **text_r)
{
	x->phase = PH_OVER;
	*text_r = why;
	return status;
}

/* ---- PLAIN and LOGIN ---- */

static int plain_response(struct auth_sasl *x, struct bytes b64, const char **text_r)
{
	struct auth_sasl_plain p;
	const char *error;
	if (auth_sasl_plain_decode(x->a, b64, &p, &error) < 0)
		return fail(x, AUTH_SASL_BAD, error, text_r);
	if (p.authzid[0] != '\0' && strcmp(p.authzid, p.authcid) != 0)
		return fail(x, AUTH_SASL_AUTHZID, "Authorization identity must be empty or equal the user", text_r);
	x->user = p.authcid;
	x->password = p.password;
	x->phase = PH_PASSWORD;
	*text_r = NULL;
	return AUTH_SASL_CHECK;
}

static int login_response(struct auth_sasl *x, struct bytes b64, const char **text_r)
{
	const char *value, *error;
	if (auth_sasl_login_decode(x->a, b64, &value, &error) < 0)
		return fail(x, AUTH_SASL_BAD, error, text_r);
	if (x->phase == PH_LOGIN_USER) {
		if (strlen(value) > 255)
			return fail(x, AUTH_SASL_BAD, "LOGIN user name too long", text_r);
		x->user = value;
		x->phase = PH_LOGIN_PASS;
		*text_r = AUTH_SASL_LOGIN_PASS_CHALLENGE;
		return AUTH_SASL_CHALLENGE;
	}
	x->password = value;
	x->phase = PH_PASSWORD;
	*text_r = NULL;
	return AUTH_SASL_CHECK;
}

/* ---- SCRAM messages ---- */

/* The decoded message of a SCRAM line: no NUL, not empty. */
static int scram_decode(struct auth_sasl *x, struct bytes b64, struct bytes *msg_r, const char **error_r)
{
	char *dec;
	size_t n;
	if (auth_base64_decode(x->a, b64, &dec, &n, error_r) < 0)
		return -1;
	if (n == 0 || memchr(dec, '\0', n) != NULL) {
		*error_r = n == 0 ? "empty SCRAM message" : "NUL in SCRAM message";
		return -1;
	}
	*msg_r = (struct bytes){ dec, n };
	return 1;
}

/* Cuts the next ","-separated attribute off *m. */
static struct bytes next_attr(struct bytes *m)
{
	const char *comma = memchr(m->p, ',', m->len);
	size_t n = comma ? (size_t)(comma - m->p) : m->len;
	struct bytes attr = { m->p, n };
	m->p += comma ? n + 1 : n;
	m->len -= comma ? n + 1 : n;
	return attr;
}

/* attr is "k=value": the value, or -1. */
static int attr_value(struct bytes attr, char k, struct bytes *v_r)
{
	if (attr.len < 2 || attr.p[0] != k || attr.p[1] != '=' || attr.len - 2 > AUTH_SASL_SCRAM_FIELD_MAX)
		return -1;
	*v_r = (struct bytes){ attr.p + 2, attr.len - 2 };
	return 1;
}

/* saslname (RFC 5802 §5.1): "=2C" is ",", "=3D" is "=", no other "=", no controls. */
static int saslname(struct arena *a, struct bytes v, const char **out_r)
{
	if (v.len == 0 || v.len > 3 * 255)
		return -1;
	char *out = arena_alloc(a, v.len + 1);
	size_t o = 0;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c == '=') {
			if (i + 2 >= v.len || (v.p[i + 1] != '2' && v.p[i + 1] != '3'))
				return -1;
			if (v.p[i + 1] == '2' && v.p[i + 2] == 'C')
				out[o++] = ',';
			else if (v.p[i + 1] == '3' && v.p[i + 2] == 'D')
				out[o++] = '=';
			else
				return -1;
			i += 2;
		} else if (c < 0x20 || c == 0x7f) {
			return -1;
		} else {
			out[o++] = (char)c;
		}
	}
	if (o > 255)
		return -1;
	out[o] = '\0';
	*out_r = out;
	return 1;
}

static bool nonce_valid(struct bytes v)
{
	if (v.len == 0)
		return false;
	for (size_t i = 0; i < v.len; i++)
		if (v.p[i] < 0x21 || v.p[i] > 0x7e || v.p[i] == ',')
			return false;
	return true;
}

/* client-first-message = gs2-header client-first-message-bare */
static int scram_first(struct auth_sasl *x, struct bytes b64, const char **text_r)
{
	struct bytes m, v;
	const char *error;
	if (scram_decode(x, b64, &m, &error) < 0)
		return fail(x, AUTH_SASL_BAD, error, text_r);
	struct bytes whole = m;
	struct bytes flag = next_attr(&m);
	if (flag.len >= 2 && flag.p[0] == 'p' && flag.p[1] == '=')
		return fail(x, AUTH_SASL_BAD, "SCRAM channel binding is not supported", text_r);
	if (flag.len != 1 || (flag.p[0] != 'n' && flag.p[0] != 'y'))
		return fail(x, AUTH_SASL_BAD, "bad SCRAM GS2 header", text_r);
	struct bytes authz = next_attr(&m);
	const char *authzid = NULL;
	if (authz.len > 0 && (attr_value(authz, 'a', &v) < 0 || saslname(x->a, v, &authzid) < 0))
		return fail(x, AUTH_SASL_BAD, "bad SCRAM authorization identity", text_r);
	if (m.p == authz.p + authz.len) /* no "," after the authzid */
		return fail(x, AUTH_SASL_BAD, "bad SCRAM GS2 header", text_r);
	x->gs2 = whole.p;
	x->gs2_len = (size_t)(m.p - whole.p);
	x->first_bare = arena_strndup(x->a, m.p, m.len);
	struct bytes attr = next_attr(&m);
	if (attr.len >= 2 && attr.p[0] == 'm' && attr.p[1] == '=')
		return fail(x, AUTH_SASL_BAD, "SCRAM extensions are not supported", text_r);
	if (attr_value(attr, 'n', &v) < 0 || saslname(x->a, v, &x->user) < 0)
		return fail(x, AUTH_SASL_BAD, "bad SCRAM user name", text_r);
	if (attr_value(next_attr(&m), 'r', &v) < 0 || !nonce_valid(v))
		return fail(x, AUTH_SASL_BAD, "bad SCRAM client nonce", text_r);
	x->cnonce = arena_strndup(x->a, v.p, v.len);
	if (authzid != NULL && strcmp(authzid, x->user) != 0)
		return fail(x, AUTH_SASL_AUTHZID, "Authorization identity must be empty or equal the user", text_r);
	x->phase = PH_SCRAM_LOOKUP;
	*text_r = NULL;
	return AUTH_SASL_CHECK;
}

/* client-final-message = channel-binding "," nonce ["," extensions] "," proof */
static int scram_final(struct auth_sasl *x, struct bytes b64, const char **text_r)
{
	struct bytes m, v;
	const char *error;
	if (scram_decode(x, b64, &m, &error) < 0)
		return fail(x, AUTH_SASL_BAD, error, text_r);
	const char *p = NULL;
	for (size_t i = m.len; i >= 3 && p == NULL; i--)
		if (memcmp(m.p + i - 3, ",p=", 3) == 0)
			p = m.p + i - 3;
	if (p == NULL)
		return fail(x, AUTH_SASL_BAD, "SCRAM proof missing", text_r);
	x->final_bare = arena_strndup(x->a, m.p, (size_t)(p - m.p));
	struct bytes proof = { p + 3, m.len - (size_t)(p - m.p) - 3 };
	m.len = (size_t)(p - m.p);
	char *cb;
	size_t cblen;
	if (attr_value(next_attr(&m), 'c', &v) < 0 || auth_base64_decode(x->a, v, &cb, &cblen, &error) < 0 ||
	    cblen != x->gs2_len || memcmp(cb, x->gs2, cblen) != 0)
		return fail(x, AUTH_SASL_BAD, "SCRAM channel binding does not match", text_r);
	if (attr_value(next_attr(&m), 'r', &v) < 0 || v.len != strlen(x->nonce) ||
	    memcmp(v.p, x->nonce, v.len) != 0)
		return fail(x, AUTH_SASL_BAD, "SCRAM nonce does not match", text_r);
	char *pr;
	size_t prlen;
	if (auth_base64_decode(x->a, proof, &pr, &prlen, &error) < 0 || prlen != AUTH_SCRAM_KEY_LEN)
		return fail(x, AUTH_SASL_BAD, "bad SCRAM proof", text_r);
	memcpy(x->proof, pr, prlen);
	x->phase = PH_SCRAM_PROOF;
	*text_r = NULL;
	return AUTH_SASL_CHECK;
}

int auth_sasl_scram_server_first(struct auth_sasl *x, const char *secret, const unsigned char fake_key[32],
				 unsigned iterations, const char *nonce, const char **text_r)
{
	const char *error;
	x->real_secret = false;
	if (secret != NULL) {
		if (auth_scram_secret_parse(secret, &x->secret, &error) < 0)
			return fail(x, AUTH_SASL_BAD, error, text_r);
		x->real_secret = true;
	} else {
		/* the same salt for the same name every time, as a real one would be */
		unsigned char h[AUTH_SCRAM_KEY_LEN];
		const char *lower = arena_strdup(x->a, x->user);
		for (char *q = (char *)lower; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
		auth_scram_hmac(fake_key, 32, lower, strlen(lower), h);
		memcpy(x->secret.salt, h, AUTH_SCRAM_SALT_LEN);
		x->secret.salt_len = AUTH_SCRAM_SALT_LEN;
		x->secret.iterations = iterations;
		randombytes_buf(x->secret.stored_key, sizeof(x->secret.stored_key));
		randombytes_buf(x->secret.server_key, sizeof(x->secret.server_key));
	}
	if (nonce == NULL) {
		unsigned char r[18];
		randombytes_buf(r, sizeof(r));
		nonce = auth_base64_encode(x->a, r, sizeof(r));
	}
	x->nonce = arena_printf(x->a, "%s%s", x->cnonce, nonce);
	x->server_first = arena_printf(x->a, "r=%s,s=%s,i=%u", x->nonce,
				       auth_base64_encode(x->a, x->secret.salt, x->secret.salt_len),
				       x->secret.iterations);
	x->phase = PH_SCRAM_FINAL;
	*text_r = auth_base64_encode(x->a, x->server_first, strlen(x->server_first));
	return 1;
}

int auth_sasl_scram_verify(struct auth_sasl *x, const char **text_r)
{
	const char *msg = arena_printf(x->a, "%s,%s,%s", x->first_bare, x->server_first, x->final_bare);
	unsigned char sig[AUTH_SCRAM_KEY_LEN], key[AUTH_SCRAM_KEY_LEN], stored[AUTH_SCRAM_KEY_LEN];
	auth_scram_hmac(x->secret.stored_key, AUTH_SCRAM_KEY_LEN, msg, strlen(msg), sig);
	for (size_t i = 0; i < AUTH_SCRAM_KEY_LEN; i++)
		key[i] = x->proof[i] ^ sig[i];
	SHA256(key, sizeof(key), stored);
	bool ok = sodium_memcmp(stored, x->secret.stored_key, AUTH_SCRAM_KEY_LEN) == 0 && x->real_secret;
	sodium_memzero(key, sizeof(key));
	if (!ok) {
		x->phase = PH_OVER;
		*text_r = NULL;
		return 0;
	}
	auth_scram_hmac(x->secret.server_key, AUTH_SCRAM_KEY_LEN, msg, strlen(msg), sig);
	const char *final = arena_printf(x->a, "v=%s", auth_base64_encode(x->a, sig, sizeof(sig)));
	x->phase = PH_SCRAM_ACK;
	*text_r = auth_base64_encode(x->a, final, strlen(final));
	return 1;
}

/* ---- the exchange ---- */

int auth_sasl_start(struct arena *a, struct bytes mech, const struct bytes *ir, struct auth_sasl **x_r,
		    const char **text_r)
{
	int m = -1;
	for (size_t i = 0; i < sizeof(mech_names) / sizeof(mech_names[0]); i++)
		if (bytes_ieq(mech, mech_names[i]))
			m = (int)i;
	if (m < 0) {
		*text_r = "Unsupported authentication mechanism";
		return AUTH_SASL_NOMECH;
	}
	struct auth_sasl *x = arena_alloc(a, sizeof(*x));
	memset(x, 0, sizeof(*x));
	x->a = a;
	x->mech = (enum mech)m;
	x->phase = x->mech == MECH_PLAIN ? PH_PLAIN : x->mech == MECH_LOGIN ? PH_LOGIN_USER : PH_SCRAM_FIRST;
	*x_r = x;
	if (ir != NULL)
		return x->mech == MECH_PLAIN ? plain_response(x, *ir, text_r)
		       : x->mech == MECH_LOGIN ? login_response(x, *ir, text_r)
					       : scram_first(x, *ir, text_r);
	*text_r = x->mech == MECH_LOGIN ? AUTH_SASL_LOGIN_USER_CHALLENGE : ""; /* an empty challenge */
	return AUTH_SASL_CHALLENGE;
}

int auth_sasl_step(struct auth_sasl *x, struct bytes line, const char **text_r)
{
	if (x->phase == PH_OVER || x->phase == PH_PASSWORD || x->phase == PH_SCRAM_LOOKUP ||
	    x->phase == PH_SCRAM_PROOF || x->phase == PH_SCRAM_DONE)
		return fail(x, AUTH_SASL_BAD, "SASL exchange is not waiting for a response", text_r);
	if (auth_sasl_is_cancel(line))
		return fail(x, AUTH_SASL_CANCELLED, "Authentication cancelled", text_r);
	switch (x->phase) {
	case PH_PLAIN:
		return plain_response(x, line, text_r);
	case PH_LOGIN_USER:
	case PH_LOGIN_PASS:
		return login_response(x, line, text_r);
	case PH_SCRAM_FIRST:
		return scram_first(x, line, text_r);
	case PH_SCRAM_FINAL:
		return scram_final(x, line, text_r);
	case PH_SCRAM_ACK:
		if (line.len > 1 || (line.len == 1 && line.p[0] != '='))
			return fail(x, AUTH_SASL_BAD, "SCRAM expects an empty response", text_r);
		x->phase = PH_SCRAM_DONE;
		*text_r = NULL;
		return AUTH_SASL_CHECK;
	default:
		return fail(x, AUTH_SASL_BAD, "SASL exchange is not waiting for a response", text_r);
	}
}

enum auth_sasl_check_kind auth_sasl_check_kind(const struct auth_sasl *x)
{
	switch (x->phase) {
	case PH_SCRAM_LOOKUP:
		return AUTH_SASL_CHECK_SCRAM_LOOKUP;
	case PH_SCRAM_PROOF:
		return AUTH_SASL_CHECK_SCRAM_PROOF;
	case PH_SCRAM_DONE:
		return AUTH_SASL_CHECK_SCRAM_DONE;
	default:
		return AUTH_SASL_CHECK_PASSWORD;
	}
}

const char *auth_sasl_mech_name(const struct auth_sasl *x)
{
	return mech_names[x->mech];
}

const char *auth_sasl_user(const struct auth_sasl *x)
{
	return x->user;
}

const char *auth_sasl_password(const struct auth_sasl *x)
{
	return x->password;
}

void auth_sasl_set_account(struct auth_sasl *x, int64_t account_id, const char *address)
{
	x->account_id = account_id;
	x->address = address != NULL ? arena_strdup(x->a, address) : NULL;
}

int64_t auth_sasl_account_id(const struct auth_sasl *x)
{
	return x->account_id;
}

const char *auth_sasl_address(const struct auth_sasl *x)
{
	return x->address;
}
