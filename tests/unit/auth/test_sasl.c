/* test_sasl.c: the one SASL exchange (auth/sasl.h) that SMTP, IMAP and POP3 share:
 * PLAIN and LOGIN dialogues, "*" cancel, bad base64, the authorization identity rule,
 * and SCRAM-SHA-256 against the test vector of RFC 7677 §3 (user "user", password
 * "pencil"), a wrong proof, a foreign nonce, a missing secret, channel binding; and
 * the stored SCRAM secret (scram.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "sasl.h"
#include "scram.h"

static struct arena *a;

static int setup(void **state)
{
	(void)state;
	a = arena_new();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	arena_free(&a);
	return 0;
}

static struct bytes b64(const char *s, size_t n)
{
	const char *e = auth_base64_encode(a, s, n);
	return (struct bytes){ e, strlen(e) };
}

#define B64(lit) b64((lit), sizeof(lit) - 1)

static const char *unb64(const char *s)
{
	char *out;
	size_t n;
	const char *err;
	assert_int_equal(auth_base64_decode(a, (struct bytes){ s, strlen(s) }, &out, &n, &err), 1);
	return out;
}

static void test_plain(void **state)
{
	(void)state;
	struct auth_sasl *x;
	const char *text;
	/* initial response */
	struct bytes ir = B64("\0bob@example.test\0secret");
	assert_int_equal(auth_sasl_start(a, BYTES("plain"), &ir, &x, &text), AUTH_SASL_CHECK);
	assert_int_equal(auth_sasl_check_kind(x), AUTH_SASL_CHECK_PASSWORD);
	assert_string_equal(auth_sasl_user(x), "bob@example.test");
	assert_string_equal(auth_sasl_password(x), "secret");
	assert_string_equal(auth_sasl_mech_name(x), "PLAIN");
	/* empty challenge, then the response; authzid equal to the user is fine */
	assert_int_equal(auth_sasl_start(a, BYTES("PLAIN"), NULL, &x, &text), AUTH_SASL_CHALLENGE);
	assert_string_equal(text, "");
	assert_int_equal(auth_sasl_step(x, B64("bob\0bob\0pw"), &text), AUTH_SASL_CHECK);
	assert_string_equal(auth_sasl_user(x), "bob");
	/* nothing more is expected */
	assert_int_equal(auth_sasl_step(x, B64("bob\0bob\0pw"), &text), AUTH_SASL_BAD);
}

static void test_plain_errors(void **state)
{
	(void)state;
	struct auth_sasl *x;
	const char *text;
	struct bytes ir = B64("admin\0bob\0pw");
	assert_int_equal(auth_sasl_start(a, BYTES("PLAIN"), &ir, &x, &text), AUTH_SASL_AUTHZID);
	ir = BYTES("!!!!");
	assert_int_equal(auth_sasl_start(a, BYTES("PLAIN"), &ir, &x, &text), AUTH_SASL_BAD);
	assert_non_null(text);
	ir = BYTES("="); /* an empty initial response is no PLAIN message */
	assert_int_equal(auth_sasl_start(a, BYTES("PLAIN"), &ir, &x, &text), AUTH_SASL_BAD);
	assert_int_equal(auth_sasl_start(a, BYTES("PLAIN"), NULL, &x, &text), AUTH_SASL_CHALLENGE);
	assert_int_equal(auth_sasl_step(x, BYTES("*"), &text), AUTH_SASL_CANCELLED);
	assert_int_equal(auth_sasl_start(a, BYTES("PLAIN"), NULL, &x, &text), AUTH_SASL_CHALLENGE);
	assert_int_equal(auth_sasl_step(x, BYTES("aGVsbG9="), &text), AUTH_SASL_BAD); /* trailing bits */
	assert_int_equal(auth_sasl_start(a, BYTES("CRAM-MD5"), NULL, &x, &text), AUTH_SASL_NOMECH);
	/* every advertised mechanism is one the exchange runs */
	for (const char *m = AUTH_SASL_MECHS; *m != '\0';) {
		size_t n = strcspn(m, " ");
		assert_int_not_equal(auth_sasl_start(a, (struct bytes){ m, n }, NULL, &x, &text), AUTH_SASL_NOMECH);
		m += n + (m[n] == ' ');
	}
	assert_int_equal(auth_sasl_start(a, BYTES("SCRAM-SHA-256-PLUS"), NULL, &x, &text), AUTH_SASL_NOMECH);
}

