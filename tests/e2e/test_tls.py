"""TLS: implicit TLS on 465/993/995/443 (+offset), STARTTLS on 25/587/143/110 (+offset),
checked with Python's ssl and protocol libraries, openssl s_client and swaks. The
certificate is the one `postamt init` generated; clients verify it for "localhost"."""

import imaplib
import poplib
import smtplib
import socket
import ssl
import subprocess
import warnings

import pytest

from conftest import IMPLICIT_TLS, TLS_NAME

STARTTLS_SERVICES = {"smtp": "smtp", "submission": "smtp", "imap": "imap", "pop3": "pop3"}


def file_cert_der(path):
    with open(path) as f:
        pem = f.read()
    start = pem.index("-----BEGIN CERTIFICATE-----")
    end = pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return ssl.PEM_cert_to_DER_cert(pem[start:end])


def old_tls_context():
    """A client that offers TLS 1.0/1.1 only (and weak ciphers, so it can)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    return ctx


def first_line_after_tls(server, service, c):
    """Reads the greeting on an implicit-TLS port, or for HTTPS does a GET /."""
    if service == "https":
        c.send("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        return c.readline()
    return c.readline()


GREETING_PREFIX = {"submissions": "220 ", "imaps": "* OK", "pop3s": "+OK", "https": "HTTP/1."}


# -- implicit TLS ------------------------------------------------------------------

@pytest.mark.parametrize("service", IMPLICIT_TLS)
def test_implicit_tls_handshake(server, service):
    with server.tls_connect(service) as c:
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3"), c.sock.version()
        assert c.sock.getpeercert(binary_form=True) == file_cert_der(server.cafile), \
            "server presents a certificate other than tls/cert.pem"
        line = first_line_after_tls(server, service, c)
        assert line.startswith(GREETING_PREFIX[service]), line


@pytest.mark.parametrize("service", IMPLICIT_TLS)
def test_implicit_tls_1_2(server, service):
    ctx = server.ssl_context(maximum_version=ssl.TLSVersion.TLSv1_2)
    with server.tls_connect(service, ctx) as c:
        assert c.sock.version() == "TLSv1.2"
        assert first_line_after_tls(server, service, c).startswith(GREETING_PREFIX[service])


@pytest.mark.parametrize("service", IMPLICIT_TLS)
def test_implicit_tls_1_3(server, service):
    ctx = server.ssl_context(minimum_version=ssl.TLSVersion.TLSv1_3)
    with server.tls_connect(service, ctx) as c:
        assert c.sock.version() == "TLSv1.3"


@pytest.mark.parametrize("service", IMPLICIT_TLS)
def test_tls_1_1_refused(server, service):
    raw = socket.create_connection((server.host, server.port(service)), timeout=5)
    try:
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError, EOFError)):
            s = old_tls_context().wrap_socket(raw, server_hostname=TLS_NAME)
            raw = s
            pytest.fail("TLS handshake succeeded with %s" % s.version())
    finally:
        raw.close()
    # The port still works for a modern client.
    with server.tls_connect(service) as c:
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")


@pytest.mark.parametrize("service", IMPLICIT_TLS)
def test_weak_ciphers_refused(server, service):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("3DES:RC4:NULL:EXPORT:DES:@SECLEVEL=0")
    raw = socket.create_connection((server.host, server.port(service)), timeout=5)
    try:
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError, EOFError)):
            s = ctx.wrap_socket(raw, server_hostname=TLS_NAME)
            raw = s
            pytest.fail("handshake succeeded with %s" % (s.cipher(),))
    finally:
        raw.close()


@pytest.mark.parametrize("sni", [None, "unknown.example.org"], ids=["no-sni", "other-sni"])
def test_handshake_without_matching_sni(server, sni):
    # Clients that send no SNI (or another name) still get the server's certificate.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(server.cafile)
    raw = socket.create_connection((server.host, server.port("imaps")), timeout=5)
    with ctx.wrap_socket(raw, server_hostname=sni) as s:
        assert s.getpeercert(binary_form=True) == file_cert_der(server.cafile)


def test_tls_1_1_refused_after_starttls(server):
    with server.connect("smtp") as c:
        c.readline()
        c.sendline("EHLO client.example.org")
        c.read_smtp_reply()
        c.sendline("STARTTLS")
        assert c.readline().startswith("220 ")
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError, EOFError)):
            c.starttls(old_tls_context())
            pytest.fail("TLS 1.1 handshake accepted after STARTTLS")


def test_tls_session_resumption(server):
    ctx = server.ssl_context()
    with server.tls_connect("imaps", ctx) as c:
        c.readline()  # TLS 1.3 tickets arrive with the first data
        session = c.sock.session
    assert session is not None
    raw = socket.create_connection((server.host, server.port("imaps")), timeout=5)
    s = ctx.wrap_socket(raw, server_hostname=TLS_NAME, session=session)
    try:
        assert s.session_reused, "TLS session was not resumed"
    finally:
        s.close()


@pytest.mark.parametrize("service", IMPLICIT_TLS)
def test_openssl_s_client_implicit(server, service):
    r = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (server.host, server.port(service)),
                        "-servername", TLS_NAME, "-CAfile", server.cafile, "-verify_return_error",
                        "-verify_hostname", TLS_NAME, "-brief"],
                       input="", capture_output=True, text=True, timeout=20)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "Verification: OK" in out, out


# -- STARTTLS ---------------------------------------------------------------------

@pytest.mark.parametrize("service", sorted(STARTTLS_SERVICES))
def test_openssl_s_client_starttls(server, service):
    r = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (server.host, server.port(service)),
                        "-starttls", STARTTLS_SERVICES[service], "-servername", TLS_NAME,
                        "-CAfile", server.cafile, "-verify_return_error", "-verify_hostname", TLS_NAME,
                        "-brief"],
                       input="", capture_output=True, text=True, timeout=20)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "Verification: OK" in out, out


@pytest.mark.parametrize("service", ["smtp", "submission"])
def test_smtplib_starttls(server, service):
    with smtplib.SMTP(server.host, server.port(service), local_hostname="client.example.org", timeout=5) as s:
        s.ehlo()
        assert s.has_extn("starttls")
        code, msg = s.starttls(context=server.ssl_context())
        assert code == 220, msg
        assert msg.startswith(b"2.0.0"), msg
        assert s.sock.version() in ("TLSv1.2", "TLSv1.3")
        code, _ = s.ehlo()
        assert code == 250
        assert not s.has_extn("starttls"), "STARTTLS offered again inside TLS (RFC 3207 4.2)"
        assert s.has_extn("pipelining")
        assert s.noop()[0] == 250


def test_smtp_starttls_reply_text(server):
    with server.connect("smtp") as c:
        c.readline()
        c.sendline("EHLO client.example.org")
        c.read_smtp_reply()
        c.sendline("STARTTLS")
        assert c.readline() == "220 2.0.0 Ready to start TLS"


def test_smtp_starttls_twice_refused(server):
    with server.connect("smtp") as c:
        c.readline()
        c.sendline("EHLO client.example.org")
        c.read_smtp_reply()
        c.sendline("STARTTLS")
        assert c.readline().startswith("220")
        c.starttls(server.ssl_context())
        c.sendline("EHLO client.example.org")
        c.read_smtp_reply()
        c.sendline("STARTTLS")
        reply = c.readline()
        assert reply.startswith("5"), "second STARTTLS: %r" % reply
        c.sendline("NOOP")
        assert c.readline().startswith("250")


def test_smtps_starttls_refused(server):
    with server.tls_connect("submissions") as c:
        c.readline()
        c.sendline("EHLO client.example.org")
        c.read_smtp_reply()
        c.sendline("STARTTLS")
        assert c.readline().startswith("5")


def test_imaplib_starttls(server):
    m = imaplib.IMAP4(server.host, server.port("imap"), timeout=5)
    try:
        typ, data = m.starttls(ssl_context=server.ssl_context())
        assert typ == "OK", data
        assert m.sock.version() in ("TLSv1.2", "TLSv1.3")
        assert "STARTTLS" not in m.capabilities, m.capabilities
        typ, _ = m.noop()
        assert typ == "OK"
    finally:
        m.logout()


def test_imap_starttls_twice_refused(server):
    with server.connect("imap") as c:
        c.readline()
        c.sendline("a STARTTLS")
        _, tagged = c.read_imap_tagged("a")
        assert tagged.startswith("a OK"), tagged
        c.starttls(server.ssl_context())
        c.sendline("b STARTTLS")
        _, tagged = c.read_imap_tagged("b")
        assert tagged.startswith("b BAD") or tagged.startswith("b NO"), tagged
        c.sendline("c NOOP")
        _, tagged = c.read_imap_tagged("c")
        assert tagged.startswith("c OK"), tagged


def test_imaps_starttls_refused(server):
    with server.tls_connect("imaps") as c:
        c.readline()
        c.sendline("a STARTTLS")
        _, tagged = c.read_imap_tagged("a")
        assert tagged.startswith("a BAD") or tagged.startswith("a NO"), tagged


def test_poplib_stls(server):
    p = poplib.POP3(server.host, server.port("pop3"), timeout=5)
    try:
        resp = p.stls(context=server.ssl_context())
        assert resp.startswith(b"+OK"), resp
        assert p.sock.version() in ("TLSv1.2", "TLSv1.3")
        assert "STLS" not in p.capa()
    finally:
        p.quit()


def test_pop3_stls_twice_refused(server):
    with server.connect("pop3") as c:
        c.readline()
        c.sendline("STLS")
        assert c.readline().startswith("+OK")
        c.starttls(server.ssl_context())
        c.sendline("STLS")
        assert c.readline().startswith("-ERR")
        c.sendline("CAPA")
        assert c.readline().startswith("+OK")


def test_swaks_starttls(server):
    r = subprocess.run(["swaks", "--server", server.host, "--port", str(server.port("submission")),
                        "--tls", "--tls-verify", "--tls-ca-path", server.cafile, "--tls-sni", TLS_NAME,
                        "--quit-after", "TLS", "--helo", "client.example.org"],
                       capture_output=True, text=True, timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "TLS started" in out, out


def test_swaks_implicit_tls(server):
    r = subprocess.run(["swaks", "--server", server.host, "--port", str(server.port("submissions")),
                        "--tlsc", "--quit-after", "EHLO", "--helo", "client.example.org"],
                       capture_output=True, text=True, timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "220 localhost ESMTP postamt" in out, out


# -- STARTTLS response injection (CVE-2011-0411 and friends) ----------------------
# Commands pipelined in clear text after STARTTLS must be thrown away, never
# executed inside the TLS session.

def test_smtp_starttls_injection_discarded(server):
    with server.connect("smtp") as c:
        c.readline()
        c.sendline("EHLO client.example.org")
        c.read_smtp_reply()
        c.send("STARTTLS\r\nNOOP\r\n")
        assert c.readline().startswith("220")
        assert c.buf == b"", "reply to the injected NOOP in clear text: %r" % c.buf
        c.starttls(server.ssl_context())
        assert c.nothing_within(0.7), "reply to the injected NOOP arrived inside TLS: %r" % c.buf
        c.sendline("EHLO client.example.org")
        lines = c.read_smtp_reply()
        assert lines[0].startswith("250-localhost") or lines[0].startswith("250 localhost"), lines


def test_imap_starttls_injection_discarded(server):
    with server.connect("imap") as c:
        c.readline()
        c.send("a STARTTLS\r\nb NOOP\r\n")
        _, tagged = c.read_imap_tagged("a")
        assert tagged.startswith("a OK"), tagged
        assert c.buf == b"", "reply to the injected NOOP in clear text: %r" % c.buf
        c.starttls(server.ssl_context())
        assert c.nothing_within(0.7), "reply to the injected NOOP arrived inside TLS: %r" % c.buf
        c.sendline("c NOOP")
        untagged, tagged = c.read_imap_tagged("c")
        assert tagged.startswith("c OK"), tagged
        assert not any(l.startswith("b ") for l in untagged), untagged


def test_pop3_stls_injection_discarded(server):
    with server.connect("pop3") as c:
        c.readline()
        c.send("STLS\r\nCAPA\r\n")
        assert c.readline().startswith("+OK")
        assert c.buf == b"", "reply to the injected CAPA in clear text: %r" % c.buf
        c.starttls(server.ssl_context())
        assert c.nothing_within(0.7), "reply to the injected CAPA arrived inside TLS: %r" % c.buf
        c.sendline("NOOP")
        line = c.readline()
        assert line.startswith("+OK") or line.startswith("-ERR"), line


def test_starttls_with_garbage_handshake_closes_only_that_connection(server):
    with server.connect("smtp") as c:
        c.readline()
        c.sendline("STARTTLS")
        assert c.readline().startswith("220")
        c.send(b"\x16\x03\x01\x00\x05hello this is not a ClientHello\r\n" * 4)
        assert c.wait_closed(10), "server kept a connection with a broken handshake open"
    server.serving()
