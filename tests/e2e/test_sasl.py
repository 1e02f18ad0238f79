"""SCRAM-SHA-256 (RFC 5802, RFC 7677) over IMAP AUTHENTICATE, SMTP AUTH and POP3 AUTH,
all served by the one SASL exchange in src/auth (sasl.h).

The independent client is GNU SASL's command-line tool (Debian package gsasl, in
scripts/install-deps): it logs in over IMAP and SMTP with STARTTLS, checks the
server's signature, and derives SCRAM secrets (--mkpasswd) to compare with what
`user add` stored. Debian's curl is built without libgsasl (no SCRAM) and
python3-scramp is not packaged, so for POP3 (which gsasl does not speak) and for the
malformed-message cases the client is a small one written from the RFC with
hashlib/hmac; test_client_matches_rfc7677 checks it against the RFC's test vector
first. It drives the stdlib's imaplib, smtplib and poplib.

Also: the mechanism is advertised next to PLAIN; the server's signature is checked by
the client; a wrong password fails like a wrong PLAIN password and counts in the same
failed-login limiter (limits.auth_failures_per_minute), which then refuses PLAIN too;
an account whose password was set before SCRAM existed (no secret stored) fails SCRAM
until its next password login makes the secret (event=scram_secret_made); malformed
SCRAM messages (foreign nonce, authorization identity of another user, "*") get the
protocol's syntax or authorization error."""
import base64
import hashlib
import hmac
import imaplib
import os
import poplib
import smtplib
import sqlite3
import subprocess

import pytest

from conftest import DOMAIN, HOST, finish_server, have_tool, new_server

USER = "scram@" + DOMAIN
PASSWORD = "pencil, with spaces=and,commas"


def _b64(b):
    return base64.b64encode(b).decode()


def _hmac(key, msg):
    return hmac.new(key, msg.encode() if isinstance(msg, str) else msg, hashlib.sha256).digest()


