"""ACME (RFC 8555): certificates obtained and renewed from Debian's pebble, a real
test CA, with challenges really validated (PEBBLE_VA_NOSLEEP=1, pebble's random
badNonce answers left on).

Each pebble runs on loopback with its own configuration, validating on the
server's HTTP and HTTPS ports (port_offset) and resolving names through the stub
DNS server. Pebble issues short-lived certificates (certificateValidityPeriod),
so renewal at two thirds of the lifetime happens within seconds.
"""
import base64
import json
import os
import random
import re
import signal
import socket
import ssl
import stat
import subprocess
import threading
import time
import urllib.request
import http.server

import pytest
from cryptography import x509

from conftest import e2e_tmpdir, finish_server, new_server

NAME = "mail.example.test"
CA_NAME = "ca.example.test"  # pebble's name: postamt resolves it through dns.server
ALT = "imap.example.test"
VALIDITY = 6  # seconds: renewal falls due 4 s after issuance


def free_port():
    """A free loopback port above the servers' range (conftest.OFFSET_HI plus at most
    4190), so that pebble and the fake CAs never take a port a server needs."""
    while True:
        port = random.randint(41000, 60999)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()


def make_tls_cert(d):
    """A self-signed certificate for pebble's (or the fake CA's) HTTPS listener."""
    cert, key = os.path.join(d, "ca-cert.pem"), os.path.join(d, "ca-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,DNS:%s,IP:127.0.0.1" % CA_NAME], check=True, capture_output=True)
    return cert, key


