"""TLS as a scanner sees it (hardening issue, item 8), on every TLS port (implicit TLS
and STARTTLS): no SSLv2/SSLv3/TLS 1.0/TLS 1.1, and TLS 1.2 only with forward-secret
AEAD suites (ECDHE or DHE key exchange; AES-GCM, ChaCha20-Poly1305 or AES-CCM), no
renegotiation. Checked twice, with Debian's `sslscan` and with Debian's `testssl.sh`
(packages sslscan, testssl.sh); each test is skipped with a reason when its scanner is
not installed. Also: a new certificate and key are served after
SIGHUP, on every TLS port."""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import finish_server, new_server

SSLSCAN = shutil.which("sslscan")
TESTSSL = shutil.which("testssl") or shutil.which("testssl.sh")
PORTS = [("submissions", None), ("pop3s", None), ("imaps", None), ("https", None),
         ("smtp", "--starttls-smtp"), ("submission", "--starttls-smtp"), ("pop3", "--starttls-pop3"),
         ("imap", "--starttls-imap")]
STARTTLS = {"smtp": "smtp", "submission": "smtp", "pop3": "pop3", "imap": "imap"}


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin)
    yield s
    finish_server(s)


def scan(srv, name, starttls):
    args = [SSLSCAN, "--no-colour", "--xml=-", "--sni-name=localhost"]
    if starttls:
        args.append(starttls)
    args.append("%s:%d" % (srv.host, srv.port(name)))
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    xml = r.stdout[r.stdout.find("<?xml"):]
    assert r.returncode == 0 and xml, "sslscan failed on %s: %s %s" % (name, r.stdout[-1000:], r.stderr[-1000:])
    return ET.fromstring(xml)


def strong_tls12(cipher):
    """OpenSSL names: forward secret (ECDHE/DHE) and AEAD."""
    fs = cipher.startswith("ECDHE-") or cipher.startswith("DHE-")
    aead = "GCM" in cipher or "CHACHA20-POLY1305" in cipher or "CCM" in cipher
    return fs and aead and "RC4" not in cipher and "NULL" not in cipher and "anon" not in cipher.lower()


@pytest.mark.skipif(SSLSCAN is None, reason="sslscan not installed (Debian package sslscan; scripts/install-deps should add it)")
@pytest.mark.parametrize("name,starttls", PORTS, ids=[p[0] for p in PORTS])
def test_sslscan(srv, name, starttls):
    root = scan(srv, name, starttls)
    test = root.find("ssltest")
    assert test is not None, ET.tostring(root)[:1000]
    protos = {(p.get("type"), p.get("version")): p.get("enabled") for p in test.findall("protocol")}
    assert protos, "sslscan found no protocols on %s: %s" % (name, ET.tostring(root)[:1000])
    for weak in [("ssl", "2"), ("ssl", "3"), ("tls", "1.0"), ("tls", "1.1")]:
        assert protos.get(weak) != "1", "%s offers %s %s" % (name, *weak)
    assert protos.get(("tls", "1.2")) == "1" or protos.get(("tls", "1.3")) == "1", protos
    ciphers = [(c.get("sslversion"), c.get("cipher")) for c in test.findall("cipher")]
    assert ciphers, "no cipher accepted on %s" % name
    for version, cipher in ciphers:
        assert version in ("TLSv1.2", "TLSv1.3"), "%s accepts %s %s" % (name, version, cipher)
        if version == "TLSv1.2":
            assert strong_tls12(cipher), "%s accepts the weak TLS 1.2 suite %s" % (name, cipher)
    for c in test.findall("cipher"):
        assert c.get("strength") not in ("weak", "null", "anonymous", "medium"), (name, c.attrib)
    reneg = test.find("renegotiation")
    if reneg is not None:
        assert reneg.get("supported") != "1" or reneg.get("secure") == "1", "%s: insecure renegotiation" % name
    comp = test.find("compression")
    if comp is not None:
        assert comp.get("supported") != "1", "%s: TLS compression" % name


# ------------------------------------------------------------------ testssl.sh

# the sections of testssl.sh's JSON that judge protocols and ciphers; -p protocols,
# -s cipher categories, -f forward secrecy, -E every cipher per protocol, -R renegotiation
TESTSSL_SECTIONS = ("protocols", "ciphers", "pfs", "cipherTests", "vulnerabilities")


# All eight ports share one server SSL_CTX (src/lib/tls.c), so protocols and ciphers
# cannot differ between them: sslscan above checks every port; testssl.sh's deeper scan
# (minutes per port) runs on one implicit-TLS port and on port 25's STARTTLS, the two
# the Internet reaches.
TESTSSL_PORTS = [p for p in PORTS if p[0] in ("https", "smtp")]