static void test_login(void **state)
{
	(void)state;
	struct auth_sasl *x;
	const char *text;
	assert_int_equal(auth_sasl_start(a, BYTES("LOGIN"), NULL, &x, &text), AUTH_SASL_CHALLENGE);
	assert_string_equal(unb64(text), "Username:");
	assert_int_equal(auth_sasl_step(x, B64("bob@example.test"), &text), AUTH_SASL_CHALLENGE);
	assert_string_equal(unb64(text), "Password:");
	assert_int_equal(auth_sasl_step(x, B64("pass word"), &text), AUTH_SASL_CHECK);
	assert_string_equal(auth_sasl_user(x), "bob@example.test");
	assert_string_equal(auth_sasl_password(x), "pass word");
	/* the user name as initial response */
	struct bytes ir = B64("bob");
	assert_int_equal(auth_sasl_start(a, BYTES("login"), &ir, &x, &text), AUTH_SASL_CHALLENGE);
	assert_string_equal(unb64(text), "Password:");
	assert_int_equal(auth_sasl_step(x, BYTES("*"), &text), AUTH_SASL_CANCELLED);
	/* empty, NUL, bad base64 */
	assert_int_equal(auth_sasl_start(a, BYTES("LOGIN"), NULL, &x, &text), AUTH_SASL_CHALLENGE);
	assert_int_equal(auth_sasl_step(x, BYTES("="), &text), AUTH_SASL_BAD);
	assert_int_equal(auth_sasl_start(a, BYTES("LOGIN"), NULL, &x, &text), AUTH_SASL_CHALLENGE);
	assert_int_equal(auth_sasl_step(x, BYTES("AA=="), &text), AUTH_SASL_BAD);
	assert_int_equal(auth_sasl_start(a, BYTES("LOGIN"), NULL, &x, &text), AUTH_SASL_CHALLENGE);
	assert_int_equal(auth_sasl_step(x, BYTES("%%%"), &text), AUTH_SASL_BAD);
	/* after an error the exchange is over */
	assert_int_equal(auth_sasl_step(x, B64("bob"), &text), AUTH_SASL_BAD);
}

/* RFC 7677 §3 */
#define V_CFIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define V_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define V_SFIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define V_CFINAL                                                                                       \
	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"                                   \
	"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define V_SFINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static const unsigned char fake_key[32] = { 1, 2, 3 };

static char *vector_secret(void)
{
	char *salt;
	size_t n;
	const char *err;
	assert_int_equal(auth_base64_decode(a, BYTES("W22ZaJ0SNY7soEsUEjb6gQ=="), &salt, &n, &err), 1);
	char *secret = NULL;
	assert_int_equal(auth_scram_secret_make_salt("pencil", salt, n, 4096, &secret, &err), 1);
	return secret;
}

/* Runs the vector up to the client-final message; returns the exchange. */
static struct auth_sasl *scram_to_final(const char *secret, const char *cfinal, size_t cfinal_len, int *status_r)
{
	struct auth_sasl *x;
	const char *text;
	assert_int_equal(auth_sasl_start(a, BYTES("SCRAM-SHA-256"), NULL, &x, &text), AUTH_SASL_CHALLENGE);
	assert_string_equal(text, "");
	assert_int_equal(auth_sasl_step(x, B64(V_CFIRST), &text), AUTH_SASL_CHECK);
	assert_int_equal(auth_sasl_check_kind(x), AUTH_SASL_CHECK_SCRAM_LOOKUP);
	assert_string_equal(auth_sasl_user(x), "user");
	assert_int_equal(auth_sasl_scram_server_first(x, secret, fake_key, 4096, V_SNONCE, &text), 1);
	if (secret != NULL && strstr(secret, "W22ZaJ0SNY7soEsUEjb6gQ==") != NULL)
		assert_string_equal(unb64(text), V_SFIRST);
	*status_r = auth_sasl_step(x, b64(cfinal, cfinal_len), &text);
	return x;
}