class Pebble:
    def __init__(self, dns_server, http_port, tls_port, validity=VALIDITY):
        self.dir = e2e_tmpdir("pebble")
        self.cert, self.key = make_tls_cert(self.dir)
        self.port, self.mgmt = free_port(), free_port()
        self.conf = os.path.join(self.dir, "pebble.json")
        with open(self.conf, "w") as f:
            json.dump({"pebble": {"listenAddress": "127.0.0.1:%d" % self.port,
                                  "managementListenAddress": "127.0.0.1:%d" % self.mgmt,
                                  "certificate": self.cert, "privateKey": self.key,
                                  "httpPort": http_port, "tlsPort": tls_port,
                                  "ocspResponderURL": "", "externalAccountBindingRequired": False,
                                  "certificateValidityPeriod": validity}}, f)
        self.dns = dns_server.replace("@", ":")
        self.log = os.path.join(self.dir, "pebble.log")
        self.proc = None

    @property
    def url(self):
        """By name: the ACME client asks the stub DNS server, as for any name."""
        return "https://%s:%d/dir" % (CA_NAME, self.port)

    @property
    def ip_url(self):
        return "https://127.0.0.1:%d/dir" % self.port

    def start(self):
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1")
        self.proc = subprocess.Popen(["pebble", "-config", self.conf, "-dnsserver", self.dns],
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                assert time.monotonic() < deadline, open(self.log).read()
                time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def acme_config(pebble, challenge, extra=()):
    return ["hostname = " + NAME, "acme.directory = " + pebble.url, "acme.email = admin@example.test",
            "acme.names = " + ALT, "acme.ca_file = " + pebble.cert, "acme.challenge = " + challenge,
            "acme.retry_initial = 1", "acme.retry_max = 2", "acme.timeout = 5"] + list(extra)


def peer_cert(srv, name, server_hostname=NAME):
    """The certificate a new TLS handshake on port `name` presents."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((srv.host, srv.port(name)), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=server_hostname) as t:
            return x509.load_der_x509_certificate(t.getpeercert(binary_form=True))


def issuer_cn(cert):
    return cert.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value


def dns_names(cert):
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.1)


def installs(srv):
    return srv.log().count("event=tls_certificate_installed")


def start_acme_server(postamt_bin, dns, challenge, validity=VALIDITY, extra=()):
    """A server (not started) and its pebble (started), pointed at each other."""
    srv = new_server(postamt_bin, start=False, config=["dns.server = " + dns.server])
    pebble = Pebble(dns.server, srv.port("http"), srv.port("https"), validity).start()
    srv.add_config(acme_config(pebble, challenge, extra))
    return srv, pebble


@pytest.fixture(scope="module")
def dns():
    from dnsstub import DnsStub

    stub = DnsStub().start()
    stub.set(NAME, {"A": ["127.0.0.1"]})
    stub.set(ALT, {"A": ["127.0.0.1"]})
    stub.set(CA_NAME, {"A": ["127.0.0.1"]})
    yield stub
    stub.stop()


@pytest.fixture(scope="module")
def http01(postamt_bin, dns):
    """A server that gets its certificate by http-01; it renews every few seconds."""
    srv, pebble = start_acme_server(postamt_bin, dns, "http-01")
    srv.start()
    yield srv, pebble
    try:
        finish_server(srv)
    finally:
        srv.kill()
        pebble.stop()


def unverified():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def test_http01_issues_and_swaps_live(http01):
    srv, pebble = http01
    wait_for(lambda: installs(srv) >= 1, 20, "the first certificate")
    assert "type=http-01" in srv.log()
    for port in ("imaps", "submissions", "https", "pop3s"):
        cert = peer_cert(srv, port)
        assert issuer_cn(cert).startswith("Pebble Intermediate CA"), port
        assert set(dns_names(cert)) == {NAME, ALT}, port
    # a connection opened before a swap keeps working after it, and new
    # handshakes present the new certificate
    old = srv.tls_connect("imaps", context=unverified())
    assert old.readline().startswith("* OK")
    before = x509.load_der_x509_certificate(old.sock.getpeercert(binary_form=True)).serial_number
    n = installs(srv)
    wait_for(lambda: installs(srv) > n, 20, "the next certificate")
    assert peer_cert(srv, "imaps").serial_number != before
    old.sendline("a NOOP")
    assert old.read_imap_tagged("a")[1].startswith("a OK")
    old.close()
    # STARTTLS on port 25 takes the same context
    with srv.connect("smtp") as c:
        c.read_smtp_reply()
        c.sendline("EHLO client.test")
        c.read_smtp_reply()
        c.sendline("STARTTLS")
        assert c.read_smtp_reply()[-1].startswith("220")
        t = unverified().wrap_socket(c.sock, server_hostname=NAME)
        assert issuer_cn(x509.load_der_x509_certificate(t.getpeercert(True))).startswith("Pebble")
        t.close()


def test_files_are_private_and_status_written(http01):
    srv, _ = http01
    wait_for(lambda: installs(srv) >= 1, 20, "the first certificate")
    d = os.path.join(srv.dir, "tls", "acme")
    for f in ("account.key", "key.pem", "cert.pem", "status"):
        mode = stat.S_IMODE(os.stat(os.path.join(d, f)).st_mode)
        assert mode == 0o600, (f, oct(mode))
    status = wait_for(lambda: "state: valid" in open(os.path.join(d, "status")).read() and
                      open(os.path.join(d, "status")).read(), 10, "status valid")
    assert "names: " + NAME in status and ALT in status
    assert "issuer: " in status and "Pebble" in status
    r = srv.run("tls", "status")
    assert r.returncode == 0, r.stderr
    assert "state: valid" in r.stdout and NAME in r.stdout and "next_renewal: 20" in r.stdout


def test_renews_at_two_thirds_of_lifetime(http01):
    srv, _ = http01
    # the live-swap test above already saw a renewal (installs >= 2)
    wait_for(lambda: installs(srv) >= 2, 20, "a renewal")
    assert srv.wait_log(r"event=acme_order_start .*reason=renewal", timeout=1)
    cert = peer_cert(srv, "https")
    life = (cert.not_valid_after - cert.not_valid_before).total_seconds()
    assert life <= VALIDITY + 1
    status = open(os.path.join(srv.dir, "tls", "acme", "status")).read()
    assert "last_success: " in status


def test_reload_keeps_acme_certificate(http01):
    """SIGHUP rebuilds the context from DIR/tls/acme, not from tls.cert."""
    srv, _ = http01
    wait_for(lambda: installs(srv) >= 1, 20, "the first certificate")
    since = srv.log_size()
    srv.send_signal(signal.SIGHUP)
    assert srv.wait_log(r"event=reloaded", timeout=10, since=since), srv.log_tail()
    assert re.search(r"event=tls_certificate source=acme", srv.log()[since:])
    assert issuer_cn(peer_cert(srv, "imaps")).startswith("Pebble Intermediate CA")


def test_key_apart_from_certificate_orders_anew(http01):
    """key.pem that is not cert.pem's (a crash between the two renames): the
    listeners fall back to tls.cert at start and a new certificate is ordered at
    once, not when the old one would have been due."""
    srv, _ = http01
    wait_for(lambda: installs(srv) >= 1, 20, "the first certificate")
    rc, _ = srv.stop()
    assert rc == 0, srv.log_tail()
    keyfile = os.path.join(srv.dir, "tls", "acme", "key.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                    keyfile], check=True, capture_output=True)
    since = srv.log_size()
    srv.start()
    assert srv.wait_log(r"event=acme_key_mismatch", timeout=10, since=since), srv.log_tail()
    assert srv.wait_log(r"event=tls_certificate_installed", timeout=20, since=since), srv.log_tail()
    assert issuer_cn(peer_cert(srv, "imaps")).startswith("Pebble Intermediate CA")


def test_restart_with_ca_down_serves_last_certificate(http01):
    srv, pebble = http01
    wait_for(lambda: installs(srv) >= 1, 20, "the first certificate")
    rc, _ = srv.stop()
    assert rc == 0, srv.log_tail()
    pebble.stop()
    with open(os.path.join(srv.dir, "tls", "acme", "cert.pem"), "rb") as f:
        last = x509.load_pem_x509_certificate(f.read()).serial_number
    since = srv.log_size()
    srv.start()
    assert peer_cert(srv, "imaps").serial_number == last
    # the lapsed certificate is due: the order fails, is retried, and the last one stays
    assert srv.wait_log(r"event=acme_order_failed .*failures=2", timeout=15, since=since), srv.log_tail()
    assert peer_cert(srv, "https").serial_number == last


class AriFront(http.server.BaseHTTPRequestHandler):
    """pebble has no renewalInfo (RFC 9773): this front serves pebble's directory
    with one added, and answers it: the first certificate asked about gets a window
    that has already begun (renew now), any later one a window months away."""
    pebble_dir = ""
    ctx = None
    asked = []

    def do_GET(self):
        cls = type(self)
        if self.path == "/dir":
            with urllib.request.urlopen(cls.pebble_dir, context=cls.ctx) as r:
                d = json.load(r)
            d["renewalInfo"] = "https://127.0.0.1:%d/ari/" % self.server.server_port
            body = json.dumps(d).encode()
        elif self.path.startswith("/ari/"):
            cls.asked.append(self.path[len("/ari/"):])
            now = time.time()
            start, end = (now - 120, now - 60) if len(set(cls.asked)) == 1 else (now + 9e6, now + 9.1e6)
            fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
            body = json.dumps({"suggestedWindow": {"start": fmt(start), "end": fmt(end)}}).encode()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def ari_cert_id(cert):
    """RFC 9773 §4.1: base64url(authority key identifier) "." base64url(serial's DER octets)."""
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    n = cert.serial_number
    octets = n.to_bytes((n.bit_length() + 8) // 8, "big")  # a leading 0 when the top bit is set
    return b64(aki) + "." + b64(octets)


def test_tls_alpn01_and_ari_window(postamt_bin, dns):
    """A certificate by tls-alpn-01 (RFC 8737); being long-lived, it is renewed at
    once only because the CA's renewalInfo window has begun (RFC 9773), asked for
    the right certificate; the next window is months away: no third order."""
    srv = new_server(postamt_bin, start=False, config=["dns.server = " + dns.server])
    pebble = Pebble(dns.server, srv.port("http"), srv.port("https"), validity=3600).start()
    ctx = ssl.create_default_context(cafile=pebble.cert)
    handler = type("A", (AriFront,), {"pebble_dir": pebble.ip_url, "ctx": ctx, "asked": []})
    front = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(pebble.cert, pebble.key)
    front.socket = tls.wrap_socket(front.socket, server_side=True)
    threading.Thread(target=front.serve_forever, daemon=True).start()
    url = "https://127.0.0.1:%d/dir" % front.server_port
    srv.add_config([l for l in acme_config(pebble, "tls-alpn-01") if not l.startswith("acme.directory")]
                   + ["acme.directory = " + url])
    try:
        srv.start()
        assert srv.wait_log(r"event=acme_directory .*renewal_info=yes", timeout=20), srv.log_tail()
        wait_for(lambda: installs(srv) >= 1, 20, "the certificate by tls-alpn-01")
        assert "type=tls-alpn-01" in srv.log() and "type=http-01" not in srv.log()
        cert = peer_cert(srv, "https")
        assert issuer_cn(cert).startswith("Pebble Intermediate CA")
        assert set(dns_names(cert)) == {NAME, ALT}
        # an ordinary client never sees the challenge certificate nor acme-tls/1
        ctx = unverified()
        ctx.set_alpn_protocols(["acme-tls/1"])
        with socket.create_connection((srv.host, srv.port("https")), timeout=5) as sock:
            with ctx.wrap_socket(sock, server_hostname=NAME) as t:
                assert t.selected_alpn_protocol() is None
                assert issuer_cn(x509.load_der_x509_certificate(t.getpeercert(True))).startswith("Pebble")
        wait_for(lambda: installs(srv) >= 2, 30, "the renewal the window asked for")
        assert srv.wait_log(r"event=acme_order_start .*reason=renewal", timeout=1)
        with open(os.path.join(srv.dir, "tls", "acme", "cert.pem"), "rb") as f:
            second = x509.load_pem_x509_certificate(f.read())
        assert handler.asked[0] != ari_cert_id(second)
        # the first question was about the first certificate (no longer on disk): its id
        # has the issuer's key identifier, which the second shares
        assert handler.asked[0].split(".")[0] == ari_cert_id(second).split(".")[0]
        # the second certificate's window is months away: no third order
        wait_for(lambda: ari_cert_id(second) in handler.asked, 10, "the renewal info of the second certificate")
        assert installs(srv) == 2
        assert "next_renewal: 20" in open(os.path.join(srv.dir, "tls", "acme", "status")).read()
    finally:
        try:
            finish_server(srv)
        finally:
            srv.kill()
            front.shutdown()
            pebble.stop()


class FakeCA(http.server.BaseHTTPRequestHandler):
    """A "CA" whose directory answer the test sets (FakeCA.body)."""
    body = b"{}"

    def do_GET(self):
        body = type(self).body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def fakeca(postamt_bin):
    """One server retrying every second against a fake CA whose answer each test sets."""
    d = e2e_tmpdir("fakeca")
    cert, key = make_tls_cert(d)
    handler = type("H", (FakeCA,), {})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    srv = new_server(postamt_bin, config=["hostname = " + NAME,
                                          "acme.directory = https://127.0.0.1:%d/dir" % httpd.server_port,
                                          "acme.ca_file = " + cert, "acme.retry_initial = 1", "acme.retry_max = 1"])
    try:
        yield srv, handler
        finish_server(srv)
    finally:
        srv.kill()
        httpd.shutdown()


@pytest.mark.parametrize("body,reason", [
    (b'{"newNonce":"http://127.0.0.1/n","newAccount":"https://x/a","newOrder":"https://x/o"}',
     "member newNonce: not an https URL"),
    (b'{"newNonce":"https://x/n","newAccount":"https://x/a"}', "member newOrder is missing"),
    (b'[1,2,3]', "answer is not a JSON object"),
    (b'{"newNonce":"https://x/n","newNonce":"https://x/n"}', "answer is not valid JSON"),
    (b'{' + b' ' * (2 * 1024 * 1024) + b'}', "response body too large"),
], ids=["http-url", "missing-member", "not-object", "duplicate-member", "too-large"])
def test_hostile_directory_refused(fakeca, body, reason):
    srv, handler = fakeca
    since = srv.log_size()
    handler.body = body
    m = srv.wait_log(r"event=acme_order_failed error=[^\n]*" + re.escape(reason), timeout=10, since=since)
    assert m, srv.log_tail()
    # nothing was installed: the configured certificate stays in use
    assert installs(srv) == 0
    with open(srv.cafile, "rb") as f:
        assert peer_cert(srv, "imaps").serial_number == x509.load_pem_x509_certificate(f.read()).serial_number


def test_tls_status_without_acme(server):
    """Without acme.directory, `tls status` describes tls.cert (the one init made)."""
    r = server.run("tls", "status")
    assert r.returncode == 0, r.stderr
    with open(server.cafile, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    assert "state: manual" in r.stdout
    serial = re.search(r"^serial: ([0-9A-F]+)$", r.stdout, re.M)
    assert serial and int(serial.group(1), 16) == cert.serial_number, r.stdout
    assert "not_after: " + cert.not_valid_after.strftime("%Y-%m-%dT%H:%M:%SZ") in r.stdout


def test_http01_path_without_challenge_is_404(server):
    """Port 80 answers /.well-known/acme-challenge/ itself (no redirect to HTTPS), and
    only for a pending token: unknown or hostile tokens get 404."""
    for token in ("unknown", "..%2F..%2Fetc%2Fpasswd", "a" * 300, ""):
        with socket.create_connection((server.host, server.port("http")), timeout=5) as s:
            s.sendall(("GET /.well-known/acme-challenge/%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                       % (token, NAME)).encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        if "%" in token:
            # refused before the route (a bad path): port 80's usual redirect, nothing served
            assert not data.startswith(b"HTTP/1.1 200"), (token, data[:200])
        else:
            assert data.startswith(b"HTTP/1.1 404"), (token, data[:200])
