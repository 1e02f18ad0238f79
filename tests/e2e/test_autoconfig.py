"""Client autoconfiguration end to end: Thunderbird's config-v1.1.xml (both paths, on
HTTP without a redirect and on HTTPS), Outlook's POX Autodiscover and the Apple
.mobileconfig profile, each parsed (xml.etree, plistlib) and checked against what the
configuration says: the configured hostname and every standard port plus the offset."""

import http.client
import plistlib
import xml.etree.ElementTree as ET

import pytest

USER = "anna@example.test"


def get(srv, path, method="GET", body=None, tls=False, headers=None):
    if tls:
        c = http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(), timeout=10)
    else:
        c = http.client.HTTPConnection(srv.host, srv.port("http"), timeout=10)
    c.request(method, path, body, headers or {})
    r = c.getresponse()
    return r.status, r.read(), r


def expected(srv):
    off = srv.offset
    return {("imap", 993 + off, "SSL"), ("imap", 143 + off, "STARTTLS"), ("pop3", 995 + off, "SSL"),
            ("pop3", 110 + off, "STARTTLS"), ("smtp", 465 + off, "SSL"), ("smtp", 587 + off, "STARTTLS")}


@pytest.mark.parametrize("path", ["/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=anna%40example.test",
                                  "/mail/config-v1.1.xml?emailaddress=anna@example.test"])
@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_thunderbird(server, path, tls):
    st, body, r = get(server, path, tls=tls)
    assert st == 200, body
    assert r.getheader("Content-Type").startswith("application/xml")
    root = ET.fromstring(body)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    prov = root.find("emailProvider")
    assert prov.get("id") == "example.test" and prov.find("domain").text == "example.test"
    got = set()
    for tag in ("incomingServer", "outgoingServer"):
        for s in prov.findall(tag):
            assert s.find("hostname").text == server.tls_name
            assert s.find("username").text == "%EMAILADDRESS%"
            assert s.find("authentication").text == "password-cleartext"
            got.add((s.get("type"), int(s.find("port").text), s.find("socketType").text))
    assert got == expected(server)


def test_thunderbird_bad_address(server):
    st, _, _ = get(server, "/mail/config-v1.1.xml?emailaddress=%3Cscript%3E")
    assert st == 400


def test_outlook_autodiscover(server):
    req = ("<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/"
           "autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>%s</EMailAddress>"
           "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
           "</AcceptableResponseSchema></Request></Autodiscover>" % USER)
    for tls, path in ((False, "/autodiscover/autodiscover.xml"), (True, "/Autodiscover/Autodiscover.xml")):
        st, body, r = get(server, path, "POST", req, tls=tls, headers={"Content-Type": "text/xml"})
        assert st == 200, body
        ns = {"r": "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006",
              "a": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
        root = ET.fromstring(body)
        acct = root.find("a:Response/a:Account", ns)
        assert acct.find("a:AccountType", ns).text == "email" and acct.find("a:Action", ns).text == "settings"
        got = set()
        for p in acct.findall("a:Protocol", ns):
            assert p.find("a:Server", ns).text == server.tls_name
            assert p.find("a:LoginName", ns).text == USER
            ssl_on = p.find("a:SSL", ns).text == "on"
            got.add((p.find("a:Type", ns).text.lower(), int(p.find("a:Port", ns).text), "SSL" if ssl_on else "STARTTLS"))
        assert got == expected(server)


def test_apple_mobileconfig(server):
    for tls in (False, True):
        st, body, r = get(server, "/apple/mobileconfig?email=anna%40example.test", tls=tls)
        assert st == 200, body
        assert r.getheader("Content-Type") == "application/x-apple-aspen-config"
        assert "attachment" in r.getheader("Content-Disposition")
        prof = plistlib.loads(body)
        assert prof["PayloadType"] == "Configuration" and prof["PayloadVersion"] == 1
        mail = prof["PayloadContent"][0]
        assert mail["PayloadType"] == "com.apple.mail.managed"
        assert mail["EmailAddress"] == USER and mail["IncomingMailServerUsername"] == USER
        assert mail["EmailAccountType"] == "EmailTypeIMAP"
        assert mail["IncomingMailServerHostName"] == server.tls_name == mail["OutgoingMailServerHostName"]
        assert mail["IncomingMailServerPortNumber"] == 993 + server.offset and mail["IncomingMailServerUseSSL"]
        assert mail["OutgoingMailServerPortNumber"] == 465 + server.offset and mail["OutgoingMailServerUseSSL"]
    st, _, _ = get(server, "/apple/mobileconfig")
    assert st == 400


def test_http_still_redirects_the_rest(server):
    st, _, r = get(server, "/")
    assert st == 301 and r.getheader("Location").startswith("https://")