@pytest.fixture(scope="module")
def testssl_results(srv, tmp_path_factory):
    """Runs testssl.sh against TESTSSL_PORTS in parallel; {name: scanResult}."""
    out = tmp_path_factory.mktemp("testssl")

    def run(item):
        name, _ = item
        path = out / ("%s.json" % name)
        args = [TESTSSL, "--quiet", "--color", "0", "--warnings", "batch", "-p", "-s", "-f", "-E", "-R",
                "--jsonfile-pretty", str(path)]
        if name in STARTTLS:
            args += ["-t", STARTTLS[name]]
        args.append("%s:%d" % (srv.host, srv.port(name)))
        r = subprocess.run(args, capture_output=True, text=True, timeout=1200)
        if not path.exists():
            return name, {"error": "testssl.sh wrote no result (exit %d): %s %s"
                          % (r.returncode, r.stdout[-800:], r.stderr[-800:])}
        with open(path) as f:
            return name, json.load(f)["scanResult"][0]

    with ThreadPoolExecutor(max_workers=len(TESTSSL_PORTS)) as ex:
        return dict(ex.map(run, TESTSSL_PORTS))


@pytest.mark.skipif(TESTSSL is None, reason="testssl.sh not installed (Debian package testssl.sh; scripts/install-deps adds it)")
@pytest.mark.parametrize("name", [p[0] for p in TESTSSL_PORTS])
def test_testssl(testssl_results, name):
    res = testssl_results[name]
    assert "error" not in res, res.get("error")
    findings = {f["id"]: f for sec in TESTSSL_SECTIONS for f in res.get(sec, [])}
    assert findings, "testssl.sh found nothing on %s: %s" % (name, json.dumps(res)[:1000])
    for pid in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert findings[pid]["finding"].startswith("not offered"), (name, findings[pid])
    assert findings["TLS1_2"]["finding"].startswith("offered"), (name, findings["TLS1_2"])
    assert findings["TLS1_3"]["finding"].startswith("offered"), (name, findings["TLS1_3"])
    for cat in ("cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
                "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"):
        assert findings[cat]["finding"].startswith("not offered"), (name, findings[cat])
    assert findings["PFS"]["finding"].startswith("offered"), (name, findings["PFS"])
    # every finding is OK or informational: testssl.sh rates weak protocols, ciphers,
    # insecure renegotiation and the like LOW, MEDIUM, HIGH or CRITICAL
    bad = [(i, f["severity"], f["finding"]) for i, f in findings.items()
           if f.get("severity") not in ("OK", "INFO")]
    assert not bad, "%s: testssl.sh findings %s" % (name, bad)
    ciphers = [f["finding"] for i, f in findings.items() if i.startswith("cipher-tls")]
    assert ciphers, "%s: no cipher listed" % name
    for c in ciphers:
        assert c.startswith("TLS 1.2") or c.startswith("TLS 1.3"), (name, c)
        if c.startswith("TLS 1.2"):
            assert strong_tls12(c.split()[3]), "%s accepts the weak TLS 1.2 suite %s" % (name, c)


# ------------------------------------------------------------------ SIGHUP reload

def peer_cert(srv, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((srv.host, srv.port(name)), timeout=10)
    try:
        if name in STARTTLS:
            f = raw.makefile("rb")
            proto = STARTTLS[name]
            if proto == "smtp":
                f.readline()
                raw.sendall(b"EHLO scan.example\r\n")
                while f.readline()[3:4] == b"-":
                    pass
                raw.sendall(b"STARTTLS\r\n")
                assert f.readline().startswith(b"220")
            elif proto == "pop3":
                f.readline()
                raw.sendall(b"STLS\r\n")
                assert f.readline().startswith(b"+OK")
            else:
                f.readline()
                raw.sendall(b"a STARTTLS\r\n")
                while True:
                    line = f.readline()
                    if line.startswith(b"a "):
                        assert line.startswith(b"a OK"), line
                        break
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        der = s.getpeercert(binary_form=True)
        s.close()
        return hashlib.sha256(der).hexdigest()
    finally:
        raw.close()


def test_certificate_reloaded_on_sighup(make_server, tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not installed")
    srv = make_server()
    names = [p[0] for p in PORTS]
    old = {n: peer_cert(srv, n) for n in names}
    assert len(set(old.values())) == 1, old
    # a new key and certificate, written the way an administrator (or certbot hook) would
    key, cert = tmp_path / "new.key", tmp_path / "new.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    st_key, st_cert = os.stat(srv.keyfile), os.stat(srv.cafile)
    shutil.copyfile(cert, srv.cafile)
    shutil.copyfile(key, srv.keyfile)
    os.chmod(srv.keyfile, 0o600)
    os.chown(srv.keyfile, st_key.st_uid, st_key.st_gid)
    os.chown(srv.cafile, st_cert.st_uid, st_cert.st_gid)
    with open(cert, "rb") as f:
        pem = f.read().decode()
    want = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
    since = srv.log_size()
    srv.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while True:
        got = {n: peer_cert(srv, n) for n in names}
        if all(v == want for v in got.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    stale = [n for n, v in got.items() if v != want]
    assert not stale, "after SIGHUP these ports still serve the old certificate: %s\n%s" % (
        stale, srv.log()[since:][-2000:])
    assert srv.running()
