/* test_autoconfig.c: the autoconfiguration documents list exactly the configured
 * hostname and the standard ports plus the offset (checked by parsing the XML with
 * string searches per element), escape what they echo, and the Autodiscover request
 * parser takes only a plausible address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_thunderbird(void **state)
{
	struct buf b = { 0 };
	struct autoconfig_params p = { .hostname = "mail.example.test", .port_offset = 10000, .email = "anna@example.test" };
	web_autoconfig_thunderbird(&b, &p);
	const char *x = buf_str(&b);
	assert_non_null(strstr(x, "<clientConfig version=\"1.1\">"));
	assert_non_null(strstr(x, "<emailProvider id=\"example.test\">"));
	assert_int_equal(count(x, "<hostname>mail.example.test</hostname>"), 6);
	assert_int_equal(count(x, "<hostname>"), 6);
	static const char *const want[] = {
		"type=\"imap\">\n      <hostname>mail.example.test</hostname>\n      <port>10993</port>\n      <socketType>SSL",
		"type=\"imap\">\n      <hostname>mail.example.test</hostname>\n      <port>10143</port>\n      <socketType>STARTTLS",
		"type=\"pop3\">\n      <hostname>mail.example.test</hostname>\n      <port>10995</port>\n      <socketType>SSL",
		"type=\"pop3\">\n      <hostname>mail.example.test</hostname>\n      <port>10110</port>\n      <socketType>STARTTLS",
		"type=\"smtp\">\n      <hostname>mail.example.test</hostname>\n      <port>10465</port>\n      <socketType>SSL",
		"type=\"smtp\">\n      <hostname>mail.example.test</hostname>\n      <port>10587</port>\n      <socketType>STARTTLS",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strstr(x, want[i]) == NULL)
			fail_msg("missing %s in\n%s", want[i], x);
	}
	assert_int_equal(count(x, "<username>%EMAILADDRESS%</username>"), 6);
	assert_int_equal(count(x, "<outgoingServer"), 2);
	buf_free(&b);

	/* no address: the hostname stands in for the domain; and escaping */
	struct autoconfig_params q = { .hostname = "a<b>&c", .port_offset = 0, .email = NULL };
	web_autoconfig_thunderbird(&b, &q);
	x = buf_str(&b);
	assert_null(strstr(x, "a<b>"));
	assert_non_null(strstr(x, "a&lt;b&gt;&amp;c"));
	assert_non_null(strstr(x, "<port>993</port>"));
	buf_free(&b);
}

static void test_outlook(void **state)
{
	struct buf b = { 0 };
	struct autoconfig_params p = { .hostname = "mx.example.test", .port_offset = 0, .email = "anna@example.test" };
	web_autoconfig_outlook(&b, &p);
	const char *x = buf_str(&b);
	assert_non_null(strstr(x, "responseschema/2006a"));
	assert_int_equal(count(x, "<Server>mx.example.test</Server>"), 6);
	assert_int_equal(count(x, "<LoginName>anna@example.test</LoginName>"), 6);
	static const char *const want[] = {
		"<Type>IMAP</Type>\n        <Server>mx.example.test</Server>\n        <Port>993</Port>",
		"<Type>IMAP</Type>\n        <Server>mx.example.test</Server>\n        <Port>143</Port>",
		"<Type>POP3</Type>\n        <Server>mx.example.test</Server>\n        <Port>995</Port>",
		"<Type>POP3</Type>\n        <Server>mx.example.test</Server>\n        <Port>110</Port>",
		"<Type>SMTP</Type>\n        <Server>mx.example.test</Server>\n        <Port>465</Port>",
		"<Type>SMTP</Type>\n        <Server>mx.example.test</Server>\n        <Port>587</Port>",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strstr(x, want[i]) == NULL)
			fail_msg("missing %s in\n%s", want[i], x);
	}
	buf_free(&b);
}

