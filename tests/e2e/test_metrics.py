"""GET /metrics (Prometheus text format 0.0.4, docs/admin.md "Metrics") parsed by
Debian's python3-prometheus-client, with counters that move by exactly what the
test did; the access rule (loopback, or a Bearer metrics.token); and the alert
webhook (alert.webhook) against a local HTTP sink.

A client that is not loopback is made by listening on every address and connecting
from the host's other address (skipped when it has none)."""

import http.client
import http.server
import imaplib
import json
import os
import smtplib
import subprocess
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import finish_server, new_server

USER = "mia@example.test"


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, config=["metrics.token = s3cret-token", "bind = 0.0.0.0"], users=[USER, "max@example.test"])
    yield s
    finish_server(s)


def scrape(srv, https=False, headers=None):
    if https:
        c = http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(), timeout=20)
    else:
        c = http.client.HTTPConnection(srv.host, srv.port("http"), timeout=20)
    c.request("GET", "/metrics", headers=headers or {})
    r = c.getresponse()
    body = r.read().decode()
    return r.status, r.getheader("Content-Type"), body


def samples(body):
    """{(name, frozenset(labels)): value} of every sample, through the real parser."""
    out = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def val(m, name, **labels):
    return m[(name, frozenset(labels.items()))]


def test_format_and_families(srv):
    st, ctype, body = scrape(srv)
    assert st == 200 and ctype.startswith("text/plain; version=0.0.4")
    fams = {f.name: f for f in text_string_to_metric_families(body)}
    for name, typ in [("postamt_connections_open", "gauge"), ("postamt_connections", "counter"),
                      ("postamt_logins", "counter"), ("postamt_messages_received", "counter"),
                      ("postamt_refused", "counter"), ("postamt_delivered_local", "counter"),
                      ("postamt_outbound", "counter"), ("postamt_delivery_seconds", "histogram"),
                      ("postamt_imap_idle_sessions", "gauge"), ("postamt_queue_messages", "gauge"),
                      ("postamt_queue_oldest_age_seconds", "gauge"), ("postamt_store_bytes", "gauge"),
                      ("postamt_store_messages", "gauge"), ("postamt_certificate_not_after_seconds", "gauge"),
                      ("postamt_pool_queued_jobs", "gauge"), ("postamt_process_resident_memory_bytes", "gauge")]:
        assert name in fams and fams[name].type == typ, (name, fams.get(name))
    m = samples(body)
    assert val(m, "postamt_certificate_not_after_seconds") > time.time() + 300 * 86400
    assert val(m, "postamt_process_resident_memory_bytes") > 1e6
    # the same on the HTTPS port (and HTTP /metrics is not redirected)
    st, _, body2 = scrape(srv, https=True)
    assert st == 200 and "postamt_logins_total" in body2


def test_counters_move_by_the_right_amounts(srv):
    before = samples(scrape(srv)[2])
    # two failed and one good IMAP login
    for pw in ("wrong", "wrong"):
        c = imaplib.IMAP4(srv.host, srv.port("imap"))
        with pytest.raises(imaplib.IMAP4.error):
            c.login(USER, pw)
        c.logout()
    c = imaplib.IMAP4(srv.host, srv.port("imap"))
    c.login(USER, "secret")
    # three messages on port 25 to local users, one of them to two recipients
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10) as s:
        for i, rcpts in enumerate(([USER], [USER, "max@example.test"], ["max@example.test"])):
            msg = "From: <ext@remote.test>\r\nSubject: m%d\r\nMessage-ID: <m%d.%f@remote.test>\r\n\r\nhi\r\n" % (
                i, i, time.time())
            assert s.sendmail("ext@remote.test", rcpts, msg.encode()) == {}
        # an unknown local recipient is refused
        s.mail("ext@remote.test")
        code, _ = s.rcpt("nobody@example.test")
        assert code == 550
        s.rset()
    # IMAP IDLE: one session idles while we scrape
    c.select("INBOX")
    tag = c._new_tag().decode()
    c.send(("%s IDLE\r\n" % tag).encode())
    assert c.readline().startswith(b"+")
    after = samples(scrape(srv)[2])

    def d(name, **labels):
        return val(after, name, **labels) - val(before, name, **labels)

    assert d("postamt_logins_total", protocol="imap", result="failed") == 2
    assert d("postamt_logins_total", protocol="imap", result="ok") == 1
    assert d("postamt_messages_received_total", kind="mx", verdict="accepted") == 3
    assert d("postamt_delivered_local_total") == 4
    assert d("postamt_refused_total", reason="unknown_recipient") == 1
    assert d("postamt_delivery_seconds_count") == 3
    assert d("postamt_connections_total", protocol="imap") == 3
    assert d("postamt_connections_total", protocol="smtp") == 1
    assert val(after, "postamt_imap_idle_sessions") == 1
    assert val(after, "postamt_connections_open", protocol="imap") >= 1
    assert val(after, "postamt_store_messages") - val(before, "postamt_store_messages") == 4
    c.send(b"DONE\r\n")
    c.logout()