class Scram:
    """A SCRAM-SHA-256 client (RFC 5802 §3), without channel binding."""

    def __init__(self, user, password, authzid="", cnonce=None, cbflag="n"):
        esc = user.replace("=", "=3D").replace(",", "=2C")
        self.password = password
        self.cnonce = cnonce or _b64(os.urandom(18))
        self.gs2 = cbflag + "," + ("a=" + authzid if authzid else "") + ","
        self.first_bare = "n=%s,r=%s" % (esc, self.cnonce)
        self.server_sig = None

    def first(self):
        return (self.gs2 + self.first_bare).encode()

    def final(self, server_first, nonce=None):
        sf = server_first.decode()
        attrs = dict(kv.split("=", 1) for kv in sf.split(","))
        assert attrs["r"].startswith(self.cnonce), sf
        assert len(attrs["r"]) > len(self.cnonce), "server added no nonce: " + sf
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), base64.b64decode(attrs["s"]),
                                     int(attrs["i"]))
        client_key = _hmac(salted, "Client Key")
        without_proof = "c=%s,r=%s" % (_b64(self.gs2.encode()), nonce or attrs["r"])
        auth_message = "%s,%s,%s" % (self.first_bare, sf, without_proof)
        sig = _hmac(hashlib.sha256(client_key).digest(), auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        self.server_sig = _hmac(_hmac(salted, "Server Key"), auth_message)
        return (without_proof + ",p=" + _b64(proof)).encode()

    def check_final(self, server_final):
        assert server_final == b"v=" + _b64(self.server_sig).encode(), server_final


def test_client_matches_rfc7677():
    """RFC 7677 §3: user "user", password "pencil"."""
    c = Scram("user", "pencil", cnonce="rOprNGfwEbeRWgbNEkqO")
    assert c.first() == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    final = c.final(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
    assert final == (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                     b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    c.check_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")


@pytest.fixture(scope="module")
def srv(postamt_bin, tmp_path_factory):
    s = new_server(postamt_bin, tmp_path_factory, ["limits.auth_failures_per_minute = 1000"],
                   users=[(USER, PASSWORD), ("other@" + DOMAIN, "secret")])
    yield s
    finish_server(s)


def _scram_callback(client, seen):
    """imaplib's authenticate() callback for client; records every challenge in seen."""
    def cb(challenge):
        seen.append(challenge)
        if len(seen) == 1:
            assert challenge == b""
            return client.first()
        if len(seen) == 2:
            return client.final(challenge)
        client.check_final(challenge)
        return b""
    return cb


def imap_scram(s, user, password, **kw):
    """AUTHENTICATE SCRAM-SHA-256 on the plain IMAP port (loopback may send
    credentials); returns the connection (logged in) or raises IMAP4.error."""
    m = imaplib.IMAP4(HOST, s.port("imap"), timeout=10)
    seen = []
    try:
        typ, _ = m.authenticate("SCRAM-SHA-256", _scram_callback(Scram(user, password, **kw), seen))
    except Exception:
        m.shutdown()
        raise
    assert typ == "OK" and len(seen) == 3, seen
    return m


def test_imap_scram(srv):
    m = imaplib.IMAP4(HOST, srv.port("imap"), timeout=10)
    caps = m.capabilities
    assert "AUTH=SCRAM-SHA-256" in caps and "AUTH=PLAIN" in caps, caps
    m.logout()
    m = imap_scram(srv, USER, PASSWORD)
    typ, data = m.select("INBOX")
    assert typ == "OK", data
    m.logout()
    # over IMAPS too, and the user name case does not matter
    m = imaplib.IMAP4_SSL(HOST, srv.port("imaps"), ssl_context=srv.ssl_context(), timeout=10)
    seen = []
    typ, _ = m.authenticate("SCRAM-SHA-256", _scram_callback(Scram(USER.upper(), PASSWORD), seen))
    assert typ == "OK" and len(seen) == 3
    m.logout()


def test_imap_scram_wrong_password(srv):
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap_scram(srv, USER, PASSWORD + "x")
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap_scram(srv, "nobody@" + DOMAIN, PASSWORD)


def test_imap_scram_bad_messages(srv):
    # the authorization identity must be empty or the user
    with pytest.raises(imaplib.IMAP4.error, match="AUTHORIZATIONFAILED"):
        imap_scram(srv, USER, PASSWORD, authzid="other@" + DOMAIN)
    # a client-final message with another nonce: BAD
    m = imaplib.IMAP4(HOST, srv.port("imap"), timeout=10)
    c = Scram(USER, PASSWORD)
    seen = []

    def cb(challenge):
        seen.append(challenge)
        return c.first() if len(seen) == 1 else c.final(challenge, nonce=c.cnonce + "forged")
    with pytest.raises(imaplib.IMAP4.error, match="nonce"):
        m.authenticate("SCRAM-SHA-256", cb)
    # "*" cancels (imaplib sends it when the callback returns None)
    seen.clear()
    with pytest.raises(imaplib.IMAP4.error, match="cancelled"):
        m.authenticate("SCRAM-SHA-256", lambda ch: c.first() if ch == b"" else None)
    # the session is still usable afterwards
    seen.clear()
    typ, _ = m.authenticate("SCRAM-SHA-256", _scram_callback(Scram(USER, PASSWORD), seen))
    assert typ == "OK"
    m.logout()


def test_smtp_scram(srv):
    c = Scram(USER, PASSWORD)
    steps = []

    def obj(challenge=None):
        steps.append(challenge)
        if challenge is None:
            return c.first().decode()
        if len(steps) == 2:
            return c.final(challenge).decode()
        c.check_final(challenge)
        return ""
    with smtplib.SMTP_SSL(HOST, srv.port("submissions"), context=srv.ssl_context(), timeout=10) as s:
        s.ehlo()
        assert "SCRAM-SHA-256" in s.esmtp_features["auth"].split(), s.esmtp_features
        code, resp = s.auth("SCRAM-SHA-256", obj)
        assert code == 235, resp
        assert len(steps) == 3
        # authenticated: may send as itself
        s.sendmail(USER, [USER], "From: %s\r\nTo: %s\r\nSubject: scram\r\n\r\nhi\r\n" % (USER, USER))
    # without initial response too, and a wrong password is 535
    with smtplib.SMTP_SSL(HOST, srv.port("submissions"), context=srv.ssl_context(), timeout=10) as s:
        s.ehlo()
        c = Scram(USER, "wrong")
        steps.clear()

        def obj2(challenge=None):
            steps.append(challenge)
            if challenge is None:
                return None
            return c.first().decode() if challenge == b"" else c.final(challenge).decode()
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            s.auth("SCRAM-SHA-256", obj2, initial_response_ok=False)
        assert e.value.smtp_code == 535


def test_submission_advertises_scram_after_starttls(srv):
    with smtplib.SMTP(HOST, srv.port("submission"), timeout=10) as s:
        s.ehlo()
        assert "auth" not in s.esmtp_features
        s.starttls(context=srv.ssl_context())
        s.ehlo()
        assert s.esmtp_features["auth"].split() == ["SCRAM-SHA-256", "PLAIN", "LOGIN"]


def pop3_scram(s, user, password):
    p = poplib.POP3_SSL(HOST, s.port("pop3s"), context=s.ssl_context(), timeout=10)
    caps = p.capa()
    assert "SCRAM-SHA-256" in caps["SASL"] and "PLAIN" in caps["SASL"], caps
    c = Scram(user, password)
    try:
        assert p._shortcmd("AUTH SCRAM-SHA-256") == b"+ "
        r = p._shortcmd(_b64(c.first()))
        assert r.startswith(b"+ "), r
        r = p._shortcmd(_b64(c.final(base64.b64decode(r[2:]))))
        assert r.startswith(b"+ "), r
        c.check_final(base64.b64decode(r[2:]))
        r = p._shortcmd("")
    except Exception:
        p.close()
        raise
    assert r.startswith(b"+OK"), r
    return p


def test_pop3_scram(srv):
    p = poplib.POP3(HOST, srv.port("pop3"), timeout=10)
    _, mechs, _ = p._longcmd("AUTH")  # RFC 1734's form: the list of mechanisms
    assert mechs == [b"SCRAM-SHA-256", b"PLAIN", b"LOGIN"], mechs
    p.quit()
    p = pop3_scram(srv, USER, PASSWORD)
    count, _ = p.stat()
    assert count >= 0
    p.quit()
    with pytest.raises(poplib.error_proto, match="AUTH"):
        pop3_scram(srv, USER, "wrong")


def test_scram_limiter_shared_with_plain(make_server):
    """Wrong SCRAM proofs count as failed logins: past the limit both SCRAM and a
    correct PLAIN/LOGIN are refused from the address."""
    s = make_server(["limits.auth_failures_per_minute = 3"], users=[(USER, PASSWORD)])
    for _ in range(3):
        with pytest.raises(imaplib.IMAP4.error, match=r"\[AUTHENTICATIONFAILED\] Authentication failed"):
            imap_scram(s, USER, "wrong")
    assert s.log().count("event=auth_failed proto=imap") == 3
    with pytest.raises(imaplib.IMAP4.error, match="Too many failed logins"):
        imap_scram(s, USER, PASSWORD)
    m = imaplib.IMAP4(HOST, s.port("imap"), timeout=10)
    with pytest.raises(imaplib.IMAP4.error, match="Too many failed logins"):
        m.login(USER, PASSWORD)
    m.shutdown()
    assert "event=auth_limited proto=imap" in s.log()


def test_scram_secret_made_at_next_password_login(make_server):
    """An account without a SCRAM secret (as every account made before SCRAM existed)
    fails SCRAM; its next password login makes the secret, and SCRAM works from then
    on, in every protocol."""
    s = make_server(users=[(USER, PASSWORD)])
    with sqlite3.connect(os.path.join(s.dir, "db", "store.sqlite"), timeout=10) as db:
        db.execute("DELETE FROM scram_secrets")
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap_scram(s, USER, PASSWORD)
    since = s.log_size()
    p = poplib.POP3(HOST, s.port("pop3"), timeout=10)
    p.user(USER)
    p.pass_(PASSWORD)
    p.quit()
    assert s.wait_log(r"event=scram_secret_made user=" + USER, since=since)
    imap_scram(s, USER, PASSWORD).logout()
    pop3_scram(s, USER, PASSWORD).quit()
    # a new password (user passwd) gets its own secret; the old password fails
    r = s.run("user", "passwd", USER, input="changed\n")
    assert r.returncode == 0, r.stderr
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap_scram(s, USER, PASSWORD)
    imap_scram(s, USER, "changed").logout()


# --------------------------------------------------------------- GNU SASL (gsasl)

needs_gsasl = pytest.mark.skipif(not have_tool("gsasl"), reason="gsasl (GNU SASL) not installed")


def gsasl(s, proto, port, user, password):
    """gsasl logs in with SCRAM-SHA-256 after STARTTLS (no channel binding: the server
    offers no -PLUS); returns (exit status, output)."""
    r = subprocess.run(["gsasl", "--" + proto, "--connect", "%s:%d" % (HOST, s.port(port)), "--starttls",
                        "--no-cb", "--x509-ca-file", s.cafile, "--hostname", s.tls_name,
                        "-m", "SCRAM-SHA-256", "-a", user, "-p", password],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


@needs_gsasl
@pytest.mark.parametrize("proto,port,ok", [("imap", "imap", "Logged in"),
                                           ("smtp", "submission", "235 2.7.0")])
def test_gsasl_scram(srv, proto, port, ok):
    rc, out = gsasl(srv, proto, port, USER, PASSWORD)
    assert rc == 0 and ok in out, out
    # gsasl checks the server's signature ("server trusted") before it says finished
    assert "server trusted" in out, out
    rc, out = gsasl(srv, proto, port, USER, PASSWORD + "x")
    assert rc != 0 and ok not in out, out


@needs_gsasl
def test_stored_secret_matches_gsasl(srv):
    """The secret `user add` stored is the one GNU SASL derives from the password with
    the same salt and count."""
    with sqlite3.connect(os.path.join(srv.dir, "db", "store.sqlite"), timeout=10) as db:
        (secret,) = db.execute("SELECT k.secret FROM scram_secrets k JOIN accounts a ON a.id = k.account_id"
                               " WHERE a.address = ?", (USER,)).fetchone()
    assert secret.startswith("SCRAM-SHA-256$10000:"), secret
    head, keys = secret[len("SCRAM-SHA-256$"):].split("$")
    count, salt = head.split(":")
    stored, server = keys.split(":")
    r = subprocess.run(["gsasl", "--mkpasswd", "--mechanism", "SCRAM-SHA-256", "--password", PASSWORD,
                        "--salt", salt, "--iteration-count", count], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "{SCRAM-SHA-256}%s,%s,%s,%s" % (count, salt, stored, server)