static void test_apple(void **state)
{
	struct buf b = { 0 };
	struct autoconfig_params p = { .hostname = "mx.example.test", .port_offset = 20000, .email = "anna@example.test" };
	web_autoconfig_apple(&b, &p);
	const char *x = buf_str(&b);
	assert_non_null(strstr(x, "<key>IncomingMailServerPortNumber</key>\n      <integer>20993</integer>"));
	assert_non_null(strstr(x, "<key>OutgoingMailServerPortNumber</key>\n      <integer>20465</integer>"));
	assert_non_null(strstr(x, "<key>IncomingMailServerHostName</key>\n      <string>mx.example.test</string>"));
	assert_non_null(strstr(x, "<string>com.apple.mail.managed</string>"));
	assert_non_null(strstr(x, "<string>test.example.mx.postamt</string>"));
	assert_int_equal(count(x, "<key>PayloadUUID</key>"), 2);
	/* stable: the same input gives the same profile */
	struct buf c = { 0 };
	web_autoconfig_apple(&c, &p);
	assert_string_equal(buf_str(&b), buf_str(&c));
	buf_free(&b);
	buf_free(&c);
}

/* A self-signed server's profile carries its certificate as a root payload. */
static void test_apple_certificate(void **state)
{
	static const unsigned char der[70] = { 0x30, 0x82, 0x01, 0x02, 0xff, 0x00, 0x41 };
	struct buf b = { 0 };
	struct autoconfig_params p = { .hostname = "mx.example.test", .port_offset = 0, .email = "anna@example.test",
				       .cert_der = der, .cert_der_len = sizeof(der) };
	web_autoconfig_apple(&b, &p);
	const char *x = buf_str(&b);
	assert_int_equal(count(x, "<key>PayloadUUID</key>"), 3);
	assert_non_null(strstr(x, "<key>PayloadType</key>\n      <string>com.apple.security.root</string>"));
	assert_non_null(strstr(x, "<string>test.example.mx.postamt.certificate</string>"));
	/* base64 of the 70 bytes in lines of 64 characters (96 in all) */
	assert_non_null(strstr(x, "<data>\n      MIIBAv8AQQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
				  "      AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n      </data>"));
	/* the account payload and the outer dictionary are still there, once each */
	assert_int_equal(count(x, "<string>com.apple.mail.managed</string>"), 1);
	assert_int_equal(count(x, "<string>Configuration</string>"), 1);
	buf_free(&b);
}

static void test_email_domain(void **state)
{
	char d[16];
	assert_int_equal(web_autoconfig_email_domain("anna@Example.TEST", d, sizeof(d)), 1);
	assert_string_equal(d, "example.test");
	assert_int_equal(web_autoconfig_email_domain("\"a@b\"@other.test", d, sizeof(d)), 1);
	assert_string_equal(d, "other.test");
	assert_int_equal(web_autoconfig_email_domain("anna@", d, sizeof(d)), 0);
	assert_int_equal(web_autoconfig_email_domain("anna", d, sizeof(d)), 0);
	assert_int_equal(web_autoconfig_email_domain("anna@a-very-long-domain.test", d, sizeof(d)), 0);
}

static void test_request_email(void **state)
{
	char out[256];
	const char *req = "<?xml version=\"1.0\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
			  "outlook/requestschema/2006\"><Request><EMailAddress> anna@example.test </EMailAddress>"
			  "<AcceptableResponseSchema>x</AcceptableResponseSchema></Request></Autodiscover>";
	assert_int_equal(web_autoconfig_request_email(req, strlen(req), out, sizeof(out)), 1);
	assert_string_equal(out, "anna@example.test");
	static const char *const bad[] = {
		"<EMailAddress>a<b@c</EMailAddress>", "<EMailAddress></EMailAddress>", "<EMailAddress>nobody</EMailAddress>",
		"<EMailAddress>a@b", "no address", "<EMailAddress>a\"@b.test</EMailAddress>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(web_autoconfig_request_email(bad[i], strlen(bad[i]), out, sizeof(out)), 0);
	assert_true(web_autoconfig_email_ok("a.b+c@example.test"));
	assert_false(web_autoconfig_email_ok("a b@example.test"));
	assert_false(web_autoconfig_email_ok("@example.test"));
	assert_false(web_autoconfig_email_ok("a@"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thunderbird),
		cmocka_unit_test(test_outlook),
		cmocka_unit_test(test_apple),
		cmocka_unit_test(test_request_email),
		cmocka_unit_test(test_apple_certificate),
		cmocka_unit_test(test_email_domain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