def other_address():
    """This host's first non-loopback IPv4 address, or None."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
    except OSError:
        return None
    return next((a for a in out if "." in a and not a.startswith("127.")), None)


def test_token_rule(srv):
    """Loopback needs no token; a client from another address needs the Bearer token
    (the server listens on every address here for that)."""
    assert scrape(srv)[0] == 200
    addr = other_address()
    if addr is None:
        pytest.skip("no non-loopback address to connect from")

    def from_outside(headers):
        c = http.client.HTTPConnection(addr, srv.port("http"), timeout=20)
        c.request("GET", "/metrics", headers=headers)
        r = c.getresponse()
        return r.status, r.read()

    st, body = from_outside({})
    assert st == 403 and b"postamt_" not in body
    assert from_outside({"Authorization": "Bearer wrong-token"})[0] == 403
    assert from_outside({"Authorization": "Bearer s3cret-token-x"})[0] == 403
    assert from_outside({"Authorization": "Basic czNjcmV0LXRva2Vu"})[0] == 403
    st, body = from_outside({"Authorization": "Bearer s3cret-token"})
    assert st == 200 and b"postamt_logins_total" in body
    srv.wait_log(r"event=metrics_refused")


class Sink:
    """A local HTTP server that records the JSON bodies POSTed to it."""

    def __init__(self):
        self.bodies = []
        self.cond = threading.Condition()
        sink = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                n = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(n))
                with sink.cond:
                    sink.bodies.append((self.path, self.headers["Content-Type"], body))
                    sink.cond.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, pred, timeout=20):
        with self.cond:
            assert self.cond.wait_for(lambda: any(pred(b) for b in self.bodies), timeout), self.bodies
            return [b for b in self.bodies if pred(b)][0]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def short_lived_cert(srv, days=5):
    """Replaces the server's certificate and key (in place: owner and mode stay) by a
    self-signed one for localhost that expires in `days` days."""
    tmp = srv.dir + "/../cert%d" % days
    os.makedirs(tmp, exist_ok=True)
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-days", str(days), "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                        "-keyout", tmp + "/key.pem", "-out", tmp + "/cert.pem"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name in ("cert.pem", "key.pem"):
        with open(tmp + "/" + name) as src, open(os.path.join(srv.dir, "tls", name), "w") as dst:
            dst.write(src.read())


def test_alert_webhook(postamt_bin):
    """At the first check: disk_percent 1 makes the disk alert fire, a certificate
    that expires in 5 days the certificate one, and the quiet stub DNS (no records)
    one DNS alert for the domain; the queue is empty and stays quiet. Every POST is
    one JSON object to the configured path. A new certificate resolves its alert at
    a later check (every second here), and nothing fires twice within alert.repeat."""
    sink = Sink()
    s = new_server(postamt_bin, config=["alert.webhook = http://127.0.0.1:%d/hook/path" % sink.port,
                                        "alert.disk_percent = 1", "alert.cert_days = 14", "alert.interval = 1"],
                   start=False)
    short_lived_cert(s)
    s.start()
    try:
        path, ctype, body = sink.wait(lambda b: b[2]["alert"] == "disk")
        assert path == "/hook/path" and ctype == "application/json"
        assert body["state"] == "firing" and body["host"] == "localhost" and body["threshold"] == 1
        assert 1 <= body["value"] <= 100 and "disk" in body["message"]
        _, _, cert = sink.wait(lambda b: b[2]["alert"] == "certificate")
        assert cert["state"] == "firing" and cert["value"] in (4, 5) and cert["threshold"] == 14
        assert "localhost" in cert["message"]
        _, _, dns = sink.wait(lambda b: b[2]["alert"] == "dns")
        assert dns["key"] == "dns:example.test" and dns["value"] > 0 and "example.test" in dns["message"]
        s.wait_log(r"event=alert_posted alert=disk state=firing status=204")
        # one POST per problem: the first check is over once all three came
        assert sorted(b[2]["alert"] for b in sink.bodies[:3]) == ["certificate", "disk", "dns"]
        short_lived_cert(s, days=400)
        _, _, res = sink.wait(lambda b: b[2]["alert"] == "certificate" and b[2]["state"] == "resolved")
        assert res["value"] >= 398
        firing = [b[2]["key"] for b in sink.bodies if b[2]["state"] == "firing"]
        assert sorted(firing) == ["certificate", "disk", "dns:example.test"], firing
    finally:
        finish_server(s)
        sink.close()


def test_alert_webhook_down_is_logged(postamt_bin):
    """A webhook that does not answer: the failure is logged, the server runs on."""
    import socket
    x = socket.socket()
    x.bind(("127.0.0.1", 0))
    port = x.getsockname()[1]
    x.close()
    s = new_server(postamt_bin, config=["alert.webhook = http://127.0.0.1:%d/" % port, "alert.disk_percent = 1",
                                        "alert.dns = no"])
    try:
        assert s.wait_log(r"event=alert_post_failed alert=disk error=\"?cannot connect", timeout=10)
        assert scrape(s)[0] == 200
    finally:
        finish_server(s)


def test_bad_webhook_url_refused(new_datadir):
    d = new_datadir()
    d.add_config("alert.webhook = ftp://example.test/")
    r = d.run("user", "list")
    assert r.returncode != 0 and "alert.webhook" in r.stderr
