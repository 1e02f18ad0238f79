"""Client autoconfiguration end to end: Thunderbird's config-v1.1.xml (both paths, on
HTTP without a redirect and on HTTPS), Outlook's POX Autodiscover and the Apple
.mobileconfig profile, each parsed (xml.etree, plistlib) and checked against what the
configuration says: the configured hostname and every standard port plus the offset."""

import http.client
import plistlib
import shutil
import ssl
import subprocess
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


# ---------------------------------------------------------------- hosted domains only
# (docs/security.md, outside review December 2026): a server answers autoconfiguration
# only for the domains it hosts; for any other it would claim to be their mail server.


def _outlook_request(address):
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/"
            "autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>%s</EMailAddress>"
            "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
            "</AcceptableResponseSchema></Request></Autodiscover>" % address)


def _all_documents(srv, address, tls):
    """The status of each autoconfiguration document for address."""
    q = address.replace("@", "%40")
    out = {}
    for path in ("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=" + q,
                 "/mail/config-v1.1.xml?emailaddress=" + q, "/apple/mobileconfig?email=" + q):
        out[path.split("?")[0]] = get(srv, path, tls=tls)[0]
    out["autodiscover"] = get(srv, "/autodiscover/autodiscover.xml", "POST", _outlook_request(address), tls=tls,
                              headers={"Content-Type": "text/xml"})[0]
    return out


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_only_hosted_domains(server, tls):
    for address in ("anna@other.test", "anna@example.test.other.test", "x@test"):
        got = _all_documents(server, address, tls)
        assert set(got.values()) == {404}, (address, got)
    for address in (USER, "nobody-yet@example.test", "Anna@EXAMPLE.Test"):
        got = _all_documents(server, address, tls)
        assert set(got.values()) == {200}, (address, got)
    # without an address Thunderbird's document names the server's own hostname
    assert get(server, "/mail/config-v1.1.xml", tls=tls)[0] == 200


def test_added_domain_is_answered(make_server):
    srv = make_server()
    assert set(_all_documents(srv, "anna@other.test", False).values()) == {404}
    r = srv.run("domain", "add", "other.test")
    assert r.returncode == 0, r.stderr
    assert set(_all_documents(srv, "anna@other.test", False).values()) == {200}


# ---------------------------------------------------------------- the certificate in the Apple profile


def _cert_payloads(body):
    return [p for p in plistlib.loads(body)["PayloadContent"]
            if p["PayloadType"] in ("com.apple.security.root", "com.apple.security.pem", "com.apple.security.pkcs1")]


def test_apple_profile_has_the_self_signed_certificate(server):
    with open(server.cafile) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    for tls in (False, True):
        st, body, _ = get(server, "/apple/mobileconfig?email=anna%40example.test", tls=tls)
        assert st == 200, body
        certs = _cert_payloads(body)
        assert [p["PayloadContent"] for p in certs] == [der]
        assert certs[0]["PayloadType"] == "com.apple.security.root"
        uuids = [p["PayloadUUID"] for p in plistlib.loads(body)["PayloadContent"]] + [plistlib.loads(body)["PayloadUUID"]]
        assert len(set(uuids)) == 3


def test_apple_profile_without_a_ca_issued_certificate(make_server, tmp_path):
    """A certificate from a CA (here a test CA) is trusted through that CA: not in the profile."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp_path)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=postamt test CA", "-keyout", "ca.key", "-out", "ca.pem")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/CN=localhost", "-keyout", "leaf.key", "-out", "leaf.csr")
    (tmp_path / "ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", "ext", "-out", "leaf.pem")
    srv = make_server(start=False)
    shutil.copy(tmp_path / "leaf.pem", srv.cafile)
    shutil.copy(tmp_path / "leaf.key", srv.keyfile)
    srv.start()
    st, body, _ = get(srv, "/apple/mobileconfig?email=anna%40example.test")
    assert st == 200, body
    assert _cert_payloads(body) == []
    assert plistlib.loads(body)["PayloadContent"][0]["PayloadType"] == "com.apple.mail.managed"