static void test_scram_vector(void **state)
{
	(void)state;
	char *secret = vector_secret();
	int status;
	struct auth_sasl *x = scram_to_final(secret, V_CFINAL, strlen(V_CFINAL), &status);
	assert_int_equal(status, AUTH_SASL_CHECK);
	assert_int_equal(auth_sasl_check_kind(x), AUTH_SASL_CHECK_SCRAM_PROOF);
	const char *text;
	assert_int_equal(auth_sasl_scram_verify(x, &text), 1);
	assert_string_equal(unb64(text), V_SFINAL);
	/* the client's empty answer ends it */
	assert_int_equal(auth_sasl_step(x, BYTES(""), &text), AUTH_SASL_CHECK);
	assert_int_equal(auth_sasl_check_kind(x), AUTH_SASL_CHECK_SCRAM_DONE);
	free(secret);
}

static void test_scram_wrong_proof(void **state)
{
	(void)state;
	char *secret = vector_secret();
	/* one character of the proof changed */
	char cfinal[] = V_CFINAL;
	cfinal[strlen(cfinal) - 5] = cfinal[strlen(cfinal) - 5] == 'A' ? 'B' : 'A';
	int status;
	struct auth_sasl *x = scram_to_final(secret, cfinal, strlen(cfinal), &status);
	assert_int_equal(status, AUTH_SASL_CHECK);
	const char *text;
	assert_int_equal(auth_sasl_scram_verify(x, &text), 0);
	/* the right password against another salt: no */
	char *other = NULL;
	const char *err;
	assert_int_equal(auth_scram_secret_make("pencil", 4096, &other, &err), 1);
	x = scram_to_final(other, V_CFINAL, strlen(V_CFINAL), &status);
	assert_int_equal(status, AUTH_SASL_CHECK);
	assert_int_equal(auth_sasl_scram_verify(x, &text), 0);
	/* no secret (unknown user, or none stored yet): a fake salt, never verifies */
	x = scram_to_final(NULL, V_CFINAL, strlen(V_CFINAL), &status);
	assert_int_equal(status, AUTH_SASL_CHECK);
	assert_int_equal(auth_sasl_scram_verify(x, &text), 0);
	free(secret);
	free(other);
}

static void test_scram_nonce_mismatch(void **state)
{
	(void)state;
	char *secret = vector_secret();
	static const char cfinal[] = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1,"
				     "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	int status;
	scram_to_final(secret, cfinal, strlen(cfinal), &status);
	assert_int_equal(status, AUTH_SASL_BAD);
	/* the channel-binding echo must be the GS2 header */
	static const char cb[] = "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
				 "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	scram_to_final(secret, cb, strlen(cb), &status);
	assert_int_equal(status, AUTH_SASL_BAD);
	/* no proof, short proof */
	static const char noproof[] = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
	scram_to_final(secret, noproof, strlen(noproof), &status);
	assert_int_equal(status, AUTH_SASL_BAD);
	static const char shortp[] = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA";
	scram_to_final(secret, shortp, strlen(shortp), &status);
	assert_int_equal(status, AUTH_SASL_BAD);
	free(secret);
}

