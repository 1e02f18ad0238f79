"""Life cycle of `postamt serve`: graceful stop on SIGTERM/SIGINT, SIGHUP reload of the
configuration and the certificate, and the log format."""

import os
import re
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import IMPLICIT_TLS, PORTS, TLS_NAME


def new_cert(dirpath, cn="localhost"):
    """A fresh self-signed certificate and key (PEM paths) made with openssl req."""
    cert = os.path.join(dirpath, "new-cert.pem")
    key = os.path.join(dirpath, "new-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=%s" % cn,
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def der(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def replace_file(src, dst):
    """Copies src over dst atomically, keeping dst's owner (the server may run as its own user)."""
    tmp = dst + ".tmp"
    with open(src, "rb") as f, open(tmp, "wb") as g:
        g.write(f.read())
    os.chmod(tmp, 0o600)
    if os.geteuid() == 0 and os.path.exists(dst):
        st = os.stat(dst)
        os.chown(tmp, st.st_uid, st.st_gid)
    os.replace(tmp, dst)


def peer_cert(srv, service="imaps", cafile=None):
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl._create_unverified_context()
    with socket.create_connection((srv.host, srv.port(service)), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=TLS_NAME) as s:
            return s.getpeercert(binary_form=True)


def open_idle_sessions(srv):
    """SMTP (after EHLO), IMAP, POP3 and their implicit-TLS twins, each greeted."""
    smtp = srv.connect("smtp")
    assert smtp.readline().startswith("220")
    smtp.sendline("EHLO client.example.org")
    smtp.read_smtp_reply()
    imap = srv.connect("imap")
    assert imap.readline().startswith("* OK")
    pop3 = srv.connect("pop3")
    assert pop3.readline().startswith("+OK")
    imaps = srv.tls_connect("imaps")
    assert imaps.readline().startswith("* OK")
    pop3s = srv.tls_connect("pop3s")
    assert pop3s.readline().startswith("+OK")
    smtps = srv.tls_connect("submissions")
    assert smtps.readline().startswith("220")
    sieve = srv.connect("sieve")
    while not sieve.readline().startswith("OK"):  # ManageSieve: the capabilities, then OK
        pass
    return {"smtp": smtp, "imap": imap, "pop3": pop3, "imaps": imaps, "pop3s": pop3s, "submissions": smtps,
            "sieve": sieve}


# -- graceful stop -----------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_without_connections(make_server, sig):
    srv = make_server()
    rc, took = srv.stop(sig)
    assert rc == 0, "exit status %r\n%s" % (rc, srv.log_tail())
    assert took < 5, "stopping an idle server took %.1f s" % took


def test_graceful_stop_says_goodbye(make_server):
    srv = make_server()
    conns = open_idle_sessions(srv)
    try:
        t0 = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        expected = {"smtp": "421 4.3.2", "imap": "* BYE", "pop3": "-ERR",
                    "imaps": "* BYE", "pop3s": "-ERR", "submissions": "421 4.3.2", "sieve": "BYE (TRYLATER)"}
        got = {name: c.read_all(12) for name, c in conns.items()}
        wrong = {name: text for name, (text, closed) in got.items() if not text.startswith(expected[name])}
        assert not wrong, "no goodbye on shutdown: %r" % wrong
        still_open = [name for name, (text, closed) in got.items() if not closed]
        assert not still_open, "not closed on shutdown: %s" % still_open
        rc = srv.wait(12 - (time.monotonic() - t0))
        assert rc == 0, "exit status %r\n%s" % (rc, srv.log_tail())
        assert time.monotonic() - t0 <= 10, "exit took %.1f s" % (time.monotonic() - t0)
    finally:
        for c in conns.values():
            c.close()


GOODBYE = {"smtp": "421 4.3.2", "submissions": "421 4.3.2", "imap": "* BYE", "imaps": "* BYE",
           "pop3": "-ERR", "pop3s": "-ERR"}


@pytest.mark.parametrize("service", sorted(GOODBYE))
def test_graceful_stop_right_after_greeting(make_server, service):
    # SIGTERM just after the greeting: a race between the session becoming idle and
    # the shutdown must still end in the goodbye. Several rounds, as races are.
    for round in range(3):
        srv = make_server()
        c = srv.tls_connect(service) if service in IMPLICIT_TLS else srv.connect(service)
        with c:
            c.readline()
            srv.send_signal(signal.SIGTERM)
            text, closed = c.read_all(12)
            assert text.startswith(GOODBYE[service]), \
                "round %d: %s got %r when stopped right after its greeting" % (round, service, text)
            assert closed
        assert srv.wait(10) == 0


def test_stop_refuses_new_connections(make_server):
    srv = make_server()
    srv.stop()
    for name, std in PORTS.items():
        with pytest.raises(OSError):
            socket.create_connection((srv.host, srv.ports[name]), timeout=2).close()


def test_stop_with_busy_client_within_timeout(make_server):
    # A client in the middle of a command (half a line sent) must not hold up the
    # exit beyond timeout.shutdown.
    srv = make_server(["timeout.shutdown = 3"])
    c = srv.connect("smtp")
    c.readline()
    c.send("NOOP half a line without end")
    try:
        rc, took = srv.stop(timeout=10)
        assert rc == 0
        assert took <= 3 + 2, "took %.1f s with timeout.shutdown = 3" % took
    finally:
        c.close()


def test_restart_on_same_ports(make_server):
    srv = make_server()
    assert srv.stop()[0] == 0
    srv.start()
    srv.serving()


# -- reload ------------------------------------------------------------------------

def test_sighup_reloads_certificate(make_server, tmp_path):
    srv = make_server()
    old = der(srv.cafile)
    before = srv.tls_connect("imaps")
    assert before.readline().startswith("* OK")
    smtp = srv.connect("smtp")
    smtp.readline()
    try:
        cert, key = new_cert(str(tmp_path))
        replace_file(key, srv.keyfile)
        replace_file(cert, srv.cafile)
        srv.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while peer_cert(srv) == old:
            assert time.monotonic() < deadline, "new certificate not served 5 s after SIGHUP\n" + srv.log_tail()
            time.sleep(0.1)
        for service in ("imaps", "pop3s", "submissions", "https"):
            assert peer_cert(srv, service, cafile=cert) == der(cert), service
        # The connection opened before the reload still works, with the old certificate.
        assert before.sock.getpeercert(binary_form=True) == old
        before.sendline("a NOOP")
        _, tagged = before.read_imap_tagged("a")
        assert tagged.startswith("a OK"), tagged
        smtp.sendline("NOOP")
        assert smtp.readline().startswith("250")
        # STARTTLS on a connection opened before the reload works (with either certificate).
        smtp.sendline("STARTTLS")
        assert smtp.readline().startswith("220")
        both = ssl.create_default_context(cafile=cert)
        both.load_verify_locations(cadata=ssl.DER_cert_to_PEM_cert(old))
        smtp.starttls(both)
        smtp.sendline("NOOP")
        assert smtp.readline().startswith("250")
        assert srv.running()
    finally:
        before.close()
        smtp.close()


def test_sighup_reloads_config(make_server):
    srv = make_server(["limits.connections_per_ip = 10"])
    # Rewrite the limit and reload: a second connection from this address is now refused.
    with open(srv.conf) as f:
        text = f.read()
    with open(srv.conf, "w") as f:
        f.write(text.replace("limits.connections_per_ip = 10", "limits.connections_per_ip = 1"))
    size = srv.log_size()
    srv.send_signal(signal.SIGHUP)
    srv.wait_log(r"reload", timeout=5, since=size)
    first = srv.connect("smtp")
    try:
        assert first.readline().startswith("220")
        deadline = time.monotonic() + 5
        while True:
            with srv.connect("smtp") as second:
                line = second.readline()
            if line.startswith("421 4.7.0"):
                break
            assert time.monotonic() < deadline, "limit of 1 not in force after SIGHUP: %r" % line
            time.sleep(0.2)
    finally:
        first.close()


def test_sighup_with_invalid_config_keeps_old(make_server):
    srv = make_server(["limits.connections_per_ip = 3"])
    with open(srv.conf) as f:
        text = f.read()
    bad = text.replace("limits.connections_per_ip = 3", "limits.connections_per_ip = 1") + "no.such.key = 1\n"
    with open(srv.conf, "w") as f:
        f.write(bad)
    lineno = len(bad.splitlines())
    size = srv.log_size()
    srv.send_signal(signal.SIGHUP)
    m = srv.wait_log(r"postamt\.conf:%d\b" % lineno, timeout=5, since=size)
    assert m, "invalid config on reload not logged with its line\n" + srv.log_tail()
    time.sleep(0.3)
    assert srv.running(), "server died on a reload with an invalid config\n" + srv.log_tail()
    # The old limit (3) is still in force: three connections are fine.
    conns = []
    try:
        for _ in range(3):
            c = srv.connect("smtp")
            conns.append(c)
            line = c.readline()
            assert line.startswith("220 "), "old config not in force after a bad reload: %r" % line
    finally:
        for c in conns:
            c.close()
    srv.serving()


def test_sighup_with_broken_certificate_keeps_old(make_server, tmp_path):
    srv = make_server()
    old = der(srv.cafile)
    old_pem = str(tmp_path / "old-cert.pem")
    replace_file(srv.cafile, old_pem)
    with open(srv.cafile, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    size = srv.log_size()
    srv.send_signal(signal.SIGHUP)
    time.sleep(1)
    assert srv.running(), "server died reloading a broken certificate\n" + srv.log_tail()
    assert re.search(r"\b(warn|error)\b", srv.log()[size:]), "broken certificate not logged\n" + srv.log_tail()
    assert peer_cert(srv) == old
    assert peer_cert(srv, "pop3s", cafile=old_pem) == old
    srv.serving(["smtp", "pop3", "imap"])


def test_sighup_keeps_serving_under_repeated_reloads(make_server):
    srv = make_server()
    c = srv.connect("imap")
    c.readline()
    try:
        for i in range(10):
            srv.send_signal(signal.SIGHUP)
            time.sleep(0.05)
        c.sendline("a NOOP")
        _, tagged = c.read_imap_tagged("a")
        assert tagged.startswith("a OK"), tagged
        srv.serving()
    finally:
        c.close()


# -- logs --------------------------------------------------------------------------

LOG_LINE = re.compile(r'^\S+ (debug|info|warn|error) ([a-z_.]+=("([^"\\]|\\.)*"|\S*))( [a-z_.]+=("([^"\\]|\\.)*"|\S*))*$')


def test_log_lines_are_key_value(make_server):
    srv = make_server(["log.level = debug"])
    with srv.connect("smtp") as c:
        c.readline()
        c.sendline("EHLO client.example.org")
        c.read_smtp_reply()
        c.sendline("QUIT")
        c.readline()
    with srv.tls_connect("imaps") as c:
        c.readline()
    srv.stop()
    lines = [l for l in srv.log().splitlines() if l.strip()]
    assert lines, "serve wrote no log lines"
    bad = [l for l in lines if not LOG_LINE.match(l)]
    assert not bad, "log lines not in `TIME LEVEL key=value ...` form:\n" + "\n".join(bad[:10])
    assert any(re.search(r"\bconn=\S+", l) for l in lines), "no log line carries a connection id"


def test_log_level_error_is_quiet(make_server):
    srv = make_server(["log.level = error"])
    with srv.connect("smtp") as c:
        c.readline()
        c.sendline("QUIT")
        c.readline()
    srv.stop()
    noisy = [l for l in srv.log().splitlines() if re.match(r"^\S+ (debug|info) ", l)]
    assert not noisy, "log.level = error still logs:\n" + "\n".join(noisy[:5])


def test_forced_stop_with_logins_in_flight(make_server):
    # timeout.shutdown = 0: the server stops while logins are still queued on the
    # hashing pool. Their completions must not reach a freed event loop (the drain
    # step in serve.c): the sanitizer builds report a use-after-free otherwise, and
    # the exit must still be clean and quick.
    users = ["inflight%d@example.test" % i for i in range(16)]
    srv = make_server(["timeout.shutdown = 0", "workers = 2", "auth.cache_ttl = 0"], users=users)
    conns = []
    try:
        for u in users:
            c = srv.connect("imap")
            assert c.readline().startswith("* OK")
            conns.append(c)
        for i, (u, c) in enumerate(zip(users, conns)):
            c.sendline("a%d LOGIN %s secret" % (i, u))
        # the first login done: the others are queued behind it on the hashing pool
        assert srv.wait_log(r"event=auth_ok", timeout=20), srv.log_tail()
        rc, took = srv.stop(timeout=10)
        assert rc == 0, "exit status %r\n%s" % (rc, srv.log_tail())
        assert srv.wait_log(r"event=stopped", timeout=1), srv.log_tail()
    finally:
        for c in conns:
            c.close()