static void test_scram_first_errors(void **state)
{
	(void)state;
	static const struct {
		const char *msg;
		int status;
	} cases[] = {
		{ "n,,n=user,r=abc", AUTH_SASL_CHECK },
		{ "y,,n=user,r=abc", AUTH_SASL_CHECK },          /* client could bind, we offer no -PLUS */
		{ "n,a=user,n=user,r=abc", AUTH_SASL_CHECK },    /* authzid = user */
		{ "n,a=admin,n=user,r=abc", AUTH_SASL_AUTHZID }, /* authzid must be empty or the user */
		{ "p=tls-exporter,,n=user,r=abc", AUTH_SASL_BAD },
		{ "n,,m=x,n=user,r=abc", AUTH_SASL_BAD },        /* mandatory extension */
		{ "n,,n=,r=abc", AUTH_SASL_BAD },
		{ "n,,n=us=2Xer,r=abc", AUTH_SASL_BAD },         /* bad escape */
		{ "n,,n=user,r=", AUTH_SASL_BAD },
		{ "n,,n=user", AUTH_SASL_BAD },
		{ "n,,r=abc,n=user", AUTH_SASL_BAD },
		{ "x,,n=user,r=abc", AUTH_SASL_BAD },
		{ "n,n=user,r=abc", AUTH_SASL_BAD },
		{ "n", AUTH_SASL_BAD },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_sasl *x;
		const char *text;
		struct bytes ir = b64(cases[i].msg, strlen(cases[i].msg));
		int st = auth_sasl_start(a, BYTES("scram-sha-256"), &ir, &x, &text);
		if (st != cases[i].status)
			fail_msg("%s: %d, expected %d", cases[i].msg, st, cases[i].status);
	}
	/* "=2C" and "=3D" decode */
	struct auth_sasl *x;
	const char *text;
	struct bytes ir = B64("n,,n=a=2Cb=3Dc,r=abc");
	assert_int_equal(auth_sasl_start(a, BYTES("SCRAM-SHA-256"), &ir, &x, &text), AUTH_SASL_CHECK);
	assert_string_equal(auth_sasl_user(x), "a,b=c");
	/* a NUL in the message, cancel */
	ir = B64("n,,n=us\0er,r=abc");
	assert_int_equal(auth_sasl_start(a, BYTES("SCRAM-SHA-256"), &ir, &x, &text), AUTH_SASL_BAD);
	assert_int_equal(auth_sasl_start(a, BYTES("SCRAM-SHA-256"), NULL, &x, &text), AUTH_SASL_CHALLENGE);
	assert_int_equal(auth_sasl_step(x, BYTES("*"), &text), AUTH_SASL_CANCELLED);
}

static void test_scram_ack(void **state)
{
	(void)state;
	char *secret = vector_secret();
	int status;
	struct auth_sasl *x = scram_to_final(secret, V_CFINAL, strlen(V_CFINAL), &status);
	const char *text;
	assert_int_equal(auth_sasl_scram_verify(x, &text), 1);
	assert_int_equal(auth_sasl_step(x, B64("junk"), &text), AUTH_SASL_BAD);
	x = scram_to_final(secret, V_CFINAL, strlen(V_CFINAL), &status);
	assert_int_equal(auth_sasl_scram_verify(x, &text), 1);
	assert_int_equal(auth_sasl_step(x, BYTES("="), &text), AUTH_SASL_CHECK);
	free(secret);
}

static void test_scram_secret(void **state)
{
	(void)state;
	char *secret = vector_secret();
	assert_string_equal(secret, "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
				    "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
				    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
	struct auth_scram_secret sec;
	const char *err;
	assert_int_equal(auth_scram_secret_parse(secret, &sec, &err), 1);
	assert_int_equal(sec.iterations, 4096);
	assert_int_equal(sec.salt_len, 16);
	assert_int_equal(auth_scram_secret_parse("SCRAM-SHA-256$4096:W22Z$x:y", &sec, &err), -1);
	assert_int_equal(auth_scram_secret_parse("SCRAM-SHA-256$100:W22ZaJ0SNY7soEsUEjb6gQ==$"
						 "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
						 "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
						 &sec, &err),
			 -1); /* under the minimum */
	assert_int_equal(auth_scram_secret_parse("$y$j9T$abc", &sec, &err), -1);
	/* an unparsable stored secret is an error, not a login */
	struct auth_sasl *x;
	const char *text;
	struct bytes ir = B64(V_CFIRST);
	assert_int_equal(auth_sasl_start(a, BYTES("SCRAM-SHA-256"), &ir, &x, &text), AUTH_SASL_CHECK);
	assert_int_equal(auth_sasl_scram_server_first(x, "SCRAM-SHA-256$junk", fake_key, 4096, NULL, &text), -1);
	/* fresh secrets differ (random salt); iteration limits */
	char *s1 = NULL, *s2 = NULL;
	assert_int_equal(auth_scram_secret_make("pencil", 4096, &s1, &err), 1);
	assert_int_equal(auth_scram_secret_make("pencil", 4096, &s2, &err), 1);
	assert_string_not_equal(s1, s2);
	assert_int_equal(auth_scram_secret_make("pencil", 4095, &s2, &err), -1);
	assert_int_equal(auth_scram_secret_make("", 4096, &s2, &err), -1);
	free(s1);
	free(s2);
	free(secret);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scram_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scram_wrong_proof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scram_nonce_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scram_first_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scram_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scram_secret, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
